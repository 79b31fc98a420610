//! Identity: staff accounts, roles and permissions, server-side sessions with CSRF tokens,
//! login lockout and the audit trail of staff actions.
//!
//! This is the seam the unified-identity issue extends (citizens, businesses, OIDC, TOTP).
//! Permissions are decided here, in one place; the web layer only asks.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, timestamp_text, Db, StoreError};

/// Failed logins before an account is locked, and for how long.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
/// Session lifetime.
pub const SESSION_HOURS: i64 = 8;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("用户名或密码错误")]
    InvalidCredentials,
    #[error("登录失败次数过多，账号已锁定，请于{0}分钟后再试")]
    Locked(i64),
    #[error("请先登录")]
    Unauthenticated,
    #[error("没有执行此操作的权限")]
    Forbidden,
    #[error("页面已过期或请求来源无效，请刷新页面后重试")]
    CsrfMismatch,
    #[error("密码长度至少12位")]
    WeakPassword,
    #[error("未知角色：{0}")]
    UnknownRole(String),
    #[error("密码处理失败")]
    Hash,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IdentityError {
    fn from(e: sqlx::Error) -> Self {
        IdentityError::Store(e.into())
    }
}

impl DomainError for IdentityError {
    fn code(&self) -> &'static str {
        match self {
            IdentityError::InvalidCredentials => "INVALID_CREDENTIALS",
            IdentityError::Locked(_) => "ACCOUNT_LOCKED",
            IdentityError::Unauthenticated => "UNAUTHENTICATED",
            IdentityError::Forbidden => "FORBIDDEN",
            IdentityError::CsrfMismatch => "CSRF_MISMATCH",
            IdentityError::WeakPassword => "WEAK_PASSWORD",
            IdentityError::UnknownRole(_) => "UNKNOWN_ROLE",
            IdentityError::Hash => "INTERNAL",
            IdentityError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            IdentityError::InvalidCredentials | IdentityError::Unauthenticated => ErrorKind::Unauthenticated,
            IdentityError::Locked(_) => ErrorKind::TooManyRequests,
            IdentityError::Forbidden | IdentityError::CsrfMismatch => ErrorKind::Forbidden,
            IdentityError::WeakPassword | IdentityError::UnknownRole(_) => ErrorKind::Invalid,
            IdentityError::Hash => ErrorKind::Internal,
            IdentityError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

/// Staff roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 平台管理员
    PlatformAdmin,
    /// 部门管理员: maintains the department's items
    DeptAdmin,
    /// 窗口受理
    Window,
    /// 审批
    Approver,
    /// 监察
    Supervisor,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s.trim() {
            "platform_admin" => Role::PlatformAdmin,
            "dept_admin" => Role::DeptAdmin,
            "window" => Role::Window,
            "approver" => Role::Approver,
            "supervisor" => Role::Supervisor,
            _ => return None,
        })
    }
    pub fn key(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::DeptAdmin => "dept_admin",
            Role::Window => "window",
            Role::Approver => "approver",
            Role::Supervisor => "supervisor",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "平台管理员",
            Role::DeptAdmin => "部门管理员",
            Role::Window => "窗口受理",
            Role::Approver => "审批",
            Role::Supervisor => "监察",
        }
    }
}

/// What a route may require. Every staff route names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Use the staff workbench at all.
    Workbench,
    /// Create, edit, publish and import items (own department, or all for platform admins).
    ManageCatalog,
    /// Read the audit trail.
    ViewAudit,
}

impl Permission {
    fn granted_by(self, role: Role) -> bool {
        match self {
            Permission::Workbench => true,
            Permission::ManageCatalog => matches!(role, Role::PlatformAdmin | Role::DeptAdmin),
            Permission::ViewAudit => matches!(role, Role::PlatformAdmin | Role::Supervisor),
        }
    }
}

/// An authenticated staff member.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Staff {
    pub username: String,
    pub display_name: String,
    pub department: Option<String>,
    pub roles: Vec<Role>,
}

impl Staff {
    pub fn can(&self, p: Permission) -> bool {
        self.roles.iter().any(|r| p.granted_by(*r))
    }
    pub fn require(&self, p: Permission) -> Result<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(IdentityError::Forbidden)
        }
    }
    pub fn is_platform_admin(&self) -> bool {
        self.roles.contains(&Role::PlatformAdmin)
    }
}

/// A live session: who, and the token every state-changing request must echo.
#[derive(Debug, Clone)]
pub struct Session {
    pub staff: Staff,
    pub csrf_token: String,
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison for tokens.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// argon2id with the crate defaults, which are OWASP's minimum (m=19 MiB, t=2, p=1).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| IdentityError::Hash)
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

#[derive(Clone)]
pub struct Identity {
    db: Db,
    /// Verified against when the user does not exist, so timing does not reveal usernames.
    dummy_hash: std::sync::Arc<String>,
}

pub struct NewStaff<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub department: Option<&'a str>,
    pub roles: &'a [String],
}

impl Identity {
    pub fn new(db: Db) -> Result<Identity> {
        Ok(Identity { db, dummy_hash: std::sync::Arc::new(hash_password("dummy-password-for-timing")?) })
    }

    /// Create a staff account, or reset an existing one's name, password, department and roles.
    pub async fn upsert_staff(&self, s: NewStaff<'_>) -> Result<()> {
        if s.password.chars().count() < 12 {
            return Err(IdentityError::WeakPassword);
        }
        let roles = s
            .roles
            .iter()
            .map(|r| Role::parse(r).map(Role::key).ok_or_else(|| IdentityError::UnknownRole(r.clone())))
            .collect::<Result<Vec<_>>>()?
            .join(",");
        let password = s.password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|_| IdentityError::Hash)??;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO staff_accounts (username, display_name, password_hash, department_code, roles, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash,
               department_code = excluded.department_code, roles = excluded.roles, failed_logins = 0, locked_until = NULL",
        )
        .bind(s.username)
        .bind(s.display_name)
        .bind(hash)
        .bind(s.department)
        .bind(roles)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn staff_exists(&self, username: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT username FROM staff_accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(self.db.reader())
            .await?
            .is_some())
    }

    /// Check a password; on success open a session and return its cookie token.
    pub async fn login(&self, username: &str, password: &str, source: &str, user_agent: &str) -> Result<(String, Session)> {
        let row = sqlx::query("SELECT password_hash, failed_logins, locked_until FROM staff_accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(self.db.reader())
            .await?;
        let now = chrono::Utc::now();
        let Some(row) = row else {
            let dummy = self.dummy_hash.clone();
            let pw = password.to_string();
            let _ = tokio::task::spawn_blocking(move || verify_password(&pw, &dummy)).await;
            self.audit("anonymous", "login", username, "failure: unknown user", source).await?;
            return Err(IdentityError::InvalidCredentials);
        };
        if let Some(until) = row.try_get::<Option<String>, _>("locked_until")? {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&until) {
                let left = (t.with_timezone(&chrono::Utc) - now).num_minutes();
                if t > now {
                    self.audit(username, "login", username, "failure: locked", source).await?;
                    return Err(IdentityError::Locked(left + 1));
                }
            }
        }
        let phc: String = row.try_get("password_hash")?;
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &phc)).await.map_err(|_| IdentityError::Hash)?;
        let mut tx = self.db.begin().await?;
        if !ok {
            // Count atomically so concurrent guesses cannot slip past the limit.
            let failed: i64 =
                sqlx::query("UPDATE staff_accounts SET failed_logins = failed_logins + 1 WHERE username = $1 RETURNING failed_logins")
                    .bind(username)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("failed_logins")?;
            let locked = failed >= MAX_FAILED_LOGINS;
            if locked {
                sqlx::query("UPDATE staff_accounts SET failed_logins = 0, locked_until = $1 WHERE username = $2")
                    .bind(timestamp_text(now + chrono::Duration::minutes(LOCKOUT_MINUTES)))
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            self.audit(
                username,
                "login",
                username,
                if locked { "failure: wrong password, locked" } else { "failure: wrong password" },
                source,
            )
            .await?;
            return Err(if locked { IdentityError::Locked(LOCKOUT_MINUTES) } else { IdentityError::InvalidCredentials });
        }
        sqlx::query("UPDATE staff_accounts SET failed_logins = 0, locked_until = NULL WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        let token = random_hex(32);
        let csrf = random_hex(32);
        sqlx::query(
            "INSERT INTO sessions (id_hash, username, csrf_token, created_at, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash_token(&token))
        .bind(username)
        .bind(&csrf)
        .bind(timestamp_text(now))
        .bind(timestamp_text(now + chrono::Duration::hours(SESSION_HOURS)))
        .bind(user_agent.chars().take(200).collect::<String>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.audit(username, "login", username, "success", source).await?;
        let session = self.session(&token).await?.ok_or(IdentityError::Unauthenticated)?;
        Ok((token, session))
    }

    /// The session for a cookie token, if it exists and has not expired.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        if token.len() != 64 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT s.csrf_token, s.expires_at, a.username, a.display_name, a.department_code, a.roles
             FROM sessions s JOIN staff_accounts a ON a.username = s.username WHERE s.id_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(self.db.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires: String = row.try_get("expires_at")?;
        if expires < now_text() {
            return Ok(None);
        }
        let roles: String = row.try_get("roles")?;
        Ok(Some(Session {
            csrf_token: row.try_get("csrf_token")?,
            staff: Staff {
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                department: row.try_get("department_code")?,
                roles: roles.split(',').filter_map(Role::parse).collect(),
            },
        }))
    }

    /// Delete expired sessions; returns how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let n = sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now_text()).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(hash_token(token)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Append to the audit trail (who, what, target, result, source).
    pub async fn audit(&self, actor: &str, action: &str, target: &str, result: &str, source: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO audit_log (at, actor, action, target, result, source) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(now_text())
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(result)
            .bind(source)
            .execute(&mut *tx)
            .await?;
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
    use super::*;

    #[test]
    fn permissions_by_role() {
        let s = |roles: Vec<Role>| Staff { username: "u".into(), display_name: "u".into(), department: None, roles };
        assert!(s(vec![Role::DeptAdmin]).can(Permission::ManageCatalog));
        assert!(!s(vec![Role::Window]).can(Permission::ManageCatalog));
        assert!(s(vec![Role::Window]).can(Permission::Workbench));
        assert!(s(vec![Role::Supervisor]).can(Permission::ViewAudit));
        assert!(!s(vec![Role::DeptAdmin]).can(Permission::ViewAudit));
    }

    #[test]
    fn passwords_hash_with_owasp_argon2id() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(tokens_equal("abc", "abc") && !tokens_equal("abc", "abd") && !tokens_equal("abc", "ab"));
    }

    #[tokio::test]
    async fn login_sessions_and_lockout_on_both_backends() {
        for t in yiwang_store::testing::TestDb::each().await.unwrap() {
            let id = Identity::new(t.db.clone()).unwrap();
            let roles = vec!["platform_admin".to_string()];
            let new = |pw| NewStaff { username: "alice", display_name: "Alice", password: pw, department: None, roles: &roles };
            assert!(matches!(id.upsert_staff(new("short")).await, Err(IdentityError::WeakPassword)));
            id.upsert_staff(new("a-long-password-1")).await.unwrap();
            let (token, s) = id.login("alice", "a-long-password-1", "127.0.0.1", "test").await.unwrap();
            assert!(s.staff.is_platform_admin());
            assert_eq!(id.session(&token).await.unwrap().unwrap().csrf_token, s.csrf_token);
            id.logout(&token).await.unwrap();
            assert!(id.session(&token).await.unwrap().is_none());
            sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'").execute(t.db.reader()).await.unwrap();
            let (t2, _) = id.login("alice", "a-long-password-1", "", "").await.unwrap();
            sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'").execute(t.db.reader()).await.unwrap();
            assert!(id.session(&t2).await.unwrap().is_none(), "expired sessions are refused");
            assert_eq!(id.purge_expired_sessions().await.unwrap(), 1);
            assert!(matches!(id.login("nobody", "x", "", "").await, Err(IdentityError::InvalidCredentials)));
            for _ in 0..MAX_FAILED_LOGINS - 1 {
                assert!(matches!(id.login("alice", "wrong", "", "").await, Err(IdentityError::InvalidCredentials)));
            }
            assert!(matches!(id.login("alice", "wrong", "", "").await, Err(IdentityError::Locked(_))));
            // Even the right password is refused while locked.
            assert!(matches!(id.login("alice", "a-long-password-1", "", "").await, Err(IdentityError::Locked(_))));
            assert!(id.recent_audit(50).await.unwrap().iter().any(|a| a.result.contains("locked")));
        }
    }
}
