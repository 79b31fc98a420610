//! Payment and delivery API: the payer's order, checkout and tracking; provider and courier
//! notifications (signed, no session); staff orders, non-tax revenue and reconciliation.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yiwang_identity::{AgentScope, Permission};
use yiwang_payments::{Order, OrderEvent, OrderStatus, Reconciliation, Revenue, Shipment};

use crate::api::{ApiJson, ApiQuery};
use crate::api_cases::applicant;
use crate::auth::{PersonSession, StaffSession};
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::AppState;

/// A case's payment as its payer sees it.
#[derive(Serialize, ToSchema)]
pub struct PaymentView {
    pub order: Order,
    pub events: Vec<OrderEvent>,
}

/// The payer's own case, or "not found".
async fn owned_case(app: &AppState, person: &PersonSession, id: &str) -> Result<yiwang_cases::Case, AppError> {
    let a = applicant(person, AgentScope::View)?;
    Ok(app.cases.case_for_owner(&a, id).await?)
}

pub async fn payment_view(app: &AppState, case_id: &str) -> Result<Option<PaymentView>, AppError> {
    let Some(order) = app.payments.order_of_case(case_id).await? else { return Ok(None) };
    let events = app.payments.order_events(&order.order_no).await?;
    Ok(Some(PaymentView { order, events }))
}

/// 缴费订单 of a case (the payer's).
#[utoipa::path(get, path = "/api/v1/cases/{id}/payment", tag = "payments", responses((status = 200, body = Option<PaymentView>), (status = 404, body = ErrorBody)))]
pub async fn case_payment(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
) -> ApiResult<Json<Option<PaymentView>>> {
    owned_case(&app, &person, &id).await?;
    Ok(Json(payment_view(&app, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Checkout {
    /// Where to send the payer (the provider's cashier page).
    pub url: String,
}

/// Start paying: the provider's cashier URL.
#[utoipa::path(post, path = "/api/v1/cases/{id}/payment/checkout", tag = "payments", responses((status = 200, body = Checkout), (status = 409, body = ErrorBody)))]
pub async fn checkout(State(app): State<AppState>, person: PersonSession, Path(id): Path<String>) -> ApiResult<Json<Checkout>> {
    let case = owned_case(&app, &person, &id).await?;
    let order = app.payments.order_of_case(&id).await?.ok_or_else(AppError::not_found)?;
    Ok(Json(Checkout { url: app.payments.checkout(&case.owner, &order.order_no).await? }))
}

/// 邮寄进度 of a case (the applicant's).
#[utoipa::path(get, path = "/api/v1/cases/{id}/shipment", tag = "payments", responses((status = 200, body = Option<Shipment>)))]
pub async fn case_shipment(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
) -> ApiResult<Json<Option<Shipment>>> {
    owned_case(&app, &person, &id).await?;
    Ok(Json(app.payments.shipment_of_case(&id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct NotifyAnswer {
    pub result: &'static str,
}

fn signature(headers: &HeaderMap) -> String {
    headers.get("x-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Provider payment notification: JSON body signed in `X-Signature` (hex HMAC-SHA256 for the
/// sandbox). Replays and second notifications change nothing and still answer `success`.
#[utoipa::path(post, path = "/api/v1/payments/notify/{provider}", tag = "payments", request_body = yiwang_payments::Notification,
    responses((status = 200, body = NotifyAnswer), (status = 401, body = ErrorBody)))]
pub async fn payment_notify(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<NotifyAnswer>> {
    app.payments.notify(&provider, &body, &signature(&headers)).await?;
    Ok(Json(NotifyAnswer { result: "success" }))
}

/// Courier tracking notification, signed the same way.
#[utoipa::path(post, path = "/api/v1/delivery/notify/{courier}", tag = "payments", request_body = yiwang_payments::TrackingEvent,
    responses((status = 200, body = NotifyAnswer), (status = 401, body = ErrorBody)))]
pub async fn courier_notify(
    State(app): State<AppState>,
    Path(courier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<NotifyAnswer>> {
    app.payments.courier_notify(&courier, &body, &signature(&headers)).await?;
    Ok(Json(NotifyAnswer { result: "success" }))
}

#[derive(Deserialize, IntoParams)]
pub struct OrderQuery {
    /// `pending`, `paid`, `expired`, `closed`, `refunding` or `refunded`.
    pub status: Option<String>,
}

/// Orders of the department (all for finance and supervision).
#[utoipa::path(get, path = "/api/v1/payments/orders", tag = "payments", params(OrderQuery), responses((status = 200, body = Vec<Order>)))]
pub async fn orders(State(app): State<AppState>, staff: StaffSession, ApiQuery(q): ApiQuery<OrderQuery>) -> ApiResult<Json<Vec<Order>>> {
    staff.require(Permission::Workbench)?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| AppError::bad_request("BAD_QUERY", "status 无效"))?),
        None => None,
    };
    Ok(Json(app.payments.orders(&staff.staff, status).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct MonthQuery {
    /// `YYYY-MM`; this month by default.
    pub month: Option<String>,
}

/// 非税收入 by department for a month.
#[utoipa::path(get, path = "/api/v1/payments/revenue", tag = "payments", params(MonthQuery), responses((status = 200, body = Vec<Revenue>)))]
pub async fn revenue(State(app): State<AppState>, staff: StaffSession, ApiQuery(q): ApiQuery<MonthQuery>) -> ApiResult<Json<Vec<Revenue>>> {
    staff.require(Permission::Workbench)?;
    let month = q.month.unwrap_or_else(|| app.oversight.this_month());
    let mut rows = app.payments.revenue(&month).await?;
    if !yiwang_payments::sees_all(&staff.staff) {
        rows.retain(|r| staff.staff.department.as_deref() == Some(r.department_code.as_str()));
    }
    Ok(Json(rows))
}

#[derive(Deserialize, ToSchema)]
pub struct ReconcileRequest {
    /// `YYYY-MM-DD`.
    pub day: String,
}

/// 对账 of a day against the provider's statement (finance and supervision).
#[utoipa::path(post, path = "/api/v1/payments/reconciliations", tag = "payments", request_body = ReconcileRequest, responses((status = 200, body = Reconciliation)))]
pub async fn reconcile(
    State(app): State<AppState>,
    staff: StaffSession,
    ApiJson(r): ApiJson<ReconcileRequest>,
) -> ApiResult<Json<Reconciliation>> {
    let day = chrono::NaiveDate::parse_from_str(r.day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("INVALID_FIELD", "日期格式应为 YYYY-MM-DD"))?;
    Ok(Json(app.payments.reconcile(&staff.staff, &staff.source, day).await?))
}
