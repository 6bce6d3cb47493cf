//! The OpenAPI document describes what the service really answers: every response has a
//! description, every refusal is documented as problem+json, the operational endpoints are in
//! it, and the bounds the service enforces are declared. (The full validation against the
//! OpenAPI 3.1 meta-schema and the fuzzing from it run in `.ci/schemathesis`.)

use serde_json::Value;

use super::helpers::*;

async fn document(app: &TestApp) -> Value {
    let r = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    out
}

#[tokio::test]
async fn every_response_has_a_description_and_refusals_are_problem_json() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut missing = Vec::new();
    for (name, op) in operations(&doc) {
        // The probes and metrics answer plain text for monitoring, not problem+json.
        if !name.contains(" /api/") {
            continue;
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            if response
                .get("description")
                .and_then(Value::as_str)
                .is_none()
            {
                missing.push(format!("{name} {status}: no description"));
            }
            let refusal = status.starts_with('4') || status.starts_with('5');
            if refusal
                && response["content"]
                    .get("application/problem+json")
                    .is_none()
            {
                missing.push(format!("{name} {status}: not problem+json"));
            }
        }
        let any_refusal = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .any(|s| s.starts_with('4'));
        if !any_refusal {
            missing.push(format!("{name}: no 4XX documented"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_reference_names_a_schema_the_document_holds() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "{} references", found.len());
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} is not in the document"
        );
    }
}

#[tokio::test]
async fn the_operational_endpoints_are_documented() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
}

#[tokio::test]
async fn pages_counts_and_positions_declare_their_bounds() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let params = doc["paths"]["/api/v1/projects"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let page = params.iter().find(|p| p["name"] == "page").unwrap();
    assert_eq!(page["schema"]["minimum"], 1, "{page}");
    let position = params.iter().find(|p| p["name"] == "min_position").unwrap();
    assert_eq!(position["schema"]["format"], "int64", "{position}");
}
