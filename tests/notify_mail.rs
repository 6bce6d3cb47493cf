//! The mail layer over a real SMTP server (mailin-embedded, in-process on 127.0.0.1) and on
//! disk: what arrives, who it reaches, how failures are classed, and `.eml` files.

use std::net::TcpListener;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use duban::config::MailSettings;
use duban::domain::{DepartmentCode, MilestoneId, NoticeKind, ProjectId};
use duban::notify::*;
use mail_parser::MessageParser;
use mailin_embedded::{Response, response};

#[path = "smtp_sink/mod.rs"]
mod smtp_sink;

// ── an SMTP sink ─────────────────────────────────────────────────────────────

/// A server on a free loopback port answering RCPT TO with `reject_rcpt` (when given).
fn smtp_sink(reject_rcpt: Option<Response>) -> (u16, smtp_sink::Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (port, smtp_sink::serve_answering(listener, reject_rcpt))
}

fn mailer(port: u16) -> Mailer {
    Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), Duration::from_secs(5)).unwrap()
}

// ── a digest ─────────────────────────────────────────────────────────────────

const PUBLIC_URL: &str = "https://duban.example.org/";
const INJECTED: &str = "太重<script>alert(1)</script>智能制造";

fn project() -> ProjectId {
    ProjectId(uuid::Uuid::from_u128(
        0x0193_0000_0000_7000_8000_0000_0000_0001,
    ))
}

fn item(milestone: u128, kind: NoticeKind, level: u8, overdue: i64) -> DigestItem {
    let milestone_id = MilestoneId(uuid::Uuid::from_u128(milestone));
    DigestItem {
        dedup_key: format!("{milestone_id}:{level}:0"),
        project_id: project(),
        project_name: INJECTED.into(),
        milestone_id,
        milestone_title: format!("节点{milestone}：主体厂房封顶"),
        due_date: NaiveDate::from_ymd_opt(2026, 2, 10).unwrap(),
        kind,
        working_days_overdue: overdue,
        working_days_left: (kind == NoticeKind::DueSoon).then_some(3),
        level,
        repeat: if level == 2 { 1 } else { 0 },
    }
}

fn digest(items: Vec<DigestItem>) -> Digest {
    Digest {
        department_code: DepartmentCode::new("SXDRC").unwrap(),
        department_name: "山西省发展和改革委员会".into(),
        to: vec!["drc@example.org".into()],
        cc: vec!["drc.leader@example.org".into()],
        level: items.iter().map(|i| i.level).max().unwrap_or(1),
        run_key: run_key(items.iter().map(|i| i.dedup_key.as_str())),
        items,
    }
}

fn ctx() -> MailContext {
    MailContext {
        from: "督办 <duban@example.org>".into(),
        public_url: PUBLIC_URL.into(),
        now: Utc.with_ymd_and_hms(2026, 2, 26, 1, 30, 0).unwrap(),
    }
}

fn header(raw: &[u8], name: &str) -> Option<String> {
    let message = MessageParser::default().parse(raw).unwrap();
    message.header_raw(name).map(|v| v.trim().to_string())
}

// ── over SMTP ────────────────────────────────────────────────────────────────

#[tokio::test]
async fn a_digest_arrives_in_chinese_with_both_parts_its_id_and_all_recipients() {
    let (port, inbox) = smtp_sink(None);
    let d = digest(vec![
        item(2, NoticeKind::DueSoon, 1, 0),
        item(1, NoticeKind::Overdue, 2, 12),
    ]);
    let message = render(&d, &ctx()).unwrap();
    mailer(port).send(&message).await.unwrap();

    let received = inbox.lock().unwrap().pop().expect("one mail arrived");
    let mut rcpt = received.rcpt_to.clone();
    rcpt.sort();
    assert_eq!(rcpt, ["drc.leader@example.org", "drc@example.org"]);

    let raw = &received.data;
    let mail = MessageParser::default().parse(raw).unwrap();
    assert_eq!(
        mail.subject(),
        Some("【督办】山西省发展和改革委员会：1 项节点逾期、1 项节点临期（最高二级督办）")
    );
    let text_raw = String::from_utf8_lossy(raw);
    assert!(text_raw.contains("multipart/alternative"));
    assert!(text_raw.contains("text/plain") && text_raw.contains("text/html"));
    assert_eq!((mail.text_body_count(), mail.html_body_count()), (1, 1));

    let link = format!("https://duban.example.org/api/v1/projects/{}", project());
    let text = mail.body_text(0).unwrap();
    let html = mail.body_html(0).unwrap();
    for body in [&text, &html] {
        assert!(body.contains("节点1：主体厂房封顶") && body.contains("节点2：主体厂房封顶"));
        assert!(body.contains("2026-02-10"));
        assert!(body.contains("逾期 12 个工作日") && body.contains("剩余 3 个工作日"));
        assert!(body.contains("【逾期】节点1：主体厂房封顶（第 2 次催办）"));
        assert!(body.contains("【临期】节点2：主体厂房封顶"));
        assert!(body.contains("二级") && body.contains("一级"));
        assert!(body.contains("延期申请") && body.contains("办结申请"));
        assert!(body.contains(&link));
        assert!(body.contains("2026年2月26日"));
    }
    // The overdue, higher-level item comes first.
    assert!(text.find("节点1").unwrap() < text.find("节点2").unwrap());
    assert!(text.contains(INJECTED));
    assert!(!html.contains("<script>"));
    assert!(html.contains("太重&lt;script&gt;alert(1)&lt;/script&gt;智能制造"));

    let id = message_id(&d.run_key, PUBLIC_URL);
    assert_eq!(header(raw, "Message-ID").as_deref(), Some(id.as_str()));
    assert_eq!(message_id_of(&message).as_deref(), Some(id.as_str()));
    assert_eq!(
        header(raw, "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        header(raw, "X-Auto-Response-Suppress").as_deref(),
        Some("All")
    );
    assert_eq!(
        header(raw, "In-Reply-To"),
        None,
        "two milestones: no single parent"
    );
    let references = header(raw, "References").unwrap();
    for m in [1, 2] {
        let thread = milestone_thread_id(MilestoneId(uuid::Uuid::from_u128(m)), PUBLIC_URL);
        assert!(references.contains(&thread), "{references}");
    }
    let date = mail.date().unwrap();
    assert_eq!((date.year, date.month, date.day), (2026, 2, 26));
    assert_eq!((date.hour, date.minute), (1, 30));
}

#[tokio::test]
async fn one_milestone_threads_on_it_and_a_resend_keeps_the_message_id() {
    let (port, inbox) = smtp_sink(None);
    let d = digest(vec![item(7, NoticeKind::Overdue, 3, 30)]);
    let mailer = mailer(port);
    for _ in 0..2 {
        mailer.send(&render(&d, &ctx()).unwrap()).await.unwrap();
    }
    let inbox = inbox.lock().unwrap();
    assert_eq!(inbox.len(), 2);
    let thread = milestone_thread_id(MilestoneId(uuid::Uuid::from_u128(7)), PUBLIC_URL);
    for received in inbox.iter() {
        assert_eq!(header(&received.data, "In-Reply-To"), Some(thread.clone()));
        assert_eq!(header(&received.data, "References"), Some(thread.clone()));
        let mail = MessageParser::default().parse(&received.data).unwrap();
        assert_eq!(
            mail.subject(),
            Some("【督办】山西省发展和改革委员会：1 项节点逾期（三级督办）")
        );
    }
    assert_eq!(
        header(&inbox[0].data, "Message-ID"),
        header(&inbox[1].data, "Message-ID")
    );
}

#[tokio::test]
async fn a_due_soon_digest_is_a_reminder() {
    let d = digest(vec![item(9, NoticeKind::DueSoon, 1, 0)]);
    let raw = render(&d, &ctx()).unwrap().formatted();
    let mail = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        mail.subject(),
        Some("【督办提醒】山西省发展和改革委员会：1 项节点临期")
    );
}

#[tokio::test]
async fn a_rejected_recipient_is_permanent_and_a_busy_server_transient() {
    let d = digest(vec![item(1, NoticeKind::Overdue, 1, 2)]);
    let message = render(&d, &ctx()).unwrap();

    let (port, inbox) = smtp_sink(Some(response::NO_MAILBOX));
    let e = mailer(port).send(&message).await.unwrap_err();
    assert!(e.is_permanent(), "{e}");
    assert_eq!(e.code, Some(550));
    assert!(inbox.lock().unwrap().is_empty());

    let (port, _) = smtp_sink(Some(response::OUT_OF_SPACE));
    let e = mailer(port).send(&message).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(e.code, Some(452));
}

#[tokio::test]
async fn no_server_or_a_silent_one_is_transient() {
    let message = render(&digest(vec![item(1, NoticeKind::Overdue, 1, 2)]), &ctx()).unwrap();

    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = mailer(port).send(&message).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(e.code, None);

    // Accepts connections (the kernel's backlog) but never greets: the timeout ends the try.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mailer = Mailer::smtp(
        &format!("smtp://127.0.0.1:{port}"),
        Duration::from_millis(300),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let e = mailer.send(&message).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);
}

#[tokio::test]
async fn bad_addresses_and_empty_digests_are_refused_before_sending() {
    let mut d = digest(vec![item(1, NoticeKind::Overdue, 1, 2)]);
    d.to = vec!["not an address".into()];
    assert!(render(&d, &ctx()).unwrap_err().is_permanent());
    assert!(render(&digest(vec![]), &ctx()).unwrap_err().is_permanent());
}

// ── on disk ──────────────────────────────────────────────────────────────────

#[tokio::test]
async fn without_smtp_mail_is_one_eml_per_message_id() {
    let data_dir = tempfile::tempdir().unwrap();
    let settings = MailSettings {
        smtp_url: None,
        from: "duban@example.org".into(),
    };
    let mailer = Mailer::from_settings(&settings, data_dir.path()).unwrap();
    let mail_dir = data_dir.path().join("mail");
    assert_eq!(
        mailer.describe(),
        format!("files {}", mail_dir.join("*.eml").display())
    );

    let d = digest(vec![item(1, NoticeKind::Overdue, 2, 5)]);
    let message = render(&d, &ctx()).unwrap();
    let again = render(&d, &ctx()).unwrap();
    assert_eq!(
        message.formatted(),
        again.formatted(),
        "rendering is deterministic"
    );
    mailer.send(&message).await.unwrap();
    mailer.send(&again).await.unwrap();

    let files: Vec<_> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let id = message_id(&d.run_key, PUBLIC_URL);
    assert_eq!(files, [format!("{}.eml", id.trim_matches(['<', '>']))]);
    let raw = std::fs::read(mail_dir.join(&files[0])).unwrap();
    assert_eq!(raw, message.formatted());
    assert_eq!(header(&raw, "Message-ID"), Some(id));

    let other = digest(vec![item(2, NoticeKind::DueSoon, 1, 0)]);
    mailer.send(&render(&other, &ctx()).unwrap()).await.unwrap();
    assert_eq!(std::fs::read_dir(&mail_dir).unwrap().count(), 2);
}
