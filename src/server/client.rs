//! Who a request comes from: the TCP peer, or, when the peer is a trusted proxy, the rightmost
//! address in `X-Forwarded-For` that is not itself a trusted proxy. Clients are keyed by
//! address, IPv6 by its /64 so one host cannot mint a fresh key per address.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(proxies: Vec<IpNet>) -> Self {
        Self(proxies)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer unless the peer is trusted and the header names one.
    /// A chain that breaks (an entry that is not an address) ends at the last trusted hop:
    /// anything left of it may have been written by the client.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.to_str().ok())
            .collect::<Vec<_>>();
        for value in hops.into_iter().rev() {
            let Some(value) = value else {
                return client;
            };
            for entry in value.rsplit(',') {
                let Some(hop) = parse_hop(entry) else {
                    return client;
                };
                client = hop;
                if !self.trusts(hop) {
                    return hop;
                }
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:80`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<IpAddr>().ok())
        })
        .map(|ip| ip.to_canonical())
}

/// The key a client's budgets are kept under: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !(u128::MAX >> 64);
                Self(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|p| p.parse().unwrap()).collect())
    }

    fn forwarded(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let trusted = proxies(&["10.0.0.1/32"]);
        let headers = forwarded(&[b"203.0.113.7"]);
        assert_eq!(
            trusted.client_of(ip("198.51.100.2"), &headers),
            ip("198.51.100.2")
        );
        assert_eq!(
            TrustedProxies::default().client_of(ip("10.0.0.1"), &headers),
            ip("10.0.0.1")
        );
        assert_eq!(
            trusted.client_of(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_and_forged_hops_left_of_it_are_not() {
        let trusted = proxies(&["10.0.0.1/32", "192.168.0.0/16"]);
        // The client wrote "1.1.1.1" itself; the edge proxy appended what it saw.
        let headers = forwarded(&[b"1.1.1.1, 203.0.113.7, 192.168.4.4"]);
        assert_eq!(
            trusted.client_of(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        // Several headers are one list, in order.
        let headers = forwarded(&[b"1.1.1.1", b"203.0.113.8:5555", b"192.168.4.4"]);
        assert_eq!(
            trusted.client_of(ip("10.0.0.1"), &headers),
            ip("203.0.113.8")
        );
        let headers = forwarded(&[b"[2001:db8::5]:443, 192.168.1.1"]);
        assert_eq!(
            trusted.client_of(ip("10.0.0.1"), &headers),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn a_chain_of_only_proxies_or_a_broken_one_ends_at_the_last_trusted_hop() {
        let trusted = proxies(&["10.0.0.1/32", "192.168.0.0/16"]);
        let headers = forwarded(&[b"192.168.1.1, 192.168.2.2"]);
        assert_eq!(
            trusted.client_of(ip("10.0.0.1"), &headers),
            ip("192.168.1.1")
        );
        for garbage in [
            &b"203.0.113.7, unknown, 192.168.2.2"[..],
            b"203.0.113.7, , 192.168.2.2",
            b"203.0.113.7, 999.1.1.1, 192.168.2.2",
            b"203.0.113.7, 192.168.2.2 extra",
        ] {
            let headers = forwarded(&[garbage]);
            let client = trusted.client_of(ip("10.0.0.1"), &headers);
            assert!(trusted.trusts(client), "{garbage:?} gave {client}");
        }
        let headers = forwarded(&[b"203.0.113.7", b"\xff\xfe"]);
        assert_eq!(trusted.client_of(ip("10.0.0.1"), &headers), ip("10.0.0.1"));
        assert_eq!(
            trusted.client_of(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_proxies() {
        let trusted = proxies(&["10.0.0.1/32"]);
        let headers = forwarded(&[b"203.0.113.7"]);
        assert_eq!(
            trusted.client_of(ip("::ffff:10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64_and_ipv4_per_address() {
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2:aaaa::1")),
            ClientKey::of(ip("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_ne!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:3::1"))
        );
        assert_ne!(
            ClientKey::of(ip("127.0.0.2")),
            ClientKey::of(ip("127.0.0.3"))
        );
        assert_eq!(
            ClientKey::of(ip("::ffff:127.0.0.2")),
            ClientKey::of(ip("127.0.0.2"))
        );
    }
}
