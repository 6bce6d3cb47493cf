//! 督查 inspect: what an inspector asks for — accept or return a completion claim, record an
//! inspection and its findings, order a finding rectified. Decided in `decide/inspect.rs`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::text::Prose;
use crate::domain::values::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcceptCompletion {
    pub milestone_id: MilestoneId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnCompletion {
    pub milestone_id: MilestoneId,
    pub reason: Prose,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordInspection {
    pub inspected_on: NaiveDate,
    pub on_site: bool,
    pub summary: Prose,
    pub findings: Vec<NewFinding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRectification {
    pub rectification_id: RectificationId,
    pub finding_id: FindingId,
    pub department: DepartmentCode,
    pub deadline: NaiveDate,
    pub instructions: Prose,
}

/// A finding as an inspection reports it; recorded as an [`crate::domain::Finding`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewFinding {
    pub finding_id: FindingId,
    pub severity: Severity,
    pub description: Prose,
    #[serde(default)]
    pub milestone_id: Option<MilestoneId>,
}
