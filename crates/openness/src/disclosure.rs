//! 依申请公开: a person asks a department for information; the department answers within 20
//! working days, extendable once by 20 with a reason (政府信息公开条例 第三十三条).

use yiwang_cases::Applicant;
use yiwang_identity::{Role, Staff};
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::Row;

use crate::error::{invalid, text, OpenError, Result};
use crate::model::*;
use crate::Openness;

/// Statutory limits in working days.
pub const ANSWER_DAYS: u32 = 20;
pub const EXTENSION_DAYS: u32 = 20;

const COLUMNS: &str =
    "request_id, number, requester, account, requester_name, department_code, department_name, description, purpose, status,
    received_on, due_date, extension_reason, decision, answer, answered_at";

fn from_row(r: &Row) -> Result<DisclosureRequest> {
    let status: String = r.try_get("status")?;
    let decision: Option<String> = r.try_get("decision")?;
    Ok(DisclosureRequest {
        request_id: r.try_get("request_id")?,
        number: r.try_get("number")?,
        requester: r.try_get("requester")?,
        account: r.try_get("account")?,
        requester_name: r.try_get("requester_name")?,
        department_code: r.try_get("department_code")?,
        department_name: r.try_get("department_name")?,
        description: r.try_get("description")?,
        purpose: r.try_get("purpose")?,
        status: RequestStatus::parse(&status).ok_or_else(|| OpenError::Config(format!("状态无效：{status}")))?,
        received_on: r.try_get("received_on")?,
        due_date: r.try_get("due_date")?,
        extension_reason: r.try_get("extension_reason")?,
        decision: decision.as_deref().and_then(Decision::parse),
        answer: r.try_get("answer")?,
        answered_at: r.try_get("answered_at")?,
    })
}

/// What a requester sends.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RequestInput {
    /// Credit code of the department asked.
    pub department_code: String,
    /// 所需信息的名称、文号或者便于查询的其他特征性描述.
    pub description: String,
    /// 用途.
    #[serde(default)]
    pub purpose: String,
}

impl Openness {
    async fn load_request(&self, id: &str) -> Result<DisclosureRequest> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM disclosure_requests WHERE request_id = $1")))
            .bind(id)
            .fetch_optional(self.db().reader())
            .await?
            .ok_or_else(|| OpenError::NotFound("公开申请".into()))?;
        from_row(&row)
    }

    /// File a request; the answer is due in 20 working days.
    pub async fn request_disclosure(&self, a: &Applicant, input: &RequestInput) -> Result<DisclosureRequest> {
        let dept = self.catalog.department(input.department_code.trim()).await.map_err(|_| invalid("department_code", "部门不存在"))?;
        let description = text(&input.description, "description", 2000, false)?;
        let purpose = text(&input.purpose, "purpose", 500, true)?;
        let today = self.today();
        let due = self.cases.calendar().add_working_days(today, ANSWER_DAYS);
        let now = self.now_text();
        let id = uuid::Uuid::new_v4().to_string();
        let prefix = format!("GK{}", today.format("%Y%m%d"));
        let mut tx = self.db().begin().await?;
        let serial = yiwang_store::sequences::next_daily(&mut tx, "disclosure", &today.format("%Y%m%d").to_string()).await?;
        sqlx::query(
            "INSERT INTO disclosure_requests (request_id, number, requester, account, requester_name, department_code, department_name, description,
                purpose, status, received_on, due_date, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', $10, $11, $12, $12)",
        )
        .bind(&id)
        .bind(format!("{prefix}{serial:04}"))
        .bind(self.cases.owner_of(a))
        .bind(&a.account)
        .bind(&a.name)
        .bind(&dept.credit_code)
        .bind(&dept.name)
        .bind(&description)
        .bind(&purpose)
        .bind(today.to_string())
        .bind(due.to_string())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.load_request(&id).await
    }

    /// The requester's own requests.
    pub async fn my_requests(&self, a: &Applicant) -> Result<Vec<DisclosureRequest>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM disclosure_requests WHERE requester = $1 ORDER BY created_at DESC"
        )))
        .bind(self.cases.owner_of(a))
        .fetch_all(self.db().reader())
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn my_request(&self, a: &Applicant, id: &str) -> Result<DisclosureRequest> {
        let r = self.load_request(id).await?;
        if r.requester != self.cases.owner_of(a) {
            return Err(OpenError::NotFound("公开申请".into()));
        }
        Ok(r)
    }

    /// Requests to the staff member's department (all for supervisors and platform admins).
    pub async fn department_requests(&self, staff: &Staff) -> Result<Vec<DisclosureRequest>> {
        let all = staff.roles.iter().any(|r| matches!(r, Role::PlatformAdmin | Role::Supervisor));
        let rows = if all {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM disclosure_requests ORDER BY due_date LIMIT 500")))
                .fetch_all(self.db().reader())
                .await?
        } else {
            let d = staff.department.clone().ok_or(OpenError::Forbidden)?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM disclosure_requests WHERE department_code = $1 ORDER BY due_date LIMIT 500"
            )))
            .bind(d)
            .fetch_all(self.db().reader())
            .await?
        };
        rows.iter().map(from_row).collect()
    }

    fn may_answer(staff: &Staff, r: &DisclosureRequest) -> bool {
        staff.department.as_deref() == Some(r.department_code.as_str())
            && staff.roles.iter().any(|x| matches!(x, Role::DeptAdmin | Role::Window | Role::Approver))
    }

    /// 延期答复: once, by 20 working days, with the reason told to the requester.
    pub async fn extend_request(&self, staff: &Staff, source: &str, id: &str, reason: &str) -> Result<DisclosureRequest> {
        let r = self.load_request(id).await?;
        if !Self::may_answer(staff, &r) {
            return Err(OpenError::Forbidden);
        }
        if r.status != RequestStatus::Received {
            return Err(OpenError::WrongState(r.status.label_zh()));
        }
        let reason = text(reason, "reason", 500, false)?;
        let due = chrono::NaiveDate::parse_from_str(&r.due_date, "%Y-%m-%d").map_err(|_| OpenError::Config("期限无效".into()))?;
        let new_due = self.cases.calendar().add_working_days(due, EXTENSION_DAYS);
        let mut tx = self.db().begin().await?;
        sqlx::query("UPDATE disclosure_requests SET status = 'extended', due_date = $1, extension_reason = $2, updated_at = $3 WHERE request_id = $4 AND status = 'received'")
            .bind(new_due.to_string())
            .bind(&reason)
            .bind(self.now_text())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(acct) = &r.account {
            let body = format!("您的政府信息公开申请{}延期答复至{new_due}，理由：{reason}", r.number);
            yiwang_notify::inbox::post(&mut tx, acct, "信息公开申请延期答复", &body, Some(&format!("/gk/requests/{id}"))).await?;
        }
        yiwang_identity::audit_in(&mut tx, &staff.username, "openness.request", id, "延期答复", source).await?;
        tx.commit().await?;
        self.load_request(id).await
    }

    /// 答复: the decision and the answer (or the reasons for not disclosing).
    pub async fn answer_request(&self, staff: &Staff, source: &str, id: &str, decision: &str, answer: &str) -> Result<DisclosureRequest> {
        let r = self.load_request(id).await?;
        if !Self::may_answer(staff, &r) {
            return Err(OpenError::Forbidden);
        }
        if r.status == RequestStatus::Answered {
            return Err(OpenError::WrongState(r.status.label_zh()));
        }
        let decision = Decision::parse(decision).ok_or_else(|| invalid("decision", "答复类型无效"))?;
        let answer = text(answer, "answer", 20_000, false)?;
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "UPDATE disclosure_requests SET status = 'answered', decision = $1, answer = $2, answered_at = $3, answered_by = $4, updated_at = $3
             WHERE request_id = $5 AND status <> 'answered'",
        )
        .bind(decision.key())
        .bind(&answer)
        .bind(self.now_text())
        .bind(&staff.username)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(acct) = &r.account {
            let body = format!("您的申请{}：{}。", r.number, decision.label_zh());
            yiwang_notify::inbox::post(&mut tx, acct, "信息公开申请已答复", &body, Some(&format!("/gk/requests/{id}"))).await?;
        }
        yiwang_identity::audit_in(&mut tx, &staff.username, "openness.request", id, decision.label_zh(), source).await?;
        tx.commit().await?;
        self.load_request(id).await
    }

    /// Whether a request is past its limit and still unanswered.
    pub fn overdue(&self, r: &DisclosureRequest) -> bool {
        r.status != RequestStatus::Answered && r.due_date < self.today().to_string()
    }
}
