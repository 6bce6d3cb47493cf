//! Importing the shipped plan into a real store: one stream per project with the expected
//! events, nothing appended on a second import or after a half-finished one, changes in the
//! file reported rather than rewritten, and `duban import` over the binary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use duban::command::{CommandRequest, DispatchError, Dispatcher};
use duban::domain::{Actor, DepartmentCode};
use duban::plan::*;
use duban::policy::Policies;
use duban::store::{EventStore, RecordedEvent, SledStore, StoreOptions};

const PLAN: &str = "shanxi-sei-2016-2020";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn policies() -> Policies {
    Policies::load(&root().join("policies")).unwrap()
}

fn shipped_text() -> String {
    std::fs::read_to_string(root().join("plans/shanxi-sei-2016-2020.toml")).unwrap()
}

fn parse(text: &str) -> PlanFile {
    PlanFile::parse(text, &policies().departments).unwrap_or_else(|e| panic!("{e}"))
}

struct Setup {
    dispatcher: Dispatcher<SledStore>,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), StoreOptions::default()).unwrap();
    Setup {
        dispatcher: Dispatcher::new(store, Arc::new(policies())),
        _dir: dir,
    }
}

fn office(sub: &str) -> Actor {
    Actor {
        sub: sub.into(),
        role: "office".into(),
        dept: None,
    }
}

fn now() -> DateTime<Utc> {
    "2016-03-01T09:00:00+08:00".parse().unwrap()
}

/// Registrations + milestones + targets of the whole plan.
fn command_count(plan: &PlanFile) -> usize {
    plan.projects()
        .map(|p| 1 + p.milestones().count() + p.targets().count())
        .sum()
}

async fn all_events(store: &SledStore) -> Vec<RecordedEvent> {
    store.read_all(1, 100_000).await.unwrap()
}

#[tokio::test]
async fn the_import_makes_one_stream_per_project_with_its_registration_milestones_and_targets() {
    let s = setup();
    let plan = parse(&shipped_text());
    let report = import(&s.dispatcher, &plan, &office("wang"), now())
        .await
        .unwrap();
    let total = command_count(&plan);
    assert_eq!((report.projects, report.projects_created), (127, 127));
    assert_eq!(
        (report.commands_applied, report.commands_already_applied),
        (total, 0)
    );
    assert_eq!(report.milestones_scheduled, 507);
    assert_eq!(report.targets_set, 138);
    assert!(report.differences.is_empty());

    let mut streams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in all_events(&s.dispatcher.store).await {
        let e = e.envelope;
        assert_eq!(
            (e.actor.role.as_str(), e.actor.sub.as_str()),
            ("office", "wang")
        );
        assert!(
            e.command_id.starts_with("key:") && e.command_id.len() == 68,
            "{}",
            e.command_id
        );
        streams
            .entry(e.stream.to_string())
            .or_default()
            .push(e.event_type);
    }
    assert_eq!(streams.len(), 127);
    for p in plan.projects() {
        let types = &streams[&project_id(PLAN, &p.key).to_string()];
        assert_eq!(types[0], "ProjectRegistered", "{}", p.key);
        let count = |t: &str| types.iter().filter(|x| *x == t).count();
        assert_eq!(count("MilestoneScheduled"), p.milestones().count());
        assert_eq!(count("TargetSet"), p.targets().count());
        assert_eq!(
            types.len(),
            1 + p.milestones().count() + p.targets().count()
        );
    }
}

#[tokio::test]
async fn an_imported_project_reads_as_the_plan_says() {
    let s = setup();
    let plan = parse(&shipped_text());
    import(&s.dispatcher, &plan, &office("wang"), now())
        .await
        .unwrap();
    let key = "datong-rail-transit-base";
    let (state, _) = s.dispatcher.current(project_id(PLAN, key)).await.unwrap();
    let info = state.info.as_ref().unwrap();
    assert_eq!(info.name, "大同轨道交通装备制造基地");
    assert_eq!(info.source_section, "四、(二)1. 高端装备制造产业");
    assert!(
        info.description.contains("年销售机车500台"),
        "{}",
        info.description
    );
    assert!(
        info.description
            .contains("演示假设：牵头单位、配合单位、里程碑")
    );
    let dept = |c: &str| DepartmentCode::new(c).unwrap();
    assert_eq!(state.lead_department(), Some(&dept("DT-GOV")));
    assert!(state.is_active(&dept("SXEIC")));
    let locomotives = &state.targets[&target_id(PLAN, key, "locomotives")];
    assert_eq!(
        (locomotives.value, locomotives.unit.as_str()),
        (500.0, "台")
    );
    let goal = &state.milestones[&milestone_id(PLAN, key, "goal")];
    assert_eq!(goal.due.to_string(), "2020-12-31");
}

#[tokio::test]
async fn importing_the_same_file_twice_appends_nothing_the_second_time() {
    let s = setup();
    let plan = parse(&shipped_text());
    import(&s.dispatcher, &plan, &office("wang"), now())
        .await
        .unwrap();
    let head = s.dispatcher.store.head();
    let again = import(&s.dispatcher, &plan, &office("wang"), now())
        .await
        .unwrap();
    assert_eq!(s.dispatcher.store.head(), head);
    assert_eq!((again.projects_unchanged, again.commands_applied), (127, 0));
    assert_eq!(again.commands_already_applied, command_count(&plan));
    // Another office user importing the same file finds it all there too.
    let other = import(&s.dispatcher, &plan, &office("li"), now())
        .await
        .unwrap();
    assert_eq!(
        (other.commands_applied, s.dispatcher.store.head()),
        (0, head)
    );
}

#[tokio::test]
async fn an_import_that_stopped_half_way_is_finished_without_doubles() {
    let s = setup();
    let plan = parse(&shipped_text());
    let total = command_count(&plan);
    // The first 300 commands of an earlier run, the last of them mid-project.
    let earlier = project_commands(&plan).unwrap();
    let done: Vec<(&ProjectCommands, &PlannedCommand)> = earlier
        .iter()
        .flat_map(|p| p.commands.iter().map(move |c| (p, c)))
        .take(300)
        .collect();
    for (p, c) in &done {
        let request = CommandRequest {
            project: p.project,
            command: c.command.clone(),
            actor: office("wang"),
            now: now(),
            idempotency_key: Some(c.idempotency_key.clone()),
            if_match: None,
            correlation_id: None,
        };
        s.dispatcher.dispatch(request).await.unwrap();
    }
    let report = import(&s.dispatcher, &plan, &office("wang"), now())
        .await
        .unwrap();
    assert_eq!(report.commands_applied, total - 300);
    assert_eq!(report.commands_already_applied, 300);
    assert_eq!(report.projects_resumed, 1);
    let started = done.last().unwrap().0;
    let finished = earlier.iter().position(|p| p.key == started.key).unwrap();
    assert_eq!(report.projects_unchanged, finished);
    assert_eq!(s.dispatcher.store.head().seq, total as u64);
}

#[tokio::test]
async fn a_changed_file_adds_what_is_new_and_reports_what_differs_without_rewriting() {
    let s = setup();
    let text = shipped_text();
    import(&s.dispatcher, &parse(&text), &office("wang"), now())
        .await
        .unwrap();
    let head = s.dispatcher.store.head().seq;
    let changed = text
        .replacen("due = 2018-06-30", "due = 2018-09-30", 1)
        .replacen(
            "milestones = [\n",
            "milestones = [\n  { key = \"extra\", title = \"增补节点\", due = 2019-03-31, responsible = [\"TY-GOV\"] },\n",
            1,
        );
    let report = import(&s.dispatcher, &parse(&changed), &office("wang"), now())
        .await
        .unwrap();
    assert_eq!(
        (report.commands_applied, report.milestones_scheduled),
        (1, 1)
    );
    assert_eq!(
        (report.projects_resumed, report.projects_unchanged),
        (1, 126)
    );
    assert_eq!(s.dispatcher.store.head().seq, head + 1);
    assert_eq!(report.differences.len(), 1, "{:?}", report.differences);
    let d = &report.differences[0];
    assert!(
        d.contains("first due date is \"2018-09-30\" in the file, \"2018-06-30\" in the log"),
        "{d}"
    );
}

#[tokio::test]
async fn only_a_role_that_may_register_projects_can_import() {
    let s = setup();
    let plan = parse(&shipped_text());
    let department = Actor {
        sub: "dt".into(),
        role: "department".into(),
        dept: Some(DepartmentCode::new("DT-GOV").unwrap()),
    };
    let e = import(&s.dispatcher, &plan, &department, now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.source,
            ImportRefusal::Dispatch(DispatchError::RoleMayNot { .. })
        ),
        "{e}"
    );
    assert_eq!(e.project, "taiyuan-rail-transit-base");
    assert_eq!(s.dispatcher.store.head().seq, 0);
}

#[test]
fn ids_derive_from_the_plan_key_and_the_item_keys_only() {
    let id = project_id(PLAN, "taiyuan-rail-transit-base");
    // Pinned: were the derivation to change, a plan imported before would be imported again
    // as new projects.
    assert_eq!(id.to_string(), "dd4aa71c-a254-8b7b-972b-bdc63eaedfe3");
    assert_eq!(id, project_id(PLAN, "taiyuan-rail-transit-base"));
    assert_ne!(id, project_id("another-plan", "taiyuan-rail-transit-base"));
    let a = milestone_id(PLAN, "datong-rail-transit-base", "goal");
    let b = milestone_id(PLAN, "taiyuan-rail-transit-base", "goal");
    assert_ne!(a, b);
    assert_ne!(a.0, target_id(PLAN, "datong-rail-transit-base", "goal").0);
}

fn duban(args: &[&str], data_dir: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_duban"))
        .current_dir(root())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (
        out.status.code().unwrap(),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn duban_import_prints_a_summary_and_exits_1_on_a_broken_file_appending_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = "plans/shanxi-sei-2016-2020.toml";
    let (code, out, err) = duban(&["import", file], &data);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("127 created"), "{out}");
    assert!(out.contains("772 applied"), "{out}");
    let (code, out, _) = duban(&["import", file], &data);
    assert_eq!(code, 0);
    assert!(
        out.contains("127 unchanged") && out.contains("0 applied"),
        "{out}"
    );

    let text = shipped_text();
    let at = text.find("lead_department = \"YC-GOV\"").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let broken = dir.path().join("broken.toml");
    let bad = text.replacen(
        "lead_department = \"YC-GOV\"",
        "lead_department = \"YC-XX\"",
        1,
    );
    std::fs::write(&broken, bad).unwrap();
    let (code, _, err) = duban(&["import", broken.to_str().unwrap()], &data);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("line {line}: ")) && err.contains("YC-XX"),
        "{err}"
    );
    let (code, out, _) = duban(&["verify"], &data);
    assert_eq!(code, 0);
    assert!(out.contains("OK: 772 events verified"), "{out}");

    let (code, _, err) = duban(&["import", "plans/no-such-plan.toml"], &data);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn a_plan_text_no_command_can_carry_is_refused_naming_the_item_and_the_rule() {
    let long = "节".repeat(201);
    for (title, rule) in [
        (
            long.as_str(),
            "title: text is too long: 201 characters, at most 200",
        ),
        (
            "增补\u{202E}节点",
            "title: text contains a forbidden character",
        ),
    ] {
        let text = shipped_text().replacen(
            "milestones = [\n",
            &format!(
                "milestones = [\n  {{ key = \"extra\", title = \"{title}\", due = 2019-03-31, responsible = [\"TY-GOV\"] }},\n"
            ),
            1,
        );
        let e = PlanFile::parse(&text, &policies().departments).unwrap_err();
        let message = e.to_string();
        assert!(message.contains("milestone extra"), "{message}");
        assert!(message.contains(rule), "{message}");
    }
}
