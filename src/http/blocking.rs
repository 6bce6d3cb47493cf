//! Reads of the read models (sled) from a handler run on the blocking pool: a page that is not
//! in memory makes sled read the disk, and that must stall one blocking thread, not an async
//! worker with every request queued behind it.

use actix_web::web;

use super::AppState;
use super::problem::ApiError;

/// Runs `read` on the blocking pool with the application's state.
pub async fn read_models<T, F>(state: &web::Data<AppState>, read: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
{
    let state = state.clone();
    web::block(move || read(&state))
        .await
        .map_err(|e| ApiError::internal(format!("a read of the read models did not finish: {e}")))?
}
