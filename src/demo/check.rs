//! After the story: the lights, read back through the API as the office reads them. The
//! story promises one green, one yellow and one red project; the check says which came out
//! where and why, and whether the promise holds.

use serde_json::Value;

use super::client::Client;
use super::ids::PlanIndex;
use super::story::{GREEN, RED, Who, YELLOW};

/// One of the story's projects, as the service shows it.
pub struct Lit {
    pub key: &'static str,
    pub name: String,
    pub project_id: String,
    pub expected: &'static str,
    pub colour: String,
    /// Why, in words, from the rules that fired.
    pub why: Vec<String>,
}

/// The story's lights and the province's counts.
pub struct Lights {
    pub day: String,
    pub policy_version: String,
    pub projects: Vec<Lit>,
    /// The summary's totals: projects, green, yellow, red.
    pub total: [u64; 4],
    pub overdue_milestones: u64,
}

impl Lights {
    /// The story's projects whose colour is not the one the story gives them.
    pub fn mismatches(&self) -> Vec<String> {
        self.projects
            .iter()
            .filter(|l| l.colour != l.expected)
            .map(|l| format!("{} is {}, not {}", l.name, l.colour, l.expected))
            .collect()
    }

    pub fn print(&self) {
        println!(
            "\nlights as of {} (policies/lights.toml version {}):",
            self.day, self.policy_version
        );
        for l in &self.projects {
            let why = if l.why.is_empty() {
                String::new()
            } else {
                format!(" — {}", l.why.join("; "))
            };
            println!("  {:<7} {}{why}", l.colour, l.name);
        }
        let [projects, green, yellow, red] = self.total;
        println!(
            "  province: {projects} projects — {green} green, {yellow} yellow, {red} red; \
             {} milestones overdue (the projects without a history have their 2016–2017 \
             milestones open)",
            self.overdue_milestones
        );
    }
}

/// Reads the lights of the story's projects, the summary and the overdue count.
pub async fn lights(client: &Client, plan: &PlanIndex) -> anyhow::Result<Lights> {
    let mut projects = Vec::new();
    let mut day = String::new();
    let mut policy_version = String::new();
    for (key, expected) in [(GREEN, "green"), (YELLOW, "yellow"), (RED, "red")] {
        let p = plan.project(key)?;
        let status = client
            .get(Who::Office, &format!("/api/v1/projects/{}", p.id.0))
            .await?;
        let light = &status["light"];
        day = text(&light["day"]);
        policy_version = text(&light["policy_version"]);
        projects.push(Lit {
            key,
            name: p.name.clone(),
            project_id: p.id.0.to_string(),
            expected,
            colour: text(&light["colour"]),
            why: reasons(light),
        });
    }
    let summary = client.get(Who::Office, "/api/v1/summary").await?;
    let count = |field: &str| summary["total"][field].as_u64().unwrap_or(0);
    let overdue = client
        .get(Who::Office, "/api/v1/overdue?per_page=1")
        .await?;
    Ok(Lights {
        day,
        policy_version,
        projects,
        total: [
            count("projects"),
            count("green"),
            count("yellow"),
            count("red"),
        ],
        overdue_milestones: overdue["total"].as_u64().unwrap_or(0),
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The rules that fired, in words.
fn reasons(light: &Value) -> Vec<String> {
    let m = &light["measures"];
    let rules = light["reasons"].as_array().cloned().unwrap_or_default();
    rules
        .iter()
        .map(|rule| match rule["measure"].as_str() {
            Some("working_days_late") => format!(
                "{} working days late",
                m["working_days_late"].as_i64().unwrap_or(0)
            ),
            Some("points_behind") => format!(
                "{} points behind the progress expected to date (序时进度)",
                m["points_behind"].as_f64().unwrap_or(0.0)
            ),
            Some("overdue_high_findings") => format!(
                "{} high-severity finding past its rectification deadline",
                m["overdue_high_findings"].as_u64().unwrap_or(0)
            ),
            other => format!("rule {other:?}"),
        })
        .collect()
}
