//! The read side: what each user looks at, derived from the log.
//!
//! ```text
//! log (durable events, seq order) ──▶ projector ──▶ read models (sled, own position)
//!                                                        │
//!            status for a day (lights, lateness) ◀──────┴──▶ lists, overdue, dashboards
//! ```
//!
//! - [`record`]: what is kept of one project (time-independent).
//! - [`models`]: the read models' storage and the batch fold.
//! - [`projector`]: follows the log; rebuilds.
//! - [`status`]: a project's status for one day — lights, timing, slippage.
//! - [`rendered`]: statuses rendered as JSON, kept until their project changes or the day turns.
//! - [`queries`], [`dashboard`]: lists, overdue, summary, a department's dashboard.
//! - [`history`]: the status as of a past moment, from the log.

pub mod dashboard;
pub mod history;
pub mod models;
pub mod projector;
pub mod queries;
pub mod record;
pub mod rendered;
pub mod status;

pub use models::{Delivery, OpenEntry, OpenMilestone, OutboxEntry, ProjectionError, ReadModels};
pub use projector::{Projector, RebuildReport, rebuild};
pub use record::{LoopStage, ProjectRecord};
pub use status::{Day, ProjectStatus, status};
