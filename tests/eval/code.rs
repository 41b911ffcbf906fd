//! The app and its code: a deploy of a Node.js shop that logs a new error (the line that logs
//! it and the commit that brought it), a Flask checkout that crashes with a traceback after a
//! currency change (the route, the error and the offending line), old code reporting that
//! the Redis it needs refuses connections (a dependency, not a bug), and a Go API that
//! answers a malformed invoice id with 500 (nginx's access log beside the app's JSON log).

use super::Scenario;
use super::grade::{Fact, Field, VerdictClass};
use super::lab::{Lab, Pager, Staged, expect};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::Path;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "new error: brought by a deploy",
            family: "code",
            fault: "A deploy three hours ago moved refunds to the payment provider's v2 client, which takes amounts in currency units: every refund of more than one unit is rejected, and the app logs it.",
            question: "What is this refund error and where does it come from?",
            stage: |lab| Box::pin(refund_error(lab)),
            facts: vec![
                Fact::text("the error", Field::Summary, "refund rejected by provider"),
                Fact::text(
                    "the line that logs it",
                    Field::Summary,
                    "src/payments/refunds.js:19",
                ),
                Fact::text(
                    "the commit's subject",
                    Field::Anywhere,
                    "Refund through the v2 payments client",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "new error: traceback on a route",
            family: "code",
            fault: "Checkout now prices carts in the customer's currency; the rate table has no CHF, so every Swiss checkout raises KeyError and answers 500.",
            question: "Why does checkout fail?",
            stage: |lab| Box::pin(checkout_traceback(lab)),
            facts: vec![
                Fact::text("the error", Field::Summary, "KeyError"),
                Fact::text("the offending line", Field::Summary, "shop/pricing.py:23"),
                Fact::text("the route", Field::Anywhere, "/api/cart/checkout"),
                Fact::text(
                    "the commit's subject",
                    Field::Anywhere,
                    "Price carts in the customer's currency",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "new error: a dependency refuses",
            family: "code",
            fault: "The Redis the receipt mailer queues into was stopped for maintenance and not started again: the mailer's old error handling logs every refused connection.",
            question: "What is this receipt error?",
            stage: |lab| Box::pin(receipts_redis_refused(lab)),
            facts: vec![
                Fact::matching(
                    "the refused connection",
                    Field::Summary,
                    r"connection refused",
                ),
                Fact::text("where it is logged", Field::Summary, "shop/mailer.py:15"),
                Fact::matching(
                    "look at the service, not the code",
                    Field::Steps,
                    r"service the error names",
                ),
                Fact::absent("a code fix proposed", Field::Steps, r"fix the code"),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "error class: bad id answered 500",
            family: "code",
            fault: "A frontend release builds invoice links from an unset id: /api/v2/invoices/undefined/pdf reaches the Go API, whose id parsing fails and answers 500 instead of 400.",
            question: "Why does the invoice PDF endpoint answer 500?",
            stage: |lab| Box::pin(invoice_bad_id(lab)),
            facts: vec![
                Fact::text("the route", Field::Summary, "GET /api/v2/invoices/:id/pdf"),
                Fact::matching(
                    "the error",
                    Field::Summary,
                    r"strconv\.ParseInt|invalid syntax|integer parse",
                ),
                Fact::matching(
                    "the route works with a good id",
                    Field::Hypotheses,
                    r"works with well-formed input",
                ),
                Fact::matching("the fix: refuse bad input", Field::Steps, r"\b400\b"),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
    ]
}

/// Runs git in `repo` with author and committer dates at `at`.
fn git(repo: &Path, at: DateTime<Utc>, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_DATE", at.to_rfc3339())
        .env("GIT_COMMITTER_DATE", at.to_rfc3339())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Writes `files` (path, text) into `repo` and commits them at `at` with `message`.
fn commit(repo: &Path, at: DateTime<Utc>, message: &str, files: &[(&str, &str)]) -> String {
    for (path, text) in files {
        let path = repo.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(repo, at, &["add", "-A"]);
    git(repo, at, &["commit", "-q", "-m", message]);
    git(repo, at, &["rev-parse", "--short", "HEAD"])
}

fn init(repo: &Path) {
    std::fs::create_dir_all(repo).unwrap();
    let now = Utc::now();
    git(repo, now, &["init", "-q", "-b", "main"]);
    git(repo, now, &["config", "user.email", "dev@shop.test"]);
    git(repo, now, &["config", "user.name", "Dana Dev"]);
}

fn append(path: &Path, lines: &[String]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
}

fn ago(minutes: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::minutes(minutes)
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

const REFUNDS_V1: &str = r#"const { payments } = require('./client');
const log = require('../log');

class RefundError extends Error {}

// Refunds part or all of what was captured for an order.
async function refundOrder(order, amountCents) {
  if (amountCents > order.capturedCents) {
    throw new RefundError('refund larger than the captured amount');
  }
  const result = await payments.refund(order.paymentId, { amount: amountCents });
  log.info(`refund ${result.id} for order ${order.id}: ${amountCents} cents`);
  return result;
}

module.exports = { refundOrder, RefundError };
"#;

const REFUNDS_V2: &str = r#"const { payments } = require('./client');
const log = require('../log');

class RefundError extends Error {}

// Refunds part or all of what was captured for an order.
async function refundOrder(order, amountCents) {
  if (amountCents > order.capturedCents) {
    throw new RefundError('refund larger than the captured amount');
  }
  const result = await payments.v2.refunds.create({
    payment: order.paymentId,
    amount: amountCents,
    currency: order.currency,
  });
  if (result.status === 'rejected') {
    // The provider says why in result.reason.
    const reason = result.reason || 'unknown';
    log.error(`refund rejected by provider: ${reason} (order ${order.id}, amount ${amountCents})`);
    throw new RefundError(reason);
  }
  log.info(`refund ${result.id} for order ${order.id}: ${amountCents} cents`);
  return result;
}

module.exports = { refundOrder, RefundError };
"#;

async fn refund_error(lab: &Lab) -> Result<Staged, String> {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop-api");
    init(&repo);
    commit(
        &repo,
        ago(60 * 24 * 70),
        "Shop API: orders, payments, refunds",
        &[
            (
                "package.json",
                "{\n  \"name\": \"shop-api\",\n  \"version\": \"3.2.0\",\n  \"main\": \"src/server.js\"\n}\n",
            ),
            (
                "src/server.js",
                "const express = require('express');\nconst refunds = require('./routes/refunds');\n\nconst app = express();\napp.use(express.json());\napp.use('/api/refunds', refunds);\napp.listen(process.env.PORT || 3000);\n",
            ),
            (
                "src/log.js",
                "const pino = require('pino');\nmodule.exports = pino();\n",
            ),
            (
                "src/payments/client.js",
                "const Provider = require('@provider/node');\nexports.payments = new Provider(process.env.PROVIDER_KEY);\n",
            ),
            ("src/payments/refunds.js", REFUNDS_V1),
            (
                "src/routes/refunds.js",
                "const router = require('express').Router();\nconst { refundOrder } = require('../payments/refunds');\n\nrouter.post('/:orderId', async (req, res) => {\n  const order = await req.db.orders.find(req.params.orderId);\n  res.json(await refundOrder(order, req.body.amountCents));\n});\n\nmodule.exports = router;\n",
            ),
        ],
    );
    commit(
        &repo,
        ago(60 * 24 * 9),
        "Export orders as CSV",
        &[(
            "src/routes/export.js",
            "const router = require('express').Router();\n\nrouter.get('/orders.csv', async (req, res) => {\n  res.type('text/csv').send(await req.db.orders.csv());\n});\n\nmodule.exports = router;\n",
        )],
    );
    let hash = commit(
        &repo,
        ago(180),
        "Refund through the v2 payments client",
        &[("src/payments/refunds.js", REFUNDS_V2)],
    );
    // The same words in a vendored dependency must not be taken for the app's code.
    std::fs::create_dir_all(repo.join("node_modules/@provider/node")).unwrap();
    std::fs::write(
        repo.join("node_modules/@provider/node/index.js"),
        "// refund rejected by provider: see docs\n",
    )
    .unwrap();

    let log = dir.path().join("shop-api.log");
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.api-errors]\nkind = \"new_error\"\ndescription = \"shop API log\"\n\
             path = \"{}\"\nlearn_for = \"0s\"\n",
            log.display()
        ),
        Some(&repo),
    );
    append(
        &log,
        &[
            format!("{} INFO shop-api 3.2.0 listening on :3000", stamp(ago(178))),
            format!(
                "{} INFO refund re_81k2 for order 88101: 1200 cents",
                stamp(ago(170))
            ),
            format!(
                "{} WARN slow query: orders.find took 812 ms",
                stamp(ago(120))
            ),
        ],
    );
    let pager = Pager::new(&parsed);
    expect(
        pager.pass().await.firing == 0,
        "the log paged before the error",
    )?;
    let mut lines = Vec::new();
    for (i, (order, amount)) in [(88123, 4599), (88140, 12900), (88152, 2350), (88177, 8000)]
        .iter()
        .enumerate()
    {
        lines.push(format!(
            "{} INFO POST /api/refunds/{order} from 10.0.3.{}",
            stamp(ago(9 - i as i64 * 2)),
            20 + i
        ));
        lines.push(format!(
            "{} ERROR refund rejected by provider: amount_exceeds_captured (order {order}, amount {amount})",
            stamp(ago(9 - i as i64 * 2))
        ));
    }
    lines.push(format!(
        "{} INFO refund re_93ba for order 88190: 99 cents",
        stamp(ago(1))
    ));
    append(&log, &lines);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "api-errors".into(),
        pages: pager.paged()?,
        facts: vec![Fact::text(
            "the commit that brought it",
            Field::Summary,
            &format!("commit {hash}"),
        )],
        guards: Vec::new(),
    })
}

const PRICING_V1: &str = r#""""Cart totals."""

from decimal import Decimal

from .models import Cart

VAT = Decimal("0.19")


def line_total(line):
    return line.unit_price * line.quantity


def cart_total(cart: Cart) -> Decimal:
    subtotal = sum((line_total(line) for line in cart.lines), Decimal(0))
    return (subtotal * (1 + VAT)).quantize(Decimal("0.01"))
"#;

const PRICING_V2: &str = r#""""Cart totals, in the customer's currency."""

from decimal import Decimal

from .models import Cart

VAT = Decimal("0.19")

# Rates from EUR, refreshed with each release.
EXCHANGE_RATES = {
    "EUR": Decimal("1"),
    "USD": Decimal("1.08"),
    "GBP": Decimal("0.85"),
    "SEK": Decimal("11.4"),
}


def line_total(line):
    return line.unit_price * line.quantity


def cart_total(cart: Cart) -> Decimal:
    rate = EXCHANGE_RATES[cart.currency]
    subtotal = sum((line_total(line) for line in cart.lines), Decimal(0))
    return (subtotal * rate * (1 + VAT)).quantize(Decimal("0.01"))
"#;

const CART_VIEW: &str = r#"from flask import Blueprint, jsonify, request

from .. import pricing
from ..models import Cart

bp = Blueprint("cart", __name__, url_prefix="/api/cart")


@bp.get("/")
def show():
    cart = Cart.for_session(request.cookies.get("session"))
    return jsonify(cart.as_dict())


@bp.post("/items")
def add_item():
    cart = Cart.for_session(request.cookies.get("session"))
    cart.add(request.json["sku"], int(request.json.get("quantity", 1)))
    return jsonify(cart.as_dict()), 201


@bp.post("/checkout")
def checkout():
    cart = Cart.for_session(request.cookies.get("session"))
    if not cart.lines:
        return jsonify(error="empty cart"), 400
    total = pricing.cart_total(cart)
    order = cart.place(total)
    return jsonify(order=order.id, total=str(total)), 201
"#;

/// Flask's own record of an unhandled exception, as its default handler writes it.
fn flask_traceback(at: DateTime<Utc>, currency: &str) -> Vec<String> {
    let site = "/srv/shop/venv/lib/python3.11/site-packages/flask/app.py";
    vec![
        format!(
            "[{}] ERROR in app: Exception on /api/cart/checkout [POST]",
            at.format("%Y-%m-%d %H:%M:%S,%3f")
        ),
        "Traceback (most recent call last):".into(),
        format!("  File \"{site}\", line 1455, in wsgi_app"),
        "    response = self.full_dispatch_request()".into(),
        format!("  File \"{site}\", line 869, in full_dispatch_request"),
        "    rv = self.handle_user_exception(e)".into(),
        format!("  File \"{site}\", line 867, in full_dispatch_request"),
        "    rv = self.dispatch_request()".into(),
        format!("  File \"{site}\", line 852, in dispatch_request"),
        "    return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)".into(),
        "  File \"/srv/shop/shop/views/cart.py\", line 27, in checkout".into(),
        "    total = pricing.cart_total(cart)".into(),
        "  File \"/srv/shop/shop/pricing.py\", line 23, in cart_total".into(),
        "    rate = EXCHANGE_RATES[cart.currency]".into(),
        format!("KeyError: '{currency}'"),
    ]
}

async fn checkout_traceback(lab: &Lab) -> Result<Staged, String> {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop");
    init(&repo);
    commit(
        &repo,
        ago(60 * 24 * 90),
        "Shop: carts and checkout",
        &[
            ("requirements.txt", "Flask==3.0.3\ngunicorn==22.0.0\n"),
            ("shop/__init__.py", ""),
            (
                "shop/app.py",
                "from flask import Flask\n\nfrom .views import cart\n\n\ndef create_app():\n    app = Flask(__name__)\n    app.register_blueprint(cart.bp)\n    return app\n",
            ),
            (
                "shop/models.py",
                "class Cart:\n    \"\"\"A session's cart.\"\"\"\n",
            ),
            ("shop/pricing.py", PRICING_V1),
            ("shop/views/__init__.py", ""),
            ("shop/views/cart.py", CART_VIEW),
        ],
    );
    let hash = commit(
        &repo,
        ago(300),
        "Price carts in the customer's currency",
        &[("shop/pricing.py", PRICING_V2)],
    );
    let log = dir.path().join("shop.log");
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.shop-errors]\nkind = \"new_error\"\ndescription = \"shop log\"\n\
             path = \"{}\"\nlearn_for = \"0s\"\n",
            log.display()
        ),
        Some(&repo),
    );
    let flask = |at: DateTime<Utc>, text: &str| {
        format!(
            "[{}] INFO in app: {text}",
            at.format("%Y-%m-%d %H:%M:%S,%3f")
        )
    };
    append(
        &log,
        &[
            flask(ago(290), "shop 2024.12 started"),
            flask(ago(200), "order 5512 placed, total 48.79 EUR"),
        ],
    );
    let pager = Pager::new(&parsed);
    expect(
        pager.pass().await.firing == 0,
        "the log paged before the error",
    )?;
    let mut lines = Vec::new();
    for minutes in [14, 11, 7, 3] {
        lines.extend(flask_traceback(ago(minutes), "CHF"));
        lines.push(flask(ago(minutes), "order 55xx placed, total 12.00 EUR"));
    }
    append(&log, &lines);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "shop-errors".into(),
        pages: pager.paged()?,
        facts: vec![Fact::text(
            "the commit that brought it",
            Field::Summary,
            &format!("commit {hash}"),
        )],
        guards: Vec::new(),
    })
}

const MAILER: &str = r#""""Receipts, sent by the mail worker."""

import logging

import redis

log = logging.getLogger("shop.mailer")
queue = redis.Redis.from_url("redis://127.0.0.1:6379/2")


def send_receipt(order):
    try:
        queue.rpush("receipts", order.id)
    except redis.ConnectionError as exc:
        log.error("could not queue receipt for order %s: %s", order.id, exc)
"#;

async fn receipts_redis_refused(lab: &Lab) -> Result<Staged, String> {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop");
    init(&repo);
    commit(
        &repo,
        ago(60 * 24 * 120),
        "Queue receipts for the mail worker",
        &[
            (
                "requirements.txt",
                "Flask==3.0.3
redis==5.0.8
",
            ),
            ("shop/__init__.py", ""),
            ("shop/mailer.py", MAILER),
        ],
    );
    commit(
        &repo,
        ago(60 * 24 * 6),
        "Bump Flask",
        &[(
            "requirements.txt",
            "Flask==3.0.3
redis==5.0.8
gunicorn==22.0.0
",
        )],
    );
    let log = dir.path().join("shop.log");
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.shop-errors]\nkind = \"new_error\"\ndescription = \"shop log\"\n\
             path = \"{}\"\nlearn_for = \"0s\"\n",
            log.display()
        ),
        Some(&repo),
    );
    let python = |at: DateTime<Utc>, level: &str, logger: &str, text: &str| {
        format!(
            "{} {level} {logger}: {text}",
            at.format("%Y-%m-%d %H:%M:%S,%3f")
        )
    };
    append(
        &log,
        &[
            python(ago(50), "INFO", "shop.app", "order 7710 placed"),
            python(ago(40), "INFO", "shop.app", "order 7711 placed"),
        ],
    );
    let pager = Pager::new(&parsed);
    expect(
        pager.pass().await.firing == 0,
        "the log paged before the error",
    )?;
    let mut lines = Vec::new();
    for (i, order) in [7712, 7713, 7714, 7715].iter().enumerate() {
        let at = ago(12 - 3 * i as i64);
        lines.push(python(
            at,
            "INFO",
            "shop.app",
            &format!("order {order} placed"),
        ));
        // redis-py's own words for a refused connection.
        lines.push(python(
            at,
            "ERROR",
            "shop.mailer",
            &format!("could not queue receipt for order {order}: Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        ));
    }
    append(&log, &lines);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "shop-errors".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

/// One line of nginx's combined access log.
fn nginx(client: &str, at: DateTime<Utc>, request: &str, status: u16, bytes: u32) -> String {
    format!(
        "{client} - - [{}] \"{request} HTTP/1.1\" {status} {bytes} \"https://shop.test/account/invoices\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15\"",
        at.format("%d/%b/%Y:%H:%M:%S %z")
    )
}

async fn invoice_bad_id(lab: &Lab) -> Result<Staged, String> {
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.log");
    let app = dir.path().join("invoices-api.log");
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.invoices-api]\nkind = \"error_class\"\ndescription = \"Invoices API\"\n\
             path = \"{}\"\napp_log = \"{}\"\n",
            access.display(),
            app.display()
        ),
        None,
    );
    let start = ago(20);
    let mut normal = Vec::new();
    let mut app_lines = vec![format!(
        r#"{{"time":"{}","level":"INFO","msg":"listening","addr":":8080","version":"1.14.2"}}"#,
        stamp(start)
    )];
    for i in 0..60 {
        let at = start + chrono::Duration::seconds(i * 7);
        let id = 10_400 + i * 3;
        normal.push(nginx(
            &format!("203.0.113.{}", 10 + i % 25),
            at,
            &format!("GET /api/v2/invoices/{id}/pdf"),
            200,
            48_213 + i as u32,
        ));
        app_lines.push(format!(
            r#"{{"time":"{}","level":"INFO","msg":"request","method":"GET","path":"/api/v2/invoices/{id}/pdf","status":200,"duration_ms":41}}"#,
            stamp(at)
        ));
    }
    append(&access, &normal);
    append(&app, &app_lines);
    let pager = Pager::new(&parsed);
    expect(pager.pass().await.firing == 0, "good requests paged")?;
    let mut failing = Vec::new();
    let mut errors = Vec::new();
    for i in 0..5 {
        let at = ago(4) + chrono::Duration::seconds(i * 20);
        errors.push(format!(
            r#"{{"time":"{}","level":"ERROR","msg":"request failed","method":"GET","path":"/api/v2/invoices/undefined/pdf","status":500,"err":"strconv.ParseInt: parsing \"undefined\": invalid syntax"}}"#,
            stamp(at)
        ));
        failing.push(nginx(
            &format!("198.51.100.{}", 7 + i % 3),
            at,
            "GET /api/v2/invoices/undefined/pdf",
            500,
            21,
        ));
    }
    append(&app, &errors);
    append(&access, &failing);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "invoices-api".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}
