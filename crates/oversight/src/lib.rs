//! Evaluation (评价考核): power runs in the sun.
//!
//! - [`rules`]: electronic supervision (电子监察) rules as pure functions; [`alerts`] stores
//!   what they find, with a lifecycle and department scores. Rules run on every committed case
//!   change (through [`Watch`], the case module's observer) and in a periodic sweep that also
//!   catches deadlines passing while nobody acts.
//! - [`ratings`]: 好差评, one rating per finished case and per window visit; every bad review
//!   opens a rectification task with a deadline, a reply and an appeal path.
//! - [`tickets`]: 12345-style enquiries, complaints, suggestions and reports, dispatched to
//!   departments with deadlines that escalate.
//! - [`stats`] and [`charts`]: figures for supervisors and the public, SVG charts, CSV.

pub mod alerts;
pub mod charts;
pub mod demo;
mod error;
pub mod model;
pub mod ratings;
pub mod rules;
pub mod stats;
pub mod tickets;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use yiwang_cases::{Case, CaseObserver, Cases, Target};
use yiwang_catalog::model::ItemStatus;
use yiwang_catalog::Catalog;
use yiwang_identity::{Role, Staff};
use yiwang_store::sqlx;
use yiwang_store::{timestamp_text, Db};

pub use alerts::{AlertFilter, Reconciled};
pub use error::{OversightError, Result};
pub use model::*;
pub use rules::{Finding, Published, RuleSettings};
pub use tickets::TicketDeadlines;

use crate::alerts::Subject;

/// Tunables.
#[derive(Debug, Clone)]
pub struct OversightSettings {
    pub rules: RuleSettings,
    /// Seals 12345 submitters' contact names and phones at rest.
    pub personal_data: yiwang_crypto::Sealer,
    /// Working days a department has to verify, rectify and answer a bad review (local rules:
    /// 5 or 15).
    pub followup_days: u32,
    pub tickets: TicketDeadlines,
    /// How long a window visit stays open for its rating.
    pub visit_minutes: i64,
    /// Seconds between sweeps.
    pub sweep_every_secs: u64,
}

impl Default for OversightSettings {
    fn default() -> Self {
        OversightSettings {
            rules: RuleSettings::default(),
            followup_days: 5,
            tickets: TicketDeadlines::default(),
            visit_minutes: 120,
            sweep_every_secs: 300,
            personal_data: Default::default(),
        }
    }
}

/// The case module's observer: queues committed changes for evaluation off the request path.
#[derive(Default)]
pub struct Watch {
    pending: Mutex<Vec<Change>>,
    wake: tokio::sync::Notify,
}

/// A committed change: the state before (none for a new case) and after.
type Change = (Option<Case>, Case);

/// More queued changes than this are dropped (the sweep finds them): evaluation must never
/// hold memory hostage when the database is slow.
const WATCH_LIMIT: usize = 50_000;

impl CaseObserver for Watch {
    fn changed(&self, before: Option<&Case>, after: &Case) {
        if let Ok(mut p) = self.pending.lock() {
            if p.len() < WATCH_LIMIT {
                p.push((before.cloned(), after.clone()));
            }
        }
        self.wake.notify_one();
    }
}

/// China date of a moment.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    yiwang_cases::china_date(t)
}

/// `YYYY-MM` of a China date.
pub fn month_of(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// China local time (minutes) of a stored timestamp.
pub fn local_minutes(ts: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| (t.with_timezone(&Utc) + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// Who may act on alerts, follow-ups and tickets of every department.
pub fn is_supervisor(staff: &Staff) -> bool {
    staff.roles.iter().any(|r| matches!(r, Role::Supervisor | Role::PlatformAdmin))
}

/// Staff of `department` (any workbench role there).
pub(crate) fn works_in(staff: &Staff, department: &str) -> bool {
    staff.department.as_deref() == Some(department)
        && staff.roles.iter().any(|r| matches!(r, Role::DeptAdmin | Role::Window | Role::Approver))
}

/// What supervision needs of a published item.
#[derive(Debug, Clone)]
pub(crate) struct ItemFact {
    fees: Vec<i64>,
    /// The fees mention a waiver (减免).
    waivable: bool,
    published: bool,
}

/// Published facts per item, read once per evaluation round.
#[derive(Default)]
pub(crate) struct ItemFacts(HashMap<String, Option<ItemFact>>);

impl ItemFacts {
    /// None when the catalog does not know the item.
    async fn get(&mut self, catalog: &Catalog, code: &str) -> Option<ItemFact> {
        if let Some(v) = self.0.get(code) {
            return v.clone();
        }
        let v = catalog.item_public(code).await.ok().map(|i| ItemFact {
            fees: i.doc.fees.iter().map(|f| f.amount_fen).filter(|f| *f > 0).collect(),
            waivable: i.doc.fees.iter().any(|f| !f.waivers.is_empty() || f.note.contains('免') || f.basis.contains('免')),
            published: i.status == ItemStatus::Published,
        });
        self.0.insert(code.to_string(), v.clone());
        v
    }
}

/// The oversight service.
#[derive(Clone)]
pub struct Oversight {
    db: Db,
    cases: Cases,
    catalog: Arc<Catalog>,
    settings: Arc<OversightSettings>,
    watch: Arc<Watch>,
}

/// Alert lifecycle actions.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AlertAction {
    /// 情况说明 by the department.
    Explain { text: String },
    /// 整改 by the department.
    Rectify { text: String },
    /// 办结 by a supervisor, once the department has explained.
    Close { note: String },
}

impl Oversight {
    /// `watch` must be the observer given to `cases` (see [`Cases::with_observer`]).
    pub fn new(db: Db, cases: Cases, catalog: Arc<Catalog>, watch: Arc<Watch>, settings: OversightSettings) -> Oversight {
        Oversight { db, cases, catalog, settings: Arc::new(settings), watch }
    }

    pub fn settings(&self) -> &OversightSettings {
        &self.settings
    }
    pub fn cases(&self) -> &Cases {
        &self.cases
    }
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.cases.now()
    }
    pub(crate) fn now_text(&self) -> String {
        timestamp_text(self.now())
    }
    pub(crate) fn today(&self) -> NaiveDate {
        china_date(self.now())
    }
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    // ----- evaluation -----

    async fn published(&self, facts: &mut ItemFacts, case: &Case) -> Published {
        let mut p = Published::default();
        let target_items: Vec<String> = match Target::parse(&case.target_kind, &case.target_code) {
            Some(Target::Bundle(code)) => self.catalog.bundle(&code).await.map(|b| b.items).unwrap_or_default(),
            _ => vec![case.target_code.clone()],
        };
        for code in &target_items {
            if let Some(f) = facts.get(&self.catalog, code).await {
                p.fees.extend(f.fees);
                p.waivable |= f.waivable;
            }
        }
        for b in &case.branches {
            if !facts.get(&self.catalog, &b.item_code).await.is_some_and(|f| f.published) {
                p.unpublished.push(b.item_name.clone());
            }
        }
        p
    }

    /// Run every rule on one case (plus `transitions`, what the change that woke us showed).
    async fn evaluate(&self, facts: &mut ItemFacts, case_id: &str, changes: &[Change]) -> Result<Reconciled> {
        let view = self.cases.view_for_platform(case_id).await?;
        let today = self.today();
        let published = self.published(facts, &view.case).await;
        let calendar = self.cases.calendar();
        let mut findings = rules::state_findings(&view, &published, calendar, today, &self.settings.rules);
        // A change is of this same case: its items and published facts are the ones just read.
        for (before, after) in changes {
            // The day the change happened, not the day it is evaluated: evaluation may lag.
            let then = yiwang_cases::china_date_of(&after.updated_at).unwrap_or(today);
            findings.extend(rules::transition_findings(before.as_ref(), after, &published, calendar, then));
        }
        let reference = view.case.case_number.clone().unwrap_or_else(|| view.case.case_id.clone());
        let subject = Subject { id: case_id, reference: &reference, title: &view.case.title };
        alerts::reconcile(&self.db, &subject, findings, &self.now_text(), &month_of(today)).await
    }

    /// Evaluate one case now (tests, and after an import).
    pub async fn evaluate_case(&self, case_id: &str) -> Result<Reconciled> {
        self.evaluate(&mut ItemFacts::default(), case_id, &[]).await
    }

    /// Evaluate the changes queued by the case module. Returns how many cases were evaluated.
    pub async fn process_pending(&self) -> Result<usize> {
        let batch: Vec<Change> = match self.watch.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return Ok(0),
        };
        let mut by_case: Vec<(String, Vec<Change>)> = Vec::new();
        for (before, after) in batch {
            match by_case.iter_mut().find(|(id, _)| *id == after.case_id) {
                Some((_, v)) => v.push((before, after)),
                None => by_case.push((after.case_id.clone(), vec![(before, after)])),
            }
        }
        let mut facts = ItemFacts::default();
        for (id, changes) in &by_case {
            if let Err(e) = self.evaluate(&mut facts, id, changes).await {
                tracing::warn!(case = %id, error = %e, "supervision rules failed; the sweep will retry");
            }
        }
        Ok(by_case.len())
    }

    /// The periodic sweep: every watched case, ticket and follow-up against the clock.
    pub async fn sweep(&self) -> Result<SweepReport> {
        let since = sqlx::query_scalar::<_, String>("SELECT value FROM oversight_state WHERE name = 'last_sweep'")
            .fetch_optional(self.db.reader())
            .await?
            .unwrap_or_default();
        let started = self.now_text();
        let ids = self.cases.watched_case_ids(&since).await?;
        let mut report = SweepReport::default();
        let mut facts = ItemFacts::default();
        for id in &ids {
            let r = self.evaluate(&mut facts, id, &[]).await?;
            report.cases += 1;
            report.raised += r.raised;
            report.turned_red += r.turned_red;
            report.cleared += r.cleared;
        }
        report.tickets_escalated = self.sweep_tickets().await?;
        let f = self.sweep_followups().await?;
        report.raised += f.raised;
        report.turned_red += f.turned_red;
        report.cleared += f.cleared;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO oversight_state (name, value) VALUES ('last_sweep', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(&started)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Background loop: evaluate queued changes as they come, sweep every few minutes.
    pub async fn run(self) {
        let every = std::time::Duration::from_secs(self.settings.sweep_every_secs.max(5));
        let mut next_sweep = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_sweep {
                match self.sweep().await {
                    Ok(r) if r.raised + r.turned_red + r.cleared + r.tickets_escalated > 0 => tracing::info!(?r, "supervision sweep"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "supervision sweep failed"),
                }
                next_sweep = tokio::time::Instant::now() + every;
            }
            if let Err(e) = self.process_pending().await {
                tracing::warn!(error = %e, "supervision of queued changes failed");
            }
            let _ = tokio::time::timeout_at(next_sweep, self.watch.wake.notified()).await;
        }
    }

    // ----- alerts -----

    /// Alerts the viewer may see: every department's for supervisors, their own otherwise.
    pub async fn alerts(&self, viewer: &Staff, mut f: AlertFilter) -> Result<Vec<Alert>> {
        if !is_supervisor(viewer) {
            f.department = Some(viewer.department.clone().ok_or(OversightError::Forbidden)?);
        }
        if f.limit == 0 {
            f.limit = 200;
        }
        alerts::list(&self.db, &f).await
    }

    pub async fn alert(&self, viewer: &Staff, id: &str) -> Result<Alert> {
        let mut c = self.db.reader().acquire().await?;
        let a = alerts::get(&mut c, id).await?;
        if !is_supervisor(viewer) && viewer.department.as_deref() != Some(a.department_code.as_str()) {
            return Err(OversightError::NotFound(format!("预警 {id}")));
        }
        Ok(a)
    }

    /// 说明, 整改 (the department) and 办结 (a supervisor), audited in the same transaction.
    pub async fn act_on_alert(&self, staff: &Staff, source: &str, id: &str, action: &AlertAction) -> Result<Alert> {
        let a = self.alert(staff, id).await?;
        let (status, column, text, label) = match action {
            AlertAction::Explain { text } => {
                if !works_in(staff, &a.department_code) {
                    return Err(OversightError::Forbidden);
                }
                if a.status != AlertStatus::Open {
                    return Err(OversightError::WrongState(a.status.label_zh()));
                }
                (AlertStatus::Explained, "explanation", error::text_field(text, "text", 2000, false)?, "情况说明")
            }
            AlertAction::Rectify { text } => {
                if !works_in(staff, &a.department_code) {
                    return Err(OversightError::Forbidden);
                }
                if !matches!(a.status, AlertStatus::Open | AlertStatus::Explained) {
                    return Err(OversightError::WrongState(a.status.label_zh()));
                }
                (AlertStatus::Rectified, "rectification", error::text_field(text, "text", 2000, false)?, "整改")
            }
            AlertAction::Close { note } => {
                if !is_supervisor(staff) {
                    return Err(OversightError::Forbidden);
                }
                if !matches!(a.status, AlertStatus::Explained | AlertStatus::Rectified) {
                    return Err(OversightError::Invalid {
                        field: "status".into(), message: "部门尚未说明情况或整改，不能办结".into()
                    });
                }
                (AlertStatus::Closed, "closing_note", error::text_field(note, "note", 2000, false)?, "办结")
            }
        };
        let mut tx = self.db.begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE oversight_alerts SET status = $1, {column} = $2, updated_at = $3 WHERE alert_id = $4 AND status = $5"
        )))
        .bind(status.key())
        .bind(&text)
        .bind(self.now_text())
        .bind(id)
        .bind(a.status.key())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(OversightError::WrongState("已被他人处理"));
        }
        yiwang_identity::audit_in(&mut tx, &staff.username, "oversight.alert", id, label, source).await?;
        tx.commit().await?;
        self.alert(staff, id).await
    }

    /// Department scores for a month (`YYYY-MM`): 100 less 5 per red alert, 1 per yellow
    /// warning that did not clear and 2 per counted bad review; never below 0.
    pub async fn scores(&self, month: &str) -> Result<Vec<Score>> {
        let counts = alerts::month_counts(&self.db, month).await?;
        let bad = ratings::bad_counts(&self.db, month).await?;
        let mut out: Vec<Score> = self
            .catalog
            .departments()
            .await
            .map_err(|e| OversightError::Config(e.to_string()))?
            .into_iter()
            .map(|d| {
                let (red, yellow) = counts.get(&d.credit_code).copied().unwrap_or((0, 0));
                let bad_reviews = bad.get(&d.credit_code).copied().unwrap_or(0);
                Score {
                    score: (100 - 5 * red - yellow - 2 * bad_reviews).max(0),
                    department_code: d.credit_code,
                    department_name: d.name,
                    red,
                    yellow,
                    bad_reviews,
                }
            })
            .collect();
        out.sort_by(|a, b| a.score.cmp(&b.score).then(a.department_name.cmp(&b.department_name)));
        Ok(out)
    }

    /// The current China month.
    pub fn this_month(&self) -> String {
        month_of(self.today())
    }
}

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub cases: usize,
    pub raised: usize,
    pub turned_red: usize,
    pub cleared: usize,
    pub tickets_escalated: usize,
}
