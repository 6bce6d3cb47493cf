//! The request id — tracing-actix-web's, carried by every request's span ([`RequestSpan`]) —
//! made reachable where an error becomes problem+json, which has no request at hand: a
//! middleware just inside the tracing logger runs each request in a task-local holding it.
//! A problem then names the request id, and the log line about the internal error carries
//! the same id, so an operator finds one from the other.
//!
//! [`RequestSpan`]: super::RequestSpan

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing_actix_web::RequestId;

tokio::task_local! {
    static CURRENT: Option<String>;
}

/// The id of the request being answered, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

/// Runs the rest of the request with its id at hand (see [`current`]).
pub async fn scope(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().map(ToString::to_string);
    CURRENT.scope(id, next.call(req)).await
}
