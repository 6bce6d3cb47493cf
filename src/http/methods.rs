//! HTTP methods at the edge: the label a request's method gets in the metrics, and the answer
//! to a request no route took. A client chooses its method freely (`FOO`, `XYZZY1`, …), so
//! neither may grow with what clients send: the metrics know the standard methods and one
//! `other`, and a path that exists answers 405 with `Allow` instead of 404.
//!
//! Which methods a path allows is read from the OpenAPI document (the contract every API
//! route is declared in) plus the operational routes outside it; a test checks that each
//! route it lists answers its method.

use std::sync::LazyLock;

use actix_web::dev::ResourceDef;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use utoipa::OpenApi;

use super::openapi::ApiDoc;
use super::problem::ApiError;

/// The methods of RFC 9110 §9 and PATCH (RFC 5789): a label each in the metrics.
const STANDARD: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
    Method::CONNECT,
    Method::TRACE,
];

/// The metrics label of a request's method: its name if standard, else `other`.
pub fn label(method: &Method) -> &'static str {
    STANDARD
        .iter()
        .find(|m| *m == method)
        .map_or("other", Method::as_str)
}

/// Routes served outside the OpenAPI document (operations and the document itself).
const OPERATIONAL: [&str; 6] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/{_:.*}",
];

/// Every route's pattern with the methods it answers.
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

static ROUTES: LazyLock<RouteTable> = LazyLock::new(RouteTable::build);

impl RouteTable {
    /// The routes, read once from the OpenAPI document.
    pub fn get() -> &'static RouteTable {
        &ROUTES
    }

    fn build() -> Self {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document is JSON");
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = OPERATIONAL
            .iter()
            .map(|path| (ResourceDef::new(*path), vec![Method::GET]))
            .collect();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let methods = STANDARD
                .iter()
                .filter(|m| item.get(m.as_str().to_ascii_lowercase()).is_some())
                .cloned()
                .collect();
            routes.push((ResourceDef::new(path.as_str()), methods));
        }
        Self { routes }
    }

    /// Each route's pattern and methods, in no particular order.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &[Method])> {
        self.routes
            .iter()
            .filter_map(|(def, methods)| Some((def.pattern()?, methods.as_slice())))
    }

    /// The methods some route answers on this path, in the order of [`STANDARD`]; empty when
    /// no route has the path.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        STANDARD
            .iter()
            .filter(|m| {
                self.routes
                    .iter()
                    .any(|(def, methods)| methods.contains(m) && def.is_match(path))
            })
            .cloned()
            .collect()
    }
}

/// The answer when no route took the request: 405 with `Allow` when the path exists with
/// other methods, 404 when it does not.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    let allowed = RouteTable::get().allowed(req.path());
    if allowed.is_empty() || allowed.contains(req.method()) {
        return ApiError::not_found("no such route").error_response();
    }
    let list = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    // The method as sent, but quoted and cut short: it is the client's choice of bytes.
    let sent: String = req.method().as_str().chars().take(32).collect();
    let detail = format!(
        "{sent:?} is not a method of {}; it allows {list}",
        req.path()
    );
    let allow = HeaderValue::from_str(&list).expect("method names are header-safe");
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        detail,
    )
    .with_header(ALLOW, allow)
    .error_response()
}
