//! The rules of 考核 assess: the office records an assessment by rubric and rates its
//! confidence in a project. Reached from [`super::decide`].

use super::*;

impl Decide for RecordAssessment {
    fn decide(self, _state: &ProjectState, ctx: &Context) -> Decided {
        let RecordAssessment {
            period,
            rubric_version,
            breakdown,
            grade,
        } = self;
        if breakdown.is_empty() {
            return Err(DomainError::EmptyScoreBreakdown);
        }
        breakdown
            .iter()
            .try_for_each(|i| check_within(i.points, MAX_ITEM_POINTS))?;
        let score: f64 = breakdown.iter().map(|i| i.points).sum();
        check_finite(score)?;
        let e = AssessmentRecorded {
            period: period.into(),
            rubric_version: rubric_version.into(),
            breakdown,
            score,
            grade: grade.into(),
            confirmed_by: ctx.actor.sub.clone(),
        };
        Ok(vec![Event::AssessmentRecorded(e)])
    }
}

impl Decide for RateConfidence {
    fn decide(self, _state: &ProjectState, _ctx: &Context) -> Decided {
        let RateConfidence {
            rating,
            assessor,
            comment,
        } = self;
        Ok(vec![Event::ConfidenceRated(ConfidenceRated {
            rating,
            assessor: assessor.into(),
            comment: comment.into(),
        })])
    }
}
