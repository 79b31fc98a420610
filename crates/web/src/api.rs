//! JSON API under `/api/v1`, described by OpenAPI (served at `/api/openapi.json`, browsable at
//! `/api/docs`). Errors are `{code, message}` with the right status.

use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yiwang_catalog::model::*;
use yiwang_catalog::search::SearchHit;
use yiwang_catalog::transfer::{self, Format, ImportReport, ItemRecord, RowError};
use yiwang_catalog::StatusAction;
use yiwang_core::codes::ImplementationCode;

use crate::auth::{self, StaffSession};
use crate::error::{catalog_error, ApiError, ApiResult, AppError, ErrorBody};
use crate::pages::staff::audit;
use crate::pages::{escape, ListQuery};
use crate::AppState;

/// JSON body extractor whose rejections are API errors, not plain text.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE", "提交内容过大")))
            }
            Err(e) => Err(ApiError(AppError::bad_request("BAD_JSON", format!("请求内容不是有效的JSON或缺少字段：{}", e.body_text())))),
        }
    }
}

/// Query extractor whose rejections are API errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError(AppError::bad_request("BAD_QUERY", format!("查询参数无效：{}", e.body_text())))),
        }
    }
}

/// Reject a malformed implementation code before any query (422 INVALID_CODE).
fn valid_code(code: &str) -> Result<String, ApiError> {
    ImplementationCode::parse(code)
        .map(|c| c.to_string())
        .map_err(|source| cat(yiwang_catalog::CatalogError::InvalidCode { field: "实施编码", source }))
}

fn cat(e: yiwang_catalog::CatalogError) -> ApiError {
    ApiError(catalog_error(e))
}

/// A page of items: search hits when `q` is given, otherwise items by popularity.
#[derive(Serialize, ToSchema)]
pub struct ItemList {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    /// How the query was segmented.
    pub terms: Vec<String>,
    pub items: Vec<SearchHit>,
}

#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(ListQuery),
    responses((status = 200, body = ItemList), (status = 400, body = ErrorBody)))]
pub async fn list_items(State(app): State<AppState>, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<Json<ItemList>> {
    let filter = q.filter()?;
    let (page, per_page) = (q.page(), q.per_page());
    if q.q.trim().is_empty() {
        let p = app.catalog.list_public(&filter, page, per_page).await.map_err(cat)?;
        let items = p
            .items
            .into_iter()
            .map(|s| SearchHit {
                name_html: escape(&s.name),
                snippet_html: String::new(),
                impl_code: s.impl_code,
                name: s.name,
                name_en: None,
                department_code: s.department_code,
                department_name: s.department_name,
                status: s.status,
                item_type: s.item_type,
                audience: s.audience,
                promised_days: s.promised_days,
                visits: s.visits,
                online_depth: s.online_depth,
                score: 0.0,
            })
            .collect();
        return Ok(Json(ItemList { total: p.total, page, per_page, terms: vec![], items }));
    }
    let r = app.catalog.search(&q.q, &filter, page, per_page).map_err(cat)?;
    Ok(Json(ItemList { total: r.total as u64, page, per_page, terms: r.terms, items: r.hits }))
}

#[utoipa::path(get, path = "/api/v1/items/{code}", tag = "catalog",
    params(("code" = String, Path, description = "31-char implementation code")),
    responses((status = 200, body = Item), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_item(State(app): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<Item>> {
    let code = valid_code(&code)?;
    let item = app.catalog.item_public(&code).await.map_err(cat)?;
    app.catalog.record_view(&code);
    Ok(Json(item))
}

#[utoipa::path(get, path = "/api/v1/items/{code}/latest", tag = "catalog (staff)",
    params(("code" = String, Path)), responses((status = 200, body = Item), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_item_latest(State(app): State<AppState>, staff: StaffSession, Path(code): Path<String>) -> ApiResult<Json<Item>> {
    let editor = staff.catalog_editor()?;
    Ok(Json(app.catalog.item_latest(&editor, &valid_code(&code)?).await.map_err(cat)?))
}

#[utoipa::path(post, path = "/api/v1/items", tag = "catalog (staff)", request_body = ItemRecord,
    responses((status = 201, body = Item), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_item(State(app): State<AppState>, staff: StaffSession, ApiJson(rec): ApiJson<ItemRecord>) -> ApiResult<Response> {
    let editor = staff.catalog_editor()?;
    let result = app.catalog.create(&editor, &rec.impl_code, rec.doc).await;
    audit(&app, &staff, "item.create", &rec.impl_code, &result).await;
    Ok((StatusCode::CREATED, Json(result.map_err(cat)?)).into_response())
}

#[utoipa::path(put, path = "/api/v1/items/{code}", tag = "catalog (staff)", request_body = ItemDoc,
    params(("code" = String, Path)), responses((status = 200, body = Item), (status = 422, body = ErrorBody)))]
pub async fn update_item(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(code): Path<String>,
    ApiJson(doc): ApiJson<ItemDoc>,
) -> ApiResult<Json<Item>> {
    let editor = staff.catalog_editor()?;
    let code = valid_code(&code)?;
    let result = app.catalog.update(&editor, &code, doc).await;
    audit(&app, &staff, "item.update", &code, &result).await;
    Ok(Json(result.map_err(cat)?))
}

#[utoipa::path(post, path = "/api/v1/items/{code}/publish", tag = "catalog (staff)",
    params(("code" = String, Path)), responses((status = 200, body = Item), (status = 422, body = ErrorBody, description = "ITEM_INCOMPLETE lists every missing element in `details`")))]
pub async fn publish_item(State(app): State<AppState>, staff: StaffSession, Path(code): Path<String>) -> ApiResult<Json<Item>> {
    let editor = staff.catalog_editor()?;
    let code = valid_code(&code)?;
    let result = app.catalog.publish(&editor, &code).await;
    audit(&app, &staff, "item.publish", &code, &result).await;
    Ok(Json(result.map_err(cat)?))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusRequest {
    /// `suspend`, `resume` or `cancel`
    pub action: String,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/items/{code}/status", tag = "catalog (staff)", request_body = StatusRequest,
    params(("code" = String, Path)), responses((status = 200, body = Item), (status = 409, body = ErrorBody)))]
pub async fn item_status(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<StatusRequest>,
) -> ApiResult<Json<Item>> {
    let editor = staff.catalog_editor()?;
    let code = valid_code(&code)?;
    let action = StatusAction::parse(&req.action).map_err(cat)?;
    let result = app.catalog.change_status(&editor, &code, action, &req.note).await;
    audit(&app, &staff, &format!("item.{}", req.action), &code, &result).await;
    Ok(Json(result.map_err(cat)?))
}

#[utoipa::path(get, path = "/api/v1/items/{code}/history", tag = "catalog (staff)",
    params(("code" = String, Path)), responses((status = 200, body = [HistoryEntry])))]
pub async fn item_history(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    let editor = staff.catalog_editor()?;
    Ok(Json(app.catalog.history(&editor, &valid_code(&code)?).await.map_err(cat)?))
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "catalog", responses((status = 200, body = [Department])))]
pub async fn departments(State(app): State<AppState>) -> ApiResult<Json<Vec<Department>>> {
    Ok(Json(app.catalog.departments().await.map_err(cat)?))
}

#[utoipa::path(get, path = "/api/v1/departments/{code}", tag = "catalog", params(("code" = String, Path)),
    responses((status = 200, body = Department), (status = 404, body = ErrorBody)))]
pub async fn department(State(app): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<Department>> {
    Ok(Json(app.catalog.department(&code).await.map_err(cat)?))
}

#[utoipa::path(get, path = "/api/v1/regions", tag = "catalog", responses((status = 200, body = [Region])))]
pub async fn regions(State(app): State<AppState>) -> ApiResult<Json<Vec<Region>>> {
    Ok(Json(app.catalog.regions().await.map_err(cat)?))
}

#[utoipa::path(get, path = "/api/v1/themes", tag = "catalog", responses((status = 200, body = [Theme])))]
pub async fn themes(State(app): State<AppState>) -> ApiResult<Json<Vec<Theme>>> {
    Ok(Json(app.catalog.themes().await.map_err(cat)?))
}

#[utoipa::path(get, path = "/api/v1/bundles", tag = "catalog", responses((status = 200, body = [Bundle])))]
pub async fn bundles(State(app): State<AppState>) -> ApiResult<Json<Vec<Bundle>>> {
    Ok(Json(app.catalog.bundles().await.map_err(cat)?))
}

#[utoipa::path(get, path = "/api/v1/bundles/{code}", tag = "catalog", params(("code" = String, Path)),
    responses((status = 200, body = Bundle), (status = 404, body = ErrorBody)))]
pub async fn bundle(State(app): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<Bundle>> {
    Ok(Json(app.catalog.bundle(&code).await.map_err(cat)?))
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `csv`, `xlsx` or `json`
    pub format: String,
    /// Publish each imported item too (default false: drafts).
    #[serde(default)]
    pub publish: bool,
}

#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "catalog (staff)", params(ImportQuery),
    request_body(content = Vec<u8>, description = "The file: CSV/Excel with the export's Chinese headers, or a JSON array of ItemRecord"),
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody, description = "IMPORT_REJECTED: nothing written; `details` lists {row, column, message}")))]
pub async fn import(
    State(app): State<AppState>,
    staff: StaffSession,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ImportReport>> {
    let editor = staff.catalog_editor()?;
    let format = Format::parse(&q.format).ok_or_else(|| AppError::bad_request("BAD_FORMAT", "格式应为 csv、xlsx 或 json"))?;
    let records = transfer::parse(format, &body).map_err(|rows: Vec<RowError>| cat(yiwang_catalog::CatalogError::ImportRejected(rows)))?;
    let result = app.catalog.import(&editor, &records, q.publish, &|_, _| {}).await;
    audit(&app, &staff, "catalog.import", format.extension(), &result).await;
    Ok(Json(result.map_err(cat)?))
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv` (default), `xlsx` or `json`
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/catalog/export", tag = "catalog (staff)", params(ExportQuery),
    responses((status = 200, description = "The catalog file")))]
pub async fn export(State(app): State<AppState>, staff: StaffSession, ApiQuery(q): ApiQuery<ExportQuery>) -> ApiResult<Response> {
    let editor = staff.catalog_editor()?;
    let format = Format::parse(q.format.as_deref().unwrap_or("csv"))
        .ok_or_else(|| AppError::bad_request("BAD_FORMAT", "格式应为 csv、xlsx 或 json"))?;
    let records = app.catalog.export_records(&editor).await.map_err(cat)?;
    let bytes = transfer::write(format, &records).map_err(cat)?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], bytes).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in account (staff or person) and how far sign-in has got.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// `staff` or `person`.
    pub kind: String,
    /// `full`, `totp` (second factor due: POST /api/v1/auth/totp) or `enroll` (set up an
    /// authenticator with `totp_secret`, then POST /api/v1/auth/totp).
    pub stage: String,
    pub username: Option<String>,
    pub display_name: String,
    pub department: Option<String>,
    pub roles: Vec<String>,
    /// Person only: masked ID number and assurance level 1-3.
    pub id_number_masked: Option<String>,
    pub assurance_level: Option<u8>,
    /// The business a person is acting for.
    pub acting_for: Option<String>,
    /// Only while enrolling: the base32 TOTP secret and its otpauth URI.
    pub totp_secret: Option<String>,
    pub otpauth_uri: Option<String>,
    /// Send back as `X-CSRF-Token` on every POST/PUT/DELETE.
    pub csrf_token: String,
}

pub fn me(s: &yiwang_identity::Session) -> Me {
    use yiwang_identity::Principal;
    let stage = serde_json::to_value(s.stage).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let mut m = Me {
        kind: s.kind().key().to_string(),
        stage,
        username: None,
        display_name: String::new(),
        department: None,
        roles: vec![],
        id_number_masked: None,
        assurance_level: None,
        acting_for: s.acting_for.as_ref().map(|a| a.credit_code.clone()),
        totp_secret: None,
        otpauth_uri: None,
        csrf_token: s.csrf_token.clone(),
    };
    match &s.principal {
        Principal::Staff(st) => {
            m.username = Some(st.username.clone());
            m.display_name = st.display_name.clone();
            m.department = st.department.clone();
            m.roles = st.roles.iter().map(|r| r.key().to_string()).collect();
        }
        Principal::Person(p) => {
            m.display_name = p.name.clone();
            m.id_number_masked = Some(p.id_number_masked());
            m.assurance_level = Some(p.assurance.level());
        }
    }
    m
}

/// Staff sign-in, step one (password). Unless TOTP is off, the answer's `stage` says the
/// second factor is due.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me, description = "Sets the session cookie"), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    crate::pages::staff::ConnectInfoOpt(source): crate::pages::staff::ConnectInfoOpt,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    app.login_limiter.check(&source)?;
    let client = yiwang_identity::ClientInfo { source: &source, user_agent: auth::user_agent(&headers) };
    let (token, session) = app.identity.login_staff(req.username.trim(), &req.password, client).await?;
    let mut body = me(&session);
    if session.stage == yiwang_identity::Stage::Enroll {
        let e = app.identity.totp_enrollment(&session).await?;
        body.totp_secret = Some(e.secret);
        body.otpauth_uri = Some(e.otpauth_uri);
    }
    Ok(([(header::SET_COOKIE, auth::session_cookie(&token, app.settings.secure_cookies))], Json(body)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct TotpRequest {
    /// The 6-digit code from the authenticator app.
    pub code: String,
}

/// Staff sign-in, step two: the TOTP code. Replaces the pending session with a full one.
#[utoipa::path(post, path = "/api/v1/auth/totp", tag = "auth", request_body = TotpRequest,
    responses((status = 200, body = Me, description = "Sets a new session cookie"), (status = 401, body = ErrorBody)))]
pub async fn totp(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    a: crate::auth::AnySession,
    ApiJson(req): ApiJson<TotpRequest>,
) -> ApiResult<Response> {
    app.login_limiter.check(&a.source)?;
    let client = yiwang_identity::ClientInfo { source: &a.source, user_agent: auth::user_agent(&headers) };
    let (token, session) = app.identity.complete_second_factor(&a.token, &req.code, client).await?;
    Ok(([(header::SET_COOKIE, auth::session_cookie(&token, app.settings.secure_cookies))], Json(me(&session))).into_response())
}

/// Sign out (any account).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(app): State<AppState>, a: crate::auth::AnySession) -> ApiResult<Response> {
    app.identity.logout(&a.token).await?;
    if let Some(s) = a.session.staff() {
        app.identity.audit(&s.username, "logout", "", "success", &a.source).await?;
    }
    let cookie = auth::clear_session_cookie(app.settings.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The signed-in account (staff or person, fully signed in).
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn whoami(a: crate::auth::AnySession) -> ApiResult<Json<Me>> {
    if a.session.stage != yiwang_identity::Stage::Full {
        return Err(yiwang_identity::IdentityError::Unauthenticated.into());
    }
    Ok(Json(me(&a.session)))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "yiwang (一网) API",
        description = "Integrated online government services: service catalog, search, guides. Errors are `{code, message}`; staff endpoints need the session cookie from /api/v1/auth/login and the `X-CSRF-Token` header on writes."
    ),
    paths(
        list_items,
        get_item,
        get_item_latest,
        create_item,
        update_item,
        publish_item,
        item_status,
        item_history,
        departments,
        department,
        regions,
        themes,
        bundles,
        bundle,
        import,
        export,
        login,
        totp,
        logout,
        whoami,
        crate::api_accounts::register,
        crate::api_accounts::person_login,
        crate::api_accounts::profile,
        crate::api_accounts::verify,
        crate::api_accounts::sessions,
        crate::api_accounts::revoke_session,
        crate::api_accounts::logins,
        crate::api_accounts::acting_for,
        crate::api_accounts::reset_request,
        crate::api_accounts::reset_confirm,
        crate::api_accounts::register_business,
        crate::api_accounts::agents,
        crate::api_accounts::grant_agent,
        crate::api_accounts::revoke_agent,
        crate::api_accounts::verify_in_person,
        crate::api_accounts::clients,
        crate::api_accounts::create_client,
        crate::api_accounts::reset_staff_totp,
        crate::api_cases::application_form,
        crate::api_cases::create_application,
        crate::api_cases::save_form,
        crate::api_cases::upload_material,
        crate::api_cases::download_material,
        crate::api_cases::submit,
        crate::api_cases::resubmit,
        crate::api_cases::withdraw,
        crate::api_cases::my_cases,
        crate::api_cases::my_case,
        crate::api_cases::my_inbox,
        crate::api_cases::read_inbox,
        crate::api_cases::queue,
        crate::api_cases::staff_case,
        crate::api_cases::act,
        crate::api_cases::window_apply,
        crate::api_cases::staff_material,
        crate::api_cases::get_workflow,
        crate::api_cases::put_workflow,
        crate::api_licences::types,
        crate::api_licences::put_type,
        crate::api_licences::keys,
        crate::api_licences::verify,
        crate::api_licences::verify_uploaded,
        crate::api_licences::wallet,
        crate::api_licences::held,
        crate::api_licences::file,
        crate::api_licences::make_copy,
        crate::api_licences::copy,
        crate::api_licences::use_copy,
        crate::api_licences::issued,
        crate::api_licences::issue,
        crate::api_licences::revoke,
        crate::api_licences::reissue,
        crate::api_licences::seals,
        crate::api_licences::rotate,
        crate::api_ledger::info,
        crate::api_ledger::heads,
        crate::api_ledger::publish,
        crate::api_ledger::leaves,
        crate::api_ledger::inclusion,
        crate::api_ledger::consistency,
        crate::api_ledger::my_case_bundle,
        crate::api_exchange::token,
        crate::api_exchange::member_catalog,
        crate::api_exchange::call,
        crate::api_exchange::push,
        crate::api_exchange::resources,
        crate::api_exchange::resource,
        crate::api_exchange::put_resource,
        crate::api_exchange::members,
        crate::api_exchange::register_member,
        crate::api_exchange::member_state,
        crate::api_exchange::grants,
        crate::api_exchange::request_access,
        crate::api_exchange::decide,
        crate::api_exchange::stats,
        crate::api_exchange::logs,
        crate::api_exchange::log_entry,
        crate::api_exchange::keys,
        crate::api_exchange::my_data_access,
        crate::api_oversight::alerts,
        crate::api_oversight::alert,
        crate::api_oversight::alert_action,
        crate::api_oversight::scores,
        crate::api_oversight::followups,
        crate::api_oversight::followup_action,
        crate::api_oversight::open_visit,
        crate::api_oversight::staff_tickets,
        crate::api_oversight::staff_ticket,
        crate::api_oversight::ticket_action,
        crate::api_oversight::statistics,
        crate::api_oversight::statistics_csv,
        crate::api_oversight::rate_case,
        crate::api_oversight::case_rating,
        crate::api_oversight::submit_ticket,
        crate::api_oversight::anonymous_report,
        crate::api_oversight::track_report,
        crate::api_oversight::my_tickets,
        crate::api_oversight::my_ticket,
        crate::api_oversight::follow_up,
        crate::api_oversight::visit,
        crate::api_oversight::rate_visit,
        crate::api_oversight::public_ratings,
        crate::api_oversight::public_statistics,
        crate::api_payments::case_payment,
        crate::api_payments::checkout,
        crate::api_payments::case_shipment,
        crate::api_payments::payment_notify,
        crate::api_payments::courier_notify,
        crate::api_payments::orders,
        crate::api_payments::revenue,
        crate::api_payments::reconcile,
        crate::api_openness::documents,
        crate::api_openness::document,
        crate::api_openness::create_document,
        crate::api_openness::publish_document,
        crate::api_openness::withdraw_document,
        crate::api_openness::request_disclosure,
        crate::api_openness::my_requests,
        crate::api_openness::request_action,
        crate::api_openness::rate_dataset,
        crate::api_openness::dataset_requests,
        crate::api_openness::request_dataset,
        crate::api_openness::put_dataset,
        crate::api_openness::add_resource,
        crate::api_openness::add_attachment
    ),
    components(schemas(
        ErrorBody,
        ItemList,
        SearchHit,
        Item,
        ItemDoc,
        Material,
        Step,
        Fee,
        Department,
        Region,
        Theme,
        Bundle,
        HistoryEntry,
        ItemRecord,
        ImportReport,
        RowError,
        StatusRequest,
        LoginRequest,
        Me,
        ItemType,
        Audience,
        CaseKind,
        ResultType,
        MaterialForm,
        ItemStatus,
        RegionLevel,
        yiwang_cases::Case,
        yiwang_cases::Branch,
        yiwang_cases::Event,
        yiwang_cases::CaseView,
        yiwang_cases::CaseSummary,
        yiwang_cases::Action,
        yiwang_cases::FormDef,
        yiwang_cases::form::Field,
        yiwang_cases::MaterialSlot,
        yiwang_cases::MaterialInfo,
        yiwang_cases::Problem,
        yiwang_cases::WorkflowDef,
        yiwang_cases::definition::JointReview,
        yiwang_cases::precheck::Rule,
        yiwang_cases::StepDef,
        yiwang_licences::LicenceType,
        yiwang_licences::TypeField,
        yiwang_licences::Template,
        yiwang_licences::HolderKind,
        yiwang_licences::Algorithm,
        yiwang_licences::LicenceStatus,
        yiwang_licences::Document,
        yiwang_licences::Licence,
        yiwang_licences::LicenceFile,
        yiwang_licences::SignatureBlock,
        yiwang_licences::Seal,
        yiwang_licences::KeySet,
        yiwang_licences::VerifyReport,
        yiwang_licences::AnnotatedCopy,
        yiwang_licences::LicenceUse,
        yiwang_licences::LicenceSummary,
        yiwang_ledger::LogInfo,
        yiwang_ledger::SignedHead,
        yiwang_ledger::LogKey,
        yiwang_ledger::Envelope,
        yiwang_ledger::Entry,
        yiwang_ledger::InclusionProof,
        yiwang_ledger::ConsistencyProof,
        yiwang_ledger::ProvenEntry,
        yiwang_ledger::ProofBundle,
        yiwang_exchange::Resource,
        yiwang_exchange::DataItem,
        yiwang_exchange::Service,
        yiwang_exchange::SharingType,
        yiwang_exchange::OpenType,
        yiwang_exchange::UpdateCycle,
        yiwang_exchange::SubjectKind,
        yiwang_exchange::Member,
        yiwang_exchange::NewMember,
        yiwang_exchange::Grant,
        yiwang_exchange::GrantStatus,
        yiwang_exchange::GrantRequest,
        yiwang_exchange::AccessRecord,
        yiwang_exchange::AccessView,
        yiwang_exchange::Channel,
        yiwang_exchange::Outcome,
        yiwang_exchange::Stat,
        yiwang_exchange::GatewayKey,
        yiwang_exchange::Answer,
        crate::api_exchange::TokenForm,
        crate::api_exchange::TokenResponse,
        crate::api_exchange::PushBody,
        crate::api_exchange::PushResult,
        crate::api_exchange::MemberState,
        crate::api_exchange::Decision,
        crate::api_exchange::LogEntry,
        yiwang_oversight::Alert,
        yiwang_oversight::AlertAction,
        yiwang_oversight::Rule,
        yiwang_oversight::Level,
        yiwang_oversight::AlertStatus,
        yiwang_oversight::Score,
        yiwang_oversight::Rating,
        yiwang_oversight::RatingKind,
        yiwang_oversight::RatingInput,
        yiwang_oversight::Dimensions,
        yiwang_oversight::Followup,
        yiwang_oversight::FollowupStatus,
        yiwang_oversight::Visit,
        yiwang_oversight::Ticket,
        yiwang_oversight::TicketKind,
        yiwang_oversight::TicketStatus,
        yiwang_oversight::Priority,
        yiwang_oversight::TicketEvent,
        yiwang_oversight::TicketInput,
        yiwang_oversight::tickets::TicketAction,
        yiwang_oversight::ratings::MonthlyResults,
        yiwang_oversight::ratings::ResultRow,
        yiwang_oversight::stats::Statistics,
        yiwang_oversight::stats::GroupRow,
        yiwang_oversight::stats::Satisfaction,
        yiwang_oversight::stats::Hotspot,
        crate::api_oversight::FollowupAction,
        crate::api_oversight::VisitRequest,
        crate::api_oversight::TicketView,
        crate::api_oversight::AnonymousReceipt,
        crate::api_oversight::TrackRequest,
        crate::api_oversight::FollowUpRequest,
        yiwang_payments::Order,
        yiwang_payments::OrderStatus,
        yiwang_payments::FeeLine,
        yiwang_payments::OrderEvent,
        yiwang_payments::Notification,
        yiwang_payments::TrackingEvent,
        yiwang_payments::Shipment,
        yiwang_payments::ShipmentStatus,
        yiwang_payments::Reconciliation,
        yiwang_payments::Mismatch,
        yiwang_payments::MismatchKind,
        yiwang_payments::Revenue,
        crate::api_payments::PaymentView,
        crate::api_payments::Checkout,
        crate::api_payments::NotifyAnswer,
        crate::api_payments::ReconcileRequest,
        yiwang_openness::Document,
        yiwang_openness::DocKind,
        yiwang_openness::DocStatus,
        yiwang_openness::DocumentInput,
        yiwang_openness::Interpretation,
        yiwang_openness::Qa,
        yiwang_openness::Attachment,
        yiwang_openness::DisclosureRequest,
        yiwang_openness::RequestStatus,
        yiwang_openness::Decision,
        yiwang_openness::Package,
        yiwang_openness::Resource,
        yiwang_openness::Named,
        yiwang_openness::Tag,
        yiwang_openness::Extra,
        yiwang_openness::DatasetRequest,
        yiwang_openness::disclosure::RequestInput,
        yiwang_openness::opendata::DatasetRequestInput,
        crate::api_openness::DocumentList,
        crate::api_openness::NewDocument,
        crate::api_openness::Schedule,
        crate::api_openness::RequestAction,
        crate::api_openness::RatingBody,
        yiwang_openness::DatasetInput
    ))
)]
pub struct ApiDoc;
