//! duban (督办): supervision of a five-year plan's key projects through one closed loop,
//! 规划 plan → 落实 implement → 督查 inspect → 考核 assess → 改进 improve.
//!
//! Every step is an immutable, hash-chained event in an append-only log; everything users see
//! is derived from it.
//!
//! ```text
//! http ──▶ command ──▶ domain decides events ──▶ store appends (durable) ──▶ projections ──▶ queries
//! ```
//!
//! - [`config`]: settings — defaults < `duban.toml` < `DUBAN_*`.
//! - [`startup`]: builds the application, binds, serves, shuts down; [`connections`]: how
//!   many connections it holds at once.
//! - [`http`]: the actix-web API — auth, commands, queries, problem+json, OpenAPI, metrics.
//! - [`access`]: the one access rule — who may see (and act on) which project.
//! - [`command`]: dispatch — policy, load state, decide, append with the expected version.
//! - [`domain`]: the loop as commands, events and rules — `decide` and `evolve`, pure.
//! - [`policy`]: roles, the department directory, lights and calendar, from `policies/`.
//! - [`projection`]: the read side — read models fed from the log, statuses, lists, dashboards.
//! - [`plan`]: the five-year plan as data (`plans/*.toml`), validated, and imported as the
//!   office's commands (`duban import`).
//! - [`notify`]: reminders by e-mail — detection, the outbox, digests in Chinese, SMTP or `.eml`.
//! - [`store`]: the event log on sled — envelopes, group commit, reads, subscriptions, chain
//!   verification.
//! - [`rfc3339`]: reading stored times fast.
//! - [`cli`]: the `duban` command line.
//! - [`demo`]: `duban demo` — the plan imported and a scripted history played through the
//!   API on a simulated clock, then served.
#![forbid(unsafe_code)]

pub mod access;
pub mod cli;
pub mod command;
pub mod config;
pub mod connections;
pub mod demo;
pub mod domain;
pub mod http;
pub mod notify;
pub mod plan;
pub mod policy;
pub mod projection;
pub mod rfc3339;
pub mod startup;
pub mod store;
