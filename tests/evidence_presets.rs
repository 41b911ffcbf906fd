//! Every evidence preset against a database of its schema's shape in the machine's PostgreSQL,
//! through the guarded read a pack uses: the customer query finds the disputing customer by
//! email and by id, and every section returns that customer's rows only, never those of the
//! household member who shares their address and device, nor anyone else's.

mod support;

use sentinel::evidence::presets::Preset;
use sentinel::source::sql::caps::ResultCaps;
use sentinel::source::sql::database::{QueryResult, SqlSettings, SqlSource};
use sentinel::source::sql::guard::{GuardPolicy, SqlDialectKind};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::evidence_app::{self, CustomerFacts, Fixture};

/// A preset's statements: the customer query and each section's name and query.
struct Statements {
    customer: String,
    sections: Vec<(String, String)>,
}

fn statements(preset: Preset) -> Statements {
    let value: toml::Value = toml::from_str(&preset.text("app")).unwrap();
    let evidence = &value["evidence"];
    Statements {
        customer: evidence["customer"].as_str().unwrap().to_string(),
        sections: evidence["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["query"].as_str().unwrap().to_string(),
                )
            })
            .collect(),
    }
}

/// The reader, with the fixture's schema first on its search path, capped at `max_rows`.
async fn reader(fixture: &Fixture, max_rows: usize) -> SqlSource {
    let url = format!(
        "{}?options[search_path]={}",
        support::postgres_reader().await,
        fixture.schema
    );
    SqlSource::new(
        "app",
        SqlSettings {
            url,
            statement_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(1),
            caps: ResultCaps {
                max_rows,
                ..ResultCaps::default()
            },
            policy: GuardPolicy::new(SqlDialectKind::Postgres),
            allow_privileged_role: false,
        },
    )
}

/// Every section of `statements` run for customer `id`, by section name.
async fn pack(
    source: &SqlSource,
    statements: &Statements,
    id: &str,
) -> BTreeMap<String, QueryResult> {
    let mut results = BTreeMap::new();
    for (name, query) in &statements.sections {
        let result = source
            .query_bound(query, id)
            .await
            .unwrap_or_else(|e| panic!("section {name}: {e}\n{query}"));
        results.insert(name.clone(), result);
    }
    results
}

/// The cells of column `column` in `result`.
fn column<'a>(result: &'a QueryResult, column: &str) -> Vec<&'a str> {
    let Some(index) = result.columns.iter().position(|c| c == column) else {
        return Vec::new();
    };
    result
        .rows
        .iter()
        .filter_map(|row| row[index].as_deref())
        .collect()
}

/// Nothing in `results` belongs to anyone but `customer`: every address is theirs, every
/// account, charge, IP address and device in the columns that carry them is theirs.
fn assert_only(
    customer: &CustomerFacts,
    other: &CustomerFacts,
    results: &BTreeMap<String, QueryResult>,
) {
    let mut charges: BTreeSet<&str> = customer.prior_charges.iter().map(String::as_str).collect();
    charges.insert(&customer.charge);
    for (name, result) in results {
        for cell in result.rows.iter().flatten().flatten() {
            if cell.contains('@') {
                assert_eq!(cell, &customer.email, "section {name}");
            }
            assert!(!cell.contains(&other.charge), "section {name}: {cell}");
        }
        for id in column(result, "account_id") {
            assert_eq!(id, customer.id, "section {name}");
        }
        for charge in column(result, "charge") {
            assert!(charges.contains(charge), "section {name}: {charge}");
        }
        for ip in column(result, "ip") {
            assert!(
                customer.ips.iter().any(|own| own == ip),
                "section {name}: {ip}"
            );
        }
        for device in column(result, "device_id") {
            assert!(
                customer.devices.iter().any(|own| own == device),
                "section {name}: {device}"
            );
        }
    }
}

/// The payments section holds the customer's charges on their one card, the disputed one
/// marked when the section says.
fn assert_payments(customer: &CustomerFacts, payments: &QueryResult) {
    let mut expected: Vec<&str> = customer.prior_charges.iter().map(String::as_str).collect();
    expected.push(&customer.charge);
    assert_eq!(column(payments, "charge"), expected, "oldest first");
    assert!(
        column(payments, "paid")
            .iter()
            .all(|paid| *paid == "t" || *paid == "true")
    );
    assert_eq!(
        column(payments, "payment_method"),
        vec![customer.card.as_str(); expected.len()]
    );
    let disputed = column(payments, "disputed");
    if !disputed.is_empty() {
        let mut marks = vec!["f"; expected.len()];
        marks[expected.len() - 1] = "t";
        assert_eq!(disputed, marks);
    }
}

/// Runs `preset` against `fixture`: the customer query by email (in another case) and by id,
/// then every section for the disputing customer and for the household member. Every preset's
/// profile, signup, usage and payments sections give the customer's rows; `rows` says how many
/// the other sections give.
async fn check_preset(preset: Preset, fixture: &Fixture, rows: &[(&str, usize)]) {
    let statements = statements(preset);
    let source = reader(fixture, 1000).await;
    let dana = &fixture.disputing;
    for given in [dana.email.to_uppercase(), dana.id.clone()] {
        let found = source
            .query_bound(&statements.customer, &given)
            .await
            .unwrap();
        assert_eq!(found.rows.len(), 1, "{}: customer {given}", preset.name());
        assert_eq!(column(&found, "id"), vec![dana.id.as_str()]);
        assert_eq!(column(&found, "email"), vec![dana.email.as_str()]);
    }
    let nobody = source
        .query_bound(&statements.customer, "nobody@example.invalid")
        .await
        .unwrap();
    assert!(nobody.rows.is_empty());

    let results = pack(&source, &statements, &dana.id).await;
    let counts: BTreeMap<&str, usize> = results
        .iter()
        .map(|(n, r)| (n.as_str(), r.rows.len()))
        .collect();
    let payments = dana.prior_charges.len() + 1;
    let every_preset = [
        ("profile", 1),
        ("signup", 1),
        ("usage", dana.events),
        ("payments", payments),
    ];
    let expected: BTreeMap<&str, usize> = every_preset.iter().chain(rows).copied().collect();
    assert_eq!(counts, expected, "{}: rows per section", preset.name());
    assert_only(dana, &fixture.household, &results);
    assert_payments(dana, &results["payments"]);

    let sam = &fixture.household;
    let theirs = pack(&source, &statements, &sam.id).await;
    assert_only(sam, dana, &theirs);
    assert_eq!(
        column(&theirs["payments"], "charge"),
        vec![sam.charge.as_str()]
    );
}

#[tokio::test]
async fn the_generic_preset_reads_one_customer_of_thousands() {
    let fixture = evidence_app::generic::seed_generic_app("evidence_generic", 3000).await;
    let rows = [
        ("verification", 1),
        ("logins", fixture.disputing.sessions),
        ("refunds", 0),
        ("terms", 1),
    ];
    check_preset(Preset::Generic, &fixture, &rows).await;

    let heavy = fixture.heavy_id.as_deref().unwrap();
    let logins = &statements(Preset::Generic).sections[3];
    assert_eq!(logins.0, "logins");
    let capped = reader(&fixture, 500)
        .await
        .query_bound(&logins.1, heavy)
        .await
        .unwrap();
    assert_eq!(capped.rows.len(), 500);
    assert!(
        capped.truncated.is_some(),
        "{} sessions",
        fixture.heavy_sessions
    );
}

#[tokio::test]
async fn the_supabase_preset_reads_the_auth_schema() {
    let fixture = evidence_app::supabase::seed_supabase_shape("evidence_supabase").await;
    let rows = [
        ("verification", 2),
        ("sessions", fixture.disputing.sessions),
        ("sign-ins", fixture.disputing.sessions + 1),
        ("refunds", 0),
    ];
    check_preset(Preset::Supabase, &fixture, &rows).await;
}

#[tokio::test]
async fn the_devise_preset_reads_devise_ahoy_and_pay() {
    let fixture = evidence_app::devise::seed_devise_shape("evidence_devise").await;
    let rows = [
        ("verification", 1),
        ("sign-ins", 2),
        ("visits", fixture.disputing.sessions),
        ("refunds", 0),
    ];
    check_preset(Preset::Devise, &fixture, &rows).await;
}

#[tokio::test]
async fn the_django_preset_reads_auth_user_allauth_and_axes() {
    let fixture = evidence_app::django::seed_django_shape("evidence_django").await;
    let rows = [("verification", 1), ("logins", fixture.disputing.sessions)];
    check_preset(Preset::Django, &fixture, &rows).await;
}
