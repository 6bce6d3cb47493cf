//! Upcasting: reading events stored under an older schema version as the current one. The
//! log is never rewritten; old payloads are translated as they are read.
//!
//! History:
//! - `ProgressReported` v1 → v2: `note` was renamed `narrative`, and `evidence` (references to
//!   supporting documents) was added, empty for old reports.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::events::{CATALOGUE, Event, IndicatorActual};
use super::values::{DepartmentCode, MilestoneId};

/// `ProgressReported` as schema version 1 stored it (kept for its schema and for tests).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressReportedV1 {
    pub milestone_id: MilestoneId,
    pub department: DepartmentCode,
    pub reported_at: DateTime<Utc>,
    pub percent: u8,
    pub note: String,
    pub actuals: Vec<IndicatorActual>,
}

/// Every older (type, version) the reader still understands.
pub const LEGACY: &[(&str, u32)] = &[("ProgressReported", 1)];

/// The JSON Schema of an older version.
pub fn legacy_schema_of(event_type: &str, version: u32) -> Option<schemars::Schema> {
    match (event_type, version) {
        ("ProgressReported", 1) => Some(schemars::schema_for!(ProgressReportedV1)),
        _ => None,
    }
}

/// Brings a payload of any known version up to the current one.
pub fn upcast(event_type: &str, version: u32, payload: Value) -> Result<Value, String> {
    let current = CATALOGUE
        .iter()
        .find(|(t, _)| *t == event_type)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("unknown event type {event_type:?}"))?;
    let mut payload = payload;
    let mut at = version;
    while at < current {
        payload = step(event_type, at, payload)?;
        at += 1;
    }
    if at != current {
        return Err(format!(
            "{event_type} v{version} is newer than this build understands (v{current})"
        ));
    }
    Ok(payload)
}

/// One version step.
fn step(event_type: &str, from: u32, payload: Value) -> Result<Value, String> {
    match (event_type, from) {
        ("ProgressReported", 1) => {
            let Value::Object(mut fields) = payload else {
                return Err("ProgressReported v1 payload is not an object".into());
            };
            let note = fields
                .remove("note")
                .unwrap_or(Value::String(String::new()));
            fields.insert("narrative".into(), note);
            fields.insert("evidence".into(), Value::Array(vec![]));
            Ok(Value::Object(fields))
        }
        _ => Err(format!("no upcaster from {event_type} v{from}")),
    }
}

/// Reads a stored event: upcast to the current version, then decoded.
pub fn decode(event_type: &str, version: u32, payload: Value) -> Result<Event, String> {
    Event::from_payload(event_type, upcast(event_type, version, payload)?)
}

/// Reads a stored event from its JSON text: straight into the current type when it is of the
/// current version, through [`upcast`] otherwise.
pub fn decode_str(event_type: &str, version: u32, payload: &str) -> Result<Event, String> {
    let current = CATALOGUE
        .iter()
        .find(|(t, _)| *t == event_type)
        .map(|(_, v)| *v);
    if current == Some(version) {
        return Event::from_payload_str(event_type, payload);
    }
    let value: Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    decode(event_type, version, value)
}
