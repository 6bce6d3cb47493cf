//! A project's status as it was at a past moment (`?as_of=`): its stream read from the log up
//! to that moment, folded the same way the projector folds it, with lights and lateness
//! computed for that day under the thresholds then in force. The log is the only place past
//! states live, so this one query reads it rather than the read models.

use chrono::{DateTime, Utc};

use super::models::ProjectionError;
use super::record::{Position, ProjectRecord};
use crate::command::stream_of;
use crate::domain::{self, ProjectId};
use crate::store::EventStore;

/// The project's record as of `at`: every event recorded at or before it. `None` if it was
/// not registered yet.
pub async fn record_as_of<S: EventStore>(
    store: &S,
    project: ProjectId,
    at: DateTime<Utc>,
) -> Result<Option<ProjectRecord>, ProjectionError> {
    let mut record = ProjectRecord::new(project);
    for recorded in store.read_stream(&stream_of(project), 1).await? {
        let e = &recorded.envelope;
        if e.recorded_at > at {
            break;
        }
        let event = domain::decode_str(&e.event_type, e.schema_version, e.payload.as_str())
            .map_err(|why| ProjectionError::Corrupt(format!("seq {}: {why}", e.seq)))?;
        let position = Position {
            seq: e.seq,
            version: e.version,
            recorded_at: e.recorded_at,
        };
        record.apply(position, &event);
    }
    Ok(record.state.is_registered().then_some(record))
}
