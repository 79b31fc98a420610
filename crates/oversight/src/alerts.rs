//! Alert storage: reconciling what the rules find with what is stored, the lifecycle
//! (说明 → 整改 → 办结) and department scores.

use std::collections::HashMap;

use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{Db, Row};

use crate::error::{OversightError, Result};
use crate::model::{Alert, AlertStatus, Level, Rule};
use crate::rules::Finding;

pub(crate) const ALERT_COLUMNS: &str = "alert_id, rule, subject, scope, level, status, reference, title, department_code, department_name,
    detail, explanation, rectification, closing_note, raised_at, red_at, updated_at, month";

fn bad(what: &str, v: &str) -> OversightError {
    OversightError::Config(format!("数据库中的{what}无效：{v}"))
}

pub(crate) fn alert_from(r: &Row) -> Result<Alert> {
    let s = |c: &str| r.try_get::<String, _>(c).map_err(OversightError::from);
    let o = |c: &str| r.try_get::<Option<String>, _>(c).map_err(OversightError::from);
    let rule = s("rule")?;
    let level = s("level")?;
    let status = s("status")?;
    Ok(Alert {
        alert_id: s("alert_id")?,
        rule: Rule::parse(&rule).ok_or_else(|| bad("rule", &rule))?,
        subject: s("subject")?,
        scope: s("scope")?,
        level: Level::parse(&level).ok_or_else(|| bad("level", &level))?,
        status: AlertStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        reference: s("reference")?,
        title: s("title")?,
        department_code: s("department_code")?,
        department_name: s("department_name")?,
        detail: s("detail")?,
        explanation: o("explanation")?,
        rectification: o("rectification")?,
        closing_note: o("closing_note")?,
        raised_at: s("raised_at")?,
        red_at: o("red_at")?,
        updated_at: s("updated_at")?,
        month: s("month")?,
    })
}

/// The subject an alert is about, as people know it.
pub(crate) struct Subject<'a> {
    pub id: &'a str,
    pub reference: &'a str,
    pub title: &'a str,
}

/// What a reconciliation changed (for logs and tests).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    pub raised: usize,
    pub turned_red: usize,
    pub cleared: usize,
}

/// One change a reconciliation makes.
enum Step<'a> {
    Raise(&'a Finding),
    /// Turn a yellow red, or reopen a cleared warning whose condition is back.
    Update {
        id: String,
        finding: &'a Finding,
        turns_red: bool,
    },
    Detail {
        id: String,
        finding: &'a Finding,
    },
    Clear {
        id: String,
    },
}

/// Bring the stored alerts of one subject in line with `findings`: new ones open, yellow ones
/// that came true turn red in place, yellow warnings nobody acted on clear when their
/// condition is gone. Red alerts are never cleared by the rules. Reads first and writes only
/// when something changes, so evaluating a quiet case costs no write transaction.
pub(crate) async fn reconcile(db: &Db, subject: &Subject<'_>, findings: Vec<Finding>, now: &str, month: &str) -> Result<Reconciled> {
    let rows = sqlx::query("SELECT alert_id, rule, scope, level, status, detail FROM oversight_alerts WHERE subject = $1")
        .bind(subject.id)
        .fetch_all(db.reader())
        .await?;
    if rows.is_empty() && findings.is_empty() {
        return Ok(Reconciled::default());
    }
    let mut existing: HashMap<(String, String), (String, String, String, String)> = HashMap::new();
    for r in &rows {
        existing.insert(
            (r.try_get("rule")?, r.try_get("scope")?),
            (r.try_get("alert_id")?, r.try_get("level")?, r.try_get("status")?, r.try_get("detail")?),
        );
    }
    // One finding per rule and scope; red wins.
    let mut wanted: HashMap<(String, String), Finding> = HashMap::new();
    for f in findings {
        let key = (f.rule.key().to_string(), f.scope.clone());
        match wanted.get(&key) {
            Some(old) if old.level == Level::Red => {}
            _ => {
                wanted.insert(key, f);
            }
        }
    }
    let mut steps = Vec::new();
    for (key, f) in &wanted {
        match existing.get(key) {
            None => steps.push(Step::Raise(f)),
            Some((id, level, status, detail)) => {
                let turns_red = f.level == Level::Red && level == Level::Yellow.key();
                if turns_red || status == AlertStatus::Cleared.key() {
                    steps.push(Step::Update { id: id.clone(), finding: f, turns_red });
                } else if detail != &f.detail && status == AlertStatus::Open.key() {
                    steps.push(Step::Detail { id: id.clone(), finding: f });
                }
            }
        }
    }
    for (key, (id, level, status, _)) in &existing {
        if !wanted.contains_key(key) && level == Level::Yellow.key() && status == AlertStatus::Open.key() {
            steps.push(Step::Clear { id: id.clone() });
        }
    }
    let mut out = Reconciled::default();
    if steps.is_empty() {
        return Ok(out);
    }
    let mut tx = db.begin().await?;
    for step in steps {
        match step {
            Step::Raise(f) => {
                let n = sqlx::query(
                    "INSERT INTO oversight_alerts (alert_id, rule, subject, scope, level, status, reference, title, department_code,
                        department_name, detail, raised_at, red_at, updated_at, month)
                     VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, $12, $11, $13)
                     ON CONFLICT (rule, subject, scope) DO NOTHING",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(f.rule.key())
                .bind(subject.id)
                .bind(&f.scope)
                .bind(f.level.key())
                .bind(subject.reference)
                .bind(subject.title)
                .bind(&f.department_code)
                .bind(&f.department_name)
                .bind(&f.detail)
                .bind(now)
                .bind((f.level == Level::Red).then_some(now))
                .bind(month)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                out.raised += n as usize;
            }
            Step::Update { id, finding, turns_red } => {
                sqlx::query(
                    "UPDATE oversight_alerts SET level = CASE WHEN $1 THEN 'red' ELSE level END,
                        status = CASE WHEN status = 'cleared' THEN 'open' ELSE status END,
                        detail = $2, red_at = CASE WHEN $1 THEN COALESCE(red_at, $3) ELSE red_at END,
                        closing_note = CASE WHEN status = 'cleared' THEN NULL ELSE closing_note END, updated_at = $3
                     WHERE alert_id = $4",
                )
                .bind(turns_red)
                .bind(&finding.detail)
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                if turns_red {
                    out.turned_red += 1;
                } else {
                    out.raised += 1;
                }
            }
            Step::Detail { id, finding } => {
                sqlx::query("UPDATE oversight_alerts SET detail = $1, updated_at = $2 WHERE alert_id = $3 AND status = 'open'")
                    .bind(&finding.detail)
                    .bind(now)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            Step::Clear { id } => {
                let n = sqlx::query(
                    "UPDATE oversight_alerts SET status = 'cleared', closing_note = $1, updated_at = $2
                     WHERE alert_id = $3 AND status = 'open' AND level = 'yellow'",
                )
                .bind("预警条件已消除（按时完成、时钟暂停或已撤回）")
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                out.cleared += n as usize;
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Which alerts a list shows.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Restrict to one department (always set for department staff).
    pub department: Option<String>,
    pub level: Option<Level>,
    pub status: Option<AlertStatus>,
    /// Only open, explained or rectified.
    pub active_only: bool,
    pub subject: Option<String>,
    pub limit: i64,
}

pub(crate) async fn list(db: &yiwang_store::Db, f: &AlertFilter) -> Result<Vec<Alert>> {
    let mut sql = format!("SELECT {ALERT_COLUMNS} FROM oversight_alerts WHERE 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    let mut add = |cond: &str, v: String| {
        binds.push(v);
        sql.push_str(&format!(" AND {cond} = ${}", binds.len()));
    };
    if let Some(d) = &f.department {
        add("department_code", d.clone());
    }
    if let Some(l) = f.level {
        add("level", l.key().into());
    }
    if let Some(s) = f.status {
        add("status", s.key().into());
    }
    if let Some(s) = &f.subject {
        add("subject", s.clone());
    }
    if f.active_only {
        sql.push_str(" AND status IN ('open', 'explained', 'rectified')");
    }
    sql.push_str(&format!(" ORDER BY CASE level WHEN 'red' THEN 0 ELSE 1 END, raised_at DESC LIMIT {}", f.limit.clamp(1, 1000)));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    q.fetch_all(db.reader()).await?.iter().map(alert_from).collect()
}

pub(crate) async fn get(c: &mut sqlx::AnyConnection, id: &str) -> Result<Alert> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLUMNS} FROM oversight_alerts WHERE alert_id = $1")))
        .bind(id)
        .fetch_optional(c)
        .await?
        .ok_or_else(|| OversightError::NotFound(format!("预警 {id}")))?;
    alert_from(&row)
}

/// Counts per department for a month: (department, red, yellow not cleared).
pub(crate) async fn month_counts(db: &yiwang_store::Db, month: &str) -> Result<HashMap<String, (i64, i64)>> {
    let rows = sqlx::query(
        "SELECT department_code,
                SUM(CASE WHEN level = 'red' THEN 1 ELSE 0 END) AS red,
                SUM(CASE WHEN level = 'yellow' AND status <> 'cleared' THEN 1 ELSE 0 END) AS yellow
         FROM oversight_alerts WHERE month = $1 GROUP BY department_code",
    )
    .bind(month)
    .fetch_all(db.reader())
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        out.insert(r.try_get::<String, _>("department_code")?, (r.try_get::<i64, _>("red")?, r.try_get::<i64, _>("yellow")?));
    }
    Ok(out)
}
