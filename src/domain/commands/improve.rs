//! 改进 improve: what closes the loop — rectifications reported, verified or rejected,
//! extensions decided, the plan revised, holds placed and lifted, the cycle closed and
//! re-opened. Decided in `decide/improve.rs`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::events::HoldKind;
use crate::domain::text::{Line, Prose};
use crate::domain::values::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportRectification {
    pub rectification_id: RectificationId,
    pub narrative: Prose,
    /// 佐证材料: what backs the report, one reference each.
    pub evidence: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerifyRectification {
    pub rectification_id: RectificationId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectRectification {
    pub rectification_id: RectificationId,
    pub reason: Prose,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecideExtension {
    pub milestone_id: MilestoneId,
    pub approve: bool,
    pub reason: Prose,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevisePlan {
    pub change: PlanChange,
    pub reason: Prose,
}

/// What a plan revision asks for; the value before is filled in by `decide`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PlanChange {
    DueDate {
        milestone_id: MilestoneId,
        to: NaiveDate,
    },
    TargetValue {
        target_id: TargetId,
        to: f64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceHold {
    pub kind: HoldKind,
    pub milestone_id: Option<MilestoneId>,
    pub approver: Line,
    pub reason: Prose,
    pub expires_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiftHold {
    pub kind: HoldKind,
    pub milestone_id: Option<MilestoneId>,
    pub approver: Line,
    pub reason: Prose,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloseCycle {
    pub reason: Prose,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReopenCycle {
    pub instruction: Prose,
}
