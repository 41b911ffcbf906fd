//! The `[stripe]` section: one or more endpoint secrets from the environment, the signature
//! tolerance, and the optional metadata key naming the app's customer.

use super::{Validator, dur};
use crate::config::StripeConfig;
use crate::config::raw::RawConfig;
use crate::config::stripe::DEFAULT_TOLERANCE;
use std::time::Duration;

impl Validator<'_> {
    pub(super) fn stripe(&mut self, raw: &RawConfig) -> Option<StripeConfig> {
        let section = raw.stripe.as_ref()?;
        let stripe = section.get_ref();
        let mut endpoint_secrets = Vec::new();
        match &stripe.endpoint_secrets {
            None => self.error(
                section.span(),
                "[stripe] needs endpoint_secrets = [\"${STRIPE_WEBHOOK_SECRET}\"]: the signing secret of the webhook endpoint in Stripe's dashboard",
            ),
            Some(list) if list.get_ref().is_empty() => self.error(
                list.span(),
                "endpoint_secrets is empty: list at least one signing secret, as \"${STRIPE_WEBHOOK_SECRET}\"",
            ),
            Some(list) => {
                for value in list.get_ref() {
                    if let Some(secret) =
                        self.secret(&Some(value.clone()), "endpoint_secrets")
                    {
                        endpoint_secrets.push(secret);
                    }
                }
            }
        }
        let tolerance = dur(&stripe.tolerance).unwrap_or(DEFAULT_TOLERANCE);
        if let Some(value) = &stripe.tolerance
            && value.get_ref().0 < Duration::from_secs(1)
        {
            self.error(
                value.span(),
                "tolerance must be at least 1s (Stripe's default is 5m)",
            );
        }
        let customer_email_metadata = match &stripe.customer_email_metadata {
            Some(key) if key.get_ref().trim().is_empty() => {
                self.error(
                    key.span(),
                    "customer_email_metadata is empty: name the metadata key, or leave it out",
                );
                None
            }
            Some(key) => Some(key.get_ref().trim().to_string()),
            None => None,
        };
        Some(StripeConfig {
            endpoint_secrets,
            tolerance,
            customer_email_metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;
    use std::time::Duration;

    fn parse(text: &str) -> Result<Config, String> {
        let env = |name: &str| match name {
            "NEW" => Some("whsec_new".to_string()),
            "OLD" => Some("whsec_old".to_string()),
            _ => None,
        };
        Config::parse(Path::new("/etc/sentinel.toml"), text, &env).map_err(|e| e.to_string())
    }

    #[test]
    fn without_the_section_there_is_no_hook() {
        assert!(parse("").unwrap().stripe.is_none());
    }

    #[test]
    fn secrets_come_from_the_environment_with_a_default_tolerance() {
        let config = parse("[stripe]\nendpoint_secrets = [\"${NEW}\", \"${OLD}\"]\n").unwrap();
        let stripe = config.stripe.unwrap();
        assert_eq!(stripe.endpoint_secrets, ["whsec_new", "whsec_old"]);
        assert_eq!(stripe.tolerance, Duration::from_secs(300));
        assert_eq!(stripe.customer_email_metadata, None);
        assert!(config.secrets.values().contains(&"whsec_old".to_string()));
        let stripe = parse(
            "[stripe]\nendpoint_secrets = [\"${NEW}\"]\ntolerance = \"2m\"\ncustomer_email_metadata = \"user_id\"\n",
        )
        .unwrap()
        .stripe
        .unwrap();
        assert_eq!(stripe.tolerance, Duration::from_secs(120));
        assert_eq!(stripe.customer_email_metadata.as_deref(), Some("user_id"));
    }

    #[test]
    fn bad_values_point_at_their_place() {
        let error =
            parse("[stripe]\nendpoint_secrets = [\"${NEW}\", \"whsec_literal\"]\n").unwrap_err();
        assert!(
            error.contains("sentinel.toml:2:31: secrets come only from the environment"),
            "{error}"
        );
        let error = parse("[stripe]\nendpoint_secrets = [\"${MISSING}\"]\n").unwrap_err();
        assert!(error.contains("sentinel.toml:2:21:"), "{error}");
        assert!(error.contains("MISSING"), "{error}");
        let error = parse("[stripe]\nendpoint_secrets = []\n").unwrap_err();
        assert!(
            error.contains("sentinel.toml:2:20: endpoint_secrets is empty"),
            "{error}"
        );
        let error = parse("[stripe]\ntolerance = \"5m\"\n").unwrap_err();
        assert!(error.contains("needs endpoint_secrets"), "{error}");
        let error =
            parse("[stripe]\nendpoint_secrets = [\"${NEW}\"]\ntolerance = \"0s\"\n").unwrap_err();
        assert!(
            error.contains("sentinel.toml:3:13: tolerance must be at least 1s"),
            "{error}"
        );
        let error =
            parse("[stripe]\nendpoint_secrets = [\"${NEW}\"]\nsecret = \"x\"\n").unwrap_err();
        assert!(error.contains("unknown field `secret`"), "{error}");
    }
}
