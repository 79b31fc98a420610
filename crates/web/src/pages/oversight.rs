//! Evaluation pages: the supervision dashboard (alerts, scores), alert handling, bad-review
//! follow-ups, window visit ratings, 12345 tickets for staff and citizens, anonymous reports,
//! statistics with SVG charts and CSV, and the public results page. All work without
//! JavaScript.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use yiwang_identity::{AgentScope, Permission, Role};
use yiwang_oversight::charts::{bar_chart, line_chart};
use yiwang_oversight::ratings::MonthlyResults;
use yiwang_oversight::stats::{GroupRow, Statistics};
use yiwang_oversight::tickets::TicketAction;
use yiwang_oversight::{
    is_supervisor, Alert, AlertAction, AlertStatus, Dimensions, Followup, OversightError, Priority, RatingInput, Score, Ticket,
    TicketEvent, TicketInput, TicketKind, Visit,
};

use super::{field, render, Chrome, PageResult};
use crate::api_cases::applicant;
use crate::api_oversight::{csv_response, run_followup_action, staff_ticket_view, AlertQuery, FollowupAction, PeriodQuery, TicketView};
use crate::auth::{CsrfForm, PersonForm, PersonSession, StaffSession};
use crate::error::AppError;
use crate::AppState;

/// Client mistakes re-render the page with the message; everything else is an error page.
fn client_error(e: &OversightError) -> bool {
    matches!(e, OversightError::Invalid { .. } | OversightError::WrongState(_) | OversightError::Duplicate(_) | OversightError::Forbidden)
        || matches!(e, OversightError::Cases(yiwang_cases::CaseError::WrongState(_)))
}

/// The status a page re-rendered with a refusal answers with (as the API would).
fn refused_status(e: &OversightError) -> axum::http::StatusCode {
    crate::error::status_for(yiwang_core::DomainError::kind(e))
}

/// Rating form fields (1–5 and the four online dimensions).
fn rating_input(form: &[(String, String)]) -> RatingInput {
    let n = |k: &str| field(form, k).parse::<u8>().ok();
    RatingInput {
        level: field(form, "level").parse().unwrap_or(0),
        dimensions: Dimensions {
            efficiency: n("efficiency"),
            guide_accuracy: n("guide_accuracy"),
            convenience: n("convenience"),
            usability: n("usability"),
        },
        comment: field(form, "comment").to_string(),
    }
}

// ---------- staff ----------

#[derive(Template)]
#[template(path = "staff/oversight.html")]
struct DashboardPage {
    c: Chrome,
    alerts: Vec<Alert>,
    scores: Vec<Score>,
    month: String,
    supervisor: bool,
    window: bool,
    items: Vec<(String, String)>,
    level: String,
    active: bool,
}

#[derive(Deserialize)]
pub struct DashboardQuery {
    pub level: Option<String>,
    pub status: Option<String>,
    pub active: Option<String>,
    pub month: Option<String>,
}

/// 电子监察: alerts (red first) and, for supervisors, this month's department scores.
pub async fn dashboard(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<DashboardQuery>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let active = q.active.as_deref() != Some("0");
    let filter = AlertQuery { level: q.level.clone(), status: q.status.clone(), active: Some(active), department: None, limit: Some(300) }
        .filter()?;
    let alerts = app.oversight.alerts(&staff.staff, filter).await?;
    let supervisor = is_supervisor(&staff.staff);
    let month = q.month.filter(|m| m.len() == 7).unwrap_or_else(|| app.oversight.this_month());
    let scores = if supervisor { app.oversight.scores(&month).await? } else { vec![] };
    let window = staff.staff.roles.contains(&Role::Window);
    let items = match (&staff.staff.department, window) {
        (Some(d), true) => {
            let f = yiwang_catalog::model::ItemFilter { department: Some(d.clone()), ..Default::default() };
            app.catalog.list_public(&f, 1, 200).await?.items.into_iter().map(|i| (i.impl_code, i.name)).collect()
        }
        _ => vec![],
    };
    render(DashboardPage { c, alerts, scores, month, supervisor, window, items, level: q.level.unwrap_or_default(), active })
}

#[derive(Template)]
#[template(path = "staff/oversight_alert.html")]
struct AlertPage {
    c: Chrome,
    a: Alert,
    can_explain: bool,
    can_close: bool,
    error: Option<String>,
}

async fn alert_page(app: &AppState, c: Chrome, staff: &StaffSession, id: &str, error: Option<String>) -> PageResult {
    let a = app.oversight.alert(&staff.staff, id).await?;
    let own = staff.staff.department.as_deref() == Some(a.department_code.as_str());
    let can_explain = own && matches!(a.status, AlertStatus::Open | AlertStatus::Explained);
    let can_close = is_supervisor(&staff.staff) && matches!(a.status, AlertStatus::Explained | AlertStatus::Rectified);
    let failed = error.is_some();
    super::render_refused(AlertPage { c, a, can_explain, can_close, error }, failed, axum::http::StatusCode::CONFLICT)
}

pub async fn alert(State(app): State<AppState>, c: Chrome, staff: StaffSession, Path(id): Path<String>) -> PageResult {
    staff.require(Permission::Workbench)?;
    alert_page(&app, c, &staff, &id, None).await
}

pub async fn alert_action(
    State(app): State<AppState>,
    c: Chrome,
    Path(id): Path<String>,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(Permission::Workbench)?;
    let text = field(&form, "text").to_string();
    let action = match field(&form, "action") {
        "explain" => AlertAction::Explain { text },
        "rectify" => AlertAction::Rectify { text },
        "close" => AlertAction::Close { note: text },
        _ => return Err(AppError::bad_request("BAD_ACTION", "未知的操作").into()),
    };
    match app.oversight.act_on_alert(&staff.staff, &staff.source, &id, &action).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/oversight/alerts/{id}")).into_response()),
        Err(e) if client_error(&e) => alert_page(&app, c, &staff, &id, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/oversight_followups.html")]
struct FollowupsPage {
    c: Chrome,
    rows: Vec<Followup>,
    supervisor: bool,
    department: String,
    error: Option<String>,
}

async fn followups_page(app: &AppState, c: Chrome, staff: &StaffSession, error: Option<String>) -> PageResult {
    let rows = app.oversight.followups(&staff.staff, false).await?;
    let failed = error.is_some();
    let department = staff.staff.department.clone().unwrap_or_default();
    super::render_refused(
        FollowupsPage { c, rows, supervisor: is_supervisor(&staff.staff), department, error },
        failed,
        axum::http::StatusCode::CONFLICT,
    )
}

/// 差评整改.
pub async fn followups(State(app): State<AppState>, c: Chrome, staff: StaffSession) -> PageResult {
    staff.require(Permission::Workbench)?;
    followups_page(&app, c, &staff, None).await
}

pub async fn followup_action(
    State(app): State<AppState>,
    c: Chrome,
    Path(id): Path<String>,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(Permission::Workbench)?;
    let f = |k: &str| field(&form, k).to_string();
    let action = match field(&form, "action") {
        "reply" => FollowupAction::Reply { verification: f("verification"), rectification: f("rectification"), reply: f("reply") },
        "appeal" => FollowupAction::Appeal { reason: f("text") },
        "uphold" => FollowupAction::Decide { uphold: true, note: f("text") },
        "dismiss" => FollowupAction::Decide { uphold: false, note: f("text") },
        "close" => FollowupAction::Close,
        _ => return Err(AppError::bad_request("BAD_ACTION", "未知的操作").into()),
    };
    match run_followup_action(&app, &staff, &id, &action).await {
        Ok(_) => Ok(Redirect::to("/staff/oversight/followups").into_response()),
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND => {
            followups_page(&app, c, &staff, Some(e.body.message.clone())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/oversight_visit.html")]
struct VisitPage {
    c: Chrome,
    v: Visit,
    link: String,
    qr: String,
}

/// 一次一评: the window opens a rating for the applicant in front of it (QR code + link).
pub async fn open_visit(State(app): State<AppState>, c: Chrome, CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let v = app.oversight.open_visit(&staff.staff, field(&form, "item_code")).await?;
    let link = format!("{}/rate/{}", app.settings.public_url, v.visit_id);
    let qr = super::qr_svg(&link);
    render(VisitPage { c, v, link, qr })
}

#[derive(Template)]
#[template(path = "staff/oversight_tickets.html")]
struct TicketsPage {
    c: Chrome,
    tickets: Vec<Ticket>,
    supervisor: bool,
}

/// 12345 工单.
pub async fn tickets(State(app): State<AppState>, c: Chrome, staff: StaffSession) -> PageResult {
    staff.require(Permission::Workbench)?;
    let tickets = app.oversight.tickets(&staff.staff, false).await?;
    render(TicketsPage { c, tickets, supervisor: is_supervisor(&staff.staff) })
}

#[derive(Template)]
#[template(path = "staff/oversight_ticket.html")]
struct TicketPage {
    c: Chrome,
    v: TicketView,
    supervisor: bool,
    own: bool,
    departments: Vec<(String, String)>,
    error: Option<String>,
}

async fn ticket_page(app: &AppState, c: Chrome, staff: &StaffSession, id: &str, error: Option<String>) -> PageResult {
    let v = staff_ticket_view(app, staff, id).await?;
    let supervisor = is_supervisor(&staff.staff);
    let own = v.ticket.department_code.is_some() && staff.staff.department == v.ticket.department_code;
    let departments =
        if supervisor { app.catalog.departments().await?.into_iter().map(|d| (d.credit_code, d.name)).collect() } else { vec![] };
    let failed = error.is_some();
    super::render_refused(TicketPage { c, v, supervisor, own, departments, error }, failed, axum::http::StatusCode::CONFLICT)
}

pub async fn ticket(State(app): State<AppState>, c: Chrome, staff: StaffSession, Path(id): Path<String>) -> PageResult {
    staff.require(Permission::Workbench)?;
    ticket_page(&app, c, &staff, &id, None).await
}

pub async fn ticket_action(
    State(app): State<AppState>,
    c: Chrome,
    Path(id): Path<String>,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(Permission::Workbench)?;
    let f = |k: &str| field(&form, k).to_string();
    let action = match field(&form, "action") {
        "dispatch" => TicketAction::Dispatch { department_code: f("department_code"), priority: f("priority") },
        "accept" => TicketAction::Accept,
        "return" => TicketAction::Return { reason: f("text") },
        "reply" => TicketAction::Reply { reply: f("text") },
        "close" => TicketAction::Close { note: f("text") },
        "merge" => TicketAction::Merge { master: f("master") },
        _ => return Err(AppError::bad_request("BAD_ACTION", "未知的操作").into()),
    };
    match app.oversight.act_on_ticket(&staff.staff, &staff.source, &id, &action).await {
        Ok(_) if matches!(action, TicketAction::Return { .. }) && !is_supervisor(&staff.staff) => {
            Ok(Redirect::to("/staff/oversight/tickets").into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/staff/oversight/tickets/{id}")).into_response()),
        Err(e) if client_error(&e) => ticket_page(&app, c, &staff, &id, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

/// Charts of a statistics period, drawn on the server.
pub struct Charts {
    pub by_department: String,
    pub on_time: String,
    pub per_month: String,
    pub hotspots: String,
}

impl Charts {
    fn of(s: &Statistics, en: bool) -> Charts {
        let t = |zh: &str, en_s: &str| if en { en_s.to_string() } else { zh.to_string() };
        let dept: Vec<(String, f64)> = s.by_department.iter().take(12).map(|r| (r.name.clone(), r.total as f64)).collect();
        let on_time: Vec<(String, f64)> = s
            .by_department
            .iter()
            .filter(|r| r.finished > 0)
            .take(12)
            .map(|r| (r.name.clone(), r.on_time_per_mille() as f64 / 10.0))
            .collect();
        let hot: Vec<(String, Vec<f64>)> =
            s.hotspots.iter().take(5).map(|h| (h.name.clone(), h.per_month.iter().map(|n| *n as f64).collect())).collect();
        Charts {
            by_department: bar_chart(&t("各部门办件量", "Cases by department"), &dept, ""),
            on_time: bar_chart(&t("各部门按时办结率", "On-time rate by department"), &on_time, "%"),
            per_month: line_chart(
                &t("每月办件量", "Cases per month"),
                &s.months,
                &[(t("办件量", "Cases"), s.cases_per_month.iter().map(|n| *n as f64).collect())],
            ),
            hotspots: line_chart(&t("诉求热点（每月工单数）", "Complaint hot spots (tickets per month)"), &s.months, &hot),
        }
    }
}

#[derive(Template)]
#[template(path = "staff/oversight_stats.html")]
struct StatsPage {
    c: Chrome,
    s: Statistics,
    charts: Charts,
    tables: Vec<(&'static str, &'static str, Vec<GroupRow>)>,
}

/// The grouped tables of a statistics page: (title, CSV table name, rows).
fn tables(s: &Statistics, en: bool) -> Vec<(&'static str, &'static str, Vec<GroupRow>)> {
    let t = |zh: &'static str, en_s: &'static str| if en { en_s } else { zh };
    vec![
        (t("按部门", "By department"), "department", s.by_department.clone()),
        (t("按事项", "By item"), "item", s.by_item.clone()),
        (t("按区划", "By region"), "region", s.by_region.clone()),
        (t("按渠道", "By channel"), "channel", s.by_channel.clone()),
    ]
}

/// 统计分析 for supervisors.
pub async fn stats(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<PeriodQuery>) -> PageResult {
    if !is_supervisor(&staff.staff) {
        return Err(AppError::from(yiwang_identity::IdentityError::Forbidden).into());
    }
    let s = app.oversight.statistics(q.period(&app)?).await?;
    let charts = Charts::of(&s, c.en);
    let tables = tables(&s, c.en);
    render(StatsPage { c, s, charts, tables })
}

pub async fn stats_csv(State(app): State<AppState>, staff: StaffSession, Query(q): Query<PeriodQuery>) -> PageResult {
    if !is_supervisor(&staff.staff) {
        return Err(AppError::from(yiwang_identity::IdentityError::Forbidden).into());
    }
    let s = app.oversight.statistics(q.period(&app)?).await?;
    Ok(csv_response(&s, q.table.as_deref().unwrap_or("department"))?)
}

// ---------- citizens ----------

/// 一事一评 from the case page.
pub async fn rate_case(
    State(app): State<AppState>,
    Path(id): Path<String>,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    match app.oversight.rate_case(&a, &id, &rating_input(&form)).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?rated=1#rating")).into_response()),
        Err(e) if client_error(&e) => {
            Ok(Redirect::to(&format!("/cases/{id}?rating_error={}#rating", super::urlencode(&e.to_string()))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "tickets/list.html")]
struct MyTicketsPage {
    c: Chrome,
    tickets: Vec<Ticket>,
    kinds: Vec<(&'static str, &'static str)>,
    items: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    error: Option<String>,
    title: String,
    content: String,
}

fn kinds(en: bool) -> Vec<(&'static str, &'static str)> {
    TicketKind::ALL.iter().map(|k| (k.key(), k.label(en))).collect()
}

async fn my_tickets_page(
    app: &AppState,
    c: Chrome,
    person: &PersonSession,
    error: Option<String>,
    title: String,
    content: String,
) -> PageResult {
    let a = applicant(person, AgentScope::View)?;
    let tickets = app.oversight.my_tickets(&a).await?;
    let items = app.catalog.list_public(&Default::default(), 1, 500).await?.items.into_iter().map(|i| (i.impl_code, i.name)).collect();
    let departments = app.catalog.departments().await?.into_iter().map(|d| (d.credit_code, d.name)).collect();
    let failed = error.is_some();
    super::render_refused(
        MyTicketsPage { kinds: kinds(c.en), c, tickets, items, departments, error, title, content },
        failed,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// 我的诉求 and a new one (咨询、投诉、建议、举报、求助).
pub async fn my_tickets(State(app): State<AppState>, c: Chrome, person: PersonSession) -> PageResult {
    my_tickets_page(&app, c, &person, None, String::new(), String::new()).await
}

fn ticket_input(form: &[(String, String)]) -> TicketInput {
    let opt = |k: &str| Some(field(form, k).to_string()).filter(|s| !s.trim().is_empty());
    TicketInput {
        kind: field(form, "kind").to_string(),
        title: field(form, "title").to_string(),
        content: field(form, "content").to_string(),
        item_code: opt("item_code"),
        department_code: opt("department_code"),
        contact_name: opt("contact_name"),
        contact_phone: opt("contact_phone"),
        anonymous: false,
    }
}

pub async fn submit_ticket(
    State(app): State<AppState>,
    c: Chrome,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    match app.oversight.submit_ticket(Some(&a), &ticket_input(&form)).await {
        Ok((t, _)) => Ok(Redirect::to(&format!("/tickets/{}", t.ticket_id)).into_response()),
        Err(e) if client_error(&e) => {
            my_tickets_page(&app, c, &person, Some(e.to_string()), field(&form, "title").into(), field(&form, "content").into()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "tickets/ticket.html")]
struct TicketCitizenPage {
    c: Chrome,
    t: Ticket,
    events: Vec<TicketEvent>,
    /// The submitter may rate the answer (signed in, not anonymous).
    can_follow_up: bool,
}

pub async fn my_ticket(State(app): State<AppState>, c: Chrome, person: PersonSession, Path(id): Path<String>) -> PageResult {
    let a = applicant(&person, AgentScope::View)?;
    let t = app.oversight.ticket_for_owner(&a, &id).await?;
    let events = app.oversight.ticket_events(&id).await?;
    let can_follow_up =
        matches!(t.status, yiwang_oversight::TicketStatus::Replied | yiwang_oversight::TicketStatus::Closed) && t.satisfaction.is_none();
    render(TicketCitizenPage { c, t, events, can_follow_up })
}

pub async fn follow_up(
    State(app): State<AppState>,
    Path(id): Path<String>,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    let satisfaction = field(&form, "satisfaction").parse().unwrap_or(0);
    app.oversight.follow_up_ticket(&a, &id, satisfaction, field(&form, "text")).await?;
    Ok(Redirect::to(&format!("/tickets/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "tickets/report.html")]
struct ReportPage {
    c: Chrome,
    receipt: Option<(String, String)>,
    tracked: Option<(Ticket, Vec<TicketEvent>)>,
    error: Option<String>,
}

/// 匿名举报 (no account): the receipt's query code is the only way back to it.
pub async fn report_form(c: Chrome) -> PageResult {
    render(ReportPage { c, receipt: None, tracked: None, error: None })
}

#[derive(Deserialize)]
pub struct PublicForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub department_code: String,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub query_code: String,
}

pub async fn report(State(app): State<AppState>, c: Chrome, axum::Form(f): axum::Form<PublicForm>) -> PageResult {
    let input = TicketInput {
        kind: "report".into(),
        title: f.title,
        content: f.content,
        department_code: Some(f.department_code).filter(|d| !d.trim().is_empty()),
        anonymous: true,
        ..Default::default()
    };
    match app.oversight.submit_ticket(None, &input).await {
        Ok((t, code)) => render(ReportPage { c, receipt: Some((t.number, code.unwrap_or_default())), tracked: None, error: None }),
        Err(e) if client_error(&e) => {
            let status = refused_status(&e);
            super::render_refused(ReportPage { c, receipt: None, tracked: None, error: Some(e.to_string()) }, true, status)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn track(State(app): State<AppState>, c: Chrome, axum::Form(f): axum::Form<PublicForm>) -> PageResult {
    match app.oversight.ticket_by_code(&f.number, &f.query_code).await {
        Ok(t) => {
            let events = app.oversight.ticket_events(&t.ticket_id).await?;
            render(ReportPage { c, receipt: None, tracked: Some((t, events)), error: None })
        }
        Err(e @ OversightError::NotFound(_)) => {
            let status = refused_status(&e);
            super::render_refused(ReportPage { c, receipt: None, tracked: None, error: Some(e.to_string()) }, true, status)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- public ----------

#[derive(Template)]
#[template(path = "oversight/public.html")]
struct PublicPage {
    c: Chrome,
    r: MonthlyResults,
    s: Statistics,
    charts: Charts,
    satisfaction_chart: String,
}

#[derive(Deserialize)]
pub struct MonthQuery {
    pub month: Option<String>,
}

/// 好差评与办件情况公开: monthly results per department and item, with the month's figures.
pub async fn public(State(app): State<AppState>, c: Chrome, Query(q): Query<MonthQuery>) -> PageResult {
    let month = q.month.filter(|m| !m.is_empty()).unwrap_or_else(|| app.oversight.this_month());
    let r = app.oversight.monthly_results(&month).await?;
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("BAD_QUERY", "月份格式应为 YYYY-MM"))?;
    let last = first.checked_add_months(chrono::Months::new(1)).map(|d| d - chrono::Duration::days(1)).unwrap_or(first);
    let s = app.oversight.statistics(yiwang_oversight::stats::Period { from: first, to: last }).await?;
    let charts = Charts::of(&s, c.en);
    let sat: Vec<(String, f64)> = r
        .departments
        .iter()
        .take(12)
        .map(|d| (d.name.clone(), if d.count > 0 { (d.satisfied * 1000 / d.count) as f64 / 10.0 } else { 0.0 }))
        .collect();
    let satisfaction_chart = bar_chart(if c.en { "Satisfaction by department" } else { "各部门满意率" }, &sat, "%");
    render(PublicPage { c, r, s, charts, satisfaction_chart })
}

#[derive(Template)]
#[template(path = "oversight/rate.html")]
struct RatePage {
    c: Chrome,
    v: Option<Visit>,
    done: bool,
    rate_action: String,
    rating_error: Option<String>,
}

/// 一次一评: the applicant rates a window visit from the link or QR code (no account).
pub async fn rate_visit_form(State(app): State<AppState>, c: Chrome, Path(id): Path<String>) -> PageResult {
    let v = app.oversight.visit(&id).await?.0;
    let done = v.rated;
    render(RatePage { c, v: Some(v), done, rate_action: format!("/rate/{id}"), rating_error: None })
}

pub async fn rate_visit(
    State(app): State<AppState>,
    c: Chrome,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    match app.oversight.rate_visit(&id, &rating_input(&form)).await {
        Ok(_) => render(RatePage { c, v: None, done: true, rate_action: String::new(), rating_error: None }),
        Err(e) if client_error(&e) => {
            let v = app.oversight.visit(&id).await.ok().map(|x| x.0);
            let page = RatePage { c, v, done: false, rate_action: format!("/rate/{id}"), rating_error: Some(e.to_string()) };
            super::render_refused(page, true, refused_status(&e))
        }
        Err(e) => Err(e.into()),
    }
}

/// Priorities for the dispatch form.
pub fn priorities() -> &'static [Priority] {
    Priority::ALL
}
