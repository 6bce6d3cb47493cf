//! The `Caller` extractor: the verified actor behind a request's bearer token.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::AppState;
use super::problem::ApiError;
use crate::domain::Actor;

/// An authenticated caller. Extracting it fails with 401 problem+json.
pub struct Caller(pub Actor);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let mut headers = req
        .headers()
        .get_all(actix_web::http::header::AUTHORIZATION);
    let header = headers
        .next()
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
    // Two credentials are one too many: which one a proxy or the service would honour is
    // exactly the ambiguity an attacker looks for.
    if headers.next().is_some() {
        return Err(ApiError::invalid_token(
            "more than one Authorization header",
        ));
    }
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("unreadable Authorization header"))?;
    let token = bearer_token(value)
        .ok_or_else(|| ApiError::unauthorized("the Authorization scheme must be Bearer"))?;
    let actor = state
        .verifier
        .verify(token)
        .map_err(ApiError::invalid_token)?;
    tracing::Span::current().record("actor", actor.sub.as_str());
    Ok(Caller(actor))
}

/// The token of `Bearer <token>`. The scheme is matched case-insensitively, as every HTTP
/// authentication scheme is (RFC 9110 §11.1): `bearer xyz` is the same as `Bearer xyz`.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
