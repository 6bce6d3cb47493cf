//! The HTTP API (actix only; no business rules): the office, the departments and the
//! inspectors reach duban here. Requests are authenticated ([`auth`]), turned into commands
//! ([`commands`]) for the dispatcher, or answered from the log and the read models ([`queries`],
//! [`reads`]), their query strings read by [`params`] and [`freshness`], who sees what mapped from
//! [`crate::access`] by [`access`]; errors leave as problem+json ([`problem`]). Before any of that,
//! a body is read under a deadline ([`deadline`]), and a request no route takes is answered 405
//! or 404 ([`methods`]).

pub mod access;
pub mod app;
pub mod auth;
pub mod auth_extract;
pub mod blocking;
pub mod commands;
pub mod deadline;
pub mod freshness;
pub mod input_errors;
pub mod methods;
pub mod notices;
pub mod openapi;
pub mod ops;
pub mod params;
pub mod problem;
pub mod queries;
pub mod reads;
pub mod request_id;
pub mod state;

pub use app::{RequestSpan, app, configure};
pub use state::AppState;
