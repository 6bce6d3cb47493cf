//! What an adversarial pass over the hardened edge still found: an inspection dated ahead of
//! today, projects without a bound on milestones, a lenient `as_of` date, a `sub` with a
//! control character, two `Authorization` headers.

use jsonwebtoken::Algorithm;
use serde_json::json;

use super::helpers::*;

#[tokio::test]
async fn an_inspection_dated_after_today_is_refused() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/inspections"),
            &inspector(),
            json!({ "inspected_on": "2018-06-16", "summary": "现场督查" }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/inspection-in-future");
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/inspections"),
            &inspector(),
            json!({ "inspected_on": "2018-06-15", "summary": "现场督查" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn a_project_holds_at_most_200_milestones() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let path = format!("/api/v1/projects/{p}/milestones");
    for i in 0..200 {
        let body = json!({ "title": format!("节点{i}"), "due_date": "2018-09-30", "responsible_departments": ["SXEIC"] });
        let r = app.post(&path, &office(), body).await;
        assert_eq!(r.status, 201, "{i}: {}", r.body);
    }
    let body = json!({ "title": "节点200", "due_date": "2018-09-30", "responsible_departments": ["SXEIC"] });
    let r = app.post(&path, &office(), body).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/too-many");
}

#[tokio::test]
async fn as_of_takes_a_date_only_as_yyyy_mm_dd() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let r = app
        .get(&format!("/api/v1/projects/{p}?as_of=2018-6-15"), &office())
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // Today's date is the status as it is now.
    let r = app
        .get(&format!("/api/v1/projects/{p}?as_of=2018-06-15"), &office())
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .get(&format!("/api/v1/projects/{p}?as_of=2018-06-16"), &office())
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
}

#[tokio::test]
async fn a_sub_with_a_control_character_is_no_caller() {
    let app = spawn_app().await;
    let token = sign(
        &claims("wang\u{0}office", "office", None),
        Algorithm::HS256,
        SECRET,
    );
    let r = app.get("/api/v1/projects", &token).await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/api/v1/projects", app.base))
        .header("Authorization", format!("Bearer {}", office()))
        .header("Authorization", format!("Bearer {}", department("SXEIC")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_command_too_large_to_record_is_a_422_and_records_nothing() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    // Just under the body limit; the event adds an id to each finding and its envelope.
    let findings: Vec<_> = (0..50)
        .map(|_| json!({ "severity": "low", "description": "x".repeat(1200) }))
        .collect();
    let body = json!({ "inspected_on": "2018-06-14", "summary": "现场督查", "findings": findings });
    assert!(body.to_string().len() < 64 * 1024);
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/inspections"),
            &inspector(),
            body,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/too-large-to-record");
    assert_eq!(app.trail_len(&p).await, 1);
}
