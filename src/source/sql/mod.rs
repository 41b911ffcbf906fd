//! Read-only access to watched SQL databases: the statement guard every query
//! passes, the role gate that refuses a role able to do more than read, caps on how much of a
//! result is kept (and the server-side bounds that keep a result small while it is read),
//! errors worded for the operator, and analysis of query plans.

pub(crate) mod bounded;
pub mod caps;
pub(crate) mod check;
pub mod database;
pub mod explain;
pub(crate) mod failure;
pub mod guard;
pub mod parameters;
pub(crate) mod pg_catalog;
pub mod pg_stat;
pub(crate) mod privileges;
pub(crate) mod role_gate;
pub(crate) mod sqlite_limits;
pub(crate) mod statement_stats;
pub(crate) mod statements;
pub(crate) mod values;
