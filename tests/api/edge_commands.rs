//! The command edge: idempotency keys scoped without ambiguity, created ids derived from the
//! key so a retry replays, every created id in the answer, dates and numbers bounded.

use serde_json::{Value, json};

use super::helpers::*;

fn project_body() -> Value {
    json!({
        "name": "太原轨道交通装备制造基地",
        "industry": "高端装备制造",
        "city": "太原",
        "lead_department": "SXEIC",
        "source_section": "四、(一)"
    })
}

/// A progress report of 40% sent with `key`.
async fn report_with_key(app: &TestApp, path: &str, token: &str, key: &str) -> Reply {
    let body = json!({ "percent": 40, "narrative": "设备安装" });
    app.post_with(path, token, body, &[("Idempotency-Key", key)])
        .await
}

/// Recorded as a new command, not answered as a replay.
fn assert_recorded(r: &Reply) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["replayed"], false, "{}", r.body);
}

#[tokio::test]
async fn two_callers_whose_name_and_key_spell_the_same_pair_are_two_commands() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let before = app.trail_len(&p).await;
    for (sub, key) in [("zhang", "wei:report-1"), ("zhang:wei", "report-1")] {
        let caller = token(sub, "department", Some("SXEIC"));
        assert_recorded(&report_with_key(&app, &path, &caller, key).await);
    }
    assert_eq!(app.trail_len(&p).await, before + 2);
}

#[tokio::test]
async fn registering_without_an_id_retried_with_its_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let key = [("Idempotency-Key", "register-2018-001")];
    let first = app
        .post_with("/api/v1/projects", &office(), project_body(), &key)
        .await;
    let again = app
        .post_with("/api/v1/projects", &office(), project_body(), &key)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["replayed"], true);
    assert_eq!(first.body["project_id"], again.body["project_id"]);
    assert_eq!(
        first.body["created"]["project_id"],
        first.body["project_id"]
    );
    assert_eq!(first.body["created"], again.body["created"]);
    let p = first.body["project_id"].as_str().unwrap();
    assert_eq!(app.trail_len(p).await, 1);
    // Another caller's same key is another project.
    let other = app
        .post_with(
            "/api/v1/projects",
            &token("li.office", "office", None),
            project_body(),
            &key,
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(other.body["project_id"], first.body["project_id"]);
}

/// Posts `body` twice with one key; both answers name the same created ids, the second is a
/// replay, and the created ids are returned.
async fn created_twice(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let key = [("Idempotency-Key", path.rsplit('/').next().unwrap())];
    let first = app.post_with(path, token, body.clone(), &key).await;
    let again = app.post_with(path, token, body, &key).await;
    assert_eq!(first.status, 201, "{path}: {}", first.body);
    assert_eq!(again.status, 200, "{path}: {}", again.body);
    assert_eq!(again.body["replayed"], true, "{path}: {}", again.body);
    assert_eq!(first.body["created"], again.body["created"], "{path}");
    first.body["created"].clone()
}

#[tokio::test]
async fn every_created_id_is_answered_and_a_retry_names_the_same_ids() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let created = created_twice(
        &app,
        &format!("/api/v1/projects/{p}/milestones"),
        &office(),
        json!({ "title": "投产", "due_date": "2018-09-30", "responsible_departments": ["SXEIC"] }),
    )
    .await;
    let m = created["milestone_id"].as_str().unwrap().to_string();
    let created = created_twice(
        &app,
        &format!("/api/v1/projects/{p}/targets"),
        &office(),
        json!({ "indicator": "年销售收入", "unit": "亿元", "target_value": 500.0, "year": 2020 }),
    )
    .await;
    assert!(created["target_id"].is_string(), "{created}");
    let created = created_twice(
        &app,
        &format!("/api/v1/projects/{p}/inspections"),
        &inspector(),
        json!({ "inspected_on": "2018-06-14", "summary": "现场督查", "findings": [
            { "severity": "high", "description": "进度滞后", "milestone_id": m },
            { "severity": "low", "description": "台账不全" }
        ] }),
    )
    .await;
    let findings = created["finding_ids"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    assert_ne!(findings[0], findings[1]);
    let created = created_twice(
        &app,
        &format!("/api/v1/projects/{p}/rectifications"),
        &inspector(),
        json!({ "finding_id": findings[0], "department": "SXEIC",
                "deadline": "2018-08-31", "instructions": "限期整改" }),
    )
    .await;
    assert!(created["rectification_id"].is_string(), "{created}");
    // The registration, one milestone, one target, one inspection, one order.
    assert_eq!(app.trail_len(&p).await, 5);
}

#[tokio::test]
async fn dates_outside_the_calendar_or_not_written_yyyy_mm_dd_are_refused_with_422() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    for due in [
        "0000-01-01",
        "-0001-01-01",
        "+10000-01-01",
        "2018-1-1",
        "1999-12-31",
        "2099-01-01",
    ] {
        let r = app
            .post(
                &format!("/api/v1/projects/{p}/milestones"),
                &office(),
                json!({ "title": "投产", "due_date": due, "responsible_departments": ["SXEIC"] }),
            )
            .await;
        assert_eq!(r.status, 422, "{due}: {}", r.body);
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
    }
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones"),
            &office(),
            json!({ "title": "投产", "due_date": "2031-01-01", "responsible_departments": ["SXEIC"] }),
        )
        .await;
    assert_eq!(
        r.body["type"], "/problems/date-outside-calendar",
        "{}",
        r.body
    );
    assert_eq!(app.trail_len(&p).await, 1);
}

#[tokio::test]
async fn numbers_beyond_their_bounds_are_refused_with_422() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/assessments"),
            &office(),
            json!({ "period": "2018", "rubric_version": "2018.1", "grade": "优秀",
                    "breakdown": [{ "item": "按期完成", "points": 5.66e115 }] }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.body["type"], "/problems/number-out-of-range",
        "{}",
        r.body
    );
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/targets"),
            &office(),
            json!({ "indicator": "年销售收入", "unit": "亿元", "target_value": 1e300, "year": 2020 }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.trail_len(&p).await, 1);
}

#[tokio::test]
async fn whole_numbers_written_with_a_fraction_of_zero_are_whole_numbers() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/targets"),
            &office(),
            json!({ "indicator": "年销售收入", "unit": "亿元", "target_value": 500, "year": 2020.0 }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let path = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let r = app
        .post(
            &path,
            &department("SXEIC"),
            json!({ "percent": 70.0, "narrative": "设备安装" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            &path,
            &department("SXEIC"),
            json!({ "percent": 70.5, "narrative": "设备安装" }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.body["type"], "/problems/percent-out-of-range",
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_review_names_its_decision_and_only_a_return_carries_a_reason() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/review");
    let before = app.trail_len(&p).await;
    let r = app
        .post(
            &path,
            &inspector(),
            json!({ "decision": "accept", "reason": "好" }),
        )
        .await;
    assert_eq!(
        r.status, 400,
        "an accept has no reason to record: {}",
        r.body
    );
    let r = app
        .post(&path, &inspector(), json!({ "decision": "maybe" }))
        .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.body);
    assert_eq!(app.trail_len(&p).await, before);
}

#[tokio::test]
async fn a_command_refuses_any_query_parameter_and_records_nothing() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/confidence?rating=red"),
            &office(),
            json!({ "rating": "amber", "assessor": "张评估" }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/unknown-query-parameter");
    assert!(r.body["detail"].as_str().unwrap().contains("rating"));
    assert_eq!(app.trail_len(&p).await, 1);
}

#[tokio::test]
async fn evidence_is_a_bounded_list_of_bounded_references() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let before = app.trail_len(&p).await;
    let report =
        |evidence: Value| json!({ "percent": 40, "narrative": "设备安装", "evidence": evidence });
    let too_many: Vec<String> = (0..21).map(|i| format!("照片{i}")).collect();
    let r = app
        .post(&path, &department("SXEIC"), report(json!(too_many)))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app
        .post(
            &path,
            &department("SXEIC"),
            report(json!(["照".repeat(201)])),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.trail_len(&p).await, before);
    let twenty: Vec<String> = (0..20).map(|i| format!("照片{i}")).collect();
    let r = app
        .post(&path, &department("SXEIC"), report(json!(twenty)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_replay_is_no_way_around_the_access_rule() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let body = json!({ "percent": 40, "narrative": "设备安装" });
    let key = [("Idempotency-Key", "report-7")];
    let own = token("zhang", "department", Some("SXEIC"));
    let r = app.post_with(&path, &own, body.clone(), &key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The same name in another department, with the same key: not a replay of SXEIC's answer.
    let other = token("zhang", "department", Some("TY-GOV"));
    let r = app.post_with(&path, &other, body, &key).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.get("version").is_none(), "{}", r.body);
}

#[tokio::test]
async fn a_key_sent_again_with_another_request_is_refused_not_answered_as_a_replay() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let key = [("Idempotency-Key", "k1")];
    let dept = department("SXEIC");
    let progress = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let r = app
        .post_with(
            &progress,
            &dept,
            json!({ "percent": 50, "narrative": "过半" }),
            &key,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let before = app.trail_len(&p).await;
    // Another body, another command: each refused, not silently dropped as a replay.
    let r = app
        .post_with(
            &progress,
            &dept,
            json!({ "percent": 60, "narrative": "过半" }),
            &key,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/idempotency-key-reused");
    let completion = format!("/api/v1/projects/{p}/milestones/{m}/completion");
    let r = app
        .post_with(&completion, &dept, json!({ "narrative": "已投产" }), &key)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.trail_len(&p).await, before);
    // The very same request again is still a replay.
    let r = app
        .post_with(
            &progress,
            &dept,
            json!({ "percent": 50, "narrative": "过半" }),
            &key,
        )
        .await;
    assert_eq!(
        (r.status, &r.body["replayed"]),
        (200, &json!(true)),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_key_of_a_registration_reused_for_a_milestone_names_no_project_as_a_milestone() {
    let app = spawn_app().await;
    let key = [("Idempotency-Key", "proj-a")];
    let r = app
        .post_with("/api/v1/projects", &office(), project_body(), &key)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p = r.body["project_id"].as_str().unwrap().to_string();
    let r = app
        .post_with(
            &format!("/api/v1/projects/{p}/milestones"),
            &office(),
            json!({ "title": "投产", "due_date": "2018-09-30", "responsible_departments": ["SXEIC"] }),
            &key,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.trail_len(&p).await, 1);
}

#[tokio::test]
async fn one_name_acting_for_two_departments_has_two_sets_of_keys() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    app.sign_for(&p, "SXDRC").await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let before = app.trail_len(&p).await;
    for dept in ["SXEIC", "SXDRC"] {
        let caller = token("zhang", "department", Some(dept));
        assert_recorded(&report_with_key(&app, &path, &caller, "report-1").await);
    }
    assert_eq!(app.trail_len(&p).await, before + 2);
}

#[tokio::test]
async fn a_long_name_with_a_long_key_is_still_a_command() {
    let app = spawn_app().await;
    let caller = token(&"a".repeat(150), "office", None);
    let r = app
        .post_with(
            "/api/v1/projects",
            &caller,
            project_body(),
            &[("Idempotency-Key", &"k".repeat(128))],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
