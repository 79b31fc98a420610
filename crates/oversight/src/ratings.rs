//! 好差评: one rating per finished case online (一事一评) and per window visit (一次一评); every
//! bad review opens a rectification task (差评整改) with a working-day deadline, a reply to the
//! rater and an appeal path for malicious reviews; monthly results are public.

use std::collections::HashMap;

use yiwang_cases::{Applicant, CaseStatus, Target};
use yiwang_identity::{Role, Staff};
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{timestamp_text, Db, Row, Tx};

use crate::alerts::{self, Reconciled, Subject};
use crate::error::{invalid, text_field, OversightError, Result};
use crate::model::*;
use crate::{is_supervisor, month_of, works_in, Oversight};

const RATING_COLUMNS: &str =
    "r.rating_id, r.kind, r.case_id, r.department_code, r.department_name, r.item_code, r.item_name, r.level, r.dimensions, r.comment, r.excluded, r.created_at";

fn rating_from(r: &Row) -> Result<Rating> {
    let kind: String = r.try_get("kind")?;
    let dims: String = r.try_get("dimensions")?;
    Ok(Rating {
        rating_id: r.try_get("rating_id")?,
        kind: RatingKind::parse(&kind).ok_or_else(|| OversightError::Config(format!("评价渠道无效：{kind}")))?,
        case_id: r.try_get("case_id")?,
        department_code: r.try_get("department_code")?,
        department_name: r.try_get("department_name")?,
        item_code: r.try_get("item_code")?,
        item_name: r.try_get("item_name")?,
        level: r.try_get("level")?,
        dimensions: serde_json::from_str(&dims)?,
        comment: r.try_get("comment")?,
        excluded: r.try_get::<i64, _>("excluded")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn followup_from(r: &Row) -> Result<Followup> {
    let status: String = r.try_get("status")?;
    Ok(Followup {
        rating: rating_from(r)?,
        status: FollowupStatus::parse(&status).ok_or_else(|| OversightError::Config(format!("整改状态无效：{status}")))?,
        due_date: r.try_get("due_date")?,
        verification: r.try_get("verification")?,
        rectification: r.try_get("rectification")?,
        reply: r.try_get("reply")?,
        replied_at: r.try_get("replied_at")?,
        appeal_reason: r.try_get("appeal_reason")?,
        appeal_decision: r.try_get("appeal_decision")?,
        closed_at: r.try_get("closed_at")?,
    })
}

/// Check a rating: level 1–5, dimensions 1–5, a reason for a bad review.
fn check_input(input: &RatingInput) -> Result<String> {
    if !(1..=5).contains(&input.level) {
        return Err(invalid("level", "评价等级应为1（非常不满意）至5（非常满意）"));
    }
    let d = &input.dimensions;
    for v in [d.efficiency, d.guide_accuracy, d.convenience, d.usability].into_iter().flatten() {
        if !(1..=5).contains(&v) {
            return Err(invalid("dimensions", "各项评分应为1至5"));
        }
    }
    let comment = text_field(&input.comment, "comment", 500, true)?;
    if input.level <= 2 && comment.is_empty() {
        return Err(invalid("comment", "请说明不满意的原因，以便部门核实整改"));
    }
    Ok(comment)
}

/// One row of the public monthly results.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ResultRow {
    pub code: String,
    pub name: String,
    pub count: i64,
    /// Mean level ×100 (integer, so no float rounding reaches the page).
    pub average_x100: i64,
    /// Levels 3–5.
    pub satisfied: i64,
    /// Levels 1–2.
    pub bad: i64,
    /// Bad reviews rectified and answered (follow-up closed).
    pub rectified: i64,
}

impl ResultRow {
    /// 满意率 in percent, one decimal.
    pub fn satisfaction(&self) -> String {
        crate::stats::pct(self.satisfied, self.count)
    }
    pub fn average(&self) -> String {
        format!("{}.{:02}", self.average_x100 / 100, self.average_x100 % 100)
    }
}

/// 好差评 results of a month, by department and by item.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MonthlyResults {
    pub month: String,
    pub departments: Vec<ResultRow>,
    pub items: Vec<ResultRow>,
    pub total: ResultRow,
}

pub(crate) async fn bad_counts(db: &Db, month: &str) -> Result<HashMap<String, i64>> {
    let rows = sqlx::query(
        "SELECT department_code, COUNT(*) AS n FROM ratings WHERE month = $1 AND level <= 2 AND excluded = 0 GROUP BY department_code",
    )
    .bind(month)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| Ok((r.try_get::<String, _>("department_code")?, r.try_get::<i64, _>("n")?))).collect()
}

impl Oversight {
    async fn insert_rating(
        &self,
        tx: &mut Tx,
        r: &Rating,
        visit_id: Option<&str>,
        rater: Option<&str>,
        account: Option<&str>,
    ) -> Result<()> {
        let month = month_of(self.today());
        let inserted = sqlx::query(
            "INSERT INTO ratings (rating_id, kind, case_id, visit_id, department_code, department_name, item_code, item_name, level,
                dimensions, comment, rater, account, excluded, created_at, month)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15)",
        )
        .bind(&r.rating_id)
        .bind(r.kind.key())
        .bind(&r.case_id)
        .bind(visit_id)
        .bind(&r.department_code)
        .bind(&r.department_name)
        .bind(&r.item_code)
        .bind(&r.item_name)
        .bind(r.level)
        .bind(serde_json::to_string(&r.dimensions)?)
        .bind(&r.comment)
        .bind(rater)
        .bind(account)
        .bind(&r.created_at)
        .bind(&month)
        .execute(&mut **tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(OversightError::Duplicate("已经评价过，每次办事只能评价一次".into()))
            }
            Err(e) => return Err(e.into()),
        }
        if r.is_bad() {
            let due = self.cases.calendar().add_working_days(self.today(), self.settings.followup_days);
            sqlx::query(
                "INSERT INTO rating_followups (rating_id, department_code, status, due_date, created_at, updated_at)
                 VALUES ($1, $2, 'open', $3, $4, $4)",
            )
            .bind(&r.rating_id)
            .bind(&r.department_code)
            .bind(due.format("%Y-%m-%d").to_string())
            .bind(&r.created_at)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// 一事一评: the applicant rates a finished case, once.
    pub async fn rate_case(&self, a: &Applicant, case_id: &str, input: &RatingInput) -> Result<Rating> {
        let case = self.cases.case_for_owner(a, case_id).await?;
        if !matches!(case.status, CaseStatus::Concluded | CaseStatus::Delivered | CaseStatus::NotAccepted) {
            return Err(OversightError::WrongState(case.status.label_zh()));
        }
        let comment = check_input(input)?;
        let item_code = match Target::parse(&case.target_kind, &case.target_code) {
            Some(Target::Item(c)) | Some(Target::Bundle(c)) => c,
            None => case.target_code.clone(),
        };
        let r = Rating {
            rating_id: uuid::Uuid::new_v4().to_string(),
            kind: RatingKind::Case,
            case_id: Some(case.case_id.clone()),
            department_code: case.lead_department.clone(),
            department_name: case.lead_department_name.clone(),
            item_code,
            item_name: case.title.clone(),
            level: input.level,
            dimensions: input.dimensions.clone(),
            comment,
            excluded: false,
            created_at: self.now_text(),
        };
        let mut tx = self.db().begin().await?;
        self.insert_rating(&mut tx, &r, None, Some(&self.cases().owner_of(a)), a.account.as_deref()).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// The rating of a case, if given.
    pub async fn rating_of_case(&self, case_id: &str) -> Result<Option<Rating>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RATING_COLUMNS} FROM ratings r WHERE r.case_id = $1")))
            .bind(case_id)
            .fetch_optional(self.db().reader())
            .await?;
        row.as_ref().map(rating_from).transpose()
    }

    /// 一次一评: the window opens a visit for rating (shown as a link or QR code on the
    /// window's screen).
    pub async fn open_visit(&self, staff: &Staff, item_code: &str) -> Result<Visit> {
        if !staff.roles.contains(&Role::Window) {
            return Err(OversightError::Forbidden);
        }
        let item = self.catalog().item_public(item_code).await.map_err(|_| OversightError::NotFound(format!("事项 {item_code}")))?;
        if staff.department.as_deref() != Some(item.doc.department_code.as_str()) {
            return Err(invalid("item_code", "只能为本部门的事项开启评价"));
        }
        let mut id = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        let v = Visit {
            visit_id: hex::encode(id),
            department_name: item.department_name.clone(),
            item_name: item.doc.name.clone(),
            expires_at: timestamp_text(self.now() + chrono::Duration::minutes(self.settings.visit_minutes)),
            rated: false,
        };
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "INSERT INTO rating_visits (visit_id, department_code, department_name, item_code, item_name, staff, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&v.visit_id)
        .bind(&item.doc.department_code)
        .bind(&v.department_name)
        .bind(item_code)
        .bind(&v.item_name)
        .bind(&staff.username)
        .bind(self.now_text())
        .bind(&v.expires_at)
        .execute(&mut *tx)
        .await?;
        yiwang_identity::audit_in(&mut tx, &staff.username, "oversight.visit", &v.visit_id, "开启窗口评价", "").await?;
        tx.commit().await?;
        Ok(v)
    }

    /// A visit waiting for its rating (not found once expired).
    pub async fn visit(&self, visit_id: &str) -> Result<(Visit, String, String)> {
        let r = sqlx::query(
            "SELECT department_code, department_name, item_code, item_name, expires_at, rated_at FROM rating_visits WHERE visit_id = $1",
        )
        .bind(visit_id)
        .fetch_optional(self.db().reader())
        .await?
        .ok_or_else(|| OversightError::NotFound("评价链接".into()))?;
        let expires_at: String = r.try_get("expires_at")?;
        if expires_at < self.now_text() {
            return Err(OversightError::NotFound("评价链接（已过期）".into()));
        }
        let v = Visit {
            visit_id: visit_id.to_string(),
            department_name: r.try_get("department_name")?,
            item_name: r.try_get("item_name")?,
            expires_at,
            rated: r.try_get::<Option<String>, _>("rated_at")?.is_some(),
        };
        Ok((v, r.try_get("department_code")?, r.try_get("item_code")?))
    }

    /// Rate a window visit (no account needed: the link is the capability).
    pub async fn rate_visit(&self, visit_id: &str, input: &RatingInput) -> Result<Rating> {
        let (v, department_code, item_code) = self.visit(visit_id).await?;
        if v.rated {
            return Err(OversightError::Duplicate("本次办事已评价".into()));
        }
        let comment = check_input(input)?;
        let r = Rating {
            rating_id: uuid::Uuid::new_v4().to_string(),
            kind: RatingKind::Visit,
            case_id: None,
            department_code,
            department_name: v.department_name.clone(),
            item_code,
            item_name: v.item_name.clone(),
            level: input.level,
            dimensions: input.dimensions.clone(),
            comment,
            excluded: false,
            created_at: self.now_text(),
        };
        let mut tx = self.db().begin().await?;
        let n = sqlx::query("UPDATE rating_visits SET rated_at = $1 WHERE visit_id = $2 AND rated_at IS NULL")
            .bind(&r.created_at)
            .bind(visit_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(OversightError::Duplicate("本次办事已评价".into()));
        }
        self.insert_rating(&mut tx, &r, Some(visit_id), None, None).await?;
        tx.commit().await?;
        Ok(r)
    }

    // ----- 差评整改 -----

    /// Follow-ups the viewer handles: the department's, or all for supervisors.
    pub async fn followups(&self, viewer: &Staff, active_only: bool) -> Result<Vec<Followup>> {
        let mut sql = format!(
            "SELECT {RATING_COLUMNS}, f.status, f.due_date, f.verification, f.rectification, f.reply, f.replied_at, f.appeal_reason,
                    f.appeal_decision, f.closed_at
             FROM rating_followups f JOIN ratings r ON r.rating_id = f.rating_id WHERE 1 = 1"
        );
        if active_only {
            sql.push_str(" AND f.status <> 'closed'");
        }
        let dept = if is_supervisor(viewer) { None } else { Some(viewer.department.clone().ok_or(OversightError::Forbidden)?) };
        if dept.is_some() {
            sql.push_str(" AND f.department_code = $1");
        }
        sql.push_str(" ORDER BY f.due_date, r.created_at LIMIT 500");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(d) = &dept {
            q = q.bind(d);
        }
        q.fetch_all(self.db().reader()).await?.iter().map(followup_from).collect()
    }

    async fn followup(&self, viewer: &Staff, rating_id: &str) -> Result<(Followup, Option<String>)> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RATING_COLUMNS}, r.account, f.status, f.due_date, f.verification, f.rectification, f.reply, f.replied_at,
                    f.appeal_reason, f.appeal_decision, f.closed_at
             FROM rating_followups f JOIN ratings r ON r.rating_id = f.rating_id WHERE f.rating_id = $1"
        )))
        .bind(rating_id)
        .fetch_optional(self.db().reader())
        .await?
        .ok_or_else(|| OversightError::NotFound("差评整改".into()))?;
        let f = followup_from(&row)?;
        if !is_supervisor(viewer) && viewer.department.as_deref() != Some(f.rating.department_code.as_str()) {
            return Err(OversightError::NotFound("差评整改".into()));
        }
        Ok((f, row.try_get("account")?))
    }

    async fn update_followup(&self, tx: &mut Tx, rating_id: &str, from: FollowupStatus, sets: &str, binds: &[Option<&str>]) -> Result<()> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE rating_followups SET {sets}, updated_at = ${} WHERE rating_id = ${} AND status = ${}",
            binds.len() + 1,
            binds.len() + 2,
            binds.len() + 3
        )));
        for b in binds {
            q = q.bind(*b);
        }
        let n = q.bind(self.now_text()).bind(rating_id).bind(from.key()).execute(&mut **tx).await?.rows_affected();
        if n != 1 {
            return Err(OversightError::WrongState("已被他人处理"));
        }
        Ok(())
    }

    /// 核实、整改、答复 by the rated department; the rater is told.
    pub async fn reply_followup(
        &self,
        staff: &Staff,
        source: &str,
        rating_id: &str,
        verification: &str,
        rectification: &str,
        reply: &str,
    ) -> Result<Followup> {
        let (f, account) = self.followup(staff, rating_id).await?;
        if !works_in(staff, &f.rating.department_code) {
            return Err(OversightError::Forbidden);
        }
        if f.status != FollowupStatus::Open {
            return Err(OversightError::WrongState(f.status.label_zh()));
        }
        let verification = text_field(verification, "verification", 2000, false)?;
        let rectification = text_field(rectification, "rectification", 2000, false)?;
        let reply = text_field(reply, "reply", 2000, false)?;
        let now = self.now_text();
        let mut tx = self.db().begin().await?;
        self.update_followup(
            &mut tx,
            rating_id,
            FollowupStatus::Open,
            "status = 'replied', verification = $1, rectification = $2, reply = $3, replied_at = $4, replied_by = $5",
            &[Some(&verification), Some(&rectification), Some(&reply), Some(&now), Some(&staff.username)],
        )
        .await?;
        if let Some(acct) = account.as_deref() {
            let link = f.rating.case_id.as_ref().map(|c| format!("/cases/{c}"));
            yiwang_notify::inbox::post(
                &mut tx,
                acct,
                "您的评价已收到答复",
                &format!("{}就您对“{}”的评价答复：{reply}", f.rating.department_name, f.rating.item_name),
                link.as_deref(),
            )
            .await?;
        }
        yiwang_identity::audit_in(&mut tx, &staff.username, "oversight.followup", rating_id, "差评答复", source).await?;
        tx.commit().await?;
        Ok(self.followup(staff, rating_id).await?.0)
    }

    /// 申诉: the department says the review is malicious (恶意差评); a supervisor decides.
    pub async fn appeal_followup(&self, staff: &Staff, source: &str, rating_id: &str, reason: &str) -> Result<Followup> {
        let (f, _) = self.followup(staff, rating_id).await?;
        if !works_in(staff, &f.rating.department_code) {
            return Err(OversightError::Forbidden);
        }
        if f.status != FollowupStatus::Open {
            return Err(OversightError::WrongState(f.status.label_zh()));
        }
        let reason = text_field(reason, "reason", 2000, false)?;
        let mut tx = self.db().begin().await?;
        self.update_followup(&mut tx, rating_id, FollowupStatus::Open, "status = 'appealed', appeal_reason = $1", &[Some(&reason)]).await?;
        yiwang_identity::audit_in(&mut tx, &staff.username, "oversight.followup", rating_id, "差评申诉", source).await?;
        tx.commit().await?;
        Ok(self.followup(staff, rating_id).await?.0)
    }

    /// A supervisor decides an appeal: upheld takes the review out of the results and ends the
    /// follow-up; dismissed sends it back to the department to answer.
    pub async fn decide_appeal(&self, staff: &Staff, source: &str, rating_id: &str, uphold: bool, note: &str) -> Result<Followup> {
        if !is_supervisor(staff) {
            return Err(OversightError::Forbidden);
        }
        let (f, _) = self.followup(staff, rating_id).await?;
        if f.status != FollowupStatus::Appealed {
            return Err(OversightError::WrongState(f.status.label_zh()));
        }
        let note = text_field(note, "note", 2000, false)?;
        let now = self.now_text();
        let mut tx = self.db().begin().await?;
        if uphold {
            self.update_followup(
                &mut tx,
                rating_id,
                FollowupStatus::Appealed,
                "status = 'closed', appeal_decision = $1, closed_at = $2, closed_by = $3",
                &[Some(&format!("申诉成立：{note}")), Some(&now), Some(&staff.username)],
            )
            .await?;
            sqlx::query("UPDATE ratings SET excluded = 1 WHERE rating_id = $1").bind(rating_id).execute(&mut *tx).await?;
        } else {
            self.update_followup(
                &mut tx,
                rating_id,
                FollowupStatus::Appealed,
                "status = 'open', appeal_decision = $1",
                &[Some(&format!("申诉不成立：{note}"))],
            )
            .await?;
        }
        let label = if uphold { "申诉成立" } else { "申诉驳回" };
        yiwang_identity::audit_in(&mut tx, &staff.username, "oversight.followup", rating_id, label, source).await?;
        tx.commit().await?;
        Ok(self.followup(staff, rating_id).await?.0)
    }

    /// A supervisor closes a follow-up; only after the department has replied.
    pub async fn close_followup(&self, staff: &Staff, source: &str, rating_id: &str) -> Result<Followup> {
        if !is_supervisor(staff) {
            return Err(OversightError::Forbidden);
        }
        let (f, _) = self.followup(staff, rating_id).await?;
        if f.status != FollowupStatus::Replied || f.reply.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("reply", "差评尚未答复申请人，不能办结"));
        }
        let now = self.now_text();
        let mut tx = self.db().begin().await?;
        self.update_followup(
            &mut tx,
            rating_id,
            FollowupStatus::Replied,
            "status = 'closed', closed_at = $1, closed_by = $2",
            &[Some(&now), Some(&staff.username)],
        )
        .await?;
        yiwang_identity::audit_in(&mut tx, &staff.username, "oversight.followup", rating_id, "差评整改办结", source).await?;
        tx.commit().await?;
        Ok(self.followup(staff, rating_id).await?.0)
    }

    /// Deadline alerts of follow-ups still waiting for the department.
    pub(crate) async fn sweep_followups(&self) -> Result<Reconciled> {
        let rows = sqlx::query(
            "SELECT f.rating_id, f.status, f.due_date, r.department_code, r.department_name, r.item_name
             FROM rating_followups f JOIN ratings r ON r.rating_id = f.rating_id
             WHERE f.status <> 'closed' OR f.updated_at >= $1",
        )
        .bind(timestamp_text(self.now() - chrono::Duration::days(7)))
        .fetch_all(self.db().reader())
        .await?;
        let today = self.today();
        let now = self.now_text();
        let month = month_of(today);
        let mut total = Reconciled::default();
        for r in rows {
            let id: String = r.try_get("rating_id")?;
            let status: String = r.try_get("status")?;
            let due: String = r.try_get("due_date")?;
            let running = status == FollowupStatus::Open.key();
            let findings: Vec<_> = crate::rules::deadline(self.cases.calendar(), today, &due, running, self.settings.rules.warn_days)
                .map(|(level, d)| crate::rules::Finding {
                    rule: Rule::FollowupDeadline,
                    scope: String::new(),
                    level,
                    department_code: r.try_get("department_code").unwrap_or_default(),
                    department_name: r.try_get("department_name").unwrap_or_default(),
                    detail: format!("差评整改答复{d}"),
                })
                .into_iter()
                .collect();
            let item: String = r.try_get("item_name")?;
            let title = format!("差评整改：{item}");
            let subject = Subject { id: &id, reference: &id[..8.min(id.len())], title: &title };
            let x = alerts::reconcile(self.db(), &subject, findings, &now, &month).await?;
            total.raised += x.raised;
            total.turned_red += x.turned_red;
            total.cleared += x.cleared;
        }
        Ok(total)
    }

    // ----- public results -----

    /// 好差评 results of a month (`YYYY-MM`), upheld appeals left out.
    pub async fn monthly_results(&self, month: &str) -> Result<MonthlyResults> {
        if chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_err() {
            return Err(invalid("month", "月份格式应为 YYYY-MM"));
        }
        let group = |by: &str, name: &str| {
            format!(
                "SELECT r.{by} AS code, MAX(r.{name}) AS name, COUNT(*) AS n, CAST(SUM(r.level) AS BIGINT) AS total,
                        SUM(CASE WHEN r.level >= 3 THEN 1 ELSE 0 END) AS satisfied,
                        SUM(CASE WHEN r.level <= 2 THEN 1 ELSE 0 END) AS bad,
                        SUM(CASE WHEN f.status = 'closed' THEN 1 ELSE 0 END) AS rectified
                 FROM ratings r LEFT JOIN rating_followups f ON f.rating_id = r.rating_id
                 WHERE r.month = $1 AND r.excluded = 0 GROUP BY r.{by} ORDER BY COUNT(*) DESC, r.{by}"
            )
        };
        let read = |rows: Vec<Row>| -> Result<Vec<ResultRow>> {
            rows.iter()
                .map(|r| {
                    let n: i64 = r.try_get("n")?;
                    let total: i64 = r.try_get("total")?;
                    Ok(ResultRow {
                        code: r.try_get("code")?,
                        name: r.try_get("name")?,
                        count: n,
                        average_x100: if n > 0 { total * 100 / n } else { 0 },
                        satisfied: r.try_get("satisfied")?,
                        bad: r.try_get("bad")?,
                        rectified: r.try_get("rectified")?,
                    })
                })
                .collect()
        };
        let departments = read(
            sqlx::query(sqlx::AssertSqlSafe(group("department_code", "department_name"))).bind(month).fetch_all(self.db().reader()).await?,
        )?;
        let items =
            read(sqlx::query(sqlx::AssertSqlSafe(group("item_code", "item_name"))).bind(month).fetch_all(self.db().reader()).await?)?;
        let sum = |f: fn(&ResultRow) -> i64| departments.iter().map(f).sum::<i64>();
        let count = sum(|r| r.count);
        let total = ResultRow {
            code: String::new(),
            name: "合计".into(),
            count,
            average_x100: if count > 0 { departments.iter().map(|r| r.average_x100 * r.count).sum::<i64>() / count } else { 0 },
            satisfied: sum(|r| r.satisfied),
            bad: sum(|r| r.bad),
            rectified: sum(|r| r.rectified),
        };
        Ok(MonthlyResults { month: month.to_string(), departments, items, total })
    }
}
