//! Sentinel's own telemetry: its log lines on stderr (coloured only when stderr is a
//! terminal, so files, pipes and journald get plain text), and its metrics, served at
//! `/metrics` in the Prometheus text format: evaluations and their failures per watch, alerts
//! by state, outbox depth, notify latency, pings received.

use std::io::IsTerminal;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The filter when `SENTINEL_LOG` is unset or unreadable.
const DEFAULT_LOG_FILTER: &str = "info";

/// Sends log lines to stderr, filtered by `SENTINEL_LOG` (default `info`), with colours only
/// when stderr is a terminal.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SENTINEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WatchLabels {
    pub watch: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PingLabels {
    pub kind: String,
}

/// One webhook intake request: which sender's hook and how it ended (`accepted`,
/// `unauthorized`, `bad_request`, `too_large`, `unknown_hook`, `store_error`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IntakeLabels {
    pub hook: String,
    pub outcome: String,
}

/// Why the HTTP intake refused a request (`rate_limited`, `too_many_failures`, `too_large`,
/// `body_timeout`, `bad_request`, `method_not_allowed`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub channel: String,
    pub result: String,
}

/// Every metric Sentinel exports about itself.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub evaluations: Family<WatchLabels, Counter>,
    pub evaluation_failures: Family<WatchLabels, Counter>,
    pub alerts: Family<StateLabels, Gauge>,
    pub outbox_depth: Gauge,
    pub notify_latency: Histogram,
    pub pings: Family<PingLabels, Counter>,
    pub unknown_pings: Counter,
    pub rejected_requests: Family<RejectionLabels, Counter>,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub intake_requests: Family<IntakeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sentinel");
        let evaluations = Family::<WatchLabels, Counter>::default();
        registry.register("evaluations", "Watch evaluations run", evaluations.clone());
        let evaluation_failures = Family::<WatchLabels, Counter>::default();
        registry.register(
            "evaluation_failures",
            "Watch evaluations that could not read their source or timed out",
            evaluation_failures.clone(),
        );
        let alerts = Family::<StateLabels, Gauge>::default();
        registry.register("alerts", "Alerts by state", alerts.clone());
        let outbox_depth = Gauge::default();
        registry.register(
            "outbox_depth",
            "Notices written but not yet delivered",
            outbox_depth.clone(),
        );
        let notify_latency =
            Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]);
        registry.register(
            "notify_latency_seconds",
            "Time from a notice being written to its delivery",
            notify_latency.clone(),
        );
        let pings = Family::<PingLabels, Counter>::default();
        registry.register("pings", "Heartbeat pings accepted, by kind", pings.clone());
        let unknown_pings = Counter::default();
        registry.register(
            "unknown_pings",
            "Pings for tokens no watch has",
            unknown_pings.clone(),
        );
        let rejected_requests = Family::<RejectionLabels, Counter>::default();
        registry.register(
            "rejected_requests",
            "HTTP requests refused, by reason (rate-limited, too many failures, too large, slow body, malformed)",
            rejected_requests.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "deliveries",
            "Delivery attempts by channel and result",
            deliveries.clone(),
        );
        let intake_requests = Family::<IntakeLabels, Counter>::default();
        registry.register(
            "intake_requests",
            "Webhook intake requests (Alertmanager) by outcome",
            intake_requests.clone(),
        );
        Self {
            registry,
            evaluations,
            evaluation_failures,
            alerts,
            outbox_depth,
            notify_latency,
            pings,
            unknown_pings,
            rejected_requests,
            deliveries,
            intake_requests,
        }
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Counts one request the HTTP intake refused.
    pub fn reject(&self, reason: &str) {
        self.rejected_requests
            .get_or_create(&RejectionLabels {
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn watch(&self, watch: &str) -> WatchLabels {
        WatchLabels {
            watch: watch.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_text_format_with_labels() {
        let metrics = Metrics::new();
        metrics
            .evaluations
            .get_or_create(&metrics.watch("backup"))
            .inc();
        metrics.unknown_pings.inc();
        metrics.outbox_depth.set(3);
        let text = metrics.encode();
        assert!(
            text.contains("sentinel_evaluations_total{watch=\"backup\"} 1"),
            "{text}"
        );
        assert!(text.contains("sentinel_unknown_pings_total 1"), "{text}");
        assert!(text.contains("sentinel_outbox_depth 3"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
