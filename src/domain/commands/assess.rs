//! 考核 assess: what the office records when it scores a project — an assessment by rubric
//! and a confidence rating. Decided in `decide/assess.rs`.

use serde::{Deserialize, Serialize};

use crate::domain::events::ScoreItem;
use crate::domain::text::{Line, Note};
use crate::domain::values::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordAssessment {
    pub period: Line,
    pub rubric_version: Line,
    pub breakdown: Vec<ScoreItem>,
    pub grade: Line,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateConfidence {
    pub rating: Confidence,
    pub assessor: Line,
    pub comment: Note,
}
