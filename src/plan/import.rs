//! The import: a validated plan becomes the commands the office would issue — register each
//! project (with its lead and supporting departments), schedule its milestones, set its
//! targets — dispatched one by one like any other command, policy checks included.
//!
//! Ids are derived from the plan's key and the items' keys, and each command carries an
//! idempotency key derived from its id, so importing the same file again appends nothing, and
//! an import that stopped half-way finishes where it stopped. What is already in the log is
//! never rewritten: where the file now says something else, the report lists the difference
//! and leaves changing the plan to a revision by the office.

use std::ops::Range;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::file::{Milestone, PlanFile, Project, Spanned, Target};
use super::report::{ImportReport, differences};
use crate::command::{CommandRequest, DispatchError, Dispatcher};
use crate::domain::{
    Actor, Command, MilestoneId, Note, ProjectId, ProjectState, RegisterProject, ScheduleMilestone,
    SetTarget, TargetId, Text, TextError,
};
use crate::store::EventStore;

/// The derivation context of every id the import makes.
const ID_CONTEXT: &str = "duban plan import: project, milestone and target ids, v1";

fn derived_uuid(parts: &[&str]) -> Uuid {
    let mut hasher = blake3::Hasher::new_derive_key(ID_CONTEXT);
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The id of a plan's project: the same for the same plan key and project key, always.
pub fn project_id(plan_key: &str, project_key: &str) -> ProjectId {
    ProjectId(derived_uuid(&[plan_key, "project", project_key]))
}

pub fn milestone_id(plan_key: &str, project_key: &str, milestone_key: &str) -> MilestoneId {
    MilestoneId(derived_uuid(&[
        plan_key,
        project_key,
        "milestone",
        milestone_key,
    ]))
}

pub fn target_id(plan_key: &str, project_key: &str, target_key: &str) -> TargetId {
    TargetId(derived_uuid(&[plan_key, project_key, "target", target_key]))
}

/// What a command puts into a project, to tell whether the log already has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Registration,
    Milestone(MilestoneId),
    Target(TargetId),
}

/// One command of the import.
#[derive(Clone, Debug)]
pub struct PlannedCommand {
    pub command: Command,
    pub item: Item,
    /// Derived from the item's id: a retry or a second import is answered, not appended.
    pub idempotency_key: String,
    /// E.g. `milestone goal`, for messages.
    pub what: String,
    /// Where the item is in the plan file.
    pub span: Range<usize>,
}

/// One project's commands, in the order they are issued.
#[derive(Clone, Debug)]
pub struct ProjectCommands {
    pub key: String,
    pub project: ProjectId,
    pub commands: Vec<PlannedCommand>,
}

/// A text of the plan file that a command cannot carry: blank, too long, or with a control
/// or bidirectional override character.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("project {project}, {what}: {field}: {source}")]
pub struct PlanTextError {
    pub project: String,
    /// E.g. `milestone goal`.
    pub what: String,
    pub field: &'static str,
    /// Where the item is in the plan file.
    pub span: Range<usize>,
    #[source]
    pub source: TextError,
}

/// Where a text is read from, for the error if it cannot be carried.
struct At<'a> {
    project: &'a Project,
    what: &'a str,
    span: Range<usize>,
}

impl At<'_> {
    fn text<const MAX: usize>(
        &self,
        field: &'static str,
        value: &str,
    ) -> Result<Text<MAX>, PlanTextError> {
        Text::try_from(value.to_string()).map_err(|e| self.refused(field, e))
    }

    fn refused(&self, field: &'static str, source: TextError) -> PlanTextError {
        PlanTextError {
            project: self.project.key.clone(),
            what: self.what.to_string(),
            field,
            span: self.span.clone(),
            source,
        }
    }
}

/// Every project's commands: registration, then milestones, then targets, in file order.
pub fn project_commands(plan: &PlanFile) -> Result<Vec<ProjectCommands>, PlanTextError> {
    let plan_key = plan.info().key.as_str();
    plan.projects
        .iter()
        .map(|entry| {
            let p = entry.get_ref();
            let register = planned(
                registration(plan_key, p, entry.span())?,
                Item::Registration,
                "registration",
                entry.span(),
            );
            let milestones = p.milestones.iter().map(|m| schedule(plan_key, p, m));
            let targets = p.targets.iter().map(|t| set_target(plan_key, p, t));
            Ok(ProjectCommands {
                key: p.key.clone(),
                project: project_id(plan_key, &p.key),
                commands: std::iter::once(Ok(register))
                    .chain(milestones)
                    .chain(targets)
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

fn planned(command: Command, item: Item, what: &str, span: Range<usize>) -> PlannedCommand {
    let id = match item {
        Item::Registration => match &command {
            Command::RegisterProject(RegisterProject { project_id, .. }) => project_id.0,
            _ => unreachable!("a registration registers"),
        },
        Item::Milestone(id) => id.0,
        Item::Target(id) => id.0,
    };
    PlannedCommand {
        idempotency_key: format!("plan-import:{}:{id}", command.name()),
        command,
        item,
        what: what.to_string(),
        span,
    }
}

fn registration(plan_key: &str, p: &Project, span: Range<usize>) -> Result<Command, PlanTextError> {
    let at = At {
        project: p,
        what: "registration",
        span,
    };
    let description =
        Note::try_from(registered_description(p)).map_err(|e| at.refused("description", e))?;
    Ok(Command::RegisterProject(RegisterProject {
        project_id: project_id(plan_key, &p.key),
        name: at.text("name", &p.name)?,
        industry: p.industry,
        city: p.city,
        lead_department: p.lead().clone(),
        supporting_departments: p.supporting().cloned().collect(),
        description,
        source_section: at.text("source_section", &p.source_section)?,
    }))
}

/// The description as registered: the file's, the source quote, and what is assumed.
pub fn registered_description(p: &Project) -> String {
    let mut lines = Vec::new();
    if !p.description.trim().is_empty() {
        lines.push(p.description.trim().to_string());
    }
    lines.push(format!("原文（{}）：「{}」", p.source_section, p.quote));
    let assumed: Vec<String> = p.assumed.iter().map(|a| assumed_label(p, a)).collect();
    if !assumed.is_empty() {
        lines.push(format!("演示假设：{}", assumed.join("、")));
    }
    lines.join("\n")
}

fn assumed_label(p: &Project, what: &str) -> String {
    let label = match what {
        "city" => "所在城市",
        "industry" => "所属产业",
        "description" => "项目说明",
        "lead_department" => "牵头单位",
        "supporting_departments" => "配合单位",
        "milestones" => "里程碑（标题与日期）",
        other => {
            let key = other.strip_prefix("target:").unwrap_or(other);
            let name = p.target(key).map_or(key, |t| t.indicator.as_str());
            return format!("指标「{name}」的目标值");
        }
    };
    label.to_string()
}

fn schedule(
    plan_key: &str,
    p: &Project,
    entry: &Spanned<Milestone>,
) -> Result<PlannedCommand, PlanTextError> {
    let m = entry.get_ref();
    let id = milestone_id(plan_key, &p.key, &m.key);
    let what = format!("milestone {}", m.key);
    let at = At {
        project: p,
        what: &what,
        span: entry.span(),
    };
    let command = Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id: id,
        title: at.text("title", &m.title)?,
        due_date: m.due,
        responsible_departments: m.responsible.clone(),
    });
    Ok(planned(command, Item::Milestone(id), &what, entry.span()))
}

fn set_target(
    plan_key: &str,
    p: &Project,
    entry: &Spanned<Target>,
) -> Result<PlannedCommand, PlanTextError> {
    let t = entry.get_ref();
    let id = target_id(plan_key, &p.key, &t.key);
    let what = format!("target {}", t.key);
    let at = At {
        project: p,
        what: &what,
        span: entry.span(),
    };
    let command = Command::SetTarget(SetTarget {
        target_id: id,
        indicator: at.text("indicator", &t.indicator)?,
        unit: at.text("unit", &t.unit)?,
        target_value: t.value,
        year: t.year,
    });
    Ok(planned(command, Item::Target(id), &what, entry.span()))
}

/// Why the import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportRefusal {
    /// The dispatcher refused a command.
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
    /// A text of the file cannot be carried by a command.
    #[error(transparent)]
    Text(TextError),
}

/// A command the import could not issue or the dispatcher refused: the import stops there;
/// running it again resumes.
#[derive(Debug, thiserror::Error)]
#[error("project {project}, {what}: refused: {source}")]
pub struct ImportError {
    pub project: String,
    pub what: String,
    #[source]
    pub source: ImportRefusal,
    /// Commands applied before the refusal.
    pub commands_applied: usize,
}

/// Imports a validated plan through the dispatcher, as `actor` (the office) at `now`.
pub async fn import<S: EventStore>(
    dispatcher: &Dispatcher<S>,
    plan: &PlanFile,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport {
        plan_key: plan.info().key.clone(),
        ..ImportReport::default()
    };
    let issue = Issue {
        dispatcher,
        actor,
        now,
        run: Uuid::now_v7(),
    };
    let projects = project_commands(plan).map_err(|e| ImportError {
        project: e.project,
        what: format!("{}, {}", e.what, e.field),
        source: ImportRefusal::Text(e.source),
        commands_applied: 0,
    })?;
    for project in projects {
        issue.project(&project, &mut report).await?;
    }
    Ok(report)
}

/// What every command of one import run shares.
struct Issue<'a, S> {
    dispatcher: &'a Dispatcher<S>,
    actor: &'a Actor,
    now: DateTime<Utc>,
    run: Uuid,
}

impl<S: EventStore> Issue<'_, S> {
    async fn project(
        &self,
        p: &ProjectCommands,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        let refused = |what: &str, source: DispatchError, report: &ImportReport| ImportError {
            project: p.key.clone(),
            what: what.to_string(),
            source: source.into(),
            commands_applied: report.commands_applied,
        };
        let (state, _) = (self.dispatcher.current(p.project).await)
            .map_err(|e| refused("reading its state", e, report))?;
        report.differences.extend(differences(&state, p));
        let mut applied = 0;
        for c in &p.commands {
            if has(&state, c.item) {
                report.commands_already_applied += 1;
                continue;
            }
            let outcome = (self.dispatcher.dispatch(self.request(p, c)).await)
                .map_err(|e| refused(&c.what, e, report))?;
            if outcome.replayed {
                report.commands_already_applied += 1;
            } else {
                applied += 1;
                count(report, c.item);
            }
        }
        report.projects += 1;
        match (state.is_registered(), applied) {
            (false, _) => report.projects_created += 1,
            (true, 0) => report.projects_unchanged += 1,
            (true, _) => report.projects_resumed += 1,
        }
        Ok(())
    }

    fn request(&self, p: &ProjectCommands, c: &PlannedCommand) -> CommandRequest {
        CommandRequest {
            project: p.project,
            command: c.command.clone(),
            actor: self.actor.clone(),
            now: self.now,
            idempotency_key: Some(c.idempotency_key.clone()),
            if_match: None,
            correlation_id: Some(self.run),
        }
    }
}

fn has(state: &ProjectState, item: Item) -> bool {
    match item {
        Item::Registration => state.is_registered(),
        Item::Milestone(id) => state.milestones.contains_key(&id),
        Item::Target(id) => state.targets.contains_key(&id),
    }
}

fn count(report: &mut ImportReport, item: Item) {
    report.commands_applied += 1;
    match item {
        Item::Registration => {}
        Item::Milestone(_) => report.milestones_scheduled += 1,
        Item::Target(_) => report.targets_set += 1,
    }
}
