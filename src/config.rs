//! Typed settings: defaults in code < `duban.toml` < `DUBAN_*` environment variables
//! (`DUBAN_JWT__SECRET` for nested keys). Secrets are never printed: `Debug` redacts them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET: usize = 32;

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the HTTP service listens.
    pub listen: SocketAddr,
    /// Where the event log and read models live.
    pub data_dir: PathBuf,
    /// Where `roles.toml`, `departments.toml` and the other policies are.
    pub policies_dir: PathBuf,
    /// The address users reach the service at (links in mails, the demo's printout).
    pub public_url: String,
    pub jwt: JwtSettings,
    pub mail: MailSettings,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Seconds a request's whole body may take to arrive, counted from its head; a slower
    /// body is answered 408 and its connection closed.
    #[serde(default = "body_timeout_default")]
    pub body_timeout: u64,
    /// Most client connections served at once (more wait in the listen backlog). Lowered at
    /// start to what the process's open-file limit leaves room for.
    #[serde(default = "max_connections_default")]
    pub max_connections: usize,
    /// `pretty` for people, `json` for machines.
    pub log_format: LogFormat,
    /// Run the notifier in the background (it detects and sends on its own). With `false`
    /// it runs only on demand: `POST /api/v1/admin/scan` or `duban scan`.
    #[serde(default = "background_default")]
    pub notifier: bool,
    /// Let the kernel back the service's memory with transparent huge pages. Off by default:
    /// with a large log they add about 50 MiB resident for a few per cent more reads/s.
    #[serde(default)]
    pub huge_pages: bool,
}

fn background_default() -> bool {
    true
}

fn body_timeout_default() -> u64 {
    10
}

fn max_connections_default() -> usize {
    10_000
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// `HS256`, or `RS256` / `ES256` / `EdDSA` with `public_key_pem`.
    pub algorithm: String,
    /// The HS256 shared secret (at least 32 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// PEM public key of the identity provider, for RS256, ES256 or EdDSA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS) or
    /// `smtps://host:port` (TLS), with `user:password@` for AUTH; unset: mails are written as
    /// `.eml` files under `<data_dir>/mail/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    pub from: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().unwrap(),
            data_dir: "data".into(),
            policies_dir: "policies".into(),
            public_url: "http://127.0.0.1:8080".into(),
            jwt: JwtSettings {
                algorithm: "HS256".into(),
                secret: None,
                public_key_pem: None,
                issuer: Some("duban".into()),
                audience: Some("duban".into()),
            },
            mail: MailSettings {
                smtp_url: None,
                from: "督办 <duban@example.org>".into(),
            },
            body_limit: 64 * 1024,
            body_timeout: body_timeout_default(),
            max_connections: max_connections_default(),
            log_format: LogFormat::Pretty,
            notifier: true,
            huge_pages: false,
        }
    }
}

impl Settings {
    /// Defaults < `duban.toml` (or the file given) < `DUBAN_*` variables, then the secret
    /// ([`ensure_secret`](Self::ensure_secret)) and the checks.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let mut settings = Self::load_without_validation(file)?;
        settings.ensure_secret()?;
        settings.validate()?;
        Ok(settings)
    }

    /// The layered settings, unchecked (the command line may still override some).
    pub fn load_without_validation(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let file = file
            .map(PathBuf::from)
            .unwrap_or_else(|| "duban.toml".into());
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("DUBAN_").filter(is_setting).split("__"))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid settings: {e}"))
    }

    /// With HS256 and no secret configured, uses the one kept in `<data_dir>/jwt.secret`,
    /// creating it (32 random bytes, hex, readable by the owner only) on first start, so
    /// that `duban serve` and `duban token` work on the embedded defaults. A secret that is
    /// configured is used as it is — and refused if too short.
    pub fn ensure_secret(&mut self) -> anyhow::Result<()> {
        if self.jwt.algorithm != "HS256" || self.jwt.secret.is_some() {
            return Ok(());
        }
        let path = self.data_dir.join("jwt.secret");
        if !path.exists() {
            std::fs::create_dir_all(&self.data_dir)?;
            let secret = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(&path)?, secret.as_bytes())?;
            tracing::info!(path = %path.display(), "generated a JWT secret for this data directory");
        }
        let secret = std::fs::read_to_string(&path)?;
        self.jwt.secret = Some(secret.trim().to_string());
        Ok(())
    }

    /// Refuses settings the service cannot run safely with.
    pub fn validate(&self) -> anyhow::Result<()> {
        match self.jwt.algorithm.as_str() {
            "HS256" => {
                let len = self.jwt.secret.as_ref().map_or(0, |s| s.len());
                if len < MIN_HS256_SECRET {
                    anyhow::bail!(
                        "the HS256 secret (DUBAN_JWT__SECRET) must be at least {MIN_HS256_SECRET} bytes; it is {len}"
                    );
                }
            }
            "RS256" | "ES256" | "EdDSA" => {
                if self.jwt.public_key_pem.is_none() {
                    anyhow::bail!(
                        "{} needs jwt.public_key_pem (DUBAN_JWT__PUBLIC_KEY_PEM)",
                        self.jwt.algorithm
                    );
                }
            }
            other => {
                anyhow::bail!("unsupported JWT algorithm {other:?}: HS256, RS256, ES256 or EdDSA")
            }
        }
        if self.body_limit < 1024 {
            anyhow::bail!("body_limit below 1 KiB leaves no room for a command");
        }
        if self.body_timeout == 0 {
            anyhow::bail!("body_timeout must be at least 1 second");
        }
        if self.max_connections == 0 {
            anyhow::bail!("max_connections must be at least 1");
        }
        Ok(())
    }
}

/// Only `DUBAN_*` variables that name a setting are read; others (used by tools and tests)
/// are not mistaken for misspelt settings.
fn is_setting(key: &figment::value::UncasedStr) -> bool {
    const KEYS: [&str; 12] = [
        "listen",
        "data_dir",
        "policies_dir",
        "public_url",
        "jwt__",
        "mail__",
        "body_limit",
        "body_timeout",
        "max_connections",
        "log_format",
        "notifier",
        "huge_pages",
    ];
    let key = key.as_str().to_ascii_lowercase();
    KEYS.iter().any(|k| {
        if k.ends_with("__") {
            key.starts_with(k)
        } else {
            key == *k
        }
    })
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("policies_dir", &self.policies_dir)
            .field("public_url", &self.public_url)
            .field("jwt.algorithm", &self.jwt.algorithm)
            .field(
                "jwt.secret",
                &self.jwt.secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt.issuer", &self.jwt.issuer)
            .field("jwt.audience", &self.jwt.audience)
            .field(
                "mail.smtp_url",
                &self.mail.smtp_url.as_ref().map(|_| "<set>"),
            )
            .field("body_limit", &self.body_limit)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_hs256_secret_is_refused_and_secrets_are_not_printed() {
        let mut s = Settings::default();
        s.jwt.secret = Some("too short".into());
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("at least 32 bytes")
        );
        s.jwt.secret = Some("x".repeat(32));
        s.validate().unwrap();
        assert!(!format!("{s:?}").contains("xxxx"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn environment_variables_override_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("duban.toml", "listen = \"127.0.0.1:9000\"\n[jwt]\nalgorithm = \"HS256\"\nsecret = \"from-the-file-from-the-file-from-the-file\"\n")?;
            jail.set_env("DUBAN_LISTEN", "127.0.0.1:9100");
            let s = Settings::load(None).unwrap();
            assert_eq!(s.listen.port(), 9100);
            assert!(s.jwt.secret.unwrap().starts_with("from-the-file"));
            assert!(!s.huge_pages, "off unless asked for");
            jail.set_env("DUBAN_HUGE_PAGES", "true");
            assert!(Settings::load(None).unwrap().huge_pages);
            let s = Settings::load(None).unwrap();
            assert_eq!((s.body_timeout, s.max_connections), (10, 10_000));
            jail.set_env("DUBAN_BODY_TIMEOUT", "3");
            jail.set_env("DUBAN_MAX_CONNECTIONS", "500");
            let s = Settings::load(None).unwrap();
            assert_eq!((s.body_timeout, s.max_connections), (3, 500));
            Ok(())
        });
    }
}
