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
//! noted for the project is by then another. A switch to a rebuilt generation moves the
//! cache's own generation on, so nothing rendered from the old one is served after it. The
//! cache is bounded by bytes; what falls out is rendered again on the next read.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

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

impl quick_cache::Weighter<ProjectId, (u64, Rendered)> for ByBytes {
    fn weight(&self, _: &ProjectId, (_, r): &(u64, Rendered)) -> u64 {
        // The body plus a rough allowance for the entry itself.
        r.body.len() as u64 + 128
    }
}

/// The cache of rendered statuses, with the versions the projector noted.
pub struct RenderedStatuses {
    entries: quick_cache::sync::Cache<ProjectId, (u64, Rendered), ByBytes>,
    /// Moves on each switch to a rebuilt generation: entries rendered before it are not
    /// served after it, even when a slow reader stores one late.
    generation: AtomicU64,
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
            generation: AtomicU64::new(0),
            versions: RwLock::new(HashMap::new()),
        }
    }

    /// The status of `id` for `day`, if one rendered from the project's current version is
    /// kept.
    pub fn get(&self, id: ProjectId, day: NaiveDate) -> Option<Rendered> {
        let (generation, hit) = self.entries.get(&id)?;
        if generation != self.generation() {
            return None;
        }
        let current = self
            .versions
            .read()
            .expect("not poisoned")
            .get(&id)
            .copied();
        (hit.day == day && current.is_none_or(|v| v == hit.version)).then_some(hit)
    }

    /// Which generation of the models a reader is about to read from: taken before reading
    /// the record, and handed back to [`RenderedStatuses::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps a freshly rendered status, rendered from a record read in `generation`.
    pub fn put(&self, id: ProjectId, generation: u64, rendered: Rendered) {
        self.entries.insert(id, (generation, rendered));
    }

    /// Forgets every rendered status: the models were switched to a rebuilt generation
    /// (called after the switch).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
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
        cache.put(id, 0, rendered(3, day));
        assert_eq!(cache.get(id, day).map(|r| r.version), Some(3));
        assert!(cache.get(id, day.succ_opt().unwrap()).is_none());
        // The projector moves the project on: the old rendering is never served again, even
        // if a slow reader stores it after the change.
        cache.changed([(id, 4)]);
        assert!(cache.get(id, day).is_none());
        cache.put(id, 0, rendered(3, day));
        assert!(cache.get(id, day).is_none());
        cache.put(id, 0, rendered(4, day));
        assert_eq!(cache.get(id, day).map(|r| r.version), Some(4));
        // A rebuild switches generations: what a reader rendered from the old one, stored
        // after the switch, is not served.
        let before = cache.generation();
        cache.clear();
        cache.put(id, before, rendered(4, day));
        assert!(cache.get(id, day).is_none());
        cache.put(id, cache.generation(), rendered(4, day));
        assert!(cache.get(id, day).is_some());
    }

    #[test]
    fn the_cache_keeps_to_its_size() {
        let cache = RenderedStatuses::new(64 * 1024);
        let day = NaiveDate::from_ymd_opt(2018, 6, 15).unwrap();
        for _ in 0..1000 {
            let mut r = rendered(1, day);
            r.body = Bytes::from(vec![b' '; 1024]);
            cache.put(ProjectId(uuid::Uuid::now_v7()), 0, r);
        }
        assert!(cache.entries.weight() <= 64 * 1024);
        assert!(cache.entries.len() < 1000);
    }
}
