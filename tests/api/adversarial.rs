//! The read side and the notifier pushed where they could break: what a department may learn
//! of projects that are not its own, bad query values, overdue derived from claims,
//! extensions and holds, and notices that must go out exactly once — across a rebuild, two
//! scans at once, and a hold or an extension that comes after the notice was decided.

use serde_json::json;

use crate::helpers::*;
use crate::smtp_sink::{self, count};

async fn app_mailing_to(port: u16) -> TestApp {
    spawn_app_with(|s| s.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await
}

/// A project registered 2018-03-01, led by SXEIC with SXDRC supporting, with one milestone
/// due on `due` that SXEIC is responsible for. Returns (project, milestone).
async fn project_due(app: &TestApp, name: &str, due: &str) -> (String, String) {
    let p = app
        .register_in_march(json!({
            "name": name, "industry": "现代煤化工", "city": "长治",
            "lead_department": "SXEIC", "supporting_departments": ["SXDRC"],
            "description": "", "source_section": "四、(九) 现代煤化工产业"
        }))
        .await;
    let m = app
        .milestone(&p, &format!("节点 {due}"), due, &["SXEIC"])
        .await;
    (p, m)
}

fn is_problem(r: &Reply) -> bool {
    r.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
        && r.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/"))
}

async fn overdue_ids(app: &TestApp) -> Vec<String> {
    let r = app.get("/api/v1/overdue", &office()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["milestone_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_department_cannot_tell_someone_elses_project_from_a_missing_one_on_any_read() {
    let app = spawn_app().await;
    let (p, _) = project_due(&app, "潞安集团180万吨/年煤基液体产品", "2018-04-20").await;
    app.set_now("2018-06-15T02:00:00Z");
    let missing = uuid::Uuid::now_v7().to_string();
    let outsider = department("SXSTD");
    for suffix in [
        "",
        "?as_of=2018-04-01T00:00:00Z",
        "?as_of=2018-01-01T00:00:00Z",
        "/events",
    ] {
        let theirs = app
            .get(&format!("/api/v1/projects/{p}{suffix}"), &outsider)
            .await;
        let nobodys = app
            .get(&format!("/api/v1/projects/{missing}{suffix}"), &outsider)
            .await;
        assert_eq!(theirs.status, 403, "{suffix}: {}", theirs.body);
        assert!(is_problem(&theirs), "{suffix}: {}", theirs.body);
        assert_eq!(
            (theirs.status, &theirs.body["type"]),
            (nobodys.status, &nobodys.body["type"]),
            "{suffix}: someone else's and missing look alike"
        );
    }
    // The list, filtered by any department, shows nothing of the others' projects.
    for filter in [
        "",
        "?department=SXEIC",
        "?department=SXDRC",
        "?overdue=true",
    ] {
        let r = app
            .get(&format!("/api/v1/projects{filter}"), &outsider)
            .await;
        assert_eq!(r.status, 200, "{filter}: {}", r.body);
        assert_eq!(r.body["total"], 0, "{filter}: {}", r.body);
    }
    let overdue = app.get("/api/v1/overdue", &outsider).await;
    assert_eq!(overdue.body["total"], 0, "{}", overdue.body);
    let dashboard = app
        .get("/api/v1/departments/SXEIC/dashboard", &outsider)
        .await;
    assert_eq!(dashboard.status, 403, "{}", dashboard.body);
    assert!(is_problem(&dashboard));
    // The supporting department does see it.
    let drc = app
        .get(&format!("/api/v1/projects/{p}"), &department("SXDRC"))
        .await;
    assert_eq!(drc.status, 200, "{}", drc.body);
    // Admin endpoints are for admins only.
    for who in [outsider.clone(), department("SXEIC"), office(), inspector()] {
        for path in ["/api/v1/admin/scan", "/api/v1/admin/rebuild"] {
            let r = app.post(path, &who, json!({})).await;
            assert_eq!(r.status, 403, "{path}: {}", r.body);
            assert!(is_problem(&r), "{path}: {}", r.body);
        }
        let r = app.get("/api/v1/admin/outbox", &who).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
}

#[tokio::test]
async fn bad_query_values_are_clear_problems_and_never_server_errors() {
    let app = spawn_app().await;
    let (p, _) = project_due(&app, "阳煤集团年产40万吨煤制乙二醇", "2018-04-27").await;
    app.set_now("2018-06-15T02:00:00Z");
    let rejected = [
        "/api/v1/projects?page=0",
        "/api/v1/projects?per_page=0",
        "/api/v1/projects?per_page=100000",
        "/api/v1/projects?page=-1",
        "/api/v1/projects?page=abc",
        "/api/v1/projects?page=18446744073709551616",
        "/api/v1/projects?light=purple",
        "/api/v1/projects?stage=nowhere",
        "/api/v1/projects?overdue=maybe",
        "/api/v1/projects?industry=%E9%BB%91%E8%89%B2",
        "/api/v1/projects?min_position=-3",
        "/api/v1/projects?min_position=soon",
        "/api/v1/overdue?page=0",
        "/api/v1/overdue?per_page=0",
        "/api/v1/overdue?per_page=100000",
        "/api/v1/overdue?page=x",
        "/api/v1/notifications?min_position=x",
        "/api/v1/departments/SXEIC/dashboard?min_position=1.5",
    ];
    for path in rejected {
        let r = app.get_as_is(path, &office()).await;
        assert!(
            (400..500).contains(&r.status) && is_problem(&r),
            "{path}: {} {}",
            r.status,
            r.body
        );
    }
    for path in [
        format!("/api/v1/projects/{p}?as_of=yesterday"),
        format!("/api/v1/projects/{p}?as_of=2018-13-01T00:00:00Z"),
        format!("/api/v1/projects/{p}?as_of=2999-01-01T00:00:00Z"),
        format!("/api/v1/projects/{p}?min_position=-1"),
        "/api/v1/projects/not-a-uuid".to_string(),
        "/api/v1/projects/not-a-uuid/events".to_string(),
    ] {
        let r = app.get_as_is(&path, &office()).await;
        assert!(
            (400..500).contains(&r.status) && is_problem(&r),
            "{path}: {} {}",
            r.status,
            r.body
        );
    }
    // The service is still up.
    let r = app.get("/api/v1/projects", &office()).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_page_far_past_the_end_is_an_empty_page_and_not_a_crash() {
    let app = spawn_app().await;
    project_due(&app, "忻州杂粮加工园", "2018-04-27").await;
    // The last page a list may be asked for is empty; beyond it, a page is refused by its
    // bound, as the document states it.
    for path in [
        "/api/v1/projects?page=1000000",
        "/api/v1/projects?page=1000000&per_page=500",
        "/api/v1/overdue?page=1000000&per_page=1000",
    ] {
        let r = app.get_as_is(path, &office()).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.body["items"], json!([]), "{path}");
    }
    for path in [
        "/api/v1/projects?page=1000001",
        "/api/v1/projects?page=18446744073709551615&per_page=500",
        "/api/v1/overdue?page=18446744073709551615&per_page=1000",
    ] {
        let r = app.get_as_is(path, &office()).await;
        assert_eq!(r.status, 422, "{path}: {}", r.body);
    }
    // The service is still up.
    let r = app.get("/api/v1/projects", &office()).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn overdue_follows_claims_returns_extensions_and_holds() {
    let app = spawn_app().await;
    let (p, m) = project_due(&app, "中海油-同煤40亿立方米/年煤制天然气", "2018-06-20").await;
    app.sign_for(&p, "SXEIC").await;

    // On the due date itself it is not overdue; the day after, it is.
    app.set_now("2018-06-20T15:59:00Z");
    assert!(overdue_ids(&app).await.is_empty());
    app.set_now("2018-06-20T16:00:00Z");
    assert_eq!(overdue_ids(&app).await, vec![m.clone()]);

    // A claim under review is not overdue; returned, it is open (and overdue) again.
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/completion"),
            &department("SXEIC"),
            json!({ "narrative": "试生产" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(overdue_ids(&app).await.is_empty(), "under review");
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/review"),
            &inspector(),
            json!({ "decision": "return", "reason": "证明材料不全" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        overdue_ids(&app).await,
        vec![m.clone()],
        "returned: open again"
    );

    // An approved extension moves the due date.
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/extension"),
            &department("SXEIC"),
            json!({ "new_due_date": "2018-07-10", "reason": "设备到货延迟" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        overdue_ids(&app).await,
        vec![m.clone()],
        "requested is not approved"
    );
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/extension/decision"),
            &office(),
            json!({ "approve": true, "reason": "同意" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(overdue_ids(&app).await.is_empty(), "extended");
    app.set_now("2018-07-10T15:00:00Z");
    assert!(
        overdue_ids(&app).await.is_empty(),
        "the new due date itself"
    );
    app.set_now("2018-07-11T02:00:00Z");
    assert_eq!(overdue_ids(&app).await, vec![m.clone()]);

    // A hold silences it through its expiry date, not after.
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/holds"),
            &office(),
            json!({ "kind": "parked", "milestone_id": m, "approver": "领导小组", "reason": "用地审批", "expires_on": "2018-07-20" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(overdue_ids(&app).await.is_empty(), "held");
    app.set_now("2018-07-20T15:00:00Z");
    assert!(overdue_ids(&app).await.is_empty(), "the expiry date itself");
    app.set_now("2018-07-21T02:00:00Z");
    assert_eq!(overdue_ids(&app).await, vec![m.clone()], "the hold lapsed");
    let status = app.get(&format!("/api/v1/projects/{p}"), &office()).await;
    assert!(
        status.body.to_string().contains("2018-07-10"),
        "{}",
        status.body
    );
}

#[tokio::test]
async fn a_rebuild_between_two_scans_sends_nothing_again() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    project_due(&app, "晋能集团40亿立方米天然气", "2018-06-20").await;
    project_due(&app, "大同通用航空产业园", "2018-06-21").await;
    app.set_now("2018-06-25T02:00:00Z");
    let first = app.scan().await;
    assert_eq!(first["decided"], 2, "{first}");
    assert_eq!(count(&inbox), 1, "one digest for SXEIC");
    // The scan answers with the position its records reached: read with it, they show.
    assert!(first["position"].as_u64().unwrap() > 0, "{first}");
    let before = app.get("/api/v1/notifications", &office()).await.body;
    assert!(
        before["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"] == "sent"),
        "{before}"
    );

    let r = app.post("/api/v1/admin/rebuild", &admin(), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let again = app.scan().await;
    assert_eq!(again["decided"], 0, "{again}");
    assert_eq!(again["delivery"]["mails_sent"], 0, "{again}");
    assert_eq!(count(&inbox), 1, "nothing sent again after the rebuild");
    assert_eq!(
        app.get("/api/v1/notifications", &office()).await.body,
        before
    );
    assert_eq!(
        app.get("/api/v1/admin/outbox", &admin()).await.body,
        json!([])
    );
    // A rebuild and a scan at once: still nothing new.
    let root = admin();
    let (rebuilt, scanned) = tokio::join!(
        app.post("/api/v1/admin/rebuild", &root, json!({})),
        app.post("/api/v1/admin/scan", &root, json!({}))
    );
    assert_eq!(
        (rebuilt.status, scanned.status),
        (200, 200),
        "{} {}",
        rebuilt.body,
        scanned.body
    );
    assert_eq!(app.scan().await["decided"], 0);
    assert_eq!(count(&inbox), 1);
}

#[tokio::test]
async fn two_scans_at_once_send_each_notice_once() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    for (name, due) in [
        ("太原经济开发区地热供暖", "2018-06-19"),
        ("襄矿集团20万吨煤制乙二醇", "2018-06-20"),
        ("晋煤集团200万吨/年煤基合成油", "2018-06-21"),
    ] {
        project_due(&app, name, due).await;
    }
    app.set_now("2018-06-25T02:00:00Z");
    let root = admin();
    let (a, b) = tokio::join!(
        app.post("/api/v1/admin/scan", &root, json!({})),
        app.post("/api/v1/admin/scan", &root, json!({}))
    );
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    let decided = a.body["decided"].as_u64().unwrap() + b.body["decided"].as_u64().unwrap();
    let mails = a.body["delivery"]["mails_sent"].as_u64().unwrap()
        + b.body["delivery"]["mails_sent"].as_u64().unwrap();
    assert_eq!((decided, mails), (3, 1), "{} {}", a.body, b.body);
    assert_eq!(count(&inbox), 1);
    let notices = app.get("/api/v1/notifications", &office()).await;
    assert_eq!(notices.body["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_hold_placed_after_a_notice_was_decided_keeps_it_from_going_out() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    let (p, m) = project_due(&app, "山西综改示范区新材料产业园", "2018-06-20").await;
    app.set_now("2018-06-22T13:00:00Z"); // Friday 21:00 in Beijing: decided, deferred
    let evening = app.scan().await;
    assert_eq!(evening["decided"], 1, "{evening}");
    assert_eq!(evening["delivery"]["deferred"], 1, "{evening}");

    app.set_now("2018-06-23T02:00:00Z");
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/holds"),
            &office(),
            json!({ "kind": "parked", "milestone_id": m, "approver": "领导小组", "reason": "环评复核", "expires_on": "2018-07-06" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    app.set_now("2018-06-25T01:00:00Z"); // Monday 09:00
    let monday = app.scan().await;
    assert_eq!(count(&inbox), 0, "the hold silences the milestone");
    assert_eq!(monday["delivery"]["withheld"], 1, "{monday}");
    let outbox = app.get("/api/v1/admin/outbox", &admin()).await;
    assert_eq!(outbox.body[0]["status"], "pending", "{}", outbox.body);
    app.set_now("2018-07-02T02:00:00Z");
    app.scan().await;
    assert_eq!(count(&inbox), 0, "still held");
}

#[tokio::test]
async fn an_extension_approved_after_a_notice_was_decided_keeps_it_from_going_out() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    let (p, m) = project_due(&app, "长治高新区光伏产业园", "2018-06-20").await;
    app.sign_for(&p, "SXEIC").await;
    app.set_now("2018-06-22T13:00:00Z"); // Friday 21:00 in Beijing: decided, deferred
    assert_eq!(app.scan().await["decided"], 1);

    app.set_now("2018-06-23T02:00:00Z");
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/extension"),
            &department("SXEIC"),
            json!({ "new_due_date": "2018-08-31", "reason": "设备到货延迟" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/extension/decision"),
            &office(),
            json!({ "approve": true, "reason": "同意" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    app.set_now("2018-06-25T01:00:00Z"); // Monday 09:00
    app.scan().await;
    assert_eq!(
        count(&inbox),
        0,
        "the milestone is no longer overdue: the notice for the old due date is stale"
    );
    let outbox = app.get("/api/v1/admin/outbox", &admin()).await;
    assert_eq!(outbox.body[0]["status"], "dead", "{}", outbox.body);
    assert!(
        outbox.body[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("2018-08-31"),
        "{}",
        outbox.body
    );
    // Nothing more goes out for the old due date on the following days either.
    app.set_now("2018-06-26T02:00:00Z");
    app.scan().await;
    assert_eq!(count(&inbox), 0);
}

#[tokio::test]
async fn a_hold_after_a_sent_notice_silences_the_repeats_until_it_expires() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    let (p, m) = project_due(&app, "吕梁铝工业园", "2018-06-20").await;
    app.set_now("2018-06-21T02:00:00Z");
    app.scan().await;
    assert_eq!(count(&inbox), 1);
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/holds"),
            &office(),
            json!({ "kind": "suspended", "approver": "领导小组", "reason": "停产整顿", "expires_on": "2018-07-06" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for day in ["2018-06-28T02:00:00Z", "2018-07-06T02:00:00Z"] {
        app.set_now(day);
        app.scan().await;
        assert_eq!(count(&inbox), 1, "held on {day}");
    }
    // The hold lapsed: the current step goes out once, the first is not repeated.
    app.set_now("2018-07-09T02:00:00Z");
    app.scan().await;
    app.scan().await;
    assert_eq!(count(&inbox), 2);
    let notices = app.get("/api/v1/notifications", &office()).await;
    let keys: Vec<&str> = notices.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["dedup_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with(&m)), "{keys:?}");
}

#[tokio::test]
async fn a_read_with_min_position_sees_the_write_it_follows() {
    let app = spawn_app().await;
    let (p, m) = project_due(&app, "朔州陶瓷产业园", "2018-06-20").await;
    app.sign_for(&p, "SXEIC").await;
    for percent in [10u8, 20, 30, 40, 50] {
        let r = app
            .post(
                &format!("/api/v1/projects/{p}/milestones/{m}/progress"),
                &department("SXEIC"),
                json!({ "percent": percent, "narrative": "推进" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let at = r.body["position"].as_u64().unwrap();
        let s = app
            .get_as_is(
                &format!("/api/v1/projects/{p}?min_position={at}"),
                &department("SXEIC"),
            )
            .await;
        assert_eq!(s.status, 200, "{}", s.body);
        assert!(
            s.body
                .to_string()
                .contains(&format!("\"percent\":{percent}")),
            "{}",
            s.body
        );
    }
    // A position beyond the log: refused at once, no wait and no invitation to retry.
    let r = app
        .get_as_is("/api/v1/projects?min_position=999999999", &office())
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(is_problem(&r));
    assert_eq!(r.body["type"], "/problems/position-beyond-head");
    assert!(r.headers.get("retry-after").is_none());
}
