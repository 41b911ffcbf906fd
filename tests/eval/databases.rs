//! PostgreSQL: a migration drops the index the invoices page needs (pg_stat_statements sees
//! the query slow down), and a worker dies holding billing jobs in a job table.

use super::Scenario;
use super::grade::{Fact, Field, VerdictClass};
use super::lab::{Lab, Pager, Staged, expect};
use sqlx::{Connection, Executor, PgConnection};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "slow query: dropped index",
            family: "databases",
            fault: "A migration replaced indexes on invoices and dropped the one on account_id: the account page's query scans the whole table.",
            question: "Why did the invoices query get slow?",
            stage: |lab| Box::pin(dropped_index(lab)),
            facts: vec![
                Fact::matching(
                    "the table and column of the missing index",
                    Field::Summary,
                    r"invoices\s*\(\s*account_id\s*\)",
                ),
                Fact::matching(
                    "the index to create",
                    Field::Steps,
                    r"CREATE INDEX.*ON\s+invoices\s*\(\s*account_id\s*\)",
                ),
                Fact::text(
                    "the slow statement",
                    Field::Evidence,
                    "WHERE account_id = $1",
                ),
                Fact::matching(
                    "the plan's scan filtering on the column",
                    Field::Evidence,
                    r"on invoices .*Filter: \(account_id = ",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "stuck jobs: dead worker",
            family: "databases",
            fault: "The worker billing-worker-2 was killed by the kernel while it held four billing jobs; they stay `running`.",
            question: "Why are billing jobs stuck?",
            stage: |lab| Box::pin(stuck_billing_jobs(lab)),
            facts: vec![
                Fact::matching(
                    "the stuck job ids",
                    Field::Summary,
                    r"\b2041\b.*\b2044\b.*\b2047\b.*\b2052\b",
                ),
                Fact::text(
                    "the worker that holds them",
                    Field::Summary,
                    "billing-worker-2:31337",
                ),
                Fact::absent(
                    "a job taken seconds ago called stuck",
                    Field::Summary,
                    r"\b2060\b",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
    ]
}

/// The account page's query, as the app sends it.
const INVOICES_QUERY: &str = "SELECT id, number, status, total_cents, issued_at FROM invoices \
                              WHERE account_id = $1 ORDER BY issued_at DESC LIMIT 25";

async fn account_pages(app: &mut PgConnection, calls: i64, round: i64) {
    for call in 0..calls {
        let account = 1 + (round * 131 + call * 17) % 40_000;
        sqlx::query(INVOICES_QUERY)
            .bind(account)
            .fetch_all(&mut *app)
            .await
            .unwrap();
    }
}

async fn dropped_index(lab: &Lab) -> Result<Staged, String> {
    let url = lab.shop_database().await.to_string();
    let mut app = PgConnection::connect(&url).await.unwrap();
    for statement in [
        "DROP TABLE IF EXISTS invoices",
        "CREATE TABLE invoices (id bigserial PRIMARY KEY, account_id bigint NOT NULL, \
         number text NOT NULL, status text NOT NULL, total_cents bigint NOT NULL, \
         issued_at timestamptz NOT NULL, pdf_path text)",
        "INSERT INTO invoices (account_id, number, status, total_cents, issued_at, pdf_path) \
         SELECT 1 + g % 40000, 'INV-' || g, (ARRAY['paid','open','void'])[1 + g % 3], \
         (g * 37) % 50000, now() - g * interval '1 minute', '/srv/invoices/' || g || '.pdf' \
         FROM generate_series(1, 500000) AS g",
        "CREATE INDEX invoices_account_id_idx ON invoices (account_id)",
        "CREATE INDEX invoices_issued_at_idx ON invoices (issued_at)",
        "ANALYZE invoices",
    ] {
        app.execute(statement).await.unwrap();
    }
    let reader = crate::support::reader_url(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[sources.billing]\nkind = \"postgres\"\nurl = \"{reader}\"\n\n\
             [watches.billing-queries]\nkind = \"slow_query\"\ndescription = \"Billing database\"\n\
             source = \"billing\"\nmin_increase = \"5ms\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    for round in 0..5 {
        account_pages(&mut app, 8, round).await;
        let pass = pager.pass().await;
        expect(
            pass.firing == 0,
            "the query was slow before the index was dropped",
        )?;
    }
    // The migration: a composite index was meant to replace it, and never got created.
    app.execute("DROP INDEX invoices_account_id_idx")
        .await
        .unwrap();
    for round in 10..13 {
        account_pages(&mut app, 8, round).await;
        if pager.pass().await.firing > 0 {
            break;
        }
    }
    app.close().await.unwrap();
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "billing-queries".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

async fn stuck_billing_jobs(lab: &Lab) -> Result<Staged, String> {
    let admin = lab.jobs_database().await.to_string();
    crate::support::run_sql(
        &admin,
        &[
            "DROP TABLE IF EXISTS background_jobs".into(),
            "CREATE TABLE background_jobs (id bigserial PRIMARY KEY, queue text NOT NULL, \
             job_class text NOT NULL, args jsonb NOT NULL, state text NOT NULL, \
             attempts int NOT NULL DEFAULT 0, locked_by text, locked_at timestamptz, \
             enqueued_at timestamptz NOT NULL, finished_at timestamptz)"
                .into(),
            // Two thousand jobs done over the last days.
            "INSERT INTO background_jobs (queue, job_class, args, state, attempts, locked_by, \
             locked_at, enqueued_at, finished_at) \
             SELECT (ARRAY['billing','mailers','default'])[1 + g % 3], \
             (ARRAY['ChargeSubscription','SendReceipt','SyncLedger'])[1 + g % 3], \
             jsonb_build_object('account_id', g % 500), 'done', 1, \
             'billing-worker-' || (1 + g % 2) || ':' || (31000 + g % 2 * 337), \
             now() - (2040 - g) * interval '3 minutes', now() - (2040 - g) * interval '3 minutes', \
             now() - (2040 - g) * interval '3 minutes' + interval '4 seconds' \
             FROM generate_series(1, 2040) AS g"
                .into(),
            // The jobs billing-worker-2 held when it was killed, an hour ago and since.
            "INSERT INTO background_jobs (id, queue, job_class, args, state, attempts, \
             locked_by, locked_at, enqueued_at) VALUES \
             (2041, 'billing', 'ChargeSubscription', '{\"account_id\": 88}', 'running', 1, 'billing-worker-2:31337', now() - interval '64 minutes', now() - interval '65 minutes'), \
             (2044, 'billing', 'ChargeSubscription', '{\"account_id\": 91}', 'running', 1, 'billing-worker-2:31337', now() - interval '63 minutes', now() - interval '63 minutes'), \
             (2047, 'billing', 'SyncLedger', '{\"account_id\": 12}', 'running', 1, 'billing-worker-2:31337', now() - interval '63 minutes', now() - interval '63 minutes'), \
             (2052, 'billing', 'ChargeSubscription', '{\"account_id\": 140}', 'running', 1, 'billing-worker-2:31337', now() - interval '62 minutes', now() - interval '62 minutes')"
                .into(),
            // The other worker goes on: a job it just took, and the ones waiting for it.
            "INSERT INTO background_jobs (id, queue, job_class, args, state, attempts, \
             locked_by, locked_at, enqueued_at) VALUES \
             (2060, 'billing', 'ChargeSubscription', '{\"account_id\": 7}', 'running', 1, 'billing-worker-1:31000', now() - interval '20 seconds', now() - interval '30 seconds'), \
             (2061, 'billing', 'SendReceipt', '{\"account_id\": 9}', 'queued', 0, NULL, NULL, now() - interval '10 seconds')"
                .into(),
            "SELECT setval('background_jobs_id_seq', 2061)".into(),
        ],
    )
    .await;
    let reader = crate::support::reader_url(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[sources.app]\nkind = \"postgres\"\nurl = \"{reader}\"\n\n\
             [watches.billing-jobs]\nkind = \"stuck\"\ndescription = \"Billing jobs\"\nsource = \"app\"\n\
             table = \"background_jobs\"\nstate_column = \"state\"\nstates = [\"running\"]\n\
             since_column = \"locked_at\"\ngroup_by = \"queue\"\nolder_than = \"30m\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    let pass = pager.pass().await;
    expect(pass.blind == 0, "the job table could not be read")?;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "billing-jobs".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}
