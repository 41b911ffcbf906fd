//! `http_get {url}`: one GET of an endpoint an `http` watch probes, through that watch's HTTP
//! client and with its headers and timeout: the status, the latency and the first KB of the
//! body. Only a URL that is one a watch is configured for, or lies under its origin and path
//! (`https://shop/api/health` admits `https://shop/api/health/db`), is requested; anything else
//! is refused before any request is made.

use super::ToolOutput;
use super::args::{Args, object_schema};
use super::setup::{HttpTarget, Setup};
use crate::llm::ToolDefinition;
use crate::source::http::{HttpMethod, redact};
use crate::source::registry::Sources;
use reqwest::Url;

pub(super) const NAME: &str = "http_get";

/// Characters of the body shown.
const BODY_CHARS: usize = 1024;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.http.is_empty() {
        return None;
    }
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "GET an endpoint the http watches probe, or a path under one, and see the status, \
             the latency and the first {BODY_CHARS} characters of the body. Allowed: {} (and \
             paths under them); nothing else can be requested.",
            allowed_list(setup)
        ),
        input_schema: object_schema(
            serde_json::json!({
                "url": {"type": "string", "description": "the full URL"},
            }),
            &["url"],
        ),
    })
}

fn allowed_list(setup: &Setup) -> String {
    setup
        .http
        .iter()
        .map(|target| redact(&target.probe.url))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The target `requested` falls under and the URL to request (carrying the target's own
/// credentials, if its configured URL has them), or why it is refused.
pub(super) fn admit<'t>(
    targets: &'t [HttpTarget],
    requested: &str,
) -> Result<(&'t HttpTarget, Url), String> {
    let lowered = requested.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "\\"]
        .iter()
        .any(|trick| lowered.contains(trick))
    {
        return Err(format!(
            "{requested:?} is refused: encoded dots, slashes or backslashes in a URL could reach \
             another path than it shows"
        ));
    }
    let url =
        Url::parse(requested).map_err(|error| format!("{requested:?} is not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{requested:?} is refused: only http and https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "give the URL without a user name or password: the watch's own credentials are used"
                .to_string(),
        );
    }
    for target in targets {
        let Ok(configured) = Url::parse(&target.probe.url) else {
            continue;
        };
        let same_origin = configured.scheme() == url.scheme()
            && configured.host_str() == url.host_str()
            && configured.port_or_known_default() == url.port_or_known_default();
        if !same_origin || !under(configured.path(), url.path()) {
            continue;
        }
        let mut request = url.clone();
        request.set_fragment(None);
        if !configured.username().is_empty() {
            let _ = request.set_username(configured.username());
        }
        if configured.password().is_some() {
            let _ = request.set_password(configured.password());
        }
        return Ok((target, request));
    }
    Err(format!(
        "{} is not an endpoint the watches probe, and no request was made; allowed: {} (and \
         paths under them)",
        redact(requested),
        targets
            .iter()
            .map(|t| redact(&t.probe.url))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Whether `path` is `prefix` or lies under it, on a segment boundary.
fn under(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => prefix.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

pub(super) async fn run(setup: &Setup, sources: &Sources, input: &serde_json::Value) -> ToolOutput {
    let parsed = (|| {
        let args = Args::new(NAME, input, &["url"])?;
        let url = args.text("url", 2_000)?;
        admit(&setup.http, url.trim())
    })();
    let (target, url) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let shown = format!("GET {}", redact(url.as_str()));
    let Some(client) = sources.http(&target.watch) else {
        return ToolOutput::failed(
            NAME,
            Some(&target.watch),
            shown,
            format!("the http watch {} has no client", target.watch),
        );
    };
    let mut probe = target.probe.clone();
    probe.url = url.to_string();
    probe.method = HttpMethod::Get;
    probe.expect_status = None;
    probe.body_match = None;
    match client.probe_with_excerpt(&probe, BODY_CHARS).await {
        Ok(reading) => {
            let body = reading.body_excerpt.replace('\r', "");
            let text = format!(
                "HTTP {} after {} ms\nfirst {BODY_CHARS} characters of the body:\n{body}\n",
                reading.status,
                reading.latency.as_millis(),
            );
            ToolOutput::done(NAME, Some(&target.watch), shown, text)
        }
        Err(error) => ToolOutput::failed(NAME, Some(&target.watch), shown, error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::http::HttpProbe;
    use std::time::Duration;

    fn targets() -> Vec<HttpTarget> {
        [
            "https://shop.example.com/api/health",
            "http://user:secret@127.0.0.1:8080/",
        ]
        .iter()
        .enumerate()
        .map(|(i, url)| HttpTarget {
            watch: format!("w{i}"),
            probe: HttpProbe::get(url, Duration::from_secs(5)),
        })
        .collect()
    }

    #[test]
    fn configured_urls_and_paths_under_them_are_admitted() {
        let targets = targets();
        for url in [
            "https://shop.example.com/api/health",
            "https://SHOP.example.com:443/api/health?verbose=1",
            "https://shop.example.com/api/health/db",
            "https://shop.example.com/api/health#top",
        ] {
            let (target, _) = admit(&targets, url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(target.watch, "w0");
        }
        let (target, request) = admit(&targets, "http://127.0.0.1:8080/queue/stats").unwrap();
        assert_eq!(target.watch, "w1");
        assert_eq!(
            request.as_str(),
            "http://user:secret@127.0.0.1:8080/queue/stats",
            "the watch's credentials"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let targets = targets();
        for url in [
            "https://shop.example.com/api/healthz",
            "https://shop.example.com/api/",
            "https://shop.example.com/admin",
            "https://shop.example.com/api/health/../../admin",
            "https://shop.example.com/api/health/%2e%2e/%2e%2e/admin",
            "https://shop.example.com/api/health/..%2F..%2Fadmin",
            "https://shop.example.com/api/health\\..\\admin",
            "http://shop.example.com/api/health",
            "https://shop.example.com:8443/api/health",
            "https://shop.example.com.evil.net/api/health",
            "https://evil.net/api/health",
            "http://127.0.0.1:8081/",
            "http://localhost:8080/",
            "file:///etc/passwd",
            "https://user:pw@shop.example.com/api/health",
            "not a url",
        ] {
            assert!(admit(&targets, url).is_err(), "{url} admitted");
        }
        let refusal = admit(&targets, "https://shop.example.com/admin").unwrap_err();
        assert!(refusal.contains("no request was made"), "{refusal}");
        assert!(refusal.contains("http://127.0.0.1:8080/"), "{refusal}");
        assert!(
            !refusal.contains("secret"),
            "credentials are never shown: {refusal}"
        );
    }

    #[test]
    fn paths_are_under_a_prefix_only_on_segment_boundaries() {
        assert!(under("/api/health", "/api/health"));
        assert!(under("/api/health", "/api/health/db"));
        assert!(!under("/api/health", "/api/healthz"));
        assert!(under("/", "/anything"));
        assert!(under("/api/", "/api/x"));
    }
}
