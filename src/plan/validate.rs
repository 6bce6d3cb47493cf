//! Every check a plan file must pass before anything is imported: the file's own rules (keys,
//! references, the directory, the plan period, numbers), then a rehearsal of each project's
//! commands through the domain's `decide` on an empty state, so that the import cannot be
//! refused half-way by a rule the file checks missed.

use std::collections::BTreeSet;
use std::ops::Range;

use chrono::NaiveDate;

use super::file::*;
use crate::domain::{self, Actor, City, Context, DepartmentCode, ProjectState};
use crate::policy::{DepartmentKind, Directory};

/// What a project's `assumed` may name besides `target:<key>`.
pub const ASSUMABLE: &[&str] = &[
    "city",
    "industry",
    "description",
    "lead_department",
    "supporting_departments",
    "milestones",
];

/// What `[plan] assumed` may name.
const PLAN_ASSUMABLE: &[&str] = &["title", "issuer"];

struct Checker<'a> {
    text: &'a str,
    directory: &'a Directory,
    first_day: NaiveDate,
    last_day: NaiveDate,
    years: std::ops::RangeInclusive<i32>,
    problems: Vec<Problem>,
}

pub(super) fn check(file: &PlanFile, directory: &Directory, text: &str) -> Vec<Problem> {
    let info = file.info();
    let mut c = Checker {
        text,
        directory,
        first_day: NaiveDate::from_ymd_opt(info.first_year, 1, 1).unwrap_or(NaiveDate::MIN),
        last_day: NaiveDate::from_ymd_opt(info.last_year, 12, 31).unwrap_or(NaiveDate::MIN),
        years: info.first_year..=info.last_year,
        problems: Vec::new(),
    };
    c.plan(&file.plan);
    c.industries(&file.industries);
    c.cities(&file.cities);
    c.programmes(file);
    c.indicators(file);
    c.projects(&file.projects);
    if c.problems.is_empty() {
        c.rehearse(file);
    }
    c.problems.sort_by_key(|p| p.line);
    c.problems
}

fn is_slug(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl Checker<'_> {
    fn report(&mut self, span: &Range<usize>, at: &str, message: String) {
        let line = Some(line_of(self.text, span));
        let at = at.to_string();
        self.problems.push(Problem { line, at, message });
    }

    fn require(&mut self, span: &Range<usize>, at: &str, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.report(span, at, format!("{field} must not be empty"));
        }
    }

    fn slug(&mut self, span: &Range<usize>, at: &str, key: &str, seen: &mut BTreeSet<String>) {
        if !is_slug(key) {
            let why = "lower-case ASCII letters and digits in words joined by -, at most 64";
            self.report(span, at, format!("key {key:?} is not a slug ({why})"));
        } else if !seen.insert(key.to_string()) {
            self.report(span, at, format!("key {key:?} is used twice"));
        }
    }

    fn known(&mut self, span: &Range<usize>, at: &str, code: &DepartmentCode) -> bool {
        let known = self.directory.get(code).is_some();
        if !known {
            let message = format!("department {code} is not in the department directory");
            self.report(span, at, message);
        }
        known
    }

    fn year(&mut self, span: &Range<usize>, at: &str, year: i32) {
        if !self.years.contains(&year) {
            let (a, b) = (self.years.start(), self.years.end());
            self.report(
                span,
                at,
                format!("year {year} is outside the plan period {a}–{b}"),
            );
        }
    }

    fn positive(&mut self, span: &Range<usize>, at: &str, field: &str, value: f64) {
        if !(value.is_finite() && value > 0.0) {
            let message = format!("{field} {value} is not a positive finite number");
            self.report(span, at, message);
        }
    }

    fn plan(&mut self, plan: &Spanned<PlanInfo>) {
        let (span, p) = (plan.span(), plan.get_ref());
        if !is_slug(&p.key) {
            self.report(&span, "plan", format!("key {:?} is not a slug", p.key));
        }
        for (field, value) in [("title", &p.title), ("issuer", &p.issuer)] {
            self.require(&span, "plan", field, value);
        }
        if p.first_year > p.last_year || self.first_day == NaiveDate::MIN {
            let message = format!("the period {}–{} is empty", p.first_year, p.last_year);
            self.report(&span, "plan", message);
        }
        for a in p
            .assumed
            .iter()
            .filter(|a| !PLAN_ASSUMABLE.contains(&a.as_str()))
        {
            let message = format!("assumed {a:?} is not one of {PLAN_ASSUMABLE:?}");
            self.report(&span, "plan", message);
        }
    }

    fn industries(&mut self, industries: &[Spanned<IndustryEntry>]) {
        let mut seen = BTreeSet::new();
        for entry in industries {
            let (span, i) = (entry.span(), entry.get_ref());
            let at = format!("industry {}", json_name(&i.name));
            if !seen.insert(i.name) {
                self.report(&span, &at, "listed twice".into());
            }
            self.require(&span, &at, "section", &i.section);
            self.require(&span, &at, "goals", &i.goals);
        }
    }

    fn cities(&mut self, cities: &[Spanned<CityEntry>]) {
        let mut seen = BTreeSet::new();
        for entry in cities {
            let (span, c) = (entry.span(), entry.get_ref());
            let at = format!("city {}", json_name(&c.name));
            if c.name == City::ProvinceWide {
                self.report(&span, &at, "全省 is not a city".into());
            } else if !seen.insert(c.name) {
                self.report(&span, &at, "listed twice".into());
            }
            let kind = self.directory.get(&c.government).map(|d| d.kind);
            if self.known(&span, &at, &c.government) && kind != Some(DepartmentKind::City) {
                let message = format!("{} is not a city government", c.government);
                self.report(&span, &at, message);
            }
        }
    }

    fn programmes(&mut self, file: &PlanFile) {
        let projects: BTreeSet<&str> = file.projects().map(|p| p.key.as_str()).collect();
        let mut seen = BTreeSet::new();
        for entry in &file.programmes {
            let (span, p) = (entry.span(), entry.get_ref());
            let at = format!("programme {}", p.key);
            self.slug(&span, &at, &p.key, &mut seen);
            self.require(&span, &at, "name", &p.name);
            for key in p.projects.iter().filter(|k| !projects.contains(k.as_str())) {
                self.report(&span, &at, format!("no project {key:?} in the plan"));
            }
        }
    }

    fn indicators(&mut self, file: &PlanFile) {
        let programmes: BTreeSet<&str> = file.programmes().map(|p| p.key.as_str()).collect();
        let mut seen = BTreeSet::new();
        for entry in &file.indicators {
            let (span, i) = (entry.span(), entry.get_ref());
            let at = format!("indicator {}", i.key);
            self.slug(&span, &at, &i.key, &mut seen);
            self.require(&span, &at, "indicator", &i.indicator);
            self.require(&span, &at, "unit", &i.unit);
            self.positive(&span, &at, "value", i.value);
            self.range(&span, &at, i);
            self.year(&span, &at, i.year);
            if let Some(p) = i.programme.as_deref().filter(|p| !programmes.contains(p)) {
                self.report(&span, &at, format!("no programme {p:?} in the plan"));
            }
        }
    }

    fn range(&mut self, span: &Range<usize>, at: &str, i: &Indicator) {
        match (i.qualifier, i.max) {
            (Qualifier::Range, Some(max)) if max.is_finite() && max > i.value => {}
            (Qualifier::Range, _) => {
                let message = "a range needs a finite max above value".into();
                self.report(span, at, message);
            }
            (_, Some(_)) => self.report(span, at, "max is only for a range".into()),
            (_, None) => {}
        }
    }

    fn projects(&mut self, projects: &[Spanned<Project>]) {
        let mut seen = BTreeSet::new();
        for entry in projects {
            let (span, p) = (entry.span(), entry.get_ref());
            let at = format!("project {}", p.key);
            self.slug(&span, &at, &p.key, &mut seen);
            for (field, value) in [
                ("name", &p.name),
                ("source_section", &p.source_section),
                ("quote", &p.quote),
            ] {
                self.require(&span, &at, field, value);
            }
            self.departments(&at, p);
            self.targets(&at, p);
            self.milestones(&span, &at, p);
            self.assumed(&span, &at, p);
        }
    }

    fn departments(&mut self, at: &str, p: &Project) {
        let lead = &p.lead_department;
        self.known(
            &lead.span(),
            &format!("{at}, lead_department"),
            lead.get_ref(),
        );
        let mut seen = BTreeSet::from([lead.get_ref()]);
        for d in &p.supporting_departments {
            let at = format!("{at}, supporting_departments");
            if self.known(&d.span(), &at, d.get_ref()) && !seen.insert(d.get_ref()) {
                let message = format!("{} is listed twice or is also the lead", d.get_ref());
                self.report(&d.span(), &at, message);
            }
        }
    }

    fn targets(&mut self, at: &str, p: &Project) {
        let mut seen = BTreeSet::new();
        for entry in &p.targets {
            let (span, t) = (entry.span(), entry.get_ref());
            let at = format!("{at}, target {}", t.key);
            self.slug(&span, &at, &t.key, &mut seen);
            self.require(&span, &at, "indicator", &t.indicator);
            self.require(&span, &at, "unit", &t.unit);
            self.positive(&span, &at, "value", t.value);
            self.year(&span, &at, t.year);
        }
    }

    fn milestones(&mut self, span: &Range<usize>, at: &str, p: &Project) {
        if p.milestones.is_empty() {
            self.report(span, at, "the project has no milestones".into());
        }
        let on_project: BTreeSet<&DepartmentCode> = p.departments().collect();
        let mut seen = BTreeSet::new();
        for entry in &p.milestones {
            let (span, m) = (entry.span(), entry.get_ref());
            let at = format!("{at}, milestone {}", m.key);
            self.slug(&span, &at, &m.key, &mut seen);
            self.require(&span, &at, "title", &m.title);
            if m.due < self.first_day || m.due > self.last_day {
                let (a, b) = (self.first_day, self.last_day);
                let message = format!("due {} is outside the plan period {a} – {b}", m.due);
                self.report(&span, &at, message);
            }
            if m.responsible.is_empty() {
                self.report(&span, &at, "no responsible department".into());
            }
            for d in &m.responsible {
                if self.known(&span, &at, d) && !on_project.contains(d) {
                    let message = format!("responsible {d} is not on the project");
                    self.report(&span, &at, message);
                }
            }
        }
    }

    fn assumed(&mut self, span: &Range<usize>, at: &str, p: &Project) {
        for a in &p.assumed {
            let ok = match a.strip_prefix("target:") {
                Some(key) => p.target(key).is_some(),
                None => ASSUMABLE.contains(&a.as_str()),
            };
            if !ok {
                let message =
                    format!("assumed {a:?} names no target and is not one of {ASSUMABLE:?}");
                self.report(span, at, message);
            }
        }
    }

    /// Each project's commands, decided in order on an empty state as the office would.
    fn rehearse(&mut self, file: &PlanFile) {
        let ctx = Context {
            actor: Actor {
                sub: "plan-check".into(),
                role: "office".into(),
                dept: None,
            },
            now: chrono::DateTime::UNIX_EPOCH,
        };
        let projects = match super::import::project_commands(file) {
            Ok(projects) => projects,
            Err(e) => {
                let at = format!("project {}, {}", e.project, e.what);
                return self.report(&e.span, &at, format!("{}: {}", e.field, e.source));
            }
        };
        for project in projects {
            let mut state = ProjectState::default();
            for c in &project.commands {
                match domain::decide(&state, c.command.clone(), &ctx) {
                    Ok(events) => state = events.iter().fold(state, domain::evolve),
                    Err(e) => {
                        let at = format!("project {}, {}", project.key, c.what);
                        self.report(&c.span, &at, format!("the domain refuses it: {e}"));
                        break;
                    }
                }
            }
        }
    }
}

/// An industry's or city's name as the file spells it.
fn json_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRECTORY: &str = include_str!("../../policies/departments.toml");

    fn minimal(first: i32, last: i32, due: &str, year: i32) -> String {
        format!(
            "[plan]\nkey = \"p\"\ntitle = \"t\"\nissuer = \"i\"\nfirst_year = {first}\n\
             last_year = {last}\nsource = \"s.txt\"\n\n[[project]]\nkey = \"a\"\nname = \"n\"\n\
             industry = \"新能源\"\ncity = \"太原\"\nsource_section = \"三\"\nquote = \"q\"\n\
             description = \"\"\nlead_department = \"TY-GOV\"\n\
             targets = [{{ key = \"t\", indicator = \"i\", unit = \"u\", value = 1, year = {year} }}]\n\
             milestones = [{{ key = \"m\", title = \"m\", due = {due}, responsible = [\"TY-GOV\"] }}]\n"
        )
    }

    #[test]
    fn the_domain_rehearsal_catches_what_the_files_rules_allow() {
        let directory = Directory::parse(DIRECTORY).unwrap();
        let ok = minimal(2016, 2020, "2018-06-30", 2020);
        assert!(PlanFile::parse(&ok, &directory).is_ok());
        // Within the file's own period, beyond the years the domain takes targets for.
        let beyond = minimal(2031, 2035, "2032-06-30", 2033);
        let e = PlanFile::parse(&beyond, &directory).unwrap_err();
        let problem = e.problems[0].to_string();
        let expected = "line 18: project a, target t: the domain refuses it";
        assert!(problem.starts_with(expected), "{problem}");
        assert!(problem.contains("2033"), "{problem}");
    }
}
