//! Read-only access to watched SQL databases: the statement guard every query
//! passes, the role gate that refuses a role able to do more than read, caps on how much of a
//! result is kept, and analysis of query plans.

pub mod caps;
pub mod database;
pub mod explain;
pub mod guard;
pub mod pg_stat;
pub mod privileges;
pub mod role_gate;
