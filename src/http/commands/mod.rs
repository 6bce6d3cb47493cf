//! One resource-style endpoint per command of the loop, cut by stage: each handler parses its
//! body into a domain [`Command`](crate::domain::Command) and hands it to the
//! [`Dispatcher`](crate::command::Dispatcher) through [`submit`]; no rule lives here.

pub mod assess;
pub mod implement;
pub mod improve;
pub mod inspect;
pub mod plan;
pub mod routes;
pub mod submit;
pub mod wire;
