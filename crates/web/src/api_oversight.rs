//! Evaluation API: supervision alerts and scores, bad-review follow-ups, window visits,
//! 12345 tickets, statistics; the applicant's ratings and tickets; public results.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yiwang_identity::{AgentScope, Permission};
use yiwang_oversight::ratings::MonthlyResults;
use yiwang_oversight::stats::{Period, Statistics};
use yiwang_oversight::tickets::TicketAction;
use yiwang_oversight::{
    is_supervisor, Alert, AlertAction, AlertFilter, AlertStatus, Followup, Level, Rating, RatingInput, Score, Ticket, TicketEvent,
    TicketInput, Visit,
};

use crate::api::{ApiJson, ApiQuery};
use crate::api_cases::applicant;
use crate::auth::{PersonSession, StaffSession};
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::AppState;

fn supervisors_only(staff: &StaffSession) -> Result<(), AppError> {
    if is_supervisor(&staff.staff) {
        Ok(())
    } else {
        Err(yiwang_identity::IdentityError::Forbidden.into())
    }
}

#[derive(Deserialize, IntoParams)]
pub struct AlertQuery {
    /// `yellow` or `red`.
    pub level: Option<String>,
    /// `open`, `explained`, `rectified`, `closed` or `cleared`.
    pub status: Option<String>,
    /// Only alerts still being handled.
    pub active: Option<bool>,
    /// Department credit code (supervisors).
    pub department: Option<String>,
    pub limit: Option<i64>,
}

impl AlertQuery {
    pub fn filter(&self) -> Result<AlertFilter, AppError> {
        let level = match self.level.as_deref().filter(|s| !s.is_empty()) {
            Some(l) => Some(Level::parse(l).ok_or_else(|| AppError::bad_request("BAD_QUERY", "level 应为 yellow 或 red"))?),
            None => None,
        };
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(AlertStatus::parse(s).ok_or_else(|| AppError::bad_request("BAD_QUERY", "status 无效"))?),
            None => None,
        };
        Ok(AlertFilter {
            department: self.department.clone().filter(|d| !d.is_empty()),
            level,
            status,
            active_only: self.active.unwrap_or(false),
            subject: None,
            limit: self.limit.unwrap_or(200),
        })
    }
}

/// 电子监察预警: every department's for supervisors, the own department's for its staff.
#[utoipa::path(get, path = "/api/v1/oversight/alerts", tag = "oversight", params(AlertQuery), responses((status = 200, body = Vec<Alert>)))]
pub async fn alerts(State(app): State<AppState>, staff: StaffSession, ApiQuery(q): ApiQuery<AlertQuery>) -> ApiResult<Json<Vec<Alert>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.oversight.alerts(&staff.staff, q.filter()?).await?))
}

#[utoipa::path(get, path = "/api/v1/oversight/alerts/{id}", tag = "oversight", responses((status = 200, body = Alert), (status = 404, body = ErrorBody)))]
pub async fn alert(State(app): State<AppState>, staff: StaffSession, Path(id): Path<String>) -> ApiResult<Json<Alert>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.oversight.alert(&staff.staff, &id).await?))
}

/// 情况说明 / 整改 (the department), 办结 (supervisors).
#[utoipa::path(post, path = "/api/v1/oversight/alerts/{id}/actions", tag = "oversight", request_body = AlertAction,
    responses((status = 200, body = Alert), (status = 409, body = ErrorBody)))]
pub async fn alert_action(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(action): ApiJson<AlertAction>,
) -> ApiResult<Json<Alert>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.oversight.act_on_alert(&staff.staff, &staff.source, &id, &action).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct MonthQuery {
    /// `YYYY-MM`; this month by default.
    pub month: Option<String>,
}

/// 部门考核分 for a month (supervisors).
#[utoipa::path(get, path = "/api/v1/oversight/scores", tag = "oversight", params(MonthQuery), responses((status = 200, body = Vec<Score>)))]
pub async fn scores(State(app): State<AppState>, staff: StaffSession, ApiQuery(q): ApiQuery<MonthQuery>) -> ApiResult<Json<Vec<Score>>> {
    supervisors_only(&staff)?;
    let month = q.month.unwrap_or_else(|| app.oversight.this_month());
    Ok(Json(app.oversight.scores(&month).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ActiveQuery {
    pub active: Option<bool>,
}

/// 差评整改 tasks of the department (all for supervisors).
#[utoipa::path(get, path = "/api/v1/oversight/followups", tag = "oversight", params(ActiveQuery), responses((status = 200, body = Vec<Followup>)))]
pub async fn followups(
    State(app): State<AppState>,
    staff: StaffSession,
    ApiQuery(q): ApiQuery<ActiveQuery>,
) -> ApiResult<Json<Vec<Followup>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.oversight.followups(&staff.staff, q.active.unwrap_or(false)).await?))
}

/// What staff do with a bad review.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FollowupAction {
    /// 核实、整改、答复 (the department).
    Reply { verification: String, rectification: String, reply: String },
    /// 申诉 a malicious review (the department).
    Appeal { reason: String },
    /// Decide an appeal (supervisors).
    Decide { uphold: bool, note: String },
    /// 办结, only after a reply (supervisors).
    Close,
}

pub async fn run_followup_action(app: &AppState, staff: &StaffSession, id: &str, a: &FollowupAction) -> Result<Followup, AppError> {
    let o = &app.oversight;
    let (s, src) = (&staff.staff, staff.source.as_str());
    Ok(match a {
        FollowupAction::Reply { verification, rectification, reply } => {
            o.reply_followup(s, src, id, verification, rectification, reply).await?
        }
        FollowupAction::Appeal { reason } => o.appeal_followup(s, src, id, reason).await?,
        FollowupAction::Decide { uphold, note } => o.decide_appeal(s, src, id, *uphold, note).await?,
        FollowupAction::Close => o.close_followup(s, src, id).await?,
    })
}

#[utoipa::path(post, path = "/api/v1/oversight/followups/{rating_id}/actions", tag = "oversight", request_body = FollowupAction,
    responses((status = 200, body = Followup), (status = 409, body = ErrorBody)))]
pub async fn followup_action(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<FollowupAction>,
) -> ApiResult<Json<Followup>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(run_followup_action(&app, &staff, &id, &a).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct VisitRequest {
    pub item_code: String,
}

/// 一次一评: open a window visit for rating; show `/rate/{visit_id}` to the applicant.
#[utoipa::path(post, path = "/api/v1/oversight/visits", tag = "oversight", request_body = VisitRequest, responses((status = 200, body = Visit)))]
pub async fn open_visit(State(app): State<AppState>, staff: StaffSession, ApiJson(r): ApiJson<VisitRequest>) -> ApiResult<Json<Visit>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.oversight.open_visit(&staff.staff, &r.item_code).await?))
}

/// A ticket with its history (and, for operators, open tickets that look the same).
#[derive(Serialize, ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub events: Vec<TicketEvent>,
    pub similar: Vec<Ticket>,
}

/// 12345 tickets: all for operators (supervisors), the department's otherwise.
#[utoipa::path(get, path = "/api/v1/oversight/tickets", tag = "oversight", params(ActiveQuery), responses((status = 200, body = Vec<Ticket>)))]
pub async fn staff_tickets(
    State(app): State<AppState>,
    staff: StaffSession,
    ApiQuery(q): ApiQuery<ActiveQuery>,
) -> ApiResult<Json<Vec<Ticket>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.oversight.tickets(&staff.staff, q.active.unwrap_or(false)).await?))
}

pub async fn staff_ticket_view(app: &AppState, staff: &StaffSession, id: &str) -> Result<TicketView, AppError> {
    let ticket = app.oversight.ticket_for_staff(&staff.staff, id).await?;
    let similar = if is_supervisor(&staff.staff) { app.oversight.similar_tickets(&ticket).await? } else { vec![] };
    Ok(TicketView { events: app.oversight.ticket_events(id).await?, ticket, similar })
}

#[utoipa::path(get, path = "/api/v1/oversight/tickets/{id}", tag = "oversight", responses((status = 200, body = TicketView), (status = 404, body = ErrorBody)))]
pub async fn staff_ticket(State(app): State<AppState>, staff: StaffSession, Path(id): Path<String>) -> ApiResult<Json<TicketView>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(staff_ticket_view(&app, &staff, &id).await?))
}

/// 派单, 签收, 退回, 答复, 办结, 合并.
#[utoipa::path(post, path = "/api/v1/oversight/tickets/{id}/actions", tag = "oversight", request_body = TicketAction,
    responses((status = 200, body = Ticket), (status = 409, body = ErrorBody)))]
pub async fn ticket_action(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<TicketAction>,
) -> ApiResult<Json<Ticket>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.oversight.act_on_ticket(&staff.staff, &staff.source, &id, &a).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// `YYYY-MM-DD`; default: the first day of this month.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default: today.
    pub to: Option<String>,
    /// CSV only: `department`, `item`, `region`, `channel`, `satisfaction` or `hotspots`.
    pub table: Option<String>,
}

impl PeriodQuery {
    pub fn period(&self, app: &AppState) -> Result<Period, AppError> {
        let today = yiwang_oversight::china_date(app.oversight.cases().now());
        let from = self.from.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| format!("{}-01", today.format("%Y-%m")));
        let to = self.to.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| today.to_string());
        Ok(Period::parse(&from, &to)?)
    }
}

/// 统计分析 for supervisors.
#[utoipa::path(get, path = "/api/v1/oversight/statistics", tag = "oversight", params(PeriodQuery), responses((status = 200, body = Statistics)))]
pub async fn statistics(
    State(app): State<AppState>,
    staff: StaffSession,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<Statistics>> {
    supervisors_only(&staff)?;
    Ok(Json(app.oversight.statistics(q.period(&app)?).await?))
}

/// A statistics table as CSV (UTF-8 with BOM, opens in Excel).
pub fn csv_response(s: &Statistics, table: &str) -> Result<Response, AppError> {
    let body = s
        .csv(table)
        .ok_or_else(|| AppError::bad_request("BAD_QUERY", "table 应为 department、item、region、channel、satisfaction 或 hotspots"))?;
    let name = format!("attachment; filename=\"yiwang-{table}-{}-{}.csv\"", s.from, s.to);
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/oversight/statistics.csv", tag = "oversight", params(PeriodQuery), responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn statistics_csv(State(app): State<AppState>, staff: StaffSession, ApiQuery(q): ApiQuery<PeriodQuery>) -> ApiResult<Response> {
    supervisors_only(&staff)?;
    let s = app.oversight.statistics(q.period(&app)?).await?;
    Ok(csv_response(&s, q.table.as_deref().unwrap_or("department"))?)
}

// ---------- applicants ----------

/// 一事一评: rate a finished case once.
#[utoipa::path(post, path = "/api/v1/cases/{id}/rating", tag = "oversight", request_body = RatingInput,
    responses((status = 200, body = Rating), (status = 409, body = ErrorBody)))]
pub async fn rate_case(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RatingInput>,
) -> ApiResult<Json<Rating>> {
    let a = applicant(&person, AgentScope::Apply)?;
    Ok(Json(app.oversight.rate_case(&a, &id, &input).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/rating", tag = "oversight", responses((status = 200, body = Option<Rating>)))]
pub async fn case_rating(State(app): State<AppState>, person: PersonSession, Path(id): Path<String>) -> ApiResult<Json<Option<Rating>>> {
    let a = applicant(&person, AgentScope::View)?;
    app.cases.case_for_owner(&a, &id).await?;
    Ok(Json(app.oversight.rating_of_case(&id).await?))
}

/// 诉求登记 (signed in).
#[utoipa::path(post, path = "/api/v1/tickets", tag = "oversight", request_body = TicketInput, responses((status = 200, body = Ticket)))]
pub async fn submit_ticket(
    State(app): State<AppState>,
    person: PersonSession,
    ApiJson(input): ApiJson<TicketInput>,
) -> ApiResult<Json<Ticket>> {
    let a = applicant(&person, AgentScope::Apply)?;
    Ok(Json(app.oversight.submit_ticket(Some(&a), &TicketInput { anonymous: false, ..input }).await?.0))
}

/// An anonymous report's number and the query code that follows it (shown once).
#[derive(Serialize, ToSchema)]
pub struct AnonymousReceipt {
    pub number: String,
    pub query_code: String,
}

/// 匿名举报: no account; keep the query code to follow the report.
#[utoipa::path(post, path = "/api/v1/reports", tag = "oversight", request_body = TicketInput, responses((status = 200, body = AnonymousReceipt)))]
pub async fn anonymous_report(State(app): State<AppState>, ApiJson(input): ApiJson<TicketInput>) -> ApiResult<Json<AnonymousReceipt>> {
    let input = TicketInput { kind: "report".into(), anonymous: true, contact_name: None, contact_phone: None, ..input };
    let (t, code) = app.oversight.submit_ticket(None, &input).await?;
    Ok(Json(AnonymousReceipt { number: t.number, query_code: code.unwrap_or_default() }))
}

#[derive(Deserialize, ToSchema)]
pub struct TrackRequest {
    pub number: String,
    pub query_code: String,
}

/// Follow an anonymous report.
#[utoipa::path(post, path = "/api/v1/reports/track", tag = "oversight", request_body = TrackRequest, responses((status = 200, body = Ticket), (status = 404, body = ErrorBody)))]
pub async fn track_report(State(app): State<AppState>, ApiJson(r): ApiJson<TrackRequest>) -> ApiResult<Json<Ticket>> {
    Ok(Json(app.oversight.ticket_by_code(&r.number, &r.query_code).await?))
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "oversight", responses((status = 200, body = Vec<Ticket>)))]
pub async fn my_tickets(State(app): State<AppState>, person: PersonSession) -> ApiResult<Json<Vec<Ticket>>> {
    let a = applicant(&person, AgentScope::View)?;
    Ok(Json(app.oversight.my_tickets(&a).await?))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "oversight", responses((status = 200, body = TicketView), (status = 404, body = ErrorBody)))]
pub async fn my_ticket(State(app): State<AppState>, person: PersonSession, Path(id): Path<String>) -> ApiResult<Json<TicketView>> {
    let a = applicant(&person, AgentScope::View)?;
    let ticket = app.oversight.ticket_for_owner(&a, &id).await?;
    Ok(Json(TicketView { events: app.oversight.ticket_events(&id).await?, ticket, similar: vec![] }))
}

#[derive(Deserialize, ToSchema)]
pub struct FollowUpRequest {
    /// 1–5.
    pub satisfaction: i64,
    #[serde(default)]
    pub text: String,
}

/// 回访评价 of the answer; 1–2 has it handled again.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/follow-up", tag = "oversight", request_body = FollowUpRequest, responses((status = 200, body = Ticket)))]
pub async fn follow_up(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<FollowUpRequest>,
) -> ApiResult<Json<Ticket>> {
    let a = applicant(&person, AgentScope::Apply)?;
    Ok(Json(app.oversight.follow_up_ticket(&a, &id, r.satisfaction, &r.text).await?))
}

/// A window visit waiting for its rating.
#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "oversight", responses((status = 200, body = Visit), (status = 404, body = ErrorBody)))]
pub async fn visit(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Visit>> {
    Ok(Json(app.oversight.visit(&id).await?.0))
}

#[utoipa::path(post, path = "/api/v1/visits/{id}/rating", tag = "oversight", request_body = RatingInput, responses((status = 200, body = Rating)))]
pub async fn rate_visit(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RatingInput>,
) -> ApiResult<Json<Rating>> {
    Ok(Json(app.oversight.rate_visit(&id, &input).await?))
}

// ---------- public ----------

/// 好差评 results of a month by department and item (public).
#[utoipa::path(get, path = "/api/v1/public/ratings", tag = "oversight", params(MonthQuery), responses((status = 200, body = MonthlyResults)))]
pub async fn public_ratings(State(app): State<AppState>, ApiQuery(q): ApiQuery<MonthQuery>) -> ApiResult<Json<MonthlyResults>> {
    let month = q.month.unwrap_or_else(|| app.oversight.this_month());
    Ok(Json(app.oversight.monthly_results(&month).await?))
}

/// Case statistics (public; no personal data).
#[utoipa::path(get, path = "/api/v1/public/statistics", tag = "oversight", params(PeriodQuery), responses((status = 200, body = Statistics)))]
pub async fn public_statistics(State(app): State<AppState>, ApiQuery(q): ApiQuery<PeriodQuery>) -> ApiResult<Json<Statistics>> {
    Ok(Json(app.oversight.statistics(q.period(&app)?).await?))
}
