//! A plain app schema (users, email_verifications, sessions and the app's own tables) with
//! thousands of ordinary customers made by arithmetic on the server, the disputing customer,
//! their household and one customer with 100,000 sessions.

use super::{
    Fixture, LAPTOP_AGENT, PHONE_AGENT, SHARED_DEVICE, SHARED_IP, alternating_sign_in, app_rows,
    app_tables, fresh_schema, numbered_pair, seeded,
};

/// Sessions of the heavy customer.
const HEAVY_SESSIONS: usize = 100_000;

/// Seeds schema `{prefix}_{pid}` with `customers` ordinary customers (ids 1..=customers) and
/// the three special ones after them; the reader may read it.
pub async fn seed_generic_app(prefix: &str, customers: usize) -> Fixture {
    let (schema, mut statements) = fresh_schema(prefix);
    let n = customers;
    let (disputing, household) = numbered_pair(n + 1, ["fp_dana_visa_4242", "fp_sam_mc_5555"]);
    let heavy = n + 3;
    let [ip, agent, device] = alternating_sign_in();
    statements.extend([
        format!(
            "CREATE TABLE {schema}.users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, \
             name text, created_at timestamptz NOT NULL)"
        ),
        format!(
            "CREATE TABLE {schema}.email_verifications (id bigserial PRIMARY KEY, \
             user_id bigint NOT NULL REFERENCES {schema}.users, email text NOT NULL, verified_at timestamptz NOT NULL)"
        ),
        format!(
            "CREATE TABLE {schema}.sessions (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES {schema}.users, \
             created_at timestamptz NOT NULL, ip inet, user_agent text, device_id text)"
        ),
        format!("CREATE INDEX ON {schema}.sessions (user_id, created_at)"),
    ]);
    statements.extend(app_tables(&schema, "bigint"));
    // Ordinary customers: every value a function of the id, mixed by multiplying with primes.
    statements.extend([
        format!(
            "INSERT INTO {schema}.users SELECT g, 'customer' || g || '@example.com', 'Customer ' || g, \
             now() - ((g * 7919) % 700 + 30) * interval '1 day' FROM generate_series(1, {n}) g"
        ),
        format!(
            "INSERT INTO {schema}.email_verifications (user_id, email, verified_at) \
             SELECT id, email, created_at + (id % 50) * interval '1 minute' FROM {schema}.users WHERE id % 5 <> 0"
        ),
        format!(
            "INSERT INTO {schema}.sessions (user_id, created_at, ip, user_agent, device_id) \
             SELECT u.id, u.created_at + s * interval '3 days', \
             ('10.' || (u.id * 31 % 250) || '.' || (u.id * 17 % 250) || '.' || (s % 2 + 1))::inet, \
             CASE (u.id + s) % 3 WHEN 0 THEN '{LAPTOP_AGENT}' WHEN 1 THEN '{PHONE_AGENT}' ELSE 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0' END, \
             'dev-' || substr(md5(u.id || '-' || s % 2), 1, 8) \
             FROM {schema}.users u, generate_series(1, (u.id % 4 + 1)::int) s"
        ),
        format!(
            "INSERT INTO {schema}.events (user_id, name, created_at, properties) \
             SELECT u.id, (ARRAY['page_view', 'project_created', 'export', 'invite_sent'])[(u.id + e) % 4 + 1], \
             u.created_at + e * interval '2 days', jsonb_build_object('n', e) \
             FROM {schema}.users u, generate_series(1, (u.id % 6)::int) e"
        ),
        format!(
            "INSERT INTO {schema}.payments (user_id, charge, created_at, amount, currency, status, \
             card_fingerprint, ip, device_id, shipping_country) \
             SELECT u.id, 'ch_' || u.id || '_' || k, u.created_at + k * interval '30 days', 900 + (u.id % 5) * 1000, 'usd', \
             CASE WHEN (u.id + k) % 17 = 0 THEN 'failed' ELSE 'succeeded' END, 'fp_' || u.id, \
             ('10.' || (u.id * 31 % 250) || '.' || (u.id * 17 % 250) || '.1')::inet, \
             'dev-' || substr(md5(u.id || '-1'), 1, 8), 'US' \
             FROM {schema}.users u, generate_series(1, (u.id % 3)::int) k"
        ),
        format!(
            "INSERT INTO {schema}.refunds (user_id, charge, created_at, amount, currency, reason) \
             SELECT user_id, charge, created_at + interval '2 days', amount, currency, 'requested_by_customer' \
             FROM {schema}.payments WHERE user_id % 30 = 0"
        ),
        format!(
            "INSERT INTO {schema}.disputes (charge, reason, created_at) \
             SELECT charge, 'product_not_received', created_at + interval '20 days' \
             FROM {schema}.payments WHERE user_id % 97 = 0"
        ),
        format!(
            "INSERT INTO {schema}.terms_acceptances (user_id, version, accepted_at) \
             SELECT id, '2024-01', created_at FROM {schema}.users"
        ),
    ]);
    // The three customers the tests know.
    statements.extend([
        format!(
            "INSERT INTO {schema}.users VALUES \
             ({d}, '{de}', '{dn}', now() - interval '400 days'), \
             ({h}, '{he}', '{hn}', now() - interval '90 days'), \
             ({heavy}, 'heavy.user@example.org', 'Heavy User', now() - interval '800 days')",
            d = disputing.id,
            de = disputing.email,
            dn = disputing.name,
            h = household.id,
            he = household.email,
            hn = household.name,
        ),
        format!(
            "INSERT INTO {schema}.email_verifications (user_id, email, verified_at) VALUES \
             ({d}, '{de}', now() - interval '399 days'), ({h}, '{he}', now() - interval '89 days')",
            d = disputing.id,
            de = disputing.email,
            h = household.id,
            he = household.email,
        ),
        format!(
            "INSERT INTO {schema}.sessions (user_id, created_at, ip, user_agent, device_id) \
             SELECT {d}, now() - g * interval '25 days', {ip}, {agent}, {device} \
             FROM generate_series(1, {count}) g",
            d = disputing.id,
            count = disputing.sessions,
        ),
        format!(
            "INSERT INTO {schema}.sessions (user_id, created_at, ip, user_agent, device_id) \
             SELECT {h}, now() - g * interval '11 days', '{SHARED_IP}', '{LAPTOP_AGENT}', '{SHARED_DEVICE}' \
             FROM generate_series(1, {count}) g",
            h = household.id,
            count = household.sessions,
        ),
        format!(
            "INSERT INTO {schema}.sessions (user_id, created_at, ip, user_agent, device_id) \
             SELECT {heavy}, now() - g * interval '10 minutes', ('10.9.' || (g % 250) || '.' || (g / 250 % 250))::inet, \
             '{PHONE_AGENT}', 'dev-heavy-' || (g % 3) FROM generate_series(1, {HEAVY_SESSIONS}) g"
        ),
    ]);
    statements.extend(app_rows(&schema, &disputing, &household));
    statements.push(format!("ANALYZE {schema}.sessions"));
    Fixture {
        heavy_id: Some(heavy.to_string()),
        heavy_sessions: HEAVY_SESSIONS,
        ..seeded(schema, &statements, disputing, household).await
    }
}
