//! Licence pages: the holder's wallet (我的证照) with a printable licence, its QR code, file
//! download, annotated copies and use records; the public verification page the QR code
//! opens; a third party's one-use view of an annotated copy; and the staff page for issuing,
//! revoking and rotating seals. All work without JavaScript.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use yiwang_licences::{AnnotatedCopy, Document, Licence, LicenceSummary, LicenceType, LicenceUse, Seal, VerifyReport};

use super::{field, qr_svg, render, Chrome, PageResult};
use crate::api_licences::{self, holder, CopyRequest, IssueBody};
use crate::auth::{CsrfForm, PersonForm, PersonSession, StaffSession};
use crate::error::AppError;
use crate::AppState;

/// A licence field ready for display.
pub struct DataRow {
    pub label: String,
    pub value: String,
}

fn data_rows(t: Option<&LicenceType>, d: &Document, en: bool) -> Vec<DataRow> {
    match t {
        Some(t) => t
            .fields
            .iter()
            .map(|f| DataRow {
                label: if en && !f.label_en.is_empty() { f.label_en.clone() } else { f.label.clone() },
                value: d.data.get(&f.key).cloned().unwrap_or_default(),
            })
            .collect(),
        None => d.data.iter().map(|(k, v)| DataRow { label: k.clone(), value: v.clone() }).collect(),
    }
}

// ---------- wallet ----------

#[derive(Template)]
#[template(path = "licences/wallet.html")]
struct WalletPage {
    c: Chrome,
    licences: Vec<LicenceSummary>,
}

pub async fn wallet(State(app): State<AppState>, c: Chrome, person: PersonSession) -> PageResult {
    let h = holder(&person)?;
    render(WalletPage { licences: app.licences.wallet(&h.id).await?, c })
}

#[derive(Template)]
#[template(path = "licences/licence.html")]
struct LicencePage {
    c: Chrome,
    l: Licence,
    title: String,
    accent: String,
    note: String,
    rows: Vec<DataRow>,
    qr: String,
    verify_url: String,
    uses: Vec<LicenceUse>,
    copies: Vec<(AnnotatedCopy, String)>,
    new_copy: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LicenceQuery {
    pub copy: Option<String>,
}

async fn licence_page(
    app: &AppState,
    c: Chrome,
    person: &PersonSession,
    identifier: &str,
    new_copy: Option<String>,
    error: Option<String>,
) -> PageResult {
    let h = holder(person)?;
    let v = api_licences::held_view(app, &h, identifier).await?;
    let t = app.licences.licence_type(&v.licence.document.type_code).await.ok();
    let copies = v
        .copies
        .into_iter()
        .map(|k| {
            let url = api_licences::copy_url(app, &k.token);
            (k, url)
        })
        .collect();
    render(LicencePage {
        title: t.as_ref().map(|t| t.title().to_string()).unwrap_or_else(|| v.licence.document.type_name.clone()),
        accent: t.as_ref().map(|t| t.accent().to_string()).unwrap_or_else(|| "#b91c1c".into()),
        note: t.as_ref().map(|t| t.template.note.clone()).unwrap_or_default(),
        rows: data_rows(t.as_ref(), &v.licence.document, c.en),
        qr: qr_svg(&v.verify_url),
        verify_url: v.verify_url,
        uses: v.uses,
        copies,
        new_copy,
        error,
        l: v.licence,
        c,
    })
}

pub async fn licence(
    State(app): State<AppState>,
    c: Chrome,
    person: PersonSession,
    Path(identifier): Path<String>,
    Query(q): Query<LicenceQuery>,
) -> PageResult {
    let new_copy = q.copy.map(|t| api_licences::copy_url(&app, &t));
    licence_page(&app, c, &person, &identifier, new_copy, None).await
}

pub async fn file(State(app): State<AppState>, person: PersonSession, Path(identifier): Path<String>) -> PageResult {
    Ok(api_licences::file_download(&app, &person, &identifier).await?)
}

pub async fn make_copy(
    State(app): State<AppState>,
    c: Chrome,
    Path(identifier): Path<String>,
    PersonForm { person, form }: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let r = CopyRequest {
        purpose: field(&form, "purpose").to_string(),
        recipient: field(&form, "recipient").to_string(),
        days: field(&form, "days").trim().parse().ok(),
    };
    match api_licences::create_copy(&app, &person, &identifier, &r).await {
        Ok(created) => Ok(Redirect::to(&format!("/licences/{identifier}?copy={}", created.copy.token)).into_response()),
        Err(e) if e.status.is_client_error() => licence_page(&app, c, &person, &identifier, None, Some(e.body.message)).await,
        Err(e) => Err(e.into()),
    }
}

// ---------- public verification ----------

#[derive(Template)]
#[template(path = "licences/verify.html")]
struct VerifyPage {
    c: Chrome,
    identifier: String,
    report: Option<VerifyReport>,
    not_found: bool,
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    pub identifier: Option<String>,
}

/// The page a licence's QR code opens (and a form to type an identifier).
pub async fn verify(State(app): State<AppState>, c: Chrome, Path(identifier): Path<String>) -> PageResult {
    verify_page(&app, c, identifier).await
}

pub async fn verify_form(State(app): State<AppState>, c: Chrome, Query(q): Query<VerifyQuery>) -> PageResult {
    verify_page(&app, c, q.identifier.unwrap_or_default()).await
}

async fn verify_page(app: &AppState, c: Chrome, identifier: String) -> PageResult {
    let identifier = identifier.trim().to_string();
    let (report, not_found) = if identifier.is_empty() {
        (None, false)
    } else {
        match app.licences.verify(&identifier).await {
            Ok(r) => (Some(r), false),
            Err(yiwang_licences::LicenceError::NotFound) => (None, true),
            Err(e) => return Err(e.into()),
        }
    };
    render(VerifyPage { c, identifier, report, not_found })
}

// ---------- annotated copies (third party) ----------

#[derive(Template)]
#[template(path = "licences/copy.html")]
struct CopyPage {
    c: Chrome,
    copy: AnnotatedCopy,
    /// After use: the licence and its verification.
    used: Option<(Document, VerifyReport)>,
    rows: Vec<DataRow>,
    error: Option<String>,
}

pub async fn copy(State(app): State<AppState>, c: Chrome, Path(token): Path<String>) -> PageResult {
    let copy = app.licences.copy(&token).await?;
    render(CopyPage { c, copy, used: None, rows: vec![], error: None })
}

pub async fn use_copy(
    State(app): State<AppState>,
    c: Chrome,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    match app.licences.use_copy(&token, field(&form, "used_by").trim()).await {
        Ok((copy, licence, report)) => {
            let t = app.licences.licence_type(&licence.document.type_code).await.ok();
            let rows = data_rows(t.as_ref(), &licence.document, c.en);
            render(CopyPage { c, copy, used: Some((licence.document, report)), rows, error: None })
        }
        Err(e @ (yiwang_licences::LicenceError::CopyUsed | yiwang_licences::LicenceError::CopyExpired)) => {
            let copy = app.licences.copy(&token).await?;
            let status = crate::error::status_for(yiwang_core::DomainError::kind(&e));
            super::render_refused(CopyPage { c, copy, used: None, rows: vec![], error: Some(e.to_string()) }, true, status)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- staff ----------

#[derive(Template)]
#[template(path = "staff/licences.html")]
struct StaffLicencesPage {
    c: Chrome,
    issued: Vec<LicenceSummary>,
    types: Vec<LicenceType>,
    chosen: Option<LicenceType>,
    seals: Vec<Seal>,
    manage_seals: bool,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct StaffLicencesQuery {
    #[serde(rename = "type")]
    pub type_code: Option<String>,
    pub notice: Option<String>,
}

async fn staff_page(
    app: &AppState,
    c: Chrome,
    staff: &StaffSession,
    type_code: Option<&str>,
    error: Option<String>,
    notice: Option<String>,
) -> PageResult {
    staff.require(yiwang_identity::Permission::Workbench)?;
    let dept = api_licences::department_of(&staff.staff)?;
    let types = app.licences.types().await?;
    let chosen = type_code.and_then(|code| types.iter().find(|t| t.code == code).cloned());
    render(StaffLicencesPage {
        issued: app.licences.issued_by(&dept, 100).await?,
        seals: app.licences.seals(Some(&dept)).await?,
        manage_seals: staff.staff.can(yiwang_identity::Permission::ManageSeals),
        types,
        chosen,
        error,
        notice,
        c,
    })
}

pub async fn staff_licences(
    State(app): State<AppState>,
    c: Chrome,
    staff: StaffSession,
    Query(q): Query<StaffLicencesQuery>,
) -> PageResult {
    let notice = q.notice.map(|n| match n.as_str() {
        "issued" => c.tr("已签发电子证照", "Licence issued").to_string(),
        "revoked" => c.tr("证照已注销", "Licence revoked").to_string(),
        "rotated" => c.tr("印章密钥已轮换，此前签发的证照仍可核验", "Seal key rotated; earlier licences still verify").to_string(),
        _ => String::new(),
    });
    staff_page(&app, c, &staff, q.type_code.as_deref(), None, notice.filter(|s| !s.is_empty())).await
}

pub async fn staff_issue(State(app): State<AppState>, c: Chrome, CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>) -> PageResult {
    let type_code = field(&form, "type_code").to_string();
    let body = IssueBody {
        type_code: type_code.clone(),
        holder_name: field(&form, "holder_name").to_string(),
        holder_id: field(&form, "holder_id").to_string(),
        data: form.iter().filter_map(|(k, v)| k.strip_prefix("d_").map(|k| (k.to_string(), v.clone()))).collect(),
        valid_to: chrono::NaiveDate::parse_from_str(field(&form, "valid_to").trim(), "%Y-%m-%d").ok(),
    };
    match api_licences::issue_by(&app, &staff, body).await {
        Ok(_) => Ok(Redirect::to("/staff/licences?notice=issued").into_response()),
        Err(e) if e.status.is_client_error() => staff_page(&app, c, &staff, Some(&type_code), Some(e.body.message), None).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn staff_revoke(State(app): State<AppState>, c: Chrome, CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>) -> PageResult {
    match app.licences.revoke(&staff.staff, field(&form, "identifier"), field(&form, "reason"), &staff.source).await {
        Ok(_) => Ok(Redirect::to("/staff/licences?notice=revoked").into_response()),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_client_error() {
                staff_page(&app, c, &staff, None, Some(e.body.message), None).await
            } else {
                Err(e.into())
            }
        }
    }
}

pub async fn staff_rotate(State(app): State<AppState>, c: Chrome, CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>) -> PageResult {
    match api_licences::rotate_by(&app, &staff, field(&form, "algorithm")).await {
        Ok(_) => Ok(Redirect::to("/staff/licences?notice=rotated").into_response()),
        Err(e) if e.status.is_client_error() => staff_page(&app, c, &staff, None, Some(e.body.message), None).await,
        Err(e) => Err(e.into()),
    }
}
