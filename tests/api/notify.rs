//! Reminders and escalation over a real SMTP server: one digest per department, nothing when
//! nothing is due, the repeat cadence in working days across a holiday, escalation to the
//! office, completion on the due date, an SMTP outage, dead letters and quiet hours.

use serde_json::json;

use crate::helpers::*;
use crate::smtp_sink::{self, count};

async fn app_mailing_to(port: u16) -> TestApp {
    spawn_app_with(|s| s.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await
}

/// A project led by SXEIC, registered 2018-03-01, with one milestone per due date, each the
/// responsibility of SXEIC. Returns the project and the milestone ids.
async fn project_with(app: &TestApp, name: &str, dues: &[&str]) -> (String, Vec<String>) {
    let p = app
        .register_in_march(json!({
            "name": name, "industry": "现代煤化工", "city": "长治",
            "lead_department": "SXEIC", "supporting_departments": [],
            "description": "", "source_section": "四、(九) 现代煤化工产业"
        }))
        .await;
    let mut ms = Vec::new();
    for due in dues {
        ms.push(
            app.milestone(&p, &format!("节点 {due}"), due, &["SXEIC"])
                .await,
        );
    }
    (p, ms)
}

#[tokio::test]
async fn one_digest_per_department_lists_every_overdue_milestone_and_nothing_goes_when_nothing_is_due()
 {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    project_with(&app, "潞安集团180万吨/年煤基液体产品", &["2018-04-20"]).await;
    project_with(&app, "阳煤集团年产40万吨煤制乙二醇", &["2018-04-27"]).await;

    // Monday 2018-04-02: nothing within three working days of its due date.
    app.set_now("2018-04-02T02:00:00Z");
    let quiet = app.scan().await;
    assert_eq!(quiet["decided"], 0);
    assert_eq!(quiet["delivery"]["mails_sent"], 0);
    assert_eq!(count(&inbox), 0, "no mail when nothing is due");

    // Wednesday 2018-05-02, after 劳动节: 04-27 is 2 working days late (04-28 was a make-up
    // working day), 04-20 is 7 — its second step, at level 2.
    app.set_now("2018-05-02T02:00:00Z");
    let run = app.scan().await;
    assert_eq!(run["decided"], 2, "{run}");
    assert_eq!(run["delivery"]["mails_sent"], 1, "{run}");
    let mails = inbox.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail.rcpt_to.contains(&"eic@example.org".to_string()),
        "{:?}",
        mail.rcpt_to
    );
    assert!(
        mail.rcpt_to.contains(&"eic.leader@example.org".to_string()),
        "level 2 adds the leader"
    );
    assert!(!mail.rcpt_to.contains(&"office@example.org".to_string()));
    let subject = mail.subject();
    assert!(
        subject.contains("山西省经济和信息化委员会") && subject.contains("2 项"),
        "{subject}"
    );
    let text = mail.text();
    assert!(
        text.contains("潞安集团180万吨/年煤基液体产品")
            && text.contains("阳煤集团年产40万吨煤制乙二醇"),
        "{text}"
    );
    assert!(
        text.find("潞安").unwrap() < text.find("阳煤").unwrap(),
        "highest level first"
    );
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let message_id = mail.header("Message-ID").unwrap();

    // The same run again decides and sends nothing.
    let again = app.scan().await;
    assert_eq!(
        (
            again["decided"].as_u64(),
            again["delivery"]["mails_sent"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(count(&inbox), 1);

    let notices = app.get("/api/v1/notifications", &department("SXEIC")).await;
    let list = notices.body["items"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|n| n["status"] == "sent" && n["message_id"] == message_id.as_str())
    );
    let other = app.get("/api/v1/notifications", &department("SXDRC")).await;
    assert_eq!(
        other.body["items"],
        json!([]),
        "a department sees its own notices only"
    );
}

#[tokio::test]
async fn the_repeat_cadence_counts_working_days_across_the_national_day_holiday() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    // Due Friday 2018-09-28. 09-29 and 09-30 were make-up working days, 10-01 … 10-07 off.
    project_with(&app, "晋煤集团200万吨/年煤基合成油", &["2018-09-28"]).await;
    let mut sent = Vec::new();
    for (day, mails) in [
        ("2018-09-29T02:00:00Z", 1), // working day 1: the first notice
        ("2018-10-05T02:00:00Z", 1), // a holiday: nothing new (and nothing sent on it)
        ("2018-10-10T02:00:00Z", 1), // working day 5: still the first step
        ("2018-10-11T02:00:00Z", 2), // working day 6: the first repeat, at level 2
    ] {
        app.set_now(day);
        app.scan().await;
        assert_eq!(count(&inbox), mails, "after the run of {day}");
    }
    let notices = app.get("/api/v1/notifications", &office()).await;
    for n in notices.body["items"].as_array().unwrap() {
        sent.push(
            n["dedup_key"]
                .as_str()
                .unwrap()
                .rsplit_once("/overdue/")
                .unwrap()
                .1
                .to_string(),
        );
    }
    sent.sort();
    assert_eq!(sent, ["L1/R0", "L2/R1"]);
}

#[tokio::test]
async fn a_long_overdue_milestone_escalates_to_the_leading_group_office() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    project_with(&app, "襄矿集团20万吨煤制乙二醇", &["2018-05-31"]).await;
    // Monday 2018-06-25: 16 working days late (端午, 06-18, is off).
    app.set_now("2018-06-25T02:00:00Z");
    app.scan().await;
    let mails = inbox.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    for who in [
        "eic@example.org",
        "eic.leader@example.org",
        "office@example.org",
    ] {
        assert!(
            mails[0].rcpt_to.contains(&who.to_string()),
            "{who} in {:?}",
            mails[0].rcpt_to
        );
    }
    assert!(
        mails[0].subject().contains("三级"),
        "{}",
        mails[0].subject()
    );
}

#[tokio::test]
async fn a_milestone_completed_on_its_due_date_gets_no_overdue_notice() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    let (p, ms) = project_with(&app, "中海油-同煤40亿立方米/年煤制天然气", &["2018-04-27"]).await;
    app.set_now("2018-04-27T15:30:00Z"); // 23:30 on the due date, Beijing
    app.sign_for(&p, "SXEIC").await;
    let r = app
        .post(
            &format!("/api/v1/projects/{p}/milestones/{}/completion", ms[0]),
            &department("SXEIC"),
            json!({ "narrative": "一期投产" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for day in ["2018-05-02T02:00:00Z", "2018-06-15T02:00:00Z"] {
        app.set_now(day);
        let run = app.scan().await;
        assert_eq!(run["decided"], 0, "{run}");
    }
    assert_eq!(count(&inbox), 0);
}

#[tokio::test]
async fn notices_wait_out_an_smtp_outage_and_are_delivered_exactly_once() {
    let port = smtp_sink::free_port();
    let app = app_mailing_to(port).await;
    project_with(&app, "晋能集团40亿立方米天然气", &["2018-06-20"]).await;
    app.set_now("2018-06-25T02:00:00Z");
    let down = app.scan().await;
    assert_eq!(
        (
            down["decided"].as_u64(),
            down["delivery"]["notices_failed"].as_u64()
        ),
        (Some(1), Some(1)),
        "{down}"
    );
    let outbox = app.get("/api/v1/admin/outbox", &admin()).await;
    assert_eq!(outbox.body[0]["status"], "retrying", "{}", outbox.body);
    assert_eq!(outbox.body[0]["failures"], 1);

    // The server comes up; a minute later the retry is due.
    let inbox = smtp_sink::serve_on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
    app.set_now("2018-06-25T02:01:00Z");
    let up = app.scan().await;
    assert_eq!(up["delivery"]["notices_sent"], 1, "{up}");
    app.set_now("2018-06-25T03:00:00Z");
    app.scan().await;
    assert_eq!(count(&inbox), 1, "delivered exactly once");
    let outbox = app.get("/api/v1/admin/outbox", &admin()).await;
    assert_eq!(outbox.body, json!([]));
}

#[tokio::test]
async fn a_notice_undeliverable_past_the_retry_deadline_becomes_a_dead_letter() {
    let app = app_mailing_to(smtp_sink::free_port()).await;
    project_with(&app, "大同通用航空产业园", &["2018-06-20"]).await;
    for day in [
        "2018-06-25T02:00:00Z",
        "2018-06-26T03:00:00Z",
        "2018-06-26T04:30:00Z",
    ] {
        app.set_now(day);
        app.scan().await;
    }
    let outbox = app.get("/api/v1/admin/outbox", &admin()).await;
    assert_eq!(outbox.body[0]["status"], "dead", "{}", outbox.body);
    assert!(
        outbox.body[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("deadline")
    );
    let refused = app.get("/api/v1/admin/outbox", &office()).await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn quiet_hours_defer_sending_to_the_next_working_morning() {
    let (port, inbox) = smtp_sink::start();
    let app = app_mailing_to(port).await;
    project_with(&app, "太原经济开发区地热供暖", &["2018-06-20"]).await;
    app.set_now("2018-06-22T13:00:00Z"); // Friday 21:00 in Beijing
    let evening = app.scan().await;
    assert_eq!(evening["decided"], 1);
    assert_eq!(evening["delivery"]["deferred"], 1, "{evening}");
    assert_eq!(
        evening["delivery"]["next_attempt"], "2018-06-25T00:00:00Z",
        "Monday 08:00"
    );
    assert_eq!(count(&inbox), 0);
    app.set_now("2018-06-25T01:00:00Z"); // Monday 09:00
    app.scan().await;
    assert_eq!(count(&inbox), 1);
}
