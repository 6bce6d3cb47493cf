//! The rules of the clock's facts, recorded by the notifier: a notice decided due, sent, or
//! failed. Reached from [`super::decide`], also on a closed cycle.

use super::*;

impl Decide for NoticeDue {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let m = open_milestone(state, self.milestone_id)?;
        check_not_held(state, m, ctx)?;
        if state.notices_due.contains(&self.dedup_key) {
            return Err(DomainError::NoticeAlreadyRecorded(self.dedup_key));
        }
        Ok(vec![Event::NoticeDue(self)])
    }
}

impl Decide for NoticeSent {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        awaiting_delivery(state, &self.dedup_key)?;
        Ok(vec![Event::NoticeSent(self)])
    }
}

impl Decide for NoticeFailed {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        awaiting_delivery(state, &self.dedup_key)?;
        Ok(vec![Event::NoticeFailed(self)])
    }
}

/// A notice can be sent or fail only once decided due, and not after it was sent.
fn awaiting_delivery(state: &ProjectState, key: &str) -> Result<(), DomainError> {
    if !state.notices_due.contains(key) {
        return Err(DomainError::UnknownNotice(key.to_string()));
    }
    if state.notices_sent.contains(key) {
        return Err(DomainError::NoticeAlreadyRecorded(key.to_string()));
    }
    Ok(())
}
