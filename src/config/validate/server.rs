//! The `[server]` section: where the intake listens, what one client may send (request and
//! failure budgets, body size), which proxies may name the client, and how long a connection
//! may take or idle.

use super::Validator;
use crate::config::ServerConfig;
use crate::config::raw::RawConfig;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn server(&mut self, raw: &RawConfig) -> ServerConfig {
        let raw = &raw.server;
        let mut server = ServerConfig::default();
        if let Some(listen) = &raw.listen {
            match listen.get_ref().parse::<SocketAddr>() {
                Ok(addr) => server.listen = addr,
                Err(_) => self.error(
                    listen.span(),
                    format!(
                        "invalid listen address {:?}: expected ip:port, like \"127.0.0.1:9477\"",
                        listen.get_ref()
                    ),
                ),
            }
        }
        if let Some(max_body) = &raw.max_body {
            server.max_body = usize::try_from(max_body.get_ref().0).unwrap_or(usize::MAX);
        }
        let counts = [
            (
                &raw.rate_limit_per_second,
                "rate_limit_per_second",
                &mut server.rate_limit_per_second,
            ),
            (
                &raw.failure_limit_per_minute,
                "failure_limit_per_minute",
                &mut server.failure_limit_per_minute,
            ),
            (
                &raw.failure_burst,
                "failure_burst",
                &mut server.failure_burst,
            ),
        ];
        for (value, key, slot) in counts {
            if let Some(value) = value {
                *slot = self.at_least_one(value, key);
            }
        }
        if let Some(value) = &raw.max_clients {
            server.max_clients = self.at_least_one(value, "max_clients") as usize;
        }
        if let Some(value) = &raw.max_connections {
            server.max_connections = self.at_least_one(value, "max_connections") as usize;
        }
        let timeouts = [
            (&raw.header_timeout, &mut server.header_timeout),
            (&raw.body_timeout, &mut server.body_timeout),
            (&raw.idle_timeout, &mut server.idle_timeout),
        ];
        for (value, slot) in timeouts {
            if let Some(value) = value {
                let duration = value.get_ref().0;
                if duration < Duration::from_millis(100) {
                    self.error(value.span(), "must be at least 100ms");
                }
                *slot = duration;
            }
        }
        if let Some(proxies) = &raw.trusted_proxies {
            server.trusted_proxies = proxies
                .get_ref()
                .iter()
                .filter_map(|proxy| self.proxy(proxy))
                .collect();
        }
        server
    }

    fn at_least_one(&mut self, value: &Spanned<u32>, key: &str) -> u32 {
        if *value.get_ref() == 0 {
            self.error(value.span(), format!("{key} must be at least 1"));
        }
        *value.get_ref()
    }

    /// One entry of `trusted_proxies`: an address (`10.0.0.1`) or a network (`10.0.0.0/8`).
    fn proxy(&mut self, proxy: &Spanned<String>) -> Option<IpNet> {
        let text = proxy.get_ref().trim();
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(IpNet::from(ip));
        }
        match text.parse::<IpNet>() {
            Ok(net) => Some(net.trunc()),
            Err(_) => {
                self.error(
                    proxy.span(),
                    format!(
                        "invalid trusted proxy {text:?}: expected an IP address like \"10.0.0.1\" or a network like \"192.168.0.0/16\""
                    ),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;
    use std::time::Duration;

    fn parse(server: &str) -> Result<Config, String> {
        Config::parse(
            Path::new("/etc/sentinel.toml"),
            &format!("[server]\n{server}"),
            &|_| None,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_protect_the_intake_without_any_key() {
        let server = parse("").unwrap().server;
        assert_eq!(server.rate_limit_per_second, 50);
        assert_eq!(server.failure_limit_per_minute, 60);
        assert_eq!(server.failure_burst, 20);
        assert_eq!(server.max_clients, 10_000);
        assert!(server.trusted_proxies.is_empty());
        assert_eq!(server.max_connections, 256);
        assert_eq!(server.header_timeout, Duration::from_secs(10));
        assert_eq!(server.body_timeout, Duration::from_secs(10));
        assert_eq!(server.idle_timeout, Duration::from_secs(60));
    }

    #[test]
    fn every_key_is_read() {
        let server = parse(
            "rate_limit_per_second = 5\nfailure_limit_per_minute = 6\nfailure_burst = 7\n\
             max_clients = 8\nmax_connections = 9\nheader_timeout = \"1s\"\nbody_timeout = \"2s\"\n\
             idle_timeout = \"3s\"\ntrusted_proxies = [\"10.0.0.1\", \"192.168.7.9/16\", \"fd00::/8\"]\n",
        )
        .unwrap()
        .server;
        assert_eq!(
            (
                server.rate_limit_per_second,
                server.failure_limit_per_minute,
                server.failure_burst
            ),
            (5, 6, 7)
        );
        assert_eq!((server.max_clients, server.max_connections), (8, 9));
        assert_eq!(server.header_timeout, Duration::from_secs(1));
        assert_eq!(server.body_timeout, Duration::from_secs(2));
        assert_eq!(server.idle_timeout, Duration::from_secs(3));
        let proxies: Vec<String> = server
            .trusted_proxies
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(proxies, ["10.0.0.1/32", "192.168.0.0/16", "fd00::/8"]);
    }

    #[test]
    fn bad_values_point_at_their_place() {
        let error = parse("trusted_proxies = [\"10.0.0.1\", \"10.0.0.300/8\"]\n").unwrap_err();
        assert!(
            error.contains("sentinel.toml:2:32: invalid trusted proxy \"10.0.0.300/8\""),
            "{error}"
        );
        let error = parse("failure_burst = 0\n").unwrap_err();
        assert!(
            error.contains("sentinel.toml:2:17: failure_burst must be at least 1"),
            "{error}"
        );
        let error = parse("body_timeout = \"10ms\"\n").unwrap_err();
        assert!(
            error.contains("sentinel.toml:2:16: must be at least 100ms"),
            "{error}"
        );
        let error = parse("max_connections = 0\n").unwrap_err();
        assert!(
            error.contains("max_connections must be at least 1"),
            "{error}"
        );
    }
}
