//! The one access rule: who may see, and so act on, a project. The dispatcher asks it before
//! deciding a command, the HTTP reads ask it before loading anything; HTTP only maps the
//! answer to a status.
//!
//! ```text
//! caller ─▶ confinement (policies: the role reads all, or its own department's)
//!        ─▶ project ─▶ Visible | Hidden | Missing
//! ```
//!
//! Those who read everything learn whether a project exists (`Missing`). A department only
//! learns whether it is on the project: for it, someone else's project and a missing one are
//! both `Hidden`, and the answer is found the same way for both — from the read models' index
//! rows (`d <dept> 0x00 <project>`, `p <project>`), by key, without decoding a record — so
//! that not even the time taken tells them apart.

use crate::command::NOTIFIER_ROLE;
use crate::domain::{Actor, DepartmentCode, ProjectId, ProjectState};
use crate::policy::{ADMIN_ROLE, Policies, Reads};
use crate::projection::{ProjectionError, ReadModels};

/// What a caller may see of a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Visible,
    /// Not the caller's to see: someone else's project, or — for a department, which must
    /// not learn the difference — no project at all.
    Hidden,
    /// No such project, told only to those who read everything.
    Missing,
}

/// Which projects a caller's reads reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confinement {
    /// Every project (the office, the inspectors, the admin, the service's notifier).
    Everything,
    /// The projects this department is on (lead or supporting, returned or not).
    Department(DepartmentCode),
}

/// Why a caller reads nothing at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadsNothing {
    #[error("this role reads nothing")]
    Role,
    #[error("a department token must name its department")]
    NoDepartment,
}

/// The caller's confinement, from the roles policy (`reads = "all" | "own"`).
pub fn confinement(policies: &Policies, actor: &Actor) -> Result<Confinement, ReadsNothing> {
    // The notifier records notices on every project; its role is the service's own, not one
    // the policy (or a token) can name.
    if actor.role == NOTIFIER_ROLE {
        return Ok(Confinement::Everything);
    }
    match policies.roles.reads(&actor.role) {
        Some(Reads::All) => Ok(Confinement::Everything),
        Some(Reads::Own) => actor
            .dept
            .clone()
            .map(Confinement::Department)
            .ok_or(ReadsNothing::NoDepartment),
        None => Err(ReadsNothing::Role),
    }
}

impl Confinement {
    /// The department reads are confined to; `None` for those who read everything.
    pub fn department(&self) -> Option<&DepartmentCode> {
        match self {
            Confinement::Everything => None,
            Confinement::Department(d) => Some(d),
        }
    }

    /// The rule. `exists` is asked only of those who read everything, `is_on` only of a
    /// department: a department on a project implies the project exists, and a department
    /// that is not on it learns nothing more.
    pub fn judge<E>(
        &self,
        exists: impl FnOnce() -> Result<bool, E>,
        is_on: impl FnOnce(&DepartmentCode) -> Result<bool, E>,
    ) -> Result<Access, E> {
        Ok(match self {
            Confinement::Everything if exists()? => Access::Visible,
            Confinement::Everything => Access::Missing,
            Confinement::Department(d) if is_on(d)? => Access::Visible,
            Confinement::Department(_) => Access::Hidden,
        })
    }

    /// Access to a project, from the read models' index rows alone: no record is read.
    pub fn in_index(&self, models: &ReadModels, id: ProjectId) -> Result<Access, ProjectionError> {
        self.judge(|| models.has_project(id), |d| models.is_on(d, id))
    }

    /// Access to a project whose departments are known (e.g. from a rendered status).
    pub fn among(&self, departments: &[DepartmentCode]) -> Access {
        self.judge::<std::convert::Infallible>(|| Ok(true), |d| Ok(departments.contains(d)))
            .unwrap_or_else(|never| match never {})
    }
}

/// Access to a project as its state stands (the dispatcher has it folded already).
pub fn of_state(policies: &Policies, actor: &Actor, state: &ProjectState) -> Access {
    let Ok(confined) = confinement(policies, actor) else {
        return Access::Hidden;
    };
    confined
        .judge::<std::convert::Infallible>(
            || Ok(state.is_registered()),
            |d| Ok(state.departments.contains_key(d)),
        )
        .unwrap_or_else(|never| match never {})
}

/// Whether the caller reads every project (the chain check is for them).
pub fn reads_everything(policies: &Policies, actor: &Actor) -> bool {
    confinement(policies, actor) == Ok(Confinement::Everything)
}

/// Whether the caller administers the service (rebuild, notifier runs, the outbox).
pub fn administers(actor: &Actor) -> bool {
    actor.role == ADMIN_ROLE
}

#[cfg(test)]
mod tests {
    use super::*;

    const THEIRS: uuid::Uuid = uuid::Uuid::from_u128(0x0192_d0c4_7a51_7c3e_9f2b_5d1e_8a6b_4c21);
    const NOBODYS: uuid::Uuid = uuid::Uuid::from_u128(7);

    /// Read models whose only project, led by SXEIC, has a record that cannot be decoded:
    /// any answer that reads the record fails.
    fn models_with_an_undecodable_record(dir: &std::path::Path) -> std::sync::Arc<ReadModels> {
        {
            let db = sled::open(dir).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert(b"current", b"views-1".as_slice())
                .unwrap();
            let views = db.open_tree("views-1").unwrap();
            let mut record = vec![b'p'];
            record.extend_from_slice(THEIRS.as_bytes());
            // Neither JSON nor zstd, and large: decoding would fail, and take its time.
            views.insert(record, vec![0xAB; 4 << 20]).unwrap();
            let mut on = b"dSXEIC\0".to_vec();
            on.extend_from_slice(THEIRS.as_bytes());
            views.insert(on, b"".as_slice()).unwrap();
            db.flush().unwrap();
        }
        ReadModels::open(dir).unwrap()
    }

    #[test]
    fn access_is_decided_from_the_index_without_reading_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let models = models_with_an_undecodable_record(dir.path());
        let (theirs, nobodys) = (ProjectId(THEIRS), ProjectId(NOBODYS));
        assert!(models.project(theirs).is_err(), "the record is undecodable");
        let outsider = Confinement::Department(DepartmentCode::new("SXSTD").unwrap());
        let lead = Confinement::Department(DepartmentCode::new("SXEIC").unwrap());
        let answers = |c: &Confinement| {
            (
                c.in_index(&models, theirs).unwrap(),
                c.in_index(&models, nobodys).unwrap(),
            )
        };
        assert_eq!(answers(&outsider), (Access::Hidden, Access::Hidden));
        assert_eq!(answers(&lead), (Access::Visible, Access::Hidden));
        assert_eq!(
            answers(&Confinement::Everything),
            (Access::Visible, Access::Missing)
        );
    }

    #[test]
    fn the_notifier_reads_everything_and_a_department_token_without_a_department_nothing() {
        let policies =
            Policies::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
                .unwrap();
        let actor = |role: &str, dept: Option<&str>| Actor {
            sub: "x".into(),
            role: role.into(),
            dept: dept.map(|d| DepartmentCode::new(d).unwrap()),
        };
        assert_eq!(
            confinement(&policies, &actor(NOTIFIER_ROLE, None)),
            Ok(Confinement::Everything)
        );
        assert_eq!(
            confinement(&policies, &actor("department", None)),
            Err(ReadsNothing::NoDepartment)
        );
        assert!(reads_everything(&policies, &actor("inspector", None)));
        assert!(!reads_everything(
            &policies,
            &actor("department", Some("SXEIC"))
        ));
        assert!(administers(&actor(ADMIN_ROLE, None)));
        assert!(!administers(&actor("office", None)));
        let unregistered = ProjectState::default();
        assert_eq!(
            of_state(&policies, &actor("office", None), &unregistered),
            Access::Missing
        );
        assert_eq!(
            of_state(
                &policies,
                &actor("department", Some("SXEIC")),
                &unregistered
            ),
            Access::Hidden
        );
    }
}
