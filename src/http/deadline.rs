//! The deadline on a request's body. The server times out a request's head
//! (`client_request_timeout`), but not its body: a client announcing `Content-Length: 60000`
//! and sending a byte every two seconds would hold its connection (and a file descriptor) for
//! a day. Every request with a body reads it under one deadline, counted from when its head
//! arrived — for the whole body, not per chunk. Past it, the body ends in an error and the
//! request is answered 408 problem+json.
//!
//! A body not read to its end (cut off, or never read because the request was refused first)
//! closes the connection after the answer. actix closes it by itself only while the body is
//! still held; once dropped, a chunked body is drained — for as long as its sender trickles.
//! So the body is held until the answer is written.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, ResponseError};
use bytes::Bytes;
use futures_core::Stream;
use tokio::time::Sleep;

use super::problem::ApiError;

/// A request's body, shared by the stream the handler reads and the middleware.
struct Body {
    payload: RefCell<Payload>,
    /// The deadline passed before the body's end.
    expired: Cell<bool>,
    /// The body was read to its end (or failed).
    ended: Cell<bool>,
}

/// The body as the handler reads it, ending in a timeout error once the deadline passes.
struct Deadline {
    body: Rc<Body>,
    timer: Pin<Box<Sleep>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.body.ended.get() {
            return Poll::Ready(None);
        }
        // The timer is polled first and on every poll, so a body that keeps trickling in
        // cannot outrun it; polling both leaves a waker with each.
        if self.timer.as_mut().poll(cx).is_ready() {
            self.body.expired.set(true);
            self.body.ended.set(true);
            let e = io::Error::new(io::ErrorKind::TimedOut, "the request body took too long");
            return Poll::Ready(Some(Err(PayloadError::Io(e))));
        }
        let item = Pin::new(&mut *self.body.payload.borrow_mut()).poll_next(cx);
        if matches!(item, Poll::Ready(None | Some(Err(_)))) {
            self.body.ended.set(true);
        }
        item
    }
}

/// An answer that holds the request's unread body until it is written, so that the
/// connection is closed after it rather than kept to drain the body.
pub struct Holding {
    answer: BoxBody,
    _body: Rc<Body>,
}

impl MessageBody for Holding {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.answer.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.answer).poll_next(cx)
    }
}

/// Middleware body (for `wrap_fn`): the request's body, if it has one, is read under
/// `timeout`; a request whose body ran out of time is answered 408, whatever the handler
/// made of the error.
pub fn bounded<S, B>(
    mut req: ServiceRequest,
    srv: &S,
    timeout: Duration,
) -> impl Future<Output = Result<ServiceResponse<EitherBody<B, Holding>>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let body = match req.take_payload() {
        Payload::None => None,
        payload => {
            let body = Rc::new(Body {
                payload: RefCell::new(payload),
                expired: Cell::new(false),
                ended: Cell::new(false),
            });
            let deadline = Deadline {
                body: body.clone(),
                timer: Box::pin(tokio::time::sleep(timeout)),
            };
            req.set_payload(Payload::Stream {
                payload: Box::pin(deadline),
            });
            Some(body)
        }
    };
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let Some(body) = body.filter(|b| !b.ended.get() || b.expired.get()) else {
            return Ok(res.map_into_left_body());
        };
        let res = if body.expired.get() {
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, too_slow(timeout).error_response())
        } else {
            res.map_into_boxed_body()
        };
        Ok(res
            .map_body(|_, answer| Holding {
                answer,
                _body: body,
            })
            .map_into_right_body())
    }
}

fn too_slow(timeout: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "body-timeout",
        "Request body too slow",
        format!(
            "the request body did not arrive within {} s of the request's head",
            timeout.as_secs_f64()
        ),
    )
}
