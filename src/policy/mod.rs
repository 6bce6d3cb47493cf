//! Policies: data the office can change without a rebuild, loaded from `policies/` and
//! validated at start-up — roles (who may issue which command, who reads what), the
//! department directory, the working-day calendar, the traffic-light thresholds and the reminder cadence. The
//! service refuses to start on an invalid file, naming it.

mod calendar;
mod departments;
mod lights;
mod reminders;
mod roles;

use std::path::Path;

pub use calendar::WorkingCalendar;
pub use departments::{Department, DepartmentKind, Directory};
pub use lights::{Light, LightsPolicy, LightsVersion, Measure, Measures, Op, Rule};
pub use reminders::{Reminders, Step};
pub use roles::{ADMIN_ROLE, KNOWN_ROLES, Reads, RolePolicy, Roles};

#[derive(Clone, Debug)]
pub struct Policies {
    pub roles: Roles,
    pub departments: Directory,
    pub calendar: WorkingCalendar,
    pub lights: LightsPolicy,
    pub reminders: Reminders,
}

impl Policies {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
        };
        let roles = Roles::parse(&read("roles.toml")?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join("roles.toml").display()))?;
        let departments = Directory::parse(&read("departments.toml")?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join("departments.toml").display()))?;
        let calendar = WorkingCalendar::load_dir(&dir.join("calendar"))?;
        let lights = LightsPolicy::parse(&read("lights.toml")?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join("lights.toml").display()))?;
        let reminders = Reminders::parse(&read("reminders.toml")?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join("reminders.toml").display()))?;
        Ok(Self {
            roles,
            departments,
            calendar,
            lights,
            reminders,
        })
    }
}
