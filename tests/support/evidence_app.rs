//! Realistic app databases for evidence packs, in the machine's PostgreSQL: a plain app schema
//! with thousands of customers, and the shapes of Supabase Auth, Rails with Devise and Django.
//! Each holds one disputing customer with known facts, a household member sharing their
//! address and device, and ordinary customers around them, so a section that reads more than
//! its customer shows.

pub mod devise;
pub mod django;
pub mod generic;
pub mod supabase;

/// What is known about one customer of a fixture.
#[derive(Debug, Clone)]
pub struct CustomerFacts {
    pub id: String,
    pub email: String,
    pub name: String,
    /// The disputed charge (for the household member: their own charge).
    pub charge: String,
    /// Earlier paid, undisputed charges on the same card from the same address and device.
    pub prior_charges: Vec<String>,
    pub card: String,
    /// The addresses and devices the customer signed in from.
    pub ips: Vec<String>,
    pub devices: Vec<String>,
    pub sessions: usize,
    pub events: usize,
}

impl CustomerFacts {
    /// The disputing customer: six sign-ins alternating between the shared laptop and their
    /// phone, twelve events, and charges `{charges}_1` to `_3` on `card` (the last disputed).
    pub fn disputing(id: String, email: String, charges: &str, card: &str) -> Self {
        CustomerFacts {
            id,
            email,
            name: "Dana Reyes".into(),
            charge: format!("{charges}_3"),
            prior_charges: vec![format!("{charges}_1"), format!("{charges}_2")],
            card: card.into(),
            ips: vec![SHARED_IP.into(), PHONE_IP.into()],
            devices: vec![SHARED_DEVICE.into(), PHONE_DEVICE.into()],
            sessions: 6,
            events: 12,
        }
    }

    /// The household member: four sign-ins from the shared laptop, three events and one charge
    /// `{charges}_1` on a card of their own.
    pub fn household(id: String, email: String, charges: &str, card: &str) -> Self {
        CustomerFacts {
            id,
            email,
            name: "Sam Reyes".into(),
            charge: format!("{charges}_1"),
            prior_charges: vec![],
            card: card.into(),
            ips: vec![SHARED_IP.into()],
            devices: vec![SHARED_DEVICE.into()],
            sessions: 4,
            events: 3,
        }
    }
}

/// The disputing customer (id `first`) and the household member (the id after) of a schema
/// with numbered users, paying with `cards` (as the payments section names them).
pub fn numbered_pair(first: usize, cards: [&str; 2]) -> (CustomerFacts, CustomerFacts) {
    let (d, h) = (first, first + 1);
    (
        CustomerFacts::disputing(
            d.to_string(),
            "dana.reyes@example.net".into(),
            &format!("ch_{d}"),
            cards[0],
        ),
        CustomerFacts::household(
            h.to_string(),
            "sam.reyes@example.net".into(),
            &format!("ch_{h}"),
            cards[1],
        ),
    )
}

/// A seeded app database.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The schema the app's own tables live in (put it on the search path to read them).
    pub schema: String,
    pub disputing: CustomerFacts,
    /// Shares the disputing customer's address and device.
    pub household: CustomerFacts,
    /// A customer with [`Fixture::heavy_sessions`] sessions, when the fixture has one.
    pub heavy_id: Option<String>,
    pub heavy_sessions: usize,
}

/// The address both the disputing customer and the household member use.
pub const SHARED_IP: &str = "198.51.100.23";
/// Their shared computer.
pub const SHARED_DEVICE: &str = "dev-laptop-7f3a";
/// The disputing customer's phone, from another address.
pub const PHONE_IP: &str = "203.0.113.77";
pub const PHONE_DEVICE: &str = "dev-phone-91c2";
pub const LAPTOP_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
pub const PHONE_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

/// A schema of this test process's own, recreated empty.
pub fn fresh_schema(prefix: &str) -> (String, Vec<String>) {
    let schema = format!("{prefix}_{}", std::process::id());
    let statements = vec![
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ];
    (schema, statements)
}

/// Runs `statements` as the administrator, lets the reader read what they made, and returns
/// the fixture of `schema` with its two known customers.
pub async fn seeded(
    schema: String,
    statements: &[String],
    disputing: CustomerFacts,
    household: CustomerFacts,
) -> Fixture {
    super::postgres_setup(statements).await;
    super::postgres_reader().await;
    Fixture {
        schema,
        disputing,
        household,
        heavy_id: None,
        heavy_sessions: 0,
    }
}

/// One text value computed by the machine's PostgreSQL, as the administrator.
pub async fn fetch_text(sql: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(super::POSTGRES)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (scripts/test.sh starts it)");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// The app's own tables when the customer's id is of type `id_type`: events, payments (with
/// the card's fingerprint, the address and device of each), refunds, accepted terms and the
/// charges disputed.
pub fn app_tables(schema: &str, id_type: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE {schema}.events (id bigserial PRIMARY KEY, user_id {id_type} NOT NULL, \
             name text NOT NULL, created_at timestamptz NOT NULL, properties jsonb NOT NULL DEFAULT '{{}}')"
        ),
        format!(
            "CREATE TABLE {schema}.payments (id bigserial PRIMARY KEY, user_id {id_type} NOT NULL, \
             charge text UNIQUE NOT NULL, created_at timestamptz NOT NULL, amount int NOT NULL, \
             currency text NOT NULL, status text NOT NULL, card_fingerprint text, ip inet, device_id text, \
             shipping_line1 text, shipping_city text, shipping_postal_code text, shipping_country text)"
        ),
        format!(
            "CREATE TABLE {schema}.refunds (id bigserial PRIMARY KEY, user_id {id_type} NOT NULL, \
             charge text NOT NULL, created_at timestamptz NOT NULL, amount int NOT NULL, \
             currency text NOT NULL, reason text)"
        ),
        format!(
            "CREATE TABLE {schema}.terms_acceptances (id bigserial PRIMARY KEY, user_id {id_type} NOT NULL, \
             version text NOT NULL, accepted_at timestamptz NOT NULL, ip inet)"
        ),
        format!(
            "CREATE TABLE {schema}.disputes (id bigserial PRIMARY KEY, charge text NOT NULL, \
             reason text NOT NULL, created_at timestamptz NOT NULL)"
        ),
        format!("CREATE INDEX ON {schema}.events (user_id, created_at)"),
        format!("CREATE INDEX ON {schema}.payments (user_id, created_at)"),
    ]
}

/// The disputing customer's and the household member's rows in [`app_tables`]: events, three
/// payments on one card from the shared address and device (the last one disputed, the two
/// before 150 and 300 days earlier), one for the household member, and accepted terms.
pub fn app_rows(schema: &str, disputing: &CustomerFacts, household: &CustomerFacts) -> Vec<String> {
    let (d, h) = (&disputing.id, &household.id);
    let payment = |customer: &CustomerFacts, charge: &str, days_ago: u32| {
        format!(
            "INSERT INTO {schema}.payments (user_id, charge, created_at, amount, currency, status, \
             card_fingerprint, ip, device_id, shipping_line1, shipping_city, shipping_postal_code, shipping_country) \
             VALUES ('{id}', '{charge}', now() - interval '{days_ago} days', 2900, 'usd', 'succeeded', \
             '{card}', '{SHARED_IP}', '{SHARED_DEVICE}', '12 Alder Lane', 'Portland', '97201', 'US')",
            id = customer.id,
            card = customer.card,
        )
    };
    let mut statements = vec![
        payment(disputing, &disputing.prior_charges[0], 320),
        payment(disputing, &disputing.prior_charges[1], 170),
        payment(disputing, &disputing.charge, 20),
        payment(household, &household.charge, 40),
        format!(
            "INSERT INTO {schema}.disputes (charge, reason, created_at) \
             VALUES ('{}', 'fraudulent', now() - interval '3 days')",
            disputing.charge
        ),
        format!(
            "INSERT INTO {schema}.terms_acceptances (user_id, version, accepted_at, ip) \
             VALUES ('{d}', '2025-03', now() - interval '330 days', '{SHARED_IP}'), \
             ('{h}', '2025-03', now() - interval '60 days', '{SHARED_IP}')"
        ),
    ];
    for (customer, name) in [(disputing, "report_exported"), (household, "page_view")] {
        statements.push(format!(
            "INSERT INTO {schema}.events (user_id, name, created_at, properties) \
             SELECT '{id}', '{name}', now() - g * interval '9 days', jsonb_build_object('n', g) \
             FROM generate_series(1, {count}) g",
            id = customer.id,
            count = customer.events,
        ));
    }
    statements
}

/// For the disputing customer's `g`-th sign-in (`g` from generate_series): the laptop at the
/// shared address on even ones, the phone elsewhere on odd ones. Address, agent and device.
pub fn alternating_sign_in() -> [String; 3] {
    let pick =
        |even: &str, odd: &str| format!("CASE WHEN g % 2 = 0 THEN '{even}' ELSE '{odd}' END");
    [
        format!("{}::inet", pick(SHARED_IP, PHONE_IP)),
        pick(LAPTOP_AGENT, PHONE_AGENT),
        pick(SHARED_DEVICE, PHONE_DEVICE),
    ]
}
