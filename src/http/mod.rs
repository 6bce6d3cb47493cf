//! The HTTP API (actix only; no business rules): the office, the departments and the
//! inspectors reach duban here. Requests are authenticated ([`auth`]), turned into commands
//! ([`commands`]) for the dispatcher, or answered from the log and the read models ([`queries`], [`reads`]); errors leave as
//! problem+json ([`problem`]).

pub mod auth;
pub mod auth_extract;
pub mod commands;
pub mod notices;
pub mod openapi;
pub mod ops;
pub mod problem;
pub mod queries;
pub mod reads;

use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::error::JsonPayloadError;
use actix_web::{App, HttpResponse, web};

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
        let query = web::QueryConfig::default().error_handler(|err, _| {
            ApiError::unprocessable("invalid-query", err.to_string()).into()
        });
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
            .default_service(web::to(|| async {
                ApiError::not_found("no such route").error_response_owned()
            }));
    }
}

impl ApiError {
    fn error_response_owned(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
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

/// Builds the app with request metrics and a tracing span per request.
pub fn app(
    state: web::Data<AppState>,
    body_limit: usize,
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
        .wrap_fn(move |req, srv| {
            let started = Instant::now();
            let method = req.method().to_string();
            let metrics_state = metrics_state.clone();
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".into());
                metrics_state.requests.observe(
                    &method,
                    &route,
                    res.status().as_u16(),
                    started.elapsed(),
                );
                Ok(res)
            }
        })
        .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
        .configure(configure(state, body_limit))
}
