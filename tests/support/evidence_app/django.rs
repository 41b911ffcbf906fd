//! The shape of a Django app: django.contrib.auth's auth_user, django-allauth's
//! account_emailaddress and django-axes' axes_accesslog with their columns, and the app's own
//! tables, in a schema of this test's.

use super::{
    Fixture, LAPTOP_AGENT, SHARED_IP, alternating_sign_in, app_rows, app_tables, fresh_schema,
    numbered_pair, seeded,
};

/// Ordinary users (ids 1..=ORDINARY) around the two the tests know.
const ORDINARY: usize = 300;

fn tables(schema: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE {schema}.auth_user (id serial PRIMARY KEY, password varchar(128) NOT NULL, \
             last_login timestamptz, is_superuser boolean NOT NULL, username varchar(150) NOT NULL UNIQUE, \
             first_name varchar(150) NOT NULL, last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, \
             is_staff boolean NOT NULL, is_active boolean NOT NULL, date_joined timestamptz NOT NULL)"
        ),
        format!(
            "CREATE TABLE {schema}.account_emailaddress (id serial PRIMARY KEY, email varchar(254) NOT NULL, \
             verified boolean NOT NULL, \"primary\" boolean NOT NULL, \
             user_id integer NOT NULL REFERENCES {schema}.auth_user)"
        ),
        format!(
            "CREATE TABLE {schema}.axes_accesslog (id serial PRIMARY KEY, user_agent varchar(255) NOT NULL, \
             ip_address inet, username varchar(255), http_accept varchar(1025) NOT NULL, \
             path_info varchar(255) NOT NULL, attempt_time timestamptz NOT NULL, logout_time timestamptz, \
             session_hash varchar(64) NOT NULL DEFAULT '')"
        ),
    ]
}

/// Seeds schema `{prefix}_{pid}`; the reader may read it.
pub async fn seed_django_shape(prefix: &str) -> Fixture {
    let (schema, mut statements) = fresh_schema(prefix);
    let (d, h) = (ORDINARY + 1, ORDINARY + 2);
    let (disputing, household) = numbered_pair(d, ["fp_dana_visa_4242", "fp_sam_mc_5555"]);
    statements.extend(tables(&schema));
    statements.extend(app_tables(&schema, "integer"));
    statements.extend([
        format!(
            "INSERT INTO {schema}.auth_user (id, password, last_login, is_superuser, username, first_name, \
             last_name, email, is_staff, is_active, date_joined) \
             SELECT g, 'pbkdf2_sha256$', now() - (g % 20) * interval '1 day', false, 'customer' || g, \
             'Customer', g::text, 'customer' || g || '@example.com', false, g % 11 <> 0, \
             now() - (g % 300 + 1) * interval '1 day' FROM generate_series(1, {ORDINARY}) g"
        ),
        format!(
            "INSERT INTO {schema}.auth_user (id, password, last_login, is_superuser, username, first_name, \
             last_name, email, is_staff, is_active, date_joined) VALUES \
             ({d}, 'pbkdf2_sha256$', now() - interval '2 days', false, 'dana', 'Dana', 'Reyes', '{de}', false, true, \
             now() - interval '400 days'), \
             ({h}, 'pbkdf2_sha256$', now() - interval '1 day', false, 'sam', 'Sam', 'Reyes', '{he}', false, true, \
             now() - interval '90 days')",
            de = disputing.email,
            he = household.email,
        ),
        format!(
            "INSERT INTO {schema}.account_emailaddress (email, verified, \"primary\", user_id) \
             SELECT email, id % 4 <> 0, true, id FROM {schema}.auth_user"
        ),
        format!(
            "INSERT INTO {schema}.axes_accesslog (user_agent, ip_address, username, http_accept, path_info, attempt_time) \
             SELECT '{LAPTOP_AGENT}', ('10.3.' || (g % 250) || '.1')::inet, 'customer' || g, 'text/html', \
             '/accounts/login/', now() - (g % 40) * interval '1 day' FROM generate_series(1, {ORDINARY}) g"
        ),
    ]);
    let [ip, agent, _] = alternating_sign_in();
    statements.extend([
        format!(
            "INSERT INTO {schema}.axes_accesslog (user_agent, ip_address, username, http_accept, path_info, attempt_time) \
             SELECT {agent}, {ip}, 'dana', 'text/html', '/accounts/login/', now() - g * interval '25 days' \
             FROM generate_series(1, {count}) g",
            count = disputing.sessions,
        ),
        format!(
            "INSERT INTO {schema}.axes_accesslog (user_agent, ip_address, username, http_accept, path_info, attempt_time) \
             SELECT '{LAPTOP_AGENT}', '{SHARED_IP}', 'sam', 'text/html', '/accounts/login/', now() - g * interval '11 days' \
             FROM generate_series(1, {count}) g",
            count = household.sessions,
        ),
    ]);
    statements.extend(app_rows(&schema, &disputing, &household));
    seeded(schema, &statements, disputing, household).await
}
