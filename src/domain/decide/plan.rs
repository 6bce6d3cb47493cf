//! The rules of 规划 plan: registering a project, scheduling a milestone, setting a target,
//! assigning a department. Reached from [`super::decide`].

use super::*;

impl Decide for RegisterProject {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        let RegisterProject {
            project_id,
            name,
            industry,
            city,
            lead_department,
            mut supporting_departments,
            description,
            source_section,
        } = self;
        if state.is_registered() {
            return Err(DomainError::ProjectAlreadyRegistered);
        }
        if supporting_departments.contains(&lead_department) {
            return Err(DomainError::LeadAlsoSupporting(lead_department));
        }
        supporting_departments.sort();
        supporting_departments.dedup();
        Ok(vec![Event::ProjectRegistered(ProjectRegistered {
            project_id,
            name: name.into(),
            industry,
            city,
            lead_department,
            supporting_departments,
            description: description.into(),
            source_section: source_section.into(),
        })])
    }
}

/// The most milestones one project may have: the plan's busiest project has a dozen; a
/// bound keeps a project's status a page a person can read.
pub const MAX_MILESTONES: usize = 200;
/// The most targets (indicators) one project may have.
pub const MAX_TARGETS: usize = 200;

impl Decide for ScheduleMilestone {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        let ScheduleMilestone {
            milestone_id,
            title,
            due_date,
            mut responsible_departments,
        } = self;
        if state.milestones.len() >= MAX_MILESTONES {
            return Err(DomainError::TooMany {
                what: "milestones",
                max: MAX_MILESTONES,
            });
        }
        if state.milestones.contains_key(&milestone_id) {
            return Err(DomainError::MilestoneAlreadyScheduled(milestone_id));
        }
        if responsible_departments.is_empty() {
            return Err(DomainError::FieldRequired("responsible_departments"));
        }
        if let Some(d) = responsible_departments.iter().find(|d| !state.is_active(d)) {
            return Err(DomainError::DepartmentNotAssigned(d.clone()));
        }
        // Each department once, in the order given.
        let mut seen = std::collections::BTreeSet::new();
        responsible_departments.retain(|d| seen.insert(d.clone()));
        let e = MilestoneScheduled {
            milestone_id,
            title: title.into(),
            due_date,
            responsible_departments,
        };
        Ok(vec![Event::MilestoneScheduled(e)])
    }
}

impl Decide for SetTarget {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        let SetTarget {
            target_id,
            indicator,
            unit,
            target_value,
            year,
        } = self;
        if state.targets.len() >= MAX_TARGETS {
            return Err(DomainError::TooMany {
                what: "targets",
                max: MAX_TARGETS,
            });
        }
        if state.targets.contains_key(&target_id) {
            return Err(DomainError::TargetAlreadySet(target_id));
        }
        check_target_value(target_value)?;
        if !(2016..=2030).contains(&year) {
            return Err(DomainError::YearOutOfRange(year));
        }
        Ok(vec![Event::TargetSet(TargetSet {
            target_id,
            indicator: indicator.into(),
            unit: unit.into(),
            target_value,
            year,
        })])
    }
}

impl Decide for AssignDepartment {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        let AssignDepartment { department, role } = self;
        // A department that returned the assignment may be assigned again (转办 back).
        if state.is_active(&department) {
            return Err(DomainError::DepartmentAlreadyAssigned(department));
        }
        if role == DepartmentRole::Lead && state.lead_department().is_some() {
            return Err(DomainError::LeadAlreadyAssigned);
        }
        Ok(vec![Event::DepartmentAssigned(DepartmentAssigned {
            department,
            role,
        })])
    }
}
