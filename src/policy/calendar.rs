//! `policies/calendar/*.toml`: the working-day calendar, one file per year transcribing the
//! State Council General Office's holiday notice (days off and 调休 make-up working days).
//!
//! It is policy data used wherever a rule counts working days: traffic lights, "overdue by N
//! working days", reminder cadence. A working day is a Monday–Friday that is not a holiday, or a
//! make-up working day; outside the covered years every Monday–Friday is one. Counting is O(1)
//! (a prefix sum over the covered span, weekday arithmetic outside it); adding or subtracting
//! working days is a binary search over that count.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    year: i32,
    source: String,
    status: Status,
    #[serde(default)]
    holiday: Vec<Holiday>,
}

#[derive(PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Official,
    Provisional,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Holiday {
    name: String,
    first: String,
    last: String,
    #[serde(default)]
    makeup_workdays: Vec<String>,
}

/// The longest holiday period a file may list (the longest so far: 10 days, 春节 2020).
const MAX_PERIOD_DAYS: i64 = 14;

/// What a file says about a date: a day off (`makeup == false`) or a make-up working day.
#[derive(Clone, PartialEq, Eq)]
struct Listed {
    holiday: String,
    makeup: bool,
}

impl fmt::Display for Listed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.makeup {
            "a make-up working day"
        } else {
            "a day off"
        };
        write!(f, "{what} of {}", self.holiday)
    }
}

/// Every listed date, with what it is and the file that lists it.
type Dated = BTreeMap<NaiveDate, (Listed, String)>;

#[derive(Clone)]
pub struct WorkingCalendar {
    years: (i32, i32),
    provisional: Vec<i32>,
    holidays: BTreeMap<NaiveDate, String>,
    /// Day number (`num_days_from_ce`) of the covered span's first day.
    start: i64,
    /// `prefix[i]`: working days among the span's first `i` days.
    prefix: Vec<u32>,
    version: String,
}

impl fmt::Debug for WorkingCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (years, version) = (self.years(), &self.version);
        write!(
            f,
            "WorkingCalendar {{ years: {years:?}, version: {version:?} }}"
        )
    }
}

impl Default for WorkingCalendar {
    /// Monday to Friday, no holidays.
    fn default() -> Self {
        let (years, version) = ((1, 0), "mon-fri".into());
        let (holidays, provisional, prefix) = (BTreeMap::new(), vec![], vec![0]);
        Self {
            years,
            provisional,
            holidays,
            start: 0,
            prefix,
            version,
        }
    }
}

fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

fn date_of(n: i64) -> NaiveDate {
    let d = i32::try_from(n)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt);
    d.expect("working-day arithmetic left chrono's date range")
}

/// Day 1 (0001-01-01) is a Monday.
fn is_weekday(n: i64) -> bool {
    (n - 1).rem_euclid(7) < 5
}

/// Mondays to Fridays among days 1..=n (differences are right for any n).
fn weekdays_upto(n: i64) -> i64 {
    5 * n.div_euclid(7) + n.rem_euclid(7).min(5)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A `YYYY-MM-DD` date within a month of `year`.
fn parse_date(s: &str, field: &str, year: i32) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let d = d.filter(|d| d.format("%Y-%m-%d").to_string() == s);
    let d = d.ok_or_else(|| format!("{field}: {s:?} is not a date (YYYY-MM-DD)"))?;
    let (lo, hi) = (ymd(year - 1, 12, 1), ymd(year + 1, 1, 31));
    if d < lo || d > hi {
        return Err(format!(
            "{field}: {d} is outside {lo}..={hi} (year {year} ± 1 month)"
        ));
    }
    Ok(d)
}

/// The dates one holiday entry lists, checked.
fn holiday_dates(h: &Holiday, year: i32) -> Result<Vec<(NaiveDate, Listed)>, String> {
    if h.name.trim().is_empty() {
        return Err("holiday: name is empty".into());
    }
    let at = |field: &str| format!("holiday {}: {field}", h.name);
    let listed = |makeup| Listed {
        holiday: h.name.clone(),
        makeup,
    };
    let first = parse_date(&h.first, &at("first"), year)?;
    let last = parse_date(&h.last, &at("last"), year)?;
    let days = (last - first).num_days() + 1;
    if days < 1 {
        return Err(format!("{}: {last} is before first ({first})", at("last")));
    } else if days > MAX_PERIOD_DAYS {
        return Err(format!(
            "{}: {days} days off; at most {MAX_PERIOD_DAYS}",
            at("last")
        ));
    }
    let mut out: Vec<_> = first
        .iter_days()
        .take(days as usize)
        .map(|d| (d, listed(false)))
        .collect();
    for s in &h.makeup_workdays {
        let d = parse_date(s, &at("makeup_workdays"), year)?;
        if is_weekday(day_number(d)) {
            let (field, wd) = (at("makeup_workdays"), d.format("%A"));
            return Err(format!("{field}: {d} is a {wd}, not a Saturday or Sunday"));
        }
        out.push((d, listed(true)));
    }
    Ok(out)
}

/// Records what `file` says about `d`, refusing a date listed twice or contradicting another file.
fn record(dated: &mut Dated, file: &str, d: NaiveDate, l: Listed) -> Result<(), String> {
    match dated.get(&d) {
        Some((prev, f)) if f == file && *prev == l => {
            Err(format!("{file}: {d} is listed twice ({l})"))
        }
        Some((prev, f)) if f == file => Err(format!("{file}: {d} is both {prev} and {l}")),
        Some((prev, _)) if *prev == l => Ok(()),
        Some((prev, f)) => Err(format!("{file}: {d} is {l}, but {f} says it is {prev}")),
        None => {
            dated.insert(d, (l, file.to_owned()));
            Ok(())
        }
    }
}

/// Reads one file into `dated`; returns its year and whether it is provisional.
fn read_file(dated: &mut Dated, name: &str, text: &str) -> Result<(i32, bool), String> {
    let file: File = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    if file.source.trim().is_empty() {
        return Err(format!("{name}: source is empty"));
    }
    for h in &file.holiday {
        for (d, l) in holiday_dates(h, file.year).map_err(|e| format!("{name}: {e}"))? {
            record(dated, name, d, l)?;
        }
    }
    Ok((file.year, file.status == Status::Provisional))
}

fn fingerprint(sorted: &[&(String, String)]) -> String {
    let mut h = blake3::Hasher::new();
    for (name, text) in sorted {
        for part in [name.as_bytes(), b"\0", text.as_bytes(), b"\0"] {
            h.update(part);
        }
    }
    h.finalize().to_hex()[..12].to_owned()
}

impl WorkingCalendar {
    /// Builds the calendar from `(file name, TOML text)` pairs, one file per year.
    pub fn parse_files(files: &[(String, String)]) -> Result<Self, String> {
        let mut sorted: Vec<&(String, String)> = files.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut dated, mut years, mut provisional) = (Dated::new(), BTreeMap::new(), vec![]);
        for (name, text) in &sorted {
            let (year, is_provisional) = read_file(&mut dated, name, text)?;
            if let Some(other) = years.insert(year, name) {
                return Err(format!("{name}: year {year} is also the year of {other}"));
            }
            if is_provisional {
                provisional.push(year);
            }
        }
        let (Some(&first), Some(&last)) = (years.keys().next(), years.keys().last()) else {
            return Err("no calendar file".into());
        };
        if let Some(gap) = (first..=last).find(|y| !years.contains_key(y)) {
            return Err(format!(
                "no file for year {gap} (the files cover {first} to {last})"
            ));
        }
        let version = fingerprint(&sorted);
        Ok(Self {
            provisional,
            version,
            ..Self::build(&dated, (first, last))
        })
    }

    /// Loads every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Self> {
        let cannot = |p: &Path, e| anyhow::anyhow!("cannot read {}: {e}", p.display());
        let mut files = vec![];
        for entry in std::fs::read_dir(dir).map_err(|e| cannot(dir, e))? {
            let path = entry.map_err(|e| cannot(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).map_err(|e| cannot(&path, e))?;
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                files.push((name.into_owned(), text));
            }
        }
        Self::parse_files(&files).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
    }

    fn build(dated: &Dated, years: (i32, i32)) -> Self {
        let (mut lo, mut hi) = (ymd(years.0, 1, 1), ymd(years.1, 12, 31));
        if let (Some((&a, _)), Some((&b, _))) = (dated.first_key_value(), dated.last_key_value()) {
            (lo, hi) = (lo.min(a), hi.max(b));
        }
        let working = |d: NaiveDate| {
            dated
                .get(&d)
                .map_or(is_weekday(day_number(d)), |l| l.0.makeup)
        };
        let prefix = std::iter::once(0)
            .chain(lo.iter_days().take_while(|d| *d <= hi).scan(0, |n, d| {
                *n += u32::from(working(d));
                Some(*n)
            }))
            .collect();
        let holidays = dated.iter().filter(|(_, (l, _))| !l.makeup);
        let holidays = holidays
            .map(|(d, (l, _))| (*d, l.holiday.clone()))
            .collect();
        Self {
            years,
            holidays,
            start: day_number(lo),
            prefix,
            ..Self::default()
        }
    }

    /// Working days among days ..=n (only differences are meaningful); O(1).
    fn rank(&self, n: i64) -> i64 {
        let len = self.prefix.len() as i64 - 1;
        let before = weekdays_upto(self.start - 1);
        if n < self.start {
            weekdays_upto(n)
        } else if n < self.start + len {
            before + i64::from(self.prefix[(n - self.start + 1) as usize])
        } else {
            let end = self.start + len - 1;
            before + i64::from(self.prefix[len as usize]) + weekdays_upto(n) - weekdays_upto(end)
        }
    }

    /// The first day whose rank reaches `rank` (a working day), searched from `near`.
    fn first_reaching(&self, rank: i64, near: i64) -> i64 {
        let (mut lo, mut hi, mut step) = (near, near, 8);
        while self.rank(lo) >= rank {
            (lo, step) = (lo - step, step * 2);
        }
        step = 8;
        while self.rank(hi) < rank {
            (hi, step) = (hi + step, step * 2);
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            *(if self.rank(mid) >= rank {
                &mut hi
            } else {
                &mut lo
            }) = mid;
        }
        hi
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        let n = day_number(d);
        self.rank(n) > self.rank(n - 1)
    }

    /// The name of the holiday `d` is a day off of, if any.
    pub fn is_holiday(&self, d: NaiveDate) -> Option<&str> {
        self.holidays.get(&d).map(String::as_str)
    }

    /// Working days `d` with `from < d <= to`; 0 when `to <= from`. Due `D`, today `T`: the
    /// delay is `working_days_between(D, T)`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to <= from {
            return 0;
        }
        self.rank(day_number(to)) - self.rank(day_number(from))
    }

    /// The `n`-th working day after `d` (`d` itself when `n` is 0).
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return d;
        }
        let (from, n) = (day_number(d), i64::from(n));
        date_of(self.first_reaching(self.rank(from) + n, from + n))
    }

    /// The `n`-th working day before `d` (`d` itself when `n` is 0).
    pub fn sub_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return d;
        }
        let (to, n) = (day_number(d) - 1, i64::from(n));
        date_of(self.first_reaching(self.rank(to) - n + 1, to - n))
    }

    /// The first working day strictly after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        self.add_working_days(d, 1)
    }

    /// The years the files cover (empty for the default calendar).
    pub fn years(&self) -> RangeInclusive<i32> {
        self.years.0..=self.years.1
    }

    /// Whether `year`'s file is marked provisional (its notice not yet transcribed).
    pub fn is_provisional(&self, year: i32) -> bool {
        self.provisional.contains(&year)
    }

    /// A short fingerprint of the files (blake3 of names and texts), to record which calendar
    /// produced a result.
    pub fn version(&self) -> &str {
        &self.version
    }
}

#[cfg(test)]
mod tests;
