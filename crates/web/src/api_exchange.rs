//! Data sharing: the gateway for member systems (`/exchange/…`: token, data, shared-store
//! pushes), the staff API for the resource catalog, members and access requests, statistics
//! and the log, and the person's "who accessed my data".

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yiwang_exchange::{
    AccessRecord, AccessView, Answer, CallRequest, Channel, ExchangeError, GatewayKey, Grant, GrantRequest, Member, NewMember, Resource,
    Stat,
};
use yiwang_identity::{AgentScope, Permission};

use crate::api::ApiJson;
use crate::api_cases::applicant;
use crate::auth::{PersonSession, StaffSession};
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::AppState;

// ---------- gateway (member systems) ----------

/// `POST /exchange/token` (OAuth 2.0 client credentials with a JWT client assertion).
#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    pub grant_type: String,
    pub client_assertion_type: String,
    pub client_assertion: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// Exchange a signed client assertion (EdDSA JWT: iss = sub = member id, aud = this URL, exp
/// within 5 minutes, a fresh jti) for a 10-minute access token.
#[utoipa::path(post, path = "/exchange/token", tag = "exchange", request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn token(State(app): State<AppState>, Form(f): Form<TokenForm>) -> ApiResult<Json<TokenResponse>> {
    if f.grant_type != "client_credentials" || f.client_assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        return Err(AppError::bad_request("UNSUPPORTED_GRANT", "仅支持 client_credentials 与 jwt-bearer 客户端断言").into());
    }
    let (access_token, expires_in) = app.exchange.token(&f.client_assertion).await?;
    Ok(Json(TokenResponse { access_token, token_type: "Bearer", expires_in }))
}

fn member_of(app: &AppState, headers: &HeaderMap) -> Result<String, AppError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| AppError::from(ExchangeError::Unauthenticated("缺少 Authorization: Bearer 访问令牌".into())))?;
    Ok(app.exchange.authenticate(token.trim())?)
}

/// Percent-decoded header text (purposes are Chinese; headers carry ASCII).
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let raw = headers.get(name)?.to_str().ok()?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&raw[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The resource catalog as a member system sees it (Bearer token): what it may ask for.
#[utoipa::path(get, path = "/exchange", tag = "exchange", responses((status = 200, body = Vec<Resource>), (status = 401, body = ErrorBody)))]
pub async fn member_catalog(State(app): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Vec<Resource>>> {
    member_of(&app, &headers)?;
    Ok(Json(app.exchange.resources().await?))
}

#[derive(Deserialize, IntoParams)]
pub struct CallQuery {
    /// ID number or unified social credit code of the person or business concerned.
    pub subject: String,
    /// Comma-separated data items wanted (default: all you may receive).
    pub fields: Option<String>,
    /// The case this call serves, if any.
    pub case_number: Option<String>,
    /// The purpose, when not sent as the `X-Purpose` header (percent-encoded UTF-8).
    pub purpose: Option<String>,
}

/// Fetch the records about a subject from a shared resource. Needs a Bearer token, a purpose
/// (the approved purpose for conditional resources). The answer is signed by the gateway
/// (`X-Yiwang-Signature`, key in `/api/v1/exchange/keys`) and logged before it is sent.
#[utoipa::path(get, path = "/exchange/{resource}", tag = "exchange", params(CallQuery),
    responses((status = 200, body = Answer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn call(
    State(app): State<AppState>,
    Path(resource): Path<String>,
    Query(q): Query<CallQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let member_id = member_of(&app, &headers)?;
    let purpose = header_text(&headers, "x-purpose").or(q.purpose).unwrap_or_default();
    let fields = q.fields.map(|f| f.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let answer = app
        .exchange
        .call(CallRequest {
            channel: Channel::Gateway,
            member_id,
            resource,
            subject: q.subject,
            purpose,
            case_number: q.case_number,
            fields,
            request_id,
        })
        .await?;
    let mut res = Json(&answer).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&answer.exchange_id) {
        h.insert("x-yiwang-exchange-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&answer.signature) {
        h.insert("x-yiwang-signature", v);
    }
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
pub struct PushBody {
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct PushResult {
    pub stored: usize,
}

/// A provider member pushes base data into the shared store (records replace by subject).
#[utoipa::path(post, path = "/exchange/{resource}/records", tag = "exchange", request_body = PushBody,
    responses((status = 200, body = PushResult), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn push(
    State(app): State<AppState>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<PushBody>,
) -> ApiResult<Json<PushResult>> {
    let member_id = member_of(&app, &headers)?;
    let stored = app.exchange.push_records(&member_id, &resource, &b.records).await?;
    Ok(Json(PushResult { stored }))
}

// ---------- staff API ----------

#[derive(Deserialize, IntoParams)]
pub struct ResourceQuery {
    /// Words to look for in names, classification, provider, summary and items.
    pub q: Option<String>,
}

/// 政务信息资源目录 (staff).
#[utoipa::path(get, path = "/api/v1/exchange/resources", tag = "exchange", params(ResourceQuery), responses((status = 200, body = Vec<Resource>)))]
pub async fn resources(State(app): State<AppState>, staff: StaffSession, Query(q): Query<ResourceQuery>) -> ApiResult<Json<Vec<Resource>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(match q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(words) => app.exchange.search(words).await?,
        None => app.exchange.resources().await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/exchange/resources/{code}", tag = "exchange", responses((status = 200, body = Resource), (status = 404, body = ErrorBody)))]
pub async fn resource(State(app): State<AppState>, staff: StaffSession, Path(code): Path<String>) -> ApiResult<Json<Resource>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.exchange.resource(&code).await?))
}

/// Publish or change a resource of your department (the body's `code` must match).
#[utoipa::path(put, path = "/api/v1/exchange/resources/{code}", tag = "exchange", request_body = Resource,
    responses((status = 200, body = Resource), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_resource(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(code): Path<String>,
    ApiJson(r): ApiJson<Resource>,
) -> ApiResult<Json<Resource>> {
    if r.code != code {
        return Err(AppError::bad_request("CODE_MISMATCH", "路径中的资源代码与内容不一致").into());
    }
    app.exchange.put_resource(&staff.staff, &r).await?;
    Ok(Json(r))
}

/// Member systems.
#[utoipa::path(get, path = "/api/v1/exchange/members", tag = "exchange", responses((status = 200, body = Vec<Member>)))]
pub async fn members(State(app): State<AppState>, staff: StaffSession) -> ApiResult<Json<Vec<Member>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.exchange.members().await?))
}

/// Register a system of your department with its Ed25519 public key.
#[utoipa::path(post, path = "/api/v1/exchange/members", tag = "exchange", request_body = NewMember,
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register_member(State(app): State<AppState>, staff: StaffSession, ApiJson(m): ApiJson<NewMember>) -> ApiResult<Json<Member>> {
    Ok(Json(app.exchange.register_member(&staff.staff, &m).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct MemberState {
    pub disabled: bool,
}

/// Disable or re-enable a member (its tokens stop working at once).
#[utoipa::path(post, path = "/api/v1/exchange/members/{id}/state", tag = "exchange", request_body = MemberState,
    responses((status = 200, body = Member), (status = 403, body = ErrorBody)))]
pub async fn member_state(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(s): ApiJson<MemberState>,
) -> ApiResult<Json<Member>> {
    Ok(Json(app.exchange.set_member_disabled(&staff.staff, &id, s.disabled).await?))
}

/// Access requests of your department (as consumer or provider; all for supervisors).
#[utoipa::path(get, path = "/api/v1/exchange/grants", tag = "exchange", responses((status = 200, body = Vec<Grant>)))]
pub async fn grants(State(app): State<AppState>, staff: StaffSession) -> ApiResult<Json<Vec<Grant>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.exchange.grants_for(&staff.staff).await?))
}

/// 共享申请: ask the provider for a conditional resource.
#[utoipa::path(post, path = "/api/v1/exchange/grants", tag = "exchange", request_body = GrantRequest,
    responses((status = 200, body = Grant), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_access(State(app): State<AppState>, staff: StaffSession, ApiJson(r): ApiJson<GrantRequest>) -> ApiResult<Json<Grant>> {
    Ok(Json(app.exchange.request_access(&staff.staff, &r).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Decision {
    /// approve | reject | revoke
    pub action: String,
    #[serde(default)]
    pub note: String,
}

/// The provider approves or rejects a pending request; either side revokes an approved one.
#[utoipa::path(post, path = "/api/v1/exchange/grants/{id}/decision", tag = "exchange", request_body = Decision,
    responses((status = 200, body = Grant), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(d): ApiJson<Decision>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(decide_grant(&app, &staff, &id, &d.action, &d.note).await?))
}

pub async fn decide_grant(app: &AppState, staff: &StaffSession, id: &str, action: &str, note: &str) -> Result<Grant, AppError> {
    Ok(match action {
        "approve" => app.exchange.decide(&staff.staff, id, true, note).await?,
        "reject" => app.exchange.decide(&staff.staff, id, false, note).await?,
        "revoke" => app.exchange.revoke(&staff.staff, id, note).await?,
        _ => return Err(AppError::bad_request("BAD_ACTION", "操作应为 approve、reject 或 revoke")),
    })
}

/// Calls, errors and latency per resource and member.
#[utoipa::path(get, path = "/api/v1/exchange/stats", tag = "exchange", responses((status = 200, body = Vec<Stat>)))]
pub async fn stats(State(app): State<AppState>, staff: StaffSession) -> ApiResult<Json<Vec<Stat>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.exchange.stats().await?))
}

#[derive(Deserialize, IntoParams)]
pub struct LogQuery {
    /// Default 100, at most 500.
    pub limit: Option<i64>,
}

/// The newest exchanges of your department (all for supervisors).
#[utoipa::path(get, path = "/api/v1/exchange/logs", tag = "exchange", params(LogQuery), responses((status = 200, body = Vec<AccessRecord>)))]
pub async fn logs(State(app): State<AppState>, staff: StaffSession, Query(q): Query<LogQuery>) -> ApiResult<Json<Vec<AccessRecord>>> {
    Ok(Json(app.exchange.recent(&staff.staff, q.limit.unwrap_or(100)).await?.into_iter().map(AccessRecord::masked).collect()))
}

/// One exchange with its signature checked.
#[derive(Serialize, ToSchema)]
pub struct LogEntry {
    pub record: AccessRecord,
    pub signature_valid: bool,
}

#[utoipa::path(get, path = "/api/v1/exchange/logs/{id}", tag = "exchange", responses((status = 200, body = LogEntry), (status = 403, body = ErrorBody)))]
pub async fn log_entry(State(app): State<AppState>, staff: StaffSession, Path(id): Path<String>) -> ApiResult<Json<LogEntry>> {
    staff.require(Permission::Workbench)?;
    let record = app.exchange.log_entry(&staff.staff, &id).await?;
    let signature_valid = app.exchange.verify_record(&record).await?;
    Ok(Json(LogEntry { record: record.masked(), signature_valid }))
}

/// The gateway's signing keys (Ed25519), for checking answer signatures.
#[utoipa::path(get, path = "/api/v1/exchange/keys", tag = "exchange", responses((status = 200, body = Vec<GatewayKey>)))]
pub async fn keys(State(app): State<AppState>) -> ApiResult<Json<Vec<GatewayKey>>> {
    Ok(Json(app.exchange.keys().await?))
}

// ---------- who accessed my data ----------

/// Department names by credit code, for display.
pub async fn department_names(app: &AppState) -> HashMap<String, String> {
    app.catalog.departments().await.map(|ds| ds.into_iter().map(|d| (d.credit_code, d.name)).collect()).unwrap_or_default()
}

/// Whose records the session may see: the person's own (verified online or in person, since
/// a self-declared ID number proves nothing) or, acting for a business, the business's.
pub fn data_subject(person: &PersonSession) -> Result<String, AppError> {
    if person.session.acting_for.is_none() && person.person.assurance.level() < 2 {
        return Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "ASSURANCE_TOO_LOW", "查看数据访问记录需先完成实名核验（L2及以上）"));
    }
    Ok(applicant(person, AgentScope::View)?.id_number)
}

/// 数据访问记录: every exchange and staff read that concerned you, newest first.
#[utoipa::path(get, path = "/api/v1/me/data-access", tag = "exchange", params(LogQuery), responses((status = 200, body = Vec<AccessView>), (status = 403, body = ErrorBody)))]
pub async fn my_data_access(
    State(app): State<AppState>,
    person: PersonSession,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<AccessView>>> {
    let subject = data_subject(&person)?;
    let names = department_names(&app).await;
    Ok(Json(app.exchange.access_for_subject(&subject, &names, q.limit.unwrap_or(200)).await?))
}
