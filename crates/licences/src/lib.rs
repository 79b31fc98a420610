//! Electronic licences and seals (电子证照库 · 电子印章).
//!
//! A licence is a signed document: its metadata (GB/T 36904) in a canonical JSON form, signed
//! by the issuing department's seal in SM2/SM3 or Ed25519. Anyone can verify it online
//! (`verify`) or offline from the downloaded file and the published key set
//! ([`offline::verify_file`]). Cases issue licences on approval through a
//! [`yiwang_cases::ConclusionHook`], and held licences satisfy materials through a
//! [`yiwang_cases::LicenceWallet`] (see [`hook`]).
//!
//! Keys, signatures, the key vault and the canonical signed form come from `yiwang-crypto`
//! (re-exported as [`crypto`] and [`canonical`]). Modules: [`model`] the vocabulary; [`offline`] file verification; [`hook`] the case integration;
//! [`demo`] the demo licence types.

pub use yiwang_crypto::{self as crypto, canonical};
pub mod demo;
pub mod error;
pub mod hook;
/// The file format and offline verification (their own crate: verifiers need no storage).
pub use yiwang_licence_format::{model, offline};
mod store;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{Datelike, NaiveDate};
use yiwang_cases::{china_date, Clock};
use yiwang_core::codes::{CitizenId, CreditCode, LicenceIdentifier};
use yiwang_identity::{Permission, Staff};
use yiwang_store::{timestamp_text, Db, Tx};

pub use crypto::{Algorithm, Vault};
pub use error::{LicenceError, Result};
pub use model::*;

use crate::error::invalid;

/// How long a seal's public part (and the list of licence types) is reused from memory before
/// it is read again (changes on this node drop it at once).
const SEAL_TTL: Duration = Duration::from_secs(10);

/// What staff (or a case conclusion) asks to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub type_code: String,
    pub issuer_code: String,
    pub issuer_name: String,
    pub holder_name: String,
    pub holder_id: String,
    pub data: BTreeMap<String, String>,
    pub item_code: Option<String>,
    pub case_id: Option<String>,
    pub case_number: Option<String>,
    /// Default: today.
    pub valid_from: Option<NaiveDate>,
    /// Default: from the type's validity years (none = long-term).
    pub valid_to: Option<NaiveDate>,
}

struct CachedSeal {
    seal: Seal,
    key: crypto::PublicKey,
}

/// The licence service.
#[derive(Clone)]
pub struct Licences {
    db: Db,
    vault: Arc<Vault>,
    public_url: String,
    clock: Arc<dyn Clock>,
    seals: Arc<SealCache>,
    /// Licence types, so a case conclusion finds the types its items issue without a query.
    types: Arc<TypeCache>,
    /// Seals holders' numbers and the signed documents at rest (none: stored as given).
    sealer: yiwang_crypto::Sealer,
}

type SealCache = RwLock<HashMap<String, (Instant, Arc<CachedSeal>)>>;
type TypeCache = RwLock<Option<(Instant, Arc<Vec<LicenceType>>)>>;

impl Licences {
    pub fn new(db: Db, vault: Vault, public_url: &str, clock: Arc<dyn Clock>) -> Licences {
        Licences {
            db,
            vault: Arc::new(vault),
            public_url: public_url.trim_end_matches('/').to_string(),
            clock,
            seals: Default::default(),
            types: Default::default(),
            sealer: Default::default(),
        }
    }

    /// Keep holders' ID numbers and credit codes, and the documents naming them, encrypted at
    /// rest under `key` (the deployment's personal-data key).
    pub fn with_personal_data(mut self, key: Arc<yiwang_crypto::PersonalData>) -> Licences {
        self.sealer = yiwang_crypto::Sealer::new(key);
        self
    }

    /// Seal licences and copies stored before encryption at rest (start-up).
    pub async fn protect_personal_data(&self) -> Result<u64> {
        store::protect_rows(&self.db, &self.sealer).await
    }

    pub fn today(&self) -> NaiveDate {
        china_date(self.clock.now())
    }

    fn now_text(&self) -> String {
        timestamp_text(self.clock.now())
    }

    /// The platform's public base URL (links in QR codes and files).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Where the seal key set is published.
    pub fn keys_url(&self) -> String {
        format!("{}/api/v1/licences/keys", self.public_url)
    }

    /// The public verification page a licence's QR code opens.
    pub fn verify_url(&self, identifier: &str) -> String {
        format!("{}/verify/{}", self.public_url, identifier)
    }

    // ----- types -----

    /// Create or replace a licence type.
    pub async fn put_type(&self, t: &LicenceType) -> Result<()> {
        check_type(t)?;
        let mut tx = self.db.begin().await?;
        store::put_type(&mut tx, t, &self.now_text()).await?;
        tx.commit().await?;
        if let Ok(mut c) = self.types.write() {
            *c = None;
        }
        Ok(())
    }

    /// The types issued on approval of an item, from memory (read again after `SEAL_TTL`, or
    /// at once after a change on this node), reading through `tx` when stale.
    pub(crate) async fn types_for_item(&self, tx: &mut Tx, item_code: &str) -> Result<Vec<LicenceType>> {
        let cached = self.types.read().ok().and_then(|c| c.as_ref().filter(|(at, _)| at.elapsed() < SEAL_TTL).map(|(_, t)| t.clone()));
        let all = match cached {
            Some(t) => t,
            None => {
                let t = Arc::new(store::types(tx).await?);
                if let Ok(mut c) = self.types.write() {
                    *c = Some((Instant::now(), t.clone()));
                }
                t
            }
        };
        Ok(all.iter().filter(|t| t.items.iter().any(|i| i == item_code)).cloned().collect())
    }

    pub async fn types(&self) -> Result<Vec<LicenceType>> {
        let mut c = self.db.reader().acquire().await?;
        store::types(&mut c).await
    }

    pub async fn licence_type(&self, code: &str) -> Result<LicenceType> {
        let mut c = self.db.reader().acquire().await?;
        store::licence_type(&mut c, code).await?.ok_or_else(|| LicenceError::TypeNotFound(code.into()))
    }

    // ----- seals -----

    /// Seals (public parts), of one department or all.
    pub async fn seals(&self, department: Option<&str>) -> Result<Vec<Seal>> {
        let mut c = self.db.reader().acquire().await?;
        store::seals(&mut c, department).await
    }

    /// The published key set: every seal ever used, with its life span.
    pub async fn key_set(&self) -> Result<KeySet> {
        Ok(KeySet { keys: self.seals(None).await? })
    }

    /// Make a department's seal (of one algorithm) if it has none in force.
    pub async fn ensure_seal(&self, department_code: &str, department_name: &str, alg: Algorithm) -> Result<Seal> {
        let mut tx = self.db.begin().await?;
        let (seal, _) = self.active_seal(&mut tx, department_code, department_name, alg).await?;
        tx.commit().await?;
        Ok(seal)
    }

    async fn active_seal(&self, tx: &mut Tx, department_code: &str, department_name: &str, alg: Algorithm) -> Result<(Seal, String)> {
        if let Some(found) = store::active_seal(tx, department_code, alg).await? {
            return Ok(found);
        }
        self.new_seal(tx, department_code, department_name, alg).await
    }

    async fn new_seal(&self, tx: &mut Tx, department_code: &str, department_name: &str, alg: Algorithm) -> Result<(Seal, String)> {
        CreditCode::parse(department_code)?;
        let n = store::seal_count(tx, department_code, alg).await? + 1;
        let short = match alg {
            Algorithm::Sm2 => "SM2",
            Algorithm::Ed25519 => "ED25519",
        };
        let seal_id = format!("{department_code}-{short}-{n}");
        let (secret, public) = crypto::generate(alg)?;
        let sealed = self.vault.seal(&seal_id, &secret)?;
        let seal = Seal {
            seal_id,
            department_code: department_code.into(),
            department_name: department_name.into(),
            name: format!("{department_name}电子证照专用章"),
            algorithm: alg,
            public_key: hex::encode(public),
            valid_from: self.now_text(),
            retired_at: None,
            revoked_at: None,
        };
        store::insert_seal(tx, &seal, &sealed).await?;
        Ok((seal, sealed))
    }

    /// 密钥轮换: retire the department's seal of `alg` and make a new one. Licences signed by
    /// the old seal stay verifiable (they were signed while it was in force).
    pub async fn rotate_seal(&self, staff: &Staff, alg: Algorithm, department_name: &str, source: &str) -> Result<Seal> {
        let dept = staff_department(staff, Permission::ManageSeals)?;
        let mut tx = self.db.begin().await?;
        let now = self.now_text();
        store::retire_seals(&mut tx, &dept, alg, &now).await?;
        let (seal, _) = self.new_seal(&mut tx, &dept, department_name, alg).await?;
        yiwang_identity::audit_in(&mut tx, &staff.username, "seal.rotate", &seal.seal_id, "印章密钥轮换", source).await?;
        tx.commit().await?;
        self.forget_seals();
        Ok(seal)
    }

    /// A compromised seal: signatures dated from now on are invalid; the department gets a new
    /// seal at its next issuance.
    pub async fn revoke_seal(&self, staff: &Staff, seal_id: &str, source: &str) -> Result<()> {
        let dept = staff_department(staff, Permission::ManageSeals)?;
        let mut tx = self.db.begin().await?;
        if !store::revoke_seal(&mut tx, &dept, seal_id, &self.now_text()).await? {
            return Err(LicenceError::SealNotFound(seal_id.into()));
        }
        yiwang_identity::audit_in(&mut tx, &staff.username, "seal.revoke", seal_id, "印章作废", source).await?;
        tx.commit().await?;
        self.forget_seals();
        Ok(())
    }

    fn forget_seals(&self) {
        if let Ok(mut m) = self.seals.write() {
            m.clear();
        }
    }

    async fn seal(&self, seal_id: &str) -> Result<Arc<CachedSeal>> {
        if let Ok(m) = self.seals.read() {
            if let Some((at, s)) = m.get(seal_id) {
                if at.elapsed() < SEAL_TTL {
                    return Ok(s.clone());
                }
            }
        }
        let mut c = self.db.reader().acquire().await?;
        let seal = store::seal(&mut c, seal_id).await?.ok_or_else(|| LicenceError::SealNotFound(seal_id.into()))?;
        let bytes = hex::decode(&seal.public_key).map_err(|_| LicenceError::Crypto("印章公钥格式错误".into()))?;
        let key = crypto::PublicKey::parse(seal.algorithm, &bytes)?;
        let cached = Arc::new(CachedSeal { seal, key });
        if let Ok(mut m) = self.seals.write() {
            m.insert(seal_id.to_string(), (Instant::now(), cached.clone()));
        }
        Ok(cached)
    }

    // ----- issuance -----

    /// 签发 by staff of the issuing department.
    pub async fn issue(&self, staff: &Staff, req: IssueRequest, source: &str) -> Result<Licence> {
        let dept = staff_department(staff, Permission::IssueLicences)?;
        if dept != req.issuer_code {
            return Err(LicenceError::Forbidden);
        }
        let me = self.clone();
        let actor = staff.username.clone();
        let source = source.to_string();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let l = me.issue_in(tx, &req, None).await?;
                    yiwang_identity::audit_in(tx, &actor, "licence.issue", &l.document.identifier, "签发电子证照", &source).await?;
                    Ok(l)
                })
            })
            .await
    }

    /// 换发: a new version replacing a valid licence (same serial, version + 1).
    pub async fn reissue(&self, staff: &Staff, identifier: &str, data: BTreeMap<String, String>, source: &str) -> Result<Licence> {
        let dept = staff_department(staff, Permission::IssueLicences)?;
        let old = self.get(identifier).await?;
        if old.document.issuer_code != dept {
            return Err(LicenceError::Forbidden);
        }
        if old.status != LicenceStatus::Valid {
            return Err(LicenceError::WrongState(old.status.label_zh()));
        }
        let d = &old.document;
        let req = IssueRequest {
            type_code: d.type_code.clone(),
            issuer_code: d.issuer_code.clone(),
            issuer_name: d.issuer_name.clone(),
            holder_name: d.holder_name.clone(),
            holder_id: d.holder_id.clone(),
            data,
            item_code: Some(d.item_code.clone()).filter(|s| !s.is_empty()),
            case_id: old.case_id.clone(),
            case_number: Some(d.case_number.clone()).filter(|s| !s.is_empty()),
            valid_from: None,
            valid_to: None,
        };
        let mut tx = self.db.begin().await?;
        let l = self.issue_in(&mut tx, &req, Some(&old.document)).await?;
        yiwang_identity::audit_in(&mut tx, &staff.username, "licence.reissue", &l.document.identifier, "换发电子证照", source).await?;
        tx.commit().await?;
        Ok(l)
    }

    /// Issue inside the caller's transaction (case conclusions use this).
    pub async fn issue_in(&self, tx: &mut Tx, req: &IssueRequest, supersedes: Option<&Document>) -> Result<Licence> {
        let t = store::licence_type(tx, &req.type_code).await?.ok_or_else(|| LicenceError::TypeNotFound(req.type_code.clone()))?;
        let issuer = CreditCode::parse(&req.issuer_code)?;
        match t.holder {
            HolderKind::Person => {
                CitizenId::parse(&req.holder_id)?;
            }
            HolderKind::Business => {
                CreditCode::parse(&req.holder_id)?;
            }
        }
        if req.holder_name.trim().is_empty() || req.holder_name.chars().count() > 100 {
            return Err(invalid("holder_name", "持证主体名称应为1到100个字"));
        }
        let data = check_data(&t, &req.data)?;
        let today = self.today();
        let valid_from = req.valid_from.unwrap_or(today);
        let valid_to = req.valid_to.or_else(|| t.validity_years.map(|y| add_years(valid_from, y)));
        if valid_to.is_some_and(|to| to < valid_from) {
            return Err(invalid("valid_to", "有效期截止日期不能早于起始日期"));
        }
        let (serial, version) = match supersedes {
            Some(old) => (LicenceIdentifier::parse(&old.identifier)?.serial().to_string(), old.version + 1),
            None => {
                let n = store::next_serial(tx, &t.code, issuer.as_str()).await?;
                (format!("{}{:08}", today.year(), n), 1)
            }
        };
        if version > 999 {
            return Err(invalid("version", "证照版本号已用尽"));
        }
        let identifier = LicenceIdentifier::compose(&t.code, issuer.as_str(), &serial, version as u16)?;
        let (seal, sealed_key) = self.active_seal(tx, issuer.as_str(), &req.issuer_name, t.algorithm).await?;
        let secret = self.vault.open(&seal.seal_id, &sealed_key)?;
        let document = Document {
            format: DOCUMENT_FORMAT.into(),
            identifier: identifier.to_string(),
            type_code: t.code.clone(),
            type_name: t.name.clone(),
            number: format!("{}{}", t.number_prefix, serial),
            issue_date: today.to_string(),
            issuer_name: req.issuer_name.clone(),
            issuer_code: issuer.to_string(),
            valid_from: valid_from.to_string(),
            valid_to: valid_to.map(|d| d.to_string()).unwrap_or_default(),
            jurisdiction: issuer.region_code().to_string(),
            holder_name: req.holder_name.trim().to_string(),
            holder_id: req.holder_id.trim().to_ascii_uppercase(),
            holder_id_type: t.holder.id_type().into(),
            item_code: req.item_code.clone().unwrap_or_default(),
            case_number: req.case_number.clone().unwrap_or_default(),
            version,
            supersedes: supersedes.map(|d| d.identifier.clone()).unwrap_or_default(),
            data,
            seal_id: seal.seal_id.clone(),
            algorithm: seal.algorithm,
            issued_at: self.now_text(),
        };
        let canonical = canonical::to_string(&serde_json::to_value(&document)?)?;
        let signature = crypto::sign(seal.algorithm, &secret, canonical.as_bytes())?;
        let licence = Licence {
            document,
            status: LicenceStatus::Valid,
            status_reason: None,
            superseded_by: None,
            case_id: req.case_id.clone(),
            canonical,
            signature,
        };
        store::insert_licence(tx, &self.sealer, &licence, &serial).await?;
        if let Some(old) = supersedes {
            if !store::mark_superseded(tx, &old.identifier, &licence.document.identifier, &licence.document.issued_at).await? {
                return Err(LicenceError::WrongState("已失效"));
            }
        }
        Ok(licence)
    }

    /// 注销 by the issuing department, with a reason.
    pub async fn revoke(&self, staff: &Staff, identifier: &str, reason: &str, source: &str) -> Result<Licence> {
        let dept = staff_department(staff, Permission::IssueLicences)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(invalid("reason", "请填写注销原因（200字以内）"));
        }
        let l = self.get(identifier).await?;
        if l.document.issuer_code != dept {
            return Err(LicenceError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        if !store::revoke(&mut tx, &l.document.identifier, reason, &self.now_text()).await? {
            return Err(LicenceError::WrongState(l.status.label_zh()));
        }
        yiwang_identity::audit_in(&mut tx, &staff.username, "licence.revoke", &l.document.identifier, reason, source).await?;
        tx.commit().await?;
        self.get(identifier).await
    }

    // ----- reading -----

    pub async fn get(&self, identifier: &str) -> Result<Licence> {
        let id = LicenceIdentifier::parse(identifier).map_err(|_| LicenceError::NotFound)?;
        let mut c = self.db.reader().acquire().await?;
        let mut l = store::licence(&mut c, &self.sealer, id.as_str()).await?.ok_or(LicenceError::NotFound)?;
        self.apply_expiry(&mut l);
        Ok(l)
    }

    fn apply_expiry(&self, l: &mut Licence) {
        if l.status == LicenceStatus::Valid && !l.document.valid_to.is_empty() && self.today().to_string() > l.document.valid_to {
            l.status = LicenceStatus::Expired;
        }
    }

    /// A licence of this holder; anyone else's is "not found".
    pub async fn held(&self, holder_id: &str, identifier: &str) -> Result<Licence> {
        let l = self.get(identifier).await?;
        if l.document.holder_id != holder_id {
            return Err(LicenceError::NotFound);
        }
        Ok(l)
    }

    /// 我的证照: every licence of a holder, newest first.
    pub async fn wallet(&self, holder_id: &str) -> Result<Vec<LicenceSummary>> {
        let mut c = self.db.reader().acquire().await?;
        let mut list = store::summaries(&mut c, "holder_id", &store::holder_key(&self.sealer, holder_id), 500).await?;
        self.expire_summaries(&mut list);
        Ok(list)
    }

    /// Licences a department issued, newest first.
    pub async fn issued_by(&self, department: &str, limit: i64) -> Result<Vec<LicenceSummary>> {
        let mut c = self.db.reader().acquire().await?;
        let mut list = store::summaries(&mut c, "issuer_code", department, limit.clamp(1, 500)).await?;
        self.expire_summaries(&mut list);
        Ok(list)
    }

    fn expire_summaries(&self, list: &mut [LicenceSummary]) {
        let today = self.today().to_string();
        for s in list.iter_mut() {
            if s.status == LicenceStatus::Valid && s.valid_to.as_deref().is_some_and(|v| !v.is_empty() && today.as_str() > v) {
                s.status = LicenceStatus::Expired;
            }
        }
    }

    /// The downloadable, offline-verifiable file of a licence.
    pub async fn file(&self, l: &Licence) -> Result<LicenceFile> {
        let seal = self.seal(&l.document.seal_id).await?;
        self.file_with(l, &seal.seal)
    }

    fn file_with(&self, l: &Licence, seal: &Seal) -> Result<LicenceFile> {
        Ok(LicenceFile {
            format: DOCUMENT_FORMAT.into(),
            document: serde_json::from_str(&l.canonical)?,
            signature: SignatureBlock {
                algorithm: l.document.algorithm,
                seal_id: l.document.seal_id.clone(),
                public_key: seal.public_key.clone(),
                value: B64.encode(&l.signature),
            },
            keys_url: self.keys_url(),
        })
    }

    /// 核验: signature, seal in force at signing, status and validity.
    pub async fn verify(&self, identifier: &str) -> Result<VerifyReport> {
        let l = self.get(identifier).await?;
        let seal = self.seal(&l.document.seal_id).await?;
        Ok(self.check(&l, &seal))
    }

    fn check(&self, l: &Licence, seal: &CachedSeal) -> VerifyReport {
        let mut problems = Vec::new();
        let signature_valid = seal.key.verify(l.canonical.as_bytes(), &l.signature);
        if !signature_valid {
            problems.push("签名验证失败：证照内容被改动或签名无效".into());
        }
        let seal_valid = offline::seal_checks(&seal.seal, &l.document, &seal.seal.public_key, &mut problems);
        match l.status {
            LicenceStatus::Valid => {}
            LicenceStatus::Expired => problems.push(format!("证照已于{}过期", l.document.valid_to)),
            LicenceStatus::Revoked => {
                problems.push(format!("证照已注销：{}", l.status_reason.clone().unwrap_or_default()));
            }
            LicenceStatus::Superseded => {
                problems.push(format!("证照已换发新版本：{}", l.superseded_by.clone().unwrap_or_default()));
            }
        }
        let in_validity = l.status != LicenceStatus::Expired;
        offline::report(&l.document, signature_valid, seal_valid, l.status, in_validity, l.superseded_by.clone(), problems)
    }

    // ----- annotated copies (加注件) and uses -----

    /// Make a one-use copy for a third party, valid for `days` days (1–30).
    pub async fn make_copy(
        &self,
        holder_id: &str,
        made_by: &str,
        identifier: &str,
        purpose: &str,
        recipient: &str,
        days: u32,
    ) -> Result<AnnotatedCopy> {
        let l = self.held(holder_id, identifier).await?;
        if l.status != LicenceStatus::Valid {
            return Err(LicenceError::WrongState(l.status.label_zh()));
        }
        let purpose = purpose.trim();
        let recipient = recipient.trim();
        if purpose.is_empty() || purpose.chars().count() > 100 {
            return Err(invalid("purpose", "请填写用途（100字以内）"));
        }
        if recipient.chars().count() > 100 {
            return Err(invalid("recipient", "使用单位不能超过100个字"));
        }
        if !(1..=30).contains(&days) {
            return Err(invalid("days", "有效天数应为1到30天"));
        }
        let now = self.clock.now();
        let copy = AnnotatedCopy {
            token: random_token(),
            identifier: l.document.identifier.clone(),
            type_name: l.document.type_name.clone(),
            purpose: purpose.into(),
            recipient: recipient.into(),
            made_by: made_by.into(),
            created_at: timestamp_text(now),
            expires_at: timestamp_text(now + chrono::Duration::days(days as i64)),
            used_at: None,
        };
        let mut tx = self.db.begin().await?;
        store::insert_copy(&mut tx, &self.sealer, &copy, holder_id).await?;
        tx.commit().await?;
        Ok(copy)
    }

    /// A copy's annotation (without consuming it).
    pub async fn copy(&self, token: &str) -> Result<AnnotatedCopy> {
        let mut c = self.db.reader().acquire().await?;
        store::copy(&mut c, token).await?.ok_or(LicenceError::CopyNotFound)
    }

    /// The holder's copies of a licence.
    pub async fn copies_of(&self, holder_id: &str, identifier: &str) -> Result<Vec<AnnotatedCopy>> {
        let l = self.held(holder_id, identifier).await?;
        let mut c = self.db.reader().acquire().await?;
        store::copies_of(&mut c, &l.document.identifier).await
    }

    /// Use a copy once: the third party gets the licence and its verification; the use is
    /// recorded for the holder to see. A second use, or one after expiry, is refused.
    pub async fn use_copy(&self, token: &str, used_by: &str) -> Result<(AnnotatedCopy, Licence, VerifyReport)> {
        let copy = self.copy(token).await?;
        let now = self.now_text();
        if copy.used_at.is_some() {
            return Err(LicenceError::CopyUsed);
        }
        if copy.expires_at <= now {
            return Err(LicenceError::CopyExpired);
        }
        let mut tx = self.db.begin().await?;
        if !store::consume_copy(&mut tx, token, &now).await? {
            return Err(LicenceError::CopyUsed);
        }
        let l = self.get(&copy.identifier).await?;
        let usage = yiwang_cases::LicenceUsage {
            case_id: String::new(),
            used_by: if used_by.is_empty() { copy.recipient.clone() } else { used_by.to_string() },
            department_code: String::new(),
            purpose: format!("加注件：{}", copy.purpose),
        };
        store::record_use(&mut tx, &self.sealer, &l.document.identifier, &l.document.holder_id, &usage, &now).await?;
        tx.commit().await?;
        let report = self.check(&l, &*self.seal(&l.document.seal_id).await?);
        Ok((AnnotatedCopy { used_at: Some(now), ..copy }, l, report))
    }

    /// Who used a licence, newest first (for its holder).
    pub async fn uses_of(&self, holder_id: &str, identifier: &str) -> Result<Vec<LicenceUse>> {
        let l = self.held(holder_id, identifier).await?;
        let mut c = self.db.reader().acquire().await?;
        store::uses(&mut c, &l.document.identifier).await
    }

    /// Record a staff member reading a licence attached to a case.
    pub async fn record_staff_use(&self, staff: &Staff, identifier: &str, case_id: &str) -> Result<()> {
        let l = self.get(identifier).await?;
        let usage = yiwang_cases::LicenceUsage {
            case_id: case_id.into(),
            used_by: staff.username.clone(),
            department_code: staff.department.clone().unwrap_or_default(),
            purpose: "办件审查时查看证照".into(),
        };
        let mut tx = self.db.begin().await?;
        store::record_use(&mut tx, &self.sealer, &l.document.identifier, &l.document.holder_id, &usage, &self.now_text()).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn staff_department(staff: &Staff, p: Permission) -> Result<String> {
    staff.require(p)?;
    staff.department.clone().ok_or(LicenceError::Forbidden)
}

fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn add_years(d: NaiveDate, years: u32) -> NaiveDate {
    // 29 February + n years lands on 28 February when the target year has none; the day
    // before the anniversary is the last valid day.
    let y = d.year() + years as i32;
    let target = NaiveDate::from_ymd_opt(y, d.month(), d.day()).or_else(|| NaiveDate::from_ymd_opt(y, 3, 1)).unwrap_or(d);
    target.pred_opt().unwrap_or(target)
}

fn check_type(t: &LicenceType) -> Result<()> {
    if t.code.len() != 21 || !t.code.is_ascii() {
        return Err(invalid("code", "证照类型代码应为定义部门统一社会信用代码加3位数字，共21位"));
    }
    CreditCode::parse(&t.code[..18])?;
    if !t.code[18..].chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid("code", "证照类型代码后3位应为数字"));
    }
    if t.name.trim().is_empty() || t.name.chars().count() > 50 {
        return Err(invalid("name", "证照名称应为1到50个字"));
    }
    if !t.number_prefix.chars().all(|c| c.is_ascii_alphanumeric()) || t.number_prefix.len() > 10 {
        return Err(invalid("number_prefix", "证照编号前缀只能是10位以内的字母或数字"));
    }
    let mut keys = std::collections::BTreeSet::new();
    for f in &t.fields {
        if f.key.is_empty() || !f.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || !keys.insert(f.key.as_str()) {
            return Err(invalid("fields", format!("照面项“{}”的键无效或重复", f.label)));
        }
    }
    Ok(())
}

/// Only the type's fields, trimmed and bounded; required ones present.
fn check_data(t: &LicenceType, data: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    if let Some(k) = data.keys().find(|k| !t.fields.iter().any(|f| &f.key == *k)) {
        return Err(invalid(k.clone(), format!("“{}”没有此照面项", t.name)));
    }
    let mut out = BTreeMap::new();
    for f in &t.fields {
        let v = data.get(&f.key).map(|s| s.trim().to_string()).unwrap_or_default();
        if v.chars().count() > 500 {
            return Err(invalid(f.key.clone(), format!("{}不能超过500个字", f.label)));
        }
        if f.required && v.is_empty() {
            return Err(invalid(f.key.clone(), format!("请填写{}", f.label)));
        }
        out.insert(f.key.clone(), v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_of_validity_end_the_day_before_the_anniversary() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(add_years(d, 10).to_string(), "2036-02-29");
        let leap = NaiveDate::from_ymd_opt(2028, 2, 29).unwrap();
        assert_eq!(add_years(leap, 1).to_string(), "2029-02-28");
    }
}
