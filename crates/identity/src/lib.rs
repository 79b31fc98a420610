//! Unified identity (统一身份认证): one account per natural person (by citizen ID number) and per
//! legal person (by unified social credit code), staff accounts with roles and TOTP, server-side
//! sessions with CSRF tokens, lockout, login history, password reset through the notification
//! outbox, and an OpenID Connect provider so department systems share the same login.
//!
//! Permissions are decided here, in one place; the web layer only asks.

mod business;
pub mod demo;
mod error;
pub mod oidc;
mod password;
mod persons;
mod roles;
mod sessions;
pub mod sources;
mod staff;

/// For [`domain_error_conversions!`], so its users need no dependency of their own.
#[doc(hidden)]
pub use yiwang_crypto as __crypto;
pub mod totp;

use std::sync::Arc;

use rand::RngCore;
use sha2::{Digest, Sha256};
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, Db};

pub use business::{ActingFor, Agent, AgentScope, Business, BusinessRole, NewAgent};
pub use error::{IdentityError, Result};
pub use password::{check_policy, hash_password, verify_password, MIN_LEN_PERSON, MIN_LEN_STAFF};
pub use persons::{Assurance, NewPerson, Person};
pub use roles::{Permission, Role, Staff};
pub use sessions::{Kind, LoginEvent, Principal, Session, SessionInfo, Stage};
pub use staff::{NewStaff, TotpEnrollment};

/// Failed logins before an account is locked, and for how long.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
/// Session lifetime.
pub const SESSION_HOURS: i64 = 8;
/// A session waiting for its second factor lives this long.
pub const PENDING_SESSION_MINUTES: i64 = 10;
/// Password reset links expire after this long.
pub const RESET_MINUTES: i64 = 30;

/// Identity settings.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Public base URL (links in messages, OIDC issuer), without a trailing slash.
    pub public_url: String,
    /// Staff must pass a TOTP second factor (enrolled on first login). On by default.
    pub require_staff_totp: bool,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig { public_url: "http://127.0.0.1:8080".into(), require_staff_totp: true }
    }
}

/// Where a request came from, for login history and the audit trail.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientInfo<'a> {
    pub source: &'a str,
    pub user_agent: &'a str,
}

#[derive(Clone)]
pub struct Identity {
    db: Db,
    config: Arc<IdentityConfig>,
    /// Verified against when the account does not exist, so timing does not reveal accounts.
    dummy_hash: Arc<String>,
    population: Arc<dyn sources::PopulationSource>,
    registry: Arc<dyn sources::BusinessRegistry>,
    /// Keys for ID numbers and phones at rest.
    pub(crate) pii: Arc<yiwang_crypto::PersonalData>,
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison for tokens.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Identity {
    /// Identity over `db`, verifying real names and businesses against the built-in demo
    /// sources; production deployments pass their own with [`Identity::with_sources`].
    /// `pii` holds the keys personal data is encrypted under (from the master key).
    pub fn new(db: Db, config: IdentityConfig, pii: yiwang_crypto::PersonalData) -> Result<Identity> {
        let population = Arc::new(sources::DemoPopulation::load()?);
        let registry = Arc::new(sources::DemoRegistry::load()?);
        Identity::with_sources(db, config, pii, population, registry)
    }

    pub fn with_sources(
        db: Db,
        config: IdentityConfig,
        pii: yiwang_crypto::PersonalData,
        population: Arc<dyn sources::PopulationSource>,
        registry: Arc<dyn sources::BusinessRegistry>,
    ) -> Result<Identity> {
        Ok(Identity {
            db,
            config: Arc::new(config),
            dummy_hash: Arc::new(hash_password("dummy-password-for-timing")?),
            population,
            registry,
            pii: Arc::new(pii),
        })
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Append to the audit trail (who, what, target, result, source).
    pub async fn audit(&self, actor: &str, action: &str, target: &str, result: &str, source: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        audit_in(&mut tx, actor, action, target, result, source).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Most recent audit entries, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT at, actor, action, target, result, source FROM audit_log ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    result: r.try_get("result")?,
                    source: r.try_get("source")?,
                })
            })
            .collect()
    }
}

/// Audit inside the caller's transaction, so the record commits with the change.
pub async fn audit_in(tx: &mut yiwang_store::Tx, actor: &str, action: &str, target: &str, result: &str, source: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, target, result, source) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(now_text())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(result)
        .bind(source)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub result: String,
    pub source: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_compare() {
        assert!(super::tokens_equal("abc", "abc") && !super::tokens_equal("abc", "abd") && !super::tokens_equal("abc", "ab"));
    }
}
