//! Reading one's own writes: a command answers with the log `position` its events reached,
//! and a read given `min_position` waits (briefly) until the read models reflect it. A
//! position the log has not reached is refused at once: no wait would ever reach it.

use std::time::Duration;

use actix_web::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::problem::ApiError;
use crate::store::EventStore;

/// How long a read waits for the read models to reach `min_position`.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The query of a read that takes nothing but `min_position`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    /// Wait (briefly) until the read models reflect this global position — the `position` a
    /// command answered with. Beyond the log's head: 422 `position-beyond-head`.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

/// Waits until the read models reflect `min_position`: 422 at once if the log has not
/// reached it, 503 (with `Retry-After`) if the read models do not in time.
pub async fn caught_up(state: &AppState, min_position: Option<u64>) -> Result<(), ApiError> {
    let Some(wanted) = min_position else {
        return Ok(());
    };
    let head = state.dispatcher.store.head().seq;
    if wanted > head {
        return Err(ApiError::unprocessable(
            "position-beyond-head",
            format!(
                "min_position {wanted} is beyond the log's head ({head}): no command has \
                 answered with it, so no wait would reach it"
            ),
        ));
    }
    if state.models.wait_for(wanted, PATIENCE).await {
        return Ok(());
    }
    let mut e = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "projection-behind",
        "The read models have not caught up",
        format!(
            "the read models reflect position {}, not yet {wanted}; try again shortly",
            state.models.position()
        ),
    );
    e.retry_after = Some(1);
    Err(e)
}

/// Waits (briefly) until the read models reflect everything durable now: for an answer
/// that must not depend on the models lagging the log by a moment.
pub async fn up_to_head(state: &AppState) {
    let head = state.dispatcher.store.head().seq;
    if state.models.position() < head {
        state.models.wait_for(head, PATIENCE).await;
    }
}
