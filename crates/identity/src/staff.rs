//! Staff accounts: password plus TOTP sign-in, enrolment on first login.

use yiwang_store::now_text;
use yiwang_store::sqlx::{self, Row as _};

use crate::password::{check_policy, hash_blocking, verify_blocking, MIN_LEN_STAFF};
use crate::roles::{Role, Staff};
use crate::sessions::{record_login_in, roles_from, Kind, Session, Stage};
use crate::{hash_token, totp, ClientInfo, Identity, IdentityError, Result};

pub struct NewStaff<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub department: Option<&'a str>,
    pub region: Option<&'a str>,
    pub roles: &'a [String],
}

/// What an authenticator app needs to enrol.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TotpEnrollment {
    pub secret: String,
    pub otpauth_uri: String,
}

const TOTP_COLUMN: &str = "staff_accounts.totp_secret";

impl Identity {
    /// TOTP secrets are sealed at rest, bound to the account: a copy of the database cannot
    /// produce second-factor codes. Secrets stored before are read as they are and sealed at
    /// the next enrolment.
    pub(crate) fn seal_totp(&self, username: &str, secret: &str) -> Result<String> {
        yiwang_crypto::Sealer::new(self.pii.clone())
            .seal(TOTP_COLUMN, username, secret)
            .map_err(|e| IdentityError::PersonalData(e.to_string()))
    }

    fn open_totp(&self, username: &str, stored: String) -> Result<String> {
        yiwang_crypto::Sealer::new(self.pii.clone())
            .open(TOTP_COLUMN, username, stored)
            .map_err(|e| IdentityError::PersonalData(e.to_string()))
    }

    /// Create a staff account, or reset an existing one's name, password, department, region
    /// and roles (the authenticator enrolment is kept).
    pub async fn upsert_staff(&self, s: NewStaff<'_>) -> Result<()> {
        check_policy(s.password, MIN_LEN_STAFF, &[s.username])?;
        let roles = s
            .roles
            .iter()
            .map(|r| Role::parse(r).map(Role::key).ok_or_else(|| IdentityError::UnknownRole(r.clone())))
            .collect::<Result<Vec<_>>>()?
            .join(",");
        let hash = hash_blocking(s.password).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO staff_accounts (username, display_name, password_hash, department_code, region_code, roles, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash,
               department_code = excluded.department_code, region_code = excluded.region_code, roles = excluded.roles,
               failed_logins = 0, locked_until = NULL",
        )
        .bind(s.username)
        .bind(s.display_name)
        .bind(hash)
        .bind(s.department)
        .bind(s.region)
        .bind(roles)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn staff_exists(&self, username: &str) -> Result<bool> {
        Ok(self.staff_by_username(username).await?.is_some())
    }

    pub(crate) async fn staff_by_username(&self, username: &str) -> Result<Option<Staff>> {
        let row = sqlx::query("SELECT username, display_name, department_code, region_code, roles FROM staff_accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(self.db.reader())
            .await?;
        row.map(|r| {
            Ok(Staff {
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                department: r.try_get("department_code")?,
                region: r.try_get("region_code")?,
                roles: roles_from(&r.try_get::<String, _>("roles")?),
            })
        })
        .transpose()
    }

    /// Check a staff password. Opens a session at the `Totp` stage (or `Enroll` when no
    /// authenticator is set up yet); `Full` only when TOTP is switched off in configuration.
    pub async fn login_staff(&self, username: &str, password: &str, client: ClientInfo<'_>) -> Result<(String, Session)> {
        let row = sqlx::query("SELECT password_hash, locked_until, totp_secret, totp_last_step FROM staff_accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(self.db.reader())
            .await?;
        let Some(row) = row else {
            verify_blocking(password, &self.dummy_hash).await;
            self.audit("anonymous", "login", username, "failure: unknown user", client.source).await?;
            return Err(IdentityError::InvalidCredentials);
        };
        if let Err(e) = Self::check_lock(row.try_get("locked_until")?) {
            self.record_login(Kind::Staff, username, "failure: locked", client).await?;
            return Err(e);
        }
        if !verify_blocking(password, &row.try_get::<String, _>("password_hash")?).await {
            let e = self.register_failure(Kind::Staff, username, client).await?;
            self.audit(username, "login", username, "failure: wrong password", client.source).await?;
            return Err(e);
        }
        let enrolled = row.try_get::<Option<String>, _>("totp_secret")?.is_some() && row.try_get::<i64, _>("totp_last_step")? >= 0;
        let stage = match (self.config.require_staff_totp, enrolled) {
            (false, _) => Stage::Full,
            (true, true) => Stage::Totp,
            (true, false) => Stage::Enroll,
        };
        let mut tx = self.db.begin().await?;
        Self::clear_failures(&mut tx, Kind::Staff, username).await?;
        if stage == Stage::Enroll {
            // A new secret for every attempt: an abandoned enrolment leaves nothing usable.
            sqlx::query("UPDATE staff_accounts SET totp_secret = $1, totp_last_step = -1 WHERE username = $2")
                .bind(self.seal_totp(username, &totp::new_secret())?)
                .bind(username)
                .execute(&mut *tx)
                .await?;
        }
        let token = self.open_session(&mut tx, Kind::Staff, username, stage, client).await?;
        let result = if stage == Stage::Full { "success" } else { "password accepted, second factor due" };
        record_login_in(&mut tx, Kind::Staff, username, result, client).await?;
        crate::audit_in(&mut tx, username, "login", username, result, client.source).await?;
        tx.commit().await?;
        let session = self.session(&token).await?.ok_or(IdentityError::Unauthenticated)?;
        Ok((token, session))
    }

    /// The pending enrolment of a session at the `Enroll` stage.
    pub async fn totp_enrollment(&self, session: &Session) -> Result<TotpEnrollment> {
        if session.stage != Stage::Enroll || session.kind() != Kind::Staff {
            return Err(IdentityError::Forbidden);
        }
        let secret: Option<String> = sqlx::query("SELECT totp_secret FROM staff_accounts WHERE username = $1 AND totp_last_step = -1")
            .bind(session.principal_id())
            .fetch_optional(self.db.reader())
            .await?
            .map(|r| r.try_get("totp_secret"))
            .transpose()?
            .flatten();
        let secret = self.open_totp(session.principal_id(), secret.ok_or(IdentityError::Unauthenticated)?)?;
        let uri = totp::otpauth_uri(&secret, "yiwang", session.principal_id());
        Ok(TotpEnrollment { secret, otpauth_uri: uri })
    }

    /// Check the TOTP code of a pending session. On success the pending session is replaced by
    /// a full one with a new token (no session fixation); returns the new token.
    pub async fn complete_second_factor(&self, token: &str, code: &str, client: ClientInfo<'_>) -> Result<(String, Session)> {
        let session = self.session(token).await?.ok_or(IdentityError::Unauthenticated)?;
        if session.stage == Stage::Full || session.kind() != Kind::Staff {
            return Err(IdentityError::Forbidden);
        }
        let username = session.principal_id().to_string();
        let row = sqlx::query("SELECT totp_secret, totp_last_step FROM staff_accounts WHERE username = $1")
            .bind(&username)
            .fetch_one(self.db.reader())
            .await?;
        let secret = row.try_get::<Option<String>, _>("totp_secret")?.map(|s| self.open_totp(&username, s)).transpose()?;
        let last: i64 = row.try_get("totp_last_step")?;
        let Some(step) = secret.and_then(|s| totp::verify(&s, code, last)) else {
            let e = self.register_failure(Kind::Staff, &username, client).await?;
            return Err(match e {
                IdentityError::Locked(m) => IdentityError::Locked(m),
                _ => IdentityError::InvalidTotp,
            });
        };
        let mut tx = self.db.begin().await?;
        // Only a later step may be stored: two concurrent uses of one code cannot both pass.
        let n = sqlx::query("UPDATE staff_accounts SET totp_last_step = $1, failed_logins = 0 WHERE username = $2 AND totp_last_step < $1")
            .bind(step as i64)
            .bind(&username)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(IdentityError::InvalidTotp);
        }
        sqlx::query("DELETE FROM auth_sessions WHERE id_hash = $1").bind(hash_token(token)).execute(&mut *tx).await?;
        let new_token = self.open_session(&mut tx, Kind::Staff, &username, Stage::Full, client).await?;
        let what = if session.stage == Stage::Enroll { "success, authenticator enrolled" } else { "success" };
        record_login_in(&mut tx, Kind::Staff, &username, what, client).await?;
        crate::audit_in(&mut tx, &username, "login", &username, what, client.source).await?;
        tx.commit().await?;
        let full = self.session(&new_token).await?.ok_or(IdentityError::Unauthenticated)?;
        Ok((new_token, full))
    }

    /// Clear a staff member's authenticator so they enrol again at next login (lost phone).
    pub async fn reset_staff_totp(&self, admin: &Staff, username: &str, source: &str) -> Result<()> {
        admin.require(crate::Permission::ManageClients)?;
        let mut tx = self.db.begin().await?;
        let n = sqlx::query("UPDATE staff_accounts SET totp_secret = NULL, totp_last_step = 0 WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(IdentityError::NotFound("工作人员账号"));
        }
        Self::end_all_sessions(&mut tx, Kind::Staff, username).await?;
        crate::audit_in(&mut tx, &admin.username, "reset_totp", username, "success", source).await?;
        tx.commit().await?;
        Ok(())
    }
}
