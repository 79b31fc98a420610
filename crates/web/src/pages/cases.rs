//! Applicant pages (我的办件): start an application from a guide, fill the form, upload
//! materials, submit, correct, follow the timeline, read messages. Works without JavaScript.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use yiwang_cases::form::{Field, FieldKind};
use yiwang_cases::{
    ApplicationInput, Case, CaseError, CaseStatus, CaseSummary, CaseView, Cases, Delivery, FormDef, MaterialSlot, Problem, Target, Values,
};
use yiwang_identity::{tokens_equal, AgentScope, IdentityError};
use yiwang_notify::inbox::{self, InboxMessage};

use super::{field, render, Chrome, PageResult};
use crate::api_cases::{applicant, read_upload, TargetQuery};
use crate::auth::{PersonForm, PersonSession};
use crate::error::AppError;
use crate::AppState;

/// One form field, ready for the template.
pub struct FieldView {
    pub key: String,
    pub label: String,
    pub input_type: &'static str,
    pub textarea: bool,
    pub select: bool,
    pub checkbox: bool,
    pub required: bool,
    pub options: Vec<String>,
    pub value: String,
    pub help: String,
    /// "only when X is Y" for conditional fields (shown as text: no script needed).
    pub condition: Option<String>,
    pub error: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
}

pub fn field_views(form: &FormDef, values: &Values, problems: &[Problem], en: bool) -> Vec<FieldView> {
    form.fields.iter().map(|f| field_view(form, f, values, problems, en)).collect()
}

fn field_view(form: &FormDef, f: &Field, values: &Values, problems: &[Problem], en: bool) -> FieldView {
    let input_type = match f.kind {
        FieldKind::Number => "number",
        FieldKind::Date => "date",
        FieldKind::Phone => "tel",
        FieldKind::Email => "email",
        _ => "text",
    };
    let condition = f.show_if.as_ref().map(|s| {
        let label = form.field(&s.field).map(|o| o.label(en).to_string()).unwrap_or_else(|| s.field.clone());
        format!("{label} = {}", s.equals)
    });
    let fmt = |n: Option<f64>| n.map(|x| if x.fract() == 0.0 { format!("{}", x as i64) } else { x.to_string() });
    let numeric = f.kind == FieldKind::Number;
    FieldView {
        key: f.key.clone(),
        label: f.label(en).to_string(),
        input_type,
        textarea: f.kind == FieldKind::Textarea,
        select: f.kind == FieldKind::Select,
        checkbox: f.kind == FieldKind::Checkbox,
        // Conditional fields cannot be `required` in HTML without script; the server checks.
        required: f.required && f.show_if.is_none(),
        options: f.options.clone(),
        value: values.get(&f.key).cloned().unwrap_or_default(),
        help: f.help.clone(),
        condition,
        error: problems.iter().find(|p| p.target == f.key).map(|p| p.message.clone()),
        min: if numeric { fmt(f.min) } else { None },
        max: if numeric { fmt(f.max) } else { None },
    }
}

/// Form values posted as `f_<key>` pairs.
pub fn posted_values(pairs: &[(String, String)]) -> Values {
    pairs.iter().filter_map(|(k, v)| k.strip_prefix("f_").map(|k| (k.to_string(), v.clone()))).collect()
}

pub fn posted_delivery(pairs: &[(String, String)]) -> (Option<Delivery>, Option<String>) {
    (Delivery::parse(field(pairs, "delivery")), Some(field(pairs, "delivery_address").to_string()))
}

pub struct DeliveryOption {
    pub key: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub fn delivery_options(current: Delivery, en: bool) -> Vec<DeliveryOption> {
    Delivery::ALL.iter().map(|d| DeliveryOption { key: d.key(), label: d.label(en), checked: *d == current }).collect()
}

// ---------- start ----------

#[derive(Template)]
#[template(path = "cases/apply.html")]
struct ApplyPage {
    c: Chrome,
    title: String,
    department: String,
    promised_days: u32,
    target_kind: &'static str,
    target_code: String,
    fields: Vec<FieldView>,
    materials: Vec<MaterialSlot>,
    deliveries: Vec<DeliveryOption>,
    error: Option<String>,
    idempotency_key: String,
}

pub async fn apply_form(State(app): State<AppState>, c: Chrome, person: PersonSession, Query(q): Query<TargetQuery>) -> PageResult {
    let a = crate::api_cases::applicant_for_form(&app, &person).await?;
    let target = q.target()?;
    let p = app.cases.prepare(&target).await?;
    let values = Cases::prefill(&p.form, &a);
    let (kind, code) = match &target {
        Target::Item(c) => ("item", c.clone()),
        Target::Bundle(c) => ("bundle", c.clone()),
    };
    let en = c.en;
    render(ApplyPage {
        title: p.title.clone(),
        department: p.lead_department_name.clone(),
        promised_days: p.promised_days,
        target_kind: kind,
        target_code: code,
        fields: field_views(&p.form, &values, &[], en),
        materials: p.materials.clone(),
        deliveries: delivery_options(Delivery::Electronic, en),
        error: None,
        idempotency_key: uuid::Uuid::new_v4().simple().to_string(),
        c,
    })
}

pub async fn apply(State(app): State<AppState>, PersonForm { person, form }: PersonForm<Vec<(String, String)>>) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    let target =
        Target::parse(field(&form, "kind"), field(&form, "code")).ok_or_else(|| AppError::bad_request("BAD_TARGET", "申请对象无效"))?;
    let (delivery, delivery_address) = posted_delivery(&form);
    let input = ApplicationInput { values: posted_values(&form), delivery, delivery_address };
    // The form carries a one-time key so a double click does not make two drafts.
    let key = Some(field(&form, "idempotency_key")).filter(|k| !k.is_empty());
    let case = app.cases.create_draft(&a, &target, &input, key).await?;
    Ok(Redirect::to(&format!("/cases/{}", case.case_id)).into_response())
}

// ---------- list and detail ----------

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    c: Chrome,
    cases: Vec<CaseSummary>,
}

pub async fn my_cases(State(app): State<AppState>, c: Chrome, person: PersonSession) -> PageResult {
    let a = applicant(&person, AgentScope::View)?;
    let cases = app.cases.cases_of(&a, 200).await?;
    render(ListPage { c, cases })
}

#[derive(Template)]
#[template(path = "cases/case.html")]
struct CasePage {
    c: Chrome,
    v: CaseView,
    editable: bool,
    fields: Vec<FieldView>,
    materials: Vec<MaterialRow>,
    deliveries: Vec<DeliveryOption>,
    problems: Vec<Problem>,
    notice: Option<String>,
    /// 好差评: the applicant's rating once given, or the form while the case is finished.
    rating: Option<yiwang_oversight::Rating>,
    can_rate: bool,
    rate_action: String,
    rating_error: Option<String>,
    /// 缴费 and 邮寄 of the case, when there are any.
    payment: Option<crate::api_payments::PaymentView>,
    shipment: Option<yiwang_payments::Shipment>,
}

pub struct MaterialRow {
    pub slot: MaterialSlot,
    pub file: Option<yiwang_cases::MaterialInfo>,
}

async fn case_page(app: &AppState, c: Chrome, case: Case, problems: Vec<Problem>, notice: Option<String>) -> PageResult {
    let editable = matches!(case.status, CaseStatus::Draft | CaseStatus::Correction);
    let target = Target::parse(&case.target_kind, &case.target_code).ok_or(CaseError::NotFound)?;
    let p = app.cases.prepare(&target).await?;
    let v = app.cases.view(case).await?;
    let materials = p
        .materials
        .iter()
        .cloned()
        .map(|slot| MaterialRow { file: v.materials.iter().find(|m| m.name == slot.name).cloned(), slot })
        .collect();
    let en = c.en;
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let rating = app.oversight.rating_of_case(&v.case.case_id).await?;
    let finished = matches!(v.case.status, CaseStatus::Concluded | CaseStatus::Delivered | CaseStatus::NotAccepted);
    let payment = crate::api_payments::payment_view(app, &v.case.case_id).await?;
    let shipment = app.payments.shipment_of_case(&v.case.case_id).await?;
    let mut res = render(CasePage {
        payment,
        shipment,
        can_rate: finished && rating.is_none(),
        rate_action: format!("/cases/{}/rating", v.case.case_id),
        rating,
        rating_error: None,
        fields: field_views(&p.form, &v.case.form, &problems, en),
        deliveries: delivery_options(v.case.delivery, en),
        editable,
        materials,
        problems,
        notice,
        v,
        c,
    })?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(serde::Deserialize)]
pub struct CaseQuery {
    /// Why a rating was refused (after the rating form's redirect).
    pub rating_error: Option<String>,
}

pub async fn my_case(
    State(app): State<AppState>,
    c: Chrome,
    person: PersonSession,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> PageResult {
    let a = applicant(&person, AgentScope::View)?;
    let case = app.cases.case_for_owner(&a, &id).await?;
    let notice = q.rating_error.map(|e| e.chars().take(200).collect::<String>());
    case_page(&app, c, case, vec![], notice).await
}

fn version_of(form: &[(String, String)]) -> Result<i64, AppError> {
    field(form, "version").parse().map_err(|_| AppError::bad_request("BAD_FORM", "缺少版本号，请刷新页面后重试"))
}

/// Save the form; with `then=submit` submit right after (one button for the common case).
pub async fn save(
    State(app): State<AppState>,
    c: Chrome,
    Path(id): Path<String>,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    let (delivery, delivery_address) = posted_delivery(&form);
    let input = ApplicationInput { values: posted_values(&form), delivery, delivery_address };
    let case = app.cases.save_form(&a, &id, &input, version_of(&form)?).await?;
    let then = field(&form, "then");
    let result = match (then, case.status) {
        ("submit", CaseStatus::Draft) => app.cases.submit(&a, &id).await,
        ("submit", CaseStatus::Correction) => app.cases.resubmit(&a, &id, case.version).await,
        _ => Ok(case),
    };
    match result {
        Ok(case) if then == "submit" => Ok(Redirect::to(&format!("/cases/{}", case.case_id)).into_response()),
        Ok(case) => {
            let saved = if c.en { "Saved" } else { "已保存" };
            case_page(&app, c, case, vec![], Some(saved.into())).await
        }
        Err(CaseError::PrecheckFailed(p)) => {
            let case = app.cases.case_for_owner(&a, &id).await?;
            case_page(&app, c, case, p, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Multipart upload of one material, CSRF token in the form.
pub async fn upload(State(app): State<AppState>, Path(id): Path<String>, req: Request) -> PageResult {
    let (mut parts, body) = req.into_parts();
    let person = <PersonSession as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &app)
        .await
        .map_err(|_| AppError::from(IdentityError::Unauthenticated))?;
    let multipart = Multipart::from_request(Request::from_parts(parts, body), &app)
        .await
        .map_err(|_| AppError::bad_request("BAD_FORM", "上传内容无效"))?;
    let (csrf, name, file_name, bytes) = read_upload(multipart).await?;
    if !tokens_equal(csrf.as_deref().unwrap_or(""), &person.session.csrf_token) {
        return Err(AppError::from(IdentityError::CsrfMismatch).into());
    }
    let a = applicant(&person, AgentScope::Apply)?;
    app.cases.attach_material(&a, &id, &name, &file_name, &bytes).await?;
    Ok(Redirect::to(&format!("/cases/{id}#materials")).into_response())
}

pub async fn withdraw(
    State(app): State<AppState>,
    Path(id): Path<String>,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    app.cases.withdraw(&a, &id, version_of(&form)?).await?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

pub async fn material(State(app): State<AppState>, person: PersonSession, Path((id, name)): Path<(String, String)>) -> PageResult {
    Ok(crate::api_cases::owner_material(&app, &person, &id, &name).await?)
}

// ---------- decision document ----------

#[derive(Template)]
#[template(path = "cases/decision.html")]
pub struct DecisionPage {
    pub c: Chrome,
    pub v: CaseView,
    pub heading: &'static str,
    pub applicant_name: String,
    pub applicant_id: String,
    pub rejected: bool,
    /// (department, reason) of refusals.
    pub reasons: Vec<(String, String)>,
}

/// The decision document (准予/不予决定书) of a concluded case, as a print view.
pub fn decision_page(c: Chrome, v: CaseView, applicant_name: String) -> PageResult {
    let outcome = v.case.outcome.ok_or(CaseError::WrongState("未办结"))?;
    let heading = match outcome {
        yiwang_cases::Outcome::Approved => "准予办理决定书",
        yiwang_cases::Outcome::Rejected => "不予办理决定书",
        yiwang_cases::Outcome::Partial => "办理决定书",
    };
    let reasons = v
        .timeline
        .iter()
        .filter(|e| e.kind == yiwang_cases::EventKind::BranchRejected)
        .map(|e| (e.department_name.clone().unwrap_or_default(), e.note.clone()))
        .collect();
    render(DecisionPage {
        heading,
        applicant_id: v.case.applicant_id_masked(),
        applicant_name,
        rejected: outcome != yiwang_cases::Outcome::Approved,
        reasons,
        v,
        c,
    })
}

pub async fn decision(State(app): State<AppState>, c: Chrome, person: PersonSession, Path(id): Path<String>) -> PageResult {
    let a = applicant(&person, AgentScope::View)?;
    let case = app.cases.case_for_owner(&a, &id).await?;
    // The applicant's own document carries their full name.
    let name = case.applicant_name.clone();
    decision_page(c, app.cases.view(case).await?, name)
}

// ---------- inbox ----------

#[derive(Template)]
#[template(path = "cases/inbox.html")]
struct InboxPage {
    c: Chrome,
    messages: Vec<InboxMessage>,
}

pub async fn inbox_page(State(app): State<AppState>, c: Chrome, person: PersonSession) -> PageResult {
    let messages = inbox::list(&app.db, &person.person.subject, 100).await?;
    render(InboxPage { c, messages })
}

pub async fn inbox_read(State(app): State<AppState>, PersonForm { person, .. }: PersonForm<Vec<(String, String)>>) -> PageResult {
    inbox::mark_all_read(&app.db, &person.person.subject).await?;
    Ok(Redirect::to("/inbox").into_response())
}
