//! Bearer JWT → [`Actor`]. Verifies the signature with the one configured algorithm and key,
//! requires `exp`, `iat` and `sub`, and `iss` / `aud` (matching) when configured; refuses a
//! token not yet valid (`nbf`), one issued in the future (`iat`) and one whose header names
//! critical extensions (`crit`); accepts only the known roles, a department only with its
//! `dept`, and a `dept` only from the directory.
//!
//! Token times are compared with the wall clock, allowing [`LEEWAY_SECS`] of skew between the
//! identity provider's clock and ours. They are the provider's times, so not the service's
//! [`Clock`](crate::store::Clock), which is simulated in tests and the demo and stands for the
//! plan's "now", not for when a credential was issued.

use std::sync::Arc;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::JwtSettings;
use crate::domain::{Actor, DepartmentCode};
use crate::policy::{Directory, KNOWN_ROLES};

/// The claims duban reads from a token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Verifies tokens; built once at start-up from the settings.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
    directory: Arc<Directory>,
}

fn algorithm(name: &str) -> anyhow::Result<Algorithm> {
    Ok(match name {
        "HS256" => Algorithm::HS256,
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => anyhow::bail!("unsupported JWT algorithm {other:?}"),
    })
}

impl Verifier {
    pub fn new(settings: &JwtSettings, directory: Arc<Directory>) -> anyhow::Result<Self> {
        let alg = algorithm(&settings.algorithm)?;
        let key = match alg {
            Algorithm::HS256 => {
                DecodingKey::from_secret(settings.secret.as_deref().unwrap_or_default().as_bytes())
            }
            _ => {
                let pem = settings
                    .public_key_pem
                    .as_deref()
                    .unwrap_or_default()
                    .as_bytes();
                match alg {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(pem)?,
                    Algorithm::ES256 => DecodingKey::from_ec_pem(pem)?,
                    _ => DecodingKey::from_ed_pem(pem)?,
                }
            }
        };
        // Only the configured algorithm: a token signed otherwise (or `none`) is refused.
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        // `iat` is required by `Claims` itself (jsonwebtoken checks only the claims it knows).
        let mut required = vec!["exp", "sub"];
        match &settings.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &settings.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        // Without this, a configured `iss` / `aud` is only compared when the token has one.
        validation.set_required_spec_claims(&required);
        Ok(Self {
            key,
            validation,
            directory,
        })
    }

    /// The caller a bearer token stands for, or why it is refused.
    pub fn verify(&self, token: &str) -> Result<Actor, String> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| e.to_string())?;
        // RFC 7515 §4.1.11: a recipient must refuse a token whose `crit` names an extension it
        // does not understand — duban understands none.
        if let Some(crit) = &data.header.crit {
            return Err(format!(
                "the token's header marks extensions {crit:?} critical; none is supported"
            ));
        }
        let c = data.claims;
        let latest = Utc::now().timestamp() + LEEWAY_SECS as i64;
        if c.iat > latest {
            return Err(format!("the token is issued in the future (iat {})", c.iat));
        }
        if !KNOWN_ROLES.contains(&c.role.as_str()) {
            return Err(format!("unknown role {:?}", c.role));
        }
        let dept = match (&c.role[..], c.dept) {
            ("department", None) => return Err("a department token needs a dept claim".into()),
            (_, None) => None,
            (_, Some(code)) => {
                let code = DepartmentCode::new(code)?;
                if self.directory.get(&code).is_none() {
                    return Err(format!("department {code} is not in the directory"));
                }
                Some(code)
            }
        };
        // The sub names the caller in command ids, envelopes and logs.
        let printable = !c.sub.chars().any(char::is_control);
        if c.sub.trim().is_empty() || c.sub.chars().count() > 256 || !printable {
            return Err("sub must be 1 to 256 characters without control characters".into());
        }
        Ok(Actor {
            sub: c.sub,
            role: c.role,
            dept,
        })
    }
}

/// Mints an HS256 token with the configured secret (`duban token`, demos, tests).
pub fn mint(
    settings: &JwtSettings,
    sub: &str,
    role: &str,
    dept: Option<&str>,
    ttl: chrono::Duration,
) -> anyhow::Result<String> {
    if settings.algorithm != "HS256" {
        anyhow::bail!(
            "tokens for {} are issued by the identity provider, not by duban",
            settings.algorithm
        );
    }
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: sub.into(),
        role: role.into(),
        dept: dept.map(str::to_string),
        name: None,
        exp: now + ttl.num_seconds(),
        iat: now,
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
    };
    let key = EncodingKey::from_secret(settings.secret.as_deref().unwrap_or_default().as_bytes());
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &key,
    )?)
}
