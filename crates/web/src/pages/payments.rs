//! Payment and delivery pages: paying from the case page, the sandbox cashier and courier
//! (stand-ins for the external systems), and the staff view of orders, non-tax revenue and
//! reconciliation.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use yiwang_identity::{AgentScope, Permission};
use yiwang_payments::{sees_all, Order, PaymentError, Reconciliation, Revenue, SandboxOutcome, Shipment};

use super::{field, render, Chrome, PageResult};
use crate::api_cases::applicant;
use crate::auth::{CsrfForm, PersonForm, StaffSession};
use crate::error::AppError;
use crate::AppState;

/// 在线缴费 from the case page: off to the provider's cashier.
pub async fn pay(
    State(app): State<AppState>,
    Path(id): Path<String>,
    PersonForm { person, .. }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    let case = app.cases.case_for_owner(&a, &id).await?;
    let order = app.payments.order_of_case(&id).await?.ok_or_else(AppError::not_found)?;
    match app.payments.checkout(&case.owner, &order.order_no).await {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(e @ PaymentError::WrongState(_)) => {
            Ok(Redirect::to(&format!("/cases/{id}?rating_error={}", super::urlencode(&e.to_string()))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "payments/sandbox_pay.html")]
struct SandboxPayPage {
    c: Chrome,
    o: Order,
    error: Option<String>,
}

/// The sandbox cashier (沙箱收银台): what a bank's payment page would be.
pub async fn sandbox_pay_form(State(app): State<AppState>, c: Chrome, Path(order_no): Path<String>) -> PageResult {
    let o = app.payments.sandbox_order(&order_no).await?;
    render(SandboxPayPage { c, o, error: None })
}

pub async fn sandbox_pay(
    State(app): State<AppState>,
    c: Chrome,
    Path(order_no): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let outcome = SandboxOutcome::parse(field(&form, "outcome")).ok_or_else(|| AppError::bad_request("BAD_FORM", "未知的支付结果"))?;
    let o = app.payments.sandbox_order(&order_no).await?;
    match app.payments.sandbox_pay(None, &order_no, outcome).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{}#payment", o.case_id)).into_response()),
        Err(e @ PaymentError::WrongState(_)) => render(SandboxPayPage { c, o, error: Some(e.to_string()) }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "payments/sandbox_courier.html")]
struct SandboxCourierPage {
    c: Chrome,
    s: Shipment,
}

/// The sandbox courier's console: move a parcel one state on.
pub async fn sandbox_courier(State(app): State<AppState>, c: Chrome, Path(case_id): Path<String>) -> PageResult {
    if !app.payments.has_sandbox() {
        return Err(AppError::not_found().into());
    }
    let s = app.payments.shipment_of_case(&case_id).await?.ok_or_else(AppError::not_found)?;
    render(SandboxCourierPage { c, s })
}

pub async fn sandbox_advance(State(app): State<AppState>, Path(case_id): Path<String>) -> PageResult {
    app.payments.sandbox_advance(&case_id).await?;
    Ok(Redirect::to(&format!("/sandbox/courier/{case_id}")).into_response())
}

#[derive(Template)]
#[template(path = "staff/payments.html")]
struct StaffPaymentsPage {
    c: Chrome,
    orders: Vec<Order>,
    revenue: Vec<Revenue>,
    month: String,
    finance: bool,
    report: Option<Reconciliation>,
    day: String,
}

#[derive(Deserialize)]
pub struct StaffQuery {
    pub month: Option<String>,
}

async fn staff_page(app: &AppState, c: Chrome, staff: &StaffSession, month: Option<String>, report: Option<Reconciliation>) -> PageResult {
    let month = month.filter(|m| m.len() == 7).unwrap_or_else(|| app.oversight.this_month());
    let orders = app.payments.orders(&staff.staff, None).await?;
    let mut revenue = app.payments.revenue(&month).await?;
    let finance = sees_all(&staff.staff);
    if !finance {
        revenue.retain(|r| staff.staff.department.as_deref() == Some(r.department_code.as_str()));
    }
    let day = yiwang_cases::china_date(app.cases.now()).to_string();
    render(StaffPaymentsPage { c, orders, revenue, month, finance, report, day })
}

/// 缴费与非税收入: orders, revenue and (finance) reconciliation.
pub async fn staff(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<StaffQuery>) -> PageResult {
    staff.require(Permission::Workbench)?;
    // Finance sees yesterday's automatic reconciliation until they run another.
    let report = if sees_all(&staff.staff) {
        app.payments.reconciliation(yiwang_cases::china_date(app.cases.now()) - chrono::Duration::days(1)).await?
    } else {
        None
    };
    staff_page(&app, c, &staff, q.month, report).await
}

pub async fn staff_reconcile(
    State(app): State<AppState>,
    c: Chrome,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(Permission::Workbench)?;
    let day = chrono::NaiveDate::parse_from_str(field(&form, "day").trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("INVALID_FIELD", "日期格式应为 YYYY-MM-DD"))?;
    let report = app.payments.reconcile(&staff.staff, &staff.source, day).await?;
    staff_page(&app, c, &staff, None, Some(report)).await
}
