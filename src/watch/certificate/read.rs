//! Reading a certificate: the one a TLS server presents (one handshake, nothing sent after
//! it), or the first one in a file. The handshake accepts whatever the server presents, so an
//! expired, self-signed or mismatched certificate can still be judged by its expiry; whether
//! the system's trust store vouches for it, for the name asked, is recorded beside it.

use super::core::CertificateFacts;
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

/// The largest certificate file read (a chain is a few kilobytes).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The certificate `host:port` presents for `host`, with whether it is trusted.
pub(super) async fn served(
    label: &str,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<CertificateFacts, SourceError> {
    let unreachable =
        |detail: String| SourceError::new(label, SourceErrorKind::Unreachable, detail);
    let server_name = ServerName::try_from(host.to_string())
        .map_err(|_| unreachable(format!("`{host}` is not a host name")))?;
    let verifier = Arc::new(Recording::new().map_err(unreachable)?);
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| unreachable(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = async {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| unreachable(format!("cannot connect: {e}")))?;
        connector
            .connect(server_name, stream)
            .await
            .map_err(|e| unreachable(format!("TLS handshake failed: {e}")))
    };
    let stream = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| {
            SourceError::new(
                label,
                SourceErrorKind::Timeout,
                format!("no TLS handshake within {}s", timeout.as_secs()),
            )
        })??;
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| unreachable("the server presented no certificate".into()))?;
    let mut facts = facts_of(leaf.as_ref())
        .map_err(|e| SourceError::new(label, SourceErrorKind::BadResponse, e))?;
    facts.distrust = verifier.distrust();
    Ok(facts)
}

/// The first certificate of the PEM or DER file `path`; the others in it are its chain, and
/// its trust is judged for the first name it carries.
pub(super) async fn on_disk(path: &str) -> Result<CertificateFacts, SourceError> {
    let unreadable = |detail: String| SourceError::new(path, SourceErrorKind::Unreachable, detail);
    let bytes = read_bounded(path).await.map_err(unreadable)?;
    let chain = certificates_in(&bytes)
        .map_err(|e| SourceError::new(path, SourceErrorKind::BadResponse, e))?;
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err(SourceError::new(
            path,
            SourceErrorKind::BadResponse,
            "no certificate in the file",
        ));
    };
    let mut facts =
        facts_of(leaf).map_err(|e| SourceError::new(path, SourceErrorKind::BadResponse, e))?;
    facts.distrust = match names_of(leaf).into_iter().next() {
        Some(name) => trust_on_disk(leaf, intermediates, &name),
        None => None,
    };
    Ok(facts)
}

async fn read_bounded(path: &str) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "larger than {} KiB: not a certificate file",
            MAX_FILE_BYTES / 1024
        ));
    }
    Ok(bytes)
}

/// The certificates of a PEM file in order, or the one certificate of a DER file.
fn certificates_in(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut found = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
        let pem = pem.map_err(|e| format!("not a PEM file: {e}"))?;
        if pem.label == "CERTIFICATE" {
            found.push(pem.contents);
        }
    }
    if found.is_empty() && x509_parser::parse_x509_certificate(bytes).is_ok() {
        found.push(bytes.to_vec());
    }
    Ok(found)
}

/// Subject, issuer and expiry of a DER certificate.
fn facts_of(der: &[u8]) -> Result<CertificateFacts, String> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("cannot read the certificate: {e}"))?;
    let not_after =
        DateTime::<Utc>::from_timestamp(certificate.validity().not_after.timestamp(), 0)
            .ok_or("the certificate's expiry is out of range")?;
    Ok(CertificateFacts {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        not_after,
        distrust: None,
    })
}

/// The DNS names a certificate is for (its subject alternative names).
fn names_of(der: &[u8]) -> Vec<String> {
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(names)) = certificate.subject_alternative_name() else {
        return Vec::new();
    };
    names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(dns) => {
                Some(dns.trim_start_matches("*.").to_string())
            }
            _ => None,
        })
        .collect()
}

/// Why the system's trust store does not vouch for a certificate read from disk, for `name`.
fn trust_on_disk(leaf: &[u8], intermediates: &[Vec<u8>], name: &str) -> Option<String> {
    let verifier = match rustls_platform_verifier::Verifier::new(provider()) {
        Ok(verifier) => verifier,
        Err(error) => return Some(format!("the trust store cannot be read: {error}")),
    };
    let Ok(server_name) = ServerName::try_from(name.to_string()) else {
        return None;
    };
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    verifier
        .verify_server_cert(
            &CertificateDer::from(leaf),
            &intermediates,
            &server_name,
            &[],
            UnixTime::now(),
        )
        .err()
        .map(|error| describe_tls_error(&error))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A TLS verification error in the operator's words.
fn describe_tls_error(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "issued by a certificate authority this machine does not trust (self-signed or a private CA)".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
        | rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "not issued for this name".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::Expired)
        | rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "expired".into()
        }
        other => other.to_string(),
    }
}

/// Accepts whatever certificate the server presents (it is judged, not relied on: nothing is
/// sent over the connection), and records whether the system's trust store vouches for it.
#[derive(Debug)]
struct Recording {
    trust: rustls_platform_verifier::Verifier,
    distrust: Mutex<Option<String>>,
}

impl Recording {
    fn new() -> Result<Self, String> {
        Ok(Self {
            trust: rustls_platform_verifier::Verifier::new(provider())
                .map_err(|e| format!("the trust store cannot be read: {e}"))?,
            distrust: Mutex::new(None),
        })
    }

    fn distrust(&self) -> Option<String> {
        self.distrust.lock().ok().and_then(|d| d.clone())
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .trust
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .err()
            .map(|error| describe_tls_error(&error));
        if let Ok(mut distrust) = self.distrust.lock() {
            *distrust = verdict;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.trust.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.trust.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.trust.supported_verify_schemes()
    }
}
