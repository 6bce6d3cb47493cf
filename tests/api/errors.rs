//! Bad input gets a clear problem+json and changes nothing.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn bad_bodies_get_400_413_or_422_and_nothing_is_appended() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let path = format!("/api/v1/projects/{p}/confidence");

    let malformed = app.post_raw(&path, &office(), "{\"rating\": ".into()).await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    let unknown = app
        .post(
            &path,
            &office(),
            json!({ "rating": "red", "assessor": "张", "colour": "red" }),
        )
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    let invalid = app
        .post(
            &path,
            &office(),
            json!({ "rating": "purple", "assessor": "张" }),
        )
        .await;
    assert_eq!(invalid.status, 422, "{}", invalid.body);
    let rule = app
        .post(
            &path,
            &office(),
            json!({ "rating": "red", "assessor": " " }),
        )
        .await;
    assert_eq!(
        (rule.status, rule.body["type"].as_str()),
        (422, Some("/problems/field-required"))
    );
    let huge = app
        .post(
            &path,
            &office(),
            json!({ "rating": "red", "assessor": "张", "comment": "长".repeat(30_000) }),
        )
        .await;
    assert_eq!(huge.status, 413, "{}", huge.body);
    for r in [&malformed, &unknown, &invalid, &rule, &huge] {
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    let unknown_dept = app
        .post(
            &format!("/api/v1/projects/{p}/departments"),
            &office(),
            json!({ "department": "NOWHERE", "role": "supporting" }),
        )
        .await;
    assert_eq!(unknown_dept.status, 422, "{}", unknown_dept.body);
    let trail = app
        .get(&format!("/api/v1/projects/{p}/events"), &office())
        .await;
    assert_eq!(
        trail.body["items"].as_array().unwrap().len(),
        1,
        "only the registration"
    );
}

#[tokio::test]
async fn a_broken_rule_is_a_409_named_after_the_rule() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{m}/review"),
            &inspector(),
            json!({ "decision": "accept" }),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/claim-not-made");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_the_bearer_scheme() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/projects",
        "/api/v1/projects/{id}/milestones/{mid}/progress",
        "/api/v1/projects/{id}/milestones/{mid}/review",
        "/api/v1/projects/{id}/rectifications/{rid}/verification",
        "/api/v1/projects/{id}/events",
        "/api/v1/audit/verify",
        "/api/v1/overdue",
        "/api/v1/summary",
        "/api/v1/departments/{code}/dashboard",
        "/api/v1/admin/rebuild",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(
        paths["/api/v1/projects"].get("get").is_some()
            && paths["/api/v1/projects"].get("post").is_some(),
        "the list and the registration share a path"
    );
    assert!(paths.len() >= 24);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let docs = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status().as_u16(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("duban_http_requests_total")
            && metrics.contains("duban_log_fsync_seconds_total")
            && metrics.contains("duban_log_write_seconds_total")
            && metrics.contains("duban_projection_position_seq")
    );
}
