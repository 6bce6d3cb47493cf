//! The HTTP API (actix only; no business rules): the office, the departments and the
//! inspectors reach duban here. Requests are authenticated ([`auth`]), turned into commands
//! ([`commands`]) for the dispatcher, or answered from the log and the read models ([`queries`],
//! [`reads`]), their query strings read by [`params`] and [`freshness`], who sees what mapped from
//! [`crate::access`] by [`access`]; errors leave as problem+json ([`problem`]). Before any of that,
//! a body is read under a deadline ([`deadline`]), and a request no route takes is answered 405
//! or 404 ([`methods`]).

pub mod access;
pub mod auth;
pub mod auth_extract;
pub mod blocking;
pub mod commands;
pub mod deadline;
pub mod freshness;
pub mod methods;
pub mod notices;
pub mod openapi;
pub mod ops;
pub mod params;
pub mod problem;
pub mod queries;
pub mod reads;
pub mod request_id;

use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::{App, web};

use crate::command::Dispatcher;
use crate::domain::{Percent, Text, TextError};
use crate::notify::Notifier;
use crate::policy::Policies;
use crate::projection::{Projector, ReadModels};
use crate::store::{Clock, SledStore};
use problem::ApiError;

/// What every handler shares.
pub struct AppState {
    pub dispatcher: Dispatcher<SledStore>,
    pub models: Arc<ReadModels>,
    pub projector: Projector,
    pub notifier: Notifier,
    pub policies: Arc<Policies>,
    pub verifier: auth::Verifier,
    pub clock: Clock,
    pub requests: ops::RequestMetrics,
}

/// Bad bodies: 413 over the limit, 400 when not JSON or with unknown fields, 422 for values
/// that do not parse (a date, a department code, a percent beyond 100: `percent-out-of-range`
/// as before the type said it). Text that is blank
/// is `field-required`, text that breaks another rule `invalid-text`: serde hands over only
/// the message, so the fixed phrase each [`TextError`] message starts with tells them apart.
fn json_error(err: JsonPayloadError) -> ApiError {
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
fn query_error(err: QueryPayloadError) -> ApiError {
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
    } else if message.starts_with(TextError::BLANK) {
        "field-required"
    } else if TextError::INVALID.iter().any(|p| message.starts_with(p)) {
        "invalid-text"
    } else {
        "invalid-value"
    }
}

/// Parses a text field a body may leave empty when it is not needed (a reason to accept a
/// claim), once the command needs it: refused as the JSON decoder refuses a text.
pub(crate) fn text_field<const MAX: usize>(
    field: &str,
    value: String,
) -> Result<Text<MAX>, ApiError> {
    Text::try_from(value).map_err(|e| {
        let message = e.to_string();
        ApiError::unprocessable(text_problem_type(&message), format!("{field}: {message}"))
    })
}

/// The whole application, for `HttpServer::new` and for tests.
pub fn configure(
    state: web::Data<AppState>,
    body_limit: usize,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let json = web::JsonConfig::default()
            .limit(body_limit)
            .content_type_required(false)
            .error_handler(|err, _| json_error(err).into());
        let query = web::QueryConfig::default().error_handler(|err, _| query_error(err).into());
        let path = web::PathConfig::default()
            .error_handler(|err, _| ApiError::not_found(err.to_string()).into());
        cfg.app_data(state)
            .app_data(json)
            .app_data(path)
            .app_data(query)
            // The API first: actix tries routes in order, and the docs' catch-all pattern is a
            // regex that every API request would otherwise be matched against.
            .service(
                // actix tries resources in order, matching each pattern with a parameter by
                // a regex: the reads come first, the command routes after them, the most
                // frequent command (a progress report) first among those.
                web::scope("/api/v1")
                    .configure(queries::routes)
                    .configure(reads::routes)
                    .configure(notices::routes)
                    .configure(commands::routes::routes),
            )
            .configure(ops::routes)
            .configure(openapi::routes)
            // No route took the request: 405 with `Allow` if its path exists, else 404.
            .default_service(web::to(methods::no_route));
    }
}

/// The span of every request: tracing-actix-web's (request id, method, route, status) plus
/// the caller and the command, filled in by the handlers.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        tracing_actix_web::root_span!(
            request,
            actor = tracing::field::Empty,
            command = tracing::field::Empty
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        if let Ok(res) = outcome {
            let status = res.status().as_u16();
            tracing::info!(parent: &span, status, "request done");
        }
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Builds the app with request metrics, a tracing span per request and a deadline on reading
/// each request's body.
pub fn app(
    state: web::Data<AppState>,
    body_limit: usize,
    body_timeout: std::time::Duration,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics_state = state.clone();
    App::new()
        .wrap_fn(move |req, srv| deadline::bounded(req, srv, body_timeout))
        .wrap_fn(move |req, srv| {
            let started = Instant::now();
            // A label per standard method and one for all others: clients choose the method.
            let method = methods::label(req.method());
            let metrics_state = metrics_state.clone();
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".into());
                metrics_state.requests.observe(
                    method,
                    &route,
                    res.status().as_u16(),
                    started.elapsed(),
                );
                Ok(res)
            }
        })
        .wrap(actix_web::middleware::from_fn(request_id::scope))
        .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
        .configure(configure(state, body_limit))
}
