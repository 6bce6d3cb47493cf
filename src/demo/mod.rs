//! `duban demo`: the service as a newcomer first meets it. It sits beside the service, not in
//! it — a client like any other: it imports the plan as the office would, builds the
//! [`Application`](crate::startup::Application) on a simulated clock, and plays a scripted
//! history of three key projects through the HTTP API with tokens for each role. Then it
//! checks that the lights came out green, yellow and red, prints where to look and with which
//! tokens, and serves.
//!
//! ```text
//! story (data) ─▶ acts: the HTTP request of each step ─▶ client ─▶ the service (simulated clock)
//!                                                               ◀─ check: lights read back
//! ```
//!
//! The same story every time: the steps, their dates and every id the story makes are fixed.

mod acts;
mod check;
mod client;
mod clock;
mod data_dir;
mod guide;
mod ids;
mod run;
mod story;

pub use check::{Lights, Lit};
pub use clock::SimulatedClock;
pub use guide::Tokens;
pub use run::{DEFAULT_AT, DEFAULT_DATA_DIR, Demo, DemoArgs, main, settings};
pub use story::{GREEN, RED, YELLOW};
