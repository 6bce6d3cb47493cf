//! Operations: liveness, readiness and Prometheus metrics (requests and latency by route and
//! status, appends, batch sizes, fsync time).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::{HttpResponse, get, web};

use super::AppState;
use crate::store::{EventStore, Readiness};

/// Latency buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counters, filled by the metrics middleware.
#[derive(Default)]
pub struct RequestMetrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl RequestMetrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut series = self.series.lock().unwrap();
        let s = series
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        let series = self.series.lock().unwrap();
        out.push_str("# HELP duban_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE duban_http_requests_total counter\n");
        for ((m, r, st), s) in series.iter() {
            let _ = writeln!(
                out,
                "duban_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{st}\"}} {}",
                s.count
            );
        }
        out.push_str(
            "# HELP duban_http_request_duration_seconds Request latency by route and status.\n",
        );
        out.push_str("# TYPE duban_http_request_duration_seconds histogram\n");
        for ((m, r, st), s) in series.iter() {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{st}\"");
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "duban_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "duban_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "duban_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "duban_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "The process is alive", body = String, content_type = "text/plain")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready when the log was verified after open, answers reads and takes writes. While the
/// chain is still being verified: 503 with `Retry-After`; once the store is poisoned (the
/// chain did not verify, a read or a write failed) or closed: 503 for good. The body never
/// carries storage internals: this endpoint needs no token.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "Ready: the log verified, reads and writes are served", body = String, content_type = "text/plain"),
        (status = 503, description = "Not ready: the log is being verified (with Retry-After) or refuses writes", body = String, content_type = "text/plain",
            headers(("Retry-After" = u32, description = "Seconds, while the log is being verified")))))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = &state.dispatcher.store;
    let not_ready = |why: &str| {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("{why}\n"))
    };
    match store.readiness() {
        Readiness::Verifying => {
            let mut res = not_ready("verifying the event log");
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static("1"),
            );
            res
        }
        Readiness::Refusing => not_ready("the log refuses writes"),
        Readiness::Ready => match store.read_all(store.head().seq, 1).await {
            Ok(_) => HttpResponse::Ok()
                .content_type("text/plain")
                .body("ready\n"),
            Err(_) => not_ready("the log cannot be read"),
        },
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text exposition: requests, appends, group commits, the log head, the projection position", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut out = String::new();
    state.requests.render(&mut out);
    let s = state.dispatcher.store.stats();
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let counters = [
        (
            "duban_log_events_total",
            "Events appended durably.",
            get(&s.events),
        ),
        ("duban_log_batches_total", "Group commits.", get(&s.batches)),
        (
            "duban_log_largest_batch_events",
            "Largest group commit, in events.",
            get(&s.largest_batch),
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let seconds = [
        (
            "duban_log_fsync_seconds_total",
            "Time in fdatasync.",
            get(&s.fsync_nanos),
        ),
        (
            "duban_log_flush_seconds_total",
            "Time in sled's flush.",
            get(&s.flush_nanos),
        ),
        (
            "duban_log_write_seconds_total",
            "Time deciding and writing group commits, before their flush.",
            get(&s.write_nanos),
        ),
    ];
    for (name, help, nanos) in seconds {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            nanos as f64 / 1e9
        );
    }
    let _ = writeln!(
        out,
        "# HELP duban_log_head_seq The durable head.\n# TYPE duban_log_head_seq gauge\nduban_log_head_seq {}",
        state.dispatcher.store.head().seq
    );
    let _ = writeln!(
        out,
        "# HELP duban_projection_position_seq The last seq the read models reflect.\n# TYPE duban_projection_position_seq gauge\nduban_projection_position_seq {}",
        state.models.position()
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
