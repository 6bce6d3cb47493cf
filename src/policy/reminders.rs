//! `policies/reminders.toml`: the reminder cadence and escalation (督办提醒) — the pre-due
//! warning, the overdue notice and its repeats in working days, the escalation levels, quiet
//! hours, and how long a failing delivery is retried. Read by the notifier (`notify`).

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Deserialize;

use super::WorkingCalendar;
use crate::domain::PLAN_TZ;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub level: u8,
    pub from_working_days_overdue: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[serde(with = "hh_mm")]
    pub from: NaiveTime,
    #[serde(with = "hh_mm")]
    pub to: NaiveTime,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    pub base_seconds: u64,
    pub max_seconds: u64,
    pub deadline_hours: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    pub version: String,
    pub office_email: String,
    pub due_soon_working_days: u32,
    pub repeat_every_working_days: u32,
    #[serde(rename = "level")]
    pub levels: Vec<Level>,
    pub quiet_hours: QuietHours,
    pub retry: Retry,
}

mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M").map_err(|e| {
            serde::de::Error::custom(format!("{s:?} is not a time of day HH:MM ({e})"))
        })
    }
}

/// One step of the overdue cadence: which repeat it is and at which level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub level: u8,
    pub repeat: u32,
}

impl Reminders {
    pub fn parse(text: &str) -> Result<Self, String> {
        let r: Reminders = toml::from_str(text).map_err(|e| e.to_string())?;
        if r.repeat_every_working_days == 0 {
            return Err("repeat_every_working_days must be at least 1".into());
        }
        if !r.office_email.contains('@') {
            return Err(format!(
                "office_email {:?} is not an address",
                r.office_email
            ));
        }
        let mut levels: Vec<(u8, u32)> = r
            .levels
            .iter()
            .map(|l| (l.level, l.from_working_days_overdue))
            .collect();
        levels.sort();
        let expected: Vec<u8> = (1..=levels.len() as u8).collect();
        if levels.iter().map(|l| l.0).collect::<Vec<_>>() != expected || levels.len() > 3 {
            return Err("levels must be 1, 2 (and 3), each once".into());
        }
        if levels[0].1 != 1 {
            return Err("level 1 must start at 1 working day overdue".into());
        }
        if levels.windows(2).any(|w| w[0].1 >= w[1].1) {
            return Err("each level must start later than the one below it".into());
        }
        if r.retry.base_seconds == 0 || r.retry.max_seconds < r.retry.base_seconds {
            return Err("retry: need 0 < base_seconds <= max_seconds".into());
        }
        Ok(r)
    }

    /// The overdue step for a milestone `working_days_overdue` working days late: the latest
    /// repeat reached, at the level in force when that repeat began. `None` until the first
    /// working day after the due date.
    pub fn overdue_step(&self, working_days_overdue: i64) -> Option<Step> {
        let late = u32::try_from(working_days_overdue)
            .ok()
            .filter(|&d| d >= 1)?;
        let repeat = (late - 1) / self.repeat_every_working_days;
        let started = 1 + repeat * self.repeat_every_working_days;
        let level = self
            .levels
            .iter()
            .filter(|l| l.from_working_days_overdue <= started)
            .map(|l| l.level)
            .max()
            .unwrap_or(1);
        Some(Step { level, repeat })
    }

    /// Whether the pre-due warning is due on `day` for a milestone due on `due`.
    pub fn due_soon(&self, calendar: &WorkingCalendar, day: NaiveDate, due: NaiveDate) -> bool {
        day <= due
            && calendar.working_days_between(day, due) <= i64::from(self.due_soon_working_days)
    }

    /// `None` when mail may go out at `now`; otherwise the moment it may: the end of quiet
    /// hours, on the next working day.
    pub fn sending_deferred_until(
        &self,
        calendar: &WorkingCalendar,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&PLAN_TZ);
        let (day, time) = (local.date_naive(), local.time());
        let q = &self.quiet_hours;
        let quiet = if q.from > q.to {
            time >= q.from || time < q.to
        } else {
            time >= q.from && time < q.to
        };
        if !quiet && calendar.is_working_day(day) {
            return None;
        }
        // The first working day whose `to` lies after now.
        let mut candidate = if time < q.to { day } else { day + Days::new(1) };
        while !calendar.is_working_day(candidate) {
            candidate = candidate + Days::new(1);
        }
        let at = PLAN_TZ
            .from_local_datetime(&candidate.and_time(q.to))
            .earliest()
            .expect("Asia/Shanghai has no gaps");
        Some(at.with_timezone(&Utc))
    }

    /// The recipients of a notice at a level: the department; its leader from level 2; the
    /// office at level 3.
    pub fn recipients(&self, level: u8, email: &str, leader: &str) -> Vec<String> {
        let mut to = vec![email.to_string()];
        if level >= 2 {
            to.push(leader.to_string());
        }
        if level >= 3 {
            to.push(self.office_email.clone());
        }
        to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Reminders {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/reminders.toml");
        Reminders::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_overdue_cadence_repeats_every_five_working_days_and_escalates() {
        let r = shipped();
        assert_eq!(r.overdue_step(0), None);
        let step = |d| r.overdue_step(d).map(|s| (s.level, s.repeat));
        assert_eq!(step(1), Some((1, 0)));
        assert_eq!(step(5), Some((1, 0)));
        assert_eq!(step(6), Some((2, 1)));
        assert_eq!(step(11), Some((2, 2)));
        assert_eq!(step(16), Some((3, 3)));
        assert_eq!(step(40), Some((3, 7)));
    }

    #[test]
    fn quiet_hours_and_days_off_defer_to_the_next_working_morning() {
        let r = shipped();
        let cal = WorkingCalendar::default();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Friday 2018-06-29 10:00 Beijing: fine.
        assert_eq!(
            r.sending_deferred_until(&cal, at("2018-06-29T10:00:00+08:00")),
            None
        );
        // Friday 21:00 → Monday 08:00.
        assert_eq!(
            r.sending_deferred_until(&cal, at("2018-06-29T21:00:00+08:00")),
            Some(at("2018-07-02T08:00:00+08:00"))
        );
        // Tuesday 06:30 → Tuesday 08:00.
        assert_eq!(
            r.sending_deferred_until(&cal, at("2018-07-03T06:30:00+08:00")),
            Some(at("2018-07-03T08:00:00+08:00"))
        );
    }

    #[test]
    fn bad_files_are_refused() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/reminders.toml"),
        )
        .unwrap();
        assert!(Reminders::parse(&text.replace("= 5\n", "= 0\n")).is_err());
        assert!(
            Reminders::parse(&text.replace("\"20:00\"", "\"8pm\""))
                .unwrap_err()
                .contains("8pm")
        );
        assert!(
            Reminders::parse(&text.replace(
                "from_working_days_overdue = 6",
                "from_working_days_overdue = 20"
            ))
            .is_err()
        );
    }
}
