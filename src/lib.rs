//! Sentinel: a quiet watchman for solo operators. It watches servers and apps through what
//! they already run, decides what is worth a page, and tells the operator.
//!
//! The flow: watches observe ([`watch`]) through read-only sources ([`source`]); the tracker
//! ([`alert`]) decides, in the store ([`store`]); notices leave through the outbox to channels
//! ([`notify`]). The engine ([`engine`]) runs the loop; the server ([`server`]) takes pings;
//! the chat ([`chat`]) takes the operator's answers from Telegram; the model clients ([`llm`])
//! let an investigation talk to a language model.

// A dependency nothing uses is reported when the library is built (test builds add the
// dev-dependencies, which each test uses only some of).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
// `pub` only for what the crate's users (the binary, tests, benchmarks) reach; everything else
// is `pub(crate)`, so the compiler reports dead code.
#![warn(unreachable_pub)]

// The command line's parser: used by the binary (src/main.rs) alone, and Cargo has no
// dependencies for a binary only.
use clap as _;

pub mod alert;
pub mod backtest;
pub mod chat;
pub mod clock;
pub mod commands;
pub mod config;
pub mod demo;
pub mod engine;
pub mod evidence;
pub(crate) mod humanize;
pub mod investigate;
pub mod llm;
pub mod logs;
pub mod notify;
pub mod server;
pub mod source;
pub mod store;
pub mod telemetry;
pub(crate) mod text_table;
pub mod watch;
