//! Given / when / then for the 督查 inspect, 考核 assess and 改进 improve commands, the cycle's
//! closing and re-opening, and the clock facts the notifier records.

mod domain_kit;

use domain_kit::*;
use duban::domain::*;

fn given_state(state: ProjectState) -> Given {
    Given { state }
}

fn accepted() -> Event {
    Event::CompletionAccepted(CompletionAccepted {
        milestone_id: m1(),
        inspector: "li.inspector".into(),
    })
}

// ── AcceptCompletion / ReturnCompletion ──

#[test]
fn an_inspector_accepts_a_claim() {
    let state = given(with(planned(), [claimed(NOW)]))
        .when(
            Command::AcceptCompletion(AcceptCompletion { milestone_id: m1() }),
            inspector(),
        )
        .then_events(vec![accepted()]);
    assert_eq!(state.milestones[&m1()].stage, MilestoneStage::Accepted);
}

#[test]
fn a_claim_cannot_be_accepted_before_it_is_made_nor_twice() {
    let accept = || Command::AcceptCompletion(AcceptCompletion { milestone_id: m1() });
    given(planned())
        .when(accept(), inspector())
        .then_error(DomainError::ClaimNotMade);
    given(with(planned(), [claimed(NOW), accepted()]))
        .when(accept(), inspector())
        .then_error(DomainError::CompletionAlreadyAccepted);
    given(planned())
        .when(
            Command::AcceptCompletion(AcceptCompletion { milestone_id: m2() }),
            inspector(),
        )
        .then_error(DomainError::UnknownMilestone(m2()));
}

#[test]
fn an_inspector_returns_a_claim_with_a_reason() {
    let cmd = Command::ReturnCompletion(ReturnCompletion {
        milestone_id: m1(),
        reason: "报送情况与事实不符".into(),
    });
    let e = CompletionReturned {
        milestone_id: m1(),
        inspector: "li.inspector".into(),
        reason: "报送情况与事实不符".into(),
    };
    let state = given(with(planned(), [claimed(NOW)]))
        .when(cmd, inspector())
        .then_events(vec![Event::CompletionReturned(e)]);
    assert_eq!(state.milestones[&m1()].stage, MilestoneStage::Returned);
}

#[test]
fn a_return_needs_a_reason_and_a_claim() {
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    given(planned())
        .when(
            Command::ReturnCompletion(ReturnCompletion {
                milestone_id: m1(),
                reason: "x".into(),
            }),
            inspector(),
        )
        .then_error(DomainError::ClaimNotMade);
}

// ── RecordInspection / OrderRectification ──

fn finding(id: FindingId, milestone: Option<MilestoneId>) -> NewFinding {
    NewFinding {
        finding_id: id,
        severity: Severity::High,
        description: "安全防护设施不到位".into(),
        milestone_id: milestone,
    }
}

fn inspection(findings: Vec<NewFinding>) -> Command {
    Command::RecordInspection(RecordInspection {
        inspected_on: date("2018-06-14"),
        on_site: true,
        summary: "现场督查".into(),
        findings,
    })
}

fn inspected() -> Event {
    Event::InspectionRecorded(InspectionRecorded {
        inspector: "li.inspector".into(),
        inspected_on: date("2018-06-14"),
        on_site: true,
        summary: "现场督查".into(),
        findings: vec![Finding {
            finding_id: f1(),
            severity: Severity::High,
            description: "安全防护设施不到位".into(),
            milestone_id: Some(m1()),
        }],
    })
}

#[test]
fn an_inspector_records_an_inspection_with_findings() {
    let state = given(planned())
        .when(inspection(vec![finding(f1(), Some(m1()))]), inspector())
        .then_events(vec![inspected()]);
    assert!(state.findings[&f1()].open);
}

#[test]
fn findings_are_recorded_once_against_known_milestones_with_a_description() {
    given(with(planned(), [inspected()]))
        .when(inspection(vec![finding(f1(), None)]), inspector())
        .then_error(DomainError::FindingAlreadyRecorded(f1()));
    let g = given(planned());
    g.when(
        inspection(vec![finding(f1(), None), finding(f1(), None)]),
        inspector(),
    )
    .then_error(DomainError::FindingAlreadyRecorded(f1()));
    g.when(inspection(vec![finding(f1(), Some(m2()))]), inspector())
        .then_error(DomainError::UnknownMilestone(m2()));
    // finding description and summary are `Prose`s: blank text never reaches decide.
    refuses_blank::<Prose>();
}

fn order(department: &str, deadline: &str) -> Command {
    Command::OrderRectification(OrderRectification {
        rectification_id: r1(),
        finding_id: f1(),
        department: dept(department),
        deadline: date(deadline),
        instructions: "限期整改".into(),
    })
}

fn ordered() -> Event {
    Event::RectificationOrdered(RectificationOrdered {
        rectification_id: r1(),
        finding_id: f1(),
        department: dept(SUPPORT),
        deadline: date("2018-07-31"),
        instructions: "限期整改".into(),
    })
}

#[test]
fn an_inspector_orders_a_department_to_rectify_a_finding_by_a_deadline() {
    given(with(planned(), [inspected()]))
        .when(order(SUPPORT, "2018-07-31"), inspector())
        .then_events(vec![ordered()]);
}

#[test]
fn a_rectification_is_ordered_once_for_a_known_finding_to_an_assigned_department_by_a_future_deadline()
 {
    given(with(planned(), [inspected(), ordered()]))
        .when(order(SUPPORT, "2018-07-31"), inspector())
        .then_error(DomainError::RectificationAlreadyOrdered(r1()));
    given(planned())
        .when(order(SUPPORT, "2018-07-31"), inspector())
        .then_error(DomainError::UnknownFinding(f1()));
    let g = given(with(planned(), [inspected()]));
    g.when(order(OUTSIDER, "2018-07-31"), inspector())
        .then_error(DomainError::DepartmentNotAssigned(dept(OUTSIDER)));
    g.when(order(SUPPORT, "2018-06-15"), inspector())
        .then_error(DomainError::DeadlineNotInFuture);
}

// ── ReportRectification / VerifyRectification / RejectRectification ──

fn report_rectification() -> Command {
    Command::ReportRectification(ReportRectification {
        rectification_id: r1(),
        narrative: "已整改".into(),
        evidence: vec!["照片".into()],
    })
}

fn rectification_reported() -> Event {
    Event::RectificationReported(RectificationReported {
        rectification_id: r1(),
        department: dept(SUPPORT),
        narrative: "已整改".into(),
        evidence: vec!["照片".into()],
    })
}

#[test]
fn the_department_ordered_to_rectify_reports_it_done() {
    given(with(planned(), [inspected(), ordered()]))
        .when(report_rectification(), department(SUPPORT))
        .then_events(vec![rectification_reported()]);
}

#[test]
fn only_the_ordered_department_reports_a_known_rectification() {
    let g = given(with(planned(), [inspected(), ordered()]));
    g.when(report_rectification(), department(LEAD))
        .then_error(DomainError::NotRectifyingDepartment);
    given(planned())
        .when(report_rectification(), department(SUPPORT))
        .then_error(DomainError::UnknownRectification(r1()));
}

#[test]
fn an_inspector_verifies_a_reported_rectification_and_the_finding_closes() {
    let verified = Event::RectificationVerified(RectificationVerified {
        rectification_id: r1(),
        inspector: "li.inspector".into(),
    });
    let state = given(with(
        planned(),
        [inspected(), ordered(), rectification_reported()],
    ))
    .when(
        Command::VerifyRectification(VerifyRectification {
            rectification_id: r1(),
        }),
        inspector(),
    )
    .then_events(vec![verified]);
    assert!(!state.findings[&f1()].open);
    given_state(state)
        .when(report_rectification(), department(SUPPORT))
        .then_error(DomainError::RectificationAlreadyVerified);
}

#[test]
fn a_rectification_is_verified_or_rejected_only_once_reported() {
    let g = given(with(planned(), [inspected(), ordered()]));
    g.when(
        Command::VerifyRectification(VerifyRectification {
            rectification_id: r1(),
        }),
        inspector(),
    )
    .then_error(DomainError::RectificationNotReported);
    g.when(
        Command::RejectRectification(RejectRectification {
            rectification_id: r1(),
            reason: "x".into(),
        }),
        inspector(),
    )
    .then_error(DomainError::RectificationNotReported);
}

#[test]
fn an_inspector_rejects_a_rectification_with_a_reason_and_it_is_reported_again() {
    let g = given(with(
        planned(),
        [inspected(), ordered(), rectification_reported()],
    ));
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    let state = g
        .when(
            Command::RejectRectification(RejectRectification {
                rectification_id: r1(),
                reason: "未见材料".into(),
            }),
            inspector(),
        )
        .then_ok();
    assert!(state.findings[&f1()].open);
    given_state(state)
        .when(report_rectification(), department(SUPPORT))
        .then_events(vec![rectification_reported()]);
}

// ── RecordAssessment / RateConfidence ──

#[test]
fn the_office_records_an_assessment_whose_score_is_the_sum_of_its_breakdown() {
    let breakdown = vec![
        ScoreItem {
            item: "基础分".into(),
            points: 100.0,
        },
        ScoreItem {
            item: "迟报".into(),
            points: -1.0,
        },
        ScoreItem {
            item: "办结退回".into(),
            points: -2.0,
        },
    ];
    let cmd = Command::RecordAssessment(RecordAssessment {
        period: "2018".into(),
        rubric_version: "2018.1".into(),
        breakdown: breakdown.clone(),
        grade: "良好".into(),
    });
    let e = AssessmentRecorded {
        period: "2018".into(),
        rubric_version: "2018.1".into(),
        breakdown,
        score: 97.0,
        grade: "良好".into(),
        confirmed_by: "wang.office".into(),
    };
    given(planned())
        .when(cmd, office())
        .then_events(vec![Event::AssessmentRecorded(e)]);
}

#[test]
fn an_assessment_names_its_rubric_and_scores_something() {
    let g = given(planned());
    let cmd = |rubric: &'static str, breakdown: Vec<ScoreItem>| {
        Command::RecordAssessment(RecordAssessment {
            period: "2018".into(),
            rubric_version: rubric.into(),
            breakdown,
            grade: "良好".into(),
        })
    };
    // rubric_version is a `Line`: blank text never reaches decide.
    refuses_blank::<Line>();
    g.when(cmd("2018.1", vec![]), office())
        .then_error(DomainError::EmptyScoreBreakdown);
}

#[test]
fn a_named_assessor_rates_delivery_confidence() {
    let cmd = Command::RateConfidence(RateConfidence {
        rating: Confidence::Red,
        assessor: "张评估".into(),
        comment: "严重滞后".into(),
    });
    let state = given(planned()).when(cmd, office()).then_ok();
    assert_eq!(state.confidence.unwrap().rating, Confidence::Red);
    // assessor is a `Line`: blank text never reaches decide.
    refuses_blank::<Line>();
}

// ── DecideExtension ──

fn requested() -> Event {
    Event::ExtensionRequested(ExtensionRequested {
        milestone_id: m1(),
        department: dept(LEAD),
        requested_at: at(NOW),
        due_date: date("2018-06-30"),
        new_due_date: date("2018-09-30"),
        reason: "设备到货延迟".into(),
        late: false,
    })
}

#[test]
fn the_office_approves_an_extension_and_the_first_baseline_stays() {
    let cmd = Command::DecideExtension(DecideExtension {
        milestone_id: m1(),
        approve: true,
        reason: "理由充分".into(),
    });
    let e = ExtensionDecided {
        milestone_id: m1(),
        decision: Decision::Approved,
        due_date: date("2018-09-30"),
        reason: "理由充分".into(),
        decided_by: "wang.office".into(),
    };
    let state = given(with(planned(), [requested()]))
        .when(cmd, office())
        .then_events(vec![Event::ExtensionDecided(e)]);
    let m = &state.milestones[&m1()];
    assert_eq!(
        (m.baseline_due, m.due),
        (date("2018-06-30"), date("2018-09-30"))
    );
    assert!(m.pending_extension.is_none());
}

#[test]
fn the_office_rejects_an_extension_and_the_due_date_stands() {
    let cmd = Command::DecideExtension(DecideExtension {
        milestone_id: m1(),
        approve: false,
        reason: "理由不足".into(),
    });
    let state = given(with(planned(), [requested()]))
        .when(cmd, office())
        .then_ok();
    assert_eq!(state.milestones[&m1()].due, date("2018-06-30"));
}

#[test]
fn an_extension_is_decided_only_when_requested_and_with_a_reason() {
    given(planned())
        .when(
            Command::DecideExtension(DecideExtension {
                milestone_id: m1(),
                approve: true,
                reason: "x".into(),
            }),
            office(),
        )
        .then_error(DomainError::NoExtensionPending);
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
}

// ── RevisePlan ──

#[test]
fn a_revised_due_date_keeps_the_first_baseline() {
    let cmd = Command::RevisePlan(RevisePlan {
        change: PlanChange::DueDate {
            milestone_id: m1(),
            to: date("2018-12-31"),
        },
        reason: "联席会议调整".into(),
    });
    let e = PlanRevised {
        revision: Revision::DueDate {
            milestone_id: m1(),
            from: date("2018-06-30"),
            to: date("2018-12-31"),
        },
        reason: "联席会议调整".into(),
    };
    let state = given(planned())
        .when(cmd, office())
        .then_events(vec![Event::PlanRevised(e)]);
    let m = &state.milestones[&m1()];
    assert_eq!(m.baseline_due, date("2018-06-30"));
    assert_eq!(m.due, date("2018-12-31"));
    assert_eq!(m.slippage_days(), 184);
}

#[test]
fn a_revised_target_keeps_its_first_value() {
    let cmd = Command::RevisePlan(RevisePlan {
        change: PlanChange::TargetValue {
            target_id: t1(),
            to: 450.0,
        },
        reason: "市场变化".into(),
    });
    let state = given(planned()).when(cmd, office()).then_ok();
    let t = &state.targets[&t1()];
    assert_eq!((t.baseline_value, t.value), (500.0, 450.0));
}

#[test]
fn a_revision_needs_a_reason_and_something_known_to_revise() {
    let g = given(planned());
    let revise = |change: PlanChange, reason: &'static str| {
        Command::RevisePlan(RevisePlan {
            change,
            reason: reason.into(),
        })
    };
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    g.when(
        revise(
            PlanChange::DueDate {
                milestone_id: m2(),
                to: date("2019-01-01"),
            },
            "x",
        ),
        office(),
    )
    .then_error(DomainError::UnknownMilestone(m2()));
    let unknown = TargetId(uuid::Uuid::from_u128(99));
    g.when(
        revise(
            PlanChange::TargetValue {
                target_id: unknown,
                to: 1.0,
            },
            "x",
        ),
        office(),
    )
    .then_error(DomainError::UnknownTarget(unknown));
    g.when(
        revise(
            PlanChange::TargetValue {
                target_id: t1(),
                to: -1.0,
            },
            "x",
        ),
        office(),
    )
    .then_error(DomainError::TargetValueInvalid);
}

// ── PlaceHold / LiftHold ──

fn place(kind: HoldKind, milestone: Option<MilestoneId>, expires: &str) -> Command {
    Command::PlaceHold(PlaceHold {
        kind,
        milestone_id: milestone,
        approver: "办公室主任".into(),
        reason: "等待国家批复".into(),
        expires_on: date(expires),
    })
}

fn lift(kind: HoldKind, milestone: Option<MilestoneId>) -> Command {
    Command::LiftHold(LiftHold {
        kind,
        milestone_id: milestone,
        approver: "办公室主任".into(),
        reason: "已批复".into(),
    })
}

#[test]
fn the_office_parks_a_milestone_and_suspends_a_project_with_approver_reason_and_expiry() {
    let state = given(planned())
        .when(place(HoldKind::Parked, Some(m1()), "2018-09-30"), office())
        .then_ok();
    assert_eq!(
        state.milestones[&m1()].hold.as_ref().unwrap().kind,
        HoldKind::Parked
    );
    let state = given_state(state)
        .when(place(HoldKind::Suspended, None, "2018-12-31"), office())
        .then_ok();
    assert_eq!(state.hold.as_ref().unwrap().approver, "办公室主任");
    let state = given_state(state)
        .when(lift(HoldKind::Suspended, None), office())
        .then_ok();
    assert!(state.hold.is_none());
    let state = given_state(state)
        .when(lift(HoldKind::Parked, Some(m1())), office())
        .then_ok();
    assert!(state.milestones[&m1()].hold.is_none());
}

#[test]
fn a_hold_is_placed_once_expires_in_the_future_and_is_lifted_as_what_it_is() {
    let state = given(planned())
        .when(place(HoldKind::Parked, Some(m1()), "2018-09-30"), office())
        .then_ok();
    let g = given_state(state);
    g.when(
        place(HoldKind::Suspended, Some(m1()), "2018-09-30"),
        office(),
    )
    .then_error(DomainError::AlreadyOnHold);
    g.when(lift(HoldKind::Suspended, Some(m1())), office())
        .then_error(DomainError::NotOnHold);
    g.when(lift(HoldKind::Parked, None), office())
        .then_error(DomainError::NotOnHold);
    given(planned())
        .when(place(HoldKind::Parked, None, "2018-06-15"), office())
        .then_error(DomainError::HoldExpiryNotInFuture);
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
}

// ── CloseCycle / ReopenCycle ──

#[test]
fn a_closed_cycle_takes_no_commands_until_reopened_on_a_new_instruction() {
    let state = given(planned())
        .when(
            Command::CloseCycle(CloseCycle {
                reason: "年度任务完成".into(),
            }),
            office(),
        )
        .then_ok();
    assert!(state.closed);
    let g = given_state(state);
    g.when(
        Command::ClaimCompletion(ClaimCompletion {
            milestone_id: m1(),
            narrative: "x".into(),
            evidence: vec![],
        }),
        department(LEAD),
    )
    .then_error(DomainError::CycleClosed);
    g.when(
        Command::CloseCycle(CloseCycle {
            reason: "again".into(),
        }),
        office(),
    )
    .then_error(DomainError::CycleClosed);
    // instruction is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    let reopened = g
        .when(
            Command::ReopenCycle(ReopenCycle {
                instruction: "联席会议纪要〔2019〕3号".into(),
            }),
            office(),
        )
        .then_ok();
    assert!(!reopened.closed);
    assert_eq!(reopened.cycle, 2);
}

#[test]
fn closing_needs_a_reason_and_reopening_a_closed_cycle() {
    let g = given(planned());
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    g.when(
        Command::ReopenCycle(ReopenCycle {
            instruction: "x".into(),
        }),
        office(),
    )
    .then_error(DomainError::CycleNotClosed);
}

// ── clock facts ──

fn due() -> NoticeDue {
    NoticeDue {
        dedup_key: format!("{}:1:0", m1()),
        milestone_id: m1(),
        department: dept("SXEIC"),
        due_date: date("2018-06-30"),
        kind: NoticeKind::Overdue,
        level: 1,
        repeat: 0,
        recipients: vec!["sxeic@example.org".into()],
    }
}

fn sent() -> NoticeSent {
    NoticeSent {
        dedup_key: due().dedup_key,
        message_id: "<1@duban>".into(),
    }
}

#[test]
fn a_notice_is_due_once_per_dedup_key_then_sent_once() {
    let state = given(planned())
        .when(Command::RecordNoticeDue(due()), office())
        .then_events(vec![Event::NoticeDue(due())]);
    let g = given_state(state);
    g.when(Command::RecordNoticeDue(due()), office())
        .then_error(DomainError::NoticeAlreadyRecorded(due().dedup_key));
    let failed = NoticeFailed {
        dedup_key: due().dedup_key,
        error: "timeout".into(),
        attempt: 1,
        permanent: false,
    };
    g.when(Command::RecordNoticeFailed(failed.clone()), office())
        .then_events(vec![Event::NoticeFailed(failed.clone())]);
    let state = g
        .when(Command::RecordNoticeSent(sent()), office())
        .then_events(vec![Event::NoticeSent(sent())]);
    let g = given_state(state);
    g.when(Command::RecordNoticeSent(sent()), office())
        .then_error(DomainError::NoticeAlreadyRecorded(due().dedup_key));
    g.when(Command::RecordNoticeFailed(failed), office())
        .then_error(DomainError::NoticeAlreadyRecorded(due().dedup_key));
}

#[test]
fn a_notice_is_sent_only_once_due_and_only_for_a_known_milestone() {
    given(planned())
        .when(Command::RecordNoticeSent(sent()), office())
        .then_error(DomainError::UnknownNotice(due().dedup_key));
    let failed = NoticeFailed {
        dedup_key: due().dedup_key,
        error: "x".into(),
        attempt: 1,
        permanent: false,
    };
    given(planned())
        .when(Command::RecordNoticeFailed(failed), office())
        .then_error(DomainError::UnknownNotice(due().dedup_key));
    let mut unknown = due();
    unknown.milestone_id = m2();
    given(planned())
        .when(Command::RecordNoticeDue(unknown), office())
        .then_error(DomainError::UnknownMilestone(m2()));
}

#[test]
fn clock_facts_are_still_recorded_on_a_closed_cycle() {
    let closed = Event::CycleClosed(CycleClosed {
        reason: "完成".into(),
    });
    given(with(planned(), [Event::NoticeDue(due()), closed]))
        .when(Command::RecordNoticeSent(sent()), office())
        .then_events(vec![Event::NoticeSent(sent())]);
}
