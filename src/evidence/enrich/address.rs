//! IP addresses as the pack shows them: "Berlin, Germany (203.0.113.7)" with a GeoIP
//! database, the bare address without one, and what groups them into locations. Each distinct
//! address is looked up once.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::geo::GeoDb;

/// Addresses that never leave a private network, so no database can place them: private
/// ranges, loopback, link-local, carrier-grade NAT, unspecified and broadcast.
pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [first, second, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (first == 100 && (second & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    }
}

/// One address as shown and grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// The address as text ("203.0.113.7"), normalised when it parses.
    pub(crate) address: String,
    /// "Berlin, Germany" when the database knows the place.
    pub(crate) place: Option<String>,
    /// The whole label: "Berlin, Germany (203.0.113.7)", "private address (10.0.0.8)".
    pub(crate) label: String,
}

impl Located {
    /// Locations are grouped by place when it is known, else by address.
    pub(crate) fn group(&self) -> &str {
        self.place.as_deref().unwrap_or(&self.address)
    }
}

/// Looks addresses up, each distinct text once.
pub(crate) struct Locator<'g> {
    geo: Option<&'g GeoDb>,
    known: FxHashMap<String, Located>,
}

impl<'g> Locator<'g> {
    pub(crate) fn new(geo: Option<&'g GeoDb>) -> Locator<'g> {
        Locator {
            geo,
            known: FxHashMap::default(),
        }
    }

    pub(crate) fn locate(&mut self, text: &str) -> &Located {
        if !self.known.contains_key(text) {
            let located = locate_uncached(self.geo, text);
            self.known.insert(text.to_owned(), located);
        }
        &self.known[text]
    }
}

fn locate_uncached(geo: Option<&GeoDb>, text: &str) -> Located {
    let trimmed = text.trim();
    // PostgreSQL's `inet` prints a host as "203.0.113.7/32".
    let host = trimmed.split_once('/').map_or(trimmed, |(host, _)| host);
    let Ok(ip) = host.parse::<IpAddr>() else {
        return Located {
            address: trimmed.to_owned(),
            place: None,
            label: format!("unreadable address ({trimmed})"),
        };
    };
    let address = ip.to_canonical().to_string();
    if is_private(ip) {
        let label = format!("private address ({address})");
        return Located {
            address,
            place: None,
            label,
        };
    }
    let Some(geo) = geo else {
        return Located {
            label: address.clone(),
            address,
            place: None,
        };
    };
    match geo.lookup(ip).map(|place| place.label()) {
        Some(place) => Located {
            label: format!("{place} ({address})"),
            address,
            place: Some(place),
        },
        None => Located {
            label: format!("place unknown ({address})"),
            address,
            place: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(text: &str) -> bool {
        is_private(text.parse().unwrap())
    }

    #[test]
    fn private_and_public_addresses() {
        for address in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.10",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(private(address), "{address} is private");
        }
        for address in ["203.0.113.7", "8.8.8.8", "100.128.0.1", "2001:db8::1"] {
            assert!(!private(address), "{address} is public");
        }
    }

    #[test]
    fn without_a_database_addresses_are_shown_as_they_are() {
        let mut locator = Locator::new(None);
        let public = locator.locate(" 203.0.113.7/32").clone();
        assert_eq!(public.label, "203.0.113.7");
        assert_eq!(public.group(), "203.0.113.7");
        assert_eq!(
            locator.locate("192.168.1.10").label,
            "private address (192.168.1.10)"
        );
        assert_eq!(
            locator.locate("not-an-ip").label,
            "unreadable address (not-an-ip)"
        );
    }
}
