//! The plan file (`plans/*.toml`, described in `plans/README.md`): serde types that mirror it
//! table for table, and [`PlanFile::parse`], which refuses a file with anything wrong in it —
//! every problem at once, each with its line.

use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
pub use toml::Spanned;

use crate::domain::{City, DepartmentCode, Industry};
use crate::policy::Directory;

/// A plan file, parsed and validated: keys unique and well-formed, every department in the
/// directory and on its project, dates within the plan period, numbers finite and positive,
/// and every project's commands accepted by the domain's rules. Only [`PlanFile::parse`]
/// makes one, so an import never starts on an invalid plan.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PlanFile {
    pub plan: Spanned<PlanInfo>,
    #[serde(rename = "industry", default)]
    pub industries: Vec<Spanned<IndustryEntry>>,
    #[serde(rename = "indicator", default)]
    pub indicators: Vec<Spanned<Indicator>>,
    #[serde(rename = "programme", default)]
    pub programmes: Vec<Spanned<Programme>>,
    #[serde(rename = "city", default)]
    pub cities: Vec<Spanned<CityEntry>>,
    #[serde(rename = "project", default)]
    pub projects: Vec<Spanned<Project>>,
}

/// `[plan]`: what the plan is and the period it covers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInfo {
    /// ASCII slug; every id the import derives starts from it.
    pub key: String,
    pub title: String,
    pub issuer: String,
    pub first_year: i32,
    pub last_year: i32,
    /// The source text, relative to the plan file.
    pub source: String,
    /// Which of `title` and `issuer` the source text does not give.
    #[serde(default)]
    pub assumed: Vec<String>,
}

/// `[[industry]]`: one of the nine industries, where the text treats it and its goals.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndustryEntry {
    pub name: Industry,
    pub section: String,
    pub layout_section: String,
    pub goals: String,
}

/// How the text states a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    /// 左右
    About,
    /// 以上, 突破
    AtLeast,
    /// 达到
    Reach,
    /// A range such as 10-15: `value` to `max`.
    Range,
}

/// `[[indicator]]`: a province-wide figure the plan sets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub key: String,
    pub indicator: String,
    pub unit: String,
    pub value: f64,
    /// The upper end, for a range.
    #[serde(default)]
    pub max: Option<f64>,
    pub qualifier: Qualifier,
    pub year: i32,
    #[serde(default)]
    pub industry: Option<Industry>,
    /// The key of the supporting programme that sets it.
    #[serde(default)]
    pub programme: Option<String>,
    pub source_section: String,
    pub quote: String,
}

/// `[[programme]]`: one of the five supporting programmes (五大配套工程).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    pub key: String,
    pub name: String,
    pub section: String,
    pub quote: String,
    #[serde(default)]
    pub named_items: Vec<String>,
    /// Keys of the projects that carry one of its items.
    #[serde(default)]
    pub projects: Vec<String>,
}

/// `[[city]]`: a city and its government in the department directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityEntry {
    pub name: City,
    pub government: DepartmentCode,
}

/// `[[project]]`: a key project or base, as the office registers it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// ASCII slug, unique in the plan; its id derives from it.
    pub key: String,
    pub name: String,
    pub industry: Industry,
    pub city: City,
    pub source_section: String,
    /// The source text's words, verbatim; `……` joins passages.
    pub quote: String,
    pub description: String,
    pub lead_department: Spanned<DepartmentCode>,
    #[serde(default)]
    pub supporting_departments: Vec<Spanned<DepartmentCode>>,
    /// Values that are demo assumptions, not the text's: `city`, `industry`,
    /// `lead_department`, `supporting_departments`, `milestones`, `target:<key>`.
    #[serde(default)]
    pub assumed: Vec<String>,
    #[serde(default)]
    pub targets: Vec<Spanned<Target>>,
    #[serde(default)]
    pub milestones: Vec<Spanned<Milestone>>,
}

/// A measurable goal of a project.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub key: String,
    pub indicator: String,
    pub unit: String,
    pub value: f64,
    pub year: i32,
}

/// A dated step of a project.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    pub key: String,
    pub title: String,
    #[serde(deserialize_with = "local_date")]
    pub due: NaiveDate,
    pub responsible: Vec<DepartmentCode>,
}

/// A TOML local date (`2018-06-30`, no time, no offset).
fn local_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    use serde::de::Error;
    let dt = toml::value::Datetime::deserialize(d)?;
    match (dt.date, dt.time, dt.offset) {
        (Some(date), None, None) => {
            NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
                .ok_or_else(|| D::Error::custom(format!("{date} is not a calendar date")))
        }
        _ => Err(D::Error::custom(format!(
            "expected a date such as 2018-06-30, not {dt}"
        ))),
    }
}

impl PlanFile {
    /// Parses and validates a plan file against the department directory. Nothing is
    /// imported from a file this refuses.
    pub fn parse(text: &str, directory: &Directory) -> Result<PlanFile, PlanError> {
        let file: PlanFile = toml::from_str(text).map_err(|e| PlanError::syntax(text, &e))?;
        let problems = super::validate::check(&file, directory, text);
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(PlanError { problems })
        }
    }

    pub fn info(&self) -> &PlanInfo {
        self.plan.get_ref()
    }

    pub fn projects(&self) -> impl Iterator<Item = &Project> {
        self.projects.iter().map(Spanned::get_ref)
    }

    pub fn project(&self, key: &str) -> Option<&Project> {
        self.projects().find(|p| p.key == key)
    }

    pub fn industries(&self) -> impl Iterator<Item = &IndustryEntry> {
        self.industries.iter().map(Spanned::get_ref)
    }

    pub fn indicators(&self) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter().map(Spanned::get_ref)
    }

    pub fn indicator(&self, key: &str) -> Option<&Indicator> {
        self.indicators().find(|i| i.key == key)
    }

    pub fn programmes(&self) -> impl Iterator<Item = &Programme> {
        self.programmes.iter().map(Spanned::get_ref)
    }

    pub fn cities(&self) -> impl Iterator<Item = &CityEntry> {
        self.cities.iter().map(Spanned::get_ref)
    }
}

impl Project {
    pub fn lead(&self) -> &DepartmentCode {
        self.lead_department.get_ref()
    }

    pub fn supporting(&self) -> impl Iterator<Item = &DepartmentCode> {
        self.supporting_departments.iter().map(Spanned::get_ref)
    }

    /// Lead and supporting departments.
    pub fn departments(&self) -> impl Iterator<Item = &DepartmentCode> {
        std::iter::once(self.lead()).chain(self.supporting())
    }

    pub fn milestones(&self) -> impl Iterator<Item = &Milestone> {
        self.milestones.iter().map(Spanned::get_ref)
    }

    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.targets.iter().map(Spanned::get_ref)
    }

    pub fn target(&self, key: &str) -> Option<&Target> {
        self.targets().find(|t| t.key == key)
    }

    /// Whether a value (`lead_department`, `milestones`, `target:<key>`, …) is a demo
    /// assumption rather than the text's.
    pub fn is_assumed(&self, what: &str) -> bool {
        self.assumed.iter().any(|a| a == what)
    }
}

/// Why a plan file was refused: every problem found, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PlanError {
    pub problems: Vec<Problem>,
}

/// One thing wrong in a plan file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based, where the problem has a place in the file.
    pub line: Option<usize>,
    /// Where in the plan, e.g. `project taiyuan-rail-transit-base, milestone goal`.
    pub at: String,
    pub message: String,
}

/// The 1-based line of a byte offset.
pub(super) fn line_of(text: &str, span: &Range<usize>) -> usize {
    let end = span.start.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

impl PlanError {
    fn syntax(text: &str, e: &toml::de::Error) -> Self {
        let problem = Problem {
            line: e.span().map(|s| line_of(text, &s)),
            at: String::new(),
            message: e.message().to_string(),
        };
        Self {
            problems: vec![problem],
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.at.is_empty() {
            write!(f, "{}: ", self.at)?;
        }
        f.write_str(&self.message)
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid plan file ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}
