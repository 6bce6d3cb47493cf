//! When to try a transient delivery failure again.

use std::time::Duration;

/// When to try a transient failure again: exponential back-off with full jitter, given up
/// once `deadline` has passed since the first try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first retry's delay; it doubles with each attempt.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
    /// How long after the first try a notice is given up (dead-lettered).
    pub deadline: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
            max: Duration::from_secs(30 * 60),
            deadline: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl Backoff {
    /// The delay before retry `attempt` (1 for the first retry): uniform in
    /// `[0, min(max, base·2^(attempt−1)))`, scaled by `jitter` read as a fraction of 2^64.
    pub fn delay(&self, attempt: u32, jitter: u64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(63);
        let ceiling = self
            .base
            .as_nanos()
            .saturating_mul(1u128 << doublings)
            .min(self.max.as_nanos());
        let nanos = (ceiling * u128::from(jitter)) >> 64;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The delay before retry `attempt`, or `None` once `elapsed` (since the first try) has
    /// reached the deadline; a delay never reaches past the deadline.
    pub fn retry_after(&self, attempt: u32, elapsed: Duration, jitter: u64) -> Option<Duration> {
        let left = self
            .deadline
            .checked_sub(elapsed)
            .filter(|d| !d.is_zero())?;
        Some(self.delay(attempt, jitter).min(left))
    }

    /// Deterministic jitter for a notice's attempt: a hash of its dedup key and the attempt,
    /// so that notices failing together spread out, and a schedule can be replayed.
    pub fn jitter(dedup_key: &str, attempt: u32) -> u64 {
        let mut hasher = blake3::Hasher::new();
        hasher.update(dedup_key.as_bytes());
        hasher.update(&attempt.to_le_bytes());
        let bytes: [u8; 8] = hasher.finalize().as_bytes()[..8]
            .try_into()
            .expect("8 bytes");
        u64::from_le_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_to_the_cap_and_the_jitter_spans_it() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
            deadline: Duration::from_secs(600),
        };
        assert_eq!(b.delay(1, 0), Duration::ZERO);
        let top = |attempt| b.delay(attempt, u64::MAX);
        assert!(top(1) < Duration::from_secs(10) && top(1) > Duration::from_millis(9_999));
        assert!(top(2) > Duration::from_millis(19_999) && top(2) < Duration::from_secs(20));
        assert!(top(3) > Duration::from_millis(39_999));
        assert!(top(4) < Duration::from_secs(60) && top(1000) < Duration::from_secs(60));
        assert_eq!(b.delay(2, 1 << 63), Duration::from_secs(10));
        assert_eq!(
            b.retry_after(9, Duration::from_secs(590), u64::MAX),
            Some(Duration::from_secs(10))
        );
        assert_eq!(b.retry_after(1, Duration::from_secs(600), 0), None);
    }

    #[test]
    fn jitter_is_deterministic_per_key_and_attempt() {
        assert_eq!(Backoff::jitter("k", 1), Backoff::jitter("k", 1));
        assert_ne!(Backoff::jitter("k", 1), Backoff::jitter("k", 2));
        assert_ne!(Backoff::jitter("k", 1), Backoff::jitter("l", 1));
    }
}
