//! What a digest holds — one department's notices of one notifier run, as one mail — and
//! the ids derived from it: the `Message-ID` depends only on the digest's run key, so a re-sent
//! digest is recognisably the same mail, and every mail about a milestone refers to one
//! per-milestone id, so mail clients thread them.

use chrono::{DateTime, NaiveDate, Utc};
use lettre::Message;
use serde::{Deserialize, Serialize};

use crate::domain::{DepartmentCode, MilestoneId, NoticeKind, ProjectId};

/// One department's notices of one run, as one mail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub department_code: DepartmentCode,
    pub department_name: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The highest escalation level among the items.
    pub level: u8,
    pub items: Vec<DigestItem>,
    /// Identifies this digest (see [`run_key`]): the mail's `Message-ID` is derived from it.
    pub run_key: String,
}

/// One milestone's notice within a digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigestItem {
    pub dedup_key: String,
    pub project_id: ProjectId,
    pub project_name: String,
    pub milestone_id: MilestoneId,
    pub milestone_title: String,
    pub due_date: NaiveDate,
    pub kind: NoticeKind,
    /// 0 for a milestone not yet due.
    pub working_days_overdue: i64,
    /// Working days until the due date, for a milestone not yet due (0: due today).
    pub working_days_left: Option<i64>,
    /// 1: the responsible department; 2: with its leader; 3: with the leading-group office.
    pub level: u8,
    /// 0 for the first notice at this level, then 1, 2, … for each reminder.
    pub repeat: u32,
}

impl Digest {
    /// The items in the order a reader should act on them: highest level first, then the most
    /// overdue, then the fewest working days left, then the earliest due date.
    pub fn ordered_items(&self) -> Vec<&DigestItem> {
        let mut items: Vec<&DigestItem> = self.items.iter().collect();
        items.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(b.working_days_overdue.cmp(&a.working_days_overdue))
                .then(
                    a.working_days_left
                        .unwrap_or(i64::MAX)
                        .cmp(&b.working_days_left.unwrap_or(i64::MAX)),
                )
                .then(a.due_date.cmp(&b.due_date))
                .then(a.dedup_key.cmp(&b.dedup_key))
        });
        items
    }

    /// The distinct milestones of the digest, in [`ordered_items`](Self::ordered_items) order.
    pub fn milestones(&self) -> Vec<MilestoneId> {
        let mut seen = Vec::new();
        for item in self.ordered_items() {
            if !seen.contains(&item.milestone_id) {
                seen.push(item.milestone_id);
            }
        }
        seen
    }
}

/// A digest's run key from the dedup keys of its notices: the same notices give the same key,
/// whatever their order.
pub fn run_key<I, S>(dedup_keys: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut keys: Vec<String> = dedup_keys
        .into_iter()
        .map(|k| k.as_ref().to_string())
        .collect();
    keys.sort();
    keys.dedup();
    keys.join(" ")
}

/// What rendering needs besides the digest: the sender, the address users reach the service
/// at (for links and message ids) and the time of the run (the `Date` header).
#[derive(Clone, Debug)]
pub struct MailContext {
    /// `督办 <duban@example.org>` or a bare address.
    pub from: String,
    pub public_url: String,
    pub now: DateTime<Utc>,
}

/// `duban.` and the host of the public URL (`duban.localhost` if it has none usable).
fn id_domain(public_url: &str) -> String {
    let host = match url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        _ => "localhost".into(),
    };
    format!("duban.{host}")
}

/// The `Message-ID` of the digest with this run key: `<32 hex digits@duban.HOST>`.
pub fn message_id(run_key: &str, public_url: &str) -> String {
    let hash = blake3::hash(run_key.as_bytes()).to_hex();
    format!("<{}@{}>", &hash[..32], id_domain(public_url))
}

/// The stable id every mail about one milestone refers to, so that mail clients thread them.
pub fn milestone_thread_id(milestone_id: MilestoneId, public_url: &str) -> String {
    format!("<milestone-{milestone_id}@{}>", id_domain(public_url))
}

/// The `Message-ID` a message carries, as written in its header.
pub fn message_id_of(message: &Message) -> Option<String> {
    message
        .headers()
        .get_raw("Message-ID")
        .map(|id| id.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_the_run_key_and_the_public_host_only() {
        let a = message_id("m1:1:0 m2:2:0", "https://duban.gov.example/x");
        assert_eq!(
            a,
            message_id("m1:1:0 m2:2:0", "https://DUBAN.gov.example:8443/")
        );
        assert!(a.starts_with('<') && a.ends_with("@duban.duban.gov.example>"));
        assert_eq!(a.len(), 1 + 32 + "@duban.duban.gov.example>".len());
        assert!(message_id("k", "http://[::1]:8080").ends_with("@duban.localhost>"));
        assert!(message_id("k", "not a url").ends_with("@duban.localhost>"));
        assert!(message_id("k", "http://127.0.0.1:8080").ends_with("@duban.127.0.0.1>"));
        assert_eq!(run_key(["b", "a", "b"]), run_key(vec!["a", "b"]));
    }
}
