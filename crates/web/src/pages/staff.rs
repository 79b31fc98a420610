//! The staff workbench: sign in, maintain items (create, edit, publish, suspend, cancel),
//! import and export the catalog, read the audit trail. Every handler takes [`StaffSession`]
//! or [`CsrfForm`], so none can run signed out or without the CSRF token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yiwang_catalog::model::*;
use yiwang_catalog::transfer::{self, Format, ImportReport, ItemRecord, RowError, COLUMNS};
use yiwang_catalog::{CatalogError, StatusAction};
use yiwang_identity::{ClientInfo, IdentityError, Permission, Stage};

use super::{cat_err, render, safe_next, Chrome, PageError, PageResult};
use crate::auth::{self, AnySession, CsrfForm, SessionForm, StaffSession};
use crate::error::{catalog_error, AppError};
use crate::AppState;

/// Record a staff action in the audit trail with its outcome.
pub async fn audit<T, E: std::fmt::Display>(app: &AppState, staff: &StaffSession, action: &str, target: &str, outcome: &Result<T, E>) {
    let result = match outcome {
        Ok(_) => "success".to_string(),
        Err(e) => format!("failure: {e}"),
    };
    if let Err(e) = app.identity.audit(&staff.staff.username, action, target, &result, &staff.source).await {
        tracing::error!(error = %e, "audit write failed");
    }
}

// ---------- sign in ----------

#[derive(Template)]
#[template(path = "staff/login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    token: String,
    error: Option<String>,
    username: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub fn with_cookie(mut res: Response, cookie: String) -> Response {
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn login_form(State(app): State<AppState>, c: Chrome, Query(q): Query<LoginQuery>) -> PageResult {
    let (token, cookie) = auth::login_form_token(app.settings.secure_cookies);
    let res = render(LoginPage { c, next: safe_next(q.next.as_deref()), token, error: None, username: String::new() })?;
    Ok(with_cookie(res, cookie))
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf_token: String,
}

pub async fn login(
    State(app): State<AppState>,
    c: Chrome,
    headers: HeaderMap,
    ConnectInfoOpt(source): ConnectInfoOpt,
    axum::Form(f): axum::Form<LoginForm>,
) -> PageResult {
    let cookie = auth::check_login_token(&headers, &f.csrf_token)?;
    app.login_limiter.check(&source)?;
    let client = ClientInfo { source: &source, user_agent: auth::user_agent(&headers) };
    match app.identity.login_staff(f.username.trim(), &f.password, client).await {
        Ok((token, session)) => {
            let next = if f.next.is_empty() || f.next == "/" { "/staff".to_string() } else { safe_next(Some(&f.next)) };
            // The second factor comes next unless TOTP is switched off.
            let dest = if session.stage == Stage::Full { next } else { format!("/staff/login/totp?next={}", super::urlencode(&next)) };
            Ok(auth::signed_in(Redirect::to(&dest).into_response(), &token, app.settings.secure_cookies))
        }
        Err(e @ (IdentityError::InvalidCredentials | IdentityError::Locked(_))) => {
            let status = crate::error::status_for(yiwang_core::DomainError::kind(&e));
            let page = LoginPage { c, next: safe_next(Some(&f.next)), token: cookie, error: Some(e.to_string()), username: f.username };
            let mut res = render(page)?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// The peer address when the server runs on a socket (absent in in-process tests).
pub struct ConnectInfoOpt(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ConnectInfoOpt {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ConnectInfoOpt(auth::source(&parts.headers, &parts.extensions)))
    }
}

#[derive(Deserialize)]
pub struct Empty {}

/// Sign out of any kind of session.
pub async fn logout(State(app): State<AppState>, f: SessionForm<Empty>) -> PageResult {
    app.identity.logout(&f.auth.token).await?;
    if let Some(s) = f.auth.session.staff() {
        if let Err(e) = app.identity.audit(&s.username, "logout", "", "success", &f.auth.source).await {
            tracing::error!(error = %e, "audit write failed");
        }
    }
    Ok(with_cookie(Redirect::to("/").into_response(), auth::clear_session_cookie(app.settings.secure_cookies)))
}

#[derive(Template)]
#[template(path = "staff/totp.html")]
struct TotpPage {
    c: Chrome,
    next: String,
    enroll: Option<yiwang_identity::TotpEnrollment>,
    qr_svg: String,
    error: Option<String>,
}

async fn totp_page(app: &AppState, c: Chrome, session: &yiwang_identity::Session, next: String, error: Option<String>) -> PageResult {
    let enroll = match session.stage {
        Stage::Enroll => Some(app.identity.totp_enrollment(session).await?),
        _ => None,
    };
    let qr_svg = enroll.as_ref().map(|e| super::qr_svg(&e.otpauth_uri)).unwrap_or_default();
    render(TotpPage { c, next, enroll, qr_svg, error })
}

/// 动态验证码: the second sign-in step for staff (enrolment on first login).
pub async fn totp_form(State(app): State<AppState>, c: Chrome, a: AnySession, Query(q): Query<LoginQuery>) -> PageResult {
    if a.session.stage == Stage::Full {
        return Ok(Redirect::to("/staff").into_response());
    }
    totp_page(&app, c, &a.session, safe_next(q.next.as_deref()), None).await
}

#[derive(Deserialize)]
pub struct TotpForm {
    code: String,
    #[serde(default)]
    next: String,
}

pub async fn totp_submit(State(app): State<AppState>, c: Chrome, headers: HeaderMap, f: SessionForm<TotpForm>) -> PageResult {
    let client = ClientInfo { source: &f.auth.source, user_agent: auth::user_agent(&headers) };
    match app.identity.complete_second_factor(&f.auth.token, &f.form.code, client).await {
        Ok((token, _)) => {
            let dest = if f.form.next.is_empty() || f.form.next == "/" { "/staff".to_string() } else { safe_next(Some(&f.form.next)) };
            Ok(with_cookie(Redirect::to(&dest).into_response(), auth::session_cookie(&token, app.settings.secure_cookies)))
        }
        Err(e @ (IdentityError::InvalidTotp | IdentityError::Locked(_))) => {
            let status = crate::error::status_for(yiwang_core::DomainError::kind(&e));
            let mut res = totp_page(&app, c, &f.auth.session, safe_next(Some(&f.form.next)), Some(e.to_string())).await?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- workbench ----------

#[derive(Template)]
#[template(path = "staff/items.html")]
struct ItemsPage {
    c: Chrome,
    role_labels: String,
    scope: String,
    can_manage: bool,
    can_audit: bool,
    can_verify: bool,
    can_clients: bool,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    items: Vec<ItemSummary>,
    total: u64,
}

#[derive(Deserialize)]
pub struct WorkbenchQuery {
    status: Option<String>,
    page: Option<u32>,
}

pub async fn workbench(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<WorkbenchQuery>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let s = &staff.staff;
    let can_manage = s.can(Permission::ManageCatalog);
    let status = q.status.as_deref().and_then(ItemStatus::parse);
    let (items, total) = if can_manage {
        let editor = staff.catalog_editor()?;
        let p = app.catalog.list_staff(&editor, &ItemFilter::default(), status, q.page.unwrap_or(1), 100).await.map_err(cat_err)?;
        (p.items, p.total)
    } else {
        (vec![], 0)
    };
    let scope = match &s.department {
        Some(d) if !s.is_platform_admin() => app.catalog.department(d).await.map(|d| d.name).unwrap_or_default(),
        _ => "全部部门".into(),
    };
    render(ItemsPage {
        role_labels: s.roles.iter().map(|r| r.label_zh()).collect::<Vec<_>>().join("、"),
        scope,
        can_manage,
        can_audit: s.can(Permission::ViewAudit),
        can_verify: s.can(Permission::VerifyInPerson),
        can_clients: s.can(Permission::ManageClients),
        status: status.map(|s| s.key().to_string()).unwrap_or_default(),
        statuses: ItemStatus::ALL.iter().map(|s| (s.key(), s.label_zh())).collect(),
        items,
        total,
        c,
    })
}

// ---------- edit ----------

pub struct Field {
    pub name: String,
    pub label: &'static str,
    pub value: String,
    pub multiline: bool,
    pub hint: &'static str,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/edit.html")]
struct EditPage {
    c: Chrome,
    is_new: bool,
    code: String,
    status: String,
    version: i64,
    published_version: Option<i64>,
    fields: Vec<Field>,
    errors: Vec<String>,
    notice: Option<String>,
    history: Vec<HistoryEntry>,
    can_suspend: bool,
    can_resume: bool,
    can_cancel: bool,
}

const MULTILINE: &[usize] = &[8, 9, 10, 11, 12, 13, 14, 18, 20];

fn hint(col: usize) -> &'static str {
    match col {
        0 => "31位：实施主体信用代码18位 + 行使层级1位 + 基本编码12位",
        4 => "行政许可、行政确认、行政给付、公共服务……",
        7 => "自然人、法人 或 自然人、法人",
        8 => "每行一个主题代码，如 shengyu、kaiban",
        11 | 12 | 9 | 18 => "每行一条",
        13 => "每行一项：名称|形式|份数|格式|可替代的电子证照类型代码",
        14 => "每行一步：环节名称|说明|时限（工作日）",
        15 => "即办件 或 承诺件",
        20 => "每行一项：名称|金额（元）|收费依据；不收费留空",
        25 => "证照、批文、其他、无",
        27 => "1至5",
        _ => "",
    }
}

fn fields_from(cells: &[String], errors: &[RowError]) -> Vec<Field> {
    COLUMNS
        .iter()
        .enumerate()
        .map(|(i, label)| Field {
            name: format!("f{i}"),
            label,
            value: cells.get(i).cloned().unwrap_or_default(),
            multiline: MULTILINE.contains(&i),
            hint: hint(i),
            error: {
                let msgs: Vec<&str> = errors.iter().filter(|e| e.column == *label).map(|e| e.message.as_str()).collect();
                (!msgs.is_empty()).then(|| msgs.join("；"))
            },
        })
        .collect()
}

fn cells_from_form(form: &HashMap<String, String>) -> Vec<String> {
    (0..COLUMNS.len()).map(|i| form.get(&format!("f{i}")).cloned().unwrap_or_default()).collect()
}

async fn edit_page(app: &AppState, c: Chrome, staff: &StaffSession, code: &str, errors: Vec<String>, notice: Option<String>) -> PageResult {
    let editor = staff.catalog_editor()?;
    let item = app.catalog.item_latest(&editor, code).await.map_err(cat_err)?;
    let history = app.catalog.history(&editor, code).await.map_err(cat_err)?;
    let cells = transfer::record_to_row(&ItemRecord { impl_code: item.impl_code.clone(), doc: item.doc.clone() });
    render(EditPage {
        c,
        is_new: false,
        code: item.impl_code.clone(),
        status: item.status.label_zh().to_string(),
        version: item.version,
        published_version: item.published_version,
        fields: fields_from(&cells, &[]),
        errors,
        notice,
        history,
        can_suspend: item.status == ItemStatus::Published,
        can_resume: item.status == ItemStatus::Suspended,
        can_cancel: item.status != ItemStatus::Cancelled,
    })
}

pub async fn edit_form(State(app): State<AppState>, c: Chrome, staff: StaffSession, Path(code): Path<String>) -> PageResult {
    edit_page(&app, c, &staff, &code, vec![], None).await
}

pub async fn new_form(State(app): State<AppState>, c: Chrome, staff: StaffSession) -> PageResult {
    let editor = staff.catalog_editor()?;
    let mut cells = vec![String::new(); COLUMNS.len()];
    if let Some(d) = editor.scope() {
        if let Ok(dept) = app.catalog.department(d).await {
            cells[5] = dept.credit_code.clone();
            cells[6] = dept.region_code.clone();
            cells[21] = dept.address;
            cells[22] = dept.hours;
            cells[23] = dept.phone;
        }
    }
    cells[24] = "12345".into();
    cells[15] = "承诺件".into();
    cells[25] = "证照".into();
    cells[27] = "3".into();
    render(EditPage {
        c,
        is_new: true,
        code: String::new(),
        status: ItemStatus::Draft.label_zh().into(),
        version: 0,
        published_version: None,
        fields: fields_from(&cells, &[]),
        errors: vec![],
        notice: None,
        history: vec![],
        can_suspend: false,
        can_resume: false,
        can_cancel: false,
    })
}

/// Re-show the form with what was typed and every problem.
fn invalid_form(c: Chrome, is_new: bool, code: String, cells: &[String], row_errors: Vec<RowError>, other: Vec<String>) -> PageResult {
    let mut errors: Vec<String> = row_errors.iter().map(|e| format!("{}：{}", e.column, e.message)).collect();
    errors.extend(other);
    let mut res = render(EditPage {
        c,
        is_new,
        code,
        status: String::new(),
        version: 0,
        published_version: None,
        fields: fields_from(cells, &row_errors),
        errors,
        notice: None,
        history: vec![],
        can_suspend: false,
        can_resume: false,
        can_cancel: false,
    })?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

fn parse_form(form: &HashMap<String, String>) -> (Vec<String>, Result<ItemRecord, Vec<RowError>>) {
    let cells = cells_from_form(form);
    let mut errors = Vec::new();
    let rec = transfer::row_to_record(1, &cells, &mut errors);
    let errors: Vec<RowError> = errors
        .into_iter()
        .map(|mut e| {
            e.row = 0;
            e
        })
        .collect();
    (cells, rec.ok_or(errors))
}

pub async fn create(State(app): State<AppState>, c: Chrome, f: CsrfForm<HashMap<String, String>>) -> PageResult {
    let editor = f.staff.catalog_editor()?;
    let (cells, parsed) = parse_form(&f.form);
    let rec = match parsed {
        Ok(r) => r,
        Err(errs) => return invalid_form(c, true, cells[0].clone(), &cells, errs, vec![]),
    };
    let result = app.catalog.create(&editor, &rec.impl_code, rec.doc).await;
    audit(&app, &f.staff, "item.create", &rec.impl_code, &result).await;
    match result {
        Ok(item) => Ok(Redirect::to(&format!("/staff/items/{}?saved=1", item.impl_code)).into_response()),
        Err(e @ (CatalogError::Store(_) | CatalogError::Search(_))) => Err(cat_err(e)),
        Err(e) => invalid_form(c, true, rec.impl_code, &cells, vec![], vec![e.to_string()]),
    }
}

pub async fn update(State(app): State<AppState>, c: Chrome, Path(code): Path<String>, f: CsrfForm<HashMap<String, String>>) -> PageResult {
    let editor = f.staff.catalog_editor()?;
    let (mut cells, _) = parse_form(&f.form);
    cells[0] = code.clone();
    let mut errors = Vec::new();
    let Some(rec) = transfer::row_to_record(0, &cells, &mut errors) else {
        return invalid_form(c, false, code, &cells, errors, vec![]);
    };
    let result = app.catalog.update(&editor, &code, rec.doc).await;
    audit(&app, &f.staff, "item.update", &code, &result).await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/staff/items/{code}?saved=1")).into_response()),
        Err(e @ (CatalogError::Store(_) | CatalogError::Search(_) | CatalogError::Forbidden | CatalogError::ItemNotFound(_))) => {
            Err(cat_err(e))
        }
        Err(e) => invalid_form(c, false, code, &cells, vec![], vec![e.to_string()]),
    }
}

pub async fn publish(State(app): State<AppState>, c: Chrome, Path(code): Path<String>, f: CsrfForm<Empty>) -> PageResult {
    let editor = f.staff.catalog_editor()?;
    let result = app.catalog.publish(&editor, &code).await;
    audit(&app, &f.staff, "item.publish", &code, &result).await;
    match result {
        Ok(_) => edit_page(&app, c, &f.staff, &code, vec![], Some("已发布，办事指南已更新。".into())).await,
        Err(CatalogError::Incomplete(problems)) => {
            let mut res = edit_page(&app, c, &f.staff, &code, problems, None).await?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(cat_err(e)),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    action: String,
    #[serde(default)]
    note: String,
}

pub async fn change_status(State(app): State<AppState>, c: Chrome, Path(code): Path<String>, f: CsrfForm<StatusForm>) -> PageResult {
    let editor = f.staff.catalog_editor()?;
    let action = StatusAction::parse(&f.form.action).map_err(cat_err)?;
    let result = app.catalog.change_status(&editor, &code, action, f.form.note.trim()).await;
    audit(&app, &f.staff, &format!("item.{}", f.form.action), &code, &result).await;
    result.map_err(cat_err)?;
    edit_page(&app, c, &f.staff, &code, vec![], Some("状态已更新。".into())).await
}

// ---------- import / export ----------

/// Import jobs in progress on this node, by id.
#[derive(Default, Clone)]
pub struct ImportJobs(Arc<Mutex<HashMap<String, ImportJob>>>);

#[derive(Clone)]
pub struct ImportJob {
    pub owner: String,
    pub done: usize,
    pub total: usize,
    pub outcome: Option<Result<ImportReport, Vec<RowError>>>,
}

impl ImportJobs {
    fn update(&self, id: &str, f: impl FnOnce(&mut ImportJob)) {
        if let Ok(mut m) = self.0.lock() {
            if let Some(j) = m.get_mut(id) {
                f(j);
            }
        }
    }
    fn get(&self, id: &str) -> Option<ImportJob> {
        self.0.lock().ok().and_then(|m| m.get(id).cloned())
    }
    fn insert(&self, id: String, job: ImportJob) {
        if let Ok(mut m) = self.0.lock() {
            // Keep the map small: finished jobs beyond 100 are forgotten.
            if m.len() > 100 {
                m.retain(|_, j| j.outcome.is_none());
            }
            m.insert(id, job);
        }
    }
}

#[derive(Template)]
#[template(path = "staff/import.html")]
struct ImportPage {
    c: Chrome,
    errors: Vec<RowError>,
    message: Option<String>,
}

pub async fn import_form(c: Chrome, staff: StaffSession) -> PageResult {
    staff.catalog_editor()?;
    render(ImportPage { c, errors: vec![], message: None })
}

pub async fn import_upload(State(app): State<AppState>, c: Chrome, staff: StaffSession, mut mp: Multipart) -> PageResult {
    let editor = staff.catalog_editor()?;
    let mut token = String::new();
    let mut publish = false;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::bad_request("BAD_UPLOAD", format!("上传内容无效：{e}")))? {
        match field.name().unwrap_or("") {
            "csrf_token" => token = field.text().await.unwrap_or_default(),
            "publish" => publish = true,
            "file" => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(|e| AppError::bad_request("BAD_UPLOAD", format!("文件读取失败：{e}")))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    if !yiwang_identity::tokens_equal(&token, &staff.session.csrf_token) {
        return Err(IdentityError::CsrfMismatch.into());
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return render(ImportPage { c, errors: vec![], message: Some("请选择要导入的文件".into()) });
    };
    let Some(format) = Format::from_filename(&name) else {
        return render(ImportPage { c, errors: vec![], message: Some("仅支持 .csv、.xlsx、.json 文件".into()) });
    };
    let records = match transfer::parse(format, &bytes) {
        Ok(r) => r,
        Err(errors) => {
            audit(&app, &staff, "catalog.import", &name, &Err::<(), _>(format!("{} errors", errors.len()))).await;
            let mut res = render(ImportPage {
                c, errors, message: Some("文件有误，未导入任何数据。请按下列提示修改后重新上传。".into())
            })?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(res);
        }
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let jobs = app.imports.clone();
    jobs.insert(id.clone(), ImportJob { owner: staff.staff.username.clone(), done: 0, total: records.len(), outcome: None });
    let (app2, id2, staff2) = (app.clone(), id.clone(), staff.clone());
    tokio::spawn(async move {
        let progress_jobs = app2.imports.clone();
        let pid = id2.clone();
        let progress = move |done: usize, total: usize| progress_jobs.update(&pid, |j| (j.done, j.total) = (done, total));
        let result = app2.catalog.import(&editor, &records, publish, &progress).await;
        audit(&app2, &staff2, "catalog.import", &name, &result).await;
        let outcome = match result {
            Ok(r) => Ok(r),
            Err(CatalogError::ImportRejected(rows)) => Err(rows),
            Err(e) => Err(vec![RowError { row: 0, column: String::new(), message: catalog_error(e).body.message }]),
        };
        app2.imports.update(&id2, |j| j.outcome = Some(outcome));
    });
    Ok(Redirect::to(&format!("/staff/import/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "staff/import_status.html")]
struct ImportStatusPage {
    c: Chrome,
    id: String,
    job: ImportJob,
    percent: usize,
    partial: bool,
}

/// Just the progress box, for htmx polling.
#[derive(Template)]
#[template(path = "staff/import_progress.html")]
struct ImportProgress {
    id: String,
    job: ImportJob,
    percent: usize,
    partial: bool,
}

pub async fn import_status(
    State(app): State<AppState>,
    c: Chrome,
    staff: StaffSession,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> PageResult {
    staff.catalog_editor()?;
    let job = app.imports.get(&id).filter(|j| j.owner == staff.staff.username).ok_or_else(AppError::not_found)?;
    let percent = (job.done * 100).checked_div(job.total).unwrap_or(100);
    if headers.contains_key("hx-request") {
        return render(ImportProgress { id, job, percent, partial: true });
    }
    render(ImportStatusPage { c, id, job, percent, partial: false })
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

pub async fn export(State(app): State<AppState>, staff: StaffSession, Query(q): Query<ExportQuery>) -> Result<Response, PageError> {
    let editor = staff.catalog_editor()?;
    let format = Format::parse(q.format.as_deref().unwrap_or("csv"))
        .ok_or_else(|| AppError::bad_request("BAD_FORMAT", "格式应为 csv、xlsx 或 json"))?;
    let records = app.catalog.export_records(&editor).await.map_err(cat_err)?;
    let bytes = transfer::write(format, &records).map_err(cat_err)?;
    audit(&app, &staff, "catalog.export", format.extension(), &Ok::<(), String>(())).await;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"catalog.{}\"", format.extension())),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "staff/audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<yiwang_identity::AuditEntry>,
}

pub async fn audit_log(State(app): State<AppState>, c: Chrome, staff: StaffSession) -> PageResult {
    staff.require(Permission::ViewAudit)?;
    let entries = app.identity.recent_audit(200).await?;
    render(AuditPage { c, entries })
}
