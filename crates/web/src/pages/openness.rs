//! Openness pages: 政务公开 (documents with interpretations, feed, disclosure on application),
//! 数据开放 (datasets, previews, downloads, ratings, requests) and the staff pages that publish
//! documents and answer requests. All work without JavaScript.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use yiwang_identity::{AgentScope, Permission};
use yiwang_openness::disclosure::RequestInput;
use yiwang_openness::opendata::{DatasetRequestInput, SearchParams, GROUPS};
use yiwang_openness::{
    DatasetRequest, DatastoreResult, DisclosureRequest, DocKind, Document, DocumentInput, Interpretation, OpenError, Package,
};

use super::{field, render, Chrome, PageResult};
use crate::api_cases::applicant;
use crate::api_openness::DocQuery;
use crate::auth::{CsrfForm, PersonForm, PersonSession, StaffSession};
use crate::AppState;

fn client_error(e: &OpenError) -> bool {
    matches!(e, OpenError::Invalid { .. } | OpenError::WrongState(_) | OpenError::Duplicate(_))
}

#[derive(Template)]
#[template(path = "openness/documents.html")]
struct DocumentsPage {
    c: Chrome,
    docs: Vec<Document>,
    total: usize,
    page: usize,
    q: String,
    kind: String,
    kinds: Vec<(&'static str, &'static str)>,
}

/// 政务公开: published documents, searchable by words and filtered by kind.
pub async fn documents(State(app): State<AppState>, c: Chrome, Query(q): Query<DocQuery>) -> PageResult {
    let page = q.page.unwrap_or(1).max(1);
    let (docs, total) = app.openness.public_documents(&q.filter(), page, 20).await?;
    let kinds = DocKind::ALL.iter().map(|k| (k.key(), k.label(c.en))).collect();
    render(DocumentsPage { docs, total, page, q: q.q.unwrap_or_default(), kind: q.kind.unwrap_or_default(), kinds, c })
}

#[derive(Template)]
#[template(path = "openness/document.html")]
struct DocumentPage {
    c: Chrome,
    d: Document,
    in_force: bool,
}

pub async fn document(State(app): State<AppState>, c: Chrome, Path(id): Path<String>) -> PageResult {
    let d = app.openness.public_document(&id).await?;
    let in_force = d.in_force(&yiwang_cases::china_date(app.cases.now()).to_string());
    render(DocumentPage { c, d, in_force })
}

#[derive(Template)]
#[template(path = "openness/apply.html")]
struct ApplyPage {
    c: Chrome,
    departments: Vec<(String, String)>,
    mine: Vec<DisclosureRequest>,
    error: Option<String>,
}

async fn apply_page(app: &AppState, c: Chrome, person: &PersonSession, error: Option<String>) -> PageResult {
    let a = applicant(person, AgentScope::View)?;
    let departments = app.catalog.departments().await?.into_iter().map(|d| (d.credit_code, d.name)).collect();
    let mine = app.openness.my_requests(&a).await?;
    let failed = error.is_some();
    super::render_refused(ApplyPage { c, departments, mine, error }, failed, axum::http::StatusCode::UNPROCESSABLE_ENTITY)
}

/// 依申请公开: the form and the person's requests.
pub async fn apply_form(State(app): State<AppState>, c: Chrome, person: PersonSession) -> PageResult {
    apply_page(&app, c, &person, None).await
}

pub async fn apply(State(app): State<AppState>, c: Chrome, PersonForm { person, form }: PersonForm<Vec<(String, String)>>) -> PageResult {
    let a = applicant(&person, AgentScope::Apply)?;
    let input = RequestInput {
        department_code: field(&form, "department_code").into(),
        description: field(&form, "description").into(),
        purpose: field(&form, "purpose").into(),
    };
    match app.openness.request_disclosure(&a, &input).await {
        Ok(r) => Ok(Redirect::to(&format!("/gk/requests/{}", r.request_id)).into_response()),
        Err(e) if client_error(&e) => apply_page(&app, c, &person, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "openness/request.html")]
struct RequestPage {
    c: Chrome,
    r: DisclosureRequest,
    overdue: bool,
}

pub async fn my_request(State(app): State<AppState>, c: Chrome, person: PersonSession, Path(id): Path<String>) -> PageResult {
    let a = applicant(&person, AgentScope::View)?;
    let r = app.openness.my_request(&a, &id).await?;
    let overdue = app.openness.overdue(&r);
    render(RequestPage { c, r, overdue })
}

// ---------- open data ----------

#[derive(Template)]
#[template(path = "openness/datasets.html")]
struct DatasetsPage {
    c: Chrome,
    results: Vec<Package>,
    count: usize,
    q: String,
    group: String,
    groups: Vec<(&'static str, &'static str)>,
    page: usize,
    pages: usize,
}

#[derive(Deserialize)]
pub struct DataQuery {
    pub q: Option<String>,
    pub group: Option<String>,
    pub page: Option<usize>,
}

/// 数据开放: datasets by words and theme.
pub async fn datasets(State(app): State<AppState>, c: Chrome, Query(q): Query<DataQuery>) -> PageResult {
    let page = q.page.unwrap_or(1).max(1);
    let group = q.group.clone().filter(|g| GROUPS.iter().any(|x| x.0 == g));
    let r = app.openness.package_search(&SearchParams {
        q: q.q.clone(),
        fq: group.as_ref().map(|g| format!("groups:{g}")),
        rows: Some(20),
        start: Some((page - 1) * 20),
        ..Default::default()
    })?;
    let pages = r.count.div_ceil(20).max(1);
    render(DatasetsPage {
        results: r.results,
        count: r.count,
        q: q.q.unwrap_or_default(),
        group: group.unwrap_or_default(),
        groups: GROUPS.to_vec(),
        page,
        pages,
        c,
    })
}

/// A resource with its first rows for the preview.
pub struct Preview {
    pub resource: yiwang_openness::Resource,
    pub table: Option<DatastoreResult>,
}

#[derive(Template)]
#[template(path = "openness/dataset.html")]
struct DatasetPage {
    c: Chrome,
    p: Package,
    previews: Vec<Preview>,
    signed_in: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

pub async fn dataset(State(app): State<AppState>, c: Chrome, Path(name): Path<String>, Query(n): Query<NoticeQuery>) -> PageResult {
    let p = app.openness.package(&name)?;
    let mut previews = Vec::new();
    for r in &p.resources {
        let table = if r.datastore_active {
            Some(app.openness.datastore_search(&r.id, &Default::default(), None, 10, 0, None).await?)
        } else {
            None
        };
        previews.push(Preview { resource: r.clone(), table });
    }
    let signed_in = c.user_home == "/account";
    render(DatasetPage { c, p, previews, signed_in, notice: n.notice.map(|x| x.chars().take(100).collect()) })
}

pub async fn rate(
    State(app): State<AppState>,
    Path(name): Path<String>,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::View)?;
    let level = field(&form, "level").parse().unwrap_or(0);
    match app.openness.rate_dataset(&a, &name, level).await {
        Ok(_) => Ok(Redirect::to(&format!("/data/{name}?notice={}", super::urlencode("感谢评分"))).into_response()),
        Err(e) if client_error(&e) => {
            Ok(Redirect::to(&format!("/data/{name}?notice={}", super::urlencode(&e.to_string()))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "openness/requests.html")]
struct DataRequestsPage {
    c: Chrome,
    requests: Vec<DatasetRequest>,
    error: Option<String>,
}

/// 数据需求: what people asked to be opened, and the form.
pub async fn data_requests(State(app): State<AppState>, c: Chrome) -> PageResult {
    let requests = app.openness.dataset_requests().await?;
    render(DataRequestsPage { c, requests, error: None })
}

pub async fn request_data(
    State(app): State<AppState>,
    c: Chrome,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let a = applicant(&person, AgentScope::View)?;
    let input =
        DatasetRequestInput { title: field(&form, "title").into(), description: field(&form, "description").into(), organization: None };
    match app.openness.request_dataset(&a, &input).await {
        Ok(_) => Ok(Redirect::to("/data/requests").into_response()),
        Err(e) if client_error(&e) => {
            let requests = app.openness.dataset_requests().await?;
            render(DataRequestsPage { c, requests, error: Some(e.to_string()) })
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- staff ----------

/// Staff uploads (multipart, CSRF-checked): a document's attachment (`target=attachment`,
/// `id`) or a dataset's resource (`target=resource`, `dataset`, `format`), with `name` and
/// `file`.
pub async fn staff_upload(State(app): State<AppState>, c: Chrome, req: axum::extract::Request) -> PageResult {
    use axum::extract::FromRequest;
    let (mut parts, body) = req.into_parts();
    let staff = <StaffSession as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &app)
        .await
        .map_err(|_| crate::error::AppError::from(yiwang_identity::IdentityError::Unauthenticated))?;
    let mut m = axum::extract::Multipart::from_request(axum::extract::Request::from_parts(parts, body), &app)
        .await
        .map_err(|_| crate::error::AppError::bad_request("BAD_FORM", "上传内容无效"))?;
    let mut fields: std::collections::HashMap<String, String> = Default::default();
    let mut file: Option<(String, String, Vec<u8>)> = None;
    let too_big = || crate::error::AppError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE", "文件过大");
    while let Some(field) = m.next_field().await.map_err(|_| too_big())? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let ct = field.content_type().unwrap_or("application/octet-stream").to_string();
            file = Some((file_name, ct, field.bytes().await.map_err(|_| too_big())?.to_vec()));
        } else {
            fields.insert(name, field.text().await.map_err(|_| too_big())?);
        }
    }
    if !yiwang_identity::tokens_equal(fields.get("csrf_token").map(String::as_str).unwrap_or(""), &staff.session.csrf_token) {
        return Err(crate::error::AppError::from(yiwang_identity::IdentityError::CsrfMismatch).into());
    }
    staff.require(Permission::Workbench)?;
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let (file_name, ct, bytes) = file.ok_or_else(|| crate::error::AppError::bad_request("INVALID_FIELD", "请选择要上传的文件"))?;
    let name = Some(get("name")).filter(|n| !n.trim().is_empty()).unwrap_or(file_name);
    let result = match get("target").as_str() {
        "attachment" => app.openness.attach(&staff.staff, &get("id"), &name, &ct, &bytes).await.map(|_| ()),
        "resource" => app.openness.add_resource(Some(&staff.staff), &get("dataset"), &name, "", &get("format"), &bytes).await.map(|_| ()),
        _ => return Err(crate::error::AppError::bad_request("BAD_ACTION", "未知的上传").into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/staff/gk").into_response()),
        Err(e) if client_error(&e) || matches!(e, OpenError::Forbidden | OpenError::NotFound(_)) => {
            staff_page(&app, c, &staff, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/gk.html")]
struct StaffDocsPage {
    c: Chrome,
    datasets: Vec<Package>,
    licenses: Vec<(&'static str, &'static str)>,
    groups: Vec<(&'static str, &'static str)>,
    docs: Vec<Document>,
    requests: Vec<DisclosureRequest>,
    kinds: Vec<(&'static str, &'static str)>,
    department: String,
    error: Option<String>,
}

async fn staff_page(app: &AppState, c: Chrome, staff: &StaffSession, error: Option<String>) -> PageResult {
    let docs = app.openness.department_documents(&staff.staff).await?;
    let requests = app.openness.department_requests(&staff.staff).await?;
    let kinds = DocKind::ALL.iter().map(|k| (k.key(), k.label(c.en))).collect();
    let failed = error.is_some();
    let department = staff.staff.department.clone().unwrap_or_default();
    let org = department.to_lowercase();
    let datasets = app
        .openness
        .package_search(&SearchParams {
            fq: (!org.is_empty()).then(|| format!("organization:{org}")),
            rows: Some(200),
            sort: Some("name asc".into()),
            ..Default::default()
        })?
        .results;
    let licenses = yiwang_openness::opendata::LICENSES.to_vec();
    super::render_refused(
        StaffDocsPage { c, datasets, licenses, groups: GROUPS.to_vec(), docs, requests, kinds, department, error },
        failed,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// 政务公开 workbench: the department's documents and requests.
pub async fn staff(State(app): State<AppState>, c: Chrome, staff: StaffSession) -> PageResult {
    staff.require(Permission::Workbench)?;
    staff_page(&app, c, &staff, None).await
}

pub async fn staff_action(State(app): State<AppState>, c: Chrome, CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let f = |k: &str| field(&form, k).to_string();
    let o = &app.openness;
    let (s, src) = (&staff.staff, staff.source.as_str());
    let result = match field(&form, "action") {
        "create" => {
            let interpretation = Some(f("interpretation")).filter(|b| !b.trim().is_empty()).map(|body| Interpretation {
                title: format!("《{}》政策解读", f("title")),
                body,
                qa: vec![],
            });
            let input = DocumentInput {
                kind: f("kind"),
                title: f("title"),
                doc_number: f("doc_number"),
                issued_on: f("issued_on"),
                valid_from: Some(f("valid_from")),
                valid_until: Some(f("valid_until")),
                topic: f("topic"),
                body: f("body"),
                interpretation,
            };
            let dept = staff.staff.department.clone().unwrap_or_else(|| f("department"));
            o.save_document(s, src, None, &dept, &input).await.map(|_| ())
        }
        "publish" => o.publish(s, src, &f("id"), Some(&f("at"))).await.map(|_| ()),
        "dataset" => {
            let input = yiwang_openness::DatasetInput {
                name: f("name"),
                title: f("title"),
                notes: f("notes"),
                organization: staff.staff.department.clone().unwrap_or_else(|| f("department")),
                license_id: f("license_id"),
                groups: vec![f("group")].into_iter().filter(|g| !g.is_empty()).collect(),
                tags: f("tags").split([',', '，', ' ']).map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect(),
                update_cycle: f("update_cycle"),
                open_type: "无条件开放".into(),
            };
            o.save_dataset(Some(s), &input).await.map(|_| ())
        }
        "withdraw" => o.withdraw(s, src, &f("id"), &f("reason"), None).await.map(|_| ()),
        "extend" => o.extend_request(s, src, &f("id"), &f("reason")).await.map(|_| ()),
        "answer" => o.answer_request(s, src, &f("id"), &f("decision"), &f("answer")).await.map(|_| ()),
        _ => return Err(crate::error::AppError::bad_request("BAD_ACTION", "未知的操作").into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/staff/gk").into_response()),
        Err(e) if client_error(&e) || matches!(e, OpenError::Forbidden) => staff_page(&app, c, &staff, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}
