//! Detection: which notices are due on a day. A range over the read models' due-date index —
//! milestones due up to the pre-due horizon, nothing later — checked against the reminder
//! policy, the calendar, holds in force, and the outbox (a notice already decided is never
//! decided again). Pure reading: what it finds is recorded by the notifier as `NoticeDue`.

use chrono::NaiveDate;

use crate::domain::{NoticeDue, NoticeKind, ProjectId};
use crate::policy::{Policies, Step};
use crate::projection::{ProjectionError, ReadModels};

/// A notice to decide, on the project whose stream will record it.
#[derive(Clone, Debug, PartialEq)]
pub struct Due {
    pub project_id: ProjectId,
    pub notice: NoticeDue,
}

fn kind_name(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::DueSoon => "due_soon",
        NoticeKind::Overdue => "overdue",
    }
}

/// The notices due on `day` and not yet decided, earliest due date first.
pub fn detect(
    models: &ReadModels,
    policies: &Policies,
    day: NaiveDate,
) -> Result<Vec<Due>, ProjectionError> {
    let calendar = &policies.calendar;
    let reminders = &policies.reminders;
    let horizon = calendar.add_working_days(day, reminders.due_soon_working_days);
    let mut out = Vec::new();
    for row in models.open_due(None, Some(horizon)) {
        let row = row?;
        if row.entry.held_on(day) {
            continue;
        }
        let (kind, step) = if day > row.due {
            let late = calendar.working_days_between(row.due, day);
            match reminders.overdue_step(late) {
                Some(step) => (NoticeKind::Overdue, step),
                None => continue,
            }
        } else if reminders.due_soon(calendar, day, row.due) {
            (
                NoticeKind::DueSoon,
                Step {
                    level: 1,
                    repeat: 0,
                },
            )
        } else {
            continue;
        };
        for dept in &row.entry.responsible {
            let Some(d) = policies.departments.get(dept) else {
                tracing::warn!(%dept, "responsible department not in the directory; no notice");
                continue;
            };
            let dedup_key = format!(
                "{}/{dept}/{}/{}/L{}/R{}",
                row.milestone_id,
                row.due,
                kind_name(kind),
                step.level,
                step.repeat
            );
            if models.notice(&dedup_key)?.is_some() {
                continue;
            }
            let notice = NoticeDue {
                recipients: reminders.recipients(step.level, &d.email, &d.leader_email),
                dedup_key,
                milestone_id: row.milestone_id,
                department: dept.clone(),
                due_date: row.due,
                kind,
                level: step.level,
                repeat: step.repeat,
            };
            out.push(Due {
                project_id: row.project_id,
                notice,
            });
        }
    }
    Ok(out)
}
