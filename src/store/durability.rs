//! Making a group commit durable before anyone is told it happened.
//!
//! Why sled's own `flush()` is not enough: on Linux, sled 0.34 writes its log with `pwrite`
//! and then calls `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)` (sled issue #1452).
//! That pushes the dirty pages to the device queue but issues no device cache flush and
//! persists none of the file's metadata (its size after the log grows into a new segment), so
//! an acknowledged write can vanish on power loss. After every `flush()` we therefore call
//! `fdatasync` (`File::sync_data`) on sled's `db` file: it flushes the device's write cache and
//! the metadata needed to read the data back, which is exactly what `sync_file_range` leaves
//! out. Measured here, it costs one device flush per batch, not per event, which group commit
//! amortises.
//!
//! Two more corners:
//! - sled writes a log message larger than a quarter segment to its own file under `blobs/`
//!   with plain `write_all` and no sync at all. Events are capped well below that size, but a
//!   tree node can still grow past it, so after each flush any blob file not yet synced is
//!   synced, and then the `blobs` directory itself.
//! - A new file is only durable once the directory entry naming it is; the data directory is
//!   synced once at open, when sled has created `db` and `conf`.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Durability {
    db_file: File,
    blobs_dir: PathBuf,
    synced_blobs: HashSet<std::ffi::OsString>,
}

impl Durability {
    /// Prepares to sync the sled database in `dir`, and syncs the directory once.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let db_file = File::open(dir.join("db"))?;
        sync_dir(dir)?;
        Ok(Self {
            db_file,
            blobs_dir: dir.join("blobs"),
            synced_blobs: HashSet::new(),
        })
    }

    /// Flushes sled and then forces what it wrote to stable storage. Returns the time spent in
    /// sled's flush and in the fsyncs, for the metrics.
    pub fn commit(&mut self, db: &sled::Db) -> Result<(Duration, Duration), super::StoreError> {
        let started = Instant::now();
        db.flush()?;
        let flushed = Instant::now();
        // Blobs first: the log that points at them is made durable after them.
        self.sync_new_blobs()?;
        self.db_file.sync_data()?;
        Ok((flushed - started, flushed.elapsed()))
    }

    fn sync_new_blobs(&mut self) -> io::Result<()> {
        let entries = match std::fs::read_dir(&self.blobs_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut present = HashSet::new();
        let mut synced_any = false;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if !self.synced_blobs.contains(&name) {
                match File::open(entry.path()) {
                    Ok(f) => f.sync_data()?,
                    // sled may garbage-collect a blob between listing and opening it.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                synced_any = true;
            }
            present.insert(name);
        }
        if synced_any {
            sync_dir(&self.blobs_dir)?;
        }
        // Forget blobs sled has removed, so the set does not grow forever.
        self.synced_blobs = present;
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
