//! Text fields parsed at the edge: a blank name, a hidden character in a narrative, a title
//! over its bound are refused with 422 before any command is decided, and append nothing.

use serde_json::{Value, json};

use super::helpers::*;

fn problem_type(r: &Reply) -> Option<&str> {
    r.body["type"].as_str()
}

#[tokio::test]
async fn a_blank_project_name_is_field_required_and_registers_nothing() {
    let app = spawn_app().await;
    for name in ["", "   ", "\n\t"] {
        let r = app
            .post(
                "/api/v1/projects",
                &office(),
                json!({
                    "name": name,
                    "industry": "高端装备制造",
                    "city": "太原",
                    "lead_department": "SXEIC",
                    "source_section": "四、(一)"
                }),
            )
            .await;
        assert_eq!(r.status, 422, "{name:?}: {}", r.body);
        assert_eq!(
            problem_type(&r),
            Some("/problems/field-required"),
            "{}",
            r.body
        );
    }
    assert_eq!(app.project_count().await, 0);
}

#[tokio::test]
async fn a_bidi_override_or_nul_in_a_narrative_is_invalid_text_and_appends_nothing() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let before = app.trail_len(&p).await;
    for narrative in [
        "设备安装\u{202E}成完",
        "设备\u{0}安装",
        "a\u{2066}b\u{2069}",
    ] {
        let r = app
            .post(
                &path,
                &department("SXEIC"),
                json!({ "percent": 40, "narrative": narrative }),
            )
            .await;
        assert_eq!(r.status, 422, "{narrative:?}: {}", r.body);
        assert_eq!(
            problem_type(&r),
            Some("/problems/invalid-text"),
            "{}",
            r.body
        );
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("forbidden character"), "{detail}");
    }
    assert_eq!(app.trail_len(&p).await, before);
}

#[tokio::test]
async fn a_title_of_201_characters_is_refused_and_200_are_scheduled() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let path = format!("/api/v1/projects/{p}/milestones");
    let before = app.trail_len(&p).await;
    let body = |title: String| {
        json!({
            "title": title,
            "due_date": "2018-06-30",
            "responsible_departments": ["SXEIC"]
        })
    };
    let r = app.post(&path, &office(), body("节".repeat(201))).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        problem_type(&r),
        Some("/problems/invalid-text"),
        "{}",
        r.body
    );
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("at most 200"), "{detail}");
    assert_eq!(app.trail_len(&p).await, before);
    let ok = app.post(&path, &office(), body("节".repeat(200))).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

#[tokio::test]
async fn a_return_needs_a_reason_that_is_text() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/review");
    let before = app.trail_len(&p).await;
    let blank = app
        .post(&path, &inspector(), json!({ "decision": "return" }))
        .await;
    assert_eq!(blank.status, 422, "{}", blank.body);
    assert_eq!(problem_type(&blank), Some("/problems/field-required"));
    let hidden = app
        .post(
            &path,
            &inspector(),
            json!({ "decision": "return", "reason": "不合格\u{202D}" }),
        )
        .await;
    assert_eq!(hidden.status, 422, "{}", hidden.body);
    assert_eq!(problem_type(&hidden), Some("/problems/invalid-text"));
    assert_eq!(app.trail_len(&p).await, before);
}

#[tokio::test]
async fn a_percent_over_100_is_refused_before_the_rules() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let m = app.schedule_milestone(&p).await;
    app.sign_for(&p, "SXEIC").await;
    let path = format!("/api/v1/projects/{p}/milestones/{m}/progress");
    let before = app.trail_len(&p).await;
    let r = app
        .post(
            &path,
            &department("SXEIC"),
            json!({ "percent": 101, "narrative": "设备安装" }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        problem_type(&r),
        Some("/problems/percent-out-of-range"),
        "{}",
        r.body
    );
    assert_eq!(app.trail_len(&p).await, before);
}

#[tokio::test]
async fn the_openapi_document_says_what_text_the_bodies_accept() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        (&schemas["Line"]["minLength"], &schemas["Line"]["maxLength"]),
        (&json!(1), &json!(200)),
        "{}",
        schemas["Line"]
    );
    assert_eq!(schemas["Prose"]["maxLength"], json!(4000));
    let name = &schemas["RegisterProjectBody"]["properties"]["name"];
    assert_eq!(name["$ref"], json!("#/components/schemas/Line"), "{name}");
    let narrative = &schemas["ProgressBody"]["properties"]["narrative"];
    assert_eq!(narrative["$ref"], json!("#/components/schemas/Prose"));
}
