//! Notices by e-mail: the clock's side of the loop, which reminds responsible departments of
//! milestones coming due and presses them — escalating to their leader and to the
//! leading-group office — when milestones fall overdue.
//!
//! ```text
//! notifier decides NoticeDue ──▶ outbox ──▶ Digest ──▶ render ──▶ Mailer ──▶ SMTP or .eml
//!                                  ▲                                  │
//!                                  └── NoticeSent / NoticeFailed ◀────┘ (recorded by the caller)
//! ```
//!
//! The notifier decides which notices are due and records them (`NoticeDue`); it gathers one
//! department's pending notices into a [`Digest`], [`render`]s it and hands it to the
//! [`Mailer`]. On success it records `NoticeSent` with the [`message_id`]; on a
//! [`MailError`] it records `NoticeFailed` and, if the failure is transient, tries again on the
//! [`Backoff`] schedule until its deadline, after which the notice is given up.
//!
//! - [`detect`]: which notices are due on a day (the due-date index, the policy, holds).
//! - [`notifier`]: a run — detect, record `NoticeDue`, deliver — on demand or in the
//!   background, sleeping until the next deadline or a wake-up.
//! - [`deliver`]: the outbox as one digest per department, quiet hours, retries, dead letters.
//! - [`digest`]: the digest model and the ids derived from it.
//! - [`template`]: a digest rendered as a Chinese multipart mail.
//! - [`mail`]: the transports — SMTP or `.eml` files — and delivery errors.
//! - [`backoff`]: the retry schedule.

pub mod backoff;
pub mod deliver;
pub mod detect;
pub mod digest;
pub mod mail;
pub mod notifier;
pub mod template;

pub use backoff::Backoff;
pub use digest::{
    Digest, DigestItem, MailContext, message_id, message_id_of, milestone_thread_id, run_key,
};
pub use mail::{Failure, MailError, Mailer, SMTP_TIMEOUT};
pub use notifier::{Notifier, RunReport};
pub use template::render;
