//! Staff pages about accounts: own sessions and sign-in history, in-person verification of
//! citizens (L3, window staff), and registration of department systems as OIDC clients
//! (platform admins).

use askama::Template;
use axum::extract::State;
use serde::Deserialize;
use yiwang_identity::oidc::{Client, NewClient, SCOPES};
use yiwang_identity::{IdentityError, Kind, LoginEvent, Permission};

use super::account::SessionRow;
use super::{render, Chrome, PageResult};
use crate::auth::{CsrfForm, StaffSession};
use crate::AppState;

#[derive(Template)]
#[template(path = "staff/account.html")]
struct AccountPage {
    c: Chrome,
    sessions: Vec<SessionRow>,
    history: Vec<LoginEvent>,
}

pub async fn account(State(app): State<AppState>, c: Chrome, s: StaffSession) -> PageResult {
    s.require(Permission::Workbench)?;
    let sessions = app
        .identity
        .sessions_of(Kind::Staff, &s.staff.username)
        .await?
        .into_iter()
        .map(|info| SessionRow { current: info.handle == s.session.handle, info })
        .collect();
    let history = app.identity.login_history(Kind::Staff, &s.staff.username, 30).await?;
    render(AccountPage { c, sessions, history })
}

#[derive(Template)]
#[template(path = "staff/verify.html")]
struct VerifyPage {
    c: Chrome,
    notice: Option<String>,
    error: Option<String>,
}

pub async fn verify_form(c: Chrome, s: StaffSession) -> PageResult {
    s.require(Permission::VerifyInPerson)?;
    render(VerifyPage { c, notice: None, error: None })
}

#[derive(Deserialize)]
pub struct VerifyForm {
    id_number: String,
    name: String,
}

pub async fn verify(State(app): State<AppState>, c: Chrome, f: CsrfForm<VerifyForm>) -> PageResult {
    f.staff.require(Permission::VerifyInPerson)?;
    match app.identity.verify_in_person(&f.staff.staff, &f.form.id_number, &f.form.name, &f.staff.source).await {
        Ok(p) => render(VerifyPage {
            c, notice: Some(format!("核验完成，已升级为L3：{} {}", p.name, p.id_number_masked())), error: None
        }),
        Err(e @ (IdentityError::Code(_) | IdentityError::NotFound(_) | IdentityError::VerificationFailed)) => {
            let status = crate::error::status_for(yiwang_core::DomainError::kind(&e));
            let mut res = render(VerifyPage { c, notice: None, error: Some(e.to_string()) })?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff/clients.html")]
struct ClientsPage {
    c: Chrome,
    clients: Vec<Client>,
    scopes: Vec<&'static str>,
    created: Option<(String, String)>,
    error: Option<String>,
    notice: Option<String>,
    issuer: String,
}

async fn clients_page(app: &AppState, c: Chrome, created: Option<(String, String)>, error: Option<String>) -> PageResult {
    let clients = app.provider.clients().await?;
    let scopes = SCOPES.iter().map(|s| s.0).collect();
    render(ClientsPage { c, clients, scopes, created, error, notice: None, issuer: app.provider.issuer().to_string() })
}

pub async fn clients(State(app): State<AppState>, c: Chrome, s: StaffSession) -> PageResult {
    s.require(Permission::ManageClients)?;
    clients_page(&app, c, None, None).await
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// Register a client. Scopes arrive as repeated `scope` fields, so the raw pairs are read
/// (see [`super::field`]).
pub async fn create_client(State(app): State<AppState>, c: Chrome, f: CsrfForm<Vec<(String, String)>>) -> PageResult {
    f.staff.require(Permission::ManageClients)?;
    let get = |k: &str| super::field(&f.form, k);
    let scopes = super::fields(&f.form, "scope");
    let (redirects, logouts) = (lines(get("redirect_uris")), lines(get("post_logout_redirect_uris")));
    let new = NewClient {
        name: get("name"),
        redirect_uris: &redirects,
        post_logout_redirect_uris: &logouts,
        scopes: &scopes,
        id_token_alg: get("id_token_alg"),
        subject_kind: get("subject_kind"),
        department: Some(get("department")),
    };
    match app.provider.register_client(&f.staff.staff, new, &f.staff.source).await {
        Ok(r) => clients_page(&app, c, Some((r.client.client_id, r.client_secret)), None).await,
        Err(e @ IdentityError::InvalidField { .. }) => {
            let mut res = clients_page(&app, c, None, Some(e.to_string())).await?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ToggleForm {
    client_id: String,
    disabled: String,
}

pub async fn toggle_client(State(app): State<AppState>, c: Chrome, f: CsrfForm<ToggleForm>) -> PageResult {
    f.staff.require(Permission::ManageClients)?;
    app.provider.set_client_disabled(&f.staff.staff, &f.form.client_id, f.form.disabled == "1", &f.staff.source).await?;
    clients_page(&app, c, None, None).await
}

#[derive(Deserialize)]
pub struct ResetTotpForm {
    username: String,
}

/// A platform administrator clears a staff member's authenticator (lost phone); they enrol
/// again at their next sign-in.
pub async fn reset_totp(State(app): State<AppState>, c: Chrome, f: CsrfForm<ResetTotpForm>) -> PageResult {
    f.staff.require(Permission::ManageClients)?;
    match app.identity.reset_staff_totp(&f.staff.staff, f.form.username.trim(), &f.staff.source).await {
        Ok(()) => {
            let clients = app.provider.clients().await?;
            let notice = Some(format!("已重置 {} 的动态口令，其下次登录时需重新绑定", f.form.username.trim()));
            let scopes = SCOPES.iter().map(|s| s.0).collect();
            render(ClientsPage { c, clients, scopes, created: None, error: None, notice, issuer: app.provider.issuer().to_string() })
        }
        Err(e @ IdentityError::NotFound(_)) => {
            let mut res = clients_page(&app, c, None, Some(e.to_string())).await?;
            *res.status_mut() = axum::http::StatusCode::NOT_FOUND;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}
