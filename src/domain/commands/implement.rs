//! 落实 implement: what a department asks for while it carries a project out — return an
//! assignment that is not its own, report progress, claim a milestone complete, ask for more
//! time. (Signing for an assignment carries nothing: `Command::SignAssignment`.) Decided in
//! `decide/implement.rs`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::events::IndicatorActual;
use crate::domain::text::{Line, Prose};
use crate::domain::values::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnAssignment {
    pub reason: Prose,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportProgress {
    pub milestone_id: MilestoneId,
    pub percent: Percent,
    pub narrative: Prose,
    pub actuals: Vec<IndicatorActual>,
    /// 佐证材料: what backs the report, one reference each.
    pub evidence: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimCompletion {
    pub milestone_id: MilestoneId,
    pub narrative: Prose,
    /// 佐证材料: what backs the report, one reference each.
    pub evidence: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestExtension {
    pub milestone_id: MilestoneId,
    pub new_due_date: NaiveDate,
    pub reason: Prose,
}
