//! Which column of a section's rows holds what: the moment, the IP address, the user agent,
//! the device id, or a detail shown in the timeline. Columns are recognised by name alone.

/// What a column means to the enrichment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Time,
    Ip,
    UserAgent,
    Device,
}

/// The column names each role is recognised by, compared without regard to case. When several
/// columns of one section carry names of the same role, the leftmost one is used and the others
/// are left out (neither role nor detail: they would repeat what the chosen one says). Every
/// column whose name is in no list is a detail, shown in the timeline's text (`event`,
/// `amount`, `status`, ...).
pub(crate) const ROLE_NAMES: [(Role, &[&str]); 4] = [
    (
        Role::Time,
        &[
            "time",
            "at",
            "created_at",
            "occurred_at",
            "timestamp",
            "signed_in_at",
            "current_sign_in_at",
            "last_login",
            "date_joined",
            "confirmed_at",
            "accepted_at",
            "paid_at",
        ],
    ),
    (
        Role::Ip,
        &[
            "ip",
            "ip_address",
            "remote_ip",
            "current_sign_in_ip",
            "client_ip",
        ],
    ),
    (Role::UserAgent, &["user_agent", "ua", "useragent"]),
    (
        Role::Device,
        &["device_id", "device", "fingerprint", "device_fingerprint"],
    ),
];

/// The role of a column name, if it has one.
pub(crate) fn role_of(column: &str) -> Option<Role> {
    ROLE_NAMES.iter().find_map(|(role, names)| {
        names
            .iter()
            .any(|name| name.eq_ignore_ascii_case(column.trim()))
            .then_some(*role)
    })
}

/// Where each role sits in one section's columns, and which columns are details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ColumnRoles {
    pub(crate) time: Option<usize>,
    pub(crate) ip: Option<usize>,
    pub(crate) user_agent: Option<usize>,
    pub(crate) device: Option<usize>,
    /// Columns with no role, in their order.
    pub(crate) details: Vec<usize>,
}

impl ColumnRoles {
    pub(crate) fn detect(columns: &[String]) -> ColumnRoles {
        let mut roles = ColumnRoles::default();
        for (index, column) in columns.iter().enumerate() {
            let slot = match role_of(column) {
                None => {
                    roles.details.push(index);
                    continue;
                }
                Some(Role::Time) => &mut roles.time,
                Some(Role::Ip) => &mut roles.ip,
                Some(Role::UserAgent) => &mut roles.user_agent,
                Some(Role::Device) => &mut roles.device,
            };
            slot.get_or_insert(index);
        }
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn roles_are_found_by_name_in_any_case() {
        let roles = ColumnRoles::detect(&columns(&[
            "event",
            "Created_At",
            "REMOTE_IP",
            "UserAgent",
            "fingerprint",
            "plan",
        ]));
        assert_eq!(roles.time, Some(1));
        assert_eq!(roles.ip, Some(2));
        assert_eq!(roles.user_agent, Some(3));
        assert_eq!(roles.device, Some(4));
        assert_eq!(roles.details, vec![0, 5]);
    }

    #[test]
    fn the_leftmost_column_of_a_role_wins_and_the_others_are_not_details() {
        let roles = ColumnRoles::detect(&columns(&["paid_at", "id", "created_at", "amount"]));
        assert_eq!(roles.time, Some(0));
        assert_eq!(roles.details, vec![1, 3]);
    }

    #[test]
    fn columns_without_a_role_are_all_details() {
        let roles = ColumnRoles::detect(&columns(&["name", "updated", "ip_addr"]));
        assert_eq!(roles.time, None);
        assert_eq!(roles.ip, None);
        assert_eq!(roles.details, vec![0, 1, 2]);
    }
}
