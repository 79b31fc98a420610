//! Data sharing pages: the staff resource catalog with access requests, decisions, member
//! systems and statistics; the person's "who accessed my data" (数据访问记录). All work
//! without JavaScript.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use yiwang_exchange::{AccessRecord, AccessView, Grant, GrantRequest, Member, NewMember, Resource, SharingType, Stat};
use yiwang_identity::Permission;

use super::{field, render, Chrome, PageResult};
use crate::api_exchange::{data_subject, decide_grant, department_names};
use crate::auth::{CsrfForm, PersonSession, StaffSession};
use crate::error::AppError;
use crate::AppState;

#[derive(Template)]
#[template(path = "staff/exchange.html")]
struct CatalogPage {
    c: Chrome,
    q: String,
    resources: Vec<Resource>,
    /// The publishing form is shown (department admins).
    can_publish: bool,
    /// What the publishing form shows: empty, or a resource being edited.
    v: FormValues,
    notice: Option<String>,
    error: Option<String>,
}

/// The publishing form's values.
pub struct FormValues {
    pub provider_code: String,
    pub provider_name: String,
    pub serial: String,
    pub name: String,
    pub classification: String,
    pub summary: String,
    pub format: String,
    pub subject_kind: String,
    pub subject_item: String,
    pub items: String,
    pub sharing_type: String,
    pub sharing_basis: String,
    pub sharing_conditions: String,
    pub sharing_method: String,
    pub open_type: String,
    pub update_cycle: String,
    pub service: String,
    pub url: String,
    pub timeout_ms: String,
    pub openapi_url: String,
}

/// A serde enum's snake_case name (the form's option values).
fn key_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

impl FormValues {
    fn new(department: &str, r: Option<&Resource>) -> FormValues {
        use yiwang_exchange::Service;
        let Some(r) = r else {
            return FormValues {
                provider_code: department.into(),
                provider_name: String::new(),
                serial: String::new(),
                name: String::new(),
                classification: String::new(),
                summary: String::new(),
                format: "数据库".into(),
                subject_kind: "person".into(),
                subject_item: "id_number".into(),
                items: String::new(),
                sharing_type: "unconditional".into(),
                sharing_basis: String::new(),
                sharing_conditions: String::new(),
                sharing_method: "接口调用".into(),
                open_type: "not_open".into(),
                update_cycle: "daily".into(),
                service: "store".into(),
                url: String::new(),
                timeout_ms: "3000".into(),
                openapi_url: String::new(),
            };
        };
        let (service, url, timeout_ms) = match &r.service {
            Service::Rest { url, timeout_ms, .. } => ("rest", url.clone(), timeout_ms.to_string()),
            _ => ("store", String::new(), "3000".to_string()),
        };
        FormValues {
            provider_code: r.provider_code.clone(),
            provider_name: r.provider_name.clone(),
            serial: r.code.rsplit('-').next().unwrap_or_default().to_string(),
            name: r.name.clone(),
            classification: r.classification.clone(),
            summary: r.summary.clone(),
            format: r.format.clone(),
            subject_kind: key_of(&r.subject_kind),
            subject_item: r.subject_item.clone(),
            items: r.items.iter().map(|i| format!("{}|{}|{}", i.name, i.label, i.kind)).collect::<Vec<_>>().join("\n"),
            sharing_type: key_of(&r.sharing_type),
            sharing_basis: r.sharing_basis.clone(),
            sharing_conditions: r.sharing_conditions.clone(),
            sharing_method: r.sharing_method.clone(),
            open_type: key_of(&r.open_type),
            update_cycle: key_of(&r.update_cycle),
            service: service.into(),
            url,
            timeout_ms,
            openapi_url: r.openapi_url().unwrap_or_default().to_string(),
        }
    }
}

#[derive(Deserialize)]
pub struct CatalogQuery {
    pub q: Option<String>,
    pub notice: Option<String>,
    /// A resource to edit in the publishing form.
    pub edit: Option<String>,
}

async fn catalog_page(
    app: &AppState,
    c: Chrome,
    staff: &StaffSession,
    words: String,
    edit: Option<&str>,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    staff.require(Permission::Workbench)?;
    let all = app.exchange.resources().await?;
    let department = staff.staff.department.clone().unwrap_or_default();
    let editing =
        edit.and_then(|code| all.iter().find(|r| r.code == code && (staff.staff.is_platform_admin() || r.provider_code == department)));
    let v = FormValues::new(&department, editing);
    let resources = if words.trim().is_empty() { all } else { app.exchange.search(&words).await? };
    render(CatalogPage { can_publish: staff.staff.can(Permission::ManageExchange), v, c, q: words, resources, notice, error })
}

/// 政务信息资源目录 for staff, searchable; department admins publish here.
pub async fn catalog(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<CatalogQuery>) -> PageResult {
    let notice = q.notice.filter(|n| n == "published").map(|_| c.tr("信息资源已发布", "Resource published").to_string());
    catalog_page(&app, c, &staff, q.q.unwrap_or_default(), q.edit.as_deref(), notice, None).await
}

/// A resource from the publishing form. Data items are lines `name|中文名称|type`.
fn resource_from_form(form: &[(String, String)]) -> Result<Resource, String> {
    use yiwang_exchange::{DataItem, OpenType, Service, SubjectKind, UpdateCycle};
    let f = |k: &str| field(form, k).trim().to_string();
    let parse = |k: &str, what: &str| -> Result<serde_json::Value, String> {
        let v = f(k);
        if v.is_empty() {
            return Err(format!("请选择{what}"));
        }
        Ok(serde_json::Value::String(v))
    };
    let sharing: SharingType = serde_json::from_value(parse("sharing_type", "共享类型")?).map_err(|_| "共享类型无效".to_string())?;
    let open: OpenType = serde_json::from_value(parse("open_type", "开放类型")?).map_err(|_| "开放类型无效".to_string())?;
    let cycle: UpdateCycle = serde_json::from_value(parse("update_cycle", "更新周期")?).map_err(|_| "更新周期无效".to_string())?;
    let subject_kind: SubjectKind = serde_json::from_value(parse("subject_kind", "主体类型")?).map_err(|_| "主体类型无效".to_string())?;
    let mut items = Vec::new();
    for (i, line) in f("items").lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let p: Vec<&str> = line.split('|').map(str::trim).collect();
        if p.len() < 2 {
            return Err(format!("信息项第{}行应为“字段|中文名称|类型”", i + 1));
        }
        items.push(DataItem {
            name: p[0].into(),
            label: p[1].into(),
            kind: p.get(2).filter(|k| !k.is_empty()).unwrap_or(&"string").to_string(),
        });
    }
    let service = match f("service").as_str() {
        "rest" => Service::Rest {
            url: f("url"),
            timeout_ms: f("timeout_ms").parse().unwrap_or(3000),
            openapi_url: Some(f("openapi_url")).filter(|u| !u.is_empty()),
        },
        _ => Service::Store,
    };
    let provider = f("provider_code");
    Ok(Resource {
        code: format!("{provider}-{}", f("serial")),
        name: f("name"),
        classification: f("classification"),
        provider_code: provider,
        provider_name: f("provider_name"),
        summary: f("summary"),
        format: f("format"),
        subject_kind,
        subject_item: f("subject_item"),
        items,
        sharing_type: sharing,
        sharing_basis: f("sharing_basis"),
        sharing_conditions: f("sharing_conditions"),
        sharing_method: f("sharing_method"),
        open_type: open,
        update_cycle: cycle,
        published_on: yiwang_exchange::china_today().format("%Y-%m-%d").to_string(),
        service,
    })
}

/// Publish (or replace) a resource of the staff member's department.
pub async fn publish(State(app): State<AppState>, c: Chrome, CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>) -> PageResult {
    let r = match resource_from_form(&form) {
        Ok(r) => r,
        Err(m) => return catalog_page(&app, c, &staff, String::new(), None, None, Some(m)).await,
    };
    match app.exchange.put_resource(&staff.staff, &r).await.map_err(AppError::from) {
        Ok(()) => Ok(Redirect::to("/staff/exchange?notice=published").into_response()),
        Err(e) if e.status.is_client_error() => {
            catalog_page(&app, c, &staff, String::new(), Some(&r.code), None, Some(e.body.message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/exchange_resource.html")]
struct ResourcePage {
    c: Chrome,
    r: Resource,
    records: i64,
    circuit_open: bool,
    /// Member systems of the staff member's department (for the request form).
    own_members: Vec<Member>,
    can_request: bool,
    /// The staff member's department publishes it (or a platform admin looks).
    can_edit: bool,
    default_valid_to: String,
    error: Option<String>,
}

async fn resource_page(app: &AppState, c: Chrome, staff: &StaffSession, code: &str, error: Option<String>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let r = app.exchange.resource(code).await?;
    let dept = staff.staff.department.clone().unwrap_or_default();
    let own_members: Vec<Member> = app
        .exchange
        .members()
        .await?
        .into_iter()
        .filter(|m| m.disabled_at.is_none() && (staff.staff.is_platform_admin() || m.department_code == dept))
        .collect();
    let can_request = r.sharing_type == SharingType::Conditional && staff.staff.can(Permission::ManageExchange) && !own_members.is_empty();
    let default_valid_to = (chrono::Utc::now() + chrono::Duration::days(365)).format("%Y-%m-%d").to_string();
    let can_edit = staff.staff.can(Permission::ManageExchange) && (staff.staff.is_platform_admin() || r.provider_code == dept);
    render(ResourcePage {
        can_edit,
        records: app.exchange.record_count(&r.code).await?,
        circuit_open: app.exchange.circuit_open(&r.code),
        c,
        r,
        own_members,
        can_request,
        default_valid_to,
        error,
    })
}

pub async fn resource(State(app): State<AppState>, c: Chrome, staff: StaffSession, Path(code): Path<String>) -> PageResult {
    resource_page(&app, c, &staff, &code, None).await
}

/// A grant with the names people read.
pub struct GrantRow {
    pub g: Grant,
    pub resource_name: String,
    /// The viewer's department provides the resource (may approve or reject).
    pub mine_to_decide: bool,
    /// The viewer may revoke it (provider or consumer department).
    pub may_revoke: bool,
}

#[derive(Template)]
#[template(path = "staff/exchange_grants.html")]
struct GrantsPage {
    c: Chrome,
    rows: Vec<GrantRow>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

async fn grants_page(app: &AppState, c: Chrome, staff: &StaffSession, notice: Option<String>, error: Option<String>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let resources = app.exchange.resources().await?;
    let dept = staff.staff.department.clone().unwrap_or_default();
    let admin = staff.staff.is_platform_admin();
    let manage = staff.staff.can(Permission::ManageExchange);
    let rows = app
        .exchange
        .grants_for(&staff.staff)
        .await?
        .into_iter()
        .map(|g| {
            let r = resources.iter().find(|r| r.code == g.resource_code);
            let provider = r.is_some_and(|r| admin || r.provider_code == dept);
            let consumer = admin || g.member_id.starts_with(&format!("{dept}:"));
            GrantRow {
                resource_name: r.map(|r| r.name.clone()).unwrap_or_else(|| g.resource_code.clone()),
                mine_to_decide: manage && provider,
                may_revoke: manage && (provider || consumer),
                g,
            }
        })
        .collect();
    render(GrantsPage { c, rows, notice, error })
}

pub async fn grants(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<NoticeQuery>) -> PageResult {
    let notice = q.notice.map(|n| match n.as_str() {
        "requested" => c.tr("共享申请已提交，等待提供方审核", "Request submitted; waiting for the provider").to_string(),
        "approve" => c.tr("已批准", "Approved").to_string(),
        "reject" => c.tr("已驳回", "Rejected").to_string(),
        "revoke" => c.tr("授权已撤销，调用立即停止", "Grant revoked; calls stop at once").to_string(),
        _ => String::new(),
    });
    grants_page(&app, c, &staff, notice.filter(|s| !s.is_empty()), None).await
}

/// The request form on a resource page.
pub async fn request_access(
    State(app): State<AppState>,
    c: Chrome,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let code = field(&form, "resource_code").to_string();
    let req = GrantRequest {
        member_id: field(&form, "member_id").to_string(),
        resource_code: code.clone(),
        purpose: field(&form, "purpose").to_string(),
        legal_basis: field(&form, "legal_basis").to_string(),
        fields: form.iter().filter(|(k, _)| k == "fields").map(|(_, v)| v.clone()).collect(),
        valid_to: field(&form, "valid_to").to_string(),
        rate_per_sec: field(&form, "rate_per_sec").trim().parse().ok(),
    };
    match app.exchange.request_access(&staff.staff, &req).await.map_err(AppError::from) {
        Ok(_) => Ok(Redirect::to("/staff/exchange/grants?notice=requested").into_response()),
        Err(e) if e.status.is_client_error() => resource_page(&app, c, &staff, &code, Some(e.body.message)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn decide(
    State(app): State<AppState>,
    c: Chrome,
    Path(id): Path<String>,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let action = field(&form, "action").to_string();
    match decide_grant(&app, &staff, &id, &action, field(&form, "note")).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/exchange/grants?notice={}", super::urlencode(&action))).into_response()),
        Err(e) if e.status.is_client_error() => grants_page(&app, c, &staff, None, Some(e.body.message)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/exchange_members.html")]
struct MembersPage {
    c: Chrome,
    members: Vec<Member>,
    can_register: bool,
    department: String,
    error: Option<String>,
    notice: Option<String>,
}

async fn members_page(app: &AppState, c: Chrome, staff: &StaffSession, notice: Option<String>, error: Option<String>) -> PageResult {
    staff.require(Permission::Workbench)?;
    render(MembersPage {
        members: app.exchange.members().await?,
        can_register: staff.staff.can(Permission::ManageExchange),
        department: staff.staff.department.clone().unwrap_or_default(),
        c,
        error,
        notice,
    })
}

pub async fn members(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<NoticeQuery>) -> PageResult {
    let notice = q
        .notice
        .map(|n| match n.as_str() {
            "registered" => c.tr("成员系统已注册", "System registered").to_string(),
            "disabled" => c.tr("成员系统已停用，其访问令牌立即失效", "System disabled; its tokens stop working at once").to_string(),
            "enabled" => c.tr("成员系统已启用", "System enabled").to_string(),
            _ => String::new(),
        })
        .filter(|s| !s.is_empty());
    members_page(&app, c, &staff, notice, None).await
}

pub async fn register_member(
    State(app): State<AppState>,
    c: Chrome,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let m = NewMember {
        department_code: field(&form, "department_code").trim().to_string(),
        subsystem: field(&form, "subsystem").trim().to_string(),
        name: field(&form, "name").to_string(),
        public_key: field(&form, "public_key").trim().to_string(),
        rate_per_sec: field(&form, "rate_per_sec").trim().parse().ok(),
    };
    match app.exchange.register_member(&staff.staff, &m).await.map_err(AppError::from) {
        Ok(_) => Ok(Redirect::to("/staff/exchange/members?notice=registered").into_response()),
        Err(e) if e.status.is_client_error() => members_page(&app, c, &staff, None, Some(e.body.message)).await,
        Err(e) => Err(e.into()),
    }
}

/// Disable or re-enable a member system (its tokens stop working at once).
pub async fn member_state(State(app): State<AppState>, c: Chrome, CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>) -> PageResult {
    let disabled = field(&form, "disabled") == "true";
    let notice = if disabled { "disabled" } else { "enabled" };
    match app.exchange.set_member_disabled(&staff.staff, field(&form, "member_id"), disabled).await.map_err(AppError::from) {
        Ok(_) => Ok(Redirect::to(&format!("/staff/exchange/members?notice={notice}")).into_response()),
        Err(e) if e.status.is_client_error() => members_page(&app, c, &staff, None, Some(e.body.message)).await,
        Err(e) => Err(e.into()),
    }
}

/// A statistics row with the resource's name.
pub struct StatRow {
    pub s: Stat,
    pub resource_name: String,
}

#[derive(Template)]
#[template(path = "staff/exchange_stats.html")]
struct StatsPage {
    c: Chrome,
    rows: Vec<StatRow>,
    recent: Vec<AccessRecord>,
}

/// Calls, errors and latency per resource and member, and the latest exchanges.
pub async fn stats(State(app): State<AppState>, c: Chrome, staff: StaffSession) -> PageResult {
    staff.require(Permission::Workbench)?;
    let resources = app.exchange.resources().await?;
    let rows = app
        .exchange
        .stats()
        .await?
        .into_iter()
        .map(|s| StatRow {
            resource_name: resources
                .iter()
                .find(|r| r.code == s.resource_code)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| s.resource_code.clone()),
            s,
        })
        .collect();
    let recent = app.exchange.recent(&staff.staff, 50).await?;
    render(StatsPage { c, rows, recent })
}

#[derive(Template)]
#[template(path = "account/data_access.html")]
struct DataAccessPage {
    c: Chrome,
    rows: Vec<AccessView>,
    error: Option<String>,
}

/// 数据访问记录: who accessed my data, when and why.
pub async fn my_data_access(State(app): State<AppState>, c: Chrome, person: PersonSession) -> PageResult {
    let subject = match data_subject(&person) {
        Ok(s) => s,
        Err(e) if e.status.is_client_error() => return render(DataAccessPage { c, rows: vec![], error: Some(e.body.message) }),
        Err(e) => return Err(e.into()),
    };
    let names = department_names(&app).await;
    let rows = app.exchange.access_for_subject(&subject, &names, 500).await?;
    render(DataAccessPage { c, rows, error: None })
}
