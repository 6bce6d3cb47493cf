//! The supervision loop of one key project — 规划 plan → 落实 implement → 督查 inspect →
//! 考核 assess → 改进 improve — as pure Rust: no actix, no sled, no clock reads, no I/O.
//!
//! ```text
//! command + context ─▶ decide(state) ─▶ events ─▶ (store appends) ─▶ evolve(state, event) ─▶ state
//! ```
//!
//! `decide` holds every rule that depends on the project's state; `evolve` only folds.
//! Which role may issue which command is policy, enforced by the service.

mod commands;
mod decide;
mod error;
mod events;
mod state;
mod text;
mod upcast;
mod values;

pub use commands::*;
pub use decide::decide;
pub use error::{DomainError, RuleKind};
pub use events::*;
pub use state::*;
pub use text::*;
pub use upcast::{LEGACY, ProgressReportedV1, decode, decode_str, legacy_schema_of, upcast};
pub use values::*;
