//! Investigations: on the operator's approval, find out why a page fired, read-only.
//!
//! A request approved in the chat or on the command line is a [`case::Case`]: the question,
//! the alert it is about and the watch that raised it. The watch kind's playbook
//! (`Watch::playbook`, in each kind's folder) gathers the first evidence through the same
//! guarded sources the watch reads, and states what it found as hypotheses
//! ([`finding::Finding`]). The offline investigator ([`offline`]) turns that into a
//! [`report::Report`] with deterministic reasoning; the runner ([`runner`]) takes approved
//! requests from the store's queue, at most a configured number at once, beside the
//! evaluation loop, and answers in the chat.

pub mod case;
pub mod conduct;
pub mod evidence;
pub mod finding;
pub(crate) mod model_loop;
pub mod offline;
pub mod playbook;
pub mod provider;
pub mod render;
pub mod report;
pub mod runner;
pub(crate) mod safety;
pub mod telegram;
pub mod toolbox;
