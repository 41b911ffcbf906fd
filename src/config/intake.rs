//! What an `alertmanager` watch accepts: the credentials Alertmanager's webhook must present
//! at `POST /hooks/alertmanager`. Secrets are never printed.

/// `[watches.NAME] kind = "alertmanager"`: alerts pushed by Alertmanager's webhook receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertmanagerSpec {
    pub auth: IntakeAuth,
}

/// How a webhook request proves it comes from the configured Alertmanager.
#[derive(Clone, PartialEq, Eq)]
pub enum IntakeAuth {
    /// No credentials: allowed only while the server listens on loopback.
    None,
    /// `Authorization: Bearer <token>` (Alertmanager's `http_config.authorization`).
    Bearer(String),
    /// `Authorization: Basic ...` (Alertmanager's `http_config.basic_auth`).
    Basic { username: String, password: String },
}

impl std::fmt::Debug for IntakeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntakeAuth::None => f.write_str("None"),
            IntakeAuth::Bearer(_) => f.write_str("Bearer(<secret>)"),
            IntakeAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<secret>")
                .finish(),
        }
    }
}
