//! The typed configuration of a `certificate` watch: the TLS
//! certificate a host serves (`host = "shop.example.com:443"`) or a certificate file on disk
//! (`path = "/etc/letsencrypt/live/shop/cert.pem"`), and how long before its expiry it pages.

use std::time::Duration;

/// `certificate`: a certificate that was supposed to be renewed and was not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSpec {
    pub target: CertificateTarget,
    /// A certificate expiring sooner than this (or already expired) is broken.
    pub expires_within: Duration,
}

/// Where the certificate is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateTarget {
    /// The certificate a TLS server presents for `name` (sent as SNI) at `host:port`.
    Host { host: String, port: u16 },
    /// A PEM (or DER) file; the first certificate in it is judged, the rest are its chain.
    File { path: String },
}

impl CertificateTarget {
    /// How pages and blindness alerts name it: `shop.example.com:443` or the path.
    pub fn label(&self) -> String {
        match self {
            CertificateTarget::Host { host, port } if host.contains(':') => {
                format!("[{host}]:{port}")
            }
            CertificateTarget::Host { host, port } => format!("{host}:{port}"),
            CertificateTarget::File { path } => path.clone(),
        }
    }
}

/// `shop.example.com:443`, `shop.example.com` (port 443), `[2001:db8::1]:8443` or
/// `127.0.0.1:8443` as a host and a port.
pub(crate) fn parse_host(text: &str) -> Result<(String, u16), String> {
    let text = text.trim();
    if text.contains("://") || text.contains('/') {
        return Err(
            "write a host name and port, like \"shop.example.com:443\" (no scheme, no path)".into(),
        );
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address is written in brackets: \"[2001:db8::1]:443\"")?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err("write the port after the brackets: \"[2001:db8::1]:443\"".into()),
        }
    } else if text.matches(':').count() > 1 {
        return Err("an IPv6 address is written in brackets: \"[2001:db8::1]:443\"".into());
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("write a host name and port, like \"shop.example.com:443\"".into());
    }
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("`{port}` is not a port (1-65535)"))?,
        None => 443,
    };
    if rustls::pki_types::ServerName::try_from(host.to_string()).is_err() {
        return Err(format!("`{host}` is not a host name or an IP address"));
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_with_their_port() {
        assert_eq!(
            parse_host("shop.example.com:8443"),
            Ok(("shop.example.com".into(), 8443))
        );
        assert_eq!(
            parse_host("shop.example.com"),
            Ok(("shop.example.com".into(), 443))
        );
        assert_eq!(parse_host("[::1]:9443"), Ok(("::1".into(), 9443)));
        assert_eq!(parse_host("127.0.0.1:443"), Ok(("127.0.0.1".into(), 443)));
    }

    #[test]
    fn what_is_not_a_host_and_port_is_refused_with_the_way_to_write_it() {
        for bad in [
            "https://shop.example.com",
            "shop.example.com:0",
            "shop.example.com:https",
            "::1:443",
            "[::1",
            "",
        ] {
            assert!(parse_host(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(
            parse_host("https://shop.example.com")
                .unwrap_err()
                .contains("no scheme")
        );
    }

    #[test]
    fn labels_name_the_host_and_port_or_the_file() {
        let host = |h: &str, port| CertificateTarget::Host {
            host: h.into(),
            port,
        };
        assert_eq!(
            host("shop.example.com", 443).label(),
            "shop.example.com:443"
        );
        assert_eq!(host("::1", 8443).label(), "[::1]:8443");
        let file = CertificateTarget::File {
            path: "/etc/ssl/shop.pem".into(),
        };
        assert_eq!(file.label(), "/etc/ssl/shop.pem");
    }
}
