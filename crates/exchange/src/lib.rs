//! Data sharing and exchange between departments (数据共享交换 · 信息资源目录), and the
//! citizen's "who accessed my data" (数据访问记录).
//!
//! Departments keep their data; yiwang shares it under rules, in the manner of X-Road:
//! - [`Resource`]s form the information resource catalog; each is unconditionally shared,
//!   conditionally shared (an approved [`Grant`] names purpose, basis, items and validity) or
//!   not shared.
//! - [`Member`] systems authenticate with a signed client assertion ([`token`]) and call the
//!   gateway ([`Exchange::call`]), which checks the rules, fetches from the provider (shared
//!   store, built-in or REST), releases only the granted items, signs an [`AccessRecord`] and
//!   waits until it is durable ([`log`]) before answering. The ledger records every row.
//! - The case workflow verifies applicants' facts through the same gateway
//!   ([`Channel::Workflow`]) and staff reads of personal data are logged too
//!   ([`Exchange::record_read`]), so a person sees every access in one list.

pub mod demo;
pub mod error;
pub mod gateway;
mod log;
pub mod model;
mod store;
pub mod token;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};
use yiwang_core::codes::{CitizenId, CreditCode};
use yiwang_crypto::Vault;
use yiwang_identity::{Permission, Staff};
use yiwang_store::{now_text, Db};

pub use error::{ExchangeError, Result};
pub use gateway::{GatewaySettings, Provider};
pub use model::*;

use crate::error::invalid;
use crate::gateway::{authorize, filter_records, FetchContext, Fetcher, Limiter, Rules, Snapshot};
use crate::log::LogWriter;
use crate::token::Tokens;

/// Resource code of staff reads through the workbench in the access log.
pub const WORKBENCH_RESOURCE: &str = "workbench:case";

/// One call through the gateway.
#[derive(Debug, Clone)]
pub struct CallRequest {
    pub channel: Channel,
    pub member_id: String,
    pub resource: String,
    pub subject: String,
    pub purpose: String,
    pub case_number: Option<String>,
    /// Items wanted (default: all the member may receive).
    pub fields: Option<Vec<String>>,
    pub request_id: Option<String>,
}

/// A staff member opening someone's personal data in the workbench.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    pub staff: String,
    pub department: String,
    pub subject: String,
    pub case_number: Option<String>,
    /// Department that holds the data read (the case's lead department).
    pub holder_department: String,
    pub purpose: String,
}

/// A new member system.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewMember {
    pub department_code: String,
    /// Subsystem name: letters, digits, `-` and `_` (the member id is `{department}:{subsystem}`).
    pub subsystem: String,
    pub name: String,
    /// Ed25519 public key, base64url (the JWK `x`).
    pub public_key: String,
    #[serde(default)]
    pub rate_per_sec: Option<u32>,
}

/// An access request.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct GrantRequest {
    pub member_id: String,
    pub resource_code: String,
    pub purpose: String,
    pub legal_basis: String,
    pub fields: Vec<String>,
    /// Last day (YYYY-MM-DD), at most three years ahead.
    pub valid_to: String,
    #[serde(default)]
    pub rate_per_sec: Option<u32>,
}

/// Default calls per second for new members and grants.
pub const DEFAULT_RATE: u32 = 100;
/// Highest rate a member or grant may be given.
pub const MAX_RATE: u32 = 1_000_000;

struct Inner {
    db: Db,
    rules: Arc<Rules>,
    fetcher: Fetcher,
    limiter: Limiter,
    log: LogWriter,
    tokens: Tokens,
    signer: ed25519_dalek::SigningKey,
    key_id: String,
    token_url: String,
    /// Seals subjects and shared records at rest.
    sealer: yiwang_crypto::Sealer,
}

/// The exchange service.
#[derive(Clone)]
pub struct Exchange {
    inner: Arc<Inner>,
}

/// Today in China (UTC+8).
pub fn china_today() -> chrono::NaiveDate {
    yiwang_cases::china_date(chrono::Utc::now())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_admin(staff: &Staff) -> bool {
    staff.is_platform_admin()
}

/// Platform admins and supervisors see every department's grants and log records.
fn sees_all(staff: &Staff) -> bool {
    staff.is_platform_admin() || staff.can(Permission::ViewAudit)
}

/// Platform admins act for any department; others only for their own.
fn require_department(staff: &Staff, department: &str) -> Result<()> {
    if is_admin(staff) || staff.department.as_deref() == Some(department) {
        Ok(())
    } else {
        Err(ExchangeError::Forbidden)
    }
}

impl Exchange {
    /// Open the exchange: load the rules, the gateway key (made on first start), start the log
    /// writer. `token_key` authenticates access tokens (derive it from the master key, so
    /// every node shares it).
    pub async fn open(
        db: Db,
        vault: &Vault,
        token_key: [u8; 32],
        public_url: &str,
        builtin: HashMap<String, Arc<dyn Provider>>,
        settings: GatewaySettings,
    ) -> Result<Exchange> {
        let (key, sealed) = {
            let mut tx = db.begin().await?;
            let found = match store::active_key(&mut tx).await? {
                Some(k) => k,
                None => {
                    let (secret, public) = yiwang_crypto::generate(yiwang_crypto::Algorithm::Ed25519)?;
                    let k = GatewayKey {
                        key_id: format!("gw-{}", uuid::Uuid::new_v4().simple()),
                        algorithm: "Ed25519".into(),
                        public_key: B64.encode(&public),
                        created_at: now_text(),
                        retired_at: None,
                    };
                    let sealed = vault.seal(&k.key_id, &secret)?;
                    store::insert_key(&mut tx, &k, &sealed).await?;
                    (k, sealed)
                }
            };
            tx.commit().await?;
            found
        };
        let secret = vault.open(&key.key_id, &sealed)?;
        let seed: [u8; 32] = secret.as_slice().try_into().map_err(|_| ExchangeError::Config("网关密钥长度错误".into()))?;
        let signer = ed25519_dalek::SigningKey::from_bytes(&seed);
        if db.dialect() == yiwang_store::Dialect::Sqlite {
            let mut tx = db.begin().await?;
            yiwang_store::sqlx::raw_sql(yiwang_store::sqlx::AssertSqlSafe(store::intake_sql())).execute(&mut *tx).await?;
            tx.commit().await?;
        }
        let rules = Arc::new(Rules::new(Snapshot::load(&db).await?));
        let sealer = settings.personal_data.clone();
        let log = LogWriter::spawn(db.clone(), rules.clone(), sealer.clone());
        Ok(Exchange {
            inner: Arc::new(Inner {
                fetcher: Fetcher::new(db.clone(), builtin, settings),
                db,
                rules,
                limiter: Limiter::default(),
                log,
                tokens: Tokens::new(token_key),
                signer,
                key_id: key.key_id,
                token_url: format!("{}/exchange/token", public_url.trim_end_matches('/')),
                sealer,
            }),
        })
    }

    /// Seal shared records and log subjects stored before encryption at rest (start-up).
    pub async fn protect_personal_data(&self) -> Result<u64> {
        store::protect_rows(&self.inner.db, &self.inner.sealer).await
    }

    /// The token endpoint's URL: the audience client assertions must name.
    pub fn token_url(&self) -> &str {
        &self.inner.token_url
    }

    async fn snapshot(&self) -> Result<Arc<Snapshot>> {
        self.inner.rules.get(&self.inner.db).await
    }

    /// Drop the cached rules so the next call reads them again.
    fn changed(&self) {
        self.inner.rules.invalidate();
    }

    // ----- authentication -----

    /// Exchange a client assertion for an access token.
    pub async fn token(&self, assertion: &str) -> Result<(String, i64)> {
        let member_id = Tokens::claimed_member(assertion)?;
        let snap = self.snapshot().await?;
        let member =
            snap.members.get(&member_id).ok_or_else(|| ExchangeError::Unauthenticated(format!("未注册的成员系统：{member_id}")))?;
        let now = chrono::Utc::now().timestamp();
        self.inner.tokens.verify_assertion(assertion, member, &self.inner.token_url, now)?;
        Ok((self.inner.tokens.issue(&member_id, now)?, token::TOKEN_SECONDS))
    }

    /// The member an access token belongs to.
    pub fn authenticate(&self, access_token: &str) -> Result<String> {
        self.inner.tokens.check(access_token, chrono::Utc::now().timestamp())
    }

    // ----- the gateway -----

    /// One exchange: check, fetch, filter, sign, log (durably), answer. Denials are logged
    /// too, then returned as [`ExchangeError::Denied`].
    pub async fn call(&self, req: CallRequest) -> Result<Answer> {
        let started = Instant::now();
        let snap = self.snapshot().await?;
        let member = snap
            .members
            .get(&req.member_id)
            .filter(|m| m.disabled_at.is_none())
            .ok_or_else(|| ExchangeError::Unauthenticated(format!("成员系统不存在或已停用：{}", req.member_id)))?
            .clone();
        let resource = snap.resources.get(&req.resource).ok_or_else(|| ExchangeError::ResourceNotFound(req.resource.clone()))?.clone();
        let subject = match resource.subject_kind {
            SubjectKind::Person => CitizenId::parse(&req.subject)?.as_str().to_string(),
            SubjectKind::Business => CreditCode::parse(&req.subject)?.as_str().to_string(),
        };
        let purpose = req.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 200 {
            return Err(invalid("purpose", "请说明用途（1到200个字）"));
        }
        if req.case_number.as_ref().is_some_and(|c| c.len() > 64) {
            return Err(invalid("case_number", "办件编号过长"));
        }
        let request_id =
            req.request_id.clone().filter(|r| !r.is_empty() && r.len() <= 128).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        // Grants keep their last day as `YYYY-MM-DD`, compared as text.
        let today = china_today().format("%Y-%m-%d").to_string();
        let decision = authorize(&snap, &member, &resource, purpose, req.fields.as_deref(), &today, req.channel == Channel::Gateway);
        let mut record = AccessRecord {
            exchange_id: uuid::Uuid::now_v7().to_string(),
            at: now_text(),
            channel: req.channel,
            consumer: member.member_id.clone(),
            consumer_department: member.department_code.clone(),
            resource_code: resource.code.clone(),
            provider_department: resource.provider_code.clone(),
            subject,
            purpose: purpose.to_string(),
            case_number: req.case_number.clone(),
            grant_id: None,
            result: Outcome::Denied,
            fields: vec![],
            bytes: 0,
            body_hash: sha256_hex(b"[]"),
            latency_us: 0,
            request_id,
            key_id: self.inner.key_id.clone(),
            signature: String::new(),
        };
        // Refused calls count against the member's own rate too, so hammering a resource
        // without a grant cannot flood the log.
        let rate = decision.as_ref().map(|d| d.rate).unwrap_or(member.rate_per_sec);
        if !self.inner.limiter.allow(&member.member_id, &resource.code, rate) {
            return Err(ExchangeError::RateLimited);
        }
        let decision = match decision {
            Ok(d) => d,
            Err(reason) => {
                self.finish(&mut record, started).await?;
                return Err(ExchangeError::Denied(reason));
            }
        };
        record.grant_id = decision.grant.as_ref().map(|g| g.grant_id.clone());
        if req.channel == Channel::Workflow {
            if let Some(g) = &decision.grant {
                // The workflow states the approved purpose, and the case it serves.
                record.purpose = format!("{}（{}）", g.purpose, purpose);
            }
        }
        record.fields = decision.fields.clone();
        let ctx = FetchContext { subject: &record.subject, request_id: &record.request_id, consumer: &member.member_id, purpose };
        let fetched = self.inner.fetcher.fetch(&resource, &ctx).await.and_then(|v| filter_records(v, &decision.fields));
        let records = match fetched {
            Ok(r) => r,
            Err(e) => {
                record.result = Outcome::ProviderError;
                self.finish(&mut record, started).await?;
                return Err(ExchangeError::ProviderUnavailable(e));
            }
        };
        let body = serde_json::to_vec(&records)?;
        record.result = if records.is_empty() { Outcome::NotFound } else { Outcome::Ok };
        record.bytes = body.len() as i64;
        record.body_hash = sha256_hex(&body);
        self.finish(&mut record, started).await?;
        Ok(Answer {
            exchange_id: record.exchange_id,
            resource: record.resource_code,
            result: record.result,
            fields: record.fields,
            records,
            at: record.at,
            key_id: record.key_id,
            signature: record.signature,
        })
    }

    /// Sign the record and wait until it is durable.
    async fn finish(&self, record: &mut AccessRecord, started: Instant) -> Result<()> {
        let message = record.signed_message();
        record.signature = B64.encode(self.inner.signer.sign(message.as_bytes()).to_bytes());
        record.latency_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        // The batch digest covers this record; computed here, on the caller's task, while the
        // message is at hand.
        let digest = record.digest_of(&message);
        self.inner.log.append(record.clone(), digest).await
    }

    /// Log a staff member's read of someone's personal data in the workbench.
    pub async fn record_read(&self, r: ReadRecord) -> Result<()> {
        let started = Instant::now();
        let mut record = AccessRecord {
            exchange_id: uuid::Uuid::now_v7().to_string(),
            at: now_text(),
            channel: Channel::Workbench,
            consumer: r.staff,
            consumer_department: r.department,
            resource_code: WORKBENCH_RESOURCE.into(),
            provider_department: r.holder_department,
            subject: r.subject,
            purpose: r.purpose,
            case_number: r.case_number,
            grant_id: None,
            result: Outcome::Ok,
            fields: vec![],
            bytes: 0,
            body_hash: sha256_hex(b"[]"),
            latency_us: 0,
            request_id: uuid::Uuid::now_v7().to_string(),
            key_id: self.inner.key_id.clone(),
            signature: String::new(),
        };
        self.finish(&mut record, started).await
    }

    /// Check a record's signature against the gateway keys.
    pub async fn verify_record(&self, r: &AccessRecord) -> Result<bool> {
        let keys = self.keys().await?;
        let Some(k) = keys.iter().find(|k| k.key_id == r.key_id) else { return Ok(false) };
        let (Ok(pk), Ok(sig)) = (B64.decode(&k.public_key), B64.decode(&r.signature)) else { return Ok(false) };
        let Ok(pk) = yiwang_crypto::PublicKey::parse(yiwang_crypto::Algorithm::Ed25519, &pk) else { return Ok(false) };
        Ok(pk.verify(r.signed_message().as_bytes(), &sig))
    }

    /// Whether a REST provider's circuit is open.
    pub fn circuit_open(&self, resource: &str) -> bool {
        self.inner.fetcher.breakers.is_open(resource)
    }

    // ----- catalog -----

    pub async fn resources(&self) -> Result<Vec<Resource>> {
        let mut v: Vec<Resource> = self.snapshot().await?.resources.values().map(|r| (**r).clone()).collect();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(v)
    }

    /// Resources whose name, classification, provider, summary or items contain every word.
    pub async fn search(&self, q: &str) -> Result<Vec<Resource>> {
        let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
        Ok(self
            .resources()
            .await?
            .into_iter()
            .filter(|r| {
                let hay = format!(
                    "{} {} {} {} {} {}",
                    r.name,
                    r.classification,
                    r.provider_name,
                    r.summary,
                    r.code,
                    r.items.iter().map(|i| format!("{} {}", i.label, i.name)).collect::<Vec<_>>().join(" ")
                )
                .to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect())
    }

    pub async fn resource(&self, code: &str) -> Result<Resource> {
        self.snapshot().await?.resources.get(code).map(|r| (**r).clone()).ok_or_else(|| ExchangeError::ResourceNotFound(code.into()))
    }

    /// Publish or change a resource of the staff member's department.
    pub async fn put_resource(&self, staff: &Staff, r: &Resource) -> Result<()> {
        staff_may(staff, Permission::ManageExchange)?;
        require_department(staff, &r.provider_code)?;
        self.save_resource(r, &staff.username).await
    }

    /// Publish or change a resource without a staff actor (start-up, demo).
    pub async fn save_resource(&self, r: &Resource, actor: &str) -> Result<()> {
        check_resource(r)?;
        let mut tx = self.inner.db.begin().await?;
        store::put_resource(&mut tx, r, actor, &now_text()).await?;
        yiwang_identity::audit_in(&mut tx, actor, "exchange.resource.put", &r.code, "ok", "").await?;
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    /// Records held in the shared store for a resource.
    pub async fn record_count(&self, code: &str) -> Result<i64> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::record_count(&mut c, code).await
    }

    /// A provider member pushes base data into the shared store (replacing by subject).
    pub async fn push_records(&self, member_id: &str, code: &str, records: &[serde_json::Value]) -> Result<usize> {
        let snap = self.snapshot().await?;
        let member = snap
            .members
            .get(member_id)
            .filter(|m| m.disabled_at.is_none())
            .ok_or_else(|| ExchangeError::Unauthenticated(member_id.to_string()))?;
        let resource = snap.resources.get(code).ok_or_else(|| ExchangeError::ResourceNotFound(code.into()))?;
        if resource.provider_code != member.department_code {
            return Err(ExchangeError::Forbidden);
        }
        self.put_records(resource, records).await
    }

    async fn put_records(&self, resource: &Resource, records: &[serde_json::Value]) -> Result<usize> {
        if resource.service != Service::Store {
            return Err(invalid("resource", "该资源不是共享库方式，不能推送数据"));
        }
        if records.len() > 10_000 {
            return Err(invalid("records", "一次最多推送10000条"));
        }
        let mut rows = Vec::with_capacity(records.len());
        for (i, rec) in records.iter().enumerate() {
            let obj = rec.as_object().ok_or_else(|| invalid(format!("records[{i}]"), "应为JSON对象"))?;
            let subject = obj
                .get(&resource.subject_item)
                .and_then(|v| v.as_str())
                .ok_or_else(|| invalid(format!("records[{i}].{}", resource.subject_item), "缺少主体标识"))?;
            let subject = match resource.subject_kind {
                SubjectKind::Person => CitizenId::parse(subject)?.as_str().to_string(),
                SubjectKind::Business => CreditCode::parse(subject)?.as_str().to_string(),
            };
            if let Some(k) = obj.keys().find(|k| resource.item(k).is_none()) {
                return Err(invalid(format!("records[{i}].{k}"), "不是该资源的信息项"));
            }
            rows.push((subject, serde_json::to_string(obj)?));
        }
        let mut tx = self.inner.db.begin().await?;
        store::put_records(&mut tx, &self.inner.sealer, &resource.code, &rows, &now_text()).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    // ----- members -----

    pub async fn members(&self) -> Result<Vec<Member>> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::members(&mut c).await
    }

    pub async fn member(&self, id: &str) -> Result<Member> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::member(&mut c, id).await?.ok_or_else(|| ExchangeError::MemberNotFound(id.into()))
    }

    /// Register a department's system.
    pub async fn register_member(&self, staff: &Staff, m: &NewMember) -> Result<Member> {
        staff_may(staff, Permission::ManageExchange)?;
        require_department(staff, &m.department_code)?;
        self.insert_member(m, &staff.username).await
    }

    /// Register a member without a staff actor (start-up, demo).
    pub async fn insert_member(&self, m: &NewMember, actor: &str) -> Result<Member> {
        CreditCode::parse(&m.department_code)?;
        if m.subsystem.is_empty()
            || m.subsystem.len() > 40
            || !m.subsystem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid("subsystem", "子系统名称应为1到40个字母、数字、-或_"));
        }
        if m.name.trim().is_empty() || m.name.chars().count() > 100 {
            return Err(invalid("name", "请填写系统名称（不超过100字）"));
        }
        check_public_key(&m.public_key)?;
        let rate = check_rate(m.rate_per_sec)?;
        let member = Member {
            member_id: format!("{}:{}", m.department_code, m.subsystem),
            department_code: m.department_code.clone(),
            name: m.name.trim().to_string(),
            public_key: m.public_key.trim().to_string(),
            rate_per_sec: rate,
            disabled_at: None,
            created_at: now_text(),
            created_by: actor.to_string(),
        };
        let mut tx = self.inner.db.begin().await?;
        store::insert_member(&mut tx, &member).await?;
        yiwang_identity::audit_in(&mut tx, actor, "exchange.member.register", &member.member_id, "ok", "").await?;
        tx.commit().await?;
        self.changed();
        Ok(member)
    }

    /// Disable (or re-enable) a member; its tokens stop working at once.
    pub async fn set_member_disabled(&self, staff: &Staff, id: &str, disabled: bool) -> Result<Member> {
        staff_may(staff, Permission::ManageExchange)?;
        let mut m = self.member(id).await?;
        require_department(staff, &m.department_code)?;
        m.disabled_at = if disabled { Some(now_text()) } else { None };
        let mut tx = self.inner.db.begin().await?;
        store::update_member(&mut tx, &m).await?;
        let action = if disabled { "exchange.member.disable" } else { "exchange.member.enable" };
        yiwang_identity::audit_in(&mut tx, &staff.username, action, id, "ok", "").await?;
        tx.commit().await?;
        self.changed();
        Ok(m)
    }

    // ----- grants -----

    pub async fn grants(&self) -> Result<Vec<Grant>> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::grants(&mut c).await
    }

    pub async fn grant(&self, id: &str) -> Result<Grant> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::grant(&mut c, id).await?.ok_or_else(|| ExchangeError::GrantNotFound(id.into()))
    }

    /// Grants a staff member may see: their department's, as consumer or provider (all for
    /// platform admins and supervisors).
    pub async fn grants_for(&self, staff: &Staff) -> Result<Vec<Grant>> {
        let all = self.grants().await?;
        if sees_all(staff) {
            return Ok(all);
        }
        let Some(dept) = staff.department.as_deref() else { return Ok(vec![]) };
        let snap = self.snapshot().await?;
        Ok(all
            .into_iter()
            .filter(|g| {
                g.member_id.starts_with(&format!("{dept}:"))
                    || snap.resources.get(&g.resource_code).is_some_and(|r| r.provider_code == dept)
            })
            .collect())
    }

    /// 共享申请: a consumer department asks for a conditional resource.
    pub async fn request_access(&self, staff: &Staff, r: &GrantRequest) -> Result<Grant> {
        staff_may(staff, Permission::ManageExchange)?;
        let member = self.member(&r.member_id).await?;
        require_department(staff, &member.department_code)?;
        self.insert_grant(r, &staff.username, GrantStatus::Pending).await
    }

    /// Insert a grant after checking it (the demo loads approved ones this way).
    pub async fn insert_grant(&self, r: &GrantRequest, actor: &str, status: GrantStatus) -> Result<Grant> {
        let resource = self.resource(&r.resource_code).await?;
        match resource.sharing_type {
            SharingType::NotShared => return Err(invalid("resource_code", "该资源不予共享，不能申请")),
            SharingType::Unconditional => return Err(invalid("resource_code", "该资源无条件共享，无需申请")),
            SharingType::Conditional => {}
        }
        let purpose = r.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 200 {
            return Err(invalid("purpose", "请填写用途（不超过200字）"));
        }
        let basis = r.legal_basis.trim();
        if basis.is_empty() || basis.chars().count() > 500 {
            return Err(invalid("legal_basis", "请填写法律依据（不超过500字）"));
        }
        if r.fields.is_empty() {
            return Err(invalid("fields", "请至少选择一个信息项"));
        }
        if let Some(f) = r.fields.iter().find(|f| resource.item(f).is_none()) {
            return Err(invalid("fields", format!("“{f}”不是该资源的信息项")));
        }
        let valid_to =
            chrono::NaiveDate::parse_from_str(r.valid_to.trim(), "%Y-%m-%d").map_err(|_| invalid("valid_to", "日期格式应为YYYY-MM-DD"))?;
        let today = china_today();
        if valid_to < today || valid_to > today + chrono::Duration::days(3 * 366) {
            return Err(invalid("valid_to", "有效期应在今天到三年之内"));
        }
        let mut fields: Vec<String> = resource.items.iter().filter(|i| r.fields.contains(&i.name)).map(|i| i.name.clone()).collect();
        fields.dedup();
        let now = now_text();
        let decided = status != GrantStatus::Pending;
        let g = Grant {
            grant_id: uuid::Uuid::now_v7().to_string(),
            member_id: r.member_id.clone(),
            resource_code: resource.code.clone(),
            purpose: purpose.to_string(),
            legal_basis: basis.to_string(),
            fields,
            valid_to: valid_to.format("%Y-%m-%d").to_string(),
            rate_per_sec: check_rate(r.rate_per_sec)?,
            status,
            requested_by: actor.to_string(),
            requested_at: now.clone(),
            decided_by: decided.then(|| actor.to_string()),
            decided_at: decided.then(|| now.clone()),
            decision_note: None,
        };
        let mut tx = self.inner.db.begin().await?;
        if store::member(&mut tx, &g.member_id).await?.is_none() {
            return Err(ExchangeError::MemberNotFound(g.member_id.clone()));
        }
        store::insert_grant(&mut tx, &g).await?;
        yiwang_identity::audit_in(&mut tx, actor, "exchange.grant.request", &g.grant_id, "ok", &g.resource_code).await?;
        tx.commit().await?;
        self.changed();
        Ok(g)
    }

    /// The provider department approves or rejects a pending request (a rejection states why).
    pub async fn decide(&self, staff: &Staff, grant_id: &str, approve: bool, note: &str) -> Result<Grant> {
        staff_may(staff, Permission::ManageExchange)?;
        let g = self.grant(grant_id).await?;
        let resource = self.resource(&g.resource_code).await?;
        require_department(staff, &resource.provider_code)?;
        if g.status != GrantStatus::Pending {
            return Err(ExchangeError::WrongState(g.status.label_zh()));
        }
        let note = note.trim();
        if !approve && note.is_empty() {
            return Err(invalid("note", "驳回时请说明理由"));
        }
        let to = if approve { GrantStatus::Approved } else { GrantStatus::Rejected };
        self.transition(staff, g, GrantStatus::Pending, to, note).await
    }

    /// Revoke an approved grant (provider or consumer department): calls stop at once.
    pub async fn revoke(&self, staff: &Staff, grant_id: &str, note: &str) -> Result<Grant> {
        staff_may(staff, Permission::ManageExchange)?;
        let g = self.grant(grant_id).await?;
        let resource = self.resource(&g.resource_code).await?;
        let consumer_dept = g.member_id.split(':').next().unwrap_or_default().to_string();
        if require_department(staff, &resource.provider_code).is_err() {
            require_department(staff, &consumer_dept)?;
        }
        if g.status != GrantStatus::Approved {
            return Err(ExchangeError::WrongState(g.status.label_zh()));
        }
        self.transition(staff, g, GrantStatus::Approved, GrantStatus::Revoked, note.trim()).await
    }

    async fn transition(&self, staff: &Staff, mut g: Grant, from: GrantStatus, to: GrantStatus, note: &str) -> Result<Grant> {
        g.status = to;
        g.decided_by = Some(staff.username.clone());
        g.decided_at = Some(now_text());
        g.decision_note = Some(note.to_string()).filter(|n| !n.is_empty());
        let mut tx = self.inner.db.begin().await?;
        if !store::decide_grant(&mut tx, &g, from).await? {
            return Err(ExchangeError::WrongState("已变更"));
        }
        let action = match to {
            GrantStatus::Approved => "exchange.grant.approve",
            GrantStatus::Rejected => "exchange.grant.reject",
            _ => "exchange.grant.revoke",
        };
        yiwang_identity::audit_in(&mut tx, &staff.username, action, &g.grant_id, "ok", note).await?;
        tx.commit().await?;
        // Before answering: the next call on this node sees the change.
        self.changed();
        Ok(g)
    }

    // ----- the log -----

    /// Every exchange that concerned a person or business, newest first, for its own eyes.
    /// `departments` names department codes for display.
    pub async fn access_for_subject(&self, subject: &str, departments: &HashMap<String, String>, limit: i64) -> Result<Vec<AccessView>> {
        let mut c = self.inner.db.reader().acquire().await?;
        let rows = store::log_for_subject(&mut c, &self.inner.sealer, subject, limit.clamp(1, 1000)).await?;
        drop(c);
        let snap = self.snapshot().await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let resource_name = if r.resource_code == WORKBENCH_RESOURCE {
                    "办件信息（申请表与材料）".to_string()
                } else {
                    snap.resources.get(&r.resource_code).map(|x| x.name.clone()).unwrap_or_else(|| r.resource_code.clone())
                };
                AccessView {
                    department_name: departments.get(&r.consumer_department).cloned().unwrap_or_else(|| r.consumer_department.clone()),
                    department_code: r.consumer_department,
                    channel_label: r.channel.label_zh(),
                    channel: r.channel,
                    resource_code: r.resource_code,
                    resource_name,
                    purpose: r.purpose,
                    case_number: r.case_number,
                    result_label: r.result.label_zh(),
                    result: r.result,
                    fields: r.fields,
                    at: r.at,
                    exchange_id: r.exchange_id,
                }
            })
            .collect())
    }

    /// One log record (supervisors, or the departments involved).
    pub async fn log_entry(&self, staff: &Staff, id: &str) -> Result<AccessRecord> {
        let mut c = self.inner.db.reader().acquire().await?;
        let r = store::log_entry(&mut c, &self.inner.sealer, id)
            .await?
            .ok_or_else(|| ExchangeError::Invalid { field: "id".into(), message: "未找到交换记录".into() })?;
        if !sees_all(staff)
            && staff.department.as_deref() != Some(r.consumer_department.as_str())
            && staff.department.as_deref() != Some(r.provider_department.as_str())
        {
            return Err(ExchangeError::Forbidden);
        }
        Ok(r)
    }

    /// The newest records a staff member may see.
    pub async fn recent(&self, staff: &Staff, limit: i64) -> Result<Vec<AccessRecord>> {
        staff_may(staff, Permission::Workbench)?;
        let dept = match staff.department.as_deref() {
            _ if sees_all(staff) => None,
            Some(d) => Some(d),
            None => return Ok(vec![]),
        };
        let mut c = self.inner.db.reader().acquire().await?;
        store::recent_log(&mut c, &self.inner.sealer, dept, limit.clamp(1, 500)).await
    }

    /// Calls, errors and latency per resource and member.
    pub async fn stats(&self) -> Result<Vec<Stat>> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::stats(&mut c).await
    }

    /// The gateway's signing keys, current and retired.
    pub async fn keys(&self) -> Result<Vec<GatewayKey>> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::keys(&mut c).await
    }
}

/// Check the access log against its recorded batches: every batch's rows must still hash to its
/// digest (an edited or deleted row changes it), every row must belong to a recorded batch, and
/// every record's signature must verify. The batches themselves are in the ledger, which
/// `yiwang ledger verify` checks.
/// `sealer` opens the subjects sealed at rest (the digests and signatures cover the numbers).
pub async fn verify_log(db: &Db, sealer: &yiwang_crypto::Sealer) -> Result<LogCheck> {
    let mut c = db.reader().acquire().await?;
    let keys: HashMap<String, yiwang_crypto::PublicKey> = store::keys(&mut c)
        .await?
        .into_iter()
        .filter_map(|k| {
            let raw = B64.decode(&k.public_key).ok()?;
            Some((k.key_id, yiwang_crypto::PublicKey::parse(yiwang_crypto::Algorithm::Ed25519, &raw).ok()?))
        })
        .collect();
    let mut check = LogCheck { batches: 0, records: 0, findings: vec![] };
    for (batch_id, count, digest) in store::batches(&mut c).await? {
        let rows = store::batch_rows(&mut c, sealer, &batch_id).await?;
        check.batches += 1;
        check.records += rows.len() as i64;
        let same = batch_digest(&rows) == digest;
        if rows.len() as i64 != count || !same {
            check.findings.push(LogFinding {
                kind: "batch_changed",
                batch_id: Some(batch_id.clone()),
                exchange_id: None,
                detail: format!(
                    "批次应有 {count} 条记录，现有 {} 条；摘要{}",
                    rows.len(),
                    if same { "一致" } else { "不符：记录被修改或删除" }
                ),
            });
        }
        for r in &rows {
            let sig = B64.decode(&r.signature).unwrap_or_default();
            if !keys.get(&r.key_id).is_some_and(|k| k.verify(r.signed_message().as_bytes(), &sig)) {
                check.findings.push(LogFinding {
                    kind: "bad_signature",
                    batch_id: Some(batch_id.clone()),
                    exchange_id: Some(r.exchange_id.clone()),
                    detail: "网关签名不符".into(),
                });
            }
        }
    }
    for id in store::unbatched(&mut c, 1000).await? {
        check.findings.push(LogFinding {
            kind: "unbatched",
            batch_id: None,
            exchange_id: Some(id),
            detail: "记录不属于任何已登记批次（绕过网关写入）".into(),
        });
    }
    Ok(check)
}

fn staff_may(staff: &Staff, p: Permission) -> Result<()> {
    if staff.can(p) {
        Ok(())
    } else {
        Err(ExchangeError::Forbidden)
    }
}

fn check_rate(rate: Option<u32>) -> Result<u32> {
    match rate {
        None => Ok(DEFAULT_RATE),
        Some(r) if (1..=MAX_RATE).contains(&r) => Ok(r),
        Some(_) => Err(invalid("rate_per_sec", format!("调用频率应为1到{MAX_RATE}次/秒"))),
    }
}

fn check_public_key(k: &str) -> Result<()> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = URL_SAFE_NO_PAD.decode(k.trim()).map_err(|_| invalid("public_key", "公钥应为base64url编码的Ed25519公钥"))?;
    let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| invalid("public_key", "Ed25519公钥应为32字节"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|_| invalid("public_key", "不是有效的Ed25519公钥"))?;
    Ok(())
}

/// Check a resource's catalog elements.
pub fn check_resource(r: &Resource) -> Result<()> {
    CreditCode::parse(&r.provider_code)?;
    let serial = r.code.strip_prefix(&format!("{}-", r.provider_code));
    if !serial.is_some_and(|s| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid("code", "资源代码应为“提供方统一社会信用代码-五位序号”"));
    }
    for (field, value, max) in
        [("name", &r.name, 100), ("classification", &r.classification, 100), ("provider_name", &r.provider_name, 100)]
    {
        if value.trim().is_empty() || value.chars().count() > max {
            return Err(invalid(field, format!("必填，不超过{max}字")));
        }
    }
    if r.items.is_empty() {
        return Err(invalid("items", "至少需要一个信息项"));
    }
    for (i, item) in r.items.iter().enumerate() {
        if item.name.is_empty() || item.name.len() > 64 || !item.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(format!("items[{i}].name"), "信息项名称应为字母、数字或下划线"));
        }
        if item.label.trim().is_empty() {
            return Err(invalid(format!("items[{i}].label"), "请填写信息项中文名称"));
        }
        if r.items[..i].iter().any(|o| o.name == item.name) {
            return Err(invalid(format!("items[{i}].name"), "信息项名称重复"));
        }
        if !["string", "date", "number", "boolean"].contains(&item.kind.as_str()) {
            return Err(invalid(format!("items[{i}].kind"), "类型应为string、date、number或boolean"));
        }
    }
    if r.item(&r.subject_item).is_none() {
        return Err(invalid("subject_item", "主体标识应是资源的一个信息项"));
    }
    if r.sharing_type != SharingType::Unconditional && r.sharing_basis.trim().is_empty() {
        return Err(invalid("sharing_basis", "有条件共享和不予共享须说明依据"));
    }
    if chrono::NaiveDate::parse_from_str(&r.published_on, "%Y-%m-%d").is_err() {
        return Err(invalid("published_on", "日期格式应为YYYY-MM-DD"));
    }
    match &r.service {
        Service::Rest { url, timeout_ms, openapi_url } => {
            if openapi_url.as_ref().is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://"))) {
                return Err(invalid("service.openapi_url", "应为http(s)地址"));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.parse::<http::Uri>().is_err() {
                return Err(invalid("service.url", "应为http(s)地址"));
            }
            if url.starts_with("https://") {
                return Err(invalid("service.url", "本版本的网关只支持经内网http访问提供方（TLS由前置机或服务网格终止）"));
            }
            if !(50..=60_000).contains(timeout_ms) {
                return Err(invalid("service.timeout_ms", "超时应为50到60000毫秒"));
            }
        }
        Service::Builtin { name } if name.is_empty() => return Err(invalid("service.name", "请填写内置提供方名称")),
        _ => {}
    }
    Ok(())
}

/// The case workflow's online verification (数据共享核验): the handling department's case
/// system (`{department}:cases`) asks the gateway for the applicant's record.
impl yiwang_cases::SharedData for Exchange {
    fn fetch(&self, q: yiwang_cases::SharedQuery) -> yiwang_store::TxFuture<'_, yiwang_cases::Result<Option<yiwang_cases::SharedRecord>>> {
        Box::pin(async move {
            let req = CallRequest {
                channel: Channel::Workflow,
                member_id: format!("{}:cases", q.department_code),
                resource: q.resource.clone(),
                subject: q.subject,
                purpose: format!("办理“{}”", q.case_title),
                case_number: q.case_number,
                fields: None,
                request_id: None,
            };
            let answer = match self.call(req).await {
                Ok(a) => a,
                // No member, no grant, unknown resource, provider down: the applicant uploads.
                Err(
                    e @ (ExchangeError::Unauthenticated(_)
                    | ExchangeError::Denied(_)
                    | ExchangeError::ResourceNotFound(_)
                    | ExchangeError::RateLimited
                    | ExchangeError::ProviderUnavailable(_)
                    | ExchangeError::Code(_)),
                ) => {
                    tracing::info!(resource = %q.resource, reason = %e, "shared data not used");
                    return Ok(None);
                }
                Err(e) => return Err(yiwang_cases::CaseError::Config(e.to_string())),
            };
            if answer.result != Outcome::Ok {
                return Ok(None);
            }
            let title = self.resource(&q.resource).await.map(|r| r.name).unwrap_or_else(|_| q.resource.clone());
            let file = serde_json::to_vec_pretty(&answer).map_err(|e| yiwang_cases::CaseError::Config(e.to_string()))?;
            Ok(Some(yiwang_cases::SharedRecord { title, file }))
        })
    }
}
