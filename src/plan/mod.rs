//! The plan: the five-year plan's content as data, and how it enters the supervision loop.
//!
//! ```text
//! plans/*.toml ─▶ PlanFile::parse: the file's rules, the department directory, and every
//!                 project's commands rehearsed through the domain — all before any import
//!              ─▶ import: register / schedule / set target, as the office, with ids and
//!                 idempotency keys derived from the plan's keys
//!              ─▶ Dispatcher (policy, decide, append) ─▶ the log: one stream per project
//! ```
//!
//! After the import the plan lives in the log like any other office work: departments sign
//! for it, report on it, and the office revises it by command, keeping every baseline. The
//! plan file's industries, province-wide indicators, programmes and cities are reference data:
//! a project belongs to one industry, and those span all nine.

mod file;
mod import;
mod report;
mod validate;

use std::path::Path;

pub use file::{
    CityEntry, Indicator, IndustryEntry, Milestone, PlanError, PlanFile, PlanInfo, Problem,
    Programme, Project, Qualifier, Spanned, Target,
};
pub use import::{
    ImportError, ImportRefusal, Item, PlanTextError, PlannedCommand, ProjectCommands, import,
    milestone_id, project_commands, project_id, registered_description, target_id,
};
pub use report::ImportReport;
pub use validate::ASSUMABLE;

use crate::command::Dispatcher;
use crate::config::Settings;
use crate::domain::Actor;
use crate::policy::Policies;
use crate::store::{SledStore, StoreOptions};

/// Who `duban import` acts as: the office.
pub fn import_actor() -> Actor {
    Actor {
        sub: "plan-import".into(),
        role: "office".into(),
        dept: None,
    }
}

/// Why `duban import` did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ImportFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Invalid { path: String, source: PlanError },
    #[error(transparent)]
    Import(#[from] Box<ImportError>),
    #[error(transparent)]
    Setup(#[from] anyhow::Error),
}

/// `duban import FILE`: validates the file against the configured directory, then imports it
/// into the configured data directory as the office. The log is not opened for an invalid
/// file.
pub fn import_file(settings: &Settings, path: &Path) -> Result<ImportReport, ImportFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportFileError::Read {
        path: shown.clone(),
        source,
    })?;
    let policies = Policies::load(&settings.policies_dir)?;
    let plan = PlanFile::parse(&text, &policies.departments).map_err(|source| {
        ImportFileError::Invalid {
            path: shown,
            source,
        }
    })?;
    let store = SledStore::open(&settings.data_dir, StoreOptions::default()).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the log in {}: {e}",
            settings.data_dir.display()
        )
    })?;
    let dispatcher = Dispatcher::new(store.clone(), std::sync::Arc::new(policies));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let result = runtime.block_on(import(
        &dispatcher,
        &plan,
        &import_actor(),
        chrono::Utc::now(),
    ));
    store.close();
    Ok(result.map_err(Box::new)?)
}
