//! Looking the story's projects up in the plan file by key: their ids (derived from the
//! plan's keys exactly as the import derives them), names and milestone titles; and the ids of
//! the findings and rectifications the story creates, derived from the story's own keys so
//! that every run makes the same ones.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::domain::{MilestoneId, ProjectId, TargetId};
use crate::plan::{self, PlanFile};

/// One project of the plan, as the story refers to it.
pub struct PlannedProject {
    pub id: ProjectId,
    pub name: String,
    /// By milestone key: its id and title.
    pub milestones: BTreeMap<String, (MilestoneId, String)>,
    pub targets: BTreeMap<String, TargetId>,
}

/// The plan's projects by key.
pub struct PlanIndex {
    projects: BTreeMap<String, PlannedProject>,
}

impl PlanIndex {
    pub fn new(file: &PlanFile) -> Self {
        let plan_key = file.info().key.as_str();
        let projects = file
            .projects
            .iter()
            .map(|entry| {
                let p = entry.get_ref();
                let milestones = p.milestones.iter().map(|m| {
                    let m = m.get_ref();
                    let id = plan::milestone_id(plan_key, &p.key, &m.key);
                    (m.key.clone(), (id, m.title.clone()))
                });
                let targets = p.targets.iter().map(|t| {
                    let t = t.get_ref();
                    (t.key.clone(), plan::target_id(plan_key, &p.key, &t.key))
                });
                let project = PlannedProject {
                    id: plan::project_id(plan_key, &p.key),
                    name: p.name.clone(),
                    milestones: milestones.collect(),
                    targets: targets.collect(),
                };
                (p.key.clone(), project)
            })
            .collect();
        Self { projects }
    }

    pub fn project(&self, key: &str) -> anyhow::Result<&PlannedProject> {
        self.projects
            .get(key)
            .ok_or_else(|| anyhow::anyhow!("the plan file has no project {key:?}"))
    }
}

impl PlannedProject {
    pub fn milestone(&self, key: &str) -> anyhow::Result<&(MilestoneId, String)> {
        self.milestones
            .get(key)
            .ok_or_else(|| anyhow::anyhow!("project {} has no milestone {key:?}", self.name))
    }

    pub fn target(&self, key: &str) -> anyhow::Result<TargetId> {
        self.targets
            .get(key)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("project {} has no target {key:?}", self.name))
    }
}

/// The id of something the story creates (a finding, a rectification), from its key.
pub fn story_id(kind: &str, key: &str) -> Uuid {
    let mut hasher =
        blake3::Hasher::new_derive_key("duban demo: finding and rectification ids, v1");
    hasher.update(kind.as_bytes());
    hasher.update(&[0]);
    hasher.update(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
