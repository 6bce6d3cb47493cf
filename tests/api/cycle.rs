//! The loop as the office, the departments and the inspectors live it, over HTTP.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_whole_cycle_runs_as_the_three_roles_and_the_trail_tells_it_in_order() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    app.sign_for(&p, "SXDRC").await;

    let report = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/progress"),
            &department("SXDRC"),
            json!({ "percent": 80, "narrative": "设备安装调试中", "evidence": ["照片"] }),
        )
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.headers["etag"], "\"5\"");

    let claim = json!({ "narrative": "已投产" });
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/completion"),
            &department("SXEIC"),
            claim.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let back = json!({ "decision": "return", "reason": "报送情况与事实不符" });
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/review"),
            &inspector(),
            back,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/completion"),
            &department("SXEIC"),
            claim,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ok = json!({ "decision": "accept" });
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/review"),
            &inspector(),
            ok,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let inspection = json!({
        "inspected_on": "2018-06-14", "on_site": true, "summary": "现场督查",
        "findings": [{ "severity": "high", "description": "安全防护设施不到位" }]
    });
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/inspections"),
            &inspector(),
            inspection,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let trail = app
        .get(&format!("/api/v1/projects/{p}/events"), &inspector())
        .await;
    let finding = trail.body["items"].as_array().unwrap().last().unwrap()["payload"]["findings"][0]
        ["finding_id"]
        .clone();
    let order = json!({ "finding_id": finding, "department": "SXDRC", "deadline": "2018-07-31", "instructions": "限期整改" });
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/rectifications"),
            &inspector(),
            order,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let assessment = json!({
        "period": "2018", "rubric_version": "2018.1", "grade": "良好",
        "breakdown": [{ "item": "基础分", "points": 100.0 }, { "item": "办结退回", "points": -2.0 }]
    });
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/assessments"),
            &office(),
            assessment,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let status = app
        .get(&format!("/api/v1/projects/{p}"), &department("SXDRC"))
        .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.body["milestones"][0]["state"], "accepted");
    assert_eq!(status.body["milestones"][0]["timing"], "completed_on_time");
    assert_eq!(status.body["milestones"][0]["completed_late"], false);
    assert_eq!(status.body["open_findings"].as_array().unwrap().len(), 1);
    assert_eq!(status.body["latest_assessment"]["score"], 98.0);

    let trail = app
        .get(&format!("/api/v1/projects/{p}/events"), &inspector())
        .await;
    let entries = trail.body["items"].as_array().unwrap();
    let types: Vec<&str> = entries
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ProjectRegistered",
            "MilestoneScheduled",
            "AssignmentSigned",
            "AssignmentSigned",
            "ProgressReported",
            "CompletionClaimed",
            "CompletionReturned",
            "CompletionClaimed",
            "CompletionAccepted",
            "InspectionRecorded",
            "RectificationOrdered",
            "AssessmentRecorded",
        ]
    );
    for pair in entries.windows(2) {
        assert_eq!(
            pair[1]["prev_hash"], pair[0]["hash"],
            "each link of the trail holds"
        );
        assert!(pair[1]["version"].as_u64() > pair[0]["version"].as_u64());
    }
    assert_eq!(entries[4]["actor"]["dept"], "SXDRC");
    assert_eq!(entries[6]["actor"]["role"], "inspector");
    let verify = app.get("/api/v1/audit/verify", &inspector()).await;
    assert_eq!(
        verify.body["first_break"],
        serde_json::Value::Null,
        "{}",
        verify.body
    );
}

#[tokio::test]
async fn a_department_cannot_report_on_another_departments_milestone_nor_see_its_project() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    let report = json!({ "percent": 10, "narrative": "x" });
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/progress"),
            &department("SXSTD"),
            report,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let own = app
        .get(
            &format!("/api/v1/projects/{p}/events"),
            &department("SXSTD"),
        )
        .await;
    let missing = app
        .get(
            "/api/v1/projects/0192d0c4-7a51-7c3e-9f2b-5d1e8a6b4c21/events",
            &department("SXSTD"),
        )
        .await;
    assert_eq!(
        (own.status, missing.status),
        (403, 403),
        "a department cannot tell the two apart"
    );
    assert_eq!(own.body["type"], missing.body["type"]);
    let for_office = app
        .get(
            "/api/v1/projects/0192d0c4-7a51-7c3e-9f2b-5d1e8a6b4c21",
            &office(),
        )
        .await;
    assert_eq!(for_office.status, 404);
}

#[tokio::test]
async fn a_retry_with_an_idempotency_key_returns_the_first_response_and_appends_nothing() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/completion");
    let key = [("Idempotency-Key", "claim-2018-06")];
    let first = app
        .post_with(
            &path,
            &department("SXEIC"),
            json!({ "narrative": "已投产" }),
            &key,
        )
        .await;
    let again = app
        .post_with(
            &path,
            &department("SXEIC"),
            json!({ "narrative": "已投产" }),
            &key,
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(first.body["version"], again.body["version"]);
    assert_eq!(first.body["position"], again.body["position"]);
    let trail = app
        .get(&format!("/api/v1/projects/{p}/events"), &office())
        .await;
    assert_eq!(trail.body["items"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_stale_if_match_gets_412_with_the_current_version_and_changes_nothing() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let body = json!({ "rating": "amber", "assessor": "张评估" });
    let stale = app
        .post_with(
            &format!("/api/v1/projects/{p}/confidence"),
            &office(),
            body.clone(),
            &[("If-Match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.body["current_version"], 1);
    assert_eq!(stale.headers["content-type"], "application/problem+json");
    let fresh = app
        .post_with(
            &format!("/api/v1/projects/{p}/confidence"),
            &office(),
            body,
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.body["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_reports_on_one_project_land_once_each_without_a_gap() {
    let app = std::sync::Arc::new(spawn_app().await);
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (app, p, m) = (app.clone(), p.clone(), m.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "percent": i, "narrative": format!("第{i}次反馈") });
            app.post(
                &format!("/api/v1/projects/{p}/milestones/{m}/progress"),
                &department("SXEIC"),
                body,
            )
            .await
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        versions.push(r.body["version"].as_u64().unwrap());
    }
    versions.sort();
    assert_eq!(versions, (4..4 + 64).collect::<Vec<u64>>());
}
