//! Refused input before any handler runs: a body or a query string that does not parse
//! becomes problem+json with the type the value's rule names.

use actix_web::error::{JsonPayloadError, QueryPayloadError};

use super::problem::ApiError;
use crate::domain::{Percent, TextError};

/// Bad bodies: 413 over the limit, 400 when not JSON or with unknown fields, 422 for values
/// that do not parse (a date, a department code, a percent beyond 100: `percent-out-of-range`
/// as before the type said it). Text that is blank
/// is `field-required`, text that breaks another rule `invalid-text`: serde hands over only
/// the message, so the fixed phrase each [`TextError`] message starts with tells them apart.
pub fn json_error(err: JsonPayloadError) -> ApiError {
    match &err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
                err.to_string(),
            )
        }
        JsonPayloadError::Deserialize(e)
            if e.is_data() && !e.to_string().contains("unknown field") =>
        {
            let message = e.to_string();
            ApiError::unprocessable(text_problem_type(&message), message)
        }
        _ => ApiError::bad_request(err.to_string()),
    }
}

/// Bad query strings: 400 for a parameter the endpoint does not take (each read's query
/// struct denies unknown fields, see [`params`]), 422 for a value that does not parse.
pub fn query_error(err: QueryPayloadError) -> ApiError {
    let why = err.to_string();
    match why.split_once("unknown field ") {
        Some((_, rest)) => ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "unknown-query-parameter",
            "Unknown query parameter",
            format!("this endpoint takes no query parameter {rest}"),
        ),
        None => ApiError::unprocessable("invalid-query", why),
    }
}

/// The problem type of a refused value, by the message it was refused with.
fn text_problem_type(message: &str) -> &'static str {
    if message.starts_with(Percent::REFUSED) {
        "percent-out-of-range"
    } else if message.starts_with(TextError::BLANK) || message.starts_with("missing field") {
        "field-required"
    } else if TextError::INVALID.iter().any(|p| message.starts_with(p)) {
        "invalid-text"
    } else {
        "invalid-value"
    }
}
