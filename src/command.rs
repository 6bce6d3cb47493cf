//! Dispatch: how a command from an authenticated caller becomes durable events.
//!
//! ```text
//! request ─▶ policy (role may issue it? departments known?) ─▶ retry? answer the first result
//!         ─▶ the project's state (as the last command left it, else folded from its stream)
//!         ─▶ may this caller act here?
//!         ─▶ decide ─▶ append (expected version = the version read) ─▶ position
//! ```
//!
//! Commands on one project are decided one at a time (a striped lock per project), so that
//! many callers on the same project queue instead of racing; across projects they run side by
//! side and share the log's group commits. Should another writer still get in between reading
//! and appending, the append's expected version catches it: without `If-Match` the command is
//! decided again on the new state, with `If-Match` the caller hears of it (412).

use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::access::{self, Access};
use crate::domain::{self, Actor, Command, Context, DomainError, Event, ProjectId, ProjectState};
use crate::policy::Policies;
use crate::store::{self, Appended, EventStore, ExpectedVersion, NewEvent, StoreError, StreamId};

mod idempotency;
use idempotency::legacy_command_id;
pub use idempotency::{request_hash, scoped_command_id};

/// The years a command's dates may fall in when the calendar has no files of its own.
const DEFAULT_YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// How often a command is decided again after losing a race to another writer.
const CONFLICT_RETRIES: usize = 8;

/// One command as the service hands it over.
#[derive(Clone, Debug)]
pub struct CommandRequest {
    pub project: ProjectId,
    pub command: Command,
    pub actor: Actor,
    pub now: DateTime<Utc>,
    /// From `Idempotency-Key`: the same key again returns the first answer.
    pub idempotency_key: Option<String>,
    /// From `If-Match`: the project version the caller last saw.
    pub if_match: Option<u64>,
    pub correlation_id: Option<Uuid>,
}

/// Where a command's events landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CommandOutcome {
    pub project_id: ProjectId,
    /// The project's version after the command (its ETag).
    pub version: u64,
    /// The global position of the last event: queries with `min_position` at or past it
    /// show this write.
    pub position: u64,
    /// True when this is the replayed answer to an earlier request with the same key.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("role {role} may not {command}")]
    RoleMayNot { role: String, command: &'static str },
    #[error("this project is not visible to the caller")]
    NotYourProject,
    #[error("no such project")]
    NoSuchProject,
    #[error("unknown department {0}")]
    UnknownDepartment(String),
    #[error("the project is at version {current}, not {expected}")]
    VersionMismatch { expected: u64, current: u64 },
    #[error("{date} is outside the working calendar, which covers {first} to {last}")]
    DateOutsideCalendar {
        date: chrono::NaiveDate,
        first: i32,
        last: i32,
    },
    #[error("the idempotency key was already used for another request")]
    KeyReused,
    #[error("too much contention on this project; try again")]
    Contention,
    #[error(transparent)]
    Rule(#[from] DomainError),
    #[error("stored event unreadable: {0}")]
    Undecodable(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for DispatchError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::CommandIdReused { .. } => DispatchError::KeyReused,
            other => DispatchError::Store(other),
        }
    }
}

pub fn stream_of(project: ProjectId) -> StreamId {
    StreamId::new(project.to_string()).expect("a uuid is a valid stream id")
}

/// A project's state and version, folded from its whole stream (no cache).
pub async fn load<S: EventStore>(
    store: &S,
    project: ProjectId,
) -> Result<(ProjectState, u64), DispatchError> {
    let events = store.read_stream(&stream_of(project), 1).await?;
    fold(ProjectState::default(), 0, &events)
}

/// Folds stored events into a state, reading each at its schema version.
fn fold(
    mut state: ProjectState,
    mut version: u64,
    events: &[store::RecordedEvent],
) -> Result<(ProjectState, u64), DispatchError> {
    for recorded in events {
        let e = &recorded.envelope;
        let event = domain::decode_str(&e.event_type, e.schema_version, e.payload.as_str())
            .map_err(|why| DispatchError::Undecodable(format!("seq {}: {why}", e.seq)))?;
        state = domain::evolve(state, &event);
        version = e.version;
    }
    Ok((state, version))
}

/// The role of the service's own notifier: it records notices on every project.
pub const NOTIFIER_ROLE: &str = "notifier";

/// Whether the caller may see (and act on) this project: [`crate::access`] decides.
pub fn may_see(policies: &Policies, actor: &Actor, state: &ProjectState) -> bool {
    access::of_state(policies, actor, state) == Access::Visible
}

/// How many locks the projects are spread over: enough that commands on different projects
/// seldom wait for each other's group commit (64 at once over 256 stripes collided a quarter
/// of the time).
const LOCK_STRIPES: usize = 4096;
/// How many projects' folded states are kept; past it the cache starts afresh.
const STATE_CACHE: usize = 20_000;

type StateCache = std::sync::Mutex<std::collections::HashMap<ProjectId, Arc<(ProjectState, u64)>>>;

#[derive(Clone)]
pub struct Dispatcher<S> {
    pub store: S,
    pub policies: Arc<Policies>,
    locks: Arc<Vec<tokio::sync::Mutex<()>>>,
    /// Each project's state as last folded, with its version: a command or a read folds only
    /// the events appended since. Derived from the durable log, so it is never wrong, at
    /// worst behind, and it is brought up to date before every use.
    states: Arc<StateCache>,
}

impl<S: EventStore> Dispatcher<S> {
    pub fn new(store: S, policies: Arc<Policies>) -> Self {
        let locks = (0..LOCK_STRIPES)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        Self {
            store,
            policies,
            locks: Arc::new(locks),
            states: Default::default(),
        }
    }

    /// A project's current state and version: the cached fold plus whatever was appended since.
    pub async fn current(&self, project: ProjectId) -> Result<(ProjectState, u64), DispatchError> {
        let cached = self.states.lock().unwrap().get(&project).cloned();
        let (state, version) = match &cached {
            Some(c) => (c.0.clone(), c.1),
            None => (ProjectState::default(), 0),
        };
        let newer = self
            .store
            .read_stream(&stream_of(project), version + 1)
            .await?;
        let (state, version) = fold(state, version, &newer)?;
        if !newer.is_empty() && state.is_registered() {
            self.remember(project, state.clone(), version);
        }
        Ok((state, version))
    }

    /// The state a command is decided on: the cached state as this dispatcher last left it,
    /// without reading the log, or folded from the log when not cached. Every append to a
    /// project goes through here and updates the cache under the project's lock; should the
    /// log have moved on anyway, the append's expected version refuses it and the command is
    /// decided again on a fresh fold ([`Dispatcher::dispatch`]).
    async fn state_for_command(
        &self,
        project: ProjectId,
    ) -> Result<(ProjectState, u64), DispatchError> {
        let cached = self.states.lock().unwrap().get(&project).cloned();
        match cached {
            Some(c) => Ok((c.0.clone(), c.1)),
            None => self.current(project).await,
        }
    }

    /// Keeps the state a command's events led to.
    fn remember(&self, project: ProjectId, state: ProjectState, version: u64) {
        let mut states = self.states.lock().unwrap();
        if states.len() >= STATE_CACHE {
            states.clear();
        }
        if states.get(&project).is_none_or(|c| c.1 < version) {
            states.insert(project, Arc::new((state, version)));
        }
    }

    fn forget(&self, project: ProjectId) {
        self.states.lock().unwrap().remove(&project);
    }

    fn lock_of(&self, project: ProjectId) -> &tokio::sync::Mutex<()> {
        let stripe = (project.0.as_u128() % LOCK_STRIPES as u128) as usize;
        &self.locks[stripe]
    }

    pub async fn dispatch(&self, req: CommandRequest) -> Result<CommandOutcome, DispatchError> {
        let name = req.command.name();
        // Clock facts come from the notifier inside the service, never from a token: the role
        // is not one a token can carry (see `KNOWN_ROLES`).
        let allowed = if req.command.is_clock_fact() {
            req.actor.role == NOTIFIER_ROLE
        } else {
            self.policies.roles.may_issue(&req.actor.role, name)
        };
        if !allowed {
            return Err(DispatchError::RoleMayNot {
                role: req.actor.role.clone(),
                command: name,
            });
        }
        if let Some(d) = req
            .command
            .named_departments()
            .into_iter()
            .find(|d| self.policies.departments.get(d).is_none())
        {
            return Err(DispatchError::UnknownDepartment(d.to_string()));
        }
        self.check_dates(&req.command)?;
        let command_id = match &req.idempotency_key {
            Some(key) => scoped_command_id(&req.actor, key),
            None => Uuid::now_v7().to_string(),
        };
        let _turn = self.lock_of(req.project).lock().await;
        // A fresh id cannot have been used: only a caller's key can come back.
        if let Some(key) = &req.idempotency_key
            && let Some(first) = self.first_answer(&command_id, &req.actor, key).await?
        {
            return self.replay(&req, first).await;
        }
        for _ in 0..CONFLICT_RETRIES {
            match self.attempt(&req, &command_id).await {
                Err(DispatchError::Store(StoreError::WrongExpectedVersion { current, .. })) => {
                    if let Some(expected) = req.if_match {
                        return Err(DispatchError::VersionMismatch { expected, current });
                    }
                }
                other => return other,
            }
        }
        Err(DispatchError::Contention)
    }

    /// Every date a command names lies inside the working calendar's years: outside them no
    /// working day can be counted, so a due date there could never be reminded of or scored.
    fn check_dates(&self, command: &Command) -> Result<(), DispatchError> {
        let years = self.policies.calendar.years();
        let known = if years.is_empty() {
            DEFAULT_YEARS
        } else {
            years
        };
        match command
            .named_dates()
            .into_iter()
            .find(|d| !known.contains(&d.year()))
        {
            Some(date) => Err(DispatchError::DateOutsideCalendar {
                date,
                first: *known.start(),
                last: *known.end(),
            }),
            None => Ok(()),
        }
    }

    /// The first append under this key, by its id or by the id keys had before.
    async fn first_answer(
        &self,
        command_id: &str,
        actor: &Actor,
        key: &str,
    ) -> Result<Option<Appended>, DispatchError> {
        if let Some(first) = self.store.find_command(command_id).await? {
            return Ok(Some(first));
        }
        Ok(self
            .store
            .find_command(&legacy_command_id(actor, key))
            .await?)
    }

    /// The first answer to a key, if this request is the one it was given for: the same
    /// project and (where the log kept it) the same request.
    async fn replay(
        &self,
        req: &CommandRequest,
        first: Appended,
    ) -> Result<CommandOutcome, DispatchError> {
        if first.stream != stream_of(req.project) {
            return Err(DispatchError::KeyReused);
        }
        let recorded = self.store.read_all(first.first_seq, 1).await?;
        let kept = recorded.first().and_then(|e| e.envelope.request_hash);
        if kept.is_some_and(|h| h != request_hash(req)) {
            return Err(DispatchError::KeyReused);
        }
        Ok(CommandOutcome {
            project_id: req.project,
            version: first.last_version,
            position: first.last_seq,
            replayed: true,
        })
    }

    async fn attempt(
        &self,
        req: &CommandRequest,
        command_id: &str,
    ) -> Result<CommandOutcome, DispatchError> {
        let (mut state, mut version) = self.state_for_command(req.project).await?;
        if req.if_match.is_some_and(|expected| expected != version) {
            // A refusal names the log's version, not the cache's.
            self.forget(req.project);
            (state, version) = self.current(req.project).await?;
        }
        let registering = matches!(req.command, Command::RegisterProject { .. });
        match access::of_state(&self.policies, &req.actor, &state) {
            Access::Visible => {}
            _ if registering && !state.is_registered() => {}
            // A department must not learn whether someone else's project exists.
            Access::Hidden => return Err(DispatchError::NotYourProject),
            Access::Missing => return Err(DispatchError::NoSuchProject),
        }
        if let Some(expected) = req.if_match
            && expected != version
        {
            return Err(DispatchError::VersionMismatch {
                expected,
                current: version,
            });
        }
        let ctx = Context {
            actor: req.actor.clone(),
            now: req.now,
        };
        let events = domain::decide(&state, req.command.clone(), &ctx)?;
        let appended = match self
            .store
            .append(store::AppendRequest {
                stream: stream_of(req.project),
                expected: ExpectedVersion::Exact(version),
                events: events.iter().map(to_new_event).collect(),
                command_id: command_id.to_string(),
                // Only a caller's key can come back; a fresh id needs no record.
                idempotent: req.idempotency_key.is_some(),
                correlation_id: req.correlation_id,
                request_hash: req.idempotency_key.as_ref().map(|_| request_hash(req)),
                actor: store::Actor {
                    sub: req.actor.sub.clone(),
                    role: req.actor.role.clone(),
                    dept: req.actor.dept.as_ref().map(|d| d.to_string()),
                },
            })
            .await
        {
            Ok(appended) => appended,
            Err(e) => {
                // Whatever the log holds now, the cache may not know it.
                self.forget(req.project);
                return Err(e.into());
            }
        };
        if appended.deduplicated {
            self.forget(req.project);
        } else {
            let next = events.iter().fold(state, domain::evolve);
            self.remember(req.project, next, appended.last_version);
        }
        Ok(CommandOutcome {
            project_id: req.project,
            version: appended.last_version,
            position: appended.last_seq,
            replayed: appended.deduplicated,
        })
    }
}

pub fn to_new_event(event: &Event) -> NewEvent {
    NewEvent {
        event_type: event.event_type().to_string(),
        schema_version: event.schema_version(),
        payload: store::Payload::new(&event.payload()).expect("events serialise"),
    }
}
