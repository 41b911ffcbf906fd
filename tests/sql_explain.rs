//! Behaviour of query-plan analysis on real PostgreSQL 15
//! `EXPLAIN (FORMAT JSON)` output captured in `tests/fixtures/explain/`.
//!
//! The fixtures come from a 200,000-row `orders` table (`customer_email
//! text`, `status varchar(20)`, `created_at timestamptz`, `total numeric`)
//! and a 50,000-row `customers` table (`email text`, `name text`); one from a
//! 250,000-row `invoices` table indexed only on `issued_at`, read newest first
//! for one `account_id` with a small LIMIT.

use std::collections::HashMap;

use sentinel::source::sql::explain::{
    DEFAULT_SEQ_SCAN_ROW_THRESHOLD, ExplainConfig, ExplainError, Finding, analyze_plan_json,
    filter_columns,
};

const SEQ_SCAN_FILTER_EMAIL: &str = include_str!("fixtures/explain/seq_scan_filter_email.json");
const SEQ_SCAN_FILTER_STATUS_CAST: &str =
    include_str!("fixtures/explain/seq_scan_filter_status_cast.json");
const SEQ_SCAN_FILTER_CREATED_AT: &str =
    include_str!("fixtures/explain/seq_scan_filter_created_at.json");
const SEQ_SCAN_NO_FILTER: &str = include_str!("fixtures/explain/seq_scan_no_filter.json");
const SEQ_SCAN_VERBOSE_FUNCTION_FILTER: &str =
    include_str!("fixtures/explain/seq_scan_verbose_function_filter.json");
const JOIN_ORDERS_CUSTOMERS: &str = include_str!("fixtures/explain/join_orders_customers.json");
const INDEX_SCAN_EMAIL: &str = include_str!("fixtures/explain/index_scan_email.json");
const BITMAP_SCAN_STATUS: &str = include_str!("fixtures/explain/bitmap_scan_status.json");
const INDEX_WALK_FILTER_ACCOUNT: &str =
    include_str!("fixtures/explain/index_walk_filter_account.json");

/// Table sizes as `pg_class.reltuples` reports them for the fixture tables.
fn config_with_table_sizes() -> ExplainConfig {
    ExplainConfig {
        table_rows: HashMap::from([
            ("orders".to_string(), 200_000),
            ("customers".to_string(), 50_000),
        ]),
        ..ExplainConfig::default()
    }
}

fn analyze(json: &str, config: &ExplainConfig) -> Vec<Finding> {
    analyze_plan_json(json, config).unwrap()
}

#[test]
fn default_threshold_is_ten_thousand_rows() {
    assert_eq!(DEFAULT_SEQ_SCAN_ROW_THRESHOLD, 10_000);
    assert_eq!(
        ExplainConfig::default().seq_scan_row_threshold,
        DEFAULT_SEQ_SCAN_ROW_THRESHOLD
    );
}

#[test]
fn selective_filter_on_unindexed_column_is_a_missing_index() {
    let findings = analyze(SEQ_SCAN_FILTER_EMAIL, &config_with_table_sizes());
    assert_eq!(
        findings,
        vec![Finding::MissingIndex {
            table: "orders".to_string(),
            column: "customer_email".to_string(),
            estimated_rows: 200_000,
            filter: "(customer_email = 'user42@example.com'::text)".to_string(),
            whole_index: None,
        }]
    );
    assert!(
        findings[0]
            .to_string()
            .starts_with("missing index on orders(customer_email)"),
        "{}",
        findings[0]
    );
}

#[test]
fn selective_filter_needs_the_table_size_to_be_noticed() {
    // The planner expects the scan to return one row, so from the plan alone
    // the scan looks small.
    assert!(analyze(SEQ_SCAN_FILTER_EMAIL, &ExplainConfig::default()).is_empty());
}

#[test]
fn cast_column_is_found_from_plan_rows_alone() {
    let findings = analyze(SEQ_SCAN_FILTER_STATUS_CAST, &ExplainConfig::default());
    match findings.as_slice() {
        [
            Finding::MissingIndex {
                table,
                column,
                estimated_rows,
                filter,
                whole_index: None,
            },
        ] => {
            assert_eq!(table, "orders");
            assert_eq!(column, "status");
            assert!(*estimated_rows >= 10_000, "{estimated_rows}");
            assert_eq!(filter, "((status)::text = 'running'::text)");
        }
        other => panic!("expected one missing-index finding, got {other:?}"),
    }
}

#[test]
fn nested_parallel_seq_scan_is_found() {
    let findings = analyze(SEQ_SCAN_FILTER_CREATED_AT, &ExplainConfig::default());
    match findings.as_slice() {
        [Finding::MissingIndex { table, column, .. }] => {
            assert_eq!(table, "orders");
            assert_eq!(column, "created_at");
        }
        other => panic!("expected created_at finding, got {other:?}"),
    }
}

#[test]
fn unfiltered_large_scan_is_a_seq_scan_finding() {
    let findings = analyze(SEQ_SCAN_NO_FILTER, &ExplainConfig::default());
    assert_eq!(
        findings,
        vec![Finding::SeqScan {
            table: "orders".to_string(),
            estimated_rows: 200_000,
        }]
    );
    assert!(findings[0].to_string().contains("orders"));
}

#[test]
fn threshold_is_configurable() {
    let strict = ExplainConfig {
        seq_scan_row_threshold: 300_000,
        ..ExplainConfig::default()
    };
    assert!(analyze(SEQ_SCAN_NO_FILTER, &strict).is_empty());
    let lax = ExplainConfig {
        seq_scan_row_threshold: 1,
        ..ExplainConfig::default()
    };
    // Even the one-row estimate of the selective scan passes a threshold of 1.
    assert_eq!(analyze(SEQ_SCAN_FILTER_EMAIL, &lax).len(), 1);
}

#[test]
fn verbose_plan_uses_schema_and_strips_qualifiers_and_function_names() {
    let findings = analyze(SEQ_SCAN_VERBOSE_FUNCTION_FILTER, &ExplainConfig::default());
    let rendered: Vec<String> = findings.iter().map(ToString::to_string).collect();
    let columns: Vec<&str> = findings
        .iter()
        .map(|finding| match finding {
            Finding::MissingIndex { table, column, .. } => {
                assert_eq!(table, "shop.customers");
                column.as_str()
            }
            other => panic!("unexpected finding {other:?}"),
        })
        .collect();
    assert_eq!(columns, vec!["name", "email"], "{rendered:?}");
}

#[test]
fn join_reports_each_large_scan_in_plan_order() {
    let findings = analyze(JOIN_ORDERS_CUSTOMERS, &config_with_table_sizes());
    assert_eq!(
        findings,
        vec![
            Finding::SeqScan {
                table: "customers".to_string(),
                estimated_rows: 50_000,
            },
            Finding::MissingIndex {
                table: "orders".to_string(),
                column: "total".to_string(),
                estimated_rows: 200_000,
                filter: "(total > '990'::numeric)".to_string(),
                whole_index: None,
            },
        ]
    );
}

#[test]
fn index_and_bitmap_scans_produce_no_findings() {
    let config = config_with_table_sizes();
    assert!(analyze(INDEX_SCAN_EMAIL, &config).is_empty());
    assert!(analyze(BITMAP_SCAN_STATUS, &config).is_empty());
}

#[test]
fn an_index_walked_whole_to_filter_a_large_table_is_a_missing_index() {
    let mut config = ExplainConfig::default();
    config.table_rows.insert("invoices".to_string(), 250_000);
    let findings = analyze(INDEX_WALK_FILTER_ACCOUNT, &config);
    assert_eq!(
        findings,
        vec![Finding::MissingIndex {
            table: "invoices".to_string(),
            column: "account_id".to_string(),
            estimated_rows: 250_000,
            filter: "(account_id = '1'::bigint)".to_string(),
            whole_index: Some("invoices_issued_at_idx".to_string()),
        }]
    );
    assert_eq!(
        findings[0].to_string(),
        "missing index on invoices(account_id): scan of the whole index invoices_issued_at_idx of ~250000 rows filtered by (account_id = '1'::bigint)"
    );
    // On a small table the walk is cheap.
    assert!(analyze(INDEX_WALK_FILTER_ACCOUNT, &ExplainConfig::default()).is_empty());
}

#[test]
fn fixtures_really_contain_the_plan_shapes_they_are_named_for() {
    assert!(INDEX_WALK_FILTER_ACCOUNT.contains("\"Index Name\": \"invoices_issued_at_idx\""));
    assert!(!INDEX_WALK_FILTER_ACCOUNT.contains("Index Cond"));
    assert!(INDEX_SCAN_EMAIL.contains("\"Node Type\": \"Index Scan\""));
    assert!(BITMAP_SCAN_STATUS.contains("\"Node Type\": \"Bitmap Heap Scan\""));
    assert!(JOIN_ORDERS_CUSTOMERS.contains("\"Node Type\": \"Hash Join\""));
    assert!(SEQ_SCAN_FILTER_CREATED_AT.contains("\"Node Type\": \"Gather\""));
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let config = ExplainConfig::default();
    assert!(matches!(
        analyze_plan_json("not json", &config),
        Err(ExplainError::InvalidJson(_))
    ));
    assert!(matches!(
        analyze_plan_json("42", &config),
        Err(ExplainError::UnexpectedShape(_))
    ));
    assert!(matches!(
        analyze_plan_json("[{\"NoPlan\": 1}]", &config),
        Err(ExplainError::UnexpectedShape(_))
    ));
    // Odd but well-formed nodes are skipped rather than rejected.
    let odd = r#"[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": "many", "Plans": 3}}]"#;
    assert_eq!(analyze_plan_json(odd, &config).unwrap(), vec![]);
}

#[test]
fn filter_columns_ignore_casts_literals_functions_and_keywords() {
    let cases: &[(&str, &[&str])] = &[
        ("(customer_email = 'x'::text)", &["customer_email"]),
        ("((status)::text = 'running'::text)", &["status"]),
        ("(created_at < now())", &["created_at"]),
        (
            "(created_at < (now() - '1 day'::interval))",
            &["created_at"],
        ),
        (
            "((a = 1) AND ((b IS NULL) OR (c <> ALL ('{x,y}'::text[]))))",
            &["a", "b", "c"],
        ),
        ("(lower(customers.name) = 'n5'::text)", &["name"]),
        ("(o.total > 1.5)", &["total"]),
        (
            "(ts >= '2024-01-01 00:00:00+00'::timestamp with time zone)",
            &["ts"],
        ),
        (
            "((kind)::character varying = 'a'::character varying)",
            &["kind"],
        ),
        ("(\"Weird Col\" = 'it''s'::text)", &["Weird Col"]),
        ("(id = $1)", &["id"]),
        ("(NOT (hashed SubPlan 1))", &[]),
        ("(a = a)", &["a"]),
        ("(note ~~ '%status = x%'::text)", &["note"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(filter_columns(filter), *expected, "{filter}");
    }
}
