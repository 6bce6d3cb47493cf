//! How many client connections the server holds at once, worked out at start-up from the
//! `max_connections` setting, the process's open-file limit and the worker threads. Each
//! connection is a file descriptor: with no bound, slow clients can take them all, and the
//! log's own files could no longer be opened. Past the bound, actix stops accepting; new
//! connections wait in the kernel's listen backlog until one ends.

/// Descriptors kept for the service itself: the log's and read models' files, the listener,
/// mail, logs.
const RESERVED_FDS: u64 = 128;

/// The connection bound the server is started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimit {
    /// Worker threads (actix's default: one per core), never more than connections.
    pub workers: usize,
    /// Connections each worker holds at most (actix counts per worker).
    pub per_worker: usize,
}

impl ConnectionLimit {
    /// The bound for `max_connections` on this machine and with this process's file limit.
    pub fn for_process(max_connections: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let allowed = match open_file_limit() {
            Some(limit) => {
                let room = usize::try_from(limit.saturating_sub(RESERVED_FDS).max(1))
                    .unwrap_or(usize::MAX);
                if room < max_connections {
                    tracing::warn!(
                        max_connections,
                        open_file_limit = limit,
                        serving = room,
                        "max_connections exceeds what the open-file limit leaves; raise the \
                         limit (ulimit -n) to serve more"
                    );
                }
                room.min(max_connections)
            }
            None => max_connections,
        };
        Self::split(allowed, cores)
    }

    /// `total` connections over at most `cores` workers, never more than `total` in all.
    pub fn split(total: usize, cores: usize) -> Self {
        let workers = cores.clamp(1, total.max(1));
        Self {
            workers,
            per_worker: (total / workers).max(1),
        }
    }

    /// Connections held at most, over all workers.
    pub fn total(&self) -> usize {
        self.workers * self.per_worker
    }
}

/// The soft limit on open files, where the platform has one.
fn open_file_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::resource::{Resource, getrlimit};
        getrlimit(Resource::RLIMIT_NOFILE)
            .ok()
            .map(|(soft, _)| soft)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_split_over_workers_without_exceeding_it() {
        assert_eq!(
            ConnectionLimit::split(10_000, 4),
            ConnectionLimit {
                workers: 4,
                per_worker: 2_500
            }
        );
        assert_eq!(ConnectionLimit::split(2, 8).total(), 2);
        assert_eq!(ConnectionLimit::split(1, 8).total(), 1);
        assert!(ConnectionLimit::split(10, 3).total() <= 10);
    }

    #[test]
    fn the_open_file_limit_lowers_the_bound() {
        let limit = open_file_limit();
        let bound = ConnectionLimit::for_process(usize::MAX / 2);
        if let Some(limit) = limit {
            assert!(bound.total() as u64 <= limit);
        }
    }
}
