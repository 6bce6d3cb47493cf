//! The read side over HTTP: status with lights, `as_of`, the overdue list, dashboards, the
//! project list and its filters, the public summary, read-your-writes and the online rebuild.

use serde_json::{Value, json};

use crate::helpers::*;

/// A project registered on 2018-03-01 with one milestone due 2018-04-30 (a holiday: 劳动节
/// 2018 ran 04-29 to 05-01), led by SXEIC with SXDRC supporting. Returns (project, milestone).
async fn project_due_end_of_april(app: &TestApp, name: &str, city: &str) -> (String, String) {
    let p = app
        .register_in_march(json!({
            "name": name, "industry": "新材料", "city": city,
            "lead_department": "SXEIC", "supporting_departments": ["SXDRC"],
            "description": "", "source_section": "四、(三) 新材料产业"
        }))
        .await;
    let m = app
        .milestone(&p, "一期投产", "2018-04-30", &["SXEIC"])
        .await;
    (p, m)
}

async fn report(app: &TestApp, p: &str, m: &str, percent: u8) {
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/progress"),
            &department("SXEIC"),
            json!({ "percent": percent, "narrative": "按计划推进" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

fn milestone(status: &Value) -> &Value {
    &status["milestones"][0]
}

#[tokio::test]
async fn the_status_as_of_a_past_moment_is_exactly_what_it_was_then() {
    let app = spawn_app().await;
    let (p, m) = project_due_end_of_april(&app, "太原不锈钢精深加工基地", "太原").await;
    app.set_now("2018-05-10T02:00:00Z");
    app.sign_for(&p, "SXEIC").await;
    report(&app, &p, &m, 50).await;
    app.set_now("2018-06-15T02:00:00Z");

    // 2018-04-01: a month into a two-month milestone with nothing reported: 31 of 60 days
    // gone, 51.7 points behind the expected progress — red, by the points-behind rule.
    let april = app
        .get(
            &format!("/api/v1/projects/{p}?as_of=2018-04-01T00:00:00Z"),
            &office(),
        )
        .await;
    assert_eq!(april.status, 200, "{}", april.body);
    let b = &april.body;
    assert_eq!(b["version"], 2);
    assert_eq!(b["light"]["colour"], "red");
    assert_eq!(b["light"]["day"], "2018-04-01");
    assert_eq!(b["light"]["policy_version"], "2016.1");
    assert_eq!(b["light"]["measures"]["points_behind"], 51.7);
    assert_eq!(b["light"]["measures"]["working_days_late"], 0);
    assert_eq!(b["light"]["reasons"][0]["measure"], "points_behind");
    assert_eq!(milestone(b)["state"], "planned");
    assert_eq!(milestone(b)["timing"], "on_track");
    // Working days 04-02 … 04-30: 清明 (04-05, 04-06) off, 04-08 and 04-28 made up, 04-30 off.
    assert_eq!(milestone(b)["working_days_left"], 20);
    assert_eq!(b["stage"], "plan");

    // Just before the report on 2018-05-10: overdue by 7 working days (05-02 … 05-10; the
    // 劳动节 days do not count), nothing signed yet.
    let before = app
        .get(
            &format!("/api/v1/projects/{p}?as_of=2018-05-10T01:59:59Z"),
            &office(),
        )
        .await;
    let b = &before.body;
    assert_eq!(b["version"], 2);
    assert_eq!(milestone(b)["state"], "planned");
    assert_eq!(milestone(b)["percent"], 0);
    assert_eq!(milestone(b)["timing"], "overdue");
    assert_eq!(milestone(b)["working_days_overdue"], 7);
    assert_eq!(milestone(b)["days_overdue"], 10);
    assert_eq!(b["light"]["measures"]["working_days_late"], 7);

    // Just after it: signed, 50 %.
    let after = app
        .get(
            &format!("/api/v1/projects/{p}?as_of=2018-05-10T02:00:00Z"),
            &office(),
        )
        .await;
    let b = &after.body;
    assert_eq!(b["version"], 4);
    assert_eq!(milestone(b)["state"], "in_progress");
    assert_eq!(milestone(b)["percent"], 50);
    assert_eq!(b["last_report"]["percent"], 50);
    assert_eq!(b["stage"], "implement");

    // Now (2018-06-15): 33 working days late (端午 is on 06-18, after today) — red.
    let now = app.get(&format!("/api/v1/projects/{p}"), &office()).await;
    assert_eq!(now.body["light"]["colour"], "red");
    assert_eq!(milestone(&now.body)["working_days_overdue"], 33);
    assert_eq!(now.headers["etag"], "\"4\"");

    let before_registration = app
        .get(
            &format!("/api/v1/projects/{p}?as_of=2018-02-01T00:00:00Z"),
            &office(),
        )
        .await;
    assert_eq!(
        before_registration.status, 404,
        "{}",
        before_registration.body
    );
    let future = app
        .get(
            &format!("/api/v1/projects/{p}?as_of=2019-01-01T00:00:00Z"),
            &office(),
        )
        .await;
    assert_eq!(future.status, 422, "{}", future.body);
    assert_eq!(future.body["type"], "/problems/as-of-in-future");
    let garbled = app
        .get(
            &format!("/api/v1/projects/{p}?as_of=last-tuesday"),
            &office(),
        )
        .await;
    assert_eq!(garbled.status, 422, "{}", garbled.body);
    assert_eq!(garbled.headers["content-type"], "application/problem+json");
}

#[tokio::test]
async fn completion_claimed_on_the_due_date_is_on_time_and_leaves_the_overdue_list() {
    let app = spawn_app().await;
    let (p, m) = project_due_end_of_april(&app, "晋城煤机装备基地", "晋城").await;
    // 23:30 on the due date in Beijing.
    app.set_now("2018-04-30T15:30:00Z");
    app.sign_for(&p, "SXEIC").await;
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/completion"),
            &department("SXEIC"),
            json!({ "narrative": "已投产" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.set_now("2018-06-15T02:00:00Z");
    let under_review = app.get(&format!("/api/v1/projects/{p}"), &office()).await;
    assert_eq!(milestone(&under_review.body)["timing"], "under_review");
    let overdue = app.get("/api/v1/overdue", &office()).await;
    assert_eq!(overdue.body["total"], 0);
    assert_eq!(
        overdue.body["items"],
        json!([]),
        "a claim under review is not overdue"
    );
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/review"),
            &inspector(),
            json!({ "decision": "accept" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let done = app.get(&format!("/api/v1/projects/{p}"), &office()).await;
    assert_eq!(milestone(&done.body)["timing"], "completed_on_time");
    assert_eq!(milestone(&done.body)["completed_late"], false);
    assert_eq!(done.body["light"]["colour"], "green");
}

#[tokio::test]
async fn the_overdue_list_is_most_overdue_first_and_a_department_sees_its_own() {
    let app = spawn_app().await;
    let (p1, _) = project_due_end_of_april(&app, "大同轨道交通装备基地", "大同").await;
    // A second project, led by a city, whose milestone fell due later.
    app.set_now("2018-03-01T02:00:00Z");
    let r = app
        .post(
            "/api/v1/projects",
            &office(),
            json!({
                "name": "大同通用航空产业园", "industry": "高端装备制造", "city": "大同",
                "lead_department": "DT-GOV", "supporting_departments": [],
                "description": "", "source_section": "四、(一) 高端装备制造业"
            }),
        )
        .await;
    let p2 = r.body["project_id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/projects/{p2}/milestones"),
            &office(),
            json!({ "title": "跑道建成", "due_date": "2018-06-01", "responsible_departments": ["DT-GOV"] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app.set_now("2018-06-15T02:00:00Z");

    let all = app.get("/api/v1/overdue", &inspector()).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["total"], 2);
    assert_eq!(all.body["day"], "2018-06-15");
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["project_id"], p1.as_str());
    assert_eq!(items[0]["working_days_overdue"], 33);
    assert_eq!(items[1]["project_id"], p2.as_str());
    // 06-04 … 06-08 and 06-11 … 06-15.
    assert_eq!(items[1]["working_days_overdue"], 10);

    let second = app
        .get("/api/v1/overdue?per_page=1&page=2", &inspector())
        .await;
    assert_eq!(second.body["total"], 2);
    assert_eq!(second.body["items"][0]["project_id"], p2.as_str());
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);

    let city = app.get("/api/v1/overdue", &department("DT-GOV")).await;
    let items = city.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["project_id"], p2.as_str());
    let none = app.get("/api/v1/overdue", &department("SXSTD")).await;
    assert_eq!(none.body["items"], json!([]));
}

#[tokio::test]
async fn a_department_dashboard_shows_its_work_and_only_to_it() {
    let app = spawn_app().await;
    let (p, _) = project_due_end_of_april(&app, "太原煤机装备基地", "太原").await;
    app.set_now("2018-06-15T02:00:00Z");
    let board = app
        .get("/api/v1/departments/SXDRC/dashboard", &department("SXDRC"))
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    let b = &board.body;
    assert_eq!(b["awaiting_signature"][0]["project_id"], p.as_str());
    assert_eq!(b["awaiting_signature"][0]["role"], "supporting");
    assert_eq!(b["lights"]["projects"], 1);
    assert_eq!(b["lights"]["red"], 1);
    // SXDRC is not responsible for the overdue milestone: SXEIC is.
    assert_eq!(b["overdue"], json!([]));
    assert_eq!(b["on_time_completion"]["completed"], 0);
    assert_eq!(b["on_time_completion"]["rate"], Value::Null);

    let lead = app
        .get("/api/v1/departments/SXEIC/dashboard", &office())
        .await;
    assert_eq!(lead.body["overdue"].as_array().unwrap().len(), 1);
    assert_eq!(lead.body["overdue_total"], 1);

    let other = app
        .get("/api/v1/departments/SXEIC/dashboard", &department("SXDRC"))
        .await;
    assert_eq!(other.status, 403, "{}", other.body);
    let unknown = app
        .get("/api/v1/departments/NOPE/dashboard", &office())
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

#[tokio::test]
async fn a_dashboard_lists_the_hundred_most_overdue_and_counts_them_all() {
    let app = spawn_app().await;
    let (p, _) = project_due_end_of_april(&app, "太原煤机装备基地", "太原").await;
    // 104 more milestones, due on the days of 2017 from 1 January: the earliest is the most
    // overdue.
    let first = chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
    for k in 0..104 {
        let due = first + chrono::Duration::days(k);
        app.milestone(&p, &format!("节点{k}"), &due.to_string(), &["SXEIC"])
            .await;
    }
    app.set_now("2018-06-15T02:00:00Z");
    let board = app
        .get("/api/v1/departments/SXEIC/dashboard", &office())
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert_eq!(board.body["overdue_total"], 105);
    let items = board.body["overdue"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    assert_eq!(items[0]["due"], "2017-01-01");
    assert_eq!(items[99]["due"], "2017-04-10");
    // The rest is on the overdue list's later pages.
    let rest = app
        .get("/api/v1/overdue?page=2&per_page=100", &department("SXEIC"))
        .await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn the_project_list_filters_and_pages_and_a_department_lists_only_its_own() {
    let app = spawn_app().await;
    project_due_end_of_april(&app, "太原新材料基地", "太原").await;
    project_due_end_of_april(&app, "长治新材料基地", "长治").await;
    app.register_project().await; // 太原轨道交通, 高端装备制造, no milestone: green
    app.set_now("2018-06-15T02:00:00Z");

    let all = app.get("/api/v1/projects", &office()).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["total"], 3);
    let taiyuan = app
        .get("/api/v1/projects?city=%E5%A4%AA%E5%8E%9F", &office())
        .await;
    assert_eq!(taiyuan.body["total"], 2);
    let red = app.get("/api/v1/projects?light=red", &office()).await;
    assert_eq!(red.body["total"], 2);
    let green = app
        .get("/api/v1/projects?light=green&overdue=false", &office())
        .await;
    assert_eq!(green.body["total"], 1);
    assert_eq!(green.body["items"][0]["name"], "太原轨道交通装备制造基地");
    let page = app
        .get("/api/v1/projects?per_page=2&page=2", &office())
        .await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);

    let mine = app.get("/api/v1/projects", &department("SXSTD")).await;
    assert_eq!(mine.body["total"], 0);
    let bad = app.get("/api/v1/projects?light=purple", &office()).await;
    assert_eq!(bad.status, 422, "{}", bad.body);

    // The public summary needs no token.
    let summary = app
        .client
        .get(format!("{}{}", app.base, app.fresh("/api/v1/summary")))
        .send()
        .await
        .unwrap();
    assert_eq!(summary.status(), 200);
    let s: Value = summary.json().await.unwrap();
    assert_eq!(s["total"]["projects"], 3);
    assert_eq!(s["total"]["red"], 2);
    assert_eq!(s["by_city"]["太原"]["projects"], 2);
    assert_eq!(s["by_industry"]["新材料"]["red"], 2);
}

#[tokio::test]
async fn a_read_waits_for_its_own_write_and_says_so_when_it_cannot() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let seen = app.get(&format!("/api/v1/projects/{p}"), &office()).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    let far = app
        .get_as_is(
            &format!("/api/v1/projects/{p}?min_position=1000000"),
            &office(),
        )
        .await;
    // Beyond the log's head no wait would help: refused at once, naming the head.
    assert_eq!(far.status, 422, "{}", far.body);
    assert_eq!(far.body["type"], "/problems/position-beyond-head");
    assert!(!far.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn an_online_rebuild_gives_back_the_same_answers() {
    let app = spawn_app().await;
    let (p, m) = project_due_end_of_april(&app, "阳泉新材料基地", "阳泉").await;
    app.set_now("2018-05-10T02:00:00Z");
    app.sign_for(&p, "SXEIC").await;
    report(&app, &p, &m, 40).await;
    app.set_now("2018-06-15T02:00:00Z");
    let before = (
        app.get(&format!("/api/v1/projects/{p}"), &office())
            .await
            .body,
        app.get("/api/v1/projects", &office()).await.body,
        app.get("/api/v1/overdue", &office()).await.body,
    );
    let refused = app
        .post("/api/v1/admin/rebuild", &office(), json!({}))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let admin = token("root", "admin", None);
    let r = app.post("/api/v1/admin/rebuild", &admin, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["events"], 4);
    let after = (
        app.get(&format!("/api/v1/projects/{p}"), &office())
            .await
            .body,
        app.get("/api/v1/projects", &office()).await.body,
        app.get("/api/v1/overdue", &office()).await.body,
    );
    assert_eq!(before, after);
}

/// Today's status is rendered once and then served from memory: it must still change the
/// moment the project does, turn with the day, and stay hidden from other departments.
#[tokio::test]
async fn a_status_served_again_follows_every_change_the_day_and_who_asks() {
    let app = spawn_app().await;
    let (p, m) = project_due_end_of_april(&app, "晋城光机电产业园", "晋城").await;
    app.set_now("2018-04-20T02:00:00Z");
    app.sign_for(&p, "SXEIC").await;
    let path = format!("/api/v1/projects/{p}");
    let first = app.get(&path, &office()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(milestone(&first.body)["percent"], 0);
    // Read again, unchanged: the same answer and the same version tag.
    let again = app.get(&path, &office()).await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["etag"], first.headers["etag"]);

    // A progress report: the next read that waits for it sees it, with its version.
    report(&app, &p, &m, 60).await;
    let after = app.get(&path, &office()).await;
    assert_eq!(milestone(&after.body)["percent"], 60, "{}", after.body);
    assert_ne!(after.headers["etag"], first.headers["etag"]);

    // Another department is refused whether or not the status is kept in memory, and the
    // departments on the project are served.
    for _ in 0..2 {
        assert_eq!(app.get(&path, &department("TY-GOV")).await.status, 403);
        assert_eq!(app.get(&path, &department("SXDRC")).await.status, 200);
    }

    // The day turns past the due date: the same record, a new day's timing.
    let before_due = &milestone(&after.body)["timing"];
    app.set_now("2018-05-10T02:00:00Z");
    let late = app.get(&path, &office()).await;
    assert_ne!(
        &milestone(&late.body)["timing"],
        before_due,
        "{}",
        late.body
    );
    assert_eq!(late.body["light"]["day"], "2018-05-10");
    assert_eq!(late.headers["etag"], after.headers["etag"]);
}
