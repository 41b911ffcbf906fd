//! The shape of a Rails app with Devise (confirmable, trackable), Ahoy and Pay: their tables
//! with the columns the gems' migrations create, in a schema of this test's.

use super::{
    Fixture, LAPTOP_AGENT, PHONE_IP, SHARED_DEVICE, SHARED_IP, alternating_sign_in, fresh_schema,
    numbered_pair, seeded,
};

/// Ordinary users (ids 1..=ORDINARY) around the two the tests know.
const ORDINARY: usize = 300;

fn tables(schema: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE {schema}.users (id bigserial PRIMARY KEY, email varchar NOT NULL DEFAULT '', \
             encrypted_password varchar NOT NULL DEFAULT '', reset_password_token varchar, \
             reset_password_sent_at timestamp(6), remember_created_at timestamp(6), \
             sign_in_count integer NOT NULL DEFAULT 0, current_sign_in_at timestamp(6), \
             last_sign_in_at timestamp(6), current_sign_in_ip varchar, last_sign_in_ip varchar, \
             confirmation_token varchar, confirmed_at timestamp(6), confirmation_sent_at timestamp(6), \
             unconfirmed_email varchar, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)"
        ),
        format!(
            "CREATE TABLE {schema}.ahoy_visits (id bigserial PRIMARY KEY, visit_token varchar, \
             visitor_token varchar, user_id bigint, ip varchar, user_agent text, referrer text, \
             referring_domain varchar, landing_page text, browser varchar, os varchar, device_type varchar, \
             country varchar, region varchar, city varchar, latitude double precision, longitude double precision, \
             utm_source varchar, utm_medium varchar, utm_term varchar, utm_content varchar, utm_campaign varchar, \
             app_version varchar, os_version varchar, platform varchar, started_at timestamp(6))"
        ),
        format!(
            "CREATE TABLE {schema}.ahoy_events (id bigserial PRIMARY KEY, visit_id bigint, user_id bigint, \
             name varchar, properties jsonb, time timestamp(6))"
        ),
        format!(
            "CREATE TABLE {schema}.pay_customers (id bigserial PRIMARY KEY, owner_type varchar, owner_id bigint, \
             processor varchar NOT NULL, processor_id varchar, \"default\" boolean, data jsonb, \
             stripe_account varchar, deleted_at timestamp(6), created_at timestamp(6) NOT NULL, \
             updated_at timestamp(6) NOT NULL)"
        ),
        format!(
            "CREATE TABLE {schema}.pay_charges (id bigserial PRIMARY KEY, customer_id bigint NOT NULL \
             REFERENCES {schema}.pay_customers, subscription_id bigint, processor_id varchar NOT NULL, \
             amount integer NOT NULL, currency varchar, application_fee_amount integer, amount_refunded integer, \
             metadata jsonb, data jsonb, stripe_account varchar, type varchar, object jsonb, \
             created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)"
        ),
    ]
}

/// A Pay customer (owned by `owner_type` `owner_id`) with one charge per `(charge, days ago)`.
fn pay(
    schema: &str,
    owner_type: &str,
    owner_id: &str,
    last4: &str,
    charges: &[(&str, u32)],
) -> Vec<String> {
    let mut statements = vec![format!(
        "INSERT INTO {schema}.pay_customers (owner_type, owner_id, processor, processor_id, \"default\", created_at, updated_at) \
         VALUES ('{owner_type}', {owner_id}, 'stripe', 'cus_{owner_type}{owner_id}', true, now(), now())"
    )];
    for (charge, days_ago) in charges {
        statements.push(format!(
            "INSERT INTO {schema}.pay_charges (customer_id, processor_id, amount, currency, amount_refunded, data, created_at, updated_at) \
             SELECT id, '{charge}', 2900, 'usd', 0, \
             '{{\"payment_method_type\": \"card\", \"brand\": \"Visa\", \"last4\": \"{last4}\", \"exp_month\": 4, \"exp_year\": 2028}}', \
             now() - interval '{days_ago} days', now() - interval '{days_ago} days' \
             FROM {schema}.pay_customers WHERE owner_type = '{owner_type}' AND owner_id = {owner_id}"
        ));
    }
    statements
}

/// Seeds schema `{prefix}_{pid}`; the reader may read it.
pub async fn seed_devise_shape(prefix: &str) -> Fixture {
    let (schema, mut statements) = fresh_schema(prefix);
    let (d, h) = (ORDINARY + 1, ORDINARY + 2);
    let (disputing, household) = numbered_pair(d, ["Visa 4242 4/2028", "Visa 5555 4/2028"]);
    statements.extend(tables(&schema));
    statements.extend([
        format!(
            "INSERT INTO {schema}.users (id, email, sign_in_count, current_sign_in_at, last_sign_in_at, \
             current_sign_in_ip, last_sign_in_ip, confirmed_at, confirmation_sent_at, created_at, updated_at) \
             SELECT g, 'customer' || g || '@example.com', g % 9, now() - (g % 20) * interval '1 day', \
             now() - (g % 20 + 5) * interval '1 day', '10.1.' || (g % 250) || '.1', '10.2.' || (g % 250) || '.1', \
             CASE WHEN g % 4 <> 0 THEN now() - (g % 300) * interval '1 day' END, now() - (g % 300) * interval '1 day', \
             now() - (g % 300 + 1) * interval '1 day', now() FROM generate_series(1, {ORDINARY}) g"
        ),
        format!(
            "INSERT INTO {schema}.users (id, email, sign_in_count, current_sign_in_at, last_sign_in_at, \
             current_sign_in_ip, last_sign_in_ip, confirmed_at, confirmation_sent_at, created_at, updated_at) VALUES \
             ({d}, '{de}', 41, now() - interval '2 days', now() - interval '5 days', '{PHONE_IP}', '{SHARED_IP}', \
             now() - interval '399 days', now() - interval '400 days', now() - interval '400 days', now()), \
             ({h}, '{he}', 7, now() - interval '1 day', now() - interval '9 days', '{SHARED_IP}', '{SHARED_IP}', \
             now() - interval '89 days', now() - interval '90 days', now() - interval '90 days', now())",
            de = disputing.email,
            he = household.email,
        ),
        format!(
            "INSERT INTO {schema}.ahoy_visits (visit_token, visitor_token, user_id, ip, user_agent, browser, os, \
             device_type, city, country, started_at) \
             SELECT md5(g::text), 'vt-' || (g % 40), g, '10.1.' || (g % 250) || '.1', '{LAPTOP_AGENT}', 'Chrome', \
             'Mac', 'Desktop', 'Austin', 'United States', now() - (g % 90) * interval '1 day' \
             FROM generate_series(1, {ORDINARY}) g"
        ),
        format!(
            "INSERT INTO {schema}.ahoy_events (visit_id, user_id, name, properties, time) \
             SELECT v.id, v.user_id, '$view', jsonb_build_object('page', '/projects'), v.started_at \
             FROM {schema}.ahoy_visits v"
        ),
    ]);
    let [ip, agent, device] = alternating_sign_in();
    for (customer, every_days) in [(&disputing, 25), (&household, 11)] {
        let (ip, agent, device) = if customer.id == disputing.id {
            (format!("host({ip})"), agent.clone(), device.clone())
        } else {
            (
                format!("'{SHARED_IP}'"),
                format!("'{LAPTOP_AGENT}'"),
                format!("'{SHARED_DEVICE}'"),
            )
        };
        statements.extend([
            format!(
                "INSERT INTO {schema}.ahoy_visits (visit_token, visitor_token, user_id, ip, user_agent, browser, \
                 os, device_type, city, country, started_at) \
                 SELECT md5('{id}-' || g), {device}, {id}, {ip}, {agent}, 'Chrome', 'Mac', 'Desktop', 'Portland', \
                 'United States', now() - g * interval '{every_days} days' FROM generate_series(1, {count}) g",
                id = customer.id,
                count = customer.sessions,
            ),
            format!(
                "INSERT INTO {schema}.ahoy_events (user_id, name, properties, time) \
                 SELECT {id}, 'report_exported', jsonb_build_object('n', g), now() - g * interval '9 days' \
                 FROM generate_series(1, {count}) g",
                id = customer.id,
                count = customer.events,
            ),
        ]);
    }
    let charges: Vec<(&str, u32)> = vec![
        (&disputing.prior_charges[0], 320),
        (&disputing.prior_charges[1], 170),
        (&disputing.charge, 20),
    ];
    statements.extend(pay(&schema, "User", &disputing.id, "4242", &charges));
    statements.extend(pay(
        &schema,
        "User",
        &household.id,
        "5555",
        &[(&household.charge, 40)],
    ));
    // A team whose id is the disputing customer's: its charges are not theirs.
    statements.extend(pay(
        &schema,
        "Team",
        &disputing.id,
        "1111",
        &[("ch_team_1", 10)],
    ));
    statements.push(format!(
        "SELECT setval(pg_get_serial_sequence('{schema}.users', 'id'), {h})"
    ));
    seeded(schema, &statements, disputing, household).await
}
