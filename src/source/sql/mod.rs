//! Read-only access to watched SQL databases: the statement guard every query
//! passes, the role gate that refuses a role able to do more than read, caps on how much of a
//! result is kept (and the server-side bounds that keep a result small while it is read),
//! errors worded for the operator, and analysis of query plans.

pub mod bounded;
pub mod caps;
pub mod check;
pub mod database;
pub mod explain;
pub mod failure;
pub mod guard;
pub mod pg_catalog;
pub mod pg_stat;
pub mod privileges;
pub mod role_gate;
pub mod sqlite_limits;
pub mod statement_stats;
pub mod statements;
pub mod values;
