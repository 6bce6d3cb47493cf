//! The given / when / then kit for the domain: `given(events).when(command, ctx)` then
//! `.then_events(..)` or `.then_error(..)`. Every event a test produces is also validated
//! against its JSON Schema in the event catalogue (`events/`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};
use duban::domain::*;
use uuid::Uuid;

pub const LEAD: &str = "SXEIC";
pub const SUPPORT: &str = "SXDRC";
pub const OUTSIDER: &str = "SXSTD";

pub fn dept(code: &str) -> DepartmentCode {
    DepartmentCode::new(code).unwrap()
}

pub fn project_id() -> ProjectId {
    ProjectId(Uuid::from_u128(1))
}
pub fn m1() -> MilestoneId {
    MilestoneId(Uuid::from_u128(11))
}
pub fn m2() -> MilestoneId {
    MilestoneId(Uuid::from_u128(12))
}
pub fn t1() -> TargetId {
    TargetId(Uuid::from_u128(21))
}
pub fn f1() -> FindingId {
    FindingId(Uuid::from_u128(31))
}
pub fn r1() -> RectificationId {
    RectificationId(Uuid::from_u128(41))
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// An instant given with its offset, e.g. `2018-06-30T23:30:00+08:00`.
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ctx(sub: &str, role: &str, dept_code: Option<&str>, now: &str) -> Context {
    Context {
        actor: Actor {
            sub: sub.into(),
            role: role.into(),
            dept: dept_code.map(dept),
        },
        now: at(now),
    }
}

/// Mid-June 2018, Beijing time: the default "now" of the tests.
pub const NOW: &str = "2018-06-15T10:00:00+08:00";

pub fn office() -> Context {
    ctx("wang.office", "office", None, NOW)
}
pub fn inspector() -> Context {
    ctx("li.inspector", "inspector", None, NOW)
}
pub fn department(code: &str) -> Context {
    ctx(&format!("clerk.{code}"), "department", Some(code), NOW)
}
pub fn inspector_at(now: &str) -> Context {
    ctx("li.inspector", "inspector", None, now)
}
pub fn department_at(code: &str, now: &str) -> Context {
    ctx(&format!("clerk.{code}"), "department", Some(code), now)
}

// ── the project as it stands after its planning ───────────────────────────

pub fn registered() -> Event {
    Event::ProjectRegistered(ProjectRegistered {
        project_id: project_id(),
        name: "太原轨道交通装备制造基地".into(),
        industry: Industry::HighEndEquipment,
        city: City::Taiyuan,
        lead_department: dept(LEAD),
        supporting_departments: vec![dept(SUPPORT)],
        description: "年销售收入500亿元".into(),
        source_section: "四、(一) 高端装备制造业".into(),
    })
}

/// Milestone 1, due 2018-06-30, a joint item of the lead and the supporting department.
pub fn scheduled() -> Event {
    Event::MilestoneScheduled(MilestoneScheduled {
        milestone_id: m1(),
        title: "整车组装线投产".into(),
        due_date: date("2018-06-30"),
        responsible_departments: vec![dept(LEAD), dept(SUPPORT)],
    })
}

pub fn target_set() -> Event {
    Event::TargetSet(TargetSet {
        target_id: t1(),
        indicator: "年销售收入".into(),
        unit: "亿元".into(),
        target_value: 500.0,
        year: 2020,
    })
}

pub fn signed(code: &str) -> Event {
    Event::AssignmentSigned(AssignmentSigned {
        department: dept(code),
    })
}

/// Registered, one milestone and one target, both departments signed for.
pub fn planned() -> Vec<Event> {
    vec![
        registered(),
        scheduled(),
        target_set(),
        signed(LEAD),
        signed(SUPPORT),
    ]
}

pub fn claimed(now: &str) -> Event {
    Event::CompletionClaimed(CompletionClaimed {
        milestone_id: m1(),
        department: dept(LEAD),
        claimed_at: at(now),
        narrative: "投产".into(),
        evidence: vec![],
    })
}

pub fn with(mut events: Vec<Event>, more: impl IntoIterator<Item = Event>) -> Vec<Event> {
    events.extend(more);
    events
}

// ── given / when / then ───────────────────────────────────────────────────

pub struct Given {
    pub state: ProjectState,
}

pub fn given(events: Vec<Event>) -> Given {
    let state = events.iter().fold(ProjectState::default(), evolve);
    Given { state }
}

pub fn nothing() -> Given {
    given(vec![])
}

impl Given {
    pub fn when(&self, command: Command, ctx: Context) -> Then {
        let outcome = decide(&self.state, command, &ctx);
        if let Ok(events) = &outcome {
            events.iter().for_each(validate);
        }
        Then {
            outcome,
            state: self.state.clone(),
        }
    }
}

pub struct Then {
    pub outcome: Result<Vec<Event>, DomainError>,
    state: ProjectState,
}

impl Then {
    #[track_caller]
    pub fn then_events(self, expected: Vec<Event>) -> ProjectState {
        assert_eq!(self.outcome, Ok(expected.clone()));
        expected.iter().fold(self.state, evolve)
    }

    /// The events decided, whatever they are (for tests that look at the resulting state).
    #[track_caller]
    pub fn then_ok(self) -> ProjectState {
        let events = self.outcome.expect("the command succeeds");
        events.iter().fold(self.state, evolve)
    }

    #[track_caller]
    pub fn then_error(self, expected: DomainError) {
        assert_eq!(self.outcome, Err(expected));
    }
}

// ── the catalogue ─────────────────────────────────────────────────────────

pub fn catalogue_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

pub fn schema_path(event_type: &str, version: u32) -> PathBuf {
    catalogue_dir()
        .join(event_type)
        .join(format!("v{version}.schema.json"))
}

pub fn example_path(event_type: &str, version: u32) -> PathBuf {
    catalogue_dir()
        .join(event_type)
        .join(format!("v{version}.example.json"))
}

type Validators = Mutex<HashMap<(String, u32), std::sync::Arc<jsonschema::Validator>>>;

/// The validator for a catalogue schema file, compiled once.
pub fn validator(event_type: &str, version: u32) -> std::sync::Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (event_type.to_string(), version);
    if let Some(v) = cache.lock().unwrap().get(&key) {
        return v.clone();
    }
    let path = schema_path(event_type, version);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no schema for {event_type} v{version} at {}: {e}",
            path.display()
        )
    });
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let compiled = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let compiled = std::sync::Arc::new(compiled);
    cache.lock().unwrap().insert(key, compiled.clone());
    compiled
}

/// Checks an event against the schema of its type and version in the catalogue.
#[track_caller]
pub fn validate(event: &Event) {
    let payload = event.payload();
    let v = validator(event.event_type(), event.schema_version());
    let errors: Vec<String> = v.iter_errors(&payload).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{} does not match its schema: {errors:?}\n{payload}",
        event.event_type()
    );
}

/// The text type refuses blank text, so a blank field never reaches `decide`.
pub fn refuses_blank<T>()
where
    T: TryFrom<String, Error = TextError> + std::fmt::Debug,
{
    for blank in ["", " ", "\n\t", "\u{3000}"] {
        let refused = T::try_from(blank.to_string());
        assert_eq!(refused.unwrap_err(), TextError::Blank, "{blank:?}");
    }
}
