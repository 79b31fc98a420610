//! Natural persons (自然人): registration by citizen ID number, real-name assurance levels,
//! password sign-in, password reset through the notification outbox.

use chrono::Utc;
use yiwang_core::codes::CitizenId;
use yiwang_core::mask::{mask_id_number, mask_phone};
use yiwang_notify::{Channel, Message};
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, timestamp_text, StoreError};

use crate::error::invalid;
use crate::password::{check_policy, hash_blocking, verify_blocking, MIN_LEN_PERSON};
use crate::roles::{Permission, Staff};
use crate::sessions::{record_login_in, Kind, Session, Stage};
use crate::sources::Verdict;
use crate::{hash_token, random_hex, ClientInfo, Identity, IdentityError, Result, RESET_MINUTES};

/// 实名认证等级 real-name assurance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Assurance {
    /// L1 自行声明 self-declared at registration.
    L1 = 1,
    /// L2 在线核验 name and ID number checked against the population data source.
    L2 = 2,
    /// L3 现场核验 ID card checked in person by window staff.
    L3 = 3,
}

impl Assurance {
    pub fn from_level(n: i64) -> Assurance {
        match n {
            3 => Assurance::L3,
            2 => Assurance::L2,
            _ => Assurance::L1,
        }
    }
    pub fn level(self) -> u8 {
        self as u8
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Assurance::L1 => "L1 自行声明",
            Assurance::L2 => "L2 在线实名核验",
            Assurance::L3 => "L3 现场核验",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Assurance::L1 => "L1 self-declared",
            Assurance::L2 => "L2 verified online",
            Assurance::L3 => "L3 verified in person",
        }
    }
}

/// A natural person's account. Serialises with masked ID number and phone only.
#[derive(Debug, Clone)]
pub struct Person {
    pub subject: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub email: Option<String>,
    pub assurance: Assurance,
    pub verified_at: Option<String>,
}

impl Person {
    pub fn id_number_masked(&self) -> String {
        mask_id_number(&self.id_number)
    }
    pub fn phone_masked(&self) -> String {
        mask_phone(&self.phone)
    }
}

impl serde::Serialize for Person {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Person", 6)?;
        st.serialize_field("subject", &self.subject)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("id_number_masked", &self.id_number_masked())?;
        st.serialize_field("phone_masked", &self.phone_masked())?;
        st.serialize_field("assurance_level", &self.assurance.level())?;
        st.serialize_field("verified_at", &self.verified_at)?;
        st.end()
    }
}

pub struct NewPerson<'a> {
    pub name: &'a str,
    pub id_number: &'a str,
    pub phone: &'a str,
    pub email: Option<&'a str>,
    pub password: &'a str,
}

/// Mainland mobile number: 11 digits starting 13–19.
pub(crate) fn check_phone(phone: &str) -> Result<String> {
    let p = phone.trim();
    let ok = p.len() == 11 && p.bytes().all(|b| b.is_ascii_digit()) && p.starts_with('1') && p.as_bytes()[1] >= b'3';
    if ok {
        Ok(p.to_string())
    } else {
        Err(invalid("手机号", "应为11位中国大陆手机号码"))
    }
}

pub(crate) fn check_name(name: &str) -> Result<String> {
    let n = name.trim();
    let len = n.chars().count();
    if len == 0 || len > 50 || n.chars().any(|c| c.is_control() || "<>\"'&;".contains(c)) {
        return Err(invalid("姓名", "应为1至50个字符，不含特殊符号"));
    }
    Ok(n.to_string())
}

fn check_email(email: Option<&str>) -> Result<Option<String>> {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => {
            let ok = e.len() <= 120
                && e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !e.contains(' '));
            if ok {
                Ok(Some(e.to_string()))
            } else {
                Err(invalid("电子邮箱", "格式不正确"))
            }
        }
    }
}

const PERSON_COLUMNS: &str = "subject, name, id_number_enc, phone_enc, email, assurance, verified_at";

/// Field names the personal-data keys bind ciphertexts and indexes to.
const ID_FIELD: &str = "persons.id_number";
const PHONE_FIELD: &str = "persons.phone";

impl Identity {
    fn person_from(&self, r: &yiwang_store::Row) -> Result<Person> {
        Ok(Person {
            subject: r.try_get("subject")?,
            name: r.try_get("name")?,
            id_number: self.open_pii(ID_FIELD, r.try_get("id_number_enc")?)?,
            phone: self.open_pii(PHONE_FIELD, r.try_get("phone_enc")?)?,
            email: r.try_get("email")?,
            assurance: Assurance::from_level(r.try_get("assurance")?),
            verified_at: r.try_get("verified_at")?,
        })
    }

    pub(crate) fn open_pii(&self, field: &str, sealed: Option<String>) -> Result<String> {
        let sealed = sealed.ok_or_else(|| IdentityError::PersonalData("个人信息尚未加密".into()))?;
        self.pii.open(field, &sealed).map_err(|e| IdentityError::PersonalData(e.to_string()))
    }

    /// Blind indexes of a login (ID number with upper-case X, or phone) for the two columns.
    fn login_indexes(&self, login: &str) -> (String, String) {
        let login = login.trim().to_ascii_uppercase();
        (self.pii.index(ID_FIELD, &login), self.pii.index(PHONE_FIELD, &login))
    }

    /// Encrypt the ID numbers and phones of accounts, and staff TOTP secrets, stored before
    /// encryption at rest (once, at start-up, in one transaction). Returns how many rows were
    /// converted.
    pub async fn protect_personal_data(&self) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let rows = sqlx::query("SELECT subject, id_number, phone FROM persons WHERE id_number_enc IS NULL OR phone_enc IS NULL")
            .fetch_all(&mut *tx)
            .await?;
        for r in &rows {
            let id: String = r.try_get("id_number")?;
            let phone: String = r.try_get("phone")?;
            sqlx::query("UPDATE persons SET id_number = $1, id_number_enc = $2, phone = $3, phone_enc = $4 WHERE subject = $5")
                .bind(self.pii.index(ID_FIELD, &id))
                .bind(self.seal_pii(ID_FIELD, &id)?)
                .bind(self.pii.index(PHONE_FIELD, &phone))
                .bind(self.seal_pii(PHONE_FIELD, &phone)?)
                .bind(r.try_get::<String, _>("subject")?)
                .execute(&mut *tx)
                .await?;
        }
        // Staff second-factor secrets stored before sealing.
        let secrets = sqlx::query("SELECT username, totp_secret FROM staff_accounts WHERE totp_secret NOT LIKE 'sm4gcm1:%'")
            .fetch_all(&mut *tx)
            .await?;
        for r in &secrets {
            let username: String = r.try_get("username")?;
            let secret: String = r.try_get("totp_secret")?;
            sqlx::query("UPDATE staff_accounts SET totp_secret = $1 WHERE username = $2")
                .bind(self.seal_totp(&username, &secret)?)
                .bind(&username)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok((rows.len() + secrets.len()) as u64)
    }

    fn seal_pii(&self, field: &str, value: &str) -> Result<String> {
        self.pii.seal(field, value).map_err(|e| IdentityError::PersonalData(e.to_string()))
    }
}

impl Identity {
    /// Register a natural person at L1. The ID number's check digit and birth date are
    /// validated; an ID number or phone can belong to only one account.
    pub async fn register_person(&self, p: NewPerson<'_>) -> Result<Person> {
        let name = check_name(p.name)?;
        let id = CitizenId::parse(p.id_number)?;
        let phone = check_phone(p.phone)?;
        let email = check_email(p.email)?;
        check_policy(p.password, MIN_LEN_PERSON, &[id.as_str(), &phone])?;
        if self.person_by_login(id.as_str()).await?.is_some() {
            return Err(IdentityError::IdNumberTaken);
        }
        if self.person_by_login(&phone).await?.is_some() {
            return Err(IdentityError::PhoneTaken);
        }
        let hash = hash_blocking(p.password).await?;
        let subject = uuid::Uuid::new_v4().to_string();
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO persons (subject, id_number, name, phone, email, password_hash, assurance, created_at, id_number_enc, phone_enc)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9)",
        )
        .bind(&subject)
        .bind(self.pii.index(ID_FIELD, id.as_str()))
        .bind(&name)
        .bind(self.pii.index(PHONE_FIELD, &phone))
        .bind(&email)
        .bind(hash)
        .bind(now_text())
        .bind(self.seal_pii(ID_FIELD, id.as_str())?)
        .bind(self.seal_pii(PHONE_FIELD, &phone)?)
        .execute(&mut *tx)
        .await;
        match inserted.map_err(StoreError::from) {
            Ok(_) => {}
            // Lost a race with a concurrent registration: the unique index decides.
            Err(StoreError::Duplicate(_)) => return Err(IdentityError::IdNumberTaken),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        self.person(&subject).await
    }

    pub async fn person(&self, subject: &str) -> Result<Person> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PERSON_COLUMNS} FROM persons WHERE subject = $1")))
            .bind(subject)
            .fetch_optional(self.db.reader())
            .await?;
        row.as_ref().map(|r| self.person_from(r)).transpose()?.ok_or(IdentityError::NotFound("用户"))
    }

    /// A person by ID number (either case of X) or phone.
    pub async fn person_by_login(&self, login: &str) -> Result<Option<Person>> {
        let (by_id, by_phone) = self.login_indexes(login);
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PERSON_COLUMNS} FROM persons WHERE id_number = $1 OR phone = $2")))
            .bind(&by_id)
            .bind(&by_phone)
            .fetch_optional(self.db.reader())
            .await?;
        row.as_ref().map(|r| self.person_from(r)).transpose()
    }

    /// Sign a person in by ID number or phone and password.
    /// Register and sign straight in. The password was hashed a moment ago, so the session is
    /// opened without a second argon2 run.
    pub async fn register_and_sign_in(&self, n: NewPerson<'_>, client: ClientInfo<'_>) -> Result<(Person, String, Session)> {
        let p = self.register_person(n).await?;
        let (token, session) = self.sign_person_in(&p.subject, "success: registered", client).await?;
        Ok((p, token, session))
    }

    /// Open a full session for a person whose credentials were just established, clearing
    /// failed attempts and recording the sign-in, in one transaction.
    async fn sign_person_in(&self, subject: &str, outcome: &str, client: ClientInfo<'_>) -> Result<(String, Session)> {
        let mut tx = self.db.begin().await?;
        Self::clear_failures(&mut tx, Kind::Person, subject).await?;
        let token = self.open_session(&mut tx, Kind::Person, subject, Stage::Full, client).await?;
        record_login_in(&mut tx, Kind::Person, subject, outcome, client).await?;
        tx.commit().await?;
        let session = self.session(&token).await?.ok_or(IdentityError::Unauthenticated)?;
        Ok((token, session))
    }

    pub async fn login_person(&self, login: &str, password: &str, client: ClientInfo<'_>) -> Result<(String, Session)> {
        let (by_id, by_phone) = self.login_indexes(login);
        let row = sqlx::query("SELECT subject, password_hash, locked_until FROM persons WHERE id_number = $1 OR phone = $2")
            .bind(&by_id)
            .bind(&by_phone)
            .fetch_optional(self.db.reader())
            .await?;
        let Some(row) = row else {
            verify_blocking(password, &self.dummy_hash).await;
            return Err(IdentityError::InvalidCredentials);
        };
        let subject: String = row.try_get("subject")?;
        if let Err(e) = Self::check_lock(row.try_get("locked_until")?) {
            self.record_login(Kind::Person, &subject, "failure: locked", client).await?;
            return Err(e);
        }
        if !verify_blocking(password, &row.try_get::<String, _>("password_hash")?).await {
            return Err(self.register_failure(Kind::Person, &subject, client).await?);
        }
        self.sign_person_in(&subject, "success", client).await
    }

    /// The registered address (户籍地址) of a verified person (L2+), from the population source;
    /// forms pre-fill it so the applicant does not type what the state already knows.
    pub async fn registered_address(&self, p: &Person) -> Result<Option<String>> {
        if p.assurance < Assurance::L2 {
            return Ok(None);
        }
        self.population.address(&p.id_number).await
    }

    /// 在线实名核验: check name and ID number against the population data source; raises
    /// the account to L2 on a match.
    pub async fn verify_online(&self, subject: &str) -> Result<Person> {
        let p = self.person(subject).await?;
        if p.assurance >= Assurance::L2 {
            return Ok(p);
        }
        match self.population.check(&p.id_number, &p.name).await? {
            Verdict::Match => {}
            Verdict::Mismatch | Verdict::Unknown => return Err(IdentityError::VerificationFailed),
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE persons SET assurance = 2, verified_at = $1, verified_by = $2 WHERE subject = $3 AND assurance < 2")
            .bind(now_text())
            .bind(format!("population:{}", self.population.name()))
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.person(subject).await
    }

    /// 现场核验: window staff checked the ID card in person; raises the account to L3.
    pub async fn verify_in_person(&self, staff: &Staff, id_number: &str, name: &str, source: &str) -> Result<Person> {
        staff.require(Permission::VerifyInPerson)?;
        let id = CitizenId::parse(id_number)?;
        let p = self.person_by_login(id.as_str()).await?.ok_or(IdentityError::NotFound("该身份证号的账号"))?;
        if p.name != name.trim() {
            return Err(IdentityError::VerificationFailed);
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE persons SET assurance = 3, verified_at = $1, verified_by = $2 WHERE subject = $3")
            .bind(now_text())
            .bind(format!("staff:{}", staff.username))
            .bind(&p.subject)
            .execute(&mut *tx)
            .await?;
        crate::audit_in(&mut tx, &staff.username, "verify_in_person", &p.id_number_masked(), "success", source).await?;
        tx.commit().await?;
        self.person(&p.subject).await
    }

    /// Send a password reset link by SMS. Says nothing about whether the account exists.
    pub async fn request_password_reset(&self, login: &str) -> Result<()> {
        let Some(p) = self.person_by_login(login).await? else { return Ok(()) };
        let token = random_hex(32);
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO password_resets (token_hash, kind, principal, created_at, expires_at) VALUES ($1, 'person', $2, $3, $4)")
            .bind(hash_token(&token))
            .bind(&p.subject)
            .bind(timestamp_text(now))
            .bind(timestamp_text(now + chrono::Duration::minutes(RESET_MINUTES)))
            .execute(&mut *tx)
            .await?;
        let link = format!("{}/account/reset?token={token}", self.config.public_url);
        let body = format!("【一网】您正在重置密码，请在{RESET_MINUTES}分钟内打开链接设置新密码：{link} 如非本人操作请忽略。");
        yiwang_notify::enqueue(
            &mut tx,
            &yiwang_notify::Sealer::new(self.pii.clone()),
            &Message { channel: Channel::Sms, recipient: p.phone.clone(), subject: "重置密码".into(), body, link: None },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Set a new password with a reset token; ends every session of the account.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<()> {
        let row = sqlx::query("SELECT principal, expires_at, used_at FROM password_resets WHERE token_hash = $1 AND kind = 'person'")
            .bind(hash_token(token.trim()))
            .fetch_optional(self.db.reader())
            .await?
            .ok_or(IdentityError::InvalidResetToken)?;
        let used: Option<String> = row.try_get("used_at")?;
        if used.is_some() || row.try_get::<String, _>("expires_at")? < now_text() {
            return Err(IdentityError::InvalidResetToken);
        }
        let p = self.person(&row.try_get::<String, _>("principal")?).await?;
        check_policy(new_password, MIN_LEN_PERSON, &[&p.id_number, &p.phone])?;
        let hash = hash_blocking(new_password).await?;
        let mut tx = self.db.begin().await?;
        let n = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(now_text())
            .bind(hash_token(token.trim()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(IdentityError::InvalidResetToken);
        }
        sqlx::query("UPDATE persons SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE subject = $2")
            .bind(hash)
            .bind(&p.subject)
            .execute(&mut *tx)
            .await?;
        Self::end_all_sessions(&mut tx, Kind::Person, &p.subject).await?;
        yiwang_notify::enqueue(
            &mut tx,
            &yiwang_notify::Sealer::new(self.pii.clone()),
            &Message {
                channel: Channel::Sms,
                recipient: p.phone.clone(),
                subject: "密码已重置".into(),
                body: "【一网】您的登录密码已重置，所有设备已退出登录。如非本人操作请立即联系12345。".into(),
                link: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Change the password of a signed-in person (old password required).
    pub async fn change_password(&self, subject: &str, old: &str, new: &str) -> Result<()> {
        let phc: String = sqlx::query("SELECT password_hash FROM persons WHERE subject = $1")
            .bind(subject)
            .fetch_one(self.db.reader())
            .await?
            .try_get("password_hash")?;
        if !verify_blocking(old, &phc).await {
            return Err(IdentityError::InvalidCredentials);
        }
        let p = self.person(subject).await?;
        check_policy(new, MIN_LEN_PERSON, &[&p.id_number, &p.phone])?;
        let hash = hash_blocking(new).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE persons SET password_hash = $1 WHERE subject = $2").bind(hash).bind(subject).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Register a demo person at a given assurance level (demo loader only; the caller skips
    /// people who already exist).
    pub(crate) async fn seed_person(&self, p: NewPerson<'_>, assurance: Assurance) -> Result<()> {
        let person = self.register_person(p).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE persons SET assurance = $1, verified_at = $2, verified_by = 'demo' WHERE subject = $3 AND assurance < $1")
            .bind(assurance.level() as i64)
            .bind(now_text())
            .bind(&person.subject)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
