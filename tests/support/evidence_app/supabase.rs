//! The shape of Supabase Auth: the `auth` schema's users, identities, sessions, audit log and
//! MFA factors with their real column names and types, created once and shared (rows carry
//! fresh uuids and a run tag), and the app's own tables in a schema of this test's.

use super::{
    CustomerFacts, Fixture, LAPTOP_AGENT, SHARED_DEVICE, SHARED_IP, alternating_sign_in, app_rows,
    app_tables, fetch_text, fresh_schema, seeded,
};

/// Ordinary users added around the two the tests know.
const ORDINARY: usize = 200;

/// The `auth` tables as Supabase Auth's migrations leave them (the columns evidence reads and
/// the ones around them), created if absent.
fn auth_schema() -> Vec<String> {
    [
        "CREATE SCHEMA IF NOT EXISTS auth",
        "DO $$ BEGIN CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone'); \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        "DO $$ BEGIN CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified'); \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        "DO $$ BEGIN CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3'); \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        "CREATE TABLE IF NOT EXISTS auth.users (instance_id uuid, id uuid PRIMARY KEY, \
         aud varchar(255), role varchar(255), email varchar(255), encrypted_password varchar(255), \
         email_confirmed_at timestamptz, invited_at timestamptz, confirmation_token varchar(255), \
         confirmation_sent_at timestamptz, recovery_token varchar(255), recovery_sent_at timestamptz, \
         last_sign_in_at timestamptz, raw_app_meta_data jsonb, raw_user_meta_data jsonb, \
         is_super_admin boolean, created_at timestamptz, updated_at timestamptz, \
         phone text UNIQUE, phone_confirmed_at timestamptz, \
         confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED, \
         banned_until timestamptz, is_sso_user boolean NOT NULL DEFAULT false, deleted_at timestamptz, \
         is_anonymous boolean NOT NULL DEFAULT false)",
        "CREATE TABLE IF NOT EXISTS auth.identities (provider_id text NOT NULL, \
         user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE, identity_data jsonb NOT NULL, \
         provider text NOT NULL, last_sign_in_at timestamptz, created_at timestamptz, updated_at timestamptz, \
         email text GENERATED ALWAYS AS (lower(identity_data->>'email')) STORED, \
         id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY, UNIQUE (provider_id, provider))",
        "CREATE TABLE IF NOT EXISTS auth.sessions (id uuid PRIMARY KEY, \
         user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE, created_at timestamptz, \
         updated_at timestamptz, factor_id uuid, aal auth.aal_level, not_after timestamptz, \
         refreshed_at timestamp, user_agent text, ip inet, tag text)",
        "CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id)",
        "CREATE TABLE IF NOT EXISTS auth.audit_log_entries (instance_id uuid, id uuid PRIMARY KEY, \
         payload json, created_at timestamptz, ip_address varchar(64) NOT NULL DEFAULT '')",
        "CREATE TABLE IF NOT EXISTS auth.mfa_factors (id uuid PRIMARY KEY, \
         user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE, friendly_name text, \
         factor_type auth.factor_type NOT NULL, status auth.factor_status NOT NULL, \
         created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, secret text, phone text, \
         last_challenged_at timestamptz)",
    ]
    .map(String::from)
    .to_vec()
}

/// A user of the run tagged `tag` with the audit entry of their sign-up and email identity.
fn user(customer: &CustomerFacts, days_ago: u32) -> Vec<String> {
    let CustomerFacts {
        id, email, name, ..
    } = customer;
    vec![
        format!(
            "INSERT INTO auth.users (instance_id, id, aud, role, email, email_confirmed_at, last_sign_in_at, \
             raw_app_meta_data, raw_user_meta_data, created_at, updated_at) VALUES \
             ('00000000-0000-0000-0000-000000000000', '{id}', 'authenticated', 'authenticated', '{email}', \
             now() - interval '{days_ago} days' + interval '10 minutes', now() - interval '2 days', \
             '{{\"provider\": \"email\", \"providers\": [\"email\"]}}', '{{\"full_name\": \"{name}\"}}', \
             now() - interval '{days_ago} days', now())"
        ),
        format!(
            "INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at) \
             VALUES ('{id}', '{id}', jsonb_build_object('sub', '{id}', 'email', '{email}', 'email_verified', true), \
             'email', now() - interval '2 days', now() - interval '{days_ago} days', now())"
        ),
        format!(
            "INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address) VALUES \
             ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), json_build_object('actor_id', '{id}', \
             'actor_username', '{email}', 'action', 'user_signedup', 'log_type', 'team', \
             'traits', json_build_object('provider', 'email')), now() - interval '{days_ago} days', '{SHARED_IP}')"
        ),
    ]
}

/// Sessions and audit-log sign-ins (each followed by a token refresh) of `id`, `g` numbering
/// them; `ip`, `agent` and `device` are SQL in `g`.
fn sign_ins(id: &str, count: usize, every_days: u32, [ip, agent, _]: &[String; 3]) -> Vec<String> {
    vec![
        format!(
            "INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, not_after, refreshed_at, user_agent, ip) \
             SELECT gen_random_uuid(), '{id}', now() - g * interval '{every_days} days', now() - g * interval '{every_days} days', \
             'aal1', NULL, (now() - g * interval '{every_days} days' + interval '1 hour')::timestamp, {agent}, {ip} \
             FROM generate_series(1, {count}) g"
        ),
        format!(
            "INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address) \
             SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid(), \
             json_build_object('actor_id', '{id}', 'action', a, 'log_type', CASE a WHEN 'login' THEN 'account' ELSE 'token' END, \
             'traits', json_build_object('provider', 'email')), now() - g * interval '{every_days} days', host({ip}) \
             FROM generate_series(1, {count}) g, unnest(ARRAY['login', 'token_refreshed']) a"
        ),
    ]
}

/// Seeds the shared `auth` schema with a run of users (the disputing customer with a verified
/// second factor, the household member, [`ORDINARY`] others) and schema `{prefix}_{pid}` with
/// the app's tables (refunds left empty); the reader may read both.
pub async fn seed_supabase_shape(prefix: &str) -> Fixture {
    let (schema, mut statements) = fresh_schema(prefix);
    let tag = fetch_text("SELECT substr(md5(random()::text), 1, 10)").await;
    let disputing = CustomerFacts::disputing(
        fetch_text("SELECT gen_random_uuid()::text").await,
        format!("dana.reyes+{tag}@example.net"),
        &format!("ch_{tag}_dana"),
        "fp_dana_visa_4242",
    );
    let household = CustomerFacts::household(
        fetch_text("SELECT gen_random_uuid()::text").await,
        format!("sam.reyes+{tag}@example.net"),
        &format!("ch_{tag}_sam"),
        "fp_sam_mc_5555",
    );
    // One run at a time creates the shared tables.
    statements.push("SELECT pg_advisory_lock(7358201)".into());
    statements.extend(auth_schema());
    statements.push("SELECT pg_advisory_unlock(7358201)".into());
    statements.extend(user(&disputing, 400));
    statements.extend(user(&household, 90));
    statements.extend(sign_ins(
        &disputing.id,
        disputing.sessions,
        25,
        &alternating_sign_in(),
    ));
    let shared = [
        format!("'{SHARED_IP}'::inet"),
        format!("'{LAPTOP_AGENT}'"),
        format!("'{SHARED_DEVICE}'"),
    ];
    statements.extend(sign_ins(&household.id, household.sessions, 11, &shared));
    statements.push(format!(
        "INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at) VALUES \
         (gen_random_uuid(), '{}', 'Dana''s phone', 'totp', 'verified', now() - interval '380 days', now()), \
         (gen_random_uuid(), '{}', 'Sam''s phone', 'totp', 'unverified', now() - interval '80 days', now())",
        disputing.id, household.id
    ));
    // Ordinary users of this run: a uuid each, three sessions and sign-ins from their own address.
    statements.extend([
        format!(
            "INSERT INTO auth.users (id, aud, role, email, email_confirmed_at, raw_user_meta_data, created_at, updated_at) \
             SELECT gen_random_uuid(), 'authenticated', 'authenticated', 'sb-{tag}-' || g || '@example.com', \
             now() - (g % 300) * interval '1 day', jsonb_build_object('full_name', 'Customer ' || g), \
             now() - (g % 300 + 1) * interval '1 day', now() FROM generate_series(1, {ORDINARY}) g"
        ),
        format!(
            "INSERT INTO auth.sessions (id, user_id, created_at, aal, user_agent, ip) \
             SELECT gen_random_uuid(), u.id, u.created_at + s * interval '1 day', 'aal1', '{LAPTOP_AGENT}', \
             ('10.' || s || '.' || (length(u.email) * 7 % 250) || '.' || (ascii(u.email) % 250))::inet \
             FROM auth.users u, generate_series(1, 3) s WHERE u.email LIKE 'sb-{tag}-%'"
        ),
        format!(
            "INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address) \
             SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid(), \
             json_build_object('actor_id', u.id, 'actor_username', u.email, 'action', 'login', 'log_type', 'account'), \
             u.created_at + interval '1 day', '{SHARED_IP}' FROM auth.users u WHERE u.email LIKE 'sb-{tag}-%'"
        ),
    ]);
    statements.extend(app_tables(&schema, "uuid"));
    statements.extend(app_rows(&schema, &disputing, &household));
    statements.push(format!(
        "INSERT INTO {schema}.payments (user_id, charge, created_at, amount, currency, status, card_fingerprint, ip) \
         SELECT u.id, 'ch_{tag}_' || row_number() OVER (), u.created_at, 1900, 'usd', 'succeeded', md5(u.email), '{SHARED_IP}' \
         FROM auth.users u WHERE u.email LIKE 'sb-{tag}-%'"
    ));
    seeded(schema, &statements, disputing, household).await
}
