//! Command dispatch over a real store: policy checks, who may see what, idempotency keys,
//! If-Match, and many concurrent commands on one project.

mod domain_kit;

use std::sync::Arc;

use domain_kit::*;
use duban::command::*;
use duban::domain::*;
use duban::policy::Policies;
use duban::store::{EventStore, SledStore, StoreOptions};

fn actor(role: &str, dept_code: Option<&str>) -> Actor {
    let sub = format!("{role}-{}", dept_code.unwrap_or("user"));
    Actor {
        sub,
        role: role.into(),
        dept: dept_code.map(dept),
    }
}

struct Setup {
    dispatcher: Dispatcher<SledStore>,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), StoreOptions::default()).unwrap();
    let policies =
        Policies::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap();
    Setup {
        dispatcher: Dispatcher::new(store, Arc::new(policies)),
        _dir: dir,
    }
}

fn req(command: Command, actor: Actor) -> CommandRequest {
    CommandRequest {
        project: project_id(),
        command,
        actor,
        now: at(NOW),
        idempotency_key: None,
        if_match: None,
        correlation_id: None,
    }
}

fn register() -> Command {
    Command::RegisterProject(RegisterProject {
        project_id: project_id(),
        name: "太原轨道交通装备制造基地".into(),
        industry: Industry::HighEndEquipment,
        city: City::Taiyuan,
        lead_department: dept(LEAD),
        supporting_departments: vec![dept(SUPPORT)],
        description: "".into(),
        source_section: "四、(一)".into(),
    })
}

/// Registered, milestone 1 for both departments, both signed for.
async fn planned_project(d: &Dispatcher<SledStore>) {
    d.dispatch(req(register(), actor("office", None)))
        .await
        .unwrap();
    planned_project_rest(d).await;
}

fn progress(percent: u8) -> Command {
    Command::ReportProgress(ReportProgress {
        milestone_id: m1(),
        percent: Percent::new(percent).unwrap(),
        narrative: "进展".into(),
        actuals: vec![],
        evidence: vec![],
    })
}

#[tokio::test]
async fn a_command_lands_with_its_version_and_position() {
    let s = setup();
    let out = s
        .dispatcher
        .dispatch(req(register(), actor("office", None)))
        .await
        .unwrap();
    assert_eq!((out.version, out.position, out.replayed), (1, 1, false));
    planned_project_rest(&s.dispatcher).await;
    let out = s
        .dispatcher
        .dispatch(req(progress(10), actor("department", Some(SUPPORT))))
        .await
        .unwrap();
    assert_eq!(out.version, 5);
    let (state, version) = load(&s.dispatcher.store, project_id()).await.unwrap();
    assert_eq!((state.milestones[&m1()].percent, version), (10, 5));
}

async fn planned_project_rest(d: &Dispatcher<SledStore>) {
    let schedule = Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id: m1(),
        title: "投产".into(),
        due_date: date("2018-06-30"),
        responsible_departments: vec![dept(LEAD), dept(SUPPORT)],
    });
    d.dispatch(req(schedule, actor("office", None)))
        .await
        .unwrap();
    for code in [LEAD, SUPPORT] {
        d.dispatch(req(
            Command::SignAssignment,
            actor("department", Some(code)),
        ))
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_role_issues_only_the_commands_its_policy_gives_it() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let err = s
        .dispatcher
        .dispatch(req(progress(10), actor("inspector", None)))
        .await
        .unwrap_err();
    assert!(matches!(err, DispatchError::RoleMayNot { .. }), "{err:?}");
    let err = s
        .dispatcher
        .dispatch(req(register(), actor("department", Some(LEAD))))
        .await
        .unwrap_err();
    assert!(matches!(err, DispatchError::RoleMayNot { .. }), "{err:?}");
}

#[tokio::test]
async fn a_command_naming_a_department_outside_the_directory_is_refused() {
    let s = setup();
    let mut cmd = register();
    if let Command::RegisterProject(RegisterProject {
        supporting_departments,
        ..
    }) = &mut cmd
    {
        supporting_departments.push(dept("NOWHERE"));
    }
    let err = s
        .dispatcher
        .dispatch(req(cmd, actor("office", None)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DispatchError::UnknownDepartment(ref d) if d == "NOWHERE"),
        "{err:?}"
    );
    assert_eq!(s.dispatcher.store.head().seq, 0);
}

#[tokio::test]
async fn a_department_cannot_tell_another_departments_project_from_no_project() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let other = actor("department", Some(OUTSIDER));
    let on_existing = s
        .dispatcher
        .dispatch(req(progress(10), other.clone()))
        .await
        .unwrap_err();
    let mut missing = req(progress(10), other);
    missing.project = ProjectId(uuid::Uuid::from_u128(999));
    let on_missing = s.dispatcher.dispatch(missing).await.unwrap_err();
    assert!(matches!(on_existing, DispatchError::NotYourProject));
    assert!(matches!(on_missing, DispatchError::NotYourProject));
    let mut office_missing = req(
        Command::CloseCycle(CloseCycle { reason: "x".into() }),
        actor("office", None),
    );
    office_missing.project = ProjectId(uuid::Uuid::from_u128(999));
    assert!(matches!(
        s.dispatcher.dispatch(office_missing).await.unwrap_err(),
        DispatchError::NoSuchProject
    ));
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_appends_nothing() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let claim = Command::ClaimCompletion(ClaimCompletion {
        milestone_id: m1(),
        narrative: "投产".into(),
        evidence: vec![],
    });
    let mut first = req(claim, actor("department", Some(LEAD)));
    first.idempotency_key = Some("claim-1".into());
    let a = s.dispatcher.dispatch(first.clone()).await.unwrap();
    let head = s.dispatcher.store.head().seq;
    // Deciding the claim again would break a rule (already claimed): the retry never gets there.
    let b = s.dispatcher.dispatch(first.clone()).await.unwrap();
    assert!(b.replayed);
    assert_eq!((b.version, b.position), (a.version, a.position));
    assert_eq!(s.dispatcher.store.head().seq, head);
    // The same key from another caller is another command.
    let mut other = first.clone();
    other.actor = actor("department", Some(SUPPORT));
    assert!(matches!(
        s.dispatcher.dispatch(other).await.unwrap_err(),
        DispatchError::Rule(_)
    ));
    // The same key on another project is refused rather than answered with this one.
    let mut elsewhere = first;
    elsewhere.project = ProjectId(uuid::Uuid::from_u128(2));
    assert!(matches!(
        s.dispatcher.dispatch(elsewhere).await.unwrap_err(),
        DispatchError::KeyReused
    ));
}

#[tokio::test]
async fn only_a_command_with_an_idempotency_key_leaves_a_record_to_answer_retries_from() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let store = &s.dispatcher.store;
    let fresh = s
        .dispatcher
        .dispatch(req(progress(10), actor("department", Some(LEAD))))
        .await
        .unwrap();
    let mut keyed = req(progress(20), actor("department", Some(LEAD)));
    keyed.idempotency_key = Some("report-20".into());
    let keyed = s.dispatcher.dispatch(keyed).await.unwrap();
    let id_of = |position: u64| async move {
        store.read_all(position, 1).await.unwrap()[0]
            .envelope
            .command_id
            .clone()
    };
    let fresh_id = id_of(fresh.position).await;
    assert_eq!(store.find_command(&fresh_id).await.unwrap(), None);
    let keyed_id = id_of(keyed.position).await;
    let caller = actor("department", Some(LEAD));
    assert_eq!(
        keyed_id,
        duban::command::scoped_command_id(&caller, "report-20")
    );
    assert!(
        keyed_id.starts_with("key:") && keyed_id.len() == 68,
        "{keyed_id}"
    );
    let elsewhere = Actor {
        dept: Some(dept(SUPPORT)),
        ..caller.clone()
    };
    assert_ne!(
        keyed_id,
        duban::command::scoped_command_id(&elsewhere, "report-20")
    );
    let found = store.find_command(&keyed_id).await.unwrap().unwrap();
    assert_eq!(found.last_seq, keyed.position);
}

#[tokio::test]
async fn a_stale_if_match_is_refused_with_the_current_version() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let mut stale = req(progress(10), actor("department", Some(LEAD)));
    stale.if_match = Some(2);
    let err = s.dispatcher.dispatch(stale.clone()).await.unwrap_err();
    assert!(
        matches!(
            err,
            DispatchError::VersionMismatch {
                expected: 2,
                current: 4
            }
        ),
        "{err:?}"
    );
    stale.if_match = Some(4);
    assert_eq!(s.dispatcher.dispatch(stale).await.unwrap().version, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_commands_on_one_project_leave_no_gap_and_apply_once_each() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let mut tasks = Vec::new();
    for i in 0..64u8 {
        let d = s.dispatcher.clone();
        tasks.push(tokio::spawn(async move {
            let code = if i % 2 == 0 { LEAD } else { SUPPORT };
            let mut r = req(progress(i), actor("department", Some(code)));
            r.idempotency_key = Some(format!("report-{i}"));
            d.dispatch(r).await
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap().unwrap().version);
    }
    versions.sort();
    assert_eq!(
        versions,
        (5..5 + 64).collect::<Vec<u64>>(),
        "each applied once, no gap"
    );
    let events = s
        .dispatcher
        .store
        .read_stream(&stream_of(project_id()), 1)
        .await
        .unwrap();
    assert_eq!(events.len(), 4 + 64);
    // And 64 concurrent claims of the same milestone: exactly one is accepted by the rules.
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let d = s.dispatcher.clone();
        tasks.push(tokio::spawn(async move {
            let claim = Command::ClaimCompletion(ClaimCompletion {
                milestone_id: m1(),
                narrative: "投产".into(),
                evidence: vec![],
            });
            d.dispatch(req(claim, actor("department", Some(LEAD))))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(DispatchError::Rule(DomainError::CompletionAlreadyClaimed)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
}

/// Appends `event` to the project's stream straight to the store, as a writer other than the
/// dispatcher would, after version `after`.
async fn append_behind_its_back(d: &Dispatcher<SledStore>, after: u64, event: &Event) {
    d.store
        .append(duban::store::AppendRequest {
            stream: stream_of(project_id()),
            expected: duban::store::ExpectedVersion::Exact(after),
            events: vec![to_new_event(event)],
            command_id: format!("behind-its-back-{after}"),
            idempotent: true,
            correlation_id: None,
            request_hash: None,
            actor: duban::store::Actor {
                sub: "other".into(),
                role: "office".into(),
                dept: None,
            },
        })
        .await
        .unwrap();
}

/// The dispatcher decides a command on the state the previous command left, without reading
/// the log again. Should something else append to the stream in between, the append's
/// expected version refuses the stale decision and the command is decided again on what the
/// log holds.
#[tokio::test]
async fn a_command_after_an_append_behind_the_dispatchers_back_is_decided_on_the_log() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    s.dispatcher
        .dispatch(req(progress(10), actor("department", Some(LEAD))))
        .await
        .unwrap();
    // Another writer (not the dispatcher) claims the milestone complete: version 6.
    let claimed = Event::CompletionClaimed(CompletionClaimed {
        milestone_id: m1(),
        department: dept(LEAD),
        claimed_at: at(NOW),
        narrative: "投产".into(),
        evidence: vec![],
    });
    append_behind_its_back(&s.dispatcher, 5, &claimed).await;
    // Decided on the cached state (version 5, nothing claimed) this would be a second claim
    // accepted at version 6; decided on the log it is refused by the rules.
    let again = Command::ClaimCompletion(ClaimCompletion {
        milestone_id: m1(),
        narrative: "投产".into(),
        evidence: vec![],
    });
    let err = s
        .dispatcher
        .dispatch(req(again, actor("department", Some(LEAD))))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DispatchError::Rule(DomainError::CompletionAlreadyClaimed)
        ),
        "{err:?}"
    );
    // Nothing was appended for it, and the dispatcher now sees the other writer's event.
    let (state, version) = s.dispatcher.current(project_id()).await.unwrap();
    assert_eq!(version, 6);
    assert_eq!(state.milestones[&m1()].stage, MilestoneStage::Claimed);
}

/// With `If-Match`, a cache behind the log must not refuse the version the log is at.
#[tokio::test]
async fn if_match_is_checked_against_the_log_not_a_cache_behind_it() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let rated = Event::ConfidenceRated(ConfidenceRated {
        rating: Confidence::Amber,
        assessor: "王主任".into(),
        comment: "".into(),
    });
    append_behind_its_back(&s.dispatcher, 4, &rated).await;
    let mut r = req(progress(30), actor("department", Some(LEAD)));
    r.if_match = Some(5);
    assert_eq!(s.dispatcher.dispatch(r).await.unwrap().version, 6);
}

#[tokio::test]
async fn a_retry_across_the_upgrade_of_key_scoping_is_answered_from_the_first_append() {
    let s = setup();
    planned_project(&s.dispatcher).await;
    let caller = actor("department", Some(LEAD));
    // The first append, as the service recorded keys before they were hashed: `{sub}:{key}`.
    let first = s
        .dispatcher
        .store
        .append(duban::store::AppendRequest {
            stream: duban::command::stream_of(project_id()),
            expected: duban::store::ExpectedVersion::Any,
            events: vec![duban::command::to_new_event(&Event::CycleClosed(
                CycleClosed {
                    reason: "旧版本".into(),
                },
            ))],
            command_id: format!("{}:old-key", caller.sub),
            idempotent: true,
            correlation_id: None,
            request_hash: None,
            actor: duban::store::Actor {
                sub: caller.sub.clone(),
                role: caller.role.clone(),
                dept: Some(LEAD.into()),
            },
        })
        .await
        .unwrap();
    let mut retry = req(progress(30), caller);
    retry.idempotency_key = Some("old-key".into());
    let answer = s.dispatcher.dispatch(retry).await.unwrap();
    assert!(answer.replayed);
    assert_eq!(answer.position, first.last_seq);
}
