//! The access rule ([`crate::access`]) as HTTP answers: `Hidden` is 403 and `Missing` 404;
//! a caller who reads nothing is 403. No handler decides visibility itself.

use super::AppState;
use super::auth_extract::Caller;
use super::freshness::up_to_head;
use super::problem::ApiError;
use crate::access::{self, Access, Confinement};
use crate::domain::{DepartmentCode, ProjectId};

/// The projects the caller's reads reach.
pub fn confinement(state: &AppState, caller: &Caller) -> Result<Confinement, ApiError> {
    access::confinement(&state.policies, &caller.0).map_err(|e| ApiError::forbidden(e.to_string()))
}

/// The department the caller's reads are confined to: none for roles that read everything.
pub fn confined_to(state: &AppState, caller: &Caller) -> Result<Option<DepartmentCode>, ApiError> {
    Ok(confinement(state, caller)?.department().cloned())
}

/// The status an access answer leaves with.
pub fn answer(access: Access) -> Result<(), ApiError> {
    match access {
        Access::Visible => Ok(()),
        Access::Hidden => Err(ApiError::forbidden(
            "this project is not visible to the caller",
        )),
        Access::Missing => Err(ApiError::not_found("no such project")),
    }
}

/// Whether the caller may see the project, decided from the read models' index before
/// anything of the project is loaded. The index may lag the log by a moment: before saying
/// no, the read models are given the chance to reach the log's head (the same for a
/// department asking of someone else's project and of a missing one).
pub async fn project(state: &AppState, caller: &Caller, id: ProjectId) -> Result<(), ApiError> {
    let confined = confinement(state, caller)?;
    let mut found = confined.in_index(&state.models, id)?;
    if found != Access::Visible {
        up_to_head(state).await;
        found = confined.in_index(&state.models, id)?;
    }
    answer(found)
}

/// Only for those who administer the service.
pub fn admin_only(caller: &Caller, detail: &str) -> Result<(), ApiError> {
    if access::administers(&caller.0) {
        Ok(())
    } else {
        Err(ApiError::forbidden(detail.to_string()))
    }
}

/// Only for those who read every project.
pub fn reads_everything(state: &AppState, caller: &Caller, detail: &str) -> Result<(), ApiError> {
    if access::reads_everything(&state.policies, &caller.0) {
        Ok(())
    } else {
        Err(ApiError::forbidden(detail.to_string()))
    }
}
