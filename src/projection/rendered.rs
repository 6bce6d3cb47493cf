//! Rendered project statuses, kept in memory between reads: the read side's last step before
//! the wire. A status depends only on the project's record and the day it is computed for
//! (the policies are fixed for the life of the process), so the JSON of a status can be
//! served again until the project changes or the day turns.
//!
//! The projector notes each project's new version after it writes a batch and before it
//! publishes the position ([`RenderedStatuses::changed`]). An entry is served only while its
//! version is still the one noted (or nothing was noted since start-up, when the stored
//! record is what every entry was rendered from). A reader that rendered a record the
//! projector replaced a moment later stores an entry that is never served: the version
//! noted for the project is by then another. The cache is bounded by bytes; what falls out
//! is rendered again on the next read.

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;
use chrono::NaiveDate;

use crate::domain::{DepartmentCode, ProjectId};

/// One rendered status.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The record's version it was rendered from.
    pub version: u64,
    /// The day it was computed for.
    pub day: NaiveDate,
    /// The departments on the project (a department may read only its own projects).
    pub departments: Vec<DepartmentCode>,
    /// The status as JSON.
    pub body: Bytes,
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<ProjectId, Rendered> for ByBytes {
    fn weight(&self, _: &ProjectId, r: &Rendered) -> u64 {
        // The body plus a rough allowance for the entry itself.
        r.body.len() as u64 + 128
    }
}

/// The cache of rendered statuses, with the versions the projector noted.
pub struct RenderedStatuses {
    entries: quick_cache::sync::Cache<ProjectId, Rendered, ByBytes>,
    /// Each project's version as of the projector's last write touching it; absent for a
    /// project unchanged since start-up.
    versions: RwLock<HashMap<ProjectId, u64>>,
}

impl RenderedStatuses {
    /// A cache holding at most about `bytes` of rendered statuses.
    pub fn new(bytes: u64) -> Self {
        let items = (bytes / 2048).max(16) as usize;
        Self {
            entries: quick_cache::sync::Cache::with_weighter(items, bytes.max(1), ByBytes),
            versions: RwLock::new(HashMap::new()),
        }
    }

    /// The status of `id` for `day`, if one rendered from the project's current version is
    /// kept.
    pub fn get(&self, id: ProjectId, day: NaiveDate) -> Option<Rendered> {
        let hit = self.entries.get(&id)?;
        let current = self
            .versions
            .read()
            .expect("not poisoned")
            .get(&id)
            .copied();
        (hit.day == day && current.is_none_or(|v| v == hit.version)).then_some(hit)
    }

    /// Keeps a freshly rendered status.
    pub fn put(&self, id: ProjectId, rendered: Rendered) {
        self.entries.insert(id, rendered);
    }

    /// Forgets every rendered status (the models were switched to a rebuilt generation).
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// The projector wrote these projects' records at these versions.
    pub fn changed(&self, written: impl IntoIterator<Item = (ProjectId, u64)>) {
        let mut versions = self.versions.write().expect("not poisoned");
        for (id, version) in written {
            versions.insert(id, version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(version: u64, day: NaiveDate) -> Rendered {
        Rendered {
            version,
            day,
            departments: vec![],
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn an_entry_is_served_only_for_its_day_and_the_current_version() {
        let cache = RenderedStatuses::new(1 << 20);
        let id = ProjectId(uuid::Uuid::now_v7());
        let day = NaiveDate::from_ymd_opt(2018, 6, 15).unwrap();
        assert!(cache.get(id, day).is_none());
        cache.put(id, rendered(3, day));
        assert_eq!(cache.get(id, day).map(|r| r.version), Some(3));
        assert!(cache.get(id, day.succ_opt().unwrap()).is_none());
        // The projector moves the project on: the old rendering is never served again, even
        // if a slow reader stores it after the change.
        cache.changed([(id, 4)]);
        assert!(cache.get(id, day).is_none());
        cache.put(id, rendered(3, day));
        assert!(cache.get(id, day).is_none());
        cache.put(id, rendered(4, day));
        assert_eq!(cache.get(id, day).map(|r| r.version), Some(4));
    }

    #[test]
    fn the_cache_keeps_to_its_size() {
        let cache = RenderedStatuses::new(64 * 1024);
        let day = NaiveDate::from_ymd_opt(2018, 6, 15).unwrap();
        for _ in 0..1000 {
            let mut r = rendered(1, day);
            r.body = Bytes::from(vec![b' '; 1024]);
            cache.put(ProjectId(uuid::Uuid::now_v7()), r);
        }
        assert!(cache.entries.weight() <= 64 * 1024);
        assert!(cache.entries.len() < 1000);
    }
}
