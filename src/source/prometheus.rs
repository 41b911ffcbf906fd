//! Prometheus (and anything speaking its HTTP API: Thanos, Mimir, VictoriaMetrics), read-only:
//! instant and range queries. Every failure is classified so a watch can tell "the query is
//! wrong" from "the source cannot be seen".

use super::{SourceError, SourceErrorKind, error_chain};
use prometheus_http_query::{Client, Error as PromError, response::Data};
use std::collections::BTreeMap;
use std::time::Duration;

/// One series of an instant query: its labels and latest value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Series {
    /// The labels as a subject: see [`subject_of`].
    pub fn subject(&self) -> String {
        subject_of(&self.labels)
    }
}

/// Labels as a compact subject, `{instance="db:9100",mountpoint="/"}`, without the metric
/// name; the metric name alone when there is nothing else.
pub fn subject_of(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    if parts.is_empty() {
        labels.get("__name__").cloned().unwrap_or_default()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// A configured Prometheus-compatible endpoint.
#[derive(Clone)]
pub struct PrometheusSource {
    name: String,
    url: String,
    client: Client,
    timeout: Duration,
}

impl std::fmt::Debug for PrometheusSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PrometheusSource {
    pub fn new(
        name: &str,
        url: &str,
        timeout: Duration,
        bearer_token: Option<&str>,
    ) -> Result<Self, SourceError> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = bearer_token {
            let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| {
                    SourceError::new(
                        name,
                        SourceErrorKind::BadResponse,
                        "bearer token contains characters not allowed in a header",
                    )
                })?;
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .default_headers(headers)
            .build()
            .map_err(|e| SourceError::new(name, SourceErrorKind::Unreachable, e.to_string()))?;
        let client = Client::from(http, url).map_err(|e| {
            SourceError::new(
                name,
                SourceErrorKind::Unreachable,
                format!("invalid URL {url}: {e}"),
            )
        })?;
        Ok(Self {
            name: name.to_string(),
            url: url.to_string(),
            client,
            timeout,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Evaluates `query` at `at` (Unix seconds). Scalars come back as one unlabeled series.
    pub async fn instant(&self, query: &str, at: i64) -> Result<Vec<Series>, SourceError> {
        let timeout_secs = i64::try_from(self.timeout.as_secs().max(1)).unwrap_or(30);
        let result = self
            .client
            .query(query)
            .at(at)
            .timeout(timeout_secs * 1000)
            .get()
            .await
            .map_err(|error| self.classify(error))?;
        Ok(match result.data() {
            Data::Vector(vector) => vector
                .iter()
                .map(|v| Series {
                    labels: v
                        .metric()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    value: v.sample().value(),
                })
                .collect(),
            Data::Scalar(sample) => vec![Series {
                labels: BTreeMap::new(),
                value: sample.value(),
            }],
            Data::Matrix(_) => {
                return Err(SourceError::new(
                    &self.name,
                    SourceErrorKind::QueryRejected,
                    "the query returns a range vector; use an instant expression (wrap it in last_over_time(...) or rate(...))",
                ));
            }
        })
    }

    /// Evaluates `query` over `[start, end]` every `step` seconds: every series with its samples.
    pub async fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: f64,
    ) -> Result<Vec<(BTreeMap<String, String>, Vec<(f64, f64)>)>, SourceError> {
        let result = self
            .client
            .query_range(query, start, end, step)
            .get()
            .await
            .map_err(|error| self.classify(error))?;
        match result.data() {
            Data::Matrix(matrix) => Ok(matrix
                .iter()
                .map(|series| {
                    let labels = series
                        .metric()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let samples = series
                        .samples()
                        .iter()
                        .map(|s| (s.timestamp(), s.value()))
                        .collect();
                    (labels, samples)
                })
                .collect()),
            _ => Err(SourceError::new(
                &self.name,
                SourceErrorKind::BadResponse,
                "range query did not return a matrix",
            )),
        }
    }

    fn classify(&self, error: PromError) -> SourceError {
        let (kind, detail) = match &error {
            PromError::Prometheus(prom)
                if prom.is_bad_data() || prom.is_execution() || prom.is_not_found() =>
            {
                (SourceErrorKind::QueryRejected, prom.message().to_string())
            }
            PromError::Prometheus(prom) if prom.is_timeout() || prom.is_canceled() => {
                (SourceErrorKind::Timeout, prom.message().to_string())
            }
            PromError::Prometheus(prom) => {
                (SourceErrorKind::BadResponse, prom.message().to_string())
            }
            PromError::Client(client) => match client.inner() {
                Some(inner) if inner.is_timeout() => (
                    SourceErrorKind::Timeout,
                    format!("no answer within {}s", self.timeout.as_secs()),
                ),
                Some(inner) if inner.is_connect() => {
                    (SourceErrorKind::Unreachable, error_chain(inner))
                }
                Some(inner) if inner.is_status() => (
                    SourceErrorKind::BadResponse,
                    format!("HTTP {}", inner.status().map_or(0, |s| s.as_u16())),
                ),
                Some(inner) if inner.is_decode() || inner.is_body() => (
                    SourceErrorKind::BadResponse,
                    format!(
                        "response is not Prometheus API JSON: {}",
                        error_chain(inner)
                    ),
                ),
                _ => (SourceErrorKind::BadResponse, error.to_string()),
            },
            other => (SourceErrorKind::BadResponse, other.to_string()),
        };
        SourceError::new(&self.name, kind, detail)
    }
}

impl super::registry::Source for PrometheusSource {
    fn kind(&self) -> &'static str {
        "prometheus"
    }

    fn check(&self) -> futures_util::future::BoxFuture<'_, super::registry::Finding> {
        use super::registry::Finding;
        Box::pin(async move {
            match self
                .instant("vector(1)", chrono::Utc::now().timestamp())
                .await
            {
                Ok(_) => Finding::Ok(format!("reachable at {}, queries only", self.url)),
                Err(error) => Finding::Fail(format!("cannot query {}: {error}", self.url)),
            }
        })
    }

    fn readings(&self) -> Option<&dyn super::series::ReadingSource> {
        Some(self)
    }

    fn series(&self) -> Option<&dyn super::series::SeriesSource> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_labels_without_the_metric_name() {
        let series = Series {
            labels: [("__name__", "up"), ("job", "node"), ("instance", "db:9100")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: 0.0,
        };
        assert_eq!(series.subject(), "{instance=\"db:9100\",job=\"node\"}");
        let bare = Series {
            labels: [("__name__".to_string(), "up".to_string())]
                .into_iter()
                .collect(),
            value: 0.0,
        };
        assert_eq!(bare.subject(), "up");
    }
}
