//! `policies/roles.toml`: which role may issue which command, and what each role may read.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::COMMAND_NAMES;

/// What a role may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reads {
    /// Every project.
    All,
    /// Only projects where the caller's department is lead or supporting.
    Own,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePolicy {
    pub commands: Vec<String>,
    pub reads: Reads,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    pub version: String,
    pub roles: BTreeMap<String, RolePolicy>,
}

/// The role that administers the service: rebuilds, notifier runs, the outbox.
pub const ADMIN_ROLE: &str = "admin";

/// The roles a token may carry.
pub const KNOWN_ROLES: &[&str] = &["office", "department", "inspector", ADMIN_ROLE];

impl Roles {
    pub fn parse(text: &str) -> Result<Self, String> {
        let roles: Roles = toml::from_str(text).map_err(|e| e.to_string())?;
        for (role, policy) in &roles.roles {
            if !KNOWN_ROLES.contains(&role.as_str()) {
                return Err(format!("unknown role {role:?} (known: {KNOWN_ROLES:?})"));
            }
            if let Some(c) = policy
                .commands
                .iter()
                .find(|c| !COMMAND_NAMES.contains(&c.as_str()))
            {
                return Err(format!("role {role}: unknown command {c:?}"));
            }
        }
        if let Some(missing) = KNOWN_ROLES.iter().find(|r| !roles.roles.contains_key(**r)) {
            return Err(format!("role {missing:?} is not configured"));
        }
        Ok(roles)
    }

    pub fn may_issue(&self, role: &str, command: &str) -> bool {
        self.roles
            .get(role)
            .is_some_and(|p| p.commands.iter().any(|c| c == command))
    }

    pub fn reads(&self, role: &str) -> Option<Reads> {
        self.roles.get(role).map(|p| p.reads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../policies/roles.toml");

    #[test]
    fn the_shipped_roles_load_and_give_each_command_to_someone_human_or_the_notifier() {
        let roles = Roles::parse(SHIPPED).unwrap();
        assert!(roles.may_issue("office", "register_project"));
        assert!(roles.may_issue("department", "claim_completion"));
        assert!(!roles.may_issue("department", "accept_completion"));
        assert!(roles.may_issue("inspector", "accept_completion"));
        assert_eq!(roles.reads("department"), Some(Reads::Own));
        for c in COMMAND_NAMES
            .iter()
            .filter(|c| !c.starts_with("record_notice"))
        {
            assert!(
                KNOWN_ROLES.iter().any(|r| roles.may_issue(r, c)),
                "{c} is nobody's"
            );
        }
    }

    #[test]
    fn unknown_commands_and_roles_are_refused() {
        let bad = SHIPPED.replace("\"claim_completion\"", "\"claim_everything\"");
        assert!(Roles::parse(&bad).unwrap_err().contains("claim_everything"));
        let extra = format!("{SHIPPED}\n[roles.visitor]\ncommands = []\nreads = \"all\"\n");
        assert!(Roles::parse(&extra).unwrap_err().contains("visitor"));
    }
}
