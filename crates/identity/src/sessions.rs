//! Server-side sessions for staff and persons, login history and the shared lockout rules.

use chrono::Utc;
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, timestamp_text, Tx};

use crate::business::ActingFor;
use crate::persons::Person;
use crate::roles::{Role, Staff};
use crate::{hash_token, random_hex, ClientInfo, Identity, IdentityError, Result, LOCKOUT_MINUTES, MAX_FAILED_LOGINS};

/// Which kind of account a session or grant belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Staff,
    Person,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Staff => "staff",
            Kind::Person => "person",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "staff" => Some(Kind::Staff),
            "person" => Some(Kind::Person),
            _ => None,
        }
    }
    /// The account table, its key column, for the shared lockout rules.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Kind::Staff => ("staff_accounts", "username"),
            Kind::Person => ("persons", "subject"),
        }
    }
}

/// How far sign-in has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Fully signed in.
    Full,
    /// Password accepted; the TOTP code is still due.
    Totp,
    /// Password accepted; the account must enrol an authenticator first.
    Enroll,
}

impl Stage {
    fn key(self) -> &'static str {
        match self {
            Stage::Full => "full",
            Stage::Totp => "totp",
            Stage::Enroll => "enroll",
        }
    }
    fn parse(s: &str) -> Stage {
        match s {
            "full" => Stage::Full,
            "totp" => Stage::Totp,
            _ => Stage::Enroll,
        }
    }
}

/// Who is signed in.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    Staff(Staff),
    Person(Person),
}

/// A live session: who, how far sign-in got, and the token every state-changing request echoes.
#[derive(Debug, Clone)]
pub struct Session {
    pub handle: String,
    pub csrf_token: String,
    pub stage: Stage,
    pub auth_time: String,
    pub principal: Principal,
    /// The business a person is acting for (法人办事), re-checked on every load.
    pub acting_for: Option<ActingFor>,
}

impl Session {
    pub fn staff(&self) -> Option<&Staff> {
        match &self.principal {
            Principal::Staff(s) if self.stage == Stage::Full => Some(s),
            _ => None,
        }
    }
    pub fn person(&self) -> Option<&Person> {
        match &self.principal {
            Principal::Person(p) if self.stage == Stage::Full => Some(p),
            _ => None,
        }
    }
    pub fn kind(&self) -> Kind {
        match self.principal {
            Principal::Staff(_) => Kind::Staff,
            Principal::Person(_) => Kind::Person,
        }
    }
    /// Username or person subject.
    pub fn principal_id(&self) -> &str {
        match &self.principal {
            Principal::Staff(s) => &s.username,
            Principal::Person(p) => &p.subject,
        }
    }
}

/// A session as listed on the account page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionInfo {
    pub handle: String,
    pub created_at: String,
    pub expires_at: String,
    pub source: String,
    pub user_agent: String,
    pub acting_for: Option<String>,
}

/// One line of login history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoginEvent {
    pub at: String,
    pub result: String,
    pub source: String,
    pub user_agent: String,
}

impl Identity {
    /// Open a session inside `tx`; returns the cookie token (only its hash is stored).
    pub(crate) async fn open_session(
        &self,
        tx: &mut Tx,
        kind: Kind,
        principal: &str,
        stage: Stage,
        client: ClientInfo<'_>,
    ) -> Result<String> {
        let now = Utc::now();
        let life = match stage {
            Stage::Full => chrono::Duration::hours(crate::SESSION_HOURS),
            _ => chrono::Duration::minutes(crate::PENDING_SESSION_MINUTES),
        };
        let token = random_hex(32);
        sqlx::query(
            "INSERT INTO auth_sessions (id_hash, handle, kind, principal, stage, csrf_token, auth_time, created_at, expires_at, source, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)",
        )
        .bind(hash_token(&token))
        .bind(random_hex(12))
        .bind(kind.key())
        .bind(principal)
        .bind(stage.key())
        .bind(random_hex(32))
        .bind(timestamp_text(now))
        .bind(timestamp_text(now + life))
        .bind(client.source.chars().take(120).collect::<String>())
        .bind(client.user_agent.chars().take(200).collect::<String>())
        .execute(&mut **tx)
        .await?;
        Ok(token)
    }

    /// The session for a cookie token, if it exists and has not expired.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        if token.len() != 64 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT handle, kind, principal, stage, acting_for, csrf_token, auth_time, expires_at FROM auth_sessions WHERE id_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(self.db.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires: String = row.try_get("expires_at")?;
        if expires < now_text() {
            return Ok(None);
        }
        let principal_id: String = row.try_get("principal")?;
        let principal = match Kind::parse(&row.try_get::<String, _>("kind")?) {
            Some(Kind::Staff) => match self.staff_by_username(&principal_id).await? {
                Some(s) => Principal::Staff(s),
                None => return Ok(None),
            },
            Some(Kind::Person) => match self.person(&principal_id).await {
                Ok(p) => Principal::Person(p),
                Err(IdentityError::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            },
            None => return Ok(None),
        };
        let acting_for = match (&principal, row.try_get::<Option<String>, _>("acting_for")?) {
            (Principal::Person(p), Some(code)) => self.acting_context(&p.subject, &code).await?,
            _ => None,
        };
        Ok(Some(Session {
            handle: row.try_get("handle")?,
            csrf_token: row.try_get("csrf_token")?,
            stage: Stage::parse(&row.try_get::<String, _>("stage")?),
            auth_time: row.try_get("auth_time")?,
            principal,
            acting_for,
        }))
    }

    /// A principal's live sessions, newest first.
    pub async fn sessions_of(&self, kind: Kind, principal: &str) -> Result<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT handle, created_at, expires_at, source, user_agent, acting_for FROM auth_sessions
             WHERE kind = $1 AND principal = $2 AND expires_at > $3 AND stage = 'full' ORDER BY created_at DESC",
        )
        .bind(kind.key())
        .bind(principal)
        .bind(now_text())
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionInfo {
                    handle: r.try_get("handle")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    source: r.try_get("source")?,
                    user_agent: r.try_get("user_agent")?,
                    acting_for: r.try_get("acting_for")?,
                })
            })
            .collect()
    }

    /// End one of the principal's own sessions (and the OIDC grants made through it).
    pub async fn revoke_session(&self, kind: Kind, principal: &str, handle: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let n = sqlx::query("DELETE FROM auth_sessions WHERE kind = $1 AND principal = $2 AND handle = $3")
            .bind(kind.key())
            .bind(principal)
            .bind(handle)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(IdentityError::NotFound("会话"));
        }
        crate::oidc::revoke_grants_of_session(&mut tx, handle).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sign out: delete the session and revoke the OIDC grants made through it.
    pub async fn logout(&self, token: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let handle: Option<String> = sqlx::query("DELETE FROM auth_sessions WHERE id_hash = $1 RETURNING handle")
            .bind(hash_token(token))
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("handle"))
            .transpose()?;
        if let Some(h) = handle {
            crate::oidc::revoke_grants_of_session(&mut tx, &h).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Switch the business a person's session acts for (None: act as themself).
    pub async fn set_acting_for(&self, token: &str, subject: &str, credit_code: Option<&str>) -> Result<()> {
        if let Some(code) = credit_code {
            if self.acting_context(subject, code).await?.is_none() {
                return Err(IdentityError::Forbidden);
            }
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE auth_sessions SET acting_for = $1 WHERE id_hash = $2 AND kind = 'person' AND principal = $3")
            .bind(credit_code)
            .bind(hash_token(token))
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Delete expired sessions; returns how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let n = sqlx::query("DELETE FROM auth_sessions WHERE expires_at < $1").bind(now_text()).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    pub(crate) async fn record_login(&self, kind: Kind, principal: &str, result: &str, client: ClientInfo<'_>) -> Result<()> {
        let mut tx = self.db.begin().await?;
        record_login_in(&mut tx, kind, principal, result, client).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Login history, newest first.
    pub async fn login_history(&self, kind: Kind, principal: &str, limit: i64) -> Result<Vec<LoginEvent>> {
        let rows = sqlx::query(
            "SELECT at, result, source, user_agent FROM login_events WHERE kind = $1 AND principal = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(kind.key())
        .bind(principal)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LoginEvent {
                    at: r.try_get("at")?,
                    result: r.try_get("result")?,
                    source: r.try_get("source")?,
                    user_agent: r.try_get("user_agent")?,
                })
            })
            .collect()
    }

    /// Refuse while the account is locked.
    pub(crate) fn check_lock(locked_until: Option<String>) -> Result<()> {
        if let Some(until) = locked_until {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&until) {
                let t = t.with_timezone(&Utc);
                let now = Utc::now();
                if t > now {
                    return Err(IdentityError::Locked((t - now).num_minutes() + 1));
                }
            }
        }
        Ok(())
    }

    /// Count a failed password; locks the account at the limit. Returns the error to show.
    pub(crate) async fn register_failure(&self, kind: Kind, key: &str, client: ClientInfo<'_>) -> Result<IdentityError> {
        let (table, col) = kind.table();
        let mut tx = self.db.begin().await?;
        // Count atomically so concurrent guesses cannot slip past the limit.
        let failed: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET failed_logins = failed_logins + 1 WHERE {col} = $1 RETURNING failed_logins"
        )))
        .bind(key)
        .fetch_one(&mut *tx)
        .await?
        .try_get("failed_logins")?;
        let locked = failed >= MAX_FAILED_LOGINS;
        if locked {
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET failed_logins = 0, locked_until = $1 WHERE {col} = $2")))
                .bind(timestamp_text(Utc::now() + chrono::Duration::minutes(LOCKOUT_MINUTES)))
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        let result = if locked { "failure: wrong password, locked" } else { "failure: wrong password" };
        record_login_in(&mut tx, kind, key, result, client).await?;
        tx.commit().await?;
        Ok(if locked { IdentityError::Locked(LOCKOUT_MINUTES) } else { IdentityError::InvalidCredentials })
    }

    /// Reset the failure counter after a correct password.
    pub(crate) async fn clear_failures(tx: &mut Tx, kind: Kind, key: &str) -> Result<()> {
        let (table, col) = kind.table();
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET failed_logins = 0, locked_until = NULL WHERE {col} = $1")))
            .bind(key)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Delete every session of a principal (password reset, account disabled).
    pub(crate) async fn end_all_sessions(tx: &mut Tx, kind: Kind, principal: &str) -> Result<()> {
        let handles = sqlx::query("DELETE FROM auth_sessions WHERE kind = $1 AND principal = $2 RETURNING handle")
            .bind(kind.key())
            .bind(principal)
            .fetch_all(&mut **tx)
            .await?;
        for h in handles {
            crate::oidc::revoke_grants_of_session(tx, &h.try_get::<String, _>("handle")?).await?;
        }
        Ok(())
    }
}

pub(crate) async fn record_login_in(tx: &mut Tx, kind: Kind, principal: &str, result: &str, client: ClientInfo<'_>) -> Result<()> {
    sqlx::query("INSERT INTO login_events (kind, principal, at, result, source, user_agent) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(kind.key())
        .bind(principal)
        .bind(now_text())
        .bind(result)
        .bind(client.source.chars().take(120).collect::<String>())
        .bind(client.user_agent.chars().take(200).collect::<String>())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) fn roles_from(s: &str) -> Vec<Role> {
    s.split(',').filter_map(Role::parse).collect()
}
