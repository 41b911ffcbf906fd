//! Reads PostgreSQL's own catalog for the guard: for the functions, operators and cast types
//! one statement uses, what `pg_proc`, `pg_operator`, `pg_type` and `pg_cast` say about them.
//! The lookups are fixed statements of Sentinel's own (the names travel as bound parameters),
//! run inside the same READ ONLY transaction as the statement they vouch for, so the answers
//! are as fresh as the statement.

use super::guard::{CatalogAnswers, CatalogQuestions, FunctionFacts, TypeFacts};
use sqlx::PgConnection;

const FUNCTIONS: &str = "SELECT p.proname::text, \
    bool_or(n.nspname = 'pg_catalog'), \
    bool_or(n.nspname <> 'pg_catalog'), \
    coalesce(bool_and(p.provolatile IN ('i', 's')) FILTER (WHERE n.nspname = 'pg_catalog'), false) \
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
    WHERE p.proname::text = ANY($1) GROUP BY p.proname";

const OPERATORS: &str = "SELECT o.oprname::text, bool_and(p.provolatile IN ('i', 's')) \
    FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode \
    WHERE o.oprname::text = ANY($1) GROUP BY o.oprname";

const TYPES: &str = "SELECT t.typname::text, bool_or(t.typtype = 'd'), \
    bool_or(EXISTS (SELECT 1 FROM pg_catalog.pg_cast c \
        JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc \
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
        WHERE c.casttarget = t.oid AND (n.nspname <> 'pg_catalog' OR p.provolatile = 'v'))) \
    FROM pg_catalog.pg_type t WHERE t.typname::text = ANY($1) GROUP BY t.typname";

/// The catalog's answers to `questions`, read on `conn`.
pub(crate) async fn answers(
    conn: &mut PgConnection,
    questions: &CatalogQuestions,
) -> Result<CatalogAnswers, sqlx::Error> {
    let mut answers = CatalogAnswers::default();
    if !questions.functions.is_empty() {
        let rows: Vec<(String, bool, bool, bool)> = sqlx::query_as(FUNCTIONS)
            .bind(questions.function_names())
            .fetch_all(&mut *conn)
            .await?;
        for (name, in_pg_catalog, elsewhere, none_volatile) in rows {
            answers.functions.insert(
                name,
                FunctionFacts {
                    in_pg_catalog,
                    elsewhere,
                    none_volatile,
                },
            );
        }
    }
    if !questions.operators.is_empty() {
        let rows: Vec<(String, bool)> = sqlx::query_as(OPERATORS)
            .bind(questions.operator_names())
            .fetch_all(&mut *conn)
            .await?;
        answers.operators.extend(rows);
    }
    if !questions.types.is_empty() {
        let rows: Vec<(String, bool, bool)> = sqlx::query_as(TYPES)
            .bind(questions.type_names())
            .fetch_all(&mut *conn)
            .await?;
        for (name, is_domain, has_user_cast) in rows {
            answers.types.insert(
                name,
                TypeFacts {
                    is_domain,
                    has_user_cast,
                },
            );
        }
    }
    Ok(answers)
}
