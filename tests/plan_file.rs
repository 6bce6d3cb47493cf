//! The shipped plan file: it parses against the shipped directory, its counts and figures are
//! the source text's, its quotes are verbatim, and what it assumes is marked. A broken file
//! is refused, naming each problem's line.

use std::path::PathBuf;

use duban::domain::{City, Industry};
use duban::plan::*;
use duban::policy::Directory;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn directory() -> Directory {
    let text = std::fs::read_to_string(root().join("policies/departments.toml")).unwrap();
    Directory::parse(&text).unwrap()
}

fn shipped_text() -> String {
    std::fs::read_to_string(root().join("plans/shanxi-sei-2016-2020.toml")).unwrap()
}

fn shipped() -> PlanFile {
    PlanFile::parse(&shipped_text(), &directory()).unwrap_or_else(|e| panic!("{e}"))
}

fn project<'a>(plan: &'a PlanFile, key: &str) -> &'a Project {
    plan.project(key)
        .unwrap_or_else(|| panic!("no project {key}"))
}

/// (indicator value, unit) of a project's target.
fn target(plan: &PlanFile, key: &str, target: &str) -> (f64, String) {
    let t = project(plan, key).target(target).unwrap();
    (t.value, t.unit.clone())
}

#[test]
fn the_plan_has_the_texts_nine_industries_eleven_cities_and_five_programmes() {
    let plan = shipped();
    let info = plan.info();
    assert_eq!((info.first_year, info.last_year), (2016, 2020));
    assert_eq!(info.key, "shanxi-sei-2016-2020");
    let industries: Vec<Industry> = plan.industries().map(|i| i.name).collect();
    assert_eq!(industries.len(), 9);
    let cities: Vec<City> = plan.cities().map(|c| c.name).collect();
    assert_eq!(cities.len(), 11);
    assert!(!cities.contains(&City::ProvinceWide));
    let programmes: Vec<&str> = plan.programmes().map(|p| p.name.as_str()).collect();
    assert_eq!(
        programmes,
        [
            "行业对标工程",
            "“互联网＋”提升工程",
            "产业绿色发展工程",
            "高技术服务业发展工程",
            "中小微高新技术企业培育工程"
        ]
    );
    for industry in industries {
        assert!(
            plan.projects().any(|p| p.industry == industry),
            "{industry:?}"
        );
    }
}

#[test]
fn the_province_wide_indicators_are_the_texts() {
    let plan = shipped();
    for (key, value, unit) in [
        ("sei-gross-output", 4500.0, "亿元"),
        ("sei-value-added", 1500.0, "亿元"),
        ("sei-output-growth", 15.0, "%"),
        ("wind-capacity", 1800.0, "万千瓦"),
        ("pv-capacity", 1200.0, "万千瓦"),
        ("cbm-power-capacity", 700.0, "万千瓦"),
        ("cbm-production-capacity", 400.0, "亿立方米"),
        ("mine-gas-drainage", 65.0, "亿立方米"),
        ("gas-pipeline-length", 1.5, "万公里"),
        ("high-tech-enterprises", 1000.0, "家"),
        ("tech-smes", 3000.0, "家"),
        ("digital-design-tools", 65.0, "%"),
        ("key-process-nc", 50.0, "%"),
    ] {
        let i = plan
            .indicator(key)
            .unwrap_or_else(|| panic!("no indicator {key}"));
        assert_eq!(
            (i.value, i.unit.as_str(), i.year),
            (value, unit, 2020),
            "{key}"
        );
    }
    let gross = plan.indicator("sei-gross-output").unwrap();
    assert_eq!(gross.qualifier, Qualifier::About);
    let smes = plan.indicator("tech-smes").unwrap();
    assert_eq!(smes.qualifier, Qualifier::AtLeast);
    let seeds = plan.indicator("seed-enterprises").unwrap();
    assert_eq!((seeds.value, seeds.max), (10.0, Some(15.0)));
}

#[test]
fn the_named_projects_and_bases_carry_the_texts_figures() {
    let plan = shipped();
    let yi = |v: f64| (v, "亿元".to_string());
    assert_eq!(
        target(&plan, "taiyuan-rail-transit-base", "sales"),
        yi(500.0)
    );
    let datong = "datong-rail-transit-base";
    assert_eq!(target(&plan, datong, "locomotives"), (500.0, "台".into()));
    assert_eq!(target(&plan, datong, "metro-trains"), (200.0, "列".into()));
    assert_eq!(target(&plan, datong, "sales"), yi(300.0));
    assert_eq!(
        target(&plan, "taiyuan-coal-machinery-base", "sales"),
        yi(350.0)
    );
    assert_eq!(
        target(&plan, "jincheng-coal-machinery-base", "sales"),
        yi(100.0)
    );
    let equipment = "taiyuan-coal-chemical-equipment-base";
    assert_eq!(target(&plan, equipment, "sales"), yi(350.0));
    let per_year = |v: f64, unit: &str| (v, unit.to_string());
    let luan = "luan-coal-liquids-1800kt";
    assert_eq!(target(&plan, luan, "capacity"), per_year(180.0, "万吨/年"));
    let jinmei = "jinmei-synthetic-oil-2000kt";
    assert_eq!(
        target(&plan, jinmei, "capacity"),
        per_year(200.0, "万吨/年")
    );
    let sng = "cnooc-tongmei-sng";
    assert_eq!(target(&plan, sng, "phase1"), per_year(40.0, "亿立方米/年"));
    assert_eq!(target(&plan, sng, "phase2"), per_year(60.0, "亿立方米/年"));
    let jinneng = "jinneng-sng-4bcm";
    assert_eq!(
        target(&plan, jinneng, "capacity"),
        per_year(40.0, "亿立方米/年")
    );
    let yangmei = project(&plan, "yangmei-meg-400kt");
    assert!(yangmei.name.contains("乙二醇"));
    assert_eq!(yangmei.target("capacity").unwrap().value, 40.0);
    let xiangkuang = "xiangkuang-meg-200kt";
    assert_eq!(
        target(&plan, xiangkuang, "capacity"),
        per_year(20.0, "万吨/年")
    );
    let base = "jinbei-coal-chemical-base";
    assert_eq!(target(&plan, base, "sng").0, 180.0);
    assert_eq!(target(&plan, base, "oil").0, 600.0);
    assert_eq!(target(&plan, base, "coal").0, 1.1);
    for (key, name, city) in [
        (
            "datong-general-aviation-park",
            "大同通用航空产业园",
            City::Datong,
        ),
        (
            "taiyuan-etdz-geothermal-heating",
            "太原经济开发区地热供暖项目",
            City::Taiyuan,
        ),
        (
            "jinbei-wind-power-base",
            "晋北千万千瓦风电基地",
            City::ProvinceWide,
        ),
    ] {
        let p = project(&plan, key);
        assert_eq!((p.name.as_str(), p.city), (name, city));
    }
}

#[test]
fn every_project_has_its_section_a_verbatim_quote_and_three_to_five_milestones() {
    let plan = shipped();
    let source = std::fs::read_to_string(root().join("plans").join(&plan.info().source)).unwrap();
    let verbatim = |what: &str, quote: &str| {
        for passage in quote.split("……") {
            assert!(
                source.contains(passage),
                "{what}: not in the source: {passage}"
            );
        }
    };
    for p in plan.projects() {
        assert!(
            p.source_section.starts_with(['三', '四', '五']),
            "{}",
            p.key
        );
        verbatim(&p.key, &p.quote);
        let n = p.milestones().count();
        assert!((3..=5).contains(&n), "{}: {n} milestones", p.key);
        let years: Vec<i32> = p
            .milestones()
            .map(|m| chrono::Datelike::year(&m.due))
            .collect();
        assert!(years.iter().all(|y| (2016..=2020).contains(y)), "{}", p.key);
    }
    for i in plan.indicators() {
        verbatim(&i.key, &i.quote);
    }
    for i in plan.industries() {
        verbatim(&i.section, &i.goals);
    }
    for p in plan.programmes() {
        verbatim(&p.key, &p.quote);
    }
}

#[test]
fn what_the_text_does_not_give_is_marked_as_assumed_and_every_department_is_in_the_directory() {
    let plan = shipped();
    let directory = directory();
    for p in plan.projects() {
        for always in ["lead_department", "supporting_departments", "milestones"] {
            assert!(p.is_assumed(always), "{}: {always} not marked", p.key);
        }
        // A figure that is not assumed is written in the quote (counts of what the text
        // enumerates aside, and 千万千瓦 = 1000万千瓦).
        let counts = ["个", "家", "类", "种", "项", "条", "级"];
        for t in p.targets().filter(|t| !counts.contains(&t.unit.as_str())) {
            let figure = t.value.to_string();
            let marked = p.is_assumed(&format!("target:{}", t.key));
            let in_words = p.quote.contains("千万千瓦") && t.value == 1000.0;
            assert!(
                marked || in_words || p.quote.contains(&figure),
                "{} {}",
                p.key,
                t.key
            );
        }
        let responsible = p.milestones().flat_map(|m| m.responsible.iter());
        for d in p.departments().chain(responsible) {
            assert!(directory.get(d).is_some(), "{}: {d}", p.key);
        }
    }
    for c in plan.cities() {
        assert!(directory.get(&c.government).is_some());
    }
}

/// The shipped file with one substring replaced, and the line it is on.
fn broken(find: &str, replace: &str) -> (String, usize) {
    let text = shipped_text();
    let at = text
        .find(find)
        .unwrap_or_else(|| panic!("{find:?} not in the file"));
    let line = text[..at].matches('\n').count() + 1;
    (text.replacen(find, replace, 1), line)
}

fn problems(text: &str) -> Vec<String> {
    let e = PlanFile::parse(text, &directory()).expect_err("the file is refused");
    e.problems.iter().map(|p| p.to_string()).collect()
}

fn assert_named(problems: &[String], line: usize, words: &[&str]) {
    let hit = problems
        .iter()
        .any(|p| p.starts_with(&format!("line {line}: ")) && words.iter().all(|w| p.contains(w)));
    assert!(
        hit,
        "no problem on line {line} naming {words:?}: {problems:#?}"
    );
}

#[test]
fn an_unknown_department_is_refused_with_its_line_and_project() {
    let (text, line) = broken(
        "lead_department = \"DT-GOV\"",
        "lead_department = \"SXXYZ\"",
    );
    let found = problems(&text);
    assert_named(
        &found,
        line,
        &["SXXYZ", "datong-rail-transit-base", "directory"],
    );
    let (text, line) = broken(
        "启动二期年产60亿立方米天然气项目建设\", due = 2020-06-30, responsible = [\"SXDRC\"",
        "启动二期年产60亿立方米天然气项目建设\", due = 2020-06-30, responsible = [\"SXMOON\"",
    );
    assert_named(&problems(&text), line, &["SXMOON", "cnooc-tongmei-sng"]);
}

#[test]
fn dates_outside_the_period_and_dates_that_are_none_are_refused() {
    let (text, line) = broken("due = 2020-06-30", "due = 2021-06-30");
    assert_named(
        &problems(&text),
        line,
        &["2021-06-30", "outside the plan period"],
    );
    let (text, line) = broken("due = 2020-06-30", "due = 2019-02-30");
    assert_eq!(problems(&text).len(), 1);
    assert!(problems(&text)[0].starts_with(&format!("line {line}: ")));
    let (text, line) = broken("due = 2020-06-30", "due = 2019-06-30T10:00:00");
    assert_named(&problems(&text), line, &["expected a date"]);
}

#[test]
fn bad_values_keys_and_references_are_all_reported_at_once() {
    let text = shipped_text()
        .replacen("value = 500, year = 2020", "value = -500, year = 2020", 1)
        .replacen("value = 300, year = 2020", "value = nan, year = 2020", 1)
        .replacen(
            "key = \"jincheng-coal-machinery-base\"",
            "key = \"datong-rail-transit-base\"",
            1,
        )
        .replacen("year = 2020 },", "year = 2025 },", 1)
        .replacen(
            "assumed = [\"lead_department\"",
            "assumed = [\"weather\", \"lead_department\"",
            1,
        )
        .replacen(
            "responsible = [\"TY-GOV\"] }",
            "responsible = [\"SXHRSS\"] }",
            1,
        );
    let found = problems(&text).join("\n");
    for words in [
        "value -500 is not a positive finite number",
        "value NaN is not a positive finite number",
        "key \"datong-rail-transit-base\" is used twice",
        "year 2025 is outside the plan period",
        "assumed \"weather\"",
        "responsible SXHRSS is not on the project",
    ] {
        assert!(found.contains(words), "{words}: {found}");
    }
}

#[test]
fn a_project_without_milestones_or_with_an_unknown_field_is_refused() {
    let text = shipped_text();
    let start = text
        .find("milestones = [\n  { key = \"agreement\"")
        .unwrap();
    let end = start + text[start..].find("\n]\n").unwrap() + 3;
    let without = format!("{}{}", &text[..start], &text[end..]);
    let found = problems(&without).join("\n");
    assert!(found.contains("taiyuan-metro-made-in-taiyuan: the project has no milestones"));
    let (text, line) = broken("description = \"", "owner = \"someone\"\ndescription = \"");
    assert_named(&problems(&text), line, &["unknown field `owner`"]);
}

#[test]
fn a_department_the_domain_would_refuse_is_refused_before_any_import() {
    // The lead also listed as supporting: the file's own check and the domain agree.
    let (text, line) = broken(
        "supporting_departments = [\"SXEIC\", \"SXDRC\"]",
        "supporting_departments = [\"SXEIC\", \"TY-GOV\"]",
    );
    assert_named(
        &problems(&text),
        line,
        &["TY-GOV is listed twice or is also the lead"],
    );
}

#[test]
fn an_unknown_city_or_industry_is_refused_with_its_line() {
    let (text, line) = broken("city = \"大同\"", "city = \"平遥\"");
    assert_named(&problems(&text), line, &["unknown variant `平遥`"]);
    let (text, line) = broken("industry = \"新材料\"", "industry = \"新材\"");
    assert_named(
        &problems(&text),
        line,
        &["unknown variant `新材`", "`新材料`"],
    );
}
