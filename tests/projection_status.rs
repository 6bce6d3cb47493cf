//! A project's status for a day, computed from a record: every light threshold at its
//! boundary, completion on the due date, holidays in the working-day count, holds, and the
//! policy version recorded with the colour.

mod domain_kit;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain_kit::*;
use duban::domain::*;
use duban::policy::{LightsPolicy, Policies, WorkingCalendar};
use duban::projection::record::Position;
use duban::projection::{Day, ProjectRecord, ProjectStatus, status};

fn policies() -> Policies {
    Policies::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
}

/// Folds events into a record, each recorded at the given instant.
fn record(events: &[(&str, Event)]) -> ProjectRecord {
    let mut r = ProjectRecord::new(project_id());
    for (i, (when, e)) in events.iter().enumerate() {
        let position = Position {
            seq: i as u64 + 1,
            version: i as u64 + 1,
            recorded_at: at(when),
        };
        r.apply(position, e);
    }
    r
}

fn milestone_due(id: MilestoneId, due: &str) -> Event {
    Event::MilestoneScheduled(MilestoneScheduled {
        milestone_id: id,
        title: "投产".into(),
        due_date: date(due),
        responsible_departments: vec![dept(LEAD)],
    })
}

fn progress(percent: u8, when: &str) -> Event {
    Event::ProgressReported(ProgressReported {
        milestone_id: m1(),
        department: dept(LEAD),
        reported_at: at(when),
        percent,
        narrative: String::new(),
        actuals: vec![],
        evidence: vec![],
    })
}

fn on(
    r: &ProjectRecord,
    day: NaiveDate,
    calendar: &WorkingCalendar,
    p: &Policies,
) -> ProjectStatus {
    let d = Day {
        date: day,
        calendar,
        lights: p.lights.in_force(day),
    };
    status(r, d).unwrap()
}

fn colour(s: &ProjectStatus) -> &'static str {
    s.light.colour.as_str()
}

const T0: &str = "2018-01-01T10:00:00+08:00";

#[test]
fn working_days_late_turns_yellow_from_one_and_red_beyond_ten() {
    let p = policies();
    let cal = WorkingCalendar::default();
    // Due Friday 2018-06-29; 95 % done, so only lateness counts.
    let r = record(&[
        (T0, registered()),
        (T0, milestone_due(m1(), "2018-06-29")),
        (T0, progress(95, T0)),
    ]);
    let due = date("2018-06-29");
    let late = |n| on(&r, cal.add_working_days(due, n), &cal, &p);
    assert_eq!(colour(&late(0)), "green", "the due date itself is not late");
    assert_eq!(colour(&late(1)), "yellow");
    assert_eq!(late(1).light.measures.working_days_late, 1);
    assert_eq!(colour(&late(10)), "yellow", "10 is not beyond 10");
    assert_eq!(colour(&late(11)), "red");
    assert_eq!(
        late(11).light.reasons[0].measure,
        duban::policy::Measure::WorkingDaysLate
    );
    // A weekend after the due date is past it, but not a working day late.
    let saturday = on(&r, date("2018-06-30"), &cal, &p);
    assert_eq!(saturday.milestones[0].days_overdue, Some(1));
    assert_eq!(saturday.milestones[0].working_days_overdue, Some(0));
    assert_eq!(colour(&saturday), "green");
}

#[test]
fn points_behind_turn_yellow_from_ten_and_red_beyond_thirty() {
    let p = policies();
    let cal = WorkingCalendar::default();
    // Scheduled 2018-01-01, due 100 days later: expected progress is one point a day.
    let r = record(&[(T0, registered()), (T0, milestone_due(m1(), "2018-04-11"))]);
    let start = date("2018-01-01");
    let day = |n| on(&r, start + Duration::days(n), &cal, &p);
    assert_eq!(day(9).light.measures.points_behind, 9.0);
    assert_eq!(colour(&day(9)), "green");
    assert_eq!(
        colour(&day(10)),
        "yellow",
        "10 points behind is yellow (inclusive)"
    );
    assert_eq!(colour(&day(30)), "yellow", "30 is not beyond 30");
    assert_eq!(colour(&day(31)), "red");
    assert_eq!(day(31).milestones[0].expected_percent, Some(31.0));
}

#[test]
fn an_open_high_severity_finding_past_its_rectification_deadline_is_red() {
    let p = policies();
    let cal = WorkingCalendar::default();
    let finding = |severity| {
        Event::InspectionRecorded(InspectionRecorded {
            inspector: "li".into(),
            inspected_on: date("2018-03-01"),
            on_site: true,
            summary: String::new(),
            findings: vec![Finding {
                finding_id: f1(),
                severity,
                description: "报送情况与事实不符".into(),
                milestone_id: None,
            }],
        })
    };
    let ordered = Event::RectificationOrdered(RectificationOrdered {
        rectification_id: r1(),
        finding_id: f1(),
        department: dept(LEAD),
        deadline: date("2018-03-31"),
        instructions: String::new(),
    });
    let high = record(&[
        (T0, registered()),
        (T0, finding(Severity::High)),
        (T0, ordered.clone()),
    ]);
    assert_eq!(colour(&on(&high, date("2018-03-31"), &cal, &p)), "green");
    let next = on(&high, date("2018-04-01"), &cal, &p);
    assert_eq!(colour(&next), "red");
    assert_eq!(next.light.measures.overdue_high_findings, 1);
    assert!(next.open_rectifications[0].past_deadline);
    let medium = record(&[
        (T0, registered()),
        (T0, finding(Severity::Medium)),
        (T0, ordered),
    ]);
    assert_eq!(colour(&on(&medium, date("2018-04-01"), &cal, &p)), "green");
}

fn claimed_at(when: &str) -> Vec<(String, Event)> {
    vec![
        (T0.to_string(), registered()),
        (T0.to_string(), milestone_due(m1(), "2018-06-29")),
        (when.to_string(), claimed(when)),
        (
            when.to_string(),
            Event::CompletionAccepted(CompletionAccepted {
                milestone_id: m1(),
                inspector: "li".into(),
            }),
        ),
    ]
}

#[test]
fn completion_claimed_on_the_due_date_is_on_time_and_a_minute_after_midnight_is_late() {
    let p = policies();
    let cal = WorkingCalendar::default();
    for (when, expected, late) in [
        ("2018-06-29T23:59:00+08:00", "completed_on_time", false),
        ("2018-06-30T00:01:00+08:00", "completed_late", true),
    ] {
        let events = claimed_at(when);
        let refs: Vec<(&str, Event)> = events
            .iter()
            .map(|(w, e)| (w.as_str(), e.clone()))
            .collect();
        let s = on(&record(&refs), date("2018-07-10"), &cal, &p);
        let m = &s.milestones[0];
        assert_eq!(
            serde_json::to_value(&m.timing).unwrap(),
            expected,
            "claimed {when}"
        );
        assert_eq!(m.completed_late, Some(late));
        assert_eq!(
            m.working_days_overdue, None,
            "a completed milestone is not overdue"
        );
        assert_eq!(colour(&s), "green");
    }
}

#[test]
fn a_holiday_week_does_not_count_as_working_days_late() {
    let p = policies();
    let r = record(&[
        (T0, registered()),
        (T0, milestone_due(m1(), "2019-09-30")),
        (T0, progress(95, T0)),
    ]);
    // 国庆 2019: 10-01 … 10-07 off; 10-08 is the first working day after the due date.
    let week_after = on(&r, date("2019-10-07"), &p.calendar, &p);
    assert_eq!(week_after.milestones[0].days_overdue, Some(7));
    assert_eq!(week_after.milestones[0].working_days_overdue, Some(0));
    assert_eq!(colour(&week_after), "green");
    let first_day_back = on(&r, date("2019-10-08"), &p.calendar, &p);
    assert_eq!(first_day_back.milestones[0].working_days_overdue, Some(1));
    assert_eq!(colour(&first_day_back), "yellow");
    assert_eq!(first_day_back.light.calendar_version, p.calendar.version());
}

#[test]
fn a_hold_silences_a_milestone_until_its_expiry() {
    let p = policies();
    let cal = WorkingCalendar::default();
    let hold = Event::HoldPlaced(HoldPlaced {
        kind: HoldKind::Parked,
        milestone_id: Some(m1()),
        approver: "wang".into(),
        reason: "等待环评批复".into(),
        expires_on: date("2018-07-31"),
    });
    let r = record(&[
        (T0, registered()),
        (T0, milestone_due(m1(), "2018-06-29")),
        (T0, hold),
    ]);
    let held = on(&r, date("2018-07-31"), &cal, &p);
    assert_eq!(held.milestones[0].state, "parked");
    assert_eq!(
        serde_json::to_value(&held.milestones[0].timing).unwrap(),
        "on_hold"
    );
    assert_eq!(colour(&held), "green");
    let lapsed = on(&r, date("2018-08-01"), &cal, &p);
    assert_eq!(
        serde_json::to_value(&lapsed.milestones[0].timing).unwrap(),
        "overdue"
    );
    assert_eq!(colour(&lapsed), "red");
}

#[test]
fn the_colour_names_the_threshold_version_in_force_on_its_day() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/lights.toml"),
    )
    .unwrap();
    let stricter = format!(
        "{text}\n[[version]]\nid = \"2019.1\"\neffective_from = \"2019-01-01\"\n\
         due_soon_working_days = 10\n[[version.rule]]\nlight = \"red\"\n\
         measure = \"working_days_late\"\nop = \">=\"\nvalue = 1\n"
    );
    let mut p = policies();
    p.lights = LightsPolicy::parse(&stricter).unwrap();
    let cal = WorkingCalendar::default();
    let r = record(&[
        (T0, registered()),
        (T0, milestone_due(m1(), "2018-12-20")),
        (T0, progress(95, T0)),
    ]);
    let old = on(&r, date("2018-12-24"), &cal, &p);
    assert_eq!(
        (colour(&old), old.light.policy_version.as_str()),
        ("yellow", "2016.1")
    );
    let new = on(&r, date("2019-01-02"), &cal, &p);
    assert_eq!(
        (colour(&new), new.light.policy_version.as_str()),
        ("red", "2019.1")
    );
}

#[test]
fn slippage_is_reported_against_the_first_and_the_latest_baseline() {
    let p = policies();
    let cal = WorkingCalendar::default();
    let revised = Event::PlanRevised(PlanRevised {
        revision: Revision::DueDate {
            milestone_id: m1(),
            from: date("2018-06-29"),
            to: date("2018-07-31"),
        },
        reason: "设备到货延迟".into(),
    });
    let r = record(&[
        (T0, registered()),
        (T0, milestone_due(m1(), "2018-06-29")),
        (T0, revised),
    ]);
    let s = on(&r, date("2018-08-10"), &cal, &p);
    assert_eq!(s.slippage.against_first_baseline_days, 42);
    assert_eq!(s.slippage.against_latest_baseline_days, 10);
    assert_eq!(s.milestones[0].baseline_due, date("2018-06-29"));
    let _: DateTime<Utc> = at(T0);
}
