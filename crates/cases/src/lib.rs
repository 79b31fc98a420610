//! Applications and case workflow (办件): one form per item or 一件事 bundle, materials uploaded
//! once, automatic pre-check, 一窗受理, parallel department branches, corrections that stop the
//! clock, working-day time limits, a public timeline and notifications.
//!
//! Module map: [`form`] dynamic forms, [`precheck`] rules, [`definition`] per-item workflow data,
//! [`engine`] pure state transitions, [`calendar`] working days, [`materials`] uploads,
//! [`model`] vocabulary; this file is the service that loads, checks and writes.

pub mod calendar;
pub mod definition;
pub mod demo;
pub mod engine;
mod error;
/// 动态表单 (its own crate so that verifiers and fuzzers build it without storage).
pub use yiwang_forms as form;
pub mod materials;
pub mod model;
pub mod precheck;
mod store;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use yiwang_catalog::model::{CaseKind, Item, ItemStatus};
use yiwang_catalog::{Catalog, CatalogError};
use yiwang_core::codes::{CaseNumber, ImplementationCode};
use yiwang_identity::{Role, Staff};
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{timestamp_text, Db, Tx};

pub use calendar::WorkCalendar;
pub use definition::{Workflow, WorkflowDef};
pub use engine::{Action, Actor};
pub use error::{CaseError, Result};
pub use form::{FormDef, Values};
pub use materials::MaterialInfo;
pub use model::*;
pub use precheck::Problem;

use crate::engine::{Change, Context};
use crate::error::invalid;

/// Time source; tests and simulations move it by hand.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);
impl ManualClock {
    pub fn new(t: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(t))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }
    pub fn advance_days(&self, days: i64) {
        if let Ok(mut g) = self.0.lock() {
            *g += chrono::Duration::days(days);
        }
    }
}
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|g| *g).unwrap_or_else(|_| Utc::now())
    }
}

/// Dates of time limits are China dates (UTC+8), whatever the server's zone.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

/// The China date of a stored timestamp text (RFC 3339).
pub fn china_date_of(ts: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(ts).ok().map(|t| china_date(t.with_timezone(&Utc)))
}

/// A China wall-clock moment (UTC+8) as UTC.
pub fn from_china(t: chrono::NaiveDateTime) -> DateTime<Utc> {
    t.and_utc() - chrono::Duration::hours(8)
}

/// Tunables.
#[derive(Debug, Clone)]
pub struct CaseSettings {
    /// Working days the window has to accept or refuse (受理审查时限).
    pub accept_days: u32,
    /// Yellow warning this many working days before a deadline.
    pub warn_days: u32,
}

impl Default for CaseSettings {
    fn default() -> Self {
        CaseSettings { accept_days: 2, warn_days: 1 }
    }
}

/// What an application is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Target {
    Item(String),
    Bundle(String),
}

impl Target {
    fn kind(&self) -> &'static str {
        match self {
            Target::Item(_) => "item",
            Target::Bundle(_) => "bundle",
        }
    }
    fn code(&self) -> &str {
        match self {
            Target::Item(c) | Target::Bundle(c) => c,
        }
    }
    pub fn parse(kind: &str, code: &str) -> Option<Target> {
        match kind {
            "item" => Some(Target::Item(code.to_string())),
            "bundle" => Some(Target::Bundle(code.to_string())),
            _ => None,
        }
    }
}

/// A material the application asks for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialSlot {
    pub name: String,
    pub required: bool,
    /// Type code of an e-licence that can replace it.
    pub licence_type: Option<String>,
    /// Shared information resource that proves the same facts (数据共享核验).
    pub shared_resource: Option<String>,
    pub note: String,
}

/// Everything needed to show and check an application for an item or bundle.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub target: Target,
    pub title: String,
    pub lead_department: String,
    pub lead_department_name: String,
    /// Item whose implementation code numbers the case.
    pub numbering_item: String,
    pub promised_days: u32,
    pub instant: bool,
    pub form: FormDef,
    pub materials: Vec<MaterialSlot>,
    pub items: Vec<(Item, Workflow)>,
    pub auto_approve: bool,
    /// Names of joint-review departments, by credit code.
    pub department_names: std::collections::HashMap<String, String>,
}

impl Prepared {
    /// Fee collected online at acceptance: the published fees every applicant pays, over the
    /// case's items that are paid online (先缴费后办理).
    pub fn fee_fen(&self, case: &Case) -> i64 {
        self.items
            .iter()
            .filter(|(i, w)| w.pay_online && case.branches.iter().any(|b| b.item_code == i.impl_code))
            .map(|(i, _)| i.doc.required_fee_fen())
            .sum()
    }
}

/// The applicant's input.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub values: Values,
    pub delivery: Option<Delivery>,
    pub delivery_address: Option<String>,
}

/// A case with what its viewers need besides the row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: Case,
    pub materials: Vec<MaterialInfo>,
    pub timeline: Vec<Event>,
    pub urgency: Urgency,
}

/// Staff queue filters.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Restrict to this status (default: everything waiting for the viewer).
    pub status: Option<CaseStatus>,
    /// Text in the title or the case number.
    pub q: Option<String>,
    /// Only overdue or nearly due.
    pub urgent_only: bool,
}

/// Who did a staff action, from where: written to the audit trail in the action's own
/// transaction, so an action is never committed without its record.
#[derive(Debug, Clone)]
struct StaffAudit {
    actor: String,
    result: &'static str,
    source: String,
}

/// A courier needs an address it can find: region and street level, 8–200 characters.
fn check_delivery(delivery: Delivery, address: Option<&str>) -> Result<()> {
    match (delivery, address) {
        (Delivery::Courier, None) => Err(invalid("delivery_address", "选择邮寄送达时必须填写收件地址")),
        (_, Some(a)) if a.chars().count() > 200 => Err(invalid("delivery_address", "不能超过200个字")),
        (Delivery::Courier, Some(a)) => model::check_address(a).map_err(|m| invalid("delivery_address", m)),
        _ => Ok(()),
    }
}

/// The end of every case write, inside its transaction: the audit record of a staff action and,
/// when the case was just concluded, the conclusion hooks (e-licences).
async fn finish_write(tx: &mut Tx, hooks: &Hooks, case: &Case, happened: Happened, audit: Option<&StaffAudit>) -> Result<()> {
    if let Some(a) = audit {
        yiwang_identity::audit_in(tx, &a.actor, "case.action", &case.case_id, a.result, &a.source).await?;
    }
    if let (Some(amount), Some(d)) = (happened.payment_due, &hooks.desk) {
        d.payment_due(tx, case, amount).await?;
    }
    let concluded = happened.concluded;
    if concluded {
        for h in &hooks.conclusion {
            h.on_concluded(tx, case).await?;
        }
    }
    Ok(())
}

/// What the hooks of a write must hear about.
#[derive(Debug, Clone, Copy, Default)]
struct Happened {
    concluded: bool,
    /// A payment order for this amount is due.
    payment_due: Option<i64>,
}

impl Happened {
    /// `fee_fen`: what the writer's context said is due at acceptance.
    fn of<'a>(changes: impl IntoIterator<Item = &'a Change>, fee_fen: i64) -> Happened {
        let mut h = Happened::default();
        for ch in changes {
            for e in &ch.events {
                h.concluded |= e.kind == EventKind::Concluded;
                if e.kind == EventKind::PaymentRequested {
                    h.payment_due = Some(fee_fen);
                }
            }
        }
        h
    }
}

/// Called inside case transactions.
#[derive(Default)]
struct Hooks {
    conclusion: Vec<Arc<dyn ConclusionHook>>,
    desk: Option<Arc<dyn PaymentDesk>>,
}

/// A called-back hook when a case is concluded (the licence module issues e-licences here).
pub trait ConclusionHook: Send + Sync {
    /// Runs inside the conclusion's transaction; an error rolls the conclusion back.
    fn on_concluded<'a>(&'a self, tx: &'a mut Tx, case: &'a Case) -> yiwang_store::TxFuture<'a, Result<()>>;
}

/// Told after a case change commits (electronic supervision watches here). It runs on the
/// request path after the commit, so it must only queue work; a change it misses is found by
/// the supervisor's periodic sweep.
pub trait CaseObserver: Send + Sync {
    /// `before` is the state the action started from (none for a new submission).
    fn changed(&self, before: Option<&Case>, after: &Case);
}

/// Where fees due at acceptance are collected (the payment module implements it).
pub trait PaymentDesk: Send + Sync {
    /// Runs inside the acceptance's transaction: open the case's payment order for
    /// `amount_fen` (the published fees of its online-paid items).
    fn payment_due<'a>(&'a self, tx: &'a mut Tx, case: &'a Case, amount_fen: i64) -> yiwang_store::TxFuture<'a, Result<()>>;
}

/// A held e-licence standing in for a material (免提交).
#[derive(Debug, Clone)]
pub struct HeldLicence {
    pub type_code: String,
    pub identifier: String,
    /// Licence name for people (e.g. 结婚证).
    pub title: String,
    /// The signed licence file (JSON), kept with the case as the material.
    pub file: Vec<u8>,
}

/// Why a licence is used, recorded with each use (who used whose licence, for which case).
#[derive(Debug, Clone)]
pub struct LicenceUsage {
    pub case_id: String,
    pub used_by: String,
    pub department_code: String,
    pub purpose: String,
}

/// The holder's licences as the case module sees them (the licence module implements it).
pub trait LicenceWallet: Send + Sync {
    /// For each type in `type_codes`, the holder's current valid licence if any, with its use
    /// recorded in the caller's transaction.
    fn use_held<'a>(
        &'a self,
        tx: &'a mut Tx,
        holder_id: &'a str,
        type_codes: &'a [String],
        usage: &'a LicenceUsage,
    ) -> yiwang_store::TxFuture<'a, Result<Vec<HeldLicence>>>;
}

/// What the case workflow asks of the data exchange (数据共享核验).
#[derive(Debug, Clone)]
pub struct SharedQuery {
    /// The department handling the case: its case system is the consumer.
    pub department_code: String,
    pub resource: String,
    /// The applicant's ID number or credit code.
    pub subject: String,
    /// Drafts have none yet.
    pub case_number: Option<String>,
    pub case_title: String,
}

/// Facts fetched from a shared resource, kept with the case as the material they replace.
#[derive(Debug, Clone)]
pub struct SharedRecord {
    /// Resource name for people (e.g. 人口基础信息).
    pub title: String,
    /// The signed gateway answer (JSON).
    pub file: Vec<u8>,
}

/// The data exchange as the case module sees it (the exchange module implements it).
pub trait SharedData: Send + Sync {
    /// The records about the subject, or `None` when the provider has none or the rules refuse
    /// (the applicant then supplies the proof). Runs outside any case transaction: the exchange
    /// commits its own access log.
    fn fetch(&self, q: SharedQuery) -> yiwang_store::TxFuture<'_, Result<Option<SharedRecord>>>;
}

/// How long a prepared item (catalog elements and workflow definition) is reused before it is
/// read again. Changes on this node drop it at once; other nodes see them within this time.
const PREPARED_TTL: std::time::Duration = std::time::Duration::from_secs(10);

type PreparedCache = Mutex<std::collections::HashMap<Target, (std::time::Instant, Arc<Prepared>)>>;

/// The case service.
#[derive(Clone)]
pub struct Cases {
    db: Db,
    catalog: Arc<Catalog>,
    calendar: Arc<WorkCalendar>,
    clock: Arc<dyn Clock>,
    settings: CaseSettings,
    hooks: Arc<Hooks>,
    wallet: Option<Arc<dyn LicenceWallet>>,
    shared: Option<Arc<dyn SharedData>>,
    observers: Arc<Vec<Arc<dyn CaseObserver>>>,
    prepared: Arc<PreparedCache>,
    /// Seals personal data in case rows (none: stored as given).
    sealer: yiwang_crypto::Sealer,
    /// Daily serials of case numbers, reserved outside the submission's transaction.
    serials: Arc<yiwang_store::sequences::DailySerials>,
}

fn catalog_err(e: CatalogError) -> CaseError {
    match e {
        CatalogError::ItemNotFound(c) | CatalogError::BundleNotFound(c) => CaseError::ItemNotFound(c),
        other => CaseError::Config(other.to_string()),
    }
}

impl Cases {
    pub fn new(db: Db, catalog: Arc<Catalog>, calendar: WorkCalendar, clock: Arc<dyn Clock>, settings: CaseSettings) -> Cases {
        Cases {
            db,
            catalog,
            calendar: Arc::new(calendar),
            clock,
            settings,
            hooks: Default::default(),
            wallet: None,
            shared: None,
            observers: Arc::new(vec![]),
            prepared: Default::default(),
            sealer: Default::default(),
            serials: Default::default(),
        }
    }

    /// Keep applicants' ID numbers, phones, forms and addresses encrypted at rest under `key`
    /// (the deployment's personal-data key, from the master key).
    pub fn with_personal_data(mut self, key: Arc<yiwang_crypto::PersonalData>) -> Cases {
        self.sealer = yiwang_crypto::Sealer::new(key);
        self
    }

    /// The key a person's or business's records are filed under (cases, tickets, ratings,
    /// requests, licence uses): for a person, the blind index of the ID number when personal
    /// data is encrypted, so lookups work and no table shows the number.
    pub fn owner_of(&self, a: &Applicant) -> String {
        match (a.kind, self.sealer.index("owner", &a.person_id_number)) {
            (ApplicantKind::Person, Some(index)) => format!("person:{index}"),
            _ => a.owner(),
        }
    }

    /// Rewrite owner keys stored with a person's ID number in the clear (`person:<ID>`) as the
    /// blind index, in `table.column` (start-up; names are the platform's own, not input).
    pub async fn protect_owner_keys(&self, table: &'static str, column: &'static str) -> Result<u64> {
        if !self.sealer.enabled() {
            return Ok(0);
        }
        let sql = format!("SELECT DISTINCT {column} AS k FROM {table} WHERE {column} LIKE 'person:%' AND {column} NOT LIKE 'person:bi1:%'");
        let keys: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(self.db.reader()).await?;
        let mut tx = self.db.begin().await?;
        let update = format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2");
        for old in &keys {
            let id = old.trim_start_matches("person:");
            let Some(index) = self.sealer.index("owner", id) else { continue };
            sqlx::query(sqlx::AssertSqlSafe(update.clone())).bind(format!("person:{index}")).bind(old).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(keys.len() as u64)
    }

    /// Encrypt the personal data of cases stored before encryption at rest (start-up).
    pub async fn protect_personal_data(&self) -> Result<u64> {
        store::protect_rows(&self.db, &self.sealer).await
    }

    /// Tell `observer` about every committed change (electronic supervision watches here).
    pub fn with_observer(mut self, observer: Arc<dyn CaseObserver>) -> Cases {
        let mut all: Vec<_> = self.observers.iter().cloned().collect();
        all.push(observer);
        self.observers = Arc::new(all);
        self
    }

    /// The same service on another clock (the demo loader replays history with it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Cases {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn with_hook(mut self, hook: Arc<dyn ConclusionHook>) -> Cases {
        let mut conclusion = self.hooks.conclusion.clone();
        conclusion.push(hook);
        self.hooks = Arc::new(Hooks { conclusion, desk: self.hooks.desk.clone() });
        self
    }

    /// Collect fees due at acceptance through `desk` (统一支付); without one, items with fees
    /// are accepted only on the spot.
    pub fn with_payment_desk(mut self, desk: Arc<dyn PaymentDesk>) -> Cases {
        self.hooks = Arc::new(Hooks { conclusion: self.hooks.conclusion.clone(), desk: Some(desk) });
        self
    }

    /// Let held e-licences satisfy materials that accept them.
    pub fn with_wallet(mut self, wallet: Arc<dyn LicenceWallet>) -> Cases {
        self.wallet = Some(wallet);
        self
    }

    /// Let shared information resources satisfy materials that name one.
    pub fn with_shared_data(mut self, shared: Arc<dyn SharedData>) -> Cases {
        self.shared = Some(shared);
        self
    }

    pub fn calendar(&self) -> &WorkCalendar {
        &self.calendar
    }
    pub fn settings(&self) -> &CaseSettings {
        &self.settings
    }
    pub fn today(&self) -> NaiveDate {
        china_date(self.clock.now())
    }

    fn context(&self, promised_days: u32) -> Context<'_> {
        let now = self.clock.now();
        Context {
            now: timestamp_text(now),
            today: china_date(now),
            calendar: &self.calendar,
            accept_days: self.settings.accept_days,
            promised_days,
            fee_fen: 0,
        }
    }

    /// The moment, limits and fee due for a case of a prepared item or bundle.
    fn context_for(&self, p: &Prepared, case: &Case) -> Context<'_> {
        // Without a payment desk every fee is paid at the window.
        let fee_fen = if self.hooks.desk.is_some() { p.fee_fen(case) } else { 0 };
        Context { fee_fen, ..self.context(p.promised_days) }
    }

    // ----- definitions -----

    pub async fn definition(&self, impl_code: &str) -> Result<Option<WorkflowDef>> {
        let text: Option<String> = sqlx::query_scalar("SELECT definition FROM item_workflows WHERE impl_code = $1")
            .bind(impl_code)
            .fetch_optional(self.db.reader())
            .await?;
        text.map(|t| serde_json::from_str(&t).map_err(CaseError::from)).transpose()
    }

    pub async fn has_definitions(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM item_workflows").fetch_one(self.db.reader()).await?;
        Ok(n > 0)
    }

    /// Set an item's workflow (department admins of the item's department, platform admins).
    pub async fn set_definition(&self, editor: &Staff, impl_code: &str, def: &WorkflowDef) -> Result<()> {
        let item = self.catalog.item_latest(&yiwang_catalog::Editor::platform(&editor.username), impl_code).await.map_err(catalog_err)?;
        let allowed = editor.is_platform_admin()
            || (editor.roles.contains(&Role::DeptAdmin) && editor.department.as_deref() == Some(item.doc.department_code.as_str()));
        if !allowed {
            return Err(CaseError::Forbidden);
        }
        self.store_definition(impl_code, def, &editor.username).await
    }

    /// Store a checked definition (demo loader and admins).
    pub async fn store_definition(&self, impl_code: &str, def: &WorkflowDef, by: &str) -> Result<()> {
        def.check()?;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO item_workflows (impl_code, definition, updated_at, updated_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (impl_code) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(impl_code)
        .bind(serde_json::to_string(def)?)
        .bind(timestamp_text(self.clock.now()))
        .bind(by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.forget_prepared();
        Ok(())
    }

    /// Drop cached preparations (after a definition or catalog change on this node).
    pub fn forget_prepared(&self) {
        if let Ok(mut m) = self.prepared.lock() {
            m.clear();
        }
    }

    async fn published_item(&self, code: &str) -> Result<(Item, Workflow)> {
        let item = self.catalog.item_public(code).await.map_err(catalog_err)?;
        if item.status != ItemStatus::Published {
            return Err(CaseError::Refused(format!("事项“{}”已暂停办理", item.doc.name)));
        }
        let wf = Workflow::resolve(&item, self.definition(code).await?);
        Ok((item, wf))
    }

    /// What an application for `target` needs: items, merged form, materials (cached briefly:
    /// every submission and action needs it and it changes rarely).
    pub async fn prepare(&self, target: &Target) -> Result<Arc<Prepared>> {
        if let Ok(m) = self.prepared.lock() {
            if let Some((at, p)) = m.get(target) {
                if at.elapsed() < PREPARED_TTL {
                    return Ok(p.clone());
                }
            }
        }
        let p = Arc::new(self.load_prepared(target).await?);
        if let Ok(mut m) = self.prepared.lock() {
            m.insert(target.clone(), (std::time::Instant::now(), p.clone()));
        }
        Ok(p)
    }

    async fn load_prepared(&self, target: &Target) -> Result<Prepared> {
        let (title, lead, promised, items) = match target {
            Target::Item(code) => {
                let (item, wf) = self.published_item(code).await?;
                (item.doc.name.clone(), item.doc.department_code.clone(), item.doc.promised_days, vec![(item, wf)])
            }
            Target::Bundle(code) => {
                let bundle = self.catalog.bundle(code).await.map_err(catalog_err)?;
                let mut items = Vec::new();
                for c in &bundle.items {
                    items.push(self.published_item(c).await?);
                }
                let promised = if bundle.promised_days > 0 {
                    bundle.promised_days
                } else {
                    items.iter().map(|(i, _)| i.doc.promised_days).max().unwrap_or(0)
                };
                (bundle.name.clone(), bundle.lead_department.clone(), promised, items)
            }
        };
        if items.is_empty() {
            return Err(CaseError::ItemNotFound(target.code().to_string()));
        }
        let lead_name = self.catalog.department(&lead).await.map(|d| d.name).unwrap_or_default();
        let numbering_item = items
            .iter()
            .find(|(i, _)| i.doc.department_code == lead)
            .map(|(i, _)| i.impl_code.clone())
            .unwrap_or_else(|| items[0].0.impl_code.clone());
        let form = FormDef::merge(items.iter().map(|(_, w)| &w.form));
        let mut materials: Vec<MaterialSlot> = Vec::new();
        for (item, _) in &items {
            for m in &item.doc.materials {
                match materials.iter_mut().find(|s| s.name == m.name) {
                    Some(s) => s.required |= m.required,
                    None => materials.push(MaterialSlot {
                        name: m.name.clone(),
                        required: m.required,
                        licence_type: m.licence_type.clone(),
                        shared_resource: m.shared_resource.clone(),
                        note: m.note.clone(),
                    }),
                }
            }
        }
        let mut department_names = std::collections::HashMap::new();
        for j in items.iter().flat_map(|(_, w)| w.joint_review.iter()) {
            let name = self.catalog.department(&j.department).await.map(|d| d.name).map_err(catalog_err)?;
            department_names.insert(j.department.clone(), name);
        }
        let instant = items.iter().all(|(i, _)| i.doc.case_kind == CaseKind::Instant) && promised == 0;
        let auto_approve = items.iter().all(|(_, w)| w.auto_approve);
        Ok(Prepared {
            target: target.clone(),
            title,
            lead_department: lead,
            lead_department_name: lead_name,
            numbering_item,
            promised_days: promised,
            instant,
            form,
            materials,
            items,
            auto_approve,
            department_names,
        })
    }

    /// Values the platform already knows (免填).
    pub fn prefill(form: &FormDef, a: &Applicant) -> Values {
        use form::Prefill::*;
        let mut v = Values::new();
        for f in &form.fields {
            let value = match f.prefill {
                Some(ApplicantName) => Some(a.person_name.clone()),
                Some(ApplicantIdNumber) => Some(a.person_id_number.clone()),
                Some(ApplicantPhone) => a.phone.clone(),
                Some(ApplicantAddress) => a.address.clone(),
                Some(BusinessName) if a.kind == ApplicantKind::Business => Some(a.name.clone()),
                Some(BusinessCreditCode) if a.kind == ApplicantKind::Business => Some(a.id_number.clone()),
                _ => None,
            };
            if let Some(value) = value {
                v.insert(f.key.clone(), value);
            }
        }
        v
    }

    // ----- applicant side -----

    fn check_audience(p: &Prepared, a: &Applicant) -> Result<()> {
        use yiwang_catalog::model::Audience;
        let wanted = match a.kind {
            ApplicantKind::Person => Audience::Person,
            ApplicantKind::Business => Audience::Business,
        };
        if p.items.iter().all(|(i, _)| i.doc.audience.serves(wanted)) {
            Ok(())
        } else if a.kind == ApplicantKind::Person {
            Err(CaseError::Refused("该事项由企业办理，请先切换到企业身份".into()))
        } else {
            Err(CaseError::Refused("该事项由个人办理，请切换回个人身份".into()))
        }
    }

    fn new_draft(&self, p: &Prepared, a: &Applicant, input: &ApplicationInput, channel: Channel) -> Result<Case> {
        let now = timestamp_text(self.clock.now());
        let form = p.form.normalise(&input.values);
        let delivery = input.delivery.unwrap_or(Delivery::Electronic);
        let address = input.delivery_address.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        check_delivery(delivery, address.as_deref())?;
        let phone = form.get("contact_phone").cloned().or_else(|| a.phone.clone());
        Ok(Case {
            case_id: uuid::Uuid::now_v7().to_string(),
            case_number: None,
            target_kind: p.target.kind().into(),
            target_code: p.target.code().into(),
            title: p.title.clone(),
            lead_department: p.lead_department.clone(),
            lead_department_name: p.lead_department_name.clone(),
            applicant_kind: a.kind,
            applicant_name: a.name.clone(),
            applicant_id_number: a.id_number.clone(),
            contact_phone: phone,
            owner: self.owner_of(a),
            account: a.account.clone(),
            channel,
            status: CaseStatus::Draft,
            outcome: None,
            form,
            delivery,
            delivery_address: address,
            submitted_at: None,
            accepted_at: None,
            concluded_at: None,
            due_date: None,
            paused_since: None,
            corrections: 0,
            correction_note: None,
            decision_note: None,
            fee_fen: None,
            version: 0,
            created_at: now.clone(),
            updated_at: now,
            branches: vec![],
        })
    }

    /// Start an application (a draft). With an idempotency key, repeating the call returns the
    /// same draft instead of making another.
    pub async fn create_draft(&self, a: &Applicant, target: &Target, input: &ApplicationInput, key: Option<&str>) -> Result<Case> {
        if let Some(k) = key {
            if k.is_empty() || k.len() > 100 {
                return Err(invalid("Idempotency-Key", "长度应为1到100个字符"));
            }
            if let Some(id) = self.case_id_by_key(&self.owner_of(a), k).await? {
                return self.case_for_owner(a, &id).await;
            }
        }
        let p = self.prepare(target).await?;
        Self::check_audience(&p, a)?;
        let case = self.new_draft(&p, a, input, Channel::Online)?;
        let mut tx = self.db.begin().await?;
        match store::insert_case(&mut tx, &self.sealer, &case, a, key).await {
            Ok(()) => {}
            Err(CaseError::Store(yiwang_store::StoreError::Duplicate(_))) if key.is_some() => {
                drop(tx);
                let id = self.case_id_by_key(&self.owner_of(a), key.unwrap_or_default()).await?.ok_or(CaseError::NotFound)?;
                return self.case_for_owner(a, &id).await;
            }
            Err(e) => return Err(e),
        }
        self.fill_from_licences(&mut tx, &p, &case, a).await?;
        tx.commit().await?;
        self.fill_from_exchange(&p, &case).await;
        Ok(case)
    }

    /// 凡是能通过网络共享复用的材料，不得要求重复提交: slots that accept a licence type the
    /// applicant holds are filled with it, and each use is recorded.
    async fn fill_from_licences(&self, tx: &mut Tx, p: &Prepared, case: &Case, a: &Applicant) -> Result<usize> {
        let Some(wallet) = &self.wallet else { return Ok(0) };
        let mut types: Vec<String> = p.materials.iter().filter_map(|m| m.licence_type.clone()).collect();
        types.sort();
        types.dedup();
        if types.is_empty() {
            return Ok(0);
        }
        let usage = LicenceUsage {
            case_id: case.case_id.clone(),
            used_by: a.account.clone().unwrap_or_else(|| self.owner_of(a)),
            department_code: case.lead_department.clone(),
            purpose: format!("申请“{}”免提交材料", case.title),
        };
        let held = wallet.use_held(tx, &a.id_number, &types, &usage).await?;
        let mut filled = 0;
        for slot in &p.materials {
            let Some(t) = &slot.licence_type else { continue };
            if let Some(h) = held.iter().find(|h| &h.type_code == t) {
                materials::attach_licence(tx, &case.case_id, &slot.name, h).await?;
                filled += 1;
            }
        }
        Ok(filled)
    }

    /// 凡是能通过网络核验的信息，不得要求其他单位重复提供: slots naming a shared resource (and
    /// not already filled by a licence) get the applicant's record from the exchange. Best
    /// effort: when the exchange refuses or fails, the slot stays open for an upload.
    async fn fill_from_exchange(&self, p: &Prepared, case: &Case) -> usize {
        let Some(shared) = &self.shared else { return 0 };
        let slots: Vec<&MaterialSlot> = p.materials.iter().filter(|m| m.shared_resource.is_some()).collect();
        if slots.is_empty() {
            return 0;
        }
        let mut found = Vec::new();
        for slot in slots {
            let Some(resource) = &slot.shared_resource else { continue };
            let q = SharedQuery {
                department_code: case.lead_department.clone(),
                resource: resource.clone(),
                subject: case.applicant_id_number.clone(),
                case_number: case.case_number.clone(),
                case_title: case.title.clone(),
            };
            match shared.fetch(q).await {
                Ok(Some(r)) => found.push((slot.name.clone(), r)),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(case = %case.case_id, resource, error = %e, "shared data not available; the applicant uploads instead")
                }
            }
        }
        if found.is_empty() {
            return 0;
        }
        let attach = async {
            let mut tx = self.db.begin().await?;
            let existing = materials::list(&mut tx, &case.case_id).await?;
            let mut n = 0;
            for (name, r) in &found {
                if existing.iter().any(|m| &m.name == name) {
                    continue;
                }
                materials::attach_shared(&mut tx, &case.case_id, name, r).await?;
                n += 1;
            }
            tx.commit().await?;
            Ok::<usize, CaseError>(n)
        };
        match attach.await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(case = %case.case_id, error = %e, "attaching shared data failed");
                0
            }
        }
    }

    async fn case_id_by_key(&self, owner: &str, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT case_id FROM cases WHERE owner = $1 AND submit_key = $2")
            .bind(owner)
            .bind(key)
            .fetch_optional(self.db.reader())
            .await?)
    }

    /// Save form values on a draft or a case being corrected.
    pub async fn save_form(&self, a: &Applicant, case_id: &str, input: &ApplicationInput, version: i64) -> Result<Case> {
        let case = self.case_for_owner(a, case_id).await?;
        if !matches!(case.status, CaseStatus::Draft | CaseStatus::Correction) {
            return Err(CaseError::WrongState(case.status.label_zh()));
        }
        if case.version != version {
            return Err(CaseError::Stale);
        }
        let p = self.prepare_for(&case).await?;
        let mut next = case.clone();
        next.form = p.form.normalise(&input.values);
        if let Some(d) = input.delivery {
            next.delivery = d;
        }
        if input.delivery_address.is_some() {
            next.delivery_address = input.delivery_address.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        }
        check_delivery(next.delivery, next.delivery_address.as_deref())?;
        if let Some(p) = next.form.get("contact_phone") {
            next.contact_phone = Some(p.clone());
        }
        // Branch slices follow the form (一表多拆) while being corrected.
        for b in next.branches.iter_mut() {
            if let Some((_, wf)) = p.items.iter().find(|(i, _)| i.impl_code == b.item_code) {
                b.form = wf.form.normalise(&next.form);
            }
        }
        next.updated_at = timestamp_text(self.clock.now());
        let change = Change { branches: next.branches.iter().map(|b| b.branch_no).collect(), case: next, events: vec![], notice: None };
        let mut tx = self.db.begin().await?;
        store::write_change(&mut tx, &self.sealer, &change, version, false).await?;
        tx.commit().await?;
        self.case_for_owner(a, case_id).await
    }

    async fn prepare_for(&self, case: &Case) -> Result<Arc<Prepared>> {
        let target = Target::parse(&case.target_kind, &case.target_code).ok_or(CaseError::NotFound)?;
        self.prepare(&target).await
    }

    /// Upload a material into a slot of a draft or a case being corrected.
    pub async fn attach_material(&self, a: &Applicant, case_id: &str, slot: &str, file_name: &str, bytes: &[u8]) -> Result<MaterialInfo> {
        let case = self.case_for_owner(a, case_id).await?;
        if !matches!(case.status, CaseStatus::Draft | CaseStatus::Correction) {
            return Err(CaseError::WrongState(case.status.label_zh()));
        }
        let p = self.prepare_for(&case).await?;
        if !p.materials.iter().any(|m| m.name == slot) {
            return Err(invalid("material", format!("本事项不需要“{slot}”")));
        }
        let content_type = materials::sniff(bytes)?;
        let name = materials::clean_file_name(file_name);
        let mut tx = self.db.begin().await?;
        let info = materials::attach(&mut tx, case_id, slot, &name, content_type, bytes).await?;
        // Touch the case so concurrent submitters see the change.
        sqlx::query("UPDATE cases SET updated_at = $1 WHERE case_id = $2")
            .bind(timestamp_text(self.clock.now()))
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// Run the pre-check for a case as it stands (一次性告知).
    pub async fn precheck(&self, a: &Applicant, case: &Case, p: &Prepared) -> Result<Vec<Problem>> {
        let mut c = self.db.reader().acquire().await?;
        let have: BTreeSet<String> = materials::list(&mut c, &case.case_id).await?.into_iter().map(|m| m.name).collect();
        drop(c);
        Ok(self.precheck_with(a, case, p, &have))
    }

    fn precheck_with(&self, a: &Applicant, case: &Case, p: &Prepared, have: &BTreeSet<String>) -> Vec<Problem> {
        let required: Vec<String> = p.materials.iter().filter(|m| m.required).map(|m| m.name.clone()).collect();
        let facts = precheck::Facts { form: &case.form, applicant: a, materials: have, today: self.today() };
        let rules: Vec<precheck::Rule> = p.items.iter().flat_map(|(_, w)| w.rules.iter().cloned()).collect();
        precheck::run(&p.form, &required, &rules, &facts)
    }

    /// One branch per item, plus one per joint-review department of an item (并联审批).
    fn branches_for(p: &Prepared, form: &Values) -> Vec<Branch> {
        let mut out = Vec::new();
        let mut push = |item: &Item, wf: &Workflow, dept: (&str, &str), name: String, steps: &[StepDef]| {
            out.push(Branch {
                branch_no: out.len() as i64 + 1,
                item_code: item.impl_code.clone(),
                item_name: name,
                department_code: dept.0.to_string(),
                department_name: dept.1.to_string(),
                steps: steps.to_vec(),
                step_index: 0,
                status: BranchStatus::Waiting,
                step_started: None,
                step_due: None,
                decided_at: None,
                form: wf.form.normalise(form),
            })
        };
        for (item, wf) in &p.items {
            push(item, wf, (&item.doc.department_code, &item.department_name), item.doc.name.clone(), &wf.steps);
            for j in &wf.joint_review {
                let dept_name = p.department_names.get(&j.department).cloned().unwrap_or_default();
                push(item, wf, (&j.department, &dept_name), format!("{}（联合审查：{}）", item.doc.name, j.name), &j.steps);
            }
        }
        out
    }

    /// Submit a draft. Resubmitting an already submitted case returns it unchanged (idempotent).
    /// Items marked for automatic approval are accepted and approved at once when every rule
    /// passes.
    pub async fn submit(&self, a: &Applicant, case_id: &str) -> Result<Case> {
        // The case and the names of its uploaded materials in one read.
        let (case, have) = {
            let mut c = self.db.reader().acquire().await?;
            store::load_with_material_names(&mut c, &self.sealer, case_id).await?.ok_or(CaseError::NotFound)?
        };
        if case.owner != self.owner_of(a) {
            return Err(CaseError::NotFound);
        }
        if case.status != CaseStatus::Draft {
            // Already submitted: answer with the full case (idempotent resubmission).
            return if case.submitted_at.is_some() {
                self.case_for_owner(a, case_id).await
            } else {
                Err(CaseError::WrongState(case.status.label_zh()))
            };
        }
        let p = self.prepare_for(&case).await?;
        Self::check_audience(&p, a)?;
        let problems = self.precheck_with(a, &case, &p, &have);
        if !problems.is_empty() {
            return Err(CaseError::PrecheckFailed(problems));
        }
        self.submit_checked(case, &p).await
    }

    async fn submit_checked(&self, mut case: Case, p: &Prepared) -> Result<Case> {
        case.branches = Self::branches_for(p, &case.form);
        let ctx = self.context_for(p, &case);
        let auto = p.auto_approve.then_some("全部预审规则通过，系统自动审批");
        let mut changes = vec![engine::submit(&ctx, &case, auto)?];
        if p.auto_approve {
            let step = engine::act(&ctx, &changes[0].case, Actor::System, &Action::Accept { on_the_spot: false })?;
            let state = step.case.clone();
            changes.push(step);
            // With a fee due, approval runs once it is paid.
            if state.status == CaseStatus::InProgress {
                changes.extend(Self::auto_approvals(&ctx, state)?);
            }
        }
        self.write_submission(ctx.fee_fen, changes, p.numbering_item.clone(), ctx.today, None, None).await
    }

    /// Every remaining step of every branch, approved by the system (rule-based items).
    fn auto_approvals(ctx: &Context<'_>, mut state: Case) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        for b in state.branches.clone() {
            for _ in b.step_index as usize..b.steps.len() {
                let step = engine::act(ctx, &state, Actor::System, &Action::Approve { branch: b.branch_no, note: "系统自动审批".into() })?;
                state = step.case.clone();
                out.push(step);
            }
        }
        Ok(out)
    }

    /// 缴费确认 from the payment module on a verified payment: the case starts (and a
    /// rule-based item is approved at once). Idempotent: a case no longer waiting is returned
    /// as it is.
    pub async fn payment_received(&self, case_id: &str, amount_fen: i64, reference: &str) -> Result<Case> {
        let case = self.load(case_id).await?;
        if case.status != CaseStatus::AwaitingPayment {
            return Ok(case);
        }
        let p = self.prepare_for(&case).await?;
        let ctx = self.context_for(&p, &case);
        let paid = engine::act(&ctx, &case, Actor::System, &Action::ConfirmPayment { amount_fen, reference: reference.to_string() })?;
        let mut changes = vec![paid];
        if p.auto_approve {
            let state = changes[0].case.clone();
            changes.extend(Self::auto_approvals(&ctx, state)?);
        }
        self.write_chain(&case, changes).await
    }

    /// 寄递进度 from the courier on a concluded case; `delivered` closes it (送达).
    pub async fn courier_update(&self, case_id: &str, note: &str, delivered: bool) -> Result<Case> {
        let case = self.load(case_id).await?;
        let action = if delivered { Action::Deliver { note: note.to_string() } } else { Action::Track { note: note.to_string() } };
        if case.status != CaseStatus::Concluded {
            return Ok(case);
        }
        let ch = engine::act(&self.context(0), &case, Actor::System, &action)?;
        self.write(&case, ch, case.version, 0, None).await
    }

    /// Write consecutive system changes of one case in one transaction.
    async fn write_chain(&self, before: &Case, changes: Vec<Change>) -> Result<Case> {
        let hooks = self.hooks.clone();
        let sealer = self.sealer.clone();
        let start = before.version;
        let after = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let happened = Happened::of(&changes, 0);
                    let mut version = start;
                    let mut last = None;
                    for ch in changes {
                        version = store::write_change(tx, &sealer, &ch, version, false).await?;
                        last = Some(ch.case);
                    }
                    let mut case = last.ok_or(CaseError::NotFound)?;
                    case.version = version;
                    finish_write(tx, &hooks, &case, happened, None).await?;
                    Ok::<_, CaseError>(case)
                })
            })
            .await?;
        self.observe(Some(before), &after);
        Ok(after)
    }

    /// Write a submission (and any automatic steps after it) in one durable group-committed
    /// transaction: number, branches, events, notices.
    async fn write_submission(
        &self,
        fee_fen: i64,
        changes: Vec<Change>,
        numbering_item: String,
        today: NaiveDate,
        new_row: Option<(Case, Applicant)>,
        audit: Option<StaffAudit>,
    ) -> Result<Case> {
        let hooks = self.hooks.clone();
        let sealer = self.sealer.clone();
        let case_id = changes[0].case.case_id.clone();
        let start_version = changes[0].case.version;
        let code = ImplementationCode::parse(&numbering_item)?;
        let day = today.format("%Y%m%d").to_string();
        let seq = self.serials.take(&self.db, &numbering_item, &day).await?;
        let number = u16::try_from(seq)
            .ok()
            .and_then(|s| CaseNumber::compose(&code, today, s))
            .ok_or(CaseError::SequenceExhausted)?
            .as_str()
            .to_string();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if let Some((draft, a)) = &new_row {
                        store::insert_case(tx, &sealer, draft, a, None).await?;
                    }
                    let happened = Happened::of(&changes, fee_fen);
                    let mut version = start_version;
                    let mut last = None;
                    for (i, mut ch) in changes.into_iter().enumerate() {
                        ch.case.case_number = Some(number.clone());
                        for n in ch.notice.iter_mut() {
                            n.body = n.body.replace(engine::NUMBER_PLACEHOLDER, &number);
                        }
                        version = store::write_change(tx, &sealer, &ch, version, i == 0).await?;
                        last = Some(ch.case);
                    }
                    let mut case = last.ok_or(CaseError::NotFound)?;
                    case.version = version;
                    finish_write(tx, &hooks, &case, happened, audit.as_ref()).await?;
                    Ok::<_, CaseError>(case)
                })
            })
            .await
            .inspect(|c: &Case| {
                tracing::info!(case = %case_id, number = ?c.case_number, "case submitted");
                self.observe(None, c);
            })
            .inspect_err(|e| {
                // Rolled back for certain (not a storage failure, whose commit may be unknown):
                // the number goes to the next submission.
                if !matches!(e, CaseError::Store(_)) {
                    self.serials.give_back(&numbering_item, &day, seq);
                }
            })
    }

    /// Resubmit after a correction request: saves nothing new by itself (use `save_form` and
    /// `attach_material` first), re-runs the pre-check and restarts the clock.
    pub async fn resubmit(&self, a: &Applicant, case_id: &str, version: i64) -> Result<Case> {
        let case = self.case_for_owner(a, case_id).await?;
        if case.version != version {
            // A repeated resubmission of the same version is idempotent.
            if case.status != CaseStatus::Correction && case.corrections > 0 {
                return Ok(case);
            }
            return Err(CaseError::Stale);
        }
        let p = self.prepare_for(&case).await?;
        let problems = self.precheck(a, &case, &p).await?;
        if !problems.is_empty() {
            return Err(CaseError::PrecheckFailed(problems));
        }
        let ch = engine::resubmit(&self.context(p.promised_days), &case)?;
        self.write(&case, ch, version, 0, None).await
    }

    pub async fn withdraw(&self, a: &Applicant, case_id: &str, version: i64) -> Result<Case> {
        let case = self.case_for_owner(a, case_id).await?;
        if case.status == CaseStatus::Draft {
            return Err(CaseError::WrongState(case.status.label_zh()));
        }
        let ch = engine::withdraw(&self.context(0), &case)?;
        self.write(&case, ch, version, 0, None).await
    }

    async fn write(&self, before: &Case, ch: Change, version: i64, fee_fen: i64, audit: Option<StaffAudit>) -> Result<Case> {
        let hooks = self.hooks.clone();
        let sealer = self.sealer.clone();
        let after = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let v = store::write_change(tx, &sealer, &ch, version, false).await?;
                    let happened = Happened::of([&ch], fee_fen);
                    let mut case = ch.case;
                    case.version = v;
                    finish_write(tx, &hooks, &case, happened, audit.as_ref()).await?;
                    Ok::<_, CaseError>(case)
                })
            })
            .await?;
        self.observe(Some(before), &after);
        Ok(after)
    }

    /// Tell the observers about a committed change.
    fn observe(&self, before: Option<&Case>, after: &Case) {
        for o in self.observers.iter() {
            o.changed(before, after);
        }
    }

    // ----- staff side -----

    /// A staff action, guarded by the version the staff member saw, audited with no request
    /// source (tests, jobs); requests use [`Cases::act_from`].
    pub async fn act(&self, staff: &Staff, case_id: &str, version: i64, action: &Action) -> Result<Case> {
        self.act_from(staff, "", case_id, version, action).await
    }

    /// A staff action from a request `source`; the audit record commits with the change.
    pub async fn act_from(&self, staff: &Staff, source: &str, case_id: &str, version: i64, action: &Action) -> Result<Case> {
        let case = self.case_for_staff(staff, case_id).await?;
        if case.version != version {
            return Err(CaseError::Stale);
        }
        let p = self.prepare_for(&case).await?;
        let ctx = self.context_for(&p, &case);
        let fee = ctx.fee_fen;
        let ch = engine::act(&ctx, &case, Actor::Staff(staff), action)?;
        let audit = StaffAudit { actor: staff.username.clone(), result: action.label_zh(), source: source.to_string() };
        let out = self.write(&case, ch, version, fee, Some(audit)).await?;
        tracing::info!(case = %case_id, staff = %staff.username, action = action.label_zh(), "case action");
        Ok(out)
    }

    /// 一窗受理 for an offline applicant: the window records the application and accepts it in
    /// one step (and finishes an on-the-spot item at once). Materials are checked on paper.
    pub async fn window_apply(
        &self,
        staff: &Staff,
        a: &Applicant,
        target: &Target,
        input: &ApplicationInput,
        on_the_spot: bool,
        source: &str,
    ) -> Result<Case> {
        if !staff.roles.contains(&Role::Window) {
            return Err(CaseError::Forbidden);
        }
        let p = self.prepare(target).await?;
        if staff.department.as_deref() != Some(p.lead_department.as_str()) {
            return Err(CaseError::Refused(format!("该事项由{}受理", p.lead_department_name)));
        }
        Self::check_audience(&p, a)?;
        let mut case = self.new_draft(&p, a, input, Channel::Window)?;
        let problems = precheck::form_problems(&p.form, &case.form);
        if !problems.is_empty() {
            return Err(CaseError::PrecheckFailed(problems));
        }
        case.branches = Self::branches_for(&p, &case.form);
        let ctx = self.context_for(&p, &case);
        let submitted = engine::submit(&ctx, &case, None)?;
        let accept = Action::Accept { on_the_spot };
        let mut accepted = engine::act(&ctx, &submitted.case, Actor::Staff(staff), &accept)?;
        accepted.events.iter_mut().for_each(|e| {
            if e.kind == EventKind::Accepted {
                e.note = "窗口收件，纸质材料已核验".into();
            }
        });
        // The new row, its submission, acceptance and audit record are one transaction.
        let audit = StaffAudit { actor: staff.username.clone(), result: accept.label_zh(), source: source.to_string() };
        let fee = ctx.fee_fen;
        self.write_submission(fee, vec![submitted, accepted], p.numbering_item.clone(), ctx.today, Some((case, a.clone())), Some(audit))
            .await
    }

    // ----- reading -----

    /// A case for platform jobs (payments, delivery). No viewer check: callers authorize.
    pub async fn case_for_platform(&self, case_id: &str) -> Result<Case> {
        self.load(case_id).await
    }

    /// A case with its timeline for platform jobs (electronic supervision, statistics). No
    /// viewer check: callers authorize whoever sees the result.
    pub async fn view_for_platform(&self, case_id: &str) -> Result<CaseView> {
        let case = self.load(case_id).await?;
        self.view(case).await
    }

    /// Cases supervision keeps watching: every one with a running clock or waiting for a
    /// decision, and any changed since `changed_since` (a timestamp text).
    pub async fn watched_case_ids(&self, changed_since: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT case_id FROM cases WHERE status IN ('submitted', 'in_progress', 'correction', 'awaiting_payment', 'concluded') OR updated_at >= $1",
        )
        .bind(changed_since)
        .fetch_all(self.db.reader())
        .await?)
    }

    /// One line per case submitted in `[from, to)` (timestamp texts), for statistics.
    pub async fn facts(&self, from: &str, to: &str) -> Result<Vec<CaseFact>> {
        let rows = sqlx::query(
            "SELECT case_id, target_kind, target_code, title, lead_department, lead_department_name, channel, status, outcome, delivery,
                    submitted_at, accepted_at, concluded_at, due_date, corrections
             FROM cases WHERE submitted_at >= $1 AND submitted_at < $2 ORDER BY submitted_at",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(store::fact_from).collect()
    }

    async fn load(&self, case_id: &str) -> Result<Case> {
        let mut c = self.db.reader().acquire().await?;
        store::load(&mut c, &self.sealer, case_id).await?.ok_or(CaseError::NotFound)
    }

    /// A case the applicant owns; anything else is "not found" (no probing of others' ids).
    pub async fn case_for_owner(&self, a: &Applicant, case_id: &str) -> Result<Case> {
        let case = self.load(case_id).await?;
        if case.owner != self.owner_of(a) {
            return Err(CaseError::NotFound);
        }
        Ok(case)
    }

    pub async fn case_for_staff(&self, staff: &Staff, case_id: &str) -> Result<Case> {
        let case = self.load(case_id).await?;
        if !engine::staff_can_view(staff, &case) || case.status == CaseStatus::Draft {
            return Err(CaseError::NotFound);
        }
        Ok(case)
    }

    /// Case, materials and timeline.
    pub async fn view(&self, case: Case) -> Result<CaseView> {
        let mut c = self.db.reader().acquire().await?;
        let materials = materials::list(&mut c, &case.case_id).await?;
        let timeline = store::events(&mut c, &case.case_id).await?;
        let running = matches!(case.status, CaseStatus::Submitted | CaseStatus::InProgress);
        let urgency = engine::urgency(&self.calendar, self.today(), case.due_date.as_deref(), running, self.settings.warn_days);
        Ok(CaseView { case, materials, timeline, urgency })
    }

    pub async fn material(&self, case: &Case, name: &str) -> Result<(MaterialInfo, Vec<u8>)> {
        let mut c = self.db.reader().acquire().await?;
        materials::content(&mut c, &case.case_id, name).await?.ok_or(CaseError::NotFound)
    }

    /// The applicant's cases, newest first.
    pub async fn cases_of(&self, a: &Applicant, limit: i64) -> Result<Vec<CaseSummary>> {
        let rows = sqlx::query(
            "SELECT case_id, case_number, title, status, outcome, channel, applicant_name, applicant_kind, submitted_at, due_date, updated_at,
                    version, NULL AS branch_no, NULL AS step_due
             FROM cases WHERE owner = $1 ORDER BY updated_at DESC LIMIT $2",
        )
        .bind(self.owner_of(a))
        .bind(limit.clamp(1, 500))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(store::summary_from).collect()
    }

    /// Work waiting for a staff member: acceptance and delivery at the lead department's window,
    /// branch steps at the department whose role matches. Supervisors see everything running.
    pub async fn queue(&self, staff: &Staff, f: &QueueFilter) -> Result<Vec<(CaseSummary, Urgency)>> {
        let dept = staff.department.clone().unwrap_or_default();
        let supervisor = staff.roles.iter().any(|r| matches!(r, Role::Supervisor | Role::PlatformAdmin));
        let mut out: Vec<CaseSummary> = Vec::new();
        let cols = "c.case_id, c.case_number, c.title, c.status, c.outcome, c.channel, c.applicant_name, c.applicant_kind, c.submitted_at,
                    c.due_date, c.updated_at, c.version";
        if supervisor {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {cols}, NULL AS branch_no, NULL AS step_due FROM cases c WHERE c.status <> 'draft' ORDER BY c.updated_at DESC LIMIT 500"
            )))
            .fetch_all(self.db.reader())
            .await?;
            for r in &rows {
                out.push(store::summary_from(r)?);
            }
        } else {
            if staff.roles.contains(&Role::Window) {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {cols}, NULL AS branch_no, NULL AS step_due FROM cases c
                     WHERE c.lead_department = $1 AND c.status IN ('submitted', 'concluded', 'correction', 'awaiting_payment') ORDER BY c.due_date, c.submitted_at LIMIT 500"
                )))
                .bind(&dept)
                .fetch_all(self.db.reader())
                .await?;
                for r in &rows {
                    out.push(store::summary_from(r)?);
                }
            }
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {cols}, b.branch_no, b.step_due, b.steps, b.step_index FROM case_branches b JOIN cases c ON c.case_id = b.case_id
                 WHERE b.department_code = $1 AND b.status = 'active' AND c.status = 'in_progress' ORDER BY c.due_date, c.submitted_at LIMIT 500"
            )))
            .bind(&dept)
            .fetch_all(self.db.reader())
            .await?;
            for r in &rows {
                let steps: Vec<StepDef> = serde_json::from_str(&r.try_get::<String, _>("steps")?)?;
                let idx: i64 = r.try_get("step_index")?;
                let Some(step) = steps.get(idx as usize) else { continue };
                if !Role::parse(&step.role).is_some_and(|role| staff.roles.contains(&role)) {
                    continue;
                }
                let mut s = store::summary_from(r)?;
                s.step_name = Some(step.name.clone());
                out.push(s);
            }
        }
        let today = self.today();
        let mut result = Vec::new();
        for s in out {
            if let Some(st) = f.status {
                if s.status != st {
                    continue;
                }
            }
            if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                let hit = s.title.contains(q) || s.case_number.as_deref().is_some_and(|n| n.contains(q));
                if !hit {
                    continue;
                }
            }
            let running = matches!(s.status, CaseStatus::Submitted | CaseStatus::InProgress);
            let due = s.step_due.clone().or_else(|| s.due_date.clone());
            let u = engine::urgency(&self.calendar, today, due.as_deref(), running, self.settings.warn_days);
            if f.urgent_only && !matches!(u, Urgency::Red | Urgency::Yellow) {
                continue;
            }
            result.push((s, u));
        }
        Ok(result)
    }
}
