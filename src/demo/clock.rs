//! The demo's simulated clock: the service and the log read the time from it, so the
//! scripted history happens on the days the story gives, and the service then stays at the
//! `--at` moment. One shared value, moved only by the demo, forward only.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

use crate::store::Clock;

#[derive(Clone)]
pub struct SimulatedClock {
    millis: Arc<AtomicI64>,
}

impl SimulatedClock {
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(at.timestamp_millis())),
        }
    }

    /// Moves the clock to `at`; refuses to move it back, as time in a log never does.
    pub fn set(&self, at: DateTime<Utc>) -> anyhow::Result<()> {
        let now = self.now();
        if at < now {
            anyhow::bail!(
                "the simulated clock cannot go back from {} to {}",
                shanghai(now),
                shanghai(at)
            );
        }
        self.millis.store(at.timestamp_millis(), Ordering::SeqCst);
        Ok(())
    }

    pub fn now(&self) -> DateTime<Utc> {
        let millis = self.millis.load(Ordering::SeqCst);
        DateTime::from_timestamp_millis(millis).expect("the demo's instants are in range")
    }

    /// The clock as the service and the store take it.
    pub fn clock(&self) -> Clock {
        let this = self.clone();
        Arc::new(move || this.now())
    }
}

/// `2016-03-08 10:00`, read in Asia/Shanghai.
pub fn local(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .unwrap_or_else(|e| panic!("the story's time {text:?} does not parse: {e}"));
    Shanghai
        .from_local_datetime(&naive)
        .single()
        .expect("Asia/Shanghai has no ambiguous local times since 1991")
        .with_timezone(&Utc)
}

/// `2018-06-15 10:00 Asia/Shanghai`.
pub fn shanghai(at: DateTime<Utc>) -> String {
    format!(
        "{} Asia/Shanghai",
        at.with_timezone(&Shanghai).format("%Y-%m-%d %H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward_only_and_reads_shanghai_time() {
        let clock = SimulatedClock::starting_at(local("2016-03-01 09:00"));
        assert_eq!(clock.now().to_rfc3339(), "2016-03-01T01:00:00+00:00");
        clock.set(local("2018-06-15 10:00")).unwrap();
        assert_eq!((clock.clock())(), local("2018-06-15 10:00"));
        assert!(clock.set(local("2018-06-14 10:00")).is_err());
        assert_eq!(shanghai(clock.now()), "2018-06-15 10:00 Asia/Shanghai");
    }
}
