//! The edge over real HTTP and raw TCP: methods a client makes up, the bearer challenge and
//! the JWT claims, a body trickled in, the connection bound.

use std::time::Duration;

use duban::http::methods::RouteTable;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

fn project_body() -> Value {
    json!({
        "name": "x", "industry": "新能源", "city": "大同", "lead_department": "SXNEA",
        "source_section": "四、(二)"
    })
}

async fn send(app: &TestApp, method: Method, path: &str) -> reqwest::Response {
    app.client
        .request(method, format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

async fn metrics(app: &TestApp) -> String {
    let r = send(app, Method::GET, "/metrics").await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

fn made_up_method() -> String {
    format!("X{}", uuid::Uuid::new_v4().simple()).to_uppercase()
}

/// How many events the log holds.
async fn events(app: &TestApp) -> u64 {
    let r = app.get("/api/v1/audit/verify", &office()).await;
    r.body["checked"].as_u64().unwrap()
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    let before = metrics(&app).await.len();
    let mut sent = Vec::new();
    for i in 0..200 {
        let name = made_up_method();
        let path = if i % 2 == 0 {
            "/api/v1/projects".to_string()
        } else {
            format!("/nowhere/{}", uuid::Uuid::new_v4())
        };
        let r = send(&app, Method::from_bytes(name.as_bytes()).unwrap(), &path).await;
        assert!(r.status() == 405 || r.status() == 404, "{name} {path}");
        sent.push((name, path));
    }
    let after = metrics(&app).await;
    for (name, path) in &sent {
        assert!(!after.contains(name.as_str()), "{name} is a label");
        assert!(
            path == "/api/v1/projects" || !after.contains(path.as_str()),
            "{path} is a label"
        );
    }
    assert!(after.contains("method=\"other\""), "{after}");
    // Two series more (other × the route, other × unmatched) and /metrics itself: a few
    // KiB. A series per request would be some 300 KiB.
    assert!(
        after.len() < before + 16 * 1024,
        "/metrics grew from {before} to {} bytes",
        after.len()
    );
}

#[tokio::test]
async fn a_method_a_route_does_not_take_is_405_with_allow() {
    let app = spawn_app().await;
    let project = format!("/api/v1/projects/{}", uuid::Uuid::new_v4());
    let cases = [
        ("FOO", "/api/v1/projects", "GET, POST"),
        ("DELETE", "/api/v1/projects", "GET, POST"),
        ("PUT", project.as_str(), "GET"),
        ("GET", "/api/v1/admin/scan", "POST"),
        ("POST", "/healthz", "GET"),
    ];
    for (method, path, allow) in cases {
        let r = send(&app, Method::from_bytes(method.as_bytes()).unwrap(), path).await;
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["type"], "/problems/method-not-allowed");
        assert_eq!(body["status"], 405);
    }
    for method in ["GET", "FOO"] {
        let r = send(
            &app,
            Method::from_bytes(method.as_bytes()).unwrap(),
            "/api/v1/nowhere",
        )
        .await;
        assert_eq!(r.status(), 404, "{method} on an unknown path");
        assert!(r.headers().get("allow").is_none());
    }
    assert_eq!(events(&app).await, 0);
}

/// The table `Allow` is read from lists only routes that exist: each answers its method
/// itself (here 401 without a token, or the handler's own answer), not the fallback.
#[tokio::test]
async fn every_route_in_the_method_table_answers_its_methods() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4().to_string();
    let mut checked = 0;
    for (pattern, methods) in RouteTable::get().routes() {
        let path = pattern
            .replace("{_:.*}", "index.html")
            .replace("{code}", "SXEIC")
            .replace("{id}", &id)
            .replace("{mid}", &id)
            .replace("{rid}", &id);
        for method in methods {
            let method = Method::from_bytes(method.as_str().as_bytes()).unwrap();
            let r = send(&app, method.clone(), &path).await;
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_ne!(status, 405, "{method} {pattern}: {text}");
            assert!(
                !text.contains("no such route"),
                "{method} {pattern}: {text}"
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} routes in the table");
}

async fn post_with_token(app: &TestApp, authorization: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/projects", app.base))
        .header("authorization", authorization)
        .json(&project_body())
        .send()
        .await
        .unwrap()
}

/// A bad token: 401 problem+json with the `invalid_token` challenge, and nothing appended.
async fn assert_invalid_token(claims: &Value, header: Header) {
    let app = spawn_app().await;
    let token = jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let r = post_with_token(&app, &format!("Bearer {token}")).await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "/problems/unauthorized");
    assert_eq!(events(&app).await, 0);
}

fn good_claims() -> Value {
    claims("wang", "office", None)
}

#[tokio::test]
async fn a_token_without_iss_is_refused() {
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("iss");
    assert_invalid_token(&c, Header::new(Algorithm::HS256)).await;
}

#[tokio::test]
async fn a_token_without_aud_is_refused() {
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("aud");
    assert_invalid_token(&c, Header::new(Algorithm::HS256)).await;
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let mut c = good_claims();
    c["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
    assert_invalid_token(&c, Header::new(Algorithm::HS256)).await;
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    let mut c = good_claims();
    let in_a_year = chrono::Utc::now().timestamp() + 365 * 24 * 3600;
    c["iat"] = json!(in_a_year);
    c["exp"] = json!(in_a_year + 3600);
    assert_invalid_token(&c, Header::new(Algorithm::HS256)).await;
}

#[tokio::test]
async fn a_token_with_an_unknown_critical_header_is_refused() {
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["urn:example:must-understand".into()]);
    header.extras.insert("urn:example:must-understand", true);
    assert_invalid_token(&good_claims(), header).await;
}

#[tokio::test]
async fn a_garbled_token_gets_the_invalid_token_challenge() {
    let app = spawn_app().await;
    let r = post_with_token(&app, "Bearer not-a-token").await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn without_a_token_the_challenge_names_only_the_scheme() {
    let app = spawn_app().await;
    let none = app
        .client
        .post(format!("{}/api/v1/projects", app.base))
        .json(&project_body())
        .send()
        .await
        .unwrap();
    let basic = post_with_token(&app, "Basic d2FuZzpzZWNyZXQ=").await;
    for r in [none, basic] {
        assert_eq!(r.status(), 401);
        let challenge = r.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer realm="), "{challenge}");
        assert!(!challenge.contains("error="), "{challenge}");
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_valid_times_pass() {
    let app = spawn_app().await;
    let mut c = good_claims();
    c["nbf"] = json!(chrono::Utc::now().timestamp() - 10);
    let token = sign(&c, Algorithm::HS256, SECRET);
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = post_with_token(&app, &format!("{scheme} {token}")).await;
        assert_eq!(r.status(), 201, "{scheme}");
    }
}

/// Reads into `answer` until the server closes the connection (`true`) or `patience` passes
/// (`false`).
async fn read_until_closed(
    stream: &mut TcpStream,
    answer: &mut Vec<u8>,
    patience: Duration,
) -> bool {
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(patience, read).await.is_ok()
}

/// Sends `head`, then a byte of `trickle` at a time, a few times a second, until the server
/// answers or closes; then waits for it to close. `None` if the connection is still open
/// after `give_up`; else what the server sent.
async fn trickle(app: &TestApp, head: &str, trickle: &[u8], give_up: Duration) -> Option<String> {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut answer = Vec::new();
    let mut closed = false;
    for byte in trickle.iter().cycle() {
        if started.elapsed() > give_up {
            return None;
        }
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        closed = read_until_closed(&mut stream, &mut answer, Duration::from_millis(300)).await;
        if closed || !answer.is_empty() {
            break;
        }
    }
    // Answered (or the write failed): the server must now close, though the client has
    // more to send.
    if !closed {
        let left = give_up.saturating_sub(started.elapsed());
        closed = read_until_closed(&mut stream, &mut answer, left).await;
    }
    closed.then(|| String::from_utf8_lossy(&answer).into_owned())
}

fn head(app: &TestApp, framing: &str) -> String {
    format!(
        "POST /api/v1/projects HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\n{framing}\r\n\r\n{{",
        app.base.trim_start_matches("http://"),
        office()
    )
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_with_408() {
    let app = spawn_app_with(|s| s.body_timeout = 1).await;
    let answer = trickle(
        &app,
        &head(&app, "Content-Length: 60000"),
        b" ",
        Duration::from_secs(30),
    )
    .await
    .expect("the connection is still open after 30 s of trickling");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("/problems/body-timeout"), "{answer}");
    assert_eq!(events(&app).await, 0);
}

#[tokio::test]
async fn a_trickled_chunked_body_is_cut_off_too() {
    let app = spawn_app_with(|s| s.body_timeout = 1).await;
    // Chunks of one space each: "1\r\n \r\n", sent a byte at a time.
    let answer = trickle(
        &app,
        &head(&app, "Transfer-Encoding: chunked").replace("\r\n\r\n{", "\r\n\r\n1\r\n{\r\n"),
        b"1\r\n \r\n",
        Duration::from_secs(30),
    )
    .await
    .expect("the connection is still open after 30 s of trickling");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn a_body_nobody_reads_does_not_hold_the_connection() {
    let app = spawn_app_with(|s| s.body_timeout = 1).await;
    let cases: [(&str, &[u8]); 2] = [
        ("Content-Length: 60000", b" "),
        ("Transfer-Encoding: chunked", b"1\r\n \r\n"),
    ];
    for (framing, bytes) in cases {
        let head = format!("POST /healthz HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n");
        let answer = trickle(&app, &head, bytes, Duration::from_secs(30)).await;
        assert!(answer.is_some(), "{framing}: still open after 30 s");
    }
}

/// With room for two connections, a third waits until one of the two ends. (Only its order
/// is asserted: that it is not answered while both are held, and is once one is let go.)
#[tokio::test]
async fn connections_beyond_max_connections_wait() {
    let app = spawn_app_with(|s| s.max_connections = 2).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s);
    }
    let mut third = TcpStream::connect(&addr).await.unwrap();
    third.write_all(request).await.unwrap();
    let mut buf = [0u8; 512];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut buf)).await;
    assert!(early.is_err(), "answered while two connections are held");
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(20), third.read(&mut buf))
        .await
        .expect("still waiting after a connection was let go")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
}
