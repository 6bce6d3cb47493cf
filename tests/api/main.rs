//! The service over real HTTP on port 0 with a temp data dir: the whole cycle as the three
//! roles, the JWT matrix, visibility, idempotency, If-Match, body limit, bad input.

mod adversarial;
mod auth;
mod cycle;
mod edge_commands;
mod edge_reads;
mod edge_review;
mod edge_store;
mod edge_text;
mod errors;
mod helpers;
mod notify;
mod openapi_doc;
mod reads;
#[path = "../smtp_sink/mod.rs"]
mod smtp_sink;
mod transport;
