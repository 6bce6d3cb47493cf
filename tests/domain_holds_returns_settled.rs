//! Given / when / then for the rules around holds (suspend / park stop the clock), returned
//! assignments (退回 and re-assignment), settled milestones, and numbers that must be finite.

mod domain_kit;

use domain_kit::*;
use duban::domain::*;

fn given_state(state: ProjectState) -> Given {
    Given { state }
}

fn claim() -> Command {
    Command::ClaimCompletion(ClaimCompletion {
        milestone_id: m1(),
        narrative: "投产".into(),
        evidence: vec![],
    })
}

fn parked_until(expires: &str) -> Event {
    Event::HoldPlaced(HoldPlaced {
        kind: HoldKind::Parked,
        milestone_id: Some(m1()),
        approver: "办公室主任".into(),
        reason: "等待国家批复".into(),
        expires_on: date(expires),
    })
}

fn accepted() -> Event {
    Event::CompletionAccepted(CompletionAccepted {
        milestone_id: m1(),
        inspector: "li".into(),
    })
}

// ── holds ──

#[test]
fn no_claim_or_extension_goes_through_while_the_milestone_is_parked() {
    let g = given(with(planned(), [parked_until("2018-07-31")]));
    g.when(claim(), department(LEAD))
        .then_error(DomainError::OnHold(date("2018-07-31")));
    let ext = Command::RequestExtension(RequestExtension {
        milestone_id: m1(),
        new_due_date: date("2018-09-30"),
        reason: "x".into(),
    });
    g.when(ext, department(LEAD))
        .then_error(DomainError::OnHold(date("2018-07-31")));
}

#[test]
fn a_suspended_project_takes_no_claim_and_no_notice() {
    let suspended = Event::HoldPlaced(HoldPlaced {
        kind: HoldKind::Suspended,
        milestone_id: None,
        approver: "办公室主任".into(),
        reason: "中止".into(),
        expires_on: date("2018-12-31"),
    });
    let g = given(with(planned(), [suspended]));
    g.when(claim(), department(LEAD))
        .then_error(DomainError::OnHold(date("2018-12-31")));
    let notice = NoticeDue {
        dedup_key: "k".into(),
        milestone_id: m1(),
        department: dept("SXEIC"),
        due_date: date("2018-06-30"),
        kind: NoticeKind::Overdue,
        level: 1,
        repeat: 0,
        recipients: vec![],
    };
    g.when(Command::RecordNoticeDue(notice), office())
        .then_error(DomainError::OnHold(date("2018-12-31")));
}

#[test]
fn an_expired_hold_no_longer_stops_anything_and_a_new_one_can_be_placed() {
    let g = given(with(planned(), [parked_until("2018-06-10")]));
    g.when(claim(), department(LEAD))
        .then_events(vec![claimed(NOW)]);
    let again = Command::PlaceHold(PlaceHold {
        kind: HoldKind::Suspended,
        milestone_id: Some(m1()),
        approver: "主任".into(),
        reason: "再次中止".into(),
        expires_on: date("2018-08-31"),
    });
    g.when(again, office()).then_ok();
}

// ── returned assignments ──

fn returned(code: &str) -> Event {
    Event::AssignmentReturned(AssignmentReturned {
        department: dept(code),
        reason: "不属于本单位职责".into(),
    })
}

#[test]
fn a_lead_that_returned_the_assignment_is_replaced_and_can_be_assigned_back() {
    let g = given(vec![registered(), returned(LEAD)]);
    assert_eq!(g.state.lead_department(), None);
    let new_lead = Command::AssignDepartment(AssignDepartment {
        department: dept(OUTSIDER),
        role: DepartmentRole::Lead,
    });
    let state = g.when(new_lead, office()).then_ok();
    assert_eq!(state.lead_department(), Some(&dept(OUTSIDER)));
    let back = Command::AssignDepartment(AssignDepartment {
        department: dept(LEAD),
        role: DepartmentRole::Supporting,
    });
    let state = given_state(state).when(back, office()).then_ok();
    assert!(state.is_active(&dept(LEAD)));
}

#[test]
fn a_department_that_returned_the_assignment_is_given_nothing_and_reports_nothing() {
    let g = given(with(planned(), [returned(SUPPORT)]));
    let schedule = Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id: m2(),
        title: "x".into(),
        due_date: date("2018-09-30"),
        responsible_departments: vec![dept(SUPPORT)],
    });
    g.when(schedule, office())
        .then_error(DomainError::DepartmentNotAssigned(dept(SUPPORT)));
    let report = Command::ReportProgress(ReportProgress {
        milestone_id: m1(),
        percent: Percent::new(10).unwrap(),
        narrative: "x".into(),
        actuals: vec![],
        evidence: vec![],
    });
    g.when(report, department(SUPPORT))
        .then_error(DomainError::AssignmentWasReturned);
}

#[test]
fn a_rectification_is_not_ordered_to_nor_reported_by_a_department_that_returned_the_assignment() {
    let inspected = Event::InspectionRecorded(InspectionRecorded {
        inspector: "li".into(),
        inspected_on: date("2018-06-14"),
        on_site: true,
        summary: "现场督查".into(),
        findings: vec![Finding {
            finding_id: f1(),
            severity: Severity::Low,
            description: "x".into(),
            milestone_id: None,
        }],
    });
    let order = |d: &str| {
        Command::OrderRectification(OrderRectification {
            rectification_id: r1(),
            finding_id: f1(),
            department: dept(d),
            deadline: date("2018-07-31"),
            instructions: "整改".into(),
        })
    };
    given(with(planned(), [inspected.clone(), returned(SUPPORT)]))
        .when(order(SUPPORT), inspector())
        .then_error(DomainError::DepartmentNotAssigned(dept(SUPPORT)));
    let ordered = given(with(planned(), [inspected]))
        .when(order(SUPPORT), inspector())
        .then_ok();
    let state = evolve(ordered, &returned(SUPPORT));
    let report = Command::ReportRectification(ReportRectification {
        rectification_id: r1(),
        narrative: "已整改".into(),
        evidence: vec![],
    });
    given_state(state)
        .when(report, department(SUPPORT))
        .then_error(DomainError::AssignmentWasReturned);
}

// ── settled and in-review milestones ──

#[test]
fn once_accepted_no_extension_decision_or_revision_rewrites_the_milestone() {
    let requested = Event::ExtensionRequested(ExtensionRequested {
        milestone_id: m1(),
        department: dept(LEAD),
        requested_at: at(NOW),
        due_date: date("2018-06-30"),
        new_due_date: date("2018-09-30"),
        reason: "x".into(),
        late: false,
    });
    let g = given(with(
        planned(),
        [requested, claimed("2018-07-10T10:00:00+08:00"), accepted()],
    ));
    let approve = Command::DecideExtension(DecideExtension {
        milestone_id: m1(),
        approve: true,
        reason: "同意".into(),
    });
    g.when(approve, office())
        .then_error(DomainError::CompletionAlreadyAccepted);
    let revise = Command::RevisePlan(RevisePlan {
        change: PlanChange::DueDate {
            milestone_id: m1(),
            to: date("2018-07-31"),
        },
        reason: "x".into(),
    });
    g.when(revise, office())
        .then_error(DomainError::CompletionAlreadyAccepted);
    assert_eq!(g.state.milestones[&m1()].completion_late(), Some(true));
}

#[test]
fn an_extension_overtaken_by_a_revision_cannot_move_the_date_back() {
    let requested = Event::ExtensionRequested(ExtensionRequested {
        milestone_id: m1(),
        department: dept(LEAD),
        requested_at: at(NOW),
        due_date: date("2018-06-30"),
        new_due_date: date("2018-09-30"),
        reason: "x".into(),
        late: false,
    });
    let revised = Event::PlanRevised(PlanRevised {
        revision: Revision::DueDate {
            milestone_id: m1(),
            from: date("2018-06-30"),
            to: date("2018-12-31"),
        },
        reason: "联席会议".into(),
    });
    given(with(planned(), [requested.clone(), revised]))
        .when(
            Command::DecideExtension(DecideExtension {
                milestone_id: m1(),
                approve: true,
                reason: "同意".into(),
            }),
            office(),
        )
        .then_error(DomainError::ExtensionNotLater);
    // Rejecting it is still possible, and is recorded as a rejection.
    let rejected = ExtensionDecided {
        milestone_id: m1(),
        decision: Decision::Rejected,
        due_date: date("2018-06-30"),
        reason: "理由不足".into(),
        decided_by: "wang.office".into(),
    };
    let state = given(with(planned(), [requested]))
        .when(
            Command::DecideExtension(DecideExtension {
                milestone_id: m1(),
                approve: false,
                reason: "理由不足".into(),
            }),
            office(),
        )
        .then_events(vec![Event::ExtensionDecided(rejected)]);
    assert!(state.milestones[&m1()].pending_extension.is_none());
}

#[test]
fn while_a_claim_is_under_review_no_progress_or_extension_is_filed() {
    let g = given(with(planned(), [claimed(NOW)]));
    let report = Command::ReportProgress(ReportProgress {
        milestone_id: m1(),
        percent: Percent::new(5).unwrap(),
        narrative: "x".into(),
        actuals: vec![],
        evidence: vec![],
    });
    g.when(report, department(SUPPORT))
        .then_error(DomainError::CompletionAlreadyClaimed);
    let ext = Command::RequestExtension(RequestExtension {
        milestone_id: m1(),
        new_due_date: date("2018-09-30"),
        reason: "x".into(),
    });
    g.when(ext, department(LEAD))
        .then_error(DomainError::CompletionAlreadyClaimed);
}

#[test]
fn an_extension_requested_on_the_due_date_is_in_time_and_the_next_day_late() {
    let ext = || {
        Command::RequestExtension(RequestExtension {
            milestone_id: m1(),
            new_due_date: date("2018-09-30"),
            reason: "x".into(),
        })
    };
    let on_time = given(planned())
        .when(ext(), department_at(LEAD, "2018-06-30T23:30:00+08:00"))
        .then_ok();
    assert!(
        !on_time.milestones[&m1()]
            .pending_extension
            .as_ref()
            .unwrap()
            .late
    );
    let late = given(planned())
        .when(ext(), department_at(LEAD, "2018-07-01T00:10:00+08:00"))
        .then_ok();
    assert!(
        late.milestones[&m1()]
            .pending_extension
            .as_ref()
            .unwrap()
            .late
    );
}

// ── findings with several rectifications ──

#[test]
fn a_finding_stays_open_until_every_rectification_ordered_for_it_is_verified() {
    let r2 = RectificationId(uuid::Uuid::from_u128(42));
    let inspected = Event::InspectionRecorded(InspectionRecorded {
        inspector: "li".into(),
        inspected_on: date("2018-06-14"),
        on_site: true,
        summary: "现场督查".into(),
        findings: vec![Finding {
            finding_id: f1(),
            severity: Severity::High,
            description: "x".into(),
            milestone_id: None,
        }],
    });
    let order = |id: RectificationId, d: &str| {
        Event::RectificationOrdered(RectificationOrdered {
            rectification_id: id,
            finding_id: f1(),
            department: dept(d),
            deadline: date("2018-07-31"),
            instructions: "整改".into(),
        })
    };
    let reported = |id: RectificationId, d: &str| {
        Event::RectificationReported(RectificationReported {
            rectification_id: id,
            department: dept(d),
            narrative: "已整改".into(),
            evidence: vec![],
        })
    };
    let g = given(with(
        planned(),
        [
            inspected,
            order(r1(), SUPPORT),
            order(r2, LEAD),
            reported(r1(), SUPPORT),
            reported(r2, LEAD),
        ],
    ));
    let state = g
        .when(
            Command::VerifyRectification(VerifyRectification {
                rectification_id: r1(),
            }),
            inspector(),
        )
        .then_ok();
    assert!(state.findings[&f1()].open, "r2 is not verified yet");
    let state = given_state(state)
        .when(
            Command::VerifyRectification(VerifyRectification {
                rectification_id: r2,
            }),
            inspector(),
        )
        .then_ok();
    assert!(!state.findings[&f1()].open);
}

// ── numbers ──

#[test]
fn scores_and_actuals_must_be_finite_and_bounded_numbers() {
    let huge = Command::RecordAssessment(RecordAssessment {
        period: "2018".into(),
        rubric_version: "1".into(),
        breakdown: vec![
            ScoreItem {
                item: "a".into(),
                points: 1e308,
            },
            ScoreItem {
                item: "b".into(),
                points: 1e308,
            },
        ],
        grade: "优".into(),
    });
    // Each item is bounded first; the sum of two items within bounds is always finite.
    given(planned())
        .when(huge, office())
        .then_error(DomainError::NumberOutOfRange {
            value: 1e308,
            max: 100.0,
        });
    let report = Command::ReportProgress(ReportProgress {
        milestone_id: m1(),
        percent: Percent::new(10).unwrap(),
        narrative: "x".into(),
        actuals: vec![IndicatorActual {
            target_id: t1(),
            value: f64::INFINITY,
        }],
        evidence: vec![],
    });
    given(planned())
        .when(report, department(LEAD))
        .then_error(DomainError::NumberNotFinite);
}

#[test]
fn responsible_departments_are_listed_once_in_order() {
    let cmd = Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id: m2(),
        title: "x".into(),
        due_date: date("2018-09-30"),
        responsible_departments: vec![dept(SUPPORT), dept(LEAD), dept(SUPPORT)],
    });
    let state = given(vec![registered()]).when(cmd, office()).then_ok();
    assert_eq!(
        state.milestones[&m2()].responsible,
        vec![dept(SUPPORT), dept(LEAD)]
    );
}
