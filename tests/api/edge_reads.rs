//! The read side's edge: one access rule for every read, a `min_position` beyond the log
//! refused at once, unknown query parameters refused by name, `as_of` as a date, and the
//! audit trail and the notices a page at a time by seq.

use serde_json::{Value, json};

use crate::helpers::*;

/// A project led by SXEIC (signed), with one milestone; returns (project, milestone).
async fn signed_project(app: &TestApp) -> (String, String) {
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    (p, m)
}

async fn report(app: &TestApp, p: &str, m: &str, percent: u32) {
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/progress"),
            &department("SXEIC"),
            json!({ "percent": percent, "narrative": "推进" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The log's head, as the audit trail of a project shows it (its last entry's seq).
async fn head_of(app: &TestApp, p: &str) -> u64 {
    let trail = app
        .get(
            &format!("/api/v1/projects/{p}/events?limit=1000"),
            &office(),
        )
        .await;
    trail.body["items"].as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_min_position_beyond_the_log_head_is_refused_at_once_with_the_head_even_without_a_token()
{
    let app = spawn_app().await;
    let (p, _) = signed_project(&app).await;
    let head = head_of(&app, &p).await;
    let beyond = head + 1;
    for path in [
        format!("/api/v1/projects?min_position={beyond}"),
        format!("/api/v1/projects/{p}?min_position={beyond}"),
        format!("/api/v1/projects/{p}/events?min_position={beyond}"),
        format!("/api/v1/overdue?min_position={beyond}"),
        format!("/api/v1/notifications?min_position={beyond}"),
    ] {
        let r = app.get_as_is(&path, &office()).await;
        assert_eq!(r.status, 422, "{path}: {}", r.body);
        assert_eq!(r.body["type"], "/problems/position-beyond-head", "{path}");
        assert!(r.headers.get("retry-after").is_none(), "{path}");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("({head})")), "{path}: {detail}");
    }
    // The public summary, without a token.
    let summary = app
        .client
        .get(format!("{}/api/v1/summary?min_position={beyond}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(summary.status(), 422);
    assert!(summary.headers().get("retry-after").is_none());
    let body: Value = summary.json().await.unwrap();
    assert_eq!(body["type"], "/problems/position-beyond-head");
    // The head itself is reached, and answers.
    let at_head = app
        .get_as_is(&format!("/api/v1/summary?min_position={head}"), &office())
        .await;
    assert_eq!(at_head.status, 200, "{}", at_head.body);
}

#[tokio::test]
async fn an_unknown_query_parameter_is_refused_naming_it_and_changes_nothing() {
    let app = spawn_app().await;
    let (p, _) = signed_project(&app).await;
    let head = head_of(&app, &p).await;
    for path in [
        "/api/v1/projects?colour=yellow".to_string(),
        "/api/v1/projects?format=csv".to_string(),
        "/api/v1/projects?light=red&colour=yellow".to_string(),
        "/api/v1/overdue?colour=yellow".to_string(),
        "/api/v1/summary?colour=yellow".to_string(),
        "/api/v1/notifications?colour=yellow".to_string(),
        "/api/v1/departments/SXEIC/dashboard?colour=yellow".to_string(),
        "/api/v1/departments?colour=yellow".to_string(),
        "/api/v1/audit/verify?colour=yellow".to_string(),
        "/api/v1/admin/outbox?colour=yellow".to_string(),
        format!("/api/v1/projects/{p}?colour=yellow"),
        format!("/api/v1/projects/{p}/events?colour=yellow"),
    ] {
        let who = if path.contains("admin") {
            admin()
        } else {
            office()
        };
        let r = app.get_as_is(&path, &who).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(
            r.body["type"], "/problems/unknown-query-parameter",
            "{path}"
        );
        let named = if path.contains("format") {
            "format"
        } else {
            "colour"
        };
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(named), "{path}: {detail}");
    }
    // The parameters each read does take still work.
    let r = app
        .get("/api/v1/projects?light=green&page=1&per_page=10", &office())
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(head_of(&app, &p).await, head, "nothing appended");
}

#[tokio::test]
async fn as_of_takes_a_date_as_its_end_of_day_in_shanghai_and_names_the_formats_otherwise() {
    let app = spawn_app().await;
    let p = app
        .register_in_march(json!({
            "name": "大同煤制天然气", "industry": "现代煤化工", "city": "大同",
            "lead_department": "SXEIC", "supporting_departments": [],
            "description": "", "source_section": "四、(九)"
        }))
        .await;
    app.set_now("2018-04-01T05:00:00Z");
    app.milestone(&p, "一期投产", "2018-06-30", &["SXEIC"])
        .await;
    app.set_now("2018-06-15T02:00:00Z");
    let by_date = app
        .get(&format!("/api/v1/projects/{p}?as_of=2018-04-01"), &office())
        .await;
    assert_eq!(by_date.status, 200, "{}", by_date.body);
    let end_of_day = app
        .get(
            &format!("/api/v1/projects/{p}?as_of=2018-04-01T23:59:59.999%2B08:00"),
            &office(),
        )
        .await;
    assert_eq!(by_date.body, end_of_day.body);
    // The milestone scheduled during 2018-04-01 (Beijing) is in the date's status.
    assert_eq!(by_date.body["milestones"].as_array().unwrap().len(), 1);
    let day_before = app
        .get(&format!("/api/v1/projects/{p}?as_of=2018-03-31"), &office())
        .await;
    assert_eq!(day_before.status, 200, "{}", day_before.body);
    assert_eq!(day_before.body["milestones"].as_array().unwrap().len(), 0);
    for bad in ["yesterday", "2018-4-1T00:00", "2018-13-01"] {
        let r = app
            .get(&format!("/api/v1/projects/{p}?as_of={bad}"), &office())
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("RFC 3339") && detail.contains("2018-04-01"),
            "{bad}: {detail}"
        );
    }
}

/// Every item of a cursor read, a page of `limit` at a time; also the number of pages.
async fn all_pages(app: &TestApp, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut after: Option<u64> = None;
    let mut pages = 0;
    loop {
        let cursor = after.map_or(String::new(), |a| format!("&after={a}"));
        let r = app
            .get(&format!("{path}?limit={limit}{cursor}"), &office())
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.body["items"].as_array().unwrap();
        assert!(page.len() <= limit);
        items.extend(page.iter().cloned());
        pages += 1;
        match r.body["next"].as_u64() {
            Some(next) => after = Some(next),
            None => return (items, pages),
        }
    }
}

#[tokio::test]
async fn the_audit_trail_comes_a_page_at_a_time_and_gives_every_event_once_in_order() {
    let app = spawn_app().await;
    let (p, m) = signed_project(&app).await;
    // Another project's events in between: the trail's seqs are not consecutive.
    let other = app.register_project().await;
    for i in 0..105u32 {
        report(&app, &p, &m, i % 100).await;
        if i % 10 == 0 {
            app.schedule_milestone(&other).await;
        }
    }
    let events = format!("/api/v1/projects/{p}/events");
    let first = app.get(&events, &office()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        first.body["items"].as_array().unwrap().len(),
        100,
        "the default page"
    );
    assert!(first.body["next"].is_u64(), "{}", first.body["next"]);
    let (items, pages) = all_pages(&app, &events, 7).await;
    // Registered, scheduled, signed, 105 reports.
    assert_eq!(items.len(), 108);
    assert_eq!(pages, 108usize.div_ceil(7));
    let versions: Vec<u64> = items
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, (1..=108).collect::<Vec<u64>>());
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64())
    );
    for limit in ["0", "1001", "x"] {
        let r = app.get(&format!("{events}?limit={limit}"), &office()).await;
        assert_eq!(r.status, 422, "limit={limit}: {}", r.body);
    }
}

#[tokio::test]
async fn the_notices_come_a_page_at_a_time_in_the_order_decided() {
    let app = spawn_app().await;
    for (name, due) in [
        ("晋中纺织园", "2018-04-20"),
        ("阳泉铝材", "2018-05-04"),
        ("临汾焦化", "2018-05-18"),
    ] {
        let p = app
            .register_in_march(json!({
                "name": name, "industry": "现代煤化工", "city": "长治",
                "lead_department": "SXEIC", "supporting_departments": ["SXDRC"],
                "description": "", "source_section": "四、(九)"
            }))
            .await;
        app.milestone(&p, due, due, &["SXEIC", "SXDRC"]).await;
    }
    app.set_now("2018-06-15T02:00:00Z");
    app.scan().await;
    let all = app.get("/api/v1/notifications?limit=1000", &office()).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.body["next"].is_null());
    let every = all.body["items"].as_array().unwrap().clone();
    assert!(every.len() >= 3, "{}", all.body);
    let (paged, pages) = all_pages(&app, "/api/v1/notifications", 2).await;
    assert_eq!(paged, every, "every notice once, in the same order");
    assert_eq!(pages, every.len().div_ceil(2));
    assert!(
        paged
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64())
    );
    let own = app
        .get("/api/v1/notifications?limit=1", &department("SXDRC"))
        .await;
    let own_items = own.body["items"].as_array().unwrap();
    assert_eq!(own_items.len(), 1);
    assert!(own_items.iter().all(|n| n["department"] == "SXDRC"));
    let r = app.get("/api/v1/notifications?limit=0", &office()).await;
    assert_eq!(r.status, 422, "{}", r.body);
}

#[tokio::test]
async fn one_access_rule_answers_every_read_of_a_project_the_same_way() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    app.set_now("2018-06-20T02:00:00Z");
    let missing = uuid::Uuid::now_v7();
    for suffix in ["", "?as_of=2018-06-16", "/events"] {
        let theirs = app
            .get(
                &format!("/api/v1/projects/{p}{suffix}"),
                &department("SXSTD"),
            )
            .await;
        let nobodys = app
            .get(
                &format!("/api/v1/projects/{missing}{suffix}"),
                &department("SXSTD"),
            )
            .await;
        assert_eq!((theirs.status, nobodys.status), (403, 403), "{suffix}");
        assert_eq!(theirs.body["type"], nobodys.body["type"], "{suffix}");
        assert_eq!(theirs.body["detail"], nobodys.body["detail"], "{suffix}");
        let on_it = app
            .get(
                &format!("/api/v1/projects/{p}{suffix}"),
                &department("SXDRC"),
            )
            .await;
        assert_eq!(on_it.status, 200, "{suffix}: {}", on_it.body);
        let office_missing = app
            .get(&format!("/api/v1/projects/{missing}{suffix}"), &office())
            .await;
        assert_eq!(office_missing.status, 404, "{suffix}");
    }
    // Acting follows the same rule.
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/assignment/sign"),
            &department("SXSTD"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Admin-only reads and actions, for the admin only.
    for token in [office(), inspector(), department("SXEIC")] {
        let r = app.get("/api/v1/admin/outbox", &token).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = app.post("/api/v1/admin/rebuild", &token, json!({})).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let r = app.get("/api/v1/audit/verify", &department("SXEIC")).await;
    assert_eq!(r.status, 403, "{}", r.body);
}
