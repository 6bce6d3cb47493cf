//! The projector over a real log: read models kept up to date live equal a rebuild from seq
//! 1, they resume from their own position after a restart instead of replaying the log, and
//! the due-date index follows milestones as they are claimed, returned and held.

mod domain_kit;

use std::sync::Arc;
use std::time::Duration;

use domain_kit::*;
use duban::command::{CommandRequest, Dispatcher};
use duban::domain::*;
use duban::policy::Policies;
use duban::projection::{Projector, ReadModels};
use duban::store::{EventStore, SledStore, StoreOptions};
use uuid::Uuid;

fn policies() -> Arc<Policies> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    Arc::new(Policies::load(&dir).unwrap())
}

fn actor(role: &str, dept_code: Option<&str>) -> Actor {
    Actor {
        sub: format!("{role}-{}", dept_code.unwrap_or("x")),
        role: role.into(),
        dept: dept_code.map(dept),
    }
}

async fn run(d: &Dispatcher<SledStore>, project: ProjectId, command: Command, who: Actor) {
    let request = CommandRequest {
        project,
        command,
        actor: who,
        now: at(NOW),
        idempotency_key: None,
        if_match: None,
        correlation_id: None,
    };
    d.dispatch(request).await.unwrap();
}

/// A varied history over the given projects: registrations, milestones, signatures, reports,
/// claims returned and accepted, findings, rectifications and holds.
async fn history(d: &Dispatcher<SledStore>, projects: std::ops::Range<u128>) {
    let office = || actor("office", None);
    let inspector = || actor("inspector", None);
    let lead = || actor("department", Some(LEAD));
    for i in projects {
        let p = ProjectId(Uuid::from_u128(1000 + i));
        let register = Command::RegisterProject(RegisterProject {
            project_id: p,
            name: Line::try_from(format!("项目{i}")).unwrap(),
            industry: if i % 2 == 0 {
                Industry::NewMaterials
            } else {
                Industry::Biotech
            },
            city: if i % 3 == 0 {
                City::Datong
            } else {
                City::Taiyuan
            },
            lead_department: dept(LEAD),
            supporting_departments: vec![dept(SUPPORT)],
            description: Note::default(),
            source_section: "四".into(),
        });
        run(d, p, register, office()).await;
        let ms: Vec<MilestoneId> = (0..3)
            .map(|k| MilestoneId(Uuid::from_u128(i * 10 + k + 1)))
            .collect();
        for (k, m) in ms.iter().enumerate() {
            let schedule = Command::ScheduleMilestone(ScheduleMilestone {
                milestone_id: *m,
                title: Line::try_from(format!("节点{k}")).unwrap(),
                due_date: date("2018-05-31") + chrono::Duration::days(30 * k as i64 + i as i64),
                responsible_departments: vec![dept(LEAD)],
            });
            run(d, p, schedule, office()).await;
        }
        run(d, p, Command::SignAssignment, lead()).await;
        for pct in [20u8, 40, 60] {
            let report = Command::ReportProgress(ReportProgress {
                milestone_id: ms[0],
                percent: Percent::new(pct).unwrap(),
                narrative: "推进".into(),
                actuals: vec![],
                evidence: vec![],
            });
            run(d, p, report, lead()).await;
        }
        if i % 2 == 0 {
            let claim = || {
                Command::ClaimCompletion(ClaimCompletion {
                    milestone_id: ms[0],
                    narrative: "完成".into(),
                    evidence: vec![],
                })
            };
            run(d, p, claim(), lead()).await;
            let back = Command::ReturnCompletion(ReturnCompletion {
                milestone_id: ms[0],
                reason: "材料不全".into(),
            });
            run(d, p, back, inspector()).await;
            run(d, p, claim(), lead()).await;
            run(
                d,
                p,
                Command::AcceptCompletion(AcceptCompletion {
                    milestone_id: ms[0],
                }),
                inspector(),
            )
            .await;
        }
        if i % 3 == 0 {
            let hold = Command::PlaceHold(PlaceHold {
                kind: HoldKind::Parked,
                milestone_id: Some(ms[1]),
                approver: "wang".into(),
                reason: "等待批复".into(),
                expires_on: date("2018-09-30"),
            });
            run(d, p, hold, office()).await;
        }
    }
}

/// A store in `dir`, its read models and a projector following it.
fn running(dir: &std::path::Path) -> (SledStore, Arc<ReadModels>, Projector) {
    let store = SledStore::open(dir, StoreOptions::default()).unwrap();
    let models = ReadModels::open(&dir.join("projections")).unwrap();
    let projector = Projector::spawn(store.clone(), models.clone()).unwrap();
    (store, models, projector)
}

async fn wait_until_caught_up(models: &ReadModels, store: &SledStore) {
    let head = store.head().seq;
    assert!(
        models.wait_for(head, Duration::from_secs(30)).await,
        "the projector reached {} of {head}",
        models.position()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_models_kept_live_equal_a_rebuild_from_seq_one() {
    let dir = tempfile::tempdir().unwrap();
    let (store, models, projector) = running(dir.path());
    let dispatcher = Dispatcher::new(store.clone(), policies());
    history(&dispatcher, 0..12).await;
    wait_until_caught_up(&models, &store).await;

    let live = models.dump().unwrap();
    assert!(
        live.keys().any(|k| k[0] == b'o'),
        "open milestones are indexed"
    );
    let report = projector.rebuild().await.unwrap();
    assert_eq!(report.events, store.head().seq);
    assert_eq!(report.position, store.head().seq);
    let rebuilt = models.dump().unwrap();
    assert_eq!(live.len(), rebuilt.len());
    assert!(
        live == rebuilt,
        "a rebuild reproduces the live read models exactly"
    );

    // And they keep following the log after the rebuild.
    history(&dispatcher, 12..13).await;
    wait_until_caught_up(&models, &store).await;
    let p12 = ProjectId(Uuid::from_u128(1012));
    assert_eq!(models.project(p12).unwrap().unwrap().name(), "项目12");
}

/// A rebuild reads the log in runs, several threads at once, while the service goes on
/// appending: it folds every event up to where it stops exactly once, in order, and the
/// models then follow the log from there as if they had been kept live all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_while_the_log_grows_folds_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, models, projector) = running(dir.path());
    let dispatcher = Dispatcher::new(store.clone(), policies());
    let histories = |d: Dispatcher<SledStore>, parts: std::ops::Range<u128>| async move {
        let each = parts.map(|k| {
            let d = d.clone();
            async move { history(&d, k * 60..(k + 1) * 60).await }
        });
        futures::future::join_all(each).await;
    };
    histories(dispatcher.clone(), 0..16).await;
    // Several runs of the rebuild's, read by at least two threads.
    assert!(store.head().seq > 4 * 2048, "{} events", store.head().seq);
    wait_until_caught_up(&models, &store).await;

    let more = tokio::spawn(histories(dispatcher.clone(), 16..20));
    let report = projector.rebuild().await.unwrap();
    assert_eq!(
        report.events, report.position,
        "each event up to the rebuild's position folded once"
    );
    more.await.unwrap();
    wait_until_caught_up(&models, &store).await;
    let live = models.dump().unwrap();
    let again = projector.rebuild().await.unwrap();
    assert_eq!(again.position, store.head().seq);
    assert!(
        live == models.dump().unwrap(),
        "the models a rebuild left and then kept live equal a rebuild of the whole log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_read_models_resume_from_their_own_position() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let (store, models, projector) = running(dir.path());
        history(&Dispatcher::new(store.clone(), policies()), 0..4).await;
        wait_until_caught_up(&models, &store).await;
        models.flush().unwrap();
        store.close();
        // The projector stops once the log is closed and lets go of the models' files.
        projector.join();
        store.head().seq
    };
    let models = ReadModels::open(&dir.path().join("projections")).unwrap();
    assert_eq!(models.position(), head, "nothing to replay at start-up");
    assert_eq!(models.projects().count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_due_date_index_holds_exactly_the_open_milestones() {
    let dir = tempfile::tempdir().unwrap();
    let (store, models, _projector) = running(dir.path());
    history(&Dispatcher::new(store.clone(), policies()), 0..6).await;
    wait_until_caught_up(&models, &store).await;

    let rows: Vec<_> = models.open_due(None, None).map(Result::unwrap).collect();
    // 6 projects × 3 milestones, less the first milestone of the 3 even projects (accepted).
    assert_eq!(rows.len(), 15);
    assert!(
        rows.windows(2).all(|w| w[0].due <= w[1].due),
        "earliest due first"
    );
    let held: Vec<_> = rows
        .iter()
        .filter(|r| !r.entry.hold_expires.is_empty())
        .collect();
    assert_eq!(
        held.len(),
        2,
        "projects 0 and 3 parked their second milestone"
    );
    assert!(held.iter().all(|r| r.entry.held_on(date("2018-09-30"))));
    assert!(held.iter().all(|r| !r.entry.held_on(date("2018-10-01"))));
    let june: Vec<_> = models
        .open_due(Some(date("2018-06-01")), Some(date("2018-06-30")))
        .map(Result::unwrap)
        .collect();
    assert!(
        june.iter()
            .all(|r| r.due.to_string().starts_with("2018-06"))
    );
    assert!(!june.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_replaced_by_a_rebuild_stays_readable_and_is_dropped_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, models, projector) = running(dir.path());
        history(&Dispatcher::new(store.clone(), policies()), 0..3).await;
        wait_until_caught_up(&models, &store).await;
        // A reader in the middle of the current generation when the rebuild switches.
        let mut reading = models.projects();
        assert!(reading.next().unwrap().is_ok());
        projector.rebuild().await.unwrap();
        assert_eq!(reading.map(Result::unwrap).count(), 2);
        assert_eq!(models.generations().len(), 2, "{:?}", models.generations());
        store.close();
        projector.join();
    }
    let (_store, models, _projector) = running(dir.path());
    for _ in 0..200 {
        if models.generations().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(models.generations(), vec!["views-2".to_string()]);
    assert_eq!(models.projects().count(), 3);
}

/// An interrupted rebuild leaves its half-built generation behind; the next rebuild fills the
/// same name again, and that generation, now current, must not be dropped as a leftover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_after_an_interrupted_one_keeps_what_it_built() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), StoreOptions::default()).unwrap();
    history(&Dispatcher::new(store.clone(), policies()), 0..3).await;
    {
        let models = ReadModels::open(&dir.path().join("projections")).unwrap();
        duban::projection::rebuild(&store, &models).await.unwrap();
        models.drop_replaced();
        models.flush().unwrap();
    }
    let current = {
        // What a rebuild killed half-way leaves: the next generation, partly filled.
        let db = raw_sled(&dir.path().join("projections"));
        let current = String::from_utf8(
            db.open_tree("meta")
                .unwrap()
                .get("current")
                .unwrap()
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        let n: u64 = current.strip_prefix("views-").unwrap().parse().unwrap();
        db.open_tree(format!("views-{}", n + 1))
            .unwrap()
            .insert("p-half-built", "{}")
            .unwrap();
        db.flush().unwrap();
        n
    };
    let models = ReadModels::open(&dir.path().join("projections")).unwrap();
    duban::projection::rebuild(&store, &models).await.unwrap();
    models.drop_replaced();
    assert_eq!(models.generations(), vec![format!("views-{}", current + 1)]);
    assert_eq!(models.projects().count(), 3);
}

/// The overdue total as a pass over the due-date index would count it.
fn counted(models: &ReadModels, day: chrono::NaiveDate, d: Option<&DepartmentCode>) -> u64 {
    models
        .open_due(None, day.pred_opt())
        .map(Result::unwrap)
        .filter(|r| !r.entry.held_on(day))
        .filter(|r| d.is_none_or(|d| r.entry.responsible.contains(d)))
        .count() as u64
}

/// Compares the stored counts with a pass over the index, for every department and for
/// days before, inside and after the holds of `history`.
fn assert_counts_agree(models: &ReadModels, when: &str) {
    let depts = [
        None,
        Some(dept(LEAD)),
        Some(dept(SUPPORT)),
        Some(dept("SXJYT")),
    ];
    let mut days = vec![date("2018-01-01"), date("2018-09-30"), date("2018-10-01")];
    days.extend(
        models
            .open_due(None, None)
            .map(|r| r.unwrap().due)
            .flat_map(|d| [d, d.succ_opt().unwrap()]),
    );
    for day in days {
        for d in &depts {
            assert_eq!(
                models.overdue_total(day, d.as_ref()).unwrap(),
                counted(models, day, d.as_ref()),
                "{when}: overdue on {day} for {d:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overdue_counts_follow_every_change_to_the_due_date_index() {
    let dir = tempfile::tempdir().unwrap();
    let (store, models, projector) = running(dir.path());
    let d = Dispatcher::new(store.clone(), policies());
    history(&d, 0..6).await;
    wait_until_caught_up(&models, &store).await;
    assert!(models.overdue_total(date("2018-10-01"), None).unwrap() > 0);
    assert_counts_agree(&models, "after the history");

    // A due date moved, a milestone for two departments, a hold on a whole project lifted
    // again, a project closed: each moves rows in or out of the index or changes them.
    let office = || actor("office", None);
    let p = |i: u128| ProjectId(Uuid::from_u128(1000 + i));
    let m = |i: u128, k: u128| MilestoneId(Uuid::from_u128(i * 10 + k + 1));
    let revise = Command::RevisePlan(RevisePlan {
        change: PlanChange::DueDate {
            milestone_id: m(1, 2),
            to: date("2019-03-01"),
        },
        reason: "调整".into(),
    });
    run(&d, p(1), revise, office()).await;
    let shared = Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id: MilestoneId(Uuid::from_u128(9_001)),
        title: "联合节点".into(),
        due_date: date("2018-07-02"),
        responsible_departments: vec![dept(LEAD), dept(SUPPORT)],
    });
    run(&d, p(4), shared, office()).await;
    let hold = |milestone_id| {
        Command::PlaceHold(PlaceHold {
            kind: HoldKind::Suspended,
            milestone_id,
            approver: "wang".into(),
            reason: "整体暂缓".into(),
            expires_on: date("2018-12-31"),
        })
    };
    run(&d, p(5), hold(None), office()).await;
    run(&d, p(2), hold(None), office()).await;
    let lift = Command::LiftHold(LiftHold {
        kind: HoldKind::Suspended,
        milestone_id: None,
        approver: "wang".into(),
        reason: "恢复".into(),
    });
    run(&d, p(2), lift, office()).await;
    let close = Command::CloseCycle(CloseCycle {
        reason: "周期结束".into(),
    });
    run(&d, p(3), close, office()).await;
    wait_until_caught_up(&models, &store).await;
    assert_counts_agree(&models, "after the changes");
    let shared_dept = models
        .overdue_total(date("2018-07-03"), Some(&dept(SUPPORT)))
        .unwrap();
    assert_eq!(
        shared_dept, 1,
        "only the joint milestone is the supporting department's"
    );

    // The counts are part of what a rebuild reproduces.
    let live = models.dump().unwrap();
    assert!(live.keys().any(|k| k[0] == b'c') && live.keys().any(|k| k[0] == b'h'));
    projector.rebuild().await.unwrap();
    assert!(
        live == models.dump().unwrap(),
        "a rebuild reproduces the counts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_written_before_the_counts_existed_are_counted_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let projections = dir.path().join("projections");
    let before = {
        let (store, models, projector) = running(dir.path());
        history(&Dispatcher::new(store.clone(), policies()), 0..6).await;
        wait_until_caught_up(&models, &store).await;
        let dump = models.dump().unwrap();
        models.flush().unwrap();
        store.close();
        projector.join();
        dump
    };
    {
        // What an older release left: no counts, no hold rows, no layout mark.
        let db = raw_sled(&projections);
        let name = db
            .open_tree("meta")
            .unwrap()
            .get("current")
            .unwrap()
            .unwrap();
        let tree = db.open_tree(name).unwrap();
        let older: Vec<_> = tree
            .iter()
            .keys()
            .map(Result::unwrap)
            .filter(|k| k[0] == b'c' || k[0] == b'h' || &k[..] == b"_layout")
            .collect();
        assert!(!older.is_empty());
        for k in older {
            tree.remove(k).unwrap();
        }
        db.flush().unwrap();
    }
    let models = ReadModels::open(&projections).unwrap();
    assert!(
        before == models.dump().unwrap(),
        "counted again as they were"
    );
    assert_counts_agree(&models, "after the upgrade");
}

/// sled's own handle on the models, once the process let go of their files.
fn raw_sled(path: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
}
