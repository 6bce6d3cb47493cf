//! The read models' storage: a sled database of its own (`<data dir>/projections`), apart from
//! the log so that their writes never sit on the log's fsync path. Everything in it can be
//! rebuilt from the log; it is therefore not fsynced, only kept consistent: the live models and
//! the position they reflect are written in one atomic batch, so after a crash they resume from
//! a position that matches what they hold. (A rebuild's generation, read by nobody until it is
//! complete, is written key by key.)
//!
//! One tree holds one generation of the models (`views-N`); a rebuild fills the next
//! generation and then switches to it, so readers never see a half-built model. The
//! generation it replaced is dropped by the projector 30 s later, not at once: a reader may
//! still be in it (after a restart, the projector drops what the stopped process left). Keys:
//!
//! ```text
//! p <project id>                            → the project's record (JSON, zstd-compressed)
//! o <due day> <project id> <milestone id>   → an open milestone, by due date (JSON)
//! h <due day> <project id> <milestone id>   → that open milestone is under a hold (empty)
//! c 0x00 <due day>                          → how many open milestones are due that day (u64)
//! c <department code> 0x00 <due day>        → how many of them the department answers for
//! d <department code> 0x00 <project id>     → the department is on the project
//! n <dedup key>                             → a decided notice and its delivery (JSON)
//! q <dedup key>                             → the notice is not sent yet (the outbox queue)
//! _position                                 → the last seq folded in (u64, big-endian)
//! _layout                                   → the layout of the keys above (u32, big-endian)
//! ```
//!
//! The counts and the hold rows let the overdue list say how many milestones are overdue on a
//! day without reading them: a sum over at most one row per due day, less the few held rows
//! whose hold is in force that day. The projector keeps them in the same atomic batch as the
//! due-date rows they count.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::record::{Position, ProjectRecord};
use super::rendered::RenderedStatuses;
use crate::domain::{self, DepartmentCode, Event, MilestoneId, NoticeDue, ProjectId};
use crate::store::{EventStore, EventView, StoreError};

const POSITION_KEY: &[u8] = b"_position";
const LAYOUT_KEY: &[u8] = b"_layout";
/// The layout of a generation's keys; 2 added the overdue counts and the hold rows, 3
/// compresses the records (a record still in JSON is read as such).
const LAYOUT: u32 = 3;
const CURRENT_KEY: &[u8] = b"current";

/// An open milestone as the due-date index keeps it: enough to list it without loading the
/// project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenEntry {
    pub project_name: String,
    pub title: String,
    pub responsible: Vec<DepartmentCode>,
    pub lead: Option<DepartmentCode>,
    /// The expiry of the milestone's own hold, and of a hold on the whole project.
    pub hold_expires: Vec<NaiveDate>,
}

impl OpenEntry {
    /// Whether a hold in force on `day` silences the milestone.
    pub fn held_on(&self, day: NaiveDate) -> bool {
        self.hold_expires.iter().any(|&until| day <= until)
    }
}

/// One row of the due-date index.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenMilestone {
    pub due: NaiveDate,
    pub project_id: ProjectId,
    pub milestone_id: MilestoneId,
    pub entry: OpenEntry,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("read models: {0}")]
    Sled(#[from] sled::Error),
    #[error("read models: stored record unreadable: {0}")]
    Codec(#[from] serde_json::Error),
    #[error("read models: {0}")]
    Corrupt(String),
    #[error("reading the log: {0}")]
    Store(#[from] StoreError),
    #[error("read models: {0}")]
    Io(#[from] std::io::Error),
}

/// The read models; shared by the projector that writes them and the queries that read them.
pub struct ReadModels {
    db: sled::Db,
    meta: sled::Tree,
    current: RwLock<sled::Tree>,
    position: watch::Sender<u64>,
    /// Set when the projector stopped (the log closed): readers waiting on the position
    /// stop waiting.
    stopped: std::sync::atomic::AtomicBool,
    /// Statuses rendered for reading, kept until their project changes or the day turns.
    pub rendered: RenderedStatuses,
    /// Generations replaced by a rebuild, and when each may be dropped.
    retired: Mutex<Vec<(sled::IVec, Instant)>>,
}

/// How much memory rendered statuses may take.
const RENDERED_BYTES: u64 = 8 * 1024 * 1024;

impl ReadModels {
    pub fn open(dir: &Path) -> Result<Arc<Self>, ProjectionError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(16 * 1024 * 1024)
            .open()?;
        let meta = db.open_tree("meta")?;
        let name = match meta.get(CURRENT_KEY)? {
            Some(name) => name.to_vec(),
            None => {
                meta.insert(CURRENT_KEY, b"views-1".as_slice())?;
                b"views-1".to_vec()
            }
        };
        // Generations a rebuild replaced before the process stopped: no reader is in them.
        let now = Instant::now();
        let retired = db
            .tree_names()
            .into_iter()
            .filter(|n| n.starts_with(b"views-") && **n != *name)
            .map(|n| (n, now))
            .collect();
        let tree = db.open_tree(&name)?;
        ensure_layout(&tree)?;
        let position = read_position(&tree)?;
        Ok(Arc::new(Self {
            db,
            meta,
            current: RwLock::new(tree),
            position: watch::Sender::new(position),
            stopped: Default::default(),
            rendered: RenderedStatuses::new(RENDERED_BYTES),
            retired: Mutex::new(retired),
        }))
    }

    pub(super) fn tree(&self) -> sled::Tree {
        self.current.read().expect("not poisoned").clone()
    }

    /// The last seq the read models reflect.
    pub fn position(&self) -> u64 {
        *self.position.borrow()
    }

    pub fn watch_position(&self) -> watch::Receiver<u64> {
        self.position.subscribe()
    }

    /// Waits until the read models reflect `position`, at most `patience`; says whether
    /// they do.
    pub async fn wait_for(&self, position: u64, patience: Duration) -> bool {
        let mut rx = self.position.subscribe();
        let reached = rx.wait_for(|&at| at >= position);
        matches!(tokio::time::timeout(patience, reached).await, Ok(Ok(_)))
    }

    pub fn project(&self, id: ProjectId) -> Result<Option<ProjectRecord>, ProjectionError> {
        get_record(&self.tree(), id)
    }

    /// Whether the project has a record (it is registered), by its key: the record is not
    /// read.
    pub fn has_project(&self, id: ProjectId) -> Result<bool, ProjectionError> {
        Ok(self.tree().contains_key(project_key(id))?)
    }

    /// Whether the department is on the project (lead or supporting, returned or not), by
    /// its `d` row: the record is not read.
    pub fn is_on(&self, dept: &DepartmentCode, id: ProjectId) -> Result<bool, ProjectionError> {
        let mut k = dept_prefix(dept);
        k.extend_from_slice(id.0.as_bytes());
        Ok(self.tree().contains_key(k)?)
    }

    /// Every project, in id order.
    pub fn projects(&self) -> impl Iterator<Item = Result<ProjectRecord, ProjectionError>> {
        self.tree().scan_prefix(b"p").map(|kv| {
            let (_, v) = kv?;
            decode_record(&v)
        })
    }

    /// The projects a department is on (including any it returned: callers filter).
    pub fn department_projects(
        &self,
        dept: &DepartmentCode,
    ) -> Result<Vec<ProjectId>, ProjectionError> {
        let prefix = dept_prefix(dept);
        self.tree()
            .scan_prefix(&prefix)
            .keys()
            .map(|k| {
                let k = k?;
                uuid_at(&k, prefix.len()).map(ProjectId)
            })
            .collect()
    }

    /// Open milestones due in `[from, to]` (either end open when `None`), earliest first.
    pub fn open_due(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> impl Iterator<Item = Result<OpenMilestone, ProjectionError>> {
        let start = from.map_or_else(|| b"o".to_vec(), |d| day_key(b'o', d));
        let end = to.map_or_else(
            || b"p".to_vec(),
            |d| day_key(b'o', d + chrono::Days::new(1)),
        );
        self.tree().range(start..end).map(|kv| {
            let (k, v) = kv?;
            decode_open(&k, &v)
        })
    }

    /// How many open milestones were due before `day` and are not silenced by a hold in force
    /// on it: all of them, or those `dept` answers for. Reads the counts of each due day and
    /// the held rows, not the milestones.
    pub fn overdue_total(
        &self,
        day: NaiveDate,
        dept: Option<&DepartmentCode>,
    ) -> Result<u64, ProjectionError> {
        let tree = self.tree();
        let mut total = 0u64;
        for kv in tree.range(count_prefix(dept)..count_key(dept, day)) {
            total += count_value(&kv?.1)?;
        }
        for k in tree.range(b"h".to_vec()..day_key(b'h', day)).keys() {
            let mut open = k?.to_vec();
            open[0] = b'o';
            // The row may have left the index since the count was read.
            let Some(v) = tree.get(&open)? else { continue };
            let row = decode_open(&open, &v)?;
            if row.entry.held_on(day) && dept.is_none_or(|d| row.entry.responsible.contains(d)) {
                total = total.saturating_sub(1);
            }
        }
        Ok(total)
    }

    /// A notice in the outbox, sent or not.
    pub fn notice(&self, dedup_key: &str) -> Result<Option<OutboxEntry>, ProjectionError> {
        match self.tree().get(outbox_key(dedup_key))? {
            Some(v) => Ok(Some(serde_json::from_slice(&v)?)),
            None => Ok(None),
        }
    }

    /// Every notice ever decided, by dedup key.
    pub fn notices(&self) -> impl Iterator<Item = Result<OutboxEntry, ProjectionError>> {
        self.tree().scan_prefix(b"n").map(|kv| {
            let (_, v) = kv?;
            Ok(serde_json::from_slice(&v)?)
        })
    }

    /// The notices not sent yet.
    pub fn unsent(&self) -> Result<Vec<OutboxEntry>, ProjectionError> {
        let tree = self.tree();
        let mut out = Vec::new();
        for k in tree.scan_prefix(b"q").keys() {
            let k = k?;
            let key = std::str::from_utf8(&k[1..])
                .map_err(|_| ProjectionError::Corrupt("a queue key is not UTF-8".into()))?;
            if let Some(v) = tree.get(outbox_key(key))? {
                out.push(serde_json::from_slice(&v)?);
            }
        }
        Ok(out)
    }

    /// Every key and value of the current generation but its position: what a rebuild must
    /// reproduce exactly.
    pub fn dump(&self) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, ProjectionError> {
        let mut all = BTreeMap::new();
        for kv in self.tree().iter() {
            let (k, v) = kv?;
            if &*k != POSITION_KEY {
                all.insert(k.to_vec(), v.to_vec());
            }
        }
        Ok(all)
    }

    /// A fresh, empty generation for a rebuild.
    pub(super) fn new_generation(&self) -> Result<sled::Tree, ProjectionError> {
        let current = self.tree();
        let n: u64 = std::str::from_utf8(&current.name())
            .ok()
            .and_then(|s| s.strip_prefix("views-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let name = format!("views-{}", n + 1);
        // Whatever an interrupted rebuild left under that name; no longer retired, since the
        // rebuild fills it anew.
        self.retired
            .lock()
            .expect("not poisoned")
            .retain(|(retired, _)| &**retired != name.as_bytes());
        self.db.drop_tree(name.as_bytes())?;
        let tree = self.db.open_tree(name.as_bytes())?;
        tree.insert(LAYOUT_KEY, &LAYOUT.to_be_bytes())?;
        Ok(tree)
    }

    /// Makes a rebuilt generation the current one and drops the old.
    pub(super) fn switch_to(&self, tree: sled::Tree) -> Result<(), ProjectionError> {
        let position = read_position(&tree)?;
        self.meta.insert(CURRENT_KEY, &*tree.name())?;
        self.meta.flush()?;
        let old = std::mem::replace(&mut *self.current.write().expect("not poisoned"), tree);
        self.rendered.clear();
        self.position.send_replace(position);
        // Not dropped at once: a reader may still be in the middle of it.
        self.retired
            .lock()
            .expect("not poisoned")
            .push((old.name(), Instant::now() + RETIRE_AFTER));
        Ok(())
    }

    /// Drops every replaced generation now: for a rebuild run with the service stopped, when
    /// no reader can be in them.
    pub fn drop_replaced(&self) {
        for (_, due) in self.retired.lock().expect("not poisoned").iter_mut() {
            *due = Instant::now();
        }
        self.drop_retired();
    }

    /// Drops the replaced generations whose time has come (the projector calls this: dropping
    /// a tree walks all of it, which no reader should wait for); says when the next is due.
    pub(super) fn drop_retired(&self) -> Option<Instant> {
        let current = self.tree().name();
        let mut retired = self.retired.lock().expect("not poisoned");
        let now = Instant::now();
        retired.retain(|(name, due)| {
            if *name == current {
                return false; // rebuilt under that name since: never dropped
            }
            if *due > now {
                return true;
            }
            if let Err(e) = self.db.drop_tree(name) {
                tracing::warn!(error = %e, tree = %String::from_utf8_lossy(name), "dropping a replaced generation failed; the next start retries");
            }
            false
        });
        retired.iter().map(|(_, due)| *due).min()
    }

    /// The generations of the models on disk, the current one included.
    pub fn generations(&self) -> Vec<String> {
        self.db
            .tree_names()
            .into_iter()
            .filter(|n| n.starts_with(b"views-"))
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .collect()
    }

    /// The projector has stopped: the models will not move again in this process.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn stop(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake whoever watches the position, so they see it.
        self.position.send_modify(|_| {});
    }

    pub(super) fn published(&self, position: u64) {
        self.position.send_replace(position);
    }

    pub fn flush(&self) -> Result<(), ProjectionError> {
        self.db.flush()?;
        Ok(())
    }
}

/// How long a generation replaced by a rebuild stays readable: longer than any one read.
const RETIRE_AFTER: Duration = Duration::from_secs(30);

pub(super) fn read_position(tree: &sled::Tree) -> Result<u64, ProjectionError> {
    Ok(match tree.get(POSITION_KEY)? {
        Some(v) => u64::from_be_bytes(
            v.as_ref()
                .try_into()
                .map_err(|_| ProjectionError::Corrupt("position is not 8 bytes".into()))?,
        ),
        None => 0,
    })
}

fn project_key(id: ProjectId) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(b'p');
    k.extend_from_slice(id.0.as_bytes());
    k
}

fn day_key(tag: u8, day: NaiveDate) -> Vec<u8> {
    let mut k = Vec::with_capacity(41);
    k.push(tag);
    // Days since 0001-01-01 are positive for every date a plan uses, so big-endian bytes sort
    // like the dates.
    k.extend_from_slice(&(day.num_days_from_ce() as u32).to_be_bytes());
    k
}

fn open_key(due: NaiveDate, project: ProjectId, milestone: MilestoneId) -> Vec<u8> {
    let mut k = day_key(b'o', due);
    k.extend_from_slice(project.0.as_bytes());
    k.extend_from_slice(milestone.0.as_bytes());
    k
}

/// Where the counts of all open milestones (`None`) or of one department's begin.
fn count_prefix(dept: Option<&DepartmentCode>) -> Vec<u8> {
    let mut k = vec![b'c'];
    if let Some(d) = dept {
        k.extend_from_slice(d.as_str().as_bytes());
    }
    k.push(0);
    k
}

fn count_key(dept: Option<&DepartmentCode>, due: NaiveDate) -> Vec<u8> {
    let mut k = count_prefix(dept);
    k.extend_from_slice(&(due.num_days_from_ce() as u32).to_be_bytes());
    k
}

fn count_value(v: &[u8]) -> Result<u64, ProjectionError> {
    v.try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| ProjectionError::Corrupt("a count is not 8 bytes".into()))
}

/// The hold row of a due-date row: the same key under `h`.
fn held_key(open_key: &[u8]) -> Vec<u8> {
    let mut k = open_key.to_vec();
    k[0] = b'h';
    k
}

/// Changes to the overdue counts, gathered over one write, and the hold rows they call for.
#[derive(Default)]
struct DueCounts(BTreeMap<Vec<u8>, i64>);

impl DueCounts {
    /// Adds the moves another part counted.
    fn merge(&mut self, other: DueCounts) {
        for (key, delta) in other.0 {
            *self.0.entry(key).or_default() += delta;
        }
    }

    /// A due-date row entering (`delta` 1) or leaving (`delta` -1) the index.
    fn row(
        &mut self,
        changes: &mut Changes,
        key: &[u8],
        value: &[u8],
        delta: i64,
    ) -> Result<(), ProjectionError> {
        let row = decode_open(key, value)?;
        *self.0.entry(count_key(None, row.due)).or_default() += delta;
        let mut depts: Vec<&DepartmentCode> = row.entry.responsible.iter().collect();
        depts.sort();
        depts.dedup();
        for d in depts {
            *self.0.entry(count_key(Some(d), row.due)).or_default() += delta;
        }
        if !row.entry.hold_expires.is_empty() {
            if delta > 0 {
                changes.insert(held_key(key), Vec::new());
            } else {
                changes.remove(held_key(key));
            }
        }
        Ok(())
    }

    /// Adds the changes to the counts `stored` says are there now, in `changes`.
    fn apply(
        self,
        stored: impl Fn(&[u8]) -> Result<u64, ProjectionError>,
        changes: &mut Changes,
    ) -> Result<(), ProjectionError> {
        for (key, delta) in self.0 {
            if delta == 0 {
                continue;
            }
            let stored = stored(&key)?;
            let count = stored as i64 + delta;
            if count < 0 {
                tracing::error!(
                    ?key,
                    stored,
                    delta,
                    "an overdue count would fall below zero; kept at zero"
                );
            }
            if count <= 0 {
                changes.remove(key);
            } else {
                changes.insert(key, (count as u64).to_be_bytes().to_vec());
            }
        }
        Ok(())
    }
}

/// The count stored under `key` in `tree` (0 when there is none).
fn stored_count(tree: &sled::Tree, key: &[u8]) -> Result<u64, ProjectionError> {
    match tree.get(key)? {
        Some(v) => count_value(&v),
        None => Ok(0),
    }
}

/// Brings a generation written by an older layout up to this one: the overdue counts and the
/// hold rows are derived from its due-date rows, in one atomic batch with the new layout mark.
fn ensure_layout(tree: &sled::Tree) -> Result<(), ProjectionError> {
    let found = match tree.get(LAYOUT_KEY)? {
        Some(v) if v.len() == 4 => u32::from_be_bytes(v.as_ref().try_into().expect("4 bytes")),
        Some(_) => 0,
        None => 1,
    };
    if found > LAYOUT {
        return Err(ProjectionError::Corrupt(format!(
            "the read models in {} were written by a newer duban (layout {found}; this one \
             reads up to {LAYOUT}); they can be derived again from the log: stop the service, \
             move the projections directory aside and start again",
            String::from_utf8_lossy(&tree.name())
        )));
    }
    if found >= 2 {
        // Layout 3 changed only how records are encoded, and it reads the older encoding.
        if found < LAYOUT {
            tree.insert(LAYOUT_KEY, &LAYOUT.to_be_bytes())?;
        }
        return Ok(());
    }
    tracing::info!(
        tree = %String::from_utf8_lossy(&tree.name()),
        found,
        layout = LAYOUT,
        "counting the due-date index for the overdue counts"
    );
    let mut changes = Changes::default();
    for prefix in [b"c", b"h"] {
        for k in tree.scan_prefix(prefix).keys() {
            changes.remove(k?.to_vec());
        }
    }
    let mut counts = DueCounts::default();
    for kv in tree.range(b"o".to_vec()..b"p".to_vec()) {
        let (k, v) = kv?;
        counts.row(&mut changes, &k, &v, 1)?;
    }
    // Counted from nothing: whatever counts were stored are removed above.
    counts.apply(|_| Ok(0), &mut changes)?;
    let mut batch = changes.into_batch();
    batch.insert(LAYOUT_KEY, &LAYOUT.to_be_bytes());
    Ok(tree.apply_batch(batch)?)
}

fn dept_prefix(dept: &DepartmentCode) -> Vec<u8> {
    let mut k = vec![b'd'];
    k.extend_from_slice(dept.as_str().as_bytes());
    k.push(0);
    k
}

fn uuid_at(key: &[u8], at: usize) -> Result<uuid::Uuid, ProjectionError> {
    key.get(at..at + 16)
        .and_then(|b| uuid::Uuid::from_slice(b).ok())
        .ok_or_else(|| ProjectionError::Corrupt(format!("malformed key {key:?}")))
}

fn decode_open(k: &[u8], v: &[u8]) -> Result<OpenMilestone, ProjectionError> {
    let days = k
        .get(1..5)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| ProjectionError::Corrupt(format!("malformed key {k:?}")))?;
    let due = NaiveDate::from_num_days_from_ce_opt(days as i32)
        .ok_or_else(|| ProjectionError::Corrupt(format!("bad day in key {k:?}")))?;
    Ok(OpenMilestone {
        due,
        project_id: ProjectId(uuid_at(k, 5)?),
        milestone_id: MilestoneId(uuid_at(k, 21)?),
        entry: serde_json::from_slice(v)?,
    })
}

fn get_record(tree: &sled::Tree, id: ProjectId) -> Result<Option<ProjectRecord>, ProjectionError> {
    match tree.get(project_key(id))? {
        Some(v) => Ok(Some(decode_record(&v)?)),
        None => Ok(None),
    }
}

/// The most a stored record may inflate to: far above any real project's.
const RECORD_MAX_BYTES: usize = 64 << 20;

thread_local! {
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A record as stored: its JSON, compressed with zstd at level 1. The JSON of a record
/// repeats its field names for every milestone and compresses about sevenfold, and the
/// compressed bytes are what sled writes, logs and keeps in its cache.
fn encode_record(record: &ProjectRecord) -> Result<Vec<u8>, ProjectionError> {
    Ok(encode_record_sized(record)?.0)
}

/// [`encode_record`], and the length of the record's JSON.
fn encode_record_sized(record: &ProjectRecord) -> Result<(Vec<u8>, usize), ProjectionError> {
    let json = serde_json::to_vec(record)?;
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let c = match &mut *c {
            Some(c) => c,
            empty => empty.insert(zstd::bulk::Compressor::new(1)?),
        };
        let mut stored = c.compress(&json)?;
        // Sized for the worst case; a rebuild holds thousands of these at once.
        stored.shrink_to_fit();
        Ok((stored, json.len()))
    })
}

/// Reads a stored record: compressed by [`encode_record`], or the plain JSON that models
/// of layout 2 and before hold until the record is next written.
fn decode_record(stored: &[u8]) -> Result<ProjectRecord, ProjectionError> {
    if stored.first() == Some(&b'{') {
        return Ok(serde_json::from_slice(stored)?);
    }
    let size = zstd::bulk::Decompressor::upper_bound(stored)
        .filter(|&n| n <= RECORD_MAX_BYTES)
        .ok_or_else(|| {
            ProjectionError::Corrupt("a stored record is neither JSON nor zstd".into())
        })?;
    let json = DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        let d = match &mut *d {
            Some(d) => d,
            empty => empty.insert(zstd::bulk::Decompressor::new()?),
        };
        d.decompress(stored, size)
            .map_err(|e| ProjectionError::Corrupt(format!("a stored record does not inflate: {e}")))
    })?;
    Ok(serde_json::from_slice(&json)?)
}

/// Index rows: key → value.
type Rows = BTreeMap<Vec<u8>, Vec<u8>>;

/// The index rows a record calls for.
fn index_rows(r: &ProjectRecord) -> Rows {
    let mut rows = BTreeMap::new();
    for (mid, m) in r.open_milestones() {
        let entry = OpenEntry {
            project_name: r.name().to_owned(),
            title: m.title.clone(),
            responsible: m.responsible.clone(),
            lead: r.state.lead_department().cloned(),
            hold_expires: [m.hold.as_ref(), r.state.hold.as_ref()]
                .into_iter()
                .flatten()
                .map(|h| h.expires_on)
                .collect(),
        };
        let value = serde_json::to_vec(&entry).expect("plain data serializes");
        rows.insert(open_key(m.due, r.project_id, *mid), value);
    }
    for dept in r.state.departments.keys() {
        let mut k = dept_prefix(dept);
        k.extend_from_slice(r.project_id.0.as_bytes());
        rows.insert(k, Vec::new());
    }
    rows
}

/// A notice the notifier decided, as the outbox keeps it until (and after) it is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The seq of the event that decided the notice: the order notices are listed in.
    /// (0 in models written before it was kept, until they are rebuilt.)
    #[serde(default)]
    pub seq: u64,
    pub project_id: ProjectId,
    pub notice: NoticeDue,
    pub decided_at: DateTime<Utc>,
    pub sent: Option<Delivery>,
    /// Failed delivery attempts so far.
    pub failures: u32,
    pub last_error: Option<String>,
    pub first_failed_at: Option<DateTime<Utc>>,
    pub last_failed_at: Option<DateTime<Utc>>,
    /// Given up (a permanent failure or the retry deadline passed): not tried again.
    pub dead: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub message_id: String,
    pub at: DateTime<Utc>,
}

fn outbox_key(dedup_key: &str) -> Vec<u8> {
    let mut k = vec![b'n'];
    k.extend_from_slice(dedup_key.as_bytes());
    k
}

fn pending_key(dedup_key: &str) -> Vec<u8> {
    let mut k = vec![b'q'];
    k.extend_from_slice(dedup_key.as_bytes());
    k
}

/// Folds runs of events (in seq order, following the tree's position) and writes what they
/// change with the new position: as one atomic batch when live, key by key for a rebuild's
/// generation ([`Folder::write_unread`]). Events whose stream is not a project, or
/// whose payload cannot be read, are logged and passed over, the same way every time, so a
/// rebuild still reproduces the live models. A rebuild folds many runs before writing once,
/// so each project's record is decoded and encoded once per write, not once per run.
pub(super) struct Folder {
    position: u64,
    /// The live projector's [`RecordCache`], lent for one run: records known to equal the
    /// tree's, taken in place of reading and decoding them, and given the records `write`
    /// wrote. `None` (a rebuild, a test) reads every record from the tree and keeps none.
    cached: Option<Cached>,
    /// Each project folded since the last write: the index rows its stored record called for,
    /// and the record as folded since.
    touched: HashMap<ProjectId, (Rows, ProjectRecord)>,
    outbox: BTreeMap<String, OutboxEntry>,
    /// Events folded since the last write.
    pub pending: usize,
}

impl Folder {
    pub fn new(tree: &sled::Tree) -> Result<Self, ProjectionError> {
        Ok(Self {
            position: read_position(tree)?,
            cached: None,
            touched: HashMap::new(),
            outbox: BTreeMap::new(),
            pending: 0,
        })
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    /// How many projects' records the folder holds, folded since its last write.
    pub fn held(&self) -> usize {
        self.touched.len()
    }

    /// Folds events already decoded by [`decode`] (a rebuild decodes on another thread).
    pub fn fold_decoded(
        &mut self,
        tree: &sled::Tree,
        events: &[Decoded],
    ) -> Result<(), ProjectionError> {
        for decoded in events {
            let at = decoded.at;
            self.position = at.seq;
            self.pending += 1;
            let Some((id, event)) = &decoded.event else {
                continue;
            };
            let id = *id;
            self.notice(tree, id, at, event)?;
            let slot = match self.touched.entry(id) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let cached = self.cached.as_mut().and_then(|c| c.remove(&id));
                    let record = match cached {
                        Some((record, _)) => record,
                        None => get_record(tree, id)?.unwrap_or_else(|| ProjectRecord::new(id)),
                    };
                    let old = index_rows(&record);
                    v.insert((old, record))
                }
            };
            slot.1.apply(at, event);
        }
        Ok(())
    }

    /// Keeps the outbox: a decided notice enters it pending; sent, it leaves the queue.
    fn notice(
        &mut self,
        tree: &sled::Tree,
        project_id: ProjectId,
        at: Position,
        event: &Event,
    ) -> Result<(), ProjectionError> {
        let key = match event {
            Event::NoticeDue(n) => {
                let entry = OutboxEntry {
                    seq: at.seq,
                    project_id,
                    notice: n.clone(),
                    decided_at: at.recorded_at,
                    sent: None,
                    failures: 0,
                    last_error: None,
                    first_failed_at: None,
                    last_failed_at: None,
                    dead: false,
                };
                self.outbox.insert(n.dedup_key.clone(), entry);
                return Ok(());
            }
            Event::NoticeSent(n) => &n.dedup_key,
            Event::NoticeFailed(n) => &n.dedup_key,
            _ => return Ok(()),
        };
        if !self.outbox.contains_key(key) {
            let Some(v) = tree.get(outbox_key(key))? else {
                return Ok(());
            };
            self.outbox.insert(key.clone(), serde_json::from_slice(&v)?);
        }
        let entry = self.outbox.get_mut(key).expect("just loaded");
        match event {
            Event::NoticeSent(n) => {
                entry.sent = Some(Delivery {
                    message_id: n.message_id.clone(),
                    at: at.recorded_at,
                })
            }
            Event::NoticeFailed(n) => {
                entry.failures = entry.failures.max(n.attempt);
                entry.last_error = Some(n.error.clone());
                entry.first_failed_at.get_or_insert(at.recorded_at);
                entry.last_failed_at = Some(at.recorded_at);
                entry.dead |= n.permanent;
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes everything folded since the last write, with the position, atomically; says
    /// which projects' records it wrote, at which versions.
    pub fn write(&mut self, tree: &sled::Tree) -> Result<Written, ProjectionError> {
        let touched: Vec<_> = self.touched.drain().collect();
        let (mut changes, projects) = self.row_changes(tree, &touched, 1)?;
        let mut sizes = Vec::with_capacity(touched.len());
        for (id, (_, record)) in &touched {
            let (stored, json) = encode_record_sized(record)?;
            changes.insert(project_key(*id), stored);
            sizes.push(json);
        }
        let mut batch = changes.into_batch();
        batch.insert(POSITION_KEY, &self.position.to_be_bytes());
        tree.apply_batch(batch)?;
        // Only now are these records the tree's: a failed batch leaves them out of the cache.
        if let Some(cached) = &mut self.cached {
            for ((id, (_, record)), json) in touched.into_iter().zip(sizes) {
                cached.insert(id, (record, json));
            }
        }
        Ok(self.written(projects))
    }

    /// Writes like [`write`](Self::write), but not atomically and on several threads. Only
    /// for a generation nobody reads yet (a rebuild's): a crash leaves it unfinished, never
    /// switched to. (An atomic batch takes sled's lock on every writer, and keeps every node
    /// it replaces until it ends.)
    ///
    /// `threads` threads work out the index rows of their share of the projects; then one
    /// thread encodes and compresses the records, most of the work, and inserts them while
    /// this one inserts the rows. Records sort after the rows (all but the outbox's queue),
    /// and each thread writes in key order, so that sled finds each leaf it writes to where
    /// it wrote the last key. The position goes in last.
    pub fn write_unread(
        &mut self,
        tree: &sled::Tree,
        threads: usize,
    ) -> Result<Written, ProjectionError> {
        let touched: Vec<_> = self.touched.drain().collect();
        let (changes, projects) = self.row_changes(tree, &touched, threads)?;
        std::thread::scope(|s| {
            let records = s.spawn(|| -> Result<(), ProjectionError> {
                for (key, record) in encode_records(&touched)? {
                    tree.insert(key, record)?;
                }
                Ok(())
            });
            let rows = changes.insert_in_order(tree);
            rows.and(joined(records))
        })?;
        tree.insert(POSITION_KEY, &self.position.to_be_bytes())?;
        Ok(self.written(projects))
    }

    fn written(&mut self, projects: Vec<(ProjectId, u64)>) -> Written {
        self.pending = 0;
        Written {
            position: self.position,
            projects,
        }
    }

    /// Everything a write changes in `tree` but the records themselves: the index rows of
    /// the `touched` projects that changed, worked out by `threads` threads, the due-date
    /// counts and the outbox; and which projects' records at which versions.
    fn row_changes(
        &mut self,
        tree: &sled::Tree,
        touched: &[Touched],
        threads: usize,
    ) -> Result<(Changes, Vec<(ProjectId, u64)>), ProjectionError> {
        let share = touched.len().div_ceil(threads.max(1)).max(1);
        let mut parts = in_threads(touched.chunks(share), project_rows)?.into_iter();
        let (mut changes, mut counts) = parts.next().unwrap_or_default();
        for (c, n) in parts {
            changes.merge(c);
            counts.merge(n);
        }
        for (key, entry) in std::mem::take(&mut self.outbox) {
            if entry.sent.is_some() || entry.dead {
                changes.remove(pending_key(&key));
            } else {
                changes.insert(pending_key(&key), Vec::new());
            }
            changes.insert(outbox_key(&key), serde_json::to_vec(&entry)?);
        }
        counts.apply(|key| stored_count(tree, key), &mut changes)?;
        let projects = touched
            .iter()
            .map(|(id, (_, record))| (*id, record.version))
            .collect();
        Ok((changes, projects))
    }
}

/// A project folded since the last write: the index rows its stored record called for, and
/// the record as folded since.
type Touched = (ProjectId, (Rows, ProjectRecord));

/// Runs `work` on each part, each on a thread of its own when there are several, and
/// returns their results in order, or the first error.
fn in_threads<'a, P, T, F>(
    parts: impl Iterator<Item = &'a [P]>,
    work: F,
) -> Result<Vec<T>, ProjectionError>
where
    P: Sync + 'a,
    T: Send,
    F: Fn(&'a [P]) -> Result<T, ProjectionError> + Sync,
{
    let parts: Vec<&[P]> = parts.collect();
    if parts.len() <= 1 {
        return parts.into_iter().map(work).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(|| work(part)))
            .collect();
        handles.into_iter().map(joined).collect()
    })
}

/// What a scoped thread returned; its panic, if it panicked, carries on in the caller.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The index rows of these projects that changed since their stored records', and how the
/// due-date counts move.
fn project_rows(projects: &[Touched]) -> Result<(Changes, DueCounts), ProjectionError> {
    let mut changes = Changes::default();
    let mut counts = DueCounts::default();
    for (_, (old, record)) in projects {
        let rows = index_rows(record);
        // A due-date row that changed leaves the counts as it was and enters them as it
        // is: its due day, departments or holds may be what changed.
        for (k, v) in old.iter().filter(|(k, _)| k.first() == Some(&b'o')) {
            if rows.get(k) != Some(v) {
                counts.row(&mut changes, k, v, -1)?;
            }
        }
        for (k, v) in rows.iter().filter(|(k, _)| k.first() == Some(&b'o')) {
            if old.get(k) != Some(v) {
                counts.row(&mut changes, k, v, 1)?;
            }
        }
        for gone in old.keys().filter(|k| !rows.contains_key(*k)) {
            changes.remove(gone.clone());
        }
        // Only the rows that changed: a progress report, the commonest event, changes
        // none of them.
        for (k, v) in rows {
            if old.get(&k) != Some(&v) {
                changes.insert(k, v);
            }
        }
    }
    Ok((changes, counts))
}

/// A key and the value stored under it.
type Stored = (Vec<u8>, Vec<u8>);

/// The projects' records as stored, in key order.
fn encode_records(projects: &[Touched]) -> Result<Vec<Stored>, ProjectionError> {
    let mut records = projects
        .iter()
        .map(|(id, (_, record))| Ok((project_key(*id), encode_record(record)?)))
        .collect::<Result<Vec<_>, ProjectionError>>()?;
    records.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(records)
}

/// What one write changes in a generation, in key order: a value to insert, or `None` to
/// remove the key. A later change to a key replaces an earlier one.
#[derive(Default)]
struct Changes(BTreeMap<Vec<u8>, Option<Vec<u8>>>);

impl Changes {
    fn insert(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.0.insert(key, Some(value));
    }

    fn remove(&mut self, key: Vec<u8>) {
        self.0.insert(key, None);
    }

    /// Takes in the changes of another part; its keys are its own.
    fn merge(&mut self, mut other: Changes) {
        self.0.append(&mut other.0);
    }

    /// The changes as one atomic sled batch.
    fn into_batch(self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (key, value) in self.0 {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        batch
    }

    /// Inserts and removes the keys in key order, one at a time: not atomically.
    fn insert_in_order(self, tree: &sled::Tree) -> Result<(), ProjectionError> {
        for (key, value) in self.0 {
            match value {
                Some(v) => tree.insert(key, v)?,
                None => tree.remove(key)?,
            };
        }
        Ok(())
    }
}

/// One event as the fold needs it: where it stands in the log, and its project and payload.
#[derive(Clone)]
pub(super) struct Decoded {
    pub at: Position,
    pub event: Option<(ProjectId, Event)>,
}

/// Reads an event's project and payload. Events whose stream is not a project, or whose
/// payload cannot be read, are logged and passed over, the same way every time.
pub(super) fn decode(e: EventView<'_>) -> Decoded {
    let at = Position {
        seq: e.seq,
        version: e.version,
        recorded_at: e.recorded_at,
    };
    let Ok(id) = e.stream.parse::<uuid::Uuid>().map(ProjectId) else {
        tracing::warn!(seq = e.seq, stream = %e.stream, "not a project stream; passed over");
        return Decoded { at, event: None };
    };
    match domain::decode_str(&e.event_type, e.schema_version, e.payload.get()) {
        Ok(event) => Decoded {
            at,
            event: Some((id, event)),
        },
        Err(why) => {
            tracing::error!(seq = e.seq, %why, "event unreadable; passed over");
            Decoded { at, event: None }
        }
    }
}

/// What one write of the folder put in the models.
pub(super) struct Written {
    /// The seq the models reflect now.
    pub position: u64,
    /// The projects whose records were written, with their versions.
    pub projects: Vec<(ProjectId, u64)>,
}

/// How much of their JSON the records the live projector keeps decoded between runs may
/// add up to; decoded, they take about as much memory again.
const CACHED_BYTES: usize = 16 << 20;

/// Records kept decoded, each with the length of its JSON.
type Cached = HashMap<ProjectId, (ProjectRecord, usize)>;

/// The records the live projector last wrote, kept decoded: the next event of a project
/// folds into its record without reading it back from the tree, decompressing and decoding
/// it (a third of the projector's work per event). The projector is the only writer of the
/// live tree, and a record enters the cache only once the batch that wrote it has been
/// applied, so a cached record is the stored one. A cache belongs to one generation: it
/// empties itself when handed another tree (after a rebuild), and when folding or writing a
/// run fails.
pub(super) struct RecordCache {
    generation: Option<sled::IVec>,
    records: Cached,
    /// At most this many bytes of JSON: [`CACHED_BYTES`].
    budget: usize,
}

impl Default for RecordCache {
    fn default() -> Self {
        Self::with_budget(CACHED_BYTES)
    }
}

impl RecordCache {
    fn with_budget(budget: usize) -> Self {
        Self {
            generation: None,
            records: HashMap::new(),
            budget,
        }
    }

    /// The records for `tree`, taken out; whatever happens to them next, the cache holds
    /// none until [`keep`](Self::keep) is called.
    fn take(&mut self, tree: &sled::Tree) -> Cached {
        let name = tree.name();
        if self.generation.as_ref() != Some(&name) {
            self.records.clear();
            self.generation = Some(name);
        }
        std::mem::take(&mut self.records)
    }

    /// Keeps the records a run left once it was written: those it did not touch and those
    /// it wrote. Over the budget, the cache starts afresh with the run's own records, the
    /// ones most likely to come up again, or empty if even they are over it.
    fn keep(&mut self, mut records: Cached, written: &[(ProjectId, u64)]) {
        let bytes = |records: &Cached| records.values().map(|(_, n)| n).sum::<usize>();
        if bytes(&records) > self.budget {
            let run: std::collections::HashSet<_> = written.iter().map(|(p, _)| *p).collect();
            records.retain(|id, _| run.contains(id));
            if bytes(&records) > self.budget {
                records = HashMap::new();
            }
            records.shrink_to_fit();
        }
        self.records = records;
    }

    #[cfg(test)]
    fn ids(&self) -> std::collections::BTreeSet<ProjectId> {
        self.records.keys().copied().collect()
    }
}

/// Reads up to `limit` events after the models' position from the log, folds them into the
/// records `cache` holds or the tree's, and writes them; `None` when there was nothing to read.
pub(super) fn fold_batch<S: EventStore>(
    tree: &sled::Tree,
    store: &S,
    limit: usize,
    cache: &mut RecordCache,
) -> Result<Option<Written>, ProjectionError> {
    let folder = Folder::new(tree)?;
    let mut decoded = Vec::new();
    store.scan_all(folder.position() + 1, limit, |e| decoded.push(decode(e)))?;
    if decoded.is_empty() {
        return Ok(None);
    }
    fold_run(tree, folder, &decoded, cache).map(Some)
}

/// Folds one run (the events right after the folder's position) and writes it atomically.
fn fold_run(
    tree: &sled::Tree,
    mut folder: Folder,
    decoded: &[Decoded],
    cache: &mut RecordCache,
) -> Result<Written, ProjectionError> {
    folder.cached = Some(cache.take(tree));
    folder.fold_decoded(tree, decoded)?;
    let written = folder.write(tree)?;
    cache.keep(folder.cached.take().unwrap_or_default(), &written.projects);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ProjectRecord {
        let mut r = ProjectRecord::new(ProjectId(uuid::Uuid::from_u128(7)));
        r.version = 3;
        r.position = 42;
        r
    }

    #[test]
    fn a_record_is_stored_compressed_and_read_back_the_same() {
        let stored = encode_record(&record()).unwrap();
        assert_ne!(stored.first(), Some(&b'{'), "not plain JSON");
        assert_eq!(decode_record(&stored).unwrap(), record());
    }

    #[test]
    fn a_record_stored_as_plain_json_by_an_older_layout_is_still_read() {
        let json = serde_json::to_vec(&record()).unwrap();
        assert_eq!(decode_record(&json).unwrap(), record());
    }

    /// Registrations and milestones for `projects` projects, every third parked, as decoded
    /// events; projects share due days, so that one write adds to counts another wrote.
    fn events(projects: u128) -> Vec<Decoded> {
        use crate::domain::*;
        let lead = DepartmentCode::new("SXEIC").unwrap();
        let mut out = Vec::new();
        let mut seq = 0;
        let mut push = |id: ProjectId, version: u64, event: Event| {
            seq += 1;
            out.push(Decoded {
                at: Position {
                    seq,
                    version,
                    recorded_at: Utc::now(),
                },
                event: Some((id, event)),
            });
        };
        for i in 0..projects {
            let id = ProjectId(uuid::Uuid::from_u128(100 + i));
            push(
                id,
                1,
                Event::ProjectRegistered(ProjectRegistered {
                    project_id: id,
                    name: format!("项目{i}"),
                    industry: Industry::NewMaterials,
                    city: City::Taiyuan,
                    lead_department: lead.clone(),
                    supporting_departments: vec![],
                    description: String::new(),
                    source_section: "四".into(),
                }),
            );
            for k in 0..3u128 {
                push(
                    id,
                    2 + k as u64,
                    Event::MilestoneScheduled(MilestoneScheduled {
                        milestone_id: MilestoneId(uuid::Uuid::from_u128(i * 10 + k + 1)),
                        title: format!("节点{k}"),
                        due_date: NaiveDate::from_ymd_opt(2018, 1 + k as u32, 1 + (i % 2) as u32)
                            .unwrap(),
                        responsible_departments: vec![lead.clone()],
                    }),
                );
            }
            if i % 3 == 1 {
                push(
                    id,
                    5,
                    Event::HoldPlaced(HoldPlaced {
                        kind: HoldKind::Parked,
                        milestone_id: None,
                        approver: "wang".into(),
                        reason: "缓办".into(),
                        expires_on: NaiveDate::from_ymd_opt(2018, 9, 30).unwrap(),
                    }),
                );
            }
        }
        out
    }

    #[test]
    fn a_write_shared_among_threads_stores_what_one_batch_stores() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let (whole, parts) = (
            db.open_tree("whole").unwrap(),
            db.open_tree("parts").unwrap(),
        );
        let decoded = events(12);
        let mut one = Folder::new(&whole).unwrap();
        one.fold_decoded(&whole, &decoded).unwrap();
        one.write(&whole).unwrap();
        let mut many = Folder::new(&parts).unwrap();
        // Split inside a project, so that its record and rows are written twice.
        many.fold_decoded(&parts, &decoded[..18]).unwrap();
        many.write_unread(&parts, 1).unwrap();
        many.fold_decoded(&parts, &decoded[18..]).unwrap();
        let written = many.write_unread(&parts, 3).unwrap();
        assert_eq!(written.position, decoded.len() as u64);
        let all = |t: &sled::Tree| -> Vec<_> { t.iter().map(Result::unwrap).collect() };
        assert_eq!(all(&whole), all(&parts));
        assert!(
            all(&whole).iter().any(|(k, _)| k[0] == b'h'),
            "hold rows written"
        );
        assert!(
            all(&whole).iter().any(|(k, _)| k[0] == b'c'),
            "counts written"
        );
    }

    /// Folds `run` into `tree` as the live projector does, with `cache`.
    fn fold_run(
        tree: &sled::Tree,
        run: &[Decoded],
        cache: &mut RecordCache,
    ) -> Result<Written, ProjectionError> {
        super::fold_run(tree, Folder::new(tree)?, run, cache)
    }

    #[test]
    fn records_kept_between_runs_fold_to_what_the_tree_gives() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let all = |t: &sled::Tree| -> Vec<_> { t.iter().map(Result::unwrap).collect() };
        let decoded = events(12);
        // Runs that end inside a project, so that its next run starts from a kept record.
        let runs = [&decoded[..18], &decoded[18..31], &decoded[31..]];
        let (kept, read) = (db.open_tree("kept").unwrap(), db.open_tree("read").unwrap());
        let mut cache = RecordCache::default();
        for (i, run) in runs.into_iter().enumerate() {
            if i == 1 {
                // The kept record is the one folded into: without it, the project's record
                // would start afresh and lose its registration.
                let (split, _) = run[0].event.as_ref().unwrap();
                assert!(cache.ids().contains(split));
                kept.remove(project_key(*split)).unwrap().unwrap();
            }
            fold_run(&kept, run, &mut cache).unwrap();
            fold_run(&read, run, &mut RecordCache::default()).unwrap();
        }
        assert_eq!(cache.ids().len(), 12, "every project's record kept");
        assert_eq!(all(&kept), all(&read));

        // Handed another generation, the cache forgets the records of the first: folding the
        // first run again must not start from records that have every milestone already.
        let (other, fresh) = (
            db.open_tree("other").unwrap(),
            db.open_tree("fresh").unwrap(),
        );
        fold_run(&other, runs[0], &mut cache).unwrap();
        fold_run(&fresh, runs[0], &mut RecordCache::default()).unwrap();
        assert_eq!(all(&other), all(&fresh));
    }

    #[test]
    fn a_run_that_fails_leaves_no_record_kept() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("views").unwrap();
        let decoded = events(3);
        let (first, rest) = decoded.split_at(decoded.len() - 4);
        let mut cache = RecordCache::default();
        fold_run(&tree, first, &mut cache).unwrap();
        assert!(!cache.ids().is_empty());
        // The last project's record, not kept, is damaged in the tree.
        let (last, _) = rest[0].event.as_ref().unwrap();
        assert!(!cache.ids().contains(last));
        tree.insert(project_key(*last), b"\x00\x01".as_slice())
            .unwrap();
        assert!(fold_run(&tree, rest, &mut cache).is_err());
        assert!(cache.ids().is_empty(), "nothing kept after a failed run");
    }

    #[test]
    fn the_kept_records_are_bounded_by_their_json() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("views").unwrap();
        let decoded = events(40);
        let run = |from: usize, to: usize| -> Vec<Decoded> {
            decoded
                .iter()
                .filter(|d| {
                    let (id, _) = d.event.as_ref().unwrap();
                    let i = (id.0.as_u128() - 100) as usize;
                    (from..to).contains(&i)
                })
                .cloned()
                .collect()
        };
        let mut probe = RecordCache::default();
        fold_run(&db.open_tree("probe").unwrap(), &run(0, 15), &mut probe).unwrap();
        let fifteen: usize = probe.records.values().map(|(_, json)| json).sum();
        // Room for fifteen records and a half more.
        let mut cache = RecordCache::with_budget(fifteen + fifteen / 2);
        fold_run(&tree, &run(0, 15), &mut cache).unwrap();
        assert_eq!(cache.ids().len(), 15);
        // Fifteen more do not fit beside them: only the run's own are kept.
        fold_run(&tree, &run(15, 30), &mut cache).unwrap();
        let second: std::collections::BTreeSet<_> = (15..30)
            .map(|i| ProjectId(uuid::Uuid::from_u128(100 + i)))
            .collect();
        assert_eq!(cache.ids(), second);
        // A run too large on its own leaves none.
        let mut small = RecordCache::with_budget(fifteen / 30);
        fold_run(&tree, &run(30, 40), &mut small).unwrap();
        assert!(small.ids().is_empty());
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let mut stored = encode_record(&record()).unwrap();
        let last = stored.len() - 1;
        stored.truncate(last);
        assert!(matches!(
            decode_record(&stored),
            Err(ProjectionError::Corrupt(_))
        ));
        assert!(matches!(
            decode_record(b"\x00\x01"),
            Err(ProjectionError::Corrupt(_))
        ));
    }
}
