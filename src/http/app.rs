//! The application: routes in the order actix should try them, the extractors' error
//! handlers, the request span and the metrics around every request.

use std::time::Instant;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, web};

use super::input_errors::{json_error, query_error};
use super::problem::ApiError;
use super::{
    AppState, commands, deadline, methods, notices, openapi, ops, queries, reads, request_id,
};

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
