//! A story step as the HTTP request a client of the service sends — the command endpoint and
//! its JSON body — and the line that tells what it did.

use serde_json::{Value, json};

use super::ids::{PlanIndex, PlannedProject, story_id};
use super::story::{Act, Finding, Step};

/// A command over HTTP: `POST path` with `body`.
pub struct Request {
    pub path: String,
    pub body: Value,
    /// What it does, e.g. `claims 「开工建设」 complete (办结申请)`.
    pub what: String,
}

/// The request a step sends; `day` is the step's date (an inspection's date).
pub fn request(step: &Step, plan: &PlanIndex, day: &str) -> anyhow::Result<Request> {
    let p = plan.project(step.project)?;
    let base = format!("/api/v1/projects/{}", p.id.0);
    let to = |path: &str, body: Value, what: String| Request {
        path: format!("{base}{path}"),
        body,
        what,
    };
    Ok(match &step.act {
        Act::Sign => to(
            "/assignment/sign",
            json!({}),
            "signs for the assignment (签收)".into(),
        ),
        Act::Inspect { summary, findings } => inspect(p, day, summary, findings)?.under(&base),
        Act::OrderRectification {
            key,
            finding,
            department,
            deadline,
            instructions,
        } => {
            let body = json!({
                "rectification_id": story_id("rectification", key),
                "finding_id": story_id("finding", finding),
                "department": department,
                "deadline": deadline,
                "instructions": instructions,
            });
            let what = format!("orders {department} to rectify by {deadline}: {instructions}");
            to("/rectifications", body, what)
        }
        Act::ReportRectification { key, narrative } => to(
            &format!("/rectifications/{}/report", story_id("rectification", key)),
            json!({ "narrative": narrative, "evidence": [] }),
            format!("reports the rectification done: {narrative}"),
        ),
        Act::VerifyRectification { key } => to(
            &format!(
                "/rectifications/{}/verification",
                story_id("rectification", key)
            ),
            json!({ "decision": "verify" }),
            "verifies the rectification".into(),
        ),
        Act::Assess {
            period,
            grade,
            breakdown,
        } => assess(period, grade, breakdown).under(&base),
        Act::RateConfidence {
            rating,
            assessor,
            comment,
        } => to(
            "/confidence",
            json!({ "rating": rating, "assessor": assessor, "comment": comment }),
            format!("rates delivery confidence {rating} ({assessor}): {comment}"),
        ),
        milestone_act => on_milestone(p, milestone_act)?.under(&base),
    })
}

impl Request {
    fn under(mut self, base: &str) -> Self {
        self.path = format!("{base}{}", self.path);
        self
    }
}

/// The acts on one milestone: report, claim, review, extension.
fn on_milestone(p: &PlannedProject, act: &Act) -> anyhow::Result<Request> {
    let key = match act {
        Act::Report { milestone, .. }
        | Act::Claim { milestone, .. }
        | Act::Accept { milestone }
        | Act::Return { milestone, .. }
        | Act::RequestExtension { milestone, .. }
        | Act::DecideExtension { milestone, .. } => milestone,
        _ => unreachable!("the other acts are not on a milestone"),
    };
    let (id, title) = p.milestone(key)?;
    let (path, body, what) = match act {
        Act::Report {
            percent,
            narrative,
            actual,
            ..
        } => {
            let actuals = match actual {
                Some((target, value)) => {
                    vec![json!({ "target_id": p.target(target)?, "value": value })]
                }
                None => Vec::new(),
            };
            let body = json!({ "percent": percent, "narrative": narrative, "actuals": actuals });
            let what = format!("reports {percent}% on 「{title}」: {narrative}");
            ("progress", body, what)
        }
        Act::Claim { narrative, .. } => {
            let body = json!({ "narrative": narrative, "evidence": [] });
            let what = format!("claims 「{title}」 complete (办结申请)");
            ("completion", body, what)
        }
        Act::Accept { .. } => {
            let body = json!({ "decision": "accept" });
            ("review", body, format!("accepts the claim on 「{title}」"))
        }
        Act::Return { reason, .. } => {
            let body = json!({ "decision": "return", "reason": reason });
            let what = format!("returns the claim on 「{title}」 (退办重办): {reason}");
            ("review", body, what)
        }
        Act::RequestExtension { to, reason, .. } => {
            let body = json!({ "new_due_date": to, "reason": reason });
            let what = format!("asks to extend 「{title}」 to {to}: {reason}");
            ("extension", body, what)
        }
        Act::DecideExtension {
            approve, reason, ..
        } => {
            let body = json!({ "approve": approve, "reason": reason });
            let verb = if *approve { "approves" } else { "refuses" };
            let what = format!("{verb} the extension of 「{title}」: {reason}");
            ("extension/decision", body, what)
        }
        _ => unreachable!("matched above"),
    };
    Ok(Request {
        path: format!("/milestones/{}/{path}", id.0),
        body,
        what,
    })
}

fn inspect(
    p: &PlannedProject,
    day: &str,
    summary: &str,
    findings: &[Finding],
) -> anyhow::Result<Request> {
    let mut listed = Vec::new();
    for f in findings {
        let milestone = match f.milestone {
            Some(key) => Some(p.milestone(key)?.0),
            None => None,
        };
        listed.push(json!({
            "finding_id": story_id("finding", f.key),
            "severity": f.severity,
            "description": f.description,
            "milestone_id": milestone,
        }));
    }
    let severities: Vec<&str> = findings.iter().map(|f| f.severity).collect();
    Ok(Request {
        path: "/inspections".into(),
        body: json!({
            "inspected_on": day, "on_site": true, "summary": summary, "findings": listed,
        }),
        what: format!(
            "records an on-site inspection with {} findings ({}): {summary}",
            findings.len(),
            severities.join(", ")
        ),
    })
}

fn assess(period: &str, grade: &str, breakdown: &[(&str, f64)]) -> Request {
    let items: Vec<Value> = breakdown
        .iter()
        .map(|(item, points)| json!({ "item": item, "points": points }))
        .collect();
    let score: f64 = breakdown.iter().map(|(_, points)| points).sum();
    Request {
        path: "/assessments".into(),
        body: json!({
            "period": period, "rubric_version": "2017.1", "breakdown": items, "grade": grade,
        }),
        what: format!("records the {period} assessment: {score} points, {grade}"),
    }
}
