//! Given / when / then for the 规划 plan and 落实 implement commands: each success path and
//! every rule each command can break, with the golden cases on lateness and claims.

mod domain_kit;

use domain_kit::*;
use duban::domain::*;

fn register(name: &'static str, lead: &str, supporting: &[&str], source: &'static str) -> Command {
    Command::RegisterProject(RegisterProject {
        project_id: project_id(),
        name: name.into(),
        industry: Industry::HighEndEquipment,
        city: City::Taiyuan,
        lead_department: dept(lead),
        supporting_departments: supporting.iter().map(|d| dept(d)).collect(),
        description: "年销售收入500亿元".into(),
        source_section: source.into(),
    })
}

// ── RegisterProject ──

#[test]
fn the_office_registers_a_project_with_its_departments() {
    let cmd = register(
        "太原轨道交通装备制造基地",
        LEAD,
        &[SUPPORT, SUPPORT],
        "四、(一) 高端装备制造业",
    );
    let state = nothing()
        .when(cmd, office())
        .then_events(vec![registered()]);
    assert_eq!(state.lead_department(), Some(&dept(LEAD)));
    assert_eq!(state.departments.len(), 2);
}

#[test]
fn a_project_cannot_be_registered_twice() {
    let cmd = register("x", LEAD, &[], "四");
    given(vec![registered()])
        .when(cmd, office())
        .then_error(DomainError::ProjectAlreadyRegistered);
}

#[test]
fn a_project_needs_a_name_and_its_source_section() {
    // name and source_section are `Line`s: blank text never reaches decide.
    refuses_blank::<Line>();
}

#[test]
fn the_lead_department_cannot_also_be_supporting() {
    nothing()
        .when(register("x", LEAD, &[LEAD], "四"), office())
        .then_error(DomainError::LeadAlsoSupporting(dept(LEAD)));
}

#[test]
fn nothing_happens_to_a_project_that_is_not_registered() {
    nothing()
        .when(Command::SignAssignment, department(LEAD))
        .then_error(DomainError::ProjectNotRegistered);
}

// ── ScheduleMilestone ──

fn schedule(id: MilestoneId, title: &'static str, responsible: &[&str]) -> Command {
    Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id: id,
        title: title.into(),
        due_date: date("2018-06-30"),
        responsible_departments: responsible.iter().map(|d| dept(d)).collect(),
    })
}

#[test]
fn the_office_schedules_a_milestone_for_assigned_departments() {
    let cmd = schedule(m1(), "整车组装线投产", &[LEAD, SUPPORT]);
    let state = given(vec![registered()])
        .when(cmd, office())
        .then_events(vec![scheduled()]);
    assert_eq!(state.milestones[&m1()].baseline_due, date("2018-06-30"));
    assert_eq!(state.milestones[&m1()].stage, MilestoneStage::Planned);
}

#[test]
fn a_milestone_id_is_used_once() {
    given(vec![registered(), scheduled()])
        .when(schedule(m1(), "again", &[LEAD]), office())
        .then_error(DomainError::MilestoneAlreadyScheduled(m1()));
}

#[test]
fn a_milestone_needs_a_title_and_responsible_departments_of_the_project() {
    let g = given(vec![registered()]);
    // title is a `Line`: blank text never reaches decide.
    refuses_blank::<Line>();
    g.when(schedule(m1(), "x", &[]), office())
        .then_error(DomainError::FieldRequired("responsible_departments"));
    g.when(schedule(m1(), "x", &[OUTSIDER]), office())
        .then_error(DomainError::DepartmentNotAssigned(dept(OUTSIDER)));
}

// ── SetTarget ──

fn set_target(indicator: &'static str, value: f64, year: i32) -> Command {
    Command::SetTarget(SetTarget {
        target_id: t1(),
        indicator: indicator.into(),
        unit: "亿元".into(),
        target_value: value,
        year,
    })
}

#[test]
fn the_office_sets_an_indicator_target() {
    let state = given(vec![registered()])
        .when(set_target("年销售收入", 500.0, 2020), office())
        .then_events(vec![target_set()]);
    assert_eq!(state.targets[&t1()].baseline_value, 500.0);
}

#[test]
fn a_target_is_set_once_named_positive_and_within_the_horizon() {
    given(vec![registered(), target_set()])
        .when(set_target("年销售收入", 1.0, 2020), office())
        .then_error(DomainError::TargetAlreadySet(t1()));
    let g = given(vec![registered()]);
    // indicator is a `Line`: blank text never reaches decide.
    refuses_blank::<Line>();
    g.when(set_target("x", 0.0, 2020), office())
        .then_error(DomainError::TargetValueInvalid);
    g.when(set_target("x", f64::NAN, 2020), office())
        .then_error(DomainError::TargetValueInvalid);
    g.when(set_target("x", 1.0, 2009), office())
        .then_error(DomainError::YearOutOfRange(2009));
}

// ── AssignDepartment ──

#[test]
fn the_office_assigns_another_department() {
    let cmd = Command::AssignDepartment(AssignDepartment {
        department: dept(OUTSIDER),
        role: DepartmentRole::Supporting,
    });
    let e = DepartmentAssigned {
        department: dept(OUTSIDER),
        role: DepartmentRole::Supporting,
    };
    given(vec![registered()])
        .when(cmd, office())
        .then_events(vec![Event::DepartmentAssigned(e)]);
}

#[test]
fn a_department_is_assigned_once_and_a_project_has_one_lead() {
    let g = given(vec![registered()]);
    let again = Command::AssignDepartment(AssignDepartment {
        department: dept(SUPPORT),
        role: DepartmentRole::Supporting,
    });
    g.when(again, office())
        .then_error(DomainError::DepartmentAlreadyAssigned(dept(SUPPORT)));
    let second_lead = Command::AssignDepartment(AssignDepartment {
        department: dept(OUTSIDER),
        role: DepartmentRole::Lead,
    });
    g.when(second_lead, office())
        .then_error(DomainError::LeadAlreadyAssigned);
}

// ── SignAssignment / ReturnAssignment ──

#[test]
fn an_assigned_department_signs_for_its_assignment() {
    let state = given(vec![registered()])
        .when(Command::SignAssignment, department(SUPPORT))
        .then_events(vec![signed(SUPPORT)]);
    assert_eq!(
        state.departments[&dept(SUPPORT)].status,
        AssignmentStatus::Signed
    );
}

#[test]
fn only_an_assigned_department_signs_and_only_once() {
    let g = given(vec![registered(), signed(LEAD)]);
    g.when(Command::SignAssignment, department(OUTSIDER))
        .then_error(DomainError::NotAssignedDepartment);
    g.when(Command::SignAssignment, office())
        .then_error(DomainError::NotAssignedDepartment);
    g.when(Command::SignAssignment, department(LEAD))
        .then_error(DomainError::AssignmentAlreadySigned);
}

#[test]
fn a_department_returns_an_assignment_that_is_not_its_own_with_a_reason() {
    let cmd = Command::ReturnAssignment(ReturnAssignment {
        reason: "不属于本单位职责".into(),
    });
    let e = AssignmentReturned {
        department: dept(SUPPORT),
        reason: "不属于本单位职责".into(),
    };
    let state = given(vec![registered()])
        .when(cmd, department(SUPPORT))
        .then_events(vec![Event::AssignmentReturned(e)]);
    given_state(state)
        .when(Command::SignAssignment, department(SUPPORT))
        .then_error(DomainError::AssignmentWasReturned);
}

#[test]
fn a_return_needs_a_reason_and_comes_before_signing() {
    let g = given(vec![registered(), signed(LEAD)]);
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    g.when(
        Command::ReturnAssignment(ReturnAssignment { reason: "x".into() }),
        department(LEAD),
    )
    .then_error(DomainError::AssignmentAlreadySigned);
}

fn given_state(state: ProjectState) -> Given {
    Given { state }
}

// ── ReportProgress ──

fn report(milestone: MilestoneId, percent: u8) -> Command {
    Command::ReportProgress(ReportProgress {
        milestone_id: milestone,
        percent: Percent::new(percent).unwrap(),
        narrative: "设备安装调试中".into(),
        actuals: vec![IndicatorActual {
            target_id: t1(),
            value: 310.0,
        }],
        evidence: vec!["照片".into()],
    })
}

#[test]
fn a_responsible_department_reports_progress_with_actuals() {
    let expected = ProgressReported {
        milestone_id: m1(),
        department: dept(SUPPORT),
        reported_at: at(NOW),
        percent: 60,
        narrative: "设备安装调试中".into(),
        actuals: vec![IndicatorActual {
            target_id: t1(),
            value: 310.0,
        }],
        evidence: vec!["照片".into()],
    };
    let state = given(planned())
        .when(report(m1(), 60), department(SUPPORT))
        .then_events(vec![Event::ProgressReported(expected)]);
    assert_eq!(state.milestones[&m1()].stage, MilestoneStage::InProgress);
    assert_eq!(state.milestones[&m1()].percent, 60);
    assert_eq!(state.targets[&t1()].latest_actual, Some(310.0));
}

#[test]
fn a_department_cannot_report_on_another_departments_milestone() {
    let only_lead = Event::MilestoneScheduled(MilestoneScheduled {
        milestone_id: m2(),
        title: "配套园区".into(),
        due_date: date("2018-09-30"),
        responsible_departments: vec![dept(LEAD)],
    });
    given(with(planned(), [only_lead]))
        .when(report(m2(), 10), department(SUPPORT))
        .then_error(DomainError::NotResponsibleDepartment);
}

#[test]
fn progress_is_reported_after_signing_by_an_assigned_department() {
    given(vec![registered(), scheduled()])
        .when(report(m1(), 10), department(LEAD))
        .then_error(DomainError::AssignmentNotSigned);
    given(planned())
        .when(report(m1(), 10), department(OUTSIDER))
        .then_error(DomainError::NotAssignedDepartment);
}

#[test]
fn percent_is_between_0_and_100() {
    given(planned())
        .when(report(m1(), 100), department(LEAD))
        .then_ok();
    // A percent is a `Percent`: 101 never reaches decide.
    assert_eq!(Percent::new(101), None);
}

#[test]
fn a_report_needs_a_narrative_a_known_milestone_and_known_targets() {
    let g = given(planned());
    // narrative is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    g.when(report(m2(), 10), department(LEAD))
        .then_error(DomainError::UnknownMilestone(m2()));
    given(vec![registered(), scheduled(), signed(LEAD)])
        .when(report(m1(), 10), department(LEAD))
        .then_error(DomainError::UnknownTarget(t1()));
}

#[test]
fn no_progress_is_reported_on_an_accepted_milestone() {
    let accepted = Event::CompletionAccepted(CompletionAccepted {
        milestone_id: m1(),
        inspector: "li".into(),
    });
    given(with(planned(), [claimed(NOW), accepted]))
        .when(report(m1(), 100), department(LEAD))
        .then_error(DomainError::CompletionAlreadyAccepted);
}

// ── ClaimCompletion ──

fn claim() -> Command {
    Command::ClaimCompletion(ClaimCompletion {
        milestone_id: m1(),
        narrative: "投产".into(),
        evidence: vec![],
    })
}

fn accept() -> Command {
    Command::AcceptCompletion(AcceptCompletion { milestone_id: m1() })
}

#[test]
fn the_lead_department_claims_completion() {
    let state = given(planned())
        .when(claim(), department(LEAD))
        .then_events(vec![claimed(NOW)]);
    assert_eq!(state.milestones[&m1()].stage, MilestoneStage::Claimed);
}

#[test]
fn a_department_that_is_only_supporting_cannot_claim_completion_for_the_lead() {
    given(planned())
        .when(claim(), department(SUPPORT))
        .then_error(DomainError::OnlyLeadDepartmentMayClaim);
}

#[test]
fn a_claim_under_review_cannot_be_made_again_nor_one_already_accepted() {
    given(with(planned(), [claimed(NOW)]))
        .when(claim(), department(LEAD))
        .then_error(DomainError::CompletionAlreadyClaimed);
    let accepted = Event::CompletionAccepted(CompletionAccepted {
        milestone_id: m1(),
        inspector: "li".into(),
    });
    given(with(planned(), [claimed(NOW), accepted]))
        .when(claim(), department(LEAD))
        .then_error(DomainError::CompletionAlreadyAccepted);
}

#[test]
fn a_claim_needs_a_narrative() {
    // narrative is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
}

#[test]
fn a_returned_claim_can_be_claimed_again() {
    let returned = Event::CompletionReturned(CompletionReturned {
        milestone_id: m1(),
        inspector: "li".into(),
        reason: "报送情况与事实不符".into(),
    });
    let state = given(with(planned(), [claimed(NOW), returned]))
        .when(claim(), department(LEAD))
        .then_events(vec![claimed(NOW)]);
    assert_eq!(state.milestones[&m1()].stage, MilestoneStage::Claimed);
}

#[test]
fn completion_claimed_on_the_due_date_is_on_time() {
    // 23:30 in Beijing on the due date is 15:30 UTC: still the due date.
    let state = given(planned())
        .when(claim(), department_at(LEAD, "2018-06-30T23:30:00+08:00"))
        .then_ok();
    let state = given_state(state).when(accept(), inspector()).then_ok();
    assert_eq!(state.milestones[&m1()].completion_late(), Some(false));
}

#[test]
fn completion_claimed_the_day_after_the_due_date_is_late() {
    // 00:10 in Beijing on 1 July is still 30 June in UTC: the plan's time zone decides.
    let state = given(planned())
        .when(claim(), department_at(LEAD, "2018-07-01T00:10:00+08:00"))
        .then_ok();
    let state = given_state(state).when(accept(), inspector()).then_ok();
    assert_eq!(state.milestones[&m1()].completion_late(), Some(true));
}

#[test]
fn lateness_is_undecided_until_the_claim_is_accepted() {
    let state = given(with(planned(), [claimed("2018-07-05T10:00:00+08:00")])).state;
    assert_eq!(state.milestones[&m1()].completion_late(), None);
}

// ── RequestExtension ──

fn request_extension(to: &str) -> Command {
    Command::RequestExtension(RequestExtension {
        milestone_id: m1(),
        new_due_date: date(to),
        reason: "设备到货延迟".into(),
    })
}

#[test]
fn a_responsible_department_requests_an_extension_before_the_due_date() {
    let expected = ExtensionRequested {
        milestone_id: m1(),
        department: dept(SUPPORT),
        requested_at: at(NOW),
        due_date: date("2018-06-30"),
        new_due_date: date("2018-09-30"),
        reason: "设备到货延迟".into(),
        late: false,
    };
    given(planned())
        .when(request_extension("2018-09-30"), department(SUPPORT))
        .then_events(vec![Event::ExtensionRequested(expected)]);
}

#[test]
fn an_extension_requested_after_the_due_date_still_counts_as_late() {
    let late = department_at(LEAD, "2018-07-02T09:00:00+08:00");
    let state = given(planned())
        .when(request_extension("2018-09-30"), late)
        .then_ok();
    let request = state.milestones[&m1()].pending_extension.clone().unwrap();
    assert!(request.late, "recorded as late");
    let approve = Command::DecideExtension(DecideExtension {
        milestone_id: m1(),
        approve: true,
        reason: "同意".into(),
    });
    let state = given_state(state).when(approve, office()).then_ok();
    assert_eq!(state.milestones[&m1()].due, date("2018-09-30"));
    // Completed well before the new date, yet late: the request came after the due date.
    let state = given_state(state)
        .when(claim(), department_at(LEAD, "2018-08-01T10:00:00+08:00"))
        .then_ok();
    let state = given_state(state).when(accept(), inspector()).then_ok();
    assert_eq!(state.milestones[&m1()].completion_late(), Some(true));
}

#[test]
fn an_extension_granted_in_time_moves_the_date_lateness_is_measured_against() {
    let state = given(planned())
        .when(request_extension("2018-09-30"), department(LEAD))
        .then_ok();
    let approve = Command::DecideExtension(DecideExtension {
        milestone_id: m1(),
        approve: true,
        reason: "同意".into(),
    });
    let state = given_state(state).when(approve, office()).then_ok();
    let state = given_state(state)
        .when(claim(), department_at(LEAD, "2018-08-01T10:00:00+08:00"))
        .then_ok();
    let state = given_state(state).when(accept(), inspector()).then_ok();
    let m = &state.milestones[&m1()];
    assert_eq!(m.completion_late(), Some(false));
    assert_eq!(
        m.baseline_due,
        date("2018-06-30"),
        "the first baseline is kept"
    );
}

#[test]
fn an_extension_must_move_the_date_later_one_at_a_time_with_a_reason() {
    let g = given(planned());
    g.when(request_extension("2018-06-30"), department(LEAD))
        .then_error(DomainError::ExtensionNotLater);
    // reason is a `Prose`: blank text never reaches decide.
    refuses_blank::<Prose>();
    let state = g
        .when(request_extension("2018-09-30"), department(LEAD))
        .then_ok();
    given_state(state)
        .when(request_extension("2018-10-30"), department(LEAD))
        .then_error(DomainError::ExtensionAlreadyPending);
}

#[test]
fn only_a_responsible_department_requests_an_extension() {
    let only_lead = Event::MilestoneScheduled(MilestoneScheduled {
        milestone_id: m2(),
        title: "配套园区".into(),
        due_date: date("2018-09-30"),
        responsible_departments: vec![dept(LEAD)],
    });
    let cmd = Command::RequestExtension(RequestExtension {
        milestone_id: m2(),
        new_due_date: date("2018-12-31"),
        reason: "x".into(),
    });
    given(with(planned(), [only_lead]))
        .when(cmd, department(SUPPORT))
        .then_error(DomainError::NotResponsibleDepartment);
}
