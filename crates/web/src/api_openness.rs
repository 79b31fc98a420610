//! Openness API: the CKAN-compatible action API (`/api/3/action/…`) and DCAT for open-data
//! clients and harvesters; JSON endpoints for documents, disclosure requests, ratings and
//! dataset requests.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;
use yiwang_identity::AgentScope;
use yiwang_openness::ckan;
use yiwang_openness::disclosure::RequestInput;
use yiwang_openness::documents::DocFilter;
use yiwang_openness::opendata::{DatasetRequestInput, SearchParams};
use yiwang_openness::{DatasetRequest, DisclosureRequest, DocKind, Document, DocumentInput, OpenError, Package};

use crate::api::{ApiJson, ApiQuery};
use crate::api_cases::applicant;
use crate::auth::{PersonSession, StaffSession};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

// ---------- CKAN ----------

fn ckan_response(status: StatusCode, body: Value) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// Parameters from the query string and a JSON or form body, as CKAN accepts both.
fn params(query: &Map<String, Value>, headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, String> {
    let mut p = query.clone();
    if !body.is_empty() {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if ct.starts_with("application/x-www-form-urlencoded") {
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| format!("表单无法解析：{e}"))?;
            for (k, v) in form {
                p.insert(k, Value::String(v));
            }
        } else {
            let v: Value = serde_json::from_slice(body).map_err(|e| format!("JSON无法解析：{e}"))?;
            match v {
                Value::Object(m) => p.extend(m),
                _ => return Err("请求体应为JSON对象".into()),
            }
        }
    }
    Ok(p)
}

fn str_param(p: &Map<String, Value>, k: &str) -> Option<String> {
    p.get(k).map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string()))
}

fn num_param(p: &Map<String, Value>, k: &str) -> Result<Option<usize>, String> {
    match p.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(|x| Some(x as usize)).ok_or_else(|| format!("{k} 应为非负整数")),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| format!("{k} 应为非负整数")),
        Some(_) => Err(format!("{k} 应为非负整数")),
    }
}

fn bool_param(p: &Map<String, Value>, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "true" | "True" | "1"),
        _ => false,
    }
}

fn org_dict(app: &AppState, name: &str, count: usize, with_datasets: bool) -> Value {
    let mut v = app
        .openness
        .organizations()
        .into_iter()
        .find(|(o, _)| o.name == name)
        .map(|(o, _)| serde_json::to_value(o).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("package_count".into(), json!(count));
        m.insert("is_organization".into(), json!(true));
        m.insert("approval_status".into(), json!("approved"));
        if with_datasets {
            let r = app.openness.package_search(&SearchParams {
                fq: Some(format!("organization:{name}")),
                rows: Some(1000),
                ..Default::default()
            });
            m.insert("packages".into(), json!(r.map(|r| r.results).unwrap_or_default()));
        }
    }
    v
}

/// CKAN action API subset: `package_list`, `package_show`, `package_search`,
/// `organization_list`, `organization_show`, `group_list`, `resource_show`,
/// `datastore_search` (GET with query parameters or POST with a JSON body).
pub async fn ckan_action(
    State(app): State<AppState>,
    Path(action): Path<String>,
    Query(query): Query<Map<String, Value>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = app.openness.public_url().to_string();
    let bad = |msg: String| ckan_response(StatusCode::CONFLICT, ckan::error(&base, &action, "Validation Error", &msg));
    let p = match params(&query, &headers, &body) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let not_found =
        |what: &str| ckan_response(StatusCode::NOT_FOUND, ckan::error(&base, &action, "Not Found Error", &format!("{what}不存在")));
    let o = &app.openness;
    let result: Result<Value, Response> = match action.as_str() {
        "package_list" => {
            let (limit, offset) = match (num_param(&p, "limit"), num_param(&p, "offset")) {
                (Ok(l), Ok(off)) => (l, off.unwrap_or(0)),
                (Err(e), _) | (_, Err(e)) => return bad(e),
            };
            let names: Vec<String> = o.package_list().into_iter().skip(offset).take(limit.unwrap_or(usize::MAX)).collect();
            Ok(json!(names))
        }
        "package_show" => match str_param(&p, "id").map(|id| o.package(&id)) {
            Some(Ok(pk)) => Ok(json!(pk)),
            Some(Err(_)) => return not_found("数据集"),
            None => return bad("缺少参数 id".into()),
        },
        "package_search" => {
            let facet_field = match p.get("facet.field") {
                Some(Value::Array(a)) => Some(Value::Array(a.clone()).to_string()),
                Some(v) => str_param(&p, "facet.field").or_else(|| Some(v.to_string())),
                None => None,
            };
            let sp = match (num_param(&p, "rows"), num_param(&p, "start")) {
                (Ok(rows), Ok(start)) => {
                    SearchParams { q: str_param(&p, "q"), fq: str_param(&p, "fq"), rows, start, sort: str_param(&p, "sort"), facet_field }
                }
                (Err(e), _) | (_, Err(e)) => return bad(e),
            };
            match o.package_search(&sp) {
                Ok(r) => Ok(json!(r)),
                Err(e) => return bad(e.to_string()),
            }
        }
        "organization_list" => {
            let all = bool_param(&p, "all_fields");
            let orgs = o.organizations();
            Ok(if all {
                json!(orgs.iter().map(|(org, n)| org_dict(&app, &org.name, *n, false)).collect::<Vec<_>>())
            } else {
                json!(orgs.iter().map(|(org, _)| org.name.clone()).collect::<Vec<_>>())
            })
        }
        "organization_show" => {
            let Some(id) = str_param(&p, "id").map(|s| s.to_lowercase()) else { return bad("缺少参数 id".into()) };
            match o.organizations().into_iter().find(|(org, _)| org.name == id || org.id == id) {
                Some((org, n)) => Ok(org_dict(&app, &org.name, n, bool_param(&p, "include_datasets"))),
                None => return not_found("组织"),
            }
        }
        "group_list" => {
            let all = bool_param(&p, "all_fields");
            let groups = o.groups();
            Ok(if all {
                json!(groups
                    .iter()
                    .map(|(g, n)| {
                        let mut v = json!(g);
                        if let Value::Object(m) = &mut v {
                            m.insert("package_count".into(), json!(n));
                        }
                        v
                    })
                    .collect::<Vec<_>>())
            } else {
                json!(groups.iter().map(|(g, _)| g.name.clone()).collect::<Vec<_>>())
            })
        }
        "resource_show" => match str_param(&p, "id").map(|id| o.resource(&id)) {
            Some(Ok((_, r))) => Ok(json!(r)),
            Some(Err(_)) => return not_found("资源"),
            None => return bad("缺少参数 id".into()),
        },
        "datastore_search" => {
            let Some(rid) = str_param(&p, "resource_id").or_else(|| str_param(&p, "id")) else {
                return bad("缺少参数 resource_id".into());
            };
            let filters = match p.get("filters") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(Value::String(s)) => match serde_json::from_str::<Map<String, Value>>(s) {
                    Ok(m) => m,
                    Err(_) => return bad("filters 应为JSON对象".into()),
                },
                Some(_) => return bad("filters 应为JSON对象".into()),
            };
            let (limit, offset) = match (num_param(&p, "limit"), num_param(&p, "offset")) {
                (Ok(l), Ok(off)) => (l.unwrap_or(100), off.unwrap_or(0)),
                (Err(e), _) | (_, Err(e)) => return bad(e),
            };
            match o.datastore_search(&rid, &filters, str_param(&p, "q").as_deref(), limit, offset, str_param(&p, "sort").as_deref()).await {
                Ok(r) => {
                    let mut v = json!(r);
                    if let Value::Object(m) = &mut v {
                        m.insert("_links".into(), json!({"start": format!("/api/3/action/datastore_search?resource_id={rid}"), "next": format!("/api/3/action/datastore_search?resource_id={rid}&offset={}", offset + limit)}));
                    }
                    Ok(v)
                }
                Err(OpenError::NotFound(_)) => return not_found("资源"),
                Err(e) => return bad(e.to_string()),
            }
        }
        _ => return ckan_response(StatusCode::BAD_REQUEST, ckan::error(&base, &action, "Bad request", &format!("未知的接口：{action}"))),
    };
    match result {
        Ok(v) => ckan_response(StatusCode::OK, ckan::ok(&base, &action, v)),
        Err(r) => r,
    }
}

/// `/api/3` (CKAN clients probe the API version).
pub async fn ckan_version() -> Response {
    ckan_response(StatusCode::OK, json!({"version": 3}))
}

fn jsonld(v: Value) -> Response {
    let mut res = Json(v).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/ld+json"));
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// The open-data catalog as DCAT-AP JSON-LD (for harvesters).
pub async fn dcat_catalog(State(app): State<AppState>) -> Response {
    jsonld(app.openness.dcat_catalog())
}

pub async fn dcat_dataset(State(app): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(jsonld(app.openness.dcat_for(&name)?))
}

// ---------- documents ----------

#[derive(Deserialize, IntoParams)]
pub struct DocQuery {
    pub q: Option<String>,
    /// `regulation`, `normative`, `notice`, `plan`, `budget`, `power_list`, `duty_list`.
    pub kind: Option<String>,
    /// Department credit code.
    pub department: Option<String>,
    pub page: Option<usize>,
}

impl DocQuery {
    pub fn filter(&self) -> DocFilter {
        DocFilter {
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            kind: self.kind.as_deref().and_then(DocKind::parse),
            department: self.department.clone().filter(|d| !d.is_empty()),
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DocumentList {
    pub total: usize,
    pub page: usize,
    pub documents: Vec<Document>,
}

/// 政务公开 documents (published only), searchable.
#[utoipa::path(get, path = "/api/v1/gk/documents", tag = "openness", params(DocQuery), responses((status = 200, body = DocumentList)))]
pub async fn documents(State(app): State<AppState>, ApiQuery(q): ApiQuery<DocQuery>) -> ApiResult<Json<DocumentList>> {
    let page = q.page.unwrap_or(1).max(1);
    let (documents, total) = app.openness.public_documents(&q.filter(), page, 20).await?;
    Ok(Json(DocumentList { total, page, documents }))
}

#[utoipa::path(get, path = "/api/v1/gk/documents/{id}", tag = "openness", responses((status = 200, body = Document), (status = 404, body = ErrorBody)))]
pub async fn document(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Document>> {
    Ok(Json(app.openness.public_document(&id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewDocument {
    /// Department credit code (the staff member's own for department admins).
    pub department: String,
    #[serde(flatten)]
    pub input: DocumentInput,
}

/// Create a document (draft).
#[utoipa::path(post, path = "/api/v1/gk/documents", tag = "openness", request_body = NewDocument, responses((status = 201, body = Document)))]
pub async fn create_document(
    State(app): State<AppState>,
    staff: StaffSession,
    ApiJson(n): ApiJson<NewDocument>,
) -> ApiResult<(StatusCode, Json<Document>)> {
    Ok((StatusCode::CREATED, Json(app.openness.save_document(&staff.staff, &staff.source, None, &n.department, &n.input).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    /// `YYYY-MM-DDTHH:MM` (China time) or RFC 3339; now when absent.
    #[serde(default)]
    pub at: Option<String>,
    /// Withdrawal only.
    #[serde(default)]
    pub reason: String,
}

/// 发布 (now or scheduled).
#[utoipa::path(post, path = "/api/v1/gk/documents/{id}/publish", tag = "openness", request_body = Schedule, responses((status = 200, body = Document)))]
pub async fn publish_document(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(s): ApiJson<Schedule>,
) -> ApiResult<Json<Document>> {
    Ok(Json(app.openness.publish(&staff.staff, &staff.source, &id, s.at.as_deref()).await?))
}

/// 撤回 (now or scheduled), with the reason.
#[utoipa::path(post, path = "/api/v1/gk/documents/{id}/withdraw", tag = "openness", request_body = Schedule, responses((status = 200, body = Document)))]
pub async fn withdraw_document(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(s): ApiJson<Schedule>,
) -> ApiResult<Json<Document>> {
    Ok(Json(app.openness.withdraw(&staff.staff, &staff.source, &id, &s.reason, s.at.as_deref()).await?))
}

/// Atom feed of the latest documents.
pub async fn atom(State(app): State<AppState>) -> ApiResult<Response> {
    let feed = app.openness.atom_feed(50).await?;
    let mut res = feed.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/atom+xml; charset=utf-8"));
    Ok(res)
}

// ---------- disclosure on application ----------

/// 依申请公开: file a request.
#[utoipa::path(post, path = "/api/v1/gk/requests", tag = "openness", request_body = RequestInput, responses((status = 201, body = DisclosureRequest)))]
pub async fn request_disclosure(
    State(app): State<AppState>,
    person: PersonSession,
    ApiJson(r): ApiJson<RequestInput>,
) -> ApiResult<(StatusCode, Json<DisclosureRequest>)> {
    let a = applicant(&person, AgentScope::Apply)?;
    Ok((StatusCode::CREATED, Json(app.openness.request_disclosure(&a, &r).await?)))
}

#[utoipa::path(get, path = "/api/v1/gk/requests", tag = "openness", responses((status = 200, body = Vec<DisclosureRequest>)))]
pub async fn my_requests(State(app): State<AppState>, person: PersonSession) -> ApiResult<Json<Vec<DisclosureRequest>>> {
    let a = applicant(&person, AgentScope::View)?;
    Ok(Json(app.openness.my_requests(&a).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RequestAction {
    /// 延期 once by 20 working days.
    Extend { reason: String },
    /// 答复: `disclosed`, `partial`, `refused`, `not_held` or `not_ours`.
    Answer { decision: String, answer: String },
}

/// Department handling of a request.
#[utoipa::path(post, path = "/api/v1/gk/requests/{id}/actions", tag = "openness", request_body = RequestAction, responses((status = 200, body = DisclosureRequest)))]
pub async fn request_action(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<RequestAction>,
) -> ApiResult<Json<DisclosureRequest>> {
    let o = &app.openness;
    Ok(Json(match a {
        RequestAction::Extend { reason } => o.extend_request(&staff.staff, &staff.source, &id, &reason).await?,
        RequestAction::Answer { decision, answer } => o.answer_request(&staff.staff, &staff.source, &id, &decision, &answer).await?,
    }))
}

// ---------- open data extras ----------

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RatingBody {
    /// 1–5.
    pub level: i64,
}

/// Rate a dataset (one rating per person; a new one replaces it).
#[utoipa::path(post, path = "/api/v1/opendata/datasets/{name}/rating", tag = "openness", request_body = RatingBody, responses((status = 200, body = Package)))]
pub async fn rate_dataset(
    State(app): State<AppState>,
    person: PersonSession,
    Path(name): Path<String>,
    ApiJson(r): ApiJson<RatingBody>,
) -> ApiResult<Json<Package>> {
    let a = applicant(&person, AgentScope::View)?;
    Ok(Json(app.openness.rate_dataset(&a, &name, r.level).await?))
}

#[utoipa::path(get, path = "/api/v1/opendata/requests", tag = "openness", responses((status = 200, body = Vec<DatasetRequest>)))]
pub async fn dataset_requests(State(app): State<AppState>) -> ApiResult<Json<Vec<DatasetRequest>>> {
    Ok(Json(app.openness.dataset_requests().await?))
}

/// 数据需求: ask for data to be opened.
#[utoipa::path(post, path = "/api/v1/opendata/requests", tag = "openness", request_body = DatasetRequestInput, responses((status = 201, body = DatasetRequest)))]
pub async fn request_dataset(
    State(app): State<AppState>,
    person: PersonSession,
    ApiJson(r): ApiJson<DatasetRequestInput>,
) -> ApiResult<(StatusCode, Json<DatasetRequest>)> {
    let a = applicant(&person, AgentScope::View)?;
    Ok((StatusCode::CREATED, Json(app.openness.request_dataset(&a, &r).await?)))
}

/// A resource file; counts the download.
pub async fn download(State(app): State<AppState>, Path((_name, rid)): Path<(String, String)>) -> ApiResult<Response> {
    let (r, bytes) = app.openness.download(&rid).await?;
    let ext = r.format.to_lowercase();
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&format!("{}; charset=utf-8", r.mimetype)).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let disposition = format!("attachment; filename=\"{}.{ext}\"; filename*=UTF-8''{}.{ext}", r.id, crate::pages::urlencode(&r.name));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// An attachment of a public document.
pub async fn attachment(State(app): State<AppState>, Path((id, name)): Path<(String, String)>) -> ApiResult<Response> {
    let (a, bytes) = app.openness.attachment(&id, &name).await?;
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{}", crate::pages::urlencode(&a.name))) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Publish or update a dataset (department admins of the publisher).
#[utoipa::path(put, path = "/api/v1/opendata/datasets/{name}", tag = "openness", request_body = yiwang_openness::DatasetInput, responses((status = 200, body = Package)))]
pub async fn put_dataset(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<yiwang_openness::DatasetInput>,
) -> ApiResult<Json<Package>> {
    if input.name != name {
        return Err(crate::error::AppError::bad_request("INVALID_FIELD", "路径与数据集标识不一致").into());
    }
    Ok(Json(app.openness.save_dataset(Some(&staff.staff), &input).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ResourceQuery {
    /// Resource name (a resource of the same name is replaced).
    pub name: String,
    /// `CSV`, `JSON` or `XLSX`.
    pub format: String,
    #[serde(default)]
    pub description: String,
}

/// Upload a resource file as the request body (tabular files become queryable rows).
#[utoipa::path(post, path = "/api/v1/opendata/datasets/{name}/resources", tag = "openness", params(ResourceQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 201, body = yiwang_openness::Resource)))]
pub async fn add_resource(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<ResourceQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<yiwang_openness::Resource>)> {
    let r = app.openness.add_resource(Some(&staff.staff), &name, &q.name, &q.description, &q.format, &body).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Deserialize, IntoParams)]
pub struct AttachmentQuery {
    pub name: String,
}

/// Attach a file to a document (request body; the Content-Type header is kept).
#[utoipa::path(post, path = "/api/v1/gk/documents/{id}/attachments", tag = "openness", params(AttachmentQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 200, body = Document)))]
pub async fn add_attachment(
    State(app): State<AppState>,
    staff: StaffSession,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AttachmentQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Document>> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream");
    Ok(Json(app.openness.attach(&staff.staff, &id, &q.name, ct, &body).await?))
}
