//! The notifier: one more reader of the log. A run detects the notices due today, records
//! each as a `NoticeDue` event on its project (the outbox entry; the dedup key is also the
//! command's idempotency key, so two runs cannot decide it twice), waits for the read models
//! to show them, and delivers the outbox.
//!
//! In the background it runs when the log changes and otherwise sleeps until the next moment
//! something can fall due — local midnight, the end of quiet hours, a retry — or until woken.
//! `POST /api/v1/admin/scan` and `duban scan` run it once on demand. A rebuild of the read
//! models never sends anything: only a run sends, and it sends only what the log says is not
//! sent yet.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, TimeZone, Utc};
use serde::Serialize;
use tokio::sync::Notify;

use super::Mailer;
use super::deliver::DeliveryReport;
use super::detect::detect;
use crate::command::{CommandRequest, Dispatcher, NOTIFIER_ROLE};
use crate::domain::{Actor, Command, DomainError, PLAN_TZ, ProjectId, local_date};
use crate::policy::Policies;
use crate::projection::{ProjectionError, ReadModels};
use crate::store::{Clock, SledStore};

/// How long a run waits for the read models to show what it recorded.
const CATCH_UP: Duration = Duration::from_secs(10);
/// How many notices a run records at once.
const RECORD_CONCURRENCY: usize = 64;
/// The longest the background loop sleeps without looking.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    /// The day (Asia/Shanghai) the run was for.
    pub day: String,
    /// Notices decided (recorded as `NoticeDue`) by this run.
    pub decided: usize,
    pub delivery: DeliveryReport,
    /// The log's head once the run is over: a read with this `min_position` shows what the
    /// run recorded (notices decided, sent, failed).
    pub position: u64,
}

/// Everything a run needs. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    pub(super) dispatcher: Dispatcher<SledStore>,
    pub(super) models: Arc<ReadModels>,
    pub(super) policies: Arc<Policies>,
    pub(super) mailer: Mailer,
    pub(super) mail_from: String,
    pub(super) public_url: String,
    clock: Clock,
    wake: Arc<Notify>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Notifier {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dispatcher: Dispatcher<SledStore>,
        models: Arc<ReadModels>,
        policies: Arc<Policies>,
        mailer: Mailer,
        mail_from: String,
        public_url: String,
        clock: Clock,
    ) -> Self {
        Self {
            dispatcher,
            models,
            policies,
            mailer,
            mail_from,
            public_url,
            clock,
            wake: Arc::new(Notify::new()),
            turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    fn actor() -> Actor {
        Actor {
            sub: "duban-notifier".into(),
            role: NOTIFIER_ROLE.into(),
            dept: None,
        }
    }

    /// Records a clock fact on a project; returns the position it landed at. A fact another
    /// run recorded first, or one a hold now forbids, is not an error of this run.
    pub(super) async fn record(
        &self,
        project: ProjectId,
        command: Command,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let key = match &command {
            Command::RecordNoticeDue(n) => Some(format!("due:{}", n.dedup_key)),
            Command::RecordNoticeSent(n) => Some(format!("sent:{}", n.dedup_key)),
            Command::RecordNoticeFailed(n) => Some(format!("failed:{}:{}", n.dedup_key, n.attempt)),
            _ => None,
        };
        let request = CommandRequest {
            project,
            command,
            actor: Self::actor(),
            now,
            idempotency_key: key,
            if_match: None,
            correlation_id: None,
        };
        match self.dispatcher.dispatch(request).await {
            Ok(outcome) => Some(outcome.position),
            Err(crate::command::DispatchError::Rule(
                DomainError::NoticeAlreadyRecorded(_) | DomainError::OnHold(_),
            )) => None,
            Err(e) => {
                tracing::error!(%project, error = %e, "notifier: recording failed");
                None
            }
        }
    }

    /// One run: detect, record, deliver. Runs never overlap.
    pub async fn run_once(&self) -> Result<RunReport, ProjectionError> {
        let _turn = self.turn.lock().await;
        let now = (self.clock)();
        let day = local_date(now);
        // Decide on what the log holds now, not on a stale view of it.
        let head = crate::store::EventStore::head(&self.dispatcher.store).seq;
        self.models.wait_for(head, CATCH_UP).await;
        let due = detect(&self.models, &self.policies, day)?;
        let (decided, reached) = self.record_all(due, now).await;
        if !self.models.wait_for(reached, CATCH_UP).await {
            tracing::warn!(
                reached,
                "notifier: the read models lag; delivering what they show"
            );
        }
        let delivery = self.deliver(now).await?;
        if decided + delivery.notices_sent + delivery.notices_failed > 0 {
            tracing::info!(%day, decided, sent = delivery.notices_sent, failed = delivery.notices_failed,
                mails = delivery.mails_sent, deferred = delivery.deferred, "notifier run");
        }
        Ok(RunReport {
            day: day.to_string(),
            decided,
            delivery,
            position: crate::store::EventStore::head(&self.dispatcher.store).seq,
        })
    }

    /// Records the notices side by side, so that they share the log's group commits; returns
    /// how many were recorded and the highest position reached.
    async fn record_all(&self, due: Vec<super::detect::Due>, now: DateTime<Utc>) -> (usize, u64) {
        let mut tasks = tokio::task::JoinSet::new();
        let (mut decided, mut reached) = (0, 0);
        for d in due {
            if tasks.len() >= RECORD_CONCURRENCY
                && let Some(Ok(Some(at))) = tasks.join_next().await
            {
                decided += 1;
                reached = reached.max(at);
            }
            let me = self.clone();
            tasks.spawn(async move {
                me.record(d.project_id, Command::RecordNoticeDue(d.notice), now)
                    .await
            });
        }
        while let Some(done) = tasks.join_next().await {
            if let Ok(Some(at)) = done {
                decided += 1;
                reached = reached.max(at);
            }
        }
        (decided, reached)
    }

    /// Asks the background loop to run now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs in the background until the read models stop (the log closed).
    pub fn spawn(self) {
        tokio::spawn(async move { self.background().await });
    }

    async fn background(self) {
        let mut position = self.models.watch_position();
        while !self.models.is_stopped() {
            let next = match self.run_once().await {
                Ok(report) => report.delivery.next_attempt,
                Err(e) => {
                    tracing::error!(error = %e, "notifier run failed");
                    None
                }
            };
            let sleep = self.until_next(next);
            position.borrow_and_update();
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                changed = position.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    // Let a burst of appends settle into one run.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// How long to sleep: until the next local midnight (a new day brings new steps) or the
    /// next delivery attempt, whichever is first, and never more than an hour.
    fn until_next(&self, next_attempt: Option<DateTime<Utc>>) -> Duration {
        let now = (self.clock)();
        let tomorrow = local_date(now) + Days::new(1);
        let midnight = PLAN_TZ
            .from_local_datetime(&tomorrow.and_hms_opt(0, 0, 1).expect("a valid time"))
            .earliest()
            .map_or(now, |t| t.with_timezone(&Utc));
        let at = next_attempt.map_or(midnight, |n| n.min(midnight));
        (at - now)
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_secs(1), MAX_SLEEP)
    }
}
