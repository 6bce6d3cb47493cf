//! Whether the log may take writes. Open checks only the tail ([`TAIL_CHECK`] events); the
//! whole chain is verified by a thread started right after open, so that the service serves
//! reads at once. Until that check passes appends wait (briefly) and then are refused; if it
//! fails — or a write or a read meets a storage failure later — the store is poisoned: it
//! never again appends on top of a log it cannot read back and verify.
//!
//! ```text
//! open ─▶ tail check ─▶ serving reads ──────────────────────────────▶
//!           └▶ verify thread: chain from seq 1 to the head at open ─▶ Passed │ Failed (poison)
//! append ─▶ writable()? waits for Passed (≤ VERIFY_WAIT) ─▶ writer
//! ```
//!
//! [`TAIL_CHECK`]: super::verify::TAIL_CHECK

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::envelope::Head;
use super::error::StoreError;
use super::sled_store::Shared;
use super::verify;

/// Where the verification of the whole chain after open stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    Running,
    Passed,
    /// The chain does not hold, could not be read, or the store closed before the end.
    Failed,
}

/// What the readiness probe reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Verified and taking writes.
    Ready,
    /// The chain is still being verified: writes wait, then are refused; ask again shortly.
    Verifying,
    /// Closed, or poisoned: no write is taken again by this process.
    Refusing,
}

/// How long an append waits for the verification after open before it is refused with
/// [`StoreError::Verifying`]. A caller that writes right after start-up (a test, a client
/// reconnecting after a restart) would otherwise be refused while a small log is verified in
/// milliseconds; a log large enough to take longer gets a 503 with `Retry-After` instead of
/// a request held open for as long as its check runs.
pub const VERIFY_WAIT: Duration = Duration::from_secs(5);

/// Starts verifying the chain from seq 1 up to `head`, the durable head at open: no append
/// is taken before the check passes, so nothing beyond `head` can be stored meanwhile.
pub fn spawn_verification(shared: Arc<Shared>, head: Head) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("duban-log-verify".into())
        .spawn(move || {
            let started = Instant::now();
            let stop = || shared.stop_verifying.load(Ordering::Acquire);
            let outcome = verify::verify_tree_until(&shared.log, None, Some(head), &stop);
            let state = judge(&shared, outcome, started.elapsed());
            shared.verification.send_replace(state);
        })
}

/// Logs the outcome of the verification, poisons the store if the chain does not hold.
fn judge(
    shared: &Shared,
    outcome: Result<verify::VerifyReport, StoreError>,
    took: Duration,
) -> Verification {
    let ms = took.as_millis() as u64;
    match outcome {
        Ok(report) => match report.first_break {
            None => {
                tracing::info!(
                    checked = report.checked,
                    ms,
                    "event log verified; taking writes"
                );
                Verification::Passed
            }
            Some(b) => {
                let why = format!("the log fails verification at seq {}: {}", b.seq, b.reason);
                tracing::error!(seq = b.seq, kind = ?b.kind, reason = %b.reason,
                    "the event log fails verification; refusing every write (run `duban verify`)");
                shared.poison(why);
                Verification::Failed
            }
        },
        Err(StoreError::Closed) => Verification::Failed,
        Err(e) => {
            tracing::error!(error = %e, "the event log could not be verified; refusing every write");
            shared.poison(format!("the log could not be verified: {e}"));
            Verification::Failed
        }
    }
}

/// Ok once the chain verified and the store is not poisoned; waits up to [`VERIFY_WAIT`]
/// for a verification still running.
pub async fn writable(shared: &Shared) -> Result<(), StoreError> {
    let mut state = shared.verification.subscribe();
    // The common case, long after start-up, costs no timer.
    let passed = *state.borrow() == Verification::Passed;
    if !passed {
        let settled = state.wait_for(|v| *v != Verification::Running);
        match tokio::time::timeout(VERIFY_WAIT, settled).await {
            Err(_) => return Err(StoreError::Verifying),
            Ok(Ok(v)) if *v == Verification::Passed => {}
            Ok(_) => {
                return Err(shared
                    .poisoned()
                    .map_or(StoreError::Closed, StoreError::Poisoned));
            }
        }
    }
    match shared.poisoned() {
        Some(why) => Err(StoreError::Poisoned(why)),
        None => Ok(()),
    }
}

/// Passes a read's outcome on; a storage failure poisons the store first (corruption found
/// after the verification at open).
pub fn after_read<T>(shared: &Shared, outcome: Result<T, StoreError>) -> Result<T, StoreError> {
    if let Err(e) = &outcome
        && e.is_storage_failure()
    {
        tracing::error!(error = %e, "reading the event log failed; refusing every write");
        shared.poison(format!("a read failed: {e}"));
    }
    outcome
}

/// Where a store stands, for the readiness probe.
pub fn readiness(shared: &Shared, closed: bool) -> Readiness {
    if closed || shared.poisoned().is_some() {
        return Readiness::Refusing;
    }
    match *shared.verification.borrow() {
        Verification::Running => Readiness::Verifying,
        Verification::Passed => Readiness::Ready,
        Verification::Failed => Readiness::Refusing,
    }
}
