//! Reading the app for one customer: the customer query finds who the email or id given
//! belongs to, then every section runs with that customer's id bound as its one parameter,
//! through the same guarded, read-only path every SQL statement takes. A section that fails is
//! kept with the reason, never dropped.

use std::time::Duration;

use super::columns::{cell, find};
use crate::config::{Config, EvidenceConfig, SectionSpec, SourceSpecKind};
use crate::evidence::pack::Customer;
use crate::source::sql::caps::{CapHit, ResultCaps};
use crate::source::sql::database::{QueryResult, SqlSource};

/// A pack reads a whole customer's history: room for a very active one.
const EVIDENCE_CAPS: ResultCaps = ResultCaps {
    max_rows: 250_000,
    max_bytes: 96 * 1024 * 1024,
};
/// The least time a section's statement may take, whatever the source's own timeout.
const EVIDENCE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why no pack can be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GatherError {
    #[error(
        "no customer matches “{given}” (the [evidence] customer query on source `{database}` returned no row): check the email or id, or the customer query"
    )]
    UnknownCustomer { given: String, database: String },
    #[error(
        "“{given}” matches {count} customers (the [evidence] customer query on source `{database}`): give the customer's id instead"
    )]
    Ambiguous {
        given: String,
        count: usize,
        database: String,
    },
    #[error(
        "the [evidence] customer query returned no `id` column (columns: {columns}): alias the customer's id as `id`"
    )]
    NoIdColumn { columns: String },
    #[error("the [evidence] customer query on source `{database}` failed: {reason}")]
    CustomerQuery { database: String, reason: String },
    #[error("[evidence] reads source `{0}`, which is not a SQL source of this configuration")]
    NoSuchSource(String),
}

/// One section as read.
#[derive(Debug, Clone)]
pub(crate) struct Gathered {
    pub spec: SectionSpec,
    /// The rows, or why there are none.
    pub result: Result<QueryResult, String>,
}

/// The SQL source `name` of `config`, with the evidence caps and timeout.
pub(crate) fn source(config: &Config, name: &str) -> Result<SqlSource, GatherError> {
    let settings = config
        .sources
        .iter()
        .find_map(|spec| match &spec.kind {
            SourceSpecKind::Sql(settings) if spec.name == name => Some(settings.clone()),
            _ => None,
        })
        .ok_or_else(|| GatherError::NoSuchSource(name.to_string()))?;
    let mut settings = settings;
    settings.caps = EVIDENCE_CAPS;
    settings.statement_timeout = settings.statement_timeout.max(EVIDENCE_TIMEOUT);
    Ok(SqlSource::new(name, settings))
}

/// Finds the one customer `given` (an email or an id) names.
pub(crate) async fn customer(
    config: &Config,
    evidence: &EvidenceConfig,
    given: &str,
) -> Result<Customer, GatherError> {
    let database = source(config, &evidence.source)?;
    let result = database
        .query_bound(&evidence.customer, given.trim())
        .await
        .map_err(|error| GatherError::CustomerQuery {
            database: evidence.source.clone(),
            reason: error.to_string(),
        })?;
    let id = find(&result.columns, &["id", "customer_id", "user_id"]).ok_or_else(|| {
        GatherError::NoIdColumn {
            columns: result.columns.join(", "),
        }
    })?;
    let email = find(&result.columns, &["email", "email_address"]);
    let name = find(&result.columns, &["name", "full_name", "username"]);
    let mut found: Vec<Customer> = result
        .rows
        .iter()
        .filter_map(|row| {
            Some(Customer {
                id: cell(row, Some(id))?.to_string(),
                email: cell(row, email).map(str::to_string),
                name: cell(row, name).map(str::to_string),
            })
        })
        .collect();
    found.dedup_by(|a, b| a.id == b.id);
    match found.len() {
        0 => Err(GatherError::UnknownCustomer {
            given: given.to_string(),
            database: evidence.source.clone(),
        }),
        1 => Ok(found.remove(0)),
        count => Err(GatherError::Ambiguous {
            given: given.to_string(),
            count,
            database: evidence.source.clone(),
        }),
    }
}

/// Runs every section for the customer `id`, in order; at most a few at once.
pub(crate) async fn sections(
    config: &Config,
    evidence: &EvidenceConfig,
    id: &str,
) -> Vec<Gathered> {
    let reads = evidence.sections.iter().map(|spec| async move {
        let result = match source(config, &spec.source) {
            Ok(database) => database
                .query_bound(&spec.query, id)
                .await
                .map_err(|error| error.to_string())
                .and_then(|result| match result.truncated {
                    Some(hit) if result.rows.is_empty() => Err(cap_words(hit)),
                    _ => Ok(result),
                }),
            Err(error) => Err(error.to_string()),
        };
        Gathered {
            spec: spec.clone(),
            result,
        }
    });
    futures_util::future::join_all(reads).await
}

/// A cap that stopped a section, in words.
pub(crate) fn cap_words(hit: CapHit) -> String {
    match hit {
        CapHit::Rows(rows) => format!("only the first {rows} rows were read"),
        CapHit::Bytes(bytes) => {
            format!("reading stopped at {} MB", bytes / (1024 * 1024))
        }
    }
}
