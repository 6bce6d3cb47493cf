//! What an import did, and where the log already holds an item the file now describes
//! differently — reported, never rewritten: changing a registered plan is a revision by the
//! office, which keeps every baseline.

use std::fmt;

use super::import::{PlannedCommand, ProjectCommands};
use crate::domain::{
    Command, DepartmentRole, ProjectState, RegisterProject, ScheduleMilestone, SetTarget,
};

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub plan_key: String,
    pub projects: usize,
    /// Registered by this import.
    pub projects_created: usize,
    /// Registered before, with milestones or targets added now (an earlier import stopped
    /// half-way, or the file gained items).
    pub projects_resumed: usize,
    /// Already complete in the log.
    pub projects_unchanged: usize,
    /// Commands that appended events.
    pub commands_applied: usize,
    /// Commands whose item the log already had: nothing appended.
    pub commands_already_applied: usize,
    pub milestones_scheduled: usize,
    pub targets_set: usize,
    /// Where the file says something else than the log; left as the log has it.
    pub differences: Vec<String>,
}

/// Collects the differences of one project.
struct Notes<'a> {
    project: &'a str,
    out: Vec<String>,
}

impl Notes<'_> {
    fn compare(&mut self, what: &str, field: &str, file: String, log: String) {
        if file != log {
            let project = self.project;
            let note = format!(
                "project {project}, {what}: {field} is {file} in the file, {log} in the log"
            );
            self.out.push(note);
        }
    }
}

/// A value as it reads in a message.
fn q<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Where the log already has an item of this project that the file describes differently.
pub(super) fn differences(state: &ProjectState, p: &ProjectCommands) -> Vec<String> {
    let mut notes = Notes {
        project: &p.key,
        out: Vec::new(),
    };
    for c in &p.commands {
        match &c.command {
            Command::RegisterProject(_) => registration(&mut notes, state, c),
            Command::ScheduleMilestone(_) => milestone(&mut notes, state, c),
            Command::SetTarget(_) => target(&mut notes, state, c),
            _ => {}
        }
    }
    notes.out
}

fn registration(notes: &mut Notes, state: &ProjectState, c: &PlannedCommand) {
    let Command::RegisterProject(RegisterProject {
        name,
        industry,
        city,
        lead_department,
        supporting_departments,
        description,
        ..
    }) = &c.command
    else {
        return;
    };
    let Some(info) = &state.info else { return };
    notes.compare(&c.what, "name", q(name), q(&info.name));
    notes.compare(&c.what, "industry", q(industry), q(&info.industry));
    notes.compare(&c.what, "city", q(city), q(&info.city));
    notes.compare(&c.what, "description", q(description), q(&info.description));
    let role = |d| state.departments.get(d).map(|a| a.role);
    if role(lead_department) != Some(DepartmentRole::Lead) {
        let lead = lead_department.to_string();
        notes.compare(&c.what, "the lead", lead, "not the lead".into());
    }
    for d in supporting_departments.iter().filter(|d| role(d).is_none()) {
        let field = d.to_string();
        notes.compare(&c.what, &field, "on the project".into(), "not".into());
    }
}

fn milestone(notes: &mut Notes, state: &ProjectState, c: &PlannedCommand) {
    let Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id,
        title,
        due_date,
        responsible_departments,
    }) = &c.command
    else {
        return;
    };
    let Some(m) = state.milestones.get(milestone_id) else {
        return;
    };
    notes.compare(&c.what, "title", q(title), q(&m.title));
    notes.compare(&c.what, "first due date", q(due_date), q(&m.baseline_due));
    let responsible = q(responsible_departments);
    notes.compare(&c.what, "responsible", responsible, q(&m.responsible));
}

fn target(notes: &mut Notes, state: &ProjectState, c: &PlannedCommand) {
    let Command::SetTarget(SetTarget {
        target_id,
        indicator,
        unit,
        target_value,
        year,
    }) = &c.command
    else {
        return;
    };
    let Some(t) = state.targets.get(target_id) else {
        return;
    };
    notes.compare(&c.what, "indicator", q(indicator), q(&t.indicator));
    notes.compare(&c.what, "unit", q(unit), q(&t.unit));
    notes.compare(
        &c.what,
        "first value",
        q(target_value),
        q(&t.baseline_value),
    );
    notes.compare(&c.what, "year", q(year), q(&t.year));
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plan {}: {} projects", self.plan_key, self.projects)?;
        writeln!(
            f,
            "  projects: {} created, {} resumed, {} unchanged",
            self.projects_created, self.projects_resumed, self.projects_unchanged
        )?;
        let registrations = self.commands_applied - self.milestones_scheduled - self.targets_set;
        write!(
            f,
            "  commands: {} applied ({registrations} registrations, {} milestones, {} targets), \
             {} already in the log",
            self.commands_applied,
            self.milestones_scheduled,
            self.targets_set,
            self.commands_already_applied
        )?;
        if !self.differences.is_empty() {
            let heading = "differences from the log, left as logged (the office revises the plan \
                           to change them):";
            write!(f, "\n  {heading}")?;
            for d in &self.differences {
                write!(f, "\n    {d}")?;
            }
        }
        Ok(())
    }
}
