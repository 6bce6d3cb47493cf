//! Delivery: the [`Mailer`] sends a rendered message over SMTP or, with no SMTP URL
//! configured, writes it as an `.eml` file named after its `Message-ID`. A [`MailError`] says
//! whether trying again may help; [`Backoff`](super::Backoff) spaces the tries.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::digest::message_id_of;
use crate::config::MailSettings;

/// How long a delivery over SMTP may take, from connecting to the server's last reply.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

// ── delivery errors ──────────────────────────────────────────────────────────

/// Whether a failed delivery may succeed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The server could not be reached, timed out, or answered 4xx: back off and retry.
    Transient,
    /// The server answered 5xx, or the message cannot be built: retrying will not help.
    Permanent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailError {
    pub failure: Failure,
    /// The SMTP reply code, when the server gave one.
    pub code: Option<u16>,
    pub detail: String,
}

impl MailError {
    pub fn transient(detail: impl Into<String>) -> Self {
        Self {
            failure: Failure::Transient,
            code: None,
            detail: detail.into(),
        }
    }

    pub fn permanent(detail: impl Into<String>) -> Self {
        Self {
            failure: Failure::Permanent,
            code: None,
            detail: detail.into(),
        }
    }

    pub fn is_transient(&self) -> bool {
        self.failure == Failure::Transient
    }

    pub fn is_permanent(&self) -> bool {
        self.failure == Failure::Permanent
    }

    fn from_smtp(e: lettre::transport::smtp::Error) -> Self {
        let code = e.status().and_then(|c| c.to_string().parse().ok());
        // A client error means lettre refused the envelope or message itself: no retry helps.
        // Everything else without a 5xx reply (refused connection, time-out, TLS, a garbled
        // reply) may pass on a later try.
        let failure = if e.is_permanent() || e.is_client() {
            Failure::Permanent
        } else {
            Failure::Transient
        };
        Self {
            failure,
            code,
            detail: e.to_string(),
        }
    }
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failure = match self.failure {
            Failure::Transient => "transient",
            Failure::Permanent => "permanent",
        };
        match self.code {
            Some(code) => write!(f, "{failure} mail failure ({code}): {}", self.detail),
            None => write!(f, "{failure} mail failure: {}", self.detail),
        }
    }
}

impl std::error::Error for MailError {}

// ── transports ───────────────────────────────────────────────────────────────

/// Delivers rendered mail: over SMTP, or as `.eml` files in a directory. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    description: Arc<str>,
}

#[derive(Clone)]
enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// lettre bounds only the connection; this bounds the whole exchange.
        timeout: Duration,
    },
    Files(Arc<Path>),
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Mailer").field(&self.description).finish()
    }
}

impl Mailer {
    /// SMTP when `smtp_url` is set (and not blank), else `.eml` files under `<data_dir>/mail/`.
    pub fn from_settings(settings: &MailSettings, data_dir: &Path) -> anyhow::Result<Self> {
        match settings.smtp_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => Self::smtp(url, SMTP_TIMEOUT),
            _ => Ok(Self::files(data_dir.join("mail"))),
        }
    }

    /// An SMTP transport from a URL, `scheme://[user:password@]host[:port]`:
    /// - `smtp://host:port`: plain SMTP, no TLS (local relays and sinks only);
    /// - `smtp://host:port?tls=required`: STARTTLS, refusing a server that does not offer it;
    /// - `smtp://host:port?tls=opportunistic`: STARTTLS when offered;
    /// - `smtps://host:port`: TLS from the first byte.
    ///
    /// Without a port, `smtp` uses 587 and `smtps` 465. A user and password in the URL
    /// (percent-encoded) are used for AUTH. `timeout` bounds each delivery, connection included;
    /// a delivery cut short is a transient failure (the server may have taken the mail all the
    /// same: a re-send carries the same `Message-ID`).
    pub fn smtp(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("invalid SMTP URL: {e}"))?;
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let (security, default_port) = match (parsed.scheme(), tls.as_deref()) {
            ("smtp", None) => ("plain, unencrypted", 587),
            ("smtp", Some("required")) => ("STARTTLS required", 587),
            ("smtp", Some("opportunistic")) => ("STARTTLS if offered", 587),
            ("smtps", None) => ("TLS", 465),
            (scheme, tls) => anyhow::bail!(
                "unsupported SMTP URL scheme {scheme:?} with tls={tls:?}: use smtp://, \
                 smtp://…?tls=required, smtp://…?tls=opportunistic or smtps://"
            ),
        };
        let host = parsed
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("the SMTP URL names no host"))?;
        let port = parsed.port().unwrap_or(default_port);
        let user = match parsed.username() {
            "" => String::new(),
            user => format!(", as {user}"),
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("invalid SMTP URL: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport: Transport::Smtp { transport, timeout },
            description: format!("SMTP {host}:{port} ({security}{user})").into(),
        })
    }

    /// Writes each message to `<dir>/<Message-ID>.eml`; the same message sent again replaces
    /// its file.
    pub fn files(dir: impl Into<PathBuf>) -> Self {
        let dir: PathBuf = dir.into();
        Self {
            description: format!("files {}", dir.join("*.eml").display()).into(),
            transport: Transport::Files(dir.into()),
        }
    }

    /// Where mail goes, for logs: the directory, or the SMTP host and port (never a password).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Delivers one message to every recipient of its envelope (To and Cc).
    pub async fn send(&self, message: &Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Smtp { transport, timeout } => {
                let content = message.formatted();
                let delivery = transport.send_raw(message.envelope(), &content);
                match tokio::time::timeout(*timeout, delivery).await {
                    Ok(result) => result.map(|_| ()).map_err(MailError::from_smtp),
                    Err(_) => Err(MailError::transient(format!(
                        "no answer from the SMTP server within {timeout:?}"
                    ))),
                }
            }
            Transport::Files(dir) => write_eml(dir, message).await,
        }
    }
}

/// The `.eml` file name for a message: its `Message-ID` made safe for a file system, or a hash
/// of its content when it has none.
fn eml_name(message: &Message, content: &[u8]) -> String {
    let id: String = message_id_of(message)
        .unwrap_or_default()
        .trim_matches(|c| c == '<' || c == '>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() || id.len() > 200 || id.starts_with('.') {
        format!("{}.eml", &blake3::hash(content).to_hex()[..32])
    } else {
        format!("{id}.eml")
    }
}

async fn write_eml(dir: &Path, message: &Message) -> Result<(), MailError> {
    static TMP: AtomicU64 = AtomicU64::new(0);
    let content = message.formatted();
    let path = dir.join(eml_name(message, &content));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        std::process::id(),
        TMP.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |what: &str, e: std::io::Error| {
        MailError::transient(format!("{what} {}: {e}", dir.display()))
    };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io("cannot create", e))?;
    tokio::fs::write(&tmp, &content)
        .await
        .map_err(|e| io("cannot write a mail in", e))?;
    // Renaming over an existing file replaces it at once: a reader never sees half a mail.
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(|e| io("cannot store a mail in", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_described_without_the_password_and_bad_schemes_refused() {
        let m = Mailer::smtp(
            "smtp://duban:s3cret@relay.example.org?tls=required",
            SMTP_TIMEOUT,
        )
        .unwrap();
        assert_eq!(
            m.describe(),
            "SMTP relay.example.org:587 (STARTTLS required, as duban)"
        );
        assert!(!format!("{m:?}").contains("s3cret"));
        let m = Mailer::smtp("smtps://relay.example.org", SMTP_TIMEOUT).unwrap();
        assert_eq!(m.describe(), "SMTP relay.example.org:465 (TLS)");
        assert!(Mailer::smtp("http://relay.example.org", SMTP_TIMEOUT).is_err());
        assert!(Mailer::smtp("smtp://relay.example.org?tls=maybe", SMTP_TIMEOUT).is_err());
        let settings = MailSettings {
            smtp_url: Some(" ".into()),
            from: "duban@example.org".into(),
        };
        let m = Mailer::from_settings(&settings, Path::new("/srv/duban")).unwrap();
        assert_eq!(m.describe(), "files /srv/duban/mail/*.eml");
    }
}
