//! Fuzz target: arbitrary text through the statement guard in every dialect. Whatever it
//! accepts must re-parse to the same statement and be accepted again unchanged, and no
//! function call anywhere in the accepted tree (found by the parser's own visitor, not the
//! guard's) may be outside the allowlist: judged allowed, or left for the catalog to decide.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel::source::sql::guard::functions::{FunctionCall, Judgement, judge};
use sentinel::source::sql::guard::{
    CatalogAnswers, CheckedStatement, FunctionFacts, GuardPolicy, SqlDialectKind, check,
};
use sqlparser::ast::{Expr, visit_expressions};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

fn dialect(kind: SqlDialectKind) -> Box<dyn Dialect> {
    match kind {
        SqlDialectKind::Postgres => Box::new(PostgreSqlDialect {}),
        SqlDialectKind::MySql => Box::new(MySqlDialect {}),
        SqlDialectKind::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// Answers as a catalog that vouches for everything asked would give them.
fn vouching(checked: &CheckedStatement) -> CatalogAnswers {
    let questions = checked.catalog_questions();
    let mut answers = CatalogAnswers::default();
    for name in questions.function_names() {
        answers.functions.insert(
            name,
            FunctionFacts {
                in_pg_catalog: true,
                elsewhere: false,
                none_volatile: true,
            },
        );
    }
    for operator in questions.operator_names() {
        answers.operators.insert(operator, true);
    }
    answers
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [SqlDialectKind::Postgres, SqlDialectKind::MySql, SqlDialectKind::Sqlite] {
        let policy = GuardPolicy::new(kind);
        let Ok(checked) = check(sql, &policy) else {
            continue;
        };
        let asked = checked.catalog_questions().clone();
        let answers = vouching(&checked);
        let allowed = checked
            .confirm(Some(&answers))
            .expect("a vouching catalog confirms every checked statement");
        let normalized = allowed.normalized_sql();

        let again = check(normalized, &policy).expect("normalized text is accepted again");
        assert_eq!(again.kind(), allowed.kind());
        let again_answers = vouching(&again);
        let again = again.confirm(Some(&again_answers)).expect("confirmed again");
        assert_eq!(again.normalized_sql(), normalized);

        let parsed = Parser::parse_sql(dialect(kind).as_ref(), normalized).expect("re-parses");
        let _ = visit_expressions(&parsed, |expr| {
            if let Expr::Function(function) = expr {
                if let Some(call) = FunctionCall::from_name(&function.name, kind) {
                    match judge(&call, &policy) {
                        Judgement::Allowed => {}
                        Judgement::AskCatalog => {
                            assert!(asked.functions.contains_key(&call.name), "{normalized}");
                        }
                        Judgement::Refused(refusal) => {
                            panic!("accepted {normalized:?} although {refusal}")
                        }
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
});
