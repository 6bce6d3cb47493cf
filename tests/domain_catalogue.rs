//! The event catalogue in `events/`: every event type the code can emit has a JSON Schema and
//! an example per version; the schemas match the code; the examples validate and deserialise;
//! a scripted run of the whole loop emits every type, each valid against its schema; older
//! versions are upcast.
//!
//! `DUBAN_WRITE_CATALOGUE=1 cargo test --test domain_catalogue` rewrites the schema files from
//! the code and adds missing examples from the scripted run.

mod domain_kit;

use std::collections::{BTreeMap, BTreeSet};

use domain_kit::*;
use duban::domain::*;
use serde_json::json;

/// The whole loop for one project, every step as its role would issue it.
fn scenario() -> Vec<Event> {
    let steps: Vec<(Command, Context)> = vec![
        (
            Command::RegisterProject(RegisterProject {
                project_id: project_id(),
                name: "太原轨道交通装备制造基地".into(),
                industry: Industry::HighEndEquipment,
                city: City::Taiyuan,
                lead_department: dept(LEAD),
                supporting_departments: vec![dept(SUPPORT)],
                description: "2020年年销售收入500亿元".into(),
                source_section: "四、(一) 高端装备制造业".into(),
            }),
            office(),
        ),
        (
            Command::ScheduleMilestone(ScheduleMilestone {
                milestone_id: m1(),
                title: "整车组装线投产".into(),
                due_date: date("2018-06-30"),
                responsible_departments: vec![dept(LEAD), dept(SUPPORT)],
            }),
            office(),
        ),
        (
            Command::ScheduleMilestone(ScheduleMilestone {
                milestone_id: m2(),
                title: "配套园区一期竣工".into(),
                due_date: date("2018-09-30"),
                responsible_departments: vec![dept(LEAD)],
            }),
            office(),
        ),
        (
            Command::SetTarget(SetTarget {
                target_id: t1(),
                indicator: "年销售收入".into(),
                unit: "亿元".into(),
                target_value: 500.0,
                year: 2020,
            }),
            office(),
        ),
        (
            Command::AssignDepartment(AssignDepartment {
                department: dept(OUTSIDER),
                role: DepartmentRole::Supporting,
            }),
            office(),
        ),
        (Command::SignAssignment, department(LEAD)),
        (Command::SignAssignment, department(SUPPORT)),
        (
            Command::ReturnAssignment(ReturnAssignment {
                reason: "不属于本单位职责".into(),
            }),
            department(OUTSIDER),
        ),
        (
            Command::ReportProgress(ReportProgress {
                milestone_id: m1(),
                percent: Percent::new(80).unwrap(),
                narrative: "设备安装调试中".into(),
                actuals: vec![IndicatorActual {
                    target_id: t1(),
                    value: 310.5,
                }],
                evidence: vec!["2018-06-12 现场照片".into()],
            }),
            department(SUPPORT),
        ),
        (
            Command::RequestExtension(RequestExtension {
                milestone_id: m2(),
                new_due_date: date("2018-12-31"),
                reason: "征地手续延迟".into(),
            }),
            department(LEAD),
        ),
        (
            Command::DecideExtension(DecideExtension {
                milestone_id: m2(),
                approve: true,
                reason: "理由充分".into(),
            }),
            office(),
        ),
        (
            Command::ClaimCompletion(ClaimCompletion {
                milestone_id: m1(),
                narrative: "已投产".into(),
                evidence: vec![],
            }),
            department_at(LEAD, "2018-06-28T09:00:00+08:00"),
        ),
        (
            Command::ReturnCompletion(ReturnCompletion {
                milestone_id: m1(),
                reason: "报送情况与事实不符".into(),
            }),
            inspector(),
        ),
        (
            Command::ClaimCompletion(ClaimCompletion {
                milestone_id: m1(),
                narrative: "已投产，附验收报告".into(),
                evidence: vec!["验收报告".into()],
            }),
            department_at(LEAD, "2018-06-30T22:00:00+08:00"),
        ),
        (
            Command::AcceptCompletion(AcceptCompletion { milestone_id: m1() }),
            inspector(),
        ),
        (
            Command::RecordInspection(RecordInspection {
                inspected_on: date("2018-07-05"),
                on_site: true,
                summary: "现场督查".into(),
                findings: vec![NewFinding {
                    finding_id: f1(),
                    severity: Severity::High,
                    description: "安全防护设施不到位".into(),
                    milestone_id: Some(m1()),
                }],
            }),
            inspector_at("2018-07-05T16:00:00+08:00"),
        ),
        (
            Command::OrderRectification(OrderRectification {
                rectification_id: r1(),
                finding_id: f1(),
                department: dept(SUPPORT),
                deadline: date("2018-08-31"),
                instructions: "限期整改".into(),
            }),
            inspector(),
        ),
        (
            Command::ReportRectification(ReportRectification {
                rectification_id: r1(),
                narrative: "已整改".into(),
                evidence: vec![],
            }),
            department(SUPPORT),
        ),
        (
            Command::RejectRectification(RejectRectification {
                rectification_id: r1(),
                reason: "未见整改材料".into(),
            }),
            inspector(),
        ),
        (
            Command::ReportRectification(ReportRectification {
                rectification_id: r1(),
                narrative: "已整改，附照片".into(),
                evidence: vec!["整改照片".into()],
            }),
            department(SUPPORT),
        ),
        (
            Command::VerifyRectification(VerifyRectification {
                rectification_id: r1(),
            }),
            inspector(),
        ),
        (
            Command::RecordAssessment(RecordAssessment {
                period: "2018".into(),
                rubric_version: "2018.1".into(),
                breakdown: vec![
                    ScoreItem {
                        item: "基础分".into(),
                        points: 100.0,
                    },
                    ScoreItem {
                        item: "办结退回".into(),
                        points: -2.0,
                    },
                ],
                grade: "良好".into(),
            }),
            office(),
        ),
        (
            Command::RateConfidence(RateConfidence {
                rating: Confidence::Amber,
                assessor: "张评估".into(),
                comment: "二期存在风险".into(),
            }),
            office(),
        ),
        (
            Command::RevisePlan(RevisePlan {
                change: PlanChange::DueDate {
                    milestone_id: m2(),
                    to: date("2019-03-31"),
                },
                reason: "联席会议调整".into(),
            }),
            office(),
        ),
        (
            Command::PlaceHold(PlaceHold {
                kind: HoldKind::Parked,
                milestone_id: Some(m2()),
                approver: "领导小组办公室主任".into(),
                reason: "等待国家批复".into(),
                expires_on: date("2018-10-31"),
            }),
            office(),
        ),
        (
            Command::LiftHold(LiftHold {
                kind: HoldKind::Parked,
                milestone_id: Some(m2()),
                approver: "领导小组办公室主任".into(),
                reason: "已批复".into(),
            }),
            office(),
        ),
        (Command::RecordNoticeDue(notice_due()), office()),
        (
            Command::RecordNoticeFailed(NoticeFailed {
                dedup_key: notice_due().dedup_key,
                error: "421 try again later".into(),
                attempt: 1,
                permanent: false,
            }),
            office(),
        ),
        (
            Command::RecordNoticeSent(NoticeSent {
                dedup_key: notice_due().dedup_key,
                message_id: "<notice.1@duban.example.org>".into(),
            }),
            office(),
        ),
        (
            Command::CloseCycle(CloseCycle {
                reason: "年度任务完成".into(),
            }),
            office(),
        ),
        (
            Command::ReopenCycle(ReopenCycle {
                instruction: "联席会议纪要〔2019〕3号".into(),
            }),
            office(),
        ),
    ];
    let mut events = Vec::new();
    let mut state = ProjectState::default();
    for (command, ctx) in steps {
        let decided = given_state(&state).when(command.clone(), ctx).outcome;
        let decided = decided.unwrap_or_else(|e| panic!("{command:?} failed: {e}"));
        state = decided.iter().fold(state, evolve);
        events.extend(decided);
    }
    events
}

fn given_state(state: &ProjectState) -> Given {
    Given {
        state: state.clone(),
    }
}

fn notice_due() -> NoticeDue {
    NoticeDue {
        dedup_key: format!("{}:1:0", m2()),
        milestone_id: m2(),
        department: dept("SXEIC"),
        due_date: date("2018-06-30"),
        kind: NoticeKind::Overdue,
        level: 1,
        repeat: 0,
        recipients: vec!["sxeic@example.org".into()],
    }
}

/// A `ProgressReported` payload as version 1 stored it.
fn progress_v1() -> serde_json::Value {
    json!({
        "milestone_id": m1(),
        "department": LEAD,
        "reported_at": "2017-03-01T02:00:00Z",
        "percent": 20,
        "note": "完成前期工作",
        "actuals": []
    })
}

fn all_versions() -> Vec<(&'static str, u32, schemars::Schema)> {
    let current = CATALOGUE
        .iter()
        .map(|(t, v)| (*t, *v, schema_of(t).unwrap()));
    let legacy = LEGACY
        .iter()
        .map(|(t, v)| (*t, *v, legacy_schema_of(t, *v).unwrap()));
    current.chain(legacy).collect()
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

/// With DUBAN_WRITE_CATALOGUE set: writes schemas, and examples that are missing.
fn write_catalogue_if_asked() {
    if std::env::var_os("DUBAN_WRITE_CATALOGUE").is_none() {
        return;
    }
    for (t, v, schema) in all_versions() {
        std::fs::create_dir_all(catalogue_dir().join(t)).unwrap();
        std::fs::write(schema_path(t, v), pretty(&schema.to_value())).unwrap();
    }
    let mut examples: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    for e in scenario() {
        examples
            .entry(e.event_type())
            .or_insert_with(|| e.payload());
    }
    for (t, v, _) in all_versions() {
        let example = match (t, v) {
            ("ProgressReported", 1) => progress_v1(),
            _ => examples[t].clone(),
        };
        if !example_path(t, v).exists() {
            std::fs::write(example_path(t, v), pretty(&example)).unwrap();
        }
    }
    panic!(
        "the catalogue was rewritten from the code; run the tests again without DUBAN_WRITE_CATALOGUE"
    );
}

#[test]
fn every_event_type_and_version_has_a_schema_matching_the_code_and_a_valid_example() {
    write_catalogue_if_asked();
    for (t, v, schema) in all_versions() {
        let committed: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(schema_path(t, v))
                .unwrap_or_else(|_| panic!("no schema for {t} v{v}")),
        )
        .unwrap();
        assert_eq!(
            committed,
            schema.to_value(),
            "events/{t}/v{v}.schema.json differs from the code"
        );
        let example: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(example_path(t, v))
                .unwrap_or_else(|_| panic!("no example for {t} v{v}")),
        )
        .unwrap();
        let errors: Vec<String> = validator(t, v)
            .iter_errors(&example)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "example of {t} v{v} does not validate: {errors:?}"
        );
        let event = decode(t, v, example).unwrap_or_else(|e| panic!("example of {t} v{v}: {e}"));
        assert_eq!(event.event_type(), t);
    }
}

#[test]
fn the_catalogue_holds_nothing_the_code_does_not_know() {
    let known: BTreeSet<String> = CATALOGUE.iter().map(|(t, _)| t.to_string()).collect();
    for entry in std::fs::read_dir(catalogue_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".md") {
            continue;
        }
        assert!(
            known.contains(&name),
            "events/{name} is not an event type of the code"
        );
    }
}

#[test]
fn the_whole_loop_emits_every_event_type_each_valid_against_its_schema() {
    let events = scenario();
    let emitted: BTreeSet<&str> = events.iter().map(|e| e.event_type()).collect();
    let catalogue: BTreeSet<&str> = CATALOGUE.iter().map(|(t, _)| *t).collect();
    assert_eq!(emitted, catalogue);
    // `when` validated each one; decoding the stored form gives the same event back.
    for e in &events {
        assert_eq!(
            &decode(e.event_type(), e.schema_version(), e.payload()).unwrap(),
            e
        );
    }
}

#[test]
fn a_version_1_progress_report_is_upcast_to_version_2() {
    let event = decode("ProgressReported", 1, progress_v1()).unwrap();
    let Event::ProgressReported(p) = event else {
        panic!("wrong type")
    };
    assert_eq!(p.narrative, "完成前期工作");
    assert!(p.evidence.is_empty());
    assert_eq!(p.percent, 20);
}

#[test]
fn unknown_types_and_versions_from_the_future_are_refused() {
    assert!(decode("ProjectDeleted", 1, json!({})).is_err());
    assert!(upcast("ProgressReported", 3, json!({})).is_err());
    // A v1 payload presented as v2 is not read as if it were one.
    let v2 = decode("ProgressReported", 2, progress_v1());
    assert!(v2.is_err(), "a v1 payload is not a valid v2 payload");
}
