//! `policies/lights.toml`: the 红黄绿灯 traffic-light thresholds, versioned. A project's colour
//! is derived at read time (projections) from its events, the calendar and the version of
//! these thresholds in force on the day the colour is for; the version is reported with the
//! colour, so a colour shown last year can still be explained after the thresholds changed.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The three colours, worst last so that `max` picks the worst.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn as_str(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }

    pub const ALL: [Light; 3] = [Light::Green, Light::Yellow, Light::Red];
}

impl fmt::Display for Light {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a threshold measures on a project, on the day the colour is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Working days the most overdue open milestone is past its due date.
    WorkingDaysLate,
    /// Percentage points the furthest-behind open milestone lags the progress expected to
    /// date (序时进度: linear from the day it was scheduled to its due date).
    PointsBehind,
    /// Open high-severity findings whose rectification deadline has passed.
    OverdueHighFindings,
}

/// Whether the boundary value itself triggers the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Op {
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub light: Light,
    pub measure: Measure,
    pub op: Op,
    pub value: f64,
}

impl Rule {
    pub fn fires(&self, measured: f64) -> bool {
        match self.op {
            Op::Above => measured > self.value,
            Op::AtLeast => measured >= self.value,
        }
    }
}

/// One version of the thresholds, in force from its date until the next version's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightsVersion {
    pub id: String,
    pub effective_from: NaiveDate,
    /// A milestone is "due soon" this many working days before its due date.
    pub due_soon_working_days: u32,
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: Vec<LightsVersion>,
}

/// Every version of the thresholds, oldest first.
#[derive(Clone, Debug)]
pub struct LightsPolicy {
    versions: Vec<LightsVersion>,
}

impl LightsPolicy {
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut versions = file.version;
        if versions.is_empty() {
            return Err("at least one [[version]] is required".into());
        }
        versions.sort_by_key(|v| v.effective_from);
        for pair in versions.windows(2) {
            if pair[0].effective_from == pair[1].effective_from {
                return Err(format!(
                    "versions {} and {} take effect on the same day",
                    pair[0].id, pair[1].id
                ));
            }
        }
        let mut ids: Vec<&str> = versions.iter().map(|v| v.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(dup) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("version id {} is used twice", dup[0]));
        }
        for v in &versions {
            validate(v)?;
        }
        Ok(Self { versions })
    }

    /// The version in force on `day`: the latest that took effect on or before it, or the
    /// earliest for days before any took effect.
    pub fn in_force(&self, day: NaiveDate) -> &LightsVersion {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= day)
            .unwrap_or(&self.versions[0])
    }

    pub fn versions(&self) -> &[LightsVersion] {
        &self.versions
    }
}

fn validate(v: &LightsVersion) -> Result<(), String> {
    if v.id.trim().is_empty() {
        return Err("a version needs an id".into());
    }
    if v.rules.is_empty() {
        return Err(format!("version {}: no rules", v.id));
    }
    for r in &v.rules {
        if !r.value.is_finite() || r.value < 0.0 {
            return Err(format!(
                "version {}: threshold {} is not a finite non-negative number",
                v.id, r.value
            ));
        }
        if r.light == Light::Green {
            return Err(format!(
                "version {}: a rule names green; green is what no rule fires",
                v.id
            ));
        }
    }
    Ok(())
}

/// Measures taken on a project for one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Measures {
    pub working_days_late: i64,
    pub points_behind: f64,
    pub overdue_high_findings: u32,
}

impl Measures {
    pub fn get(&self, m: Measure) -> f64 {
        match m {
            Measure::WorkingDaysLate => self.working_days_late as f64,
            Measure::PointsBehind => self.points_behind,
            Measure::OverdueHighFindings => f64::from(self.overdue_high_findings),
        }
    }
}

impl LightsVersion {
    /// The worst colour any rule gives, and the rules that gave it.
    pub fn colour(&self, measures: &Measures) -> (Light, Vec<Rule>) {
        let fired: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.fires(measures.get(r.measure)))
            .collect();
        let light = fired.iter().map(|r| r.light).max().unwrap_or(Light::Green);
        let why = fired
            .into_iter()
            .filter(|r| r.light == light)
            .cloned()
            .collect();
        (light, why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
        [[version]]
        id = "a"
        effective_from = "2016-01-01"
        due_soon_working_days = 5
        [[version.rule]]
        light = "yellow"
        measure = "working_days_late"
        op = ">="
        value = 1
        [[version.rule]]
        light = "red"
        measure = "working_days_late"
        op = ">"
        value = 10

        [[version]]
        id = "b"
        effective_from = "2019-01-01"
        due_soon_working_days = 3
        [[version.rule]]
        light = "red"
        measure = "points_behind"
        op = ">"
        value = 30
    "#;

    #[test]
    fn the_version_in_force_is_the_latest_that_took_effect() {
        let p = LightsPolicy::parse(POLICY).unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(p.in_force(day("2015-06-01")).id, "a");
        assert_eq!(p.in_force(day("2018-12-31")).id, "a");
        assert_eq!(p.in_force(day("2019-01-01")).id, "b");
    }

    #[test]
    fn boundaries_are_inclusive_or_exclusive_as_written() {
        let p = LightsPolicy::parse(POLICY).unwrap();
        let a = &p.versions()[0];
        let late = |n| Measures {
            working_days_late: n,
            ..Measures::default()
        };
        assert_eq!(a.colour(&late(0)).0, Light::Green);
        assert_eq!(a.colour(&late(1)).0, Light::Yellow);
        assert_eq!(a.colour(&late(10)).0, Light::Yellow);
        assert_eq!(a.colour(&late(11)).0, Light::Red);
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(LightsPolicy::parse("").is_err());
        let green = POLICY.replacen("light = \"yellow\"", "light = \"green\"", 1);
        assert!(LightsPolicy::parse(&green).unwrap_err().contains("green"));
        let same_day = POLICY.replace("2019-01-01", "2016-01-01");
        assert!(LightsPolicy::parse(&same_day).is_err());
        let bad_op = POLICY.replacen("\">=\"", "\"=<\"", 1);
        assert!(LightsPolicy::parse(&bad_op).is_err());
        let negative = POLICY.replacen("value = 1\n", "value = -1\n", 1);
        assert!(LightsPolicy::parse(&negative).is_err());
    }
}
