//! JSON API for electronic licences: public verification (by identifier or by file) and the
//! seal key set; the holder's wallet, downloads, annotated copies and use records; staff
//! issuance, new versions, revocation and seal rotation.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_identity::AgentScope;
use yiwang_licences::{
    offline, Algorithm, AnnotatedCopy, Document, IssueRequest, KeySet, Licence, LicenceFile, LicenceSummary, LicenceType, LicenceUse, Seal,
    VerifyReport,
};

use crate::api::ApiJson;
use crate::api_cases::applicant;
use crate::auth::{PersonSession, StaffSession};
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::AppState;

/// The holder a session acts for: the person, or the business it holds the licence scope of.
pub struct Holder {
    pub id: String,
    pub account: String,
}

pub fn holder(p: &PersonSession) -> Result<Holder, AppError> {
    let a = applicant(p, AgentScope::Licences)?;
    Ok(Holder { id: a.id_number, account: p.person.subject.clone() })
}

/// 证照目录.
#[utoipa::path(get, path = "/api/v1/licences/types", tag = "licences", responses((status = 200, body = [LicenceType])))]
pub async fn types(State(app): State<AppState>) -> ApiResult<Json<Vec<LicenceType>>> {
    Ok(Json(app.licences.types().await?))
}

/// Create or replace a licence type (platform administrators; the body's `code` must match).
#[utoipa::path(put, path = "/api/v1/licences/types/{code}", tag = "licences", request_body = LicenceType,
    responses((status = 200, body = LicenceType), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_type(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(code): Path<String>,
    ApiJson(t): ApiJson<LicenceType>,
) -> ApiResult<Json<LicenceType>> {
    if !staff.staff.is_platform_admin() {
        return Err(AppError::from(yiwang_licences::LicenceError::Forbidden).into());
    }
    if t.code != code {
        return Err(AppError::bad_request("CODE_MISMATCH", "路径中的证照类型代码与内容不一致").into());
    }
    app.licences.put_type(&t).await?;
    app.identity.audit(&staff.staff.username, "licence.type", &code, &t.name, &staff.source).await?;
    Ok(Json(t))
}

/// The seal key set for offline verification: every seal with its life span.
#[utoipa::path(get, path = "/api/v1/licences/keys", tag = "licences", responses((status = 200, body = KeySet)))]
pub async fn keys(State(app): State<AppState>) -> ApiResult<Json<KeySet>> {
    Ok(Json(app.licences.key_set().await?))
}

/// 核验: signature, seal in force at signing, status and validity. Personal data masked.
#[utoipa::path(get, path = "/api/v1/licences/{identifier}/verify", tag = "licences",
    responses((status = 200, body = VerifyReport), (status = 404, body = ErrorBody)))]
pub async fn verify(State(app): State<AppState>, Path(identifier): Path<String>) -> ApiResult<Json<VerifyReport>> {
    Ok(Json(app.licences.verify(&identifier).await?))
}

/// Check a licence file (as downloaded by its holder) against the published key set, and its
/// current status when the licence is known here.
#[utoipa::path(post, path = "/api/v1/licences/verify", tag = "licences", request_body = LicenceFile,
    responses((status = 200, body = VerifyReport)))]
pub async fn verify_uploaded(State(app): State<AppState>, ApiJson(file): ApiJson<LicenceFile>) -> ApiResult<Json<VerifyReport>> {
    Ok(Json(verify_file_online(&app, &file).await?))
}

/// Offline checks plus the registry's status (revocation is only known online).
pub async fn verify_file_online(app: &AppState, file: &LicenceFile) -> Result<VerifyReport, AppError> {
    let keys = app.licences.key_set().await?;
    let mut report = offline::verify_file(file, Some(&keys), &app.licences.today().to_string());
    if report.signature_valid {
        match app.licences.verify(&report.identifier).await {
            Ok(online) if online.status != report.status => {
                report.status = online.status;
                report.superseded_by = online.superseded_by;
                report.problems.extend(online.problems.into_iter().filter(|p| !p.starts_with("签名")));
                report.valid = false;
            }
            Ok(_) => {}
            Err(yiwang_licences::LicenceError::NotFound) => {
                report.problems.push("本平台没有该证照的登记记录".into());
                report.valid = false;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

/// 我的证照.
#[utoipa::path(get, path = "/api/v1/me/licences", tag = "licences", responses((status = 200, body = [LicenceSummary])))]
pub async fn wallet(State(app): State<AppState>, person: PersonSession) -> ApiResult<Json<Vec<LicenceSummary>>> {
    let h = holder(&person)?;
    Ok(Json(app.licences.wallet(&h.id).await?))
}

/// A licence of the holder with its uses and copies.
#[derive(Serialize, ToSchema)]
pub struct HeldLicenceView {
    pub licence: Licence,
    pub verify_url: String,
    pub uses: Vec<LicenceUse>,
    pub copies: Vec<AnnotatedCopy>,
}

pub async fn held_view(app: &AppState, h: &Holder, identifier: &str) -> Result<HeldLicenceView, AppError> {
    let licence = app.licences.held(&h.id, identifier).await?;
    let id = licence.document.identifier.clone();
    Ok(HeldLicenceView {
        verify_url: app.licences.verify_url(&id),
        uses: app.licences.uses_of(&h.id, &id).await?,
        copies: app.licences.copies_of(&h.id, &id).await?,
        licence,
    })
}

#[utoipa::path(get, path = "/api/v1/me/licences/{identifier}", tag = "licences",
    responses((status = 200, body = HeldLicenceView), (status = 404, body = ErrorBody)))]
pub async fn held(State(app): State<AppState>, person: PersonSession, Path(identifier): Path<String>) -> ApiResult<Json<HeldLicenceView>> {
    let h = holder(&person)?;
    Ok(Json(held_view(&app, &h, &identifier).await?))
}

/// The signed licence file (JSON), verifiable offline.
#[utoipa::path(get, path = "/api/v1/me/licences/{identifier}/file", tag = "licences",
    responses((status = 200, body = LicenceFile), (status = 404, body = ErrorBody)))]
pub async fn file(State(app): State<AppState>, person: PersonSession, Path(identifier): Path<String>) -> ApiResult<Response> {
    Ok(file_download(&app, &person, &identifier).await?)
}

pub async fn file_download(app: &AppState, person: &PersonSession, identifier: &str) -> Result<Response, AppError> {
    let h = holder(person)?;
    let l = app.licences.held(&h.id, identifier).await?;
    let file = app.licences.file(&l).await?;
    let body = serde_json::to_vec_pretty(&file).map_err(AppError::internal)?;
    let name = format!("{}-{}.json", l.document.type_name, l.document.number);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename*=UTF-8''{}", crate::pages::urlencode(&name))),
            (header::CACHE_CONTROL, "private, no-store".into()),
        ],
        body,
    )
        .into_response())
}

/// A request for an annotated copy (加注件).
#[derive(Deserialize, ToSchema)]
pub struct CopyRequest {
    /// 用途, printed on the copy.
    pub purpose: String,
    /// 使用单位 (optional).
    #[serde(default)]
    pub recipient: String,
    /// Days the copy may be used in (1–30; default 7).
    #[serde(default)]
    pub days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CopyCreated {
    pub copy: AnnotatedCopy,
    /// Give this link to the third party; it works once.
    pub url: String,
}

#[utoipa::path(post, path = "/api/v1/me/licences/{identifier}/copies", tag = "licences", request_body = CopyRequest,
    responses((status = 201, body = CopyCreated), (status = 409, body = ErrorBody)))]
pub async fn make_copy(
    State(app): State<AppState>,
    person: PersonSession,
    Path(identifier): Path<String>,
    ApiJson(r): ApiJson<CopyRequest>,
) -> ApiResult<Response> {
    let created = create_copy(&app, &person, &identifier, &r).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub async fn create_copy(app: &AppState, person: &PersonSession, identifier: &str, r: &CopyRequest) -> Result<CopyCreated, AppError> {
    let h = holder(person)?;
    let copy = app.licences.make_copy(&h.id, &h.account, identifier, &r.purpose, &r.recipient, r.days.unwrap_or(7)).await?;
    Ok(CopyCreated { url: copy_url(app, &copy.token), copy })
}

pub fn copy_url(app: &AppState, token: &str) -> String {
    format!("{}/licence-copies/{}", app.licences.public_url(), token)
}

/// An annotated copy's annotation (does not use it up).
#[utoipa::path(get, path = "/api/v1/licence-copies/{token}", tag = "licences",
    responses((status = 200, body = AnnotatedCopy), (status = 404, body = ErrorBody)))]
pub async fn copy(State(app): State<AppState>, Path(token): Path<String>) -> ApiResult<Json<AnnotatedCopy>> {
    Ok(Json(app.licences.copy(&token).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct UseCopy {
    /// Who uses it (organisation), recorded for the holder.
    #[serde(default)]
    pub used_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct CopyUsed {
    pub copy: AnnotatedCopy,
    pub document: Document,
    pub report: VerifyReport,
}

/// Use an annotated copy: returns the licence and its verification, once.
#[utoipa::path(post, path = "/api/v1/licence-copies/{token}/use", tag = "licences", request_body = UseCopy,
    responses((status = 200, body = CopyUsed), (status = 409, body = ErrorBody)))]
pub async fn use_copy(State(app): State<AppState>, Path(token): Path<String>, ApiJson(r): ApiJson<UseCopy>) -> ApiResult<Json<CopyUsed>> {
    let (copy, licence, report) = app.licences.use_copy(&token, r.used_by.trim()).await?;
    Ok(Json(CopyUsed { copy, document: licence.document, report }))
}

// ----- staff -----

/// The department a staff member acts for (licences are always a department's).
pub fn department_of(staff: &yiwang_identity::Staff) -> Result<String, AppError> {
    staff.department.clone().ok_or_else(|| AppError::from(yiwang_licences::LicenceError::Forbidden))
}

/// Licences issued by the staff member's department.
#[utoipa::path(get, path = "/api/v1/staff/licences", tag = "licences", responses((status = 200, body = [LicenceSummary])))]
pub async fn issued(State(app): State<AppState>, staff: StaffSession) -> ApiResult<Json<Vec<LicenceSummary>>> {
    let dept = department_of(&staff.staff)?;
    Ok(Json(app.licences.issued_by(&dept, 200).await?))
}

/// What staff send to issue a licence.
#[derive(Deserialize, ToSchema)]
pub struct IssueBody {
    pub type_code: String,
    pub holder_name: String,
    /// Citizen ID number or credit code (by the type's holder kind).
    pub holder_id: String,
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// YYYY-MM-DD; default by the type's validity.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_to: Option<chrono::NaiveDate>,
}

pub async fn issue_by(app: &AppState, staff: &StaffSession, b: IssueBody) -> Result<Licence, AppError> {
    let dept = department_of(&staff.staff)?;
    let issuer_name = app.catalog.department(&dept).await.map(|d| d.name).unwrap_or_default();
    let req = IssueRequest {
        type_code: b.type_code.trim().to_string(),
        issuer_code: dept,
        issuer_name,
        holder_name: b.holder_name,
        holder_id: b.holder_id.trim().to_ascii_uppercase(),
        data: b.data,
        item_code: None,
        case_id: None,
        case_number: None,
        valid_from: None,
        valid_to: b.valid_to,
    };
    Ok(app.licences.issue(&staff.staff, req, &staff.source).await?)
}

/// 签发 a licence in the staff member's department's name.
#[utoipa::path(post, path = "/api/v1/staff/licences", tag = "licences", request_body = IssueBody,
    responses((status = 201, body = Licence), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue(State(app): State<AppState>, staff: StaffSession, ApiJson(b): ApiJson<IssueBody>) -> ApiResult<Response> {
    let l = issue_by(&app, &staff, b).await?;
    Ok((StatusCode::CREATED, Json(l)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct RevokeBody {
    pub reason: String,
}

/// 注销 a licence the department issued.
#[utoipa::path(post, path = "/api/v1/staff/licences/{identifier}/revoke", tag = "licences", request_body = RevokeBody,
    responses((status = 200, body = Licence), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(identifier): Path<String>,
    ApiJson(b): ApiJson<RevokeBody>,
) -> ApiResult<Json<Licence>> {
    Ok(Json(app.licences.revoke(&staff.staff, &identifier, &b.reason, &staff.source).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReissueBody {
    pub data: BTreeMap<String, String>,
}

/// 换发: a new version with new data; the old one becomes superseded.
#[utoipa::path(post, path = "/api/v1/staff/licences/{identifier}/reissue", tag = "licences", request_body = ReissueBody,
    responses((status = 201, body = Licence), (status = 409, body = ErrorBody)))]
pub async fn reissue(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(identifier): Path<String>,
    ApiJson(b): ApiJson<ReissueBody>,
) -> ApiResult<Response> {
    let l = app.licences.reissue(&staff.staff, &identifier, b.data, &staff.source).await?;
    Ok((StatusCode::CREATED, Json(l)).into_response())
}

/// The department's seals.
#[utoipa::path(get, path = "/api/v1/staff/seals", tag = "licences", responses((status = 200, body = [Seal])))]
pub async fn seals(State(app): State<AppState>, staff: StaffSession) -> ApiResult<Json<Vec<Seal>>> {
    let dept = department_of(&staff.staff)?;
    Ok(Json(app.licences.seals(Some(&dept)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RotateBody {
    /// `SM2-SM3` or `Ed25519`.
    pub algorithm: String,
}

pub async fn rotate_by(app: &AppState, staff: &StaffSession, algorithm: &str) -> Result<Seal, AppError> {
    let alg = Algorithm::parse(algorithm).ok_or_else(|| AppError::bad_request("BAD_ALGORITHM", "算法应为 SM2-SM3 或 Ed25519"))?;
    let dept = department_of(&staff.staff)?;
    let name = app.catalog.department(&dept).await.map(|d| d.name).unwrap_or_default();
    Ok(app.licences.rotate_seal(&staff.staff, alg, &name, &staff.source).await?)
}

/// 密钥轮换: retire the department's seal of one algorithm and make a new one.
#[utoipa::path(post, path = "/api/v1/staff/seals/rotate", tag = "licences", request_body = RotateBody,
    responses((status = 201, body = Seal), (status = 403, body = ErrorBody)))]
pub async fn rotate(State(app): State<AppState>, staff: StaffSession, ApiJson(b): ApiJson<RotateBody>) -> ApiResult<Response> {
    let seal = rotate_by(&app, &staff, &b.algorithm).await?;
    Ok((StatusCode::CREATED, Json(seal)).into_response())
}
