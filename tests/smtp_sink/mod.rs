//! A real SMTP server in the test process (mailin-embedded on 127.0.0.1) that keeps what it
//! receives: the envelope's recipients and the raw message.
#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use mail_parser::MessageParser;
use mailin_embedded::{Handler, Response, Server, response};

#[derive(Debug, Clone)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn subject(&self) -> String {
        let m = MessageParser::default().parse(&self.data).unwrap();
        m.subject().unwrap_or_default().to_string()
    }

    pub fn text(&self) -> String {
        let m = MessageParser::default().parse(&self.data).unwrap();
        m.body_text(0).unwrap_or_default().to_string()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let raw = String::from_utf8_lossy(&self.data).to_string();
        raw.lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            })
            .map(|l| l[name.len() + 1..].trim().to_string())
    }
}

pub type Inbox = Arc<Mutex<Vec<Received>>>;

/// How many mails arrived.
pub fn count(inbox: &Inbox) -> usize {
    inbox.lock().unwrap().len()
}

#[derive(Clone)]
struct Sink {
    inbox: Inbox,
    /// The answer to every RCPT TO; `None` accepts.
    reject_rcpt: Option<Response>,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn rcpt(&mut self, _to: &str) -> Response {
        self.reject_rcpt.clone().unwrap_or(response::OK)
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _8bit: bool, to: &[String]) -> Response {
        self.rcpt_to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.inbox.lock().unwrap().push(Received {
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            data: std::mem::take(&mut self.data),
        });
        response::OK
    }
}

/// Serves on `listener` for the rest of the test process; returns what it receives.
pub fn serve_on(listener: TcpListener) -> Inbox {
    serve_answering(listener, None)
}

/// A server that answers every RCPT TO with `reject_rcpt` (when given).
pub fn serve_answering(listener: TcpListener, reject_rcpt: Option<Response>) -> Inbox {
    let inbox: Inbox = Arc::new(Mutex::new(Vec::new()));
    let mut server = Server::new(Sink {
        inbox: inbox.clone(),
        reject_rcpt,
        rcpt_to: Vec::new(),
        data: Vec::new(),
    });
    server
        .with_name("sink.test")
        .with_num_threads(2)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    inbox
}

/// A sink on a free port: (port, inbox).
pub fn start() -> (u16, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (port, serve_on(listener))
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
