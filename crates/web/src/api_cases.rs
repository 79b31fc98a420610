//! JSON API for applications and cases: applicants start, fill, upload, submit, correct and
//! follow their cases; staff work their queues and act; window staff accept offline
//! applications. Same domain calls as the pages.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_cases::{
    Action, Applicant, ApplicantKind, ApplicationInput, CaseError, CaseStatus, CaseSummary, CaseView, Cases, Delivery, FormDef,
    MaterialInfo, MaterialSlot, QueueFilter, Target, Urgency, Values,
};
use yiwang_identity::{AgentScope, Permission};
use yiwang_notify::inbox::{self, InboxMessage};

use crate::api::ApiJson;
use crate::auth::{PersonSession, StaffSession};
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::AppState;

/// The applicant a session applies as: the person, or the business it acts for (which needs
/// the agent scope asked for).
pub fn applicant(p: &PersonSession, need: AgentScope) -> Result<Applicant, AppError> {
    let person = &p.person;
    let base = Applicant {
        account: Some(person.subject.clone()),
        kind: ApplicantKind::Person,
        name: person.name.clone(),
        id_number: person.id_number.clone(),
        person_name: person.name.clone(),
        person_id_number: person.id_number.clone(),
        phone: Some(person.phone.clone()),
        assurance: person.assurance.level(),
        address: None,
    };
    match &p.session.acting_for {
        None => Ok(base),
        Some(af) => {
            if !af.scopes.contains(&need) {
                // Forbidden, not a conflict: the agent lacks the right, the resource is fine.
                return Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "AGENT_SCOPE", "您对该企业没有此项授权，请联系法定代表人"));
            }
            Ok(Applicant { kind: ApplicantKind::Business, name: af.name.clone(), id_number: af.credit_code.clone(), ..base })
        }
    }
}

/// The applicant with what trusted sources add for pre-filling (the registered address of a
/// verified person applying for themself).
pub async fn applicant_for_form(app: &AppState, p: &PersonSession) -> Result<Applicant, AppError> {
    let mut a = applicant(p, AgentScope::Apply)?;
    if a.kind == ApplicantKind::Person {
        a.address = app.identity.registered_address(&p.person).await?;
    }
    Ok(a)
}

/// Where an application is for, as query parameters: `?item=CODE` or `?bundle=CODE`.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct TargetQuery {
    pub item: Option<String>,
    pub bundle: Option<String>,
}

impl TargetQuery {
    pub fn target(&self) -> Result<Target, AppError> {
        match (&self.item, &self.bundle) {
            (Some(i), None) => Ok(Target::Item(i.trim().to_string())),
            (None, Some(b)) => Ok(Target::Bundle(b.trim().to_string())),
            _ => Err(AppError::bad_request("BAD_TARGET", "请指定一个事项（item）或一件事（bundle）")),
        }
    }
}

/// What the application form needs.
#[derive(Serialize, ToSchema)]
pub struct ApplicationForm {
    pub title: String,
    pub lead_department_name: String,
    pub promised_days: u32,
    pub instant: bool,
    pub form: FormDef,
    pub materials: Vec<MaterialSlot>,
    /// Values the platform already knows for this applicant.
    #[schema(value_type = Object)]
    pub prefill: Values,
}

/// The form and materials of an item or bundle, with the caller's data pre-filled.
#[utoipa::path(get, path = "/api/v1/applications/form", tag = "cases", params(TargetQuery),
    responses((status = 200, body = ApplicationForm), (status = 404, body = ErrorBody)))]
pub async fn application_form(
    State(app): State<AppState>,
    person: PersonSession,
    Query(q): Query<TargetQuery>,
) -> ApiResult<Json<ApplicationForm>> {
    let a = applicant_for_form(&app, &person).await?;
    let p = app.cases.prepare(&q.target()?).await?;
    let prefill = Cases::prefill(&p.form, &a);
    Ok(Json(ApplicationForm {
        title: p.title.clone(),
        lead_department_name: p.lead_department_name.clone(),
        promised_days: p.promised_days,
        instant: p.instant,
        form: p.form.clone(),
        materials: p.materials.clone(),
        prefill,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewApplication {
    /// `item` or `bundle`.
    pub kind: String,
    /// Implementation code or bundle code.
    pub code: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Values,
    pub delivery: Option<Delivery>,
    pub delivery_address: Option<String>,
}

fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Start an application (a draft). Send `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/applications", tag = "cases", request_body = NewApplication,
    responses((status = 201, body = CaseView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_application(
    State(app): State<AppState>,
    person: PersonSession,
    headers: HeaderMap,
    ApiJson(r): ApiJson<NewApplication>,
) -> ApiResult<Response> {
    let a = applicant(&person, AgentScope::Apply)?;
    let target = Target::parse(&r.kind, &r.code).ok_or_else(|| AppError::bad_request("BAD_TARGET", "kind 应为 item 或 bundle"))?;
    let input = ApplicationInput { values: r.values, delivery: r.delivery, delivery_address: r.delivery_address };
    let case = app.cases.create_draft(&a, &target, &input, idempotency_key(&headers).as_deref()).await?;
    let view = app.cases.view(case).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct FormUpdate {
    #[schema(value_type = Object)]
    pub values: Values,
    pub delivery: Option<Delivery>,
    pub delivery_address: Option<String>,
    /// The version you last read.
    pub version: i64,
}

/// Save the form of a draft or of a case being corrected.
#[utoipa::path(put, path = "/api/v1/cases/{id}/form", tag = "cases", request_body = FormUpdate,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn save_form(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<FormUpdate>,
) -> ApiResult<Json<CaseView>> {
    let a = applicant(&person, AgentScope::Apply)?;
    let input = ApplicationInput { values: r.values, delivery: r.delivery, delivery_address: r.delivery_address };
    let case = app.cases.save_form(&a, &id, &input, r.version).await?;
    Ok(Json(app.cases.view(case).await?))
}

/// Read a multipart upload: the material's name and one file.
pub async fn read_upload(mut m: Multipart) -> Result<(Option<String>, String, String, Vec<u8>), AppError> {
    let (mut csrf, mut name, mut file_name, mut bytes) = (None, String::new(), String::new(), None);
    let too_big = || AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE", "文件不能超过10MB");
    while let Some(field) = m.next_field().await.map_err(|_| too_big())? {
        match field.name().unwrap_or("") {
            "csrf_token" => csrf = Some(field.text().await.map_err(|_| too_big())?),
            "name" => name = field.text().await.map_err(|_| too_big())?,
            "file" => {
                file_name = field.file_name().unwrap_or("").to_string();
                bytes = Some(field.bytes().await.map_err(|_| too_big())?.to_vec());
            }
            _ => {}
        }
    }
    let bytes = bytes.ok_or_else(|| AppError::from(CaseError::BadMaterial("请选择要上传的文件".into())))?;
    Ok((csrf, name, file_name, bytes))
}

/// Upload a material (multipart fields `name` and `file`; PDF, JPG or PNG up to 10 MB).
#[utoipa::path(post, path = "/api/v1/cases/{id}/materials", tag = "cases",
    responses((status = 201, body = MaterialInfo), (status = 422, body = ErrorBody)))]
pub async fn upload_material(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
    m: Multipart,
) -> ApiResult<Response> {
    let a = applicant(&person, AgentScope::Apply)?;
    let (_, name, file_name, bytes) = read_upload(m).await?;
    let info = app.cases.attach_material(&a, &id, &name, &file_name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// A stored material as a download (never rendered inline).
fn material_response(info: &MaterialInfo, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", crate::pages::urlencode(&info.file_name));
    (
        [
            (header::CONTENT_TYPE, info.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".into()),
            (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".into()),
        ],
        bytes,
    )
        .into_response()
}

/// Download one of your case's materials.
#[utoipa::path(get, path = "/api/v1/cases/{id}/materials/{name}", tag = "cases", responses((status = 200, description = "The file"), (status = 404, body = ErrorBody)))]
pub async fn download_material(
    State(app): State<AppState>,
    person: PersonSession,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(owner_material(&app, &person, &id, &name).await?)
}

/// One of the applicant's own case materials, as a download (API and pages).
pub async fn owner_material(app: &AppState, person: &PersonSession, id: &str, name: &str) -> Result<Response, AppError> {
    let a = applicant(person, AgentScope::View)?;
    let case = app.cases.case_for_owner(&a, id).await?;
    let (info, bytes) = app.cases.material(&case, name).await?;
    Ok(material_response(&info, bytes))
}

/// Submit a draft. Failing pre-checks come back at once as `PRECHECK_FAILED` with `details`.
/// Submitting an already submitted case returns it unchanged.
#[utoipa::path(post, path = "/api/v1/cases/{id}/submit", tag = "cases",
    responses((status = 200, body = CaseView), (status = 422, body = ErrorBody)))]
pub async fn submit(State(app): State<AppState>, person: PersonSession, Path(id): Path<String>) -> ApiResult<Json<CaseView>> {
    let a = applicant(&person, AgentScope::Apply)?;
    let case = app.cases.submit(&a, &id).await?;
    Ok(Json(app.cases.view(case).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct VersionOnly {
    pub version: i64,
}

/// Resubmit after a correction request (save the form and upload materials first).
#[utoipa::path(post, path = "/api/v1/cases/{id}/resubmit", tag = "cases", request_body = VersionOnly,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resubmit(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<VersionOnly>,
) -> ApiResult<Json<CaseView>> {
    let a = applicant(&person, AgentScope::Apply)?;
    let case = app.cases.resubmit(&a, &id, r.version).await?;
    Ok(Json(app.cases.view(case).await?))
}

/// Withdraw before acceptance.
#[utoipa::path(post, path = "/api/v1/cases/{id}/withdraw", tag = "cases", request_body = VersionOnly,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn withdraw(
    State(app): State<AppState>,
    person: PersonSession,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<VersionOnly>,
) -> ApiResult<Json<CaseView>> {
    let a = applicant(&person, AgentScope::Apply)?;
    let case = app.cases.withdraw(&a, &id, r.version).await?;
    Ok(Json(app.cases.view(case).await?))
}

/// Your cases (or your business's, when acting for one), newest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", responses((status = 200, body = Vec<CaseSummary>)))]
pub async fn my_cases(State(app): State<AppState>, person: PersonSession) -> ApiResult<Json<Vec<CaseSummary>>> {
    let a = applicant(&person, AgentScope::View)?;
    Ok(Json(app.cases.cases_of(&a, 200).await?))
}

/// One of your cases with its materials and timeline.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", responses((status = 200, body = CaseView), (status = 404, body = ErrorBody)))]
pub async fn my_case(State(app): State<AppState>, person: PersonSession, Path(id): Path<String>) -> ApiResult<Json<CaseView>> {
    let a = applicant(&person, AgentScope::View)?;
    let case = app.cases.case_for_owner(&a, &id).await?;
    Ok(Json(app.cases.view(case).await?))
}

/// Your in-app messages, newest first.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "cases", responses((status = 200, body = Vec<InboxMessage>)))]
pub async fn my_inbox(State(app): State<AppState>, person: PersonSession) -> ApiResult<Json<Vec<InboxMessage>>> {
    Ok(Json(inbox::list(&app.db, &person.person.subject, 100).await?))
}

/// Mark every message read.
#[utoipa::path(post, path = "/api/v1/inbox/read", tag = "cases", responses((status = 204)))]
pub async fn read_inbox(State(app): State<AppState>, person: PersonSession) -> ApiResult<StatusCode> {
    inbox::mark_all_read(&app.db, &person.person.subject).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- staff -----

#[derive(Deserialize, ToSchema, utoipa::IntoParams, Default)]
pub struct QueueQuery {
    /// A case status key (e.g. `submitted`, `in_progress`).
    pub status: Option<String>,
    /// Text in the title or case number.
    pub q: Option<String>,
    /// `true`: only yellow and red.
    pub urgent: Option<bool>,
}

impl QueueQuery {
    pub fn filter(&self) -> QueueFilter {
        QueueFilter {
            status: self.status.as_deref().and_then(CaseStatus::parse),
            q: self.q.clone(),
            urgent_only: self.urgent.unwrap_or(false),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QueueRow {
    #[serde(flatten)]
    pub case: CaseSummary,
    pub applicant_name_masked: String,
    pub urgency: Urgency,
}

/// Work waiting for you: acceptance and delivery at the window, your department's steps.
#[utoipa::path(get, path = "/api/v1/staff/cases", tag = "cases", params(QueueQuery), responses((status = 200, body = Vec<QueueRow>)))]
pub async fn queue(State(app): State<AppState>, staff: StaffSession, Query(q): Query<QueueQuery>) -> ApiResult<Json<Vec<QueueRow>>> {
    staff.require(Permission::Workbench)?;
    let rows = app.cases.queue(&staff.staff, &q.filter()).await?;
    Ok(Json(
        rows.into_iter().map(|(case, urgency)| QueueRow { applicant_name_masked: case.applicant_name_masked(), case, urgency }).collect(),
    ))
}

/// A case as staff see it: personal data masked.
#[derive(Serialize, ToSchema)]
pub struct StaffCaseView {
    #[serde(flatten)]
    pub view: CaseView,
    pub applicant_name_masked: String,
    pub applicant_id_masked: String,
    pub phone_masked: String,
    /// Materials satisfied by e-licences, verified now (signature, seal, status, validity).
    pub licence_checks: Vec<LicenceCheck>,
}

/// A material filled by an e-licence and what verifying it found.
#[derive(Serialize, ToSchema)]
pub struct LicenceCheck {
    pub material: String,
    pub identifier: String,
    pub report: Option<yiwang_licences::VerifyReport>,
}

pub async fn staff_view(app: &AppState, staff: &StaffSession, id: &str) -> Result<StaffCaseView, AppError> {
    let case = app.cases.case_for_staff(&staff.staff, id).await?;
    // Opening a case shows the applicant's data: the applicant sees this read in their
    // access records (数据访问记录).
    app.exchange
        .record_read(yiwang_exchange::ReadRecord {
            staff: staff.staff.username.clone(),
            department: staff.staff.department.clone().unwrap_or_default(),
            subject: case.applicant_id_number.clone(),
            case_number: case.case_number.clone(),
            holder_department: case.lead_department.clone(),
            purpose: format!("办理“{}”", case.title),
        })
        .await?;
    let (name, idm, phone) = (case.applicant_name_masked(), case.applicant_id_masked(), case.phone_masked());
    let view = app.cases.view(case).await?;
    let mut licence_checks = Vec::new();
    for m in &view.materials {
        if let Some(l) = &m.licence_id {
            let report = match app.licences.verify(l).await {
                Ok(r) => Some(r),
                Err(yiwang_licences::LicenceError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            licence_checks.push(LicenceCheck { material: m.name.clone(), identifier: l.clone(), report });
        }
    }
    Ok(StaffCaseView { view, applicant_name_masked: name, applicant_id_masked: idm, phone_masked: phone, licence_checks })
}

/// A case of your department (or any, for supervisors).
#[utoipa::path(get, path = "/api/v1/staff/cases/{id}", tag = "cases", responses((status = 200, body = StaffCaseView), (status = 404, body = ErrorBody)))]
pub async fn staff_case(State(app): State<AppState>, staff: StaffSession, Path(id): Path<String>) -> ApiResult<Json<StaffCaseView>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(staff_view(&app, &staff, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ActionRequest {
    #[serde(flatten)]
    pub action: Action,
    /// The version you last read; a stale one gets `STALE_VERSION`.
    pub version: i64,
}

/// Act on a case: accept, not_accept, request_correction, approve, reject, return, deliver.
#[utoipa::path(post, path = "/api/v1/staff/cases/{id}/actions", tag = "cases", request_body = ActionRequest,
    responses((status = 200, body = StaffCaseView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ActionRequest>,
) -> ApiResult<Json<StaffCaseView>> {
    staff.require(Permission::Workbench)?;
    app.cases.act_from(&staff.staff, &staff.source, &id, r.version, &r.action).await?;
    Ok(Json(staff_view(&app, &staff, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct OfflineApplicant {
    /// `person` or `business`.
    pub kind: String,
    pub name: String,
    /// Citizen ID number, or the credit code for a business.
    pub id_number: String,
    /// For a business: the person at the window.
    pub agent_name: Option<String>,
    pub agent_id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct WindowApplication {
    pub kind: String,
    pub code: String,
    pub applicant: OfflineApplicant,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Values,
    pub delivery: Option<Delivery>,
    pub delivery_address: Option<String>,
    /// Finish an on-the-spot item (即办件) at once.
    #[serde(default)]
    pub on_the_spot: bool,
}

/// Check the codes of an applicant recorded at the window.
pub fn offline_applicant(o: &OfflineApplicant) -> Result<Applicant, AppError> {
    use yiwang_core::codes::{CitizenId, CreditCode};
    let name = o.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CaseError::InvalidField { field: "name".into(), message: "请填写申请人姓名或名称".into() }.into());
    }
    let kind = ApplicantKind::parse(&o.kind).ok_or_else(|| AppError::bad_request("BAD_APPLICANT", "申请人类型应为 person 或 business"))?;
    let phone = o.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(String::from);
    if phone.as_deref().is_some_and(|p| p.len() != 11 || !p.starts_with('1') || !p.chars().all(|c| c.is_ascii_digit())) {
        return Err(CaseError::InvalidField { field: "phone".into(), message: "应为11位手机号码".into() }.into());
    }
    match kind {
        ApplicantKind::Person => {
            let id = CitizenId::parse(&o.id_number).map_err(CaseError::from)?;
            Ok(Applicant {
                account: None,
                kind,
                name: name.into(),
                id_number: id.as_str().into(),
                person_name: name.into(),
                person_id_number: id.as_str().into(),
                phone,
                assurance: 3,
                address: None,
            })
        }
        ApplicantKind::Business => {
            let code = CreditCode::parse(&o.id_number).map_err(CaseError::from)?;
            let agent = o.agent_name.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
                AppError::from(CaseError::InvalidField { field: "agent_name".into(), message: "请填写经办人姓名".into() })
            })?;
            let agent_id = CitizenId::parse(o.agent_id_number.as_deref().unwrap_or("")).map_err(CaseError::from)?;
            Ok(Applicant {
                account: None,
                kind,
                name: name.into(),
                id_number: code.as_str().into(),
                person_name: agent.into(),
                person_id_number: agent_id.as_str().into(),
                phone,
                assurance: 3,
                address: None,
            })
        }
    }
}

/// 一窗受理: record and accept an application made in person at the window.
#[utoipa::path(post, path = "/api/v1/staff/window-applications", tag = "cases", request_body = WindowApplication,
    responses((status = 201, body = StaffCaseView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn window_apply(State(app): State<AppState>, staff: StaffSession, ApiJson(r): ApiJson<WindowApplication>) -> ApiResult<Response> {
    staff.require(Permission::Workbench)?;
    let a = offline_applicant(&r.applicant)?;
    let target = Target::parse(&r.kind, &r.code).ok_or_else(|| AppError::bad_request("BAD_TARGET", "kind 应为 item 或 bundle"))?;
    let input = ApplicationInput { values: r.values, delivery: r.delivery, delivery_address: r.delivery_address };
    let case = app.cases.window_apply(&staff.staff, &a, &target, &input, r.on_the_spot, &staff.source).await?;
    Ok((StatusCode::CREATED, Json(staff_view(&app, &staff, &case.case_id).await?)).into_response())
}

/// Download a material of a case you may see.
#[utoipa::path(get, path = "/api/v1/staff/cases/{id}/materials/{name}", tag = "cases", responses((status = 200, description = "The file")))]
pub async fn staff_material(
    State(app): State<AppState>,
    staff: StaffSession,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(staff_material_download(&app, &staff, &id, &name).await?)
}

/// A material of a case the staff member may see, as a download; every read is audited.
pub async fn staff_material_download(app: &AppState, staff: &StaffSession, id: &str, name: &str) -> Result<Response, AppError> {
    staff.require(Permission::Workbench)?;
    let case = app.cases.case_for_staff(&staff.staff, id).await?;
    let (info, bytes) = app.cases.material(&case, name).await?;
    app.identity.audit(&staff.staff.username, "case.material.read", id, name, &staff.source).await?;
    if let Some(l) = &info.licence_id {
        // The holder sees who read their licence, and for which case.
        app.licences.record_staff_use(&staff.staff, l, id).await?;
    }
    Ok(material_response(&info, bytes))
}

/// An item's workflow definition (form, pre-check rules, steps, joint review) as stored, or
/// `null` when the item uses the defaults.
#[utoipa::path(get, path = "/api/v1/items/{code}/workflow", tag = "cases", responses((status = 200, body = Option<yiwang_cases::WorkflowDef>)))]
pub async fn get_workflow(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(code): Path<String>,
) -> ApiResult<Json<Option<yiwang_cases::WorkflowDef>>> {
    staff.require(Permission::Workbench)?;
    Ok(Json(app.cases.definition(&code).await?))
}

/// Replace an item's workflow definition (department administrators of the item's department,
/// platform administrators). Checked before it is stored; running cases keep the steps they
/// started with.
#[utoipa::path(put, path = "/api/v1/items/{code}/workflow", tag = "cases", request_body = yiwang_cases::WorkflowDef,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn put_workflow(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(code): Path<String>,
    ApiJson(def): ApiJson<yiwang_cases::WorkflowDef>,
) -> ApiResult<StatusCode> {
    staff.require(Permission::ManageCatalog)?;
    app.cases.set_definition(&staff.staff, &code, &def).await?;
    app.identity.audit(&staff.staff.username, "item.workflow", &code, "updated", &staff.source).await?;
    Ok(StatusCode::NO_CONTENT)
}
