//! Tests of the working-day calendar, on the shipped files and on small invalid ones.

use std::collections::HashSet;

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn shipped() -> WorkingCalendar {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/calendar");
    WorkingCalendar::load_dir(&dir).unwrap()
}

/// Whether a day is a working day, read straight from the shipped files with no prefix sums.
struct Reference {
    off: HashSet<NaiveDate>,
    makeup: HashSet<NaiveDate>,
}

impl Reference {
    fn shipped() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/calendar");
        let (mut off, mut makeup) = (HashSet::new(), HashSet::new());
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            let file: toml::Table = toml::from_str(&text).unwrap();
            for h in file["holiday"].as_array().unwrap() {
                let (first, last) = (
                    d(h["first"].as_str().unwrap()),
                    d(h["last"].as_str().unwrap()),
                );
                off.extend(first.iter_days().take_while(|x| *x <= last));
                let listed = h.get("makeup_workdays").and_then(|m| m.as_array());
                makeup.extend(listed.into_iter().flatten().map(|x| d(x.as_str().unwrap())));
            }
        }
        Self { off, makeup }
    }

    fn working(&self, x: NaiveDate) -> bool {
        let weekend = matches!(x.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
        self.makeup.contains(&x) || !weekend && !self.off.contains(&x)
    }

    /// Working days in `(from, to]`, one day at a time.
    fn between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let days = from.iter_days().skip(1).take_while(|x| *x <= to);
        days.filter(|x| self.working(*x)).count() as i64
    }
}

/// Deterministic pseudo-random numbers (xorshift64).
fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut s = seed;
    move |bound| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % bound
    }
}

#[test]
fn the_shipped_calendar_covers_2016_to_2027() {
    let cal = shipped();
    assert_eq!(cal.years(), 2016..=2027);
    assert!(cal.is_provisional(2027) && !cal.is_provisional(2025));
    assert_eq!(cal.version().len(), 12);
    assert_eq!(cal.version(), shipped().version());
}

#[test]
fn holidays_and_make_up_days_are_as_announced() {
    let cal = shipped();
    for day in d("2019-10-01").iter_days().take(7) {
        assert!(!cal.is_working_day(day), "{day}");
        assert_eq!(cal.is_holiday(day), Some("国庆节"));
    }
    assert!(cal.is_working_day(d("2019-09-29")) && cal.is_working_day(d("2019-10-12")));
    assert!(
        cal.is_working_day(d("2018-12-29")),
        "2019's notice: a December Saturday worked"
    );
    assert!(
        d("2020-01-24")
            .iter_days()
            .take(10)
            .all(|x| !cal.is_working_day(x))
    );
    assert!(cal.is_working_day(d("2020-02-03")));
    assert!(!cal.is_working_day(d("2025-01-28")) && cal.is_working_day(d("2025-02-08")));
    assert_eq!(cal.is_holiday(d("2019-10-08")), None);
    assert_eq!(cal.next_working_day(d("2019-09-30")), d("2019-10-08"));
}

#[test]
fn a_holiday_week_does_not_count_as_delay() {
    let cal = shipped();
    assert_eq!(
        cal.working_days_between(d("2019-09-30"), d("2019-10-08")),
        1
    );
    assert_eq!(
        cal.working_days_between(d("2019-10-08"), d("2019-09-30")),
        0
    );
    assert_eq!(cal.add_working_days(d("2019-09-30"), 1), d("2019-10-08"));
    assert_eq!(cal.sub_working_days(d("2019-10-08"), 1), d("2019-09-30"));
}

#[test]
fn outside_the_covered_years_monday_to_friday_count() {
    let cal = shipped();
    // 2030-01-01 is a Tuesday; so is 2010-01-05.
    assert_eq!(
        cal.working_days_between(d("2030-01-01"), d("2030-01-08")),
        5
    );
    assert_eq!(
        cal.working_days_between(d("2010-01-05"), d("2010-01-12")),
        5
    );
    assert!(cal.is_working_day(d("2030-10-01")));
    assert_eq!(cal.next_working_day(d("2030-01-04")), d("2030-01-07"));
    let plain = WorkingCalendar::default();
    assert_eq!(
        plain.working_days_between(d("2019-09-30"), d("2019-10-08")),
        6
    );
    assert_eq!(plain.years().count(), 0);
}

#[test]
fn each_day_and_each_count_match_the_files_read_day_by_day() {
    let (cal, slow, mut next) = (shipped(), Reference::shipped(), rng(0x9e37_79b9_7f4a_7c15));
    let base = d("2014-06-01");
    for day in base.iter_days().take_while(|x| x.year() < 2031) {
        assert_eq!(cal.is_working_day(day), slow.working(day), "{day}");
    }
    for _ in 0..3000 {
        let from = base + chrono::Days::new(next(6000));
        let to = from + chrono::Days::new(next(400));
        assert_eq!(
            cal.working_days_between(from, to),
            slow.between(from, to),
            "{from}..{to}"
        );
    }
}

#[test]
fn adding_and_subtracting_agree_with_counting() {
    let (cal, mut next) = (shipped(), rng(42));
    let base = d("2014-06-01");
    for _ in 0..3000 {
        let day = base + chrono::Days::new(next(6000));
        let n = next(300) as u32;
        let later = cal.add_working_days(day, n);
        let earlier = cal.sub_working_days(day, n);
        assert_eq!(
            cal.working_days_between(day, later),
            i64::from(n),
            "{day} + {n}"
        );
        assert!(n == 0 || cal.is_working_day(later) && cal.is_working_day(earlier));
        let back = i64::from(n) - i64::from(n > 0 && !cal.is_working_day(day));
        assert_eq!(cal.working_days_between(earlier, day), back, "{day} - {n}");
        if cal.is_working_day(day) {
            assert_eq!(cal.sub_working_days(later, n), day);
            assert_eq!(cal.add_working_days(earlier, n), day);
        }
    }
}

const HEAD: &str = "year = 2019\nsource = \"test\"\nstatus = \"official\"\n";

fn refused(files: &[(&str, &str)]) -> String {
    let files: Vec<_> = files
        .iter()
        .map(|(n, t)| (n.to_string(), format!("{HEAD}{t}")))
        .collect();
    WorkingCalendar::parse_files(&files)
        .map(|_| ())
        .unwrap_err()
}

fn holiday(first: &str, last: &str, makeup: &str) -> String {
    format!(
        "[[holiday]]\nname = \"国庆节\"\nfirst = \"{first}\"\nlast = \"{last}\"\nmakeup_workdays = [{makeup}]\n"
    )
}

#[test]
fn invalid_files_are_refused_naming_the_problem() {
    let tuesday = refused(&[(
        "2019.toml",
        &holiday("2019-10-01", "2019-10-07", "\"2019-10-08\""),
    )]);
    assert!(
        tuesday.contains("2019.toml") && tuesday.contains("makeup_workdays"),
        "{tuesday}"
    );
    assert!(tuesday.contains("2019-10-08 is a Tuesday"), "{tuesday}");
    let both = refused(&[(
        "2019.toml",
        &holiday("2019-10-01", "2019-10-07", "\"2019-10-05\""),
    )]);
    assert!(both.contains("2019-10-05 is both"), "{both}");
    let bad_date = refused(&[("2019.toml", &holiday("2019-13-01", "2019-10-07", ""))]);
    assert!(
        bad_date.contains("first") && bad_date.contains("\"2019-13-01\" is not a date"),
        "{bad_date}"
    );
    let far = refused(&[("2019.toml", &holiday("2019-10-01", "2020-03-01", ""))]);
    assert!(far.contains("last") && far.contains("outside"), "{far}");
    let long = refused(&[("2019.toml", &holiday("2019-10-01", "2019-10-30", ""))]);
    assert!(long.contains("30 days off; at most 14"), "{long}");
    let twice = refused(&[("a.toml", ""), ("b.toml", "")]);
    assert!(
        twice.contains("b.toml: year 2019 is also the year of a.toml"),
        "{twice}"
    );
    let unknown = refused(&[("2019.toml", "colour = \"red\"\n")]);
    assert!(
        unknown.contains("2019.toml") && unknown.contains("colour"),
        "{unknown}"
    );
}

#[test]
fn files_may_not_contradict_each_other_or_leave_a_gap() {
    let files = |a: &str, b: &str, c: &str| {
        let file = |y: i32, t: &str| {
            (
                format!("{y}.toml"),
                HEAD.replace("2019", &y.to_string()) + t,
            )
        };
        vec![file(2019, a), file(2020, b), file(2021, c)]
    };
    let makeup = "[[holiday]]\nname = \"元旦\"\nfirst = \"2020-01-01\"\nlast = \"2020-01-01\"\nmakeup_workdays = [\"2019-12-28\"]\n";
    let off = holiday("2019-12-28", "2019-12-28", "");
    let err = WorkingCalendar::parse_files(&files(&off, makeup, "")).unwrap_err();
    assert!(
        err.contains("2020.toml: 2019-12-28") && err.contains("but 2019.toml says"),
        "{err}"
    );
    assert!(
        WorkingCalendar::parse_files(&files(makeup, makeup, "")).is_ok(),
        "agreeing files"
    );
    let mut gap = files("", "", "");
    gap.remove(1);
    assert!(
        WorkingCalendar::parse_files(&gap)
            .unwrap_err()
            .contains("no file for year 2020")
    );
    assert!(WorkingCalendar::parse_files(&[]).is_err());
}
