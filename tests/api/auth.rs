//! The JWT matrix: every way a token can be wrong is a 401 problem, and nothing happens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::helpers::*;

async fn status_with(app: &TestApp, token: &str) -> u16 {
    let body = json!({
        "name": "x", "industry": "新能源", "city": "大同", "lead_department": "SXNEA", "source_section": "四、(二)"
    });
    let r = app.post("/api/v1/projects", token, body).await;
    if r.status == 401 {
        assert_eq!(r.body["type"], "/problems/unauthorized");
    }
    r.status
}

#[tokio::test]
async fn every_malformed_or_untrusted_token_is_refused_with_401() {
    let app = spawn_app().await;
    let good = claims("wang", "office", None);
    assert_eq!(
        status_with(&app, &sign(&good, Algorithm::HS256, SECRET)).await,
        201
    );

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let mut expired = good.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut no_iat = good.clone();
    no_iat.as_object_mut().unwrap().remove("iat");
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("someone-else");
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("another-service");
    let cases = [
        ("alg none", unsigned),
        ("another algorithm", sign(&good, Algorithm::HS384, SECRET)),
        (
            "bad signature",
            sign(
                &good,
                Algorithm::HS256,
                "another-secret-another-secret-another-secret",
            ),
        ),
        ("expired", sign(&expired, Algorithm::HS256, SECRET)),
        ("no exp", sign(&no_exp, Algorithm::HS256, SECRET)),
        ("no iat", sign(&no_iat, Algorithm::HS256, SECRET)),
        ("wrong issuer", sign(&wrong_iss, Algorithm::HS256, SECRET)),
        ("wrong audience", sign(&wrong_aud, Algorithm::HS256, SECRET)),
        (
            "unknown role",
            sign(&claims("x", "mayor", None), Algorithm::HS256, SECRET),
        ),
        (
            "department without dept",
            sign(&claims("x", "department", None), Algorithm::HS256, SECRET),
        ),
        (
            "dept outside the directory",
            sign(
                &claims("x", "department", Some("NOWHERE")),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        ("garbage", "not-a-token".to_string()),
    ];
    for (what, token) in cases {
        assert_eq!(status_with(&app, &token).await, 401, "{what}");
    }
    let none = app
        .client
        .post(format!("{}/api/v1/projects", app.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let trail = app.get("/api/v1/audit/verify", &office()).await;
    assert_eq!(
        trail.body["checked"], 1,
        "only the one good request appended anything"
    );
}

#[tokio::test]
async fn a_role_may_not_issue_another_roles_commands() {
    let app = spawn_app().await;
    let p = app.register_project().await;
    let r = app.post(&format!("/api/v1/projects/{p}/assessments"), &department("SXEIC"), json!({
        "period": "2018", "rubric_version": "1", "grade": "优", "breakdown": [{ "item": "x", "points": 1.0 }]
    })).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/role-may-not");
}

/// A key pair made for these tests only (`openssl genpkey -algorithm ed25519`).
const ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDbeuJh+r8lTxjiQ5NY6qQwUnslKS7NoSyLAv8pPAKrb
-----END PRIVATE KEY-----
";
const ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA8MpXBXHhTgqOIzmCTAxlOtcXFrhZBxjPFzIDj8TTxu8=
-----END PUBLIC KEY-----
";

#[tokio::test]
async fn tokens_from_an_identity_provider_are_verified_with_its_public_key() {
    let app = spawn_app_with(|s| {
        s.jwt.algorithm = "EdDSA".into();
        s.jwt.secret = None;
        s.jwt.public_key_pem = Some(ED25519_PUBLIC.into());
    })
    .await;
    let key = jsonwebtoken::EncodingKey::from_ed_pem(ED25519_PRIVATE.as_bytes()).unwrap();
    let header = jsonwebtoken::Header::new(Algorithm::EdDSA);
    let good = jsonwebtoken::encode(&header, &claims("wang", "office", None), &key).unwrap();
    assert_eq!(status_with(&app, &good).await, 201);
    // A token signed with a shared secret is not accepted in public-key mode.
    assert_eq!(
        status_with(
            &app,
            &sign(&claims("wang", "office", None), Algorithm::HS256, SECRET)
        )
        .await,
        401
    );
}
