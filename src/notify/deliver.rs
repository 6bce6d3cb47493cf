//! Delivery: the outbox's unsent notices, gathered into one digest per department, rendered
//! and handed to the mailer. Each outcome is recorded in the log — `NoticeSent` with the
//! digest's `Message-ID`, or `NoticeFailed` with the attempt number — so the outbox, rebuilt
//! from the log, always knows what was delivered. Nothing is sent in quiet hours or on a day
//! off (it waits); a transient failure is tried again on the back-off schedule until the
//! retry deadline, then becomes a dead letter. A notice is checked against the project as it
//! stands when it is about to go out: held back while its milestone is on hold or under review,
//! withdrawn (recorded as given up) once its due date moved, the milestone was accepted or the
//! cycle closed.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Backoff, Digest, DigestItem, MailContext, Notifier, message_id, render, run_key};
use crate::domain::{
    Command, DepartmentCode, MilestoneStage, NoticeFailed, NoticeKind, NoticeSent, ProjectId,
    local_date,
};
use crate::projection::{OutboxEntry, ProjectRecord, ProjectionError};

/// The projects of the notices being delivered, each read once.
type Records = HashMap<ProjectId, Option<ProjectRecord>>;

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct DeliveryReport {
    /// Mails handed over (one per department digest).
    pub mails_sent: usize,
    /// Notices those mails carried.
    pub notices_sent: usize,
    pub notices_failed: usize,
    /// Notices waiting for the end of quiet hours or a working day.
    pub deferred: usize,
    /// Notices waiting for their next retry.
    pub waiting_retry: usize,
    /// Notices held back since they were decided: their milestone is now on hold or under
    /// review. They go out if it is still open when that ends.
    pub withheld: usize,
    /// Notices that no longer apply since they were decided (the due date moved, the
    /// milestone was accepted, the cycle closed): never sent, listed as given up.
    pub withdrawn: usize,
    /// When delivery should run again, if something waits.
    pub next_attempt: Option<DateTime<Utc>>,
}

/// Whether a decided notice may still go out.
enum Standing {
    Current,
    Withheld,
    Withdrawn(String),
}

impl Notifier {
    pub(super) fn backoff(&self) -> Backoff {
        let r = &self.policies.reminders.retry;
        Backoff {
            base: Duration::from_secs(r.base_seconds),
            max: Duration::from_secs(r.max_seconds),
            deadline: Duration::from_secs(r.deadline_hours * 3600),
        }
    }

    /// When a failed notice may be tried again; `None` once its retry deadline has passed.
    fn retry_at(&self, e: &OutboxEntry) -> Option<DateTime<Utc>> {
        let (Some(first), Some(last)) = (e.first_failed_at, e.last_failed_at) else {
            return Some(e.decided_at);
        };
        let elapsed = (last - first).to_std().unwrap_or_default();
        let jitter = Backoff::jitter(&e.notice.dedup_key, e.failures);
        let delay = self.backoff().retry_after(e.failures, elapsed, jitter)?;
        Some(last + chrono::Duration::from_std(delay).unwrap_or_default())
    }

    /// Whether a decided notice still says what is true at `now`: its milestone still open,
    /// due on the notice's date and not silenced by a hold.
    fn standing(e: &OutboxEntry, record: Option<&ProjectRecord>, now: DateTime<Utc>) -> Standing {
        let Some(record) = record else {
            return Standing::Current;
        };
        let Some(m) = record.state.milestones.get(&e.notice.milestone_id) else {
            return Standing::Current;
        };
        if record.state.closed {
            Standing::Withdrawn("the cycle was closed".into())
        } else if m.stage == MilestoneStage::Accepted {
            Standing::Withdrawn("the milestone was completed".into())
        } else if m.due != e.notice.due_date {
            Standing::Withdrawn(format!("the milestone is now due on {}", m.due))
        } else if m.stage == MilestoneStage::Claimed || record.hold_on(m, local_date(now)).is_some()
        {
            Standing::Withheld
        } else {
            Standing::Current
        }
    }

    /// Delivers what the outbox holds and may go out at `now`.
    pub async fn deliver(&self, now: DateTime<Utc>) -> Result<DeliveryReport, ProjectionError> {
        let mut report = DeliveryReport::default();
        let unsent = self.models.unsent()?;
        if unsent.is_empty() {
            return Ok(report);
        }
        let calendar = &self.policies.calendar;
        if let Some(until) = self
            .policies
            .reminders
            .sending_deferred_until(calendar, now)
        {
            report.deferred = unsent.len();
            report.next_attempt = Some(until);
            return Ok(report);
        }
        // Each project is read once per delivery, however many of its notices wait.
        let mut records: Records = HashMap::new();
        for e in &unsent {
            if let std::collections::hash_map::Entry::Vacant(slot) = records.entry(e.project_id) {
                slot.insert(self.models.project(e.project_id)?);
            }
        }
        let mut groups: BTreeMap<DepartmentCode, Vec<OutboxEntry>> = BTreeMap::new();
        for e in unsent {
            let record = records.get(&e.project_id).and_then(Option::as_ref);
            match Self::standing(&e, record, now) {
                Standing::Current => {}
                Standing::Withheld => {
                    report.withheld += 1;
                    continue;
                }
                Standing::Withdrawn(why) => {
                    self.withdraw(&e, &why, now).await;
                    report.withdrawn += 1;
                    continue;
                }
            }
            match self.retry_at(&e) {
                None => self.give_up(&e, now).await,
                Some(at) if at > now => {
                    report.waiting_retry += 1;
                    report.next_attempt = Some(report.next_attempt.map_or(at, |n| n.min(at)));
                }
                Some(_) => groups
                    .entry(e.notice.department.clone())
                    .or_default()
                    .push(e),
            }
        }
        for (dept, entries) in groups {
            self.send_digest(&dept, &entries, &records, now, &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn send_digest(
        &self,
        dept: &DepartmentCode,
        entries: &[OutboxEntry],
        records: &Records,
        now: DateTime<Utc>,
        report: &mut DeliveryReport,
    ) -> Result<(), ProjectionError> {
        let digest = self.digest(dept, entries, records, now);
        let ctx = MailContext {
            from: self.mail_from.clone(),
            public_url: self.public_url.clone(),
            now,
        };
        let outcome = match render(&digest, &ctx) {
            Ok(message) => self.mailer.send(&message).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                let id = message_id(&digest.run_key, &self.public_url);
                for e in entries {
                    let sent = NoticeSent {
                        dedup_key: e.notice.dedup_key.clone(),
                        message_id: id.clone(),
                    };
                    self.record(e.project_id, Command::RecordNoticeSent(sent), now)
                        .await;
                }
                report.mails_sent += 1;
                report.notices_sent += entries.len();
            }
            Err(err) => {
                tracing::warn!(department = %dept, error = %err, "digest not delivered");
                for e in entries {
                    let failed = NoticeFailed {
                        dedup_key: e.notice.dedup_key.clone(),
                        error: err.to_string(),
                        attempt: e.failures + 1,
                        permanent: err.is_permanent(),
                    };
                    self.record(e.project_id, Command::RecordNoticeFailed(failed), now)
                        .await;
                }
                report.notices_failed += entries.len();
            }
        }
        Ok(())
    }

    async fn withdraw(&self, e: &OutboxEntry, why: &str, now: DateTime<Utc>) {
        let failed = NoticeFailed {
            dedup_key: e.notice.dedup_key.clone(),
            error: format!("withdrawn before delivery: {why}"),
            attempt: e.failures + 1,
            permanent: true,
        };
        self.record(e.project_id, Command::RecordNoticeFailed(failed), now)
            .await;
    }

    async fn give_up(&self, e: &OutboxEntry, now: DateTime<Utc>) {
        let failed = NoticeFailed {
            dedup_key: e.notice.dedup_key.clone(),
            error: format!(
                "given up after {} attempts: the retry deadline passed ({})",
                e.failures,
                e.last_error.as_deref().unwrap_or("no error recorded")
            ),
            attempt: e.failures + 1,
            permanent: true,
        };
        self.record(e.project_id, Command::RecordNoticeFailed(failed), now)
            .await;
    }

    /// One department's notices as a digest: names and titles from the read models, days
    /// counted for today.
    fn digest(
        &self,
        dept: &DepartmentCode,
        entries: &[OutboxEntry],
        records: &Records,
        now: DateTime<Utc>,
    ) -> Digest {
        let day = crate::domain::local_date(now);
        let calendar = &self.policies.calendar;
        let mut items = Vec::new();
        let mut cc: Vec<String> = Vec::new();
        for e in entries {
            let n = &e.notice;
            let record = records.get(&e.project_id).and_then(Option::as_ref);
            let project_name = record.as_ref().map_or("", |r| r.name()).to_string();
            let milestone_title = record
                .as_ref()
                .and_then(|r| r.state.milestones.get(&n.milestone_id))
                .map_or_else(String::new, |m| m.title.clone());
            for r in n.recipients.iter().skip(1) {
                if !cc.contains(r) {
                    cc.push(r.clone());
                }
            }
            items.push(DigestItem {
                dedup_key: n.dedup_key.clone(),
                project_id: e.project_id,
                project_name,
                milestone_id: n.milestone_id,
                milestone_title,
                due_date: n.due_date,
                kind: n.kind,
                working_days_overdue: calendar.working_days_between(n.due_date, day),
                working_days_left: (n.kind == NoticeKind::DueSoon)
                    .then(|| calendar.working_days_between(day, n.due_date)),
                level: n.level,
                repeat: n.repeat,
            });
        }
        let directory = self.policies.departments.get(dept);
        Digest {
            department_code: dept.clone(),
            department_name: directory.map_or_else(|| dept.to_string(), |d| d.name.clone()),
            to: entries
                .first()
                .and_then(|e| e.notice.recipients.first().cloned())
                .into_iter()
                .collect(),
            cc,
            level: items.iter().map(|i| i.level).max().unwrap_or(1),
            run_key: run_key(items.iter().map(|i| &i.dedup_key)),
            items,
        }
    }
}
