//! Citizen and business account pages (个人/法人空间): register, sign in, real-name
//! verification, businesses and agents, sessions and login history, password reset.
//! Every handler that changes something takes a [`PersonForm`] (session + CSRF token).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yiwang_identity::{Agent, AgentScope, Business, ClientInfo, IdentityError, LoginEvent, NewAgent, NewPerson, SessionInfo};

use super::staff::{with_cookie, ConnectInfoOpt, Empty};
use super::{render, safe_next, Chrome, PageResult};
use crate::auth::{self, PersonForm, PersonSession};
use crate::AppState;

fn with_error_status(mut res: Response, e: &IdentityError) -> Response {
    *res.status_mut() = crate::error::status_for(yiwang_core::DomainError::kind(e));
    res
}

/// Errors a person can fix on the same form are shown there; the rest become error pages.
fn form_error(e: &IdentityError) -> bool {
    use yiwang_core::ErrorKind::*;
    matches!(yiwang_core::DomainError::kind(e), Invalid | Conflict | Unauthenticated | TooManyRequests | Forbidden)
        && !matches!(e, IdentityError::CsrfMismatch)
}

// ---------- sign in ----------

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    token: String,
    error: Option<String>,
    login: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(State(app): State<AppState>, c: Chrome, Query(q): Query<NextQuery>) -> PageResult {
    let (token, cookie) = auth::login_form_token(app.settings.secure_cookies);
    let res = render(LoginPage { c, next: safe_next(q.next.as_deref()), token, error: None, login: String::new() })?;
    Ok(with_cookie(res, cookie))
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
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
    let token = auth::check_login_token(&headers, &f.csrf_token)?;
    app.login_limiter.check(&source)?;
    let client = ClientInfo { source: &source, user_agent: auth::user_agent(&headers) };
    match app.identity.login_person(&f.login, &f.password, client).await {
        Ok((session_token, _)) => {
            let dest = if f.next.is_empty() || f.next == "/" { "/account".to_string() } else { safe_next(Some(&f.next)) };
            Ok(auth::signed_in(Redirect::to(&dest).into_response(), &session_token, app.settings.secure_cookies))
        }
        Err(e) if form_error(&e) => {
            let page = LoginPage { c, next: safe_next(Some(&f.next)), token, error: Some(e.to_string()), login: f.login };
            Ok(with_error_status(render(page)?, &e))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- register ----------

#[derive(Template)]
#[template(path = "account/register.html")]
struct RegisterPage {
    c: Chrome,
    token: String,
    error: Option<String>,
    name: String,
    id_number: String,
    phone: String,
    email: String,
}

pub async fn register_form(State(app): State<AppState>, c: Chrome) -> PageResult {
    let (token, cookie) = auth::login_form_token(app.settings.secure_cookies);
    let page =
        RegisterPage { c, token, error: None, name: String::new(), id_number: String::new(), phone: String::new(), email: String::new() };
    Ok(with_cookie(render(page)?, cookie))
}

#[derive(Deserialize)]
pub struct RegisterForm {
    name: String,
    id_number: String,
    phone: String,
    #[serde(default)]
    email: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
}

pub async fn register(
    State(app): State<AppState>,
    c: Chrome,
    headers: HeaderMap,
    ConnectInfoOpt(source): ConnectInfoOpt,
    axum::Form(f): axum::Form<RegisterForm>,
) -> PageResult {
    let token = auth::check_login_token(&headers, &f.csrf_token)?;
    app.login_limiter.check(&source)?;
    let new = NewPerson { name: &f.name, id_number: &f.id_number, phone: &f.phone, email: Some(&f.email), password: &f.password };
    let client = ClientInfo { source: &source, user_agent: auth::user_agent(&headers) };
    match app.identity.register_and_sign_in(new, client).await {
        Ok((_, session_token, _)) => {
            Ok(auth::signed_in(Redirect::to("/account").into_response(), &session_token, app.settings.secure_cookies))
        }
        Err(e) if form_error(&e) => {
            let page =
                RegisterPage { c, token, error: Some(e.to_string()), name: f.name, id_number: f.id_number, phone: f.phone, email: f.email };
            Ok(with_error_status(render(page)?, &e))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- account home ----------

pub struct SessionRow {
    pub info: SessionInfo,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account/home.html")]
struct HomePage {
    c: Chrome,
    name: String,
    id_masked: String,
    phone_masked: String,
    assurance_label: &'static str,
    assurance_level: u8,
    acting: Option<yiwang_identity::ActingFor>,
    businesses: Vec<Business>,
    sessions: Vec<SessionRow>,
    history: Vec<LoginEvent>,
    notice: Option<String>,
    error: Option<String>,
}

async fn home_page(app: &AppState, c: Chrome, s: &PersonSession, notice: Option<String>, error: Option<String>) -> PageResult {
    let p = app.identity.person(&s.person.subject).await?;
    let sessions = app
        .identity
        .sessions_of(yiwang_identity::Kind::Person, &p.subject)
        .await?
        .into_iter()
        .map(|info| SessionRow { current: info.handle == s.session.handle, info })
        .collect();
    let page = HomePage {
        assurance_label: if c.en { p.assurance.label_en() } else { p.assurance.label_zh() },
        c,
        name: p.name.clone(),
        id_masked: p.id_number_masked(),
        phone_masked: p.phone_masked(),
        assurance_level: p.assurance.level(),
        acting: s.session.acting_for.clone(),
        businesses: app.identity.businesses_of(&p.subject).await?,
        sessions,
        history: app.identity.login_history(yiwang_identity::Kind::Person, &p.subject, 20).await?,
        notice,
        error,
    };
    render(page)
}

pub async fn home(State(app): State<AppState>, c: Chrome, s: PersonSession) -> PageResult {
    home_page(&app, c, &s, None, None).await
}

/// Run an account action and show the account page with its outcome.
async fn after(app: &AppState, c: Chrome, s: &PersonSession, outcome: Result<String, IdentityError>) -> PageResult {
    match outcome {
        Ok(notice) => home_page(app, c, s, Some(notice), None).await,
        Err(e) if form_error(&e) => Ok(with_error_status(home_page(app, c, s, None, Some(e.to_string())).await?, &e)),
        Err(e) => Err(e.into()),
    }
}

pub async fn verify(State(app): State<AppState>, c: Chrome, f: PersonForm<Empty>) -> PageResult {
    let outcome = app.identity.verify_online(&f.person.person.subject).await.map(|p| format!("实名核验通过：{}", p.assurance.label_zh()));
    after(&app, c, &f.person, outcome).await
}

#[derive(Deserialize)]
pub struct HandleForm {
    handle: String,
}

pub async fn revoke_session(State(app): State<AppState>, c: Chrome, f: PersonForm<HandleForm>) -> PageResult {
    let s = &f.person;
    app.identity.revoke_session(yiwang_identity::Kind::Person, &s.person.subject, &f.form.handle).await?;
    if f.form.handle == s.session.handle {
        return Ok(with_cookie(Redirect::to("/").into_response(), auth::clear_session_cookie(app.settings.secure_cookies)));
    }
    after(&app, c, s, Ok("已退出该设备".into())).await
}

#[derive(Deserialize)]
pub struct ActingForm {
    #[serde(default)]
    credit_code: String,
}

pub async fn set_acting(State(app): State<AppState>, f: PersonForm<ActingForm>) -> PageResult {
    let code = Some(f.form.credit_code.trim()).filter(|c| !c.is_empty());
    app.identity.set_acting_for(&f.person.token, &f.person.person.subject, code).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
pub struct BusinessForm {
    credit_code: String,
}

pub async fn add_business(State(app): State<AppState>, c: Chrome, f: PersonForm<BusinessForm>) -> PageResult {
    let s = &f.person;
    let outcome = app
        .identity
        .register_business(&s.person.subject, &f.form.credit_code, &s.source)
        .await
        .map(|b| format!("已开通法人账号：{}", b.name));
    after(&app, c, s, outcome).await
}

// ---------- business agents ----------

#[derive(Template)]
#[template(path = "account/business.html")]
struct BusinessPage {
    c: Chrome,
    code: String,
    name: String,
    agents: Vec<Agent>,
    scopes: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    error: Option<String>,
}

async fn business_page(
    app: &AppState,
    c: Chrome,
    s: &PersonSession,
    code: &str,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let agents = app.identity.agents(&s.person.subject, code).await?;
    let name = app.identity.acting_context(&s.person.subject, code).await?.map(|a| a.name).unwrap_or_default();
    let scopes = AgentScope::ALL.iter().map(|a| (a.key(), a.label_zh())).collect();
    render(BusinessPage { c, code: code.to_string(), name, agents, scopes, notice, error })
}

pub async fn business(State(app): State<AppState>, c: Chrome, s: PersonSession, Path(code): Path<String>) -> PageResult {
    business_page(&app, c, &s, &code, None, None).await
}

/// The form posts repeated `scope` fields, so the raw pairs are read (see [`super::field`]).
pub async fn grant_agent(
    State(app): State<AppState>,
    c: Chrome,
    Path(code): Path<String>,
    f: PersonForm<Vec<(String, String)>>,
) -> PageResult {
    let scopes = super::fields(&f.form, "scope");
    let s = &f.person;
    let new = NewAgent { id_number: super::field(&f.form, "id_number"), scopes: &scopes, expires_on: super::field(&f.form, "expires_on") };
    match app.identity.grant_agent(&s.person.subject, &code, new, &s.source).await {
        Ok(a) => business_page(&app, c, s, &code, Some(format!("已授权经办人：{}", a.name)), None).await,
        Err(e) if form_error(&e) && !matches!(e, IdentityError::NotRepresentative) => {
            Ok(with_error_status(business_page(&app, c, s, &code, None, Some(e.to_string())).await?, &e))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_agent(
    State(app): State<AppState>,
    c: Chrome,
    Path((code, id)): Path<(String, i64)>,
    f: PersonForm<Empty>,
) -> PageResult {
    let s = &f.person;
    app.identity.revoke_agent(&s.person.subject, &code, id, &s.source).await?;
    business_page(&app, c, s, &code, Some("已撤销授权".into()), None).await
}

// ---------- password reset ----------

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage {
    c: Chrome,
    token: String,
    sent: bool,
}

pub async fn forgot_form(State(app): State<AppState>, c: Chrome) -> PageResult {
    let (token, cookie) = auth::login_form_token(app.settings.secure_cookies);
    Ok(with_cookie(render(ForgotPage { c, token, sent: false })?, cookie))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    login: String,
    #[serde(default)]
    csrf_token: String,
}

pub async fn forgot(
    State(app): State<AppState>,
    c: Chrome,
    headers: HeaderMap,
    ConnectInfoOpt(source): ConnectInfoOpt,
    axum::Form(f): axum::Form<ForgotForm>,
) -> PageResult {
    let token = auth::check_login_token(&headers, &f.csrf_token)?;
    app.login_limiter.check(&source)?;
    app.identity.request_password_reset(&f.login).await?;
    render(ForgotPage { c, token, sent: true })
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    c: Chrome,
    token: String,
    reset_token: String,
    error: Option<String>,
    done: bool,
}

#[derive(Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
}

pub async fn reset_form(State(app): State<AppState>, c: Chrome, Query(q): Query<ResetQuery>) -> PageResult {
    let (token, cookie) = auth::login_form_token(app.settings.secure_cookies);
    Ok(with_cookie(render(ResetPage { c, token, reset_token: q.token, error: None, done: false })?, cookie))
}

#[derive(Deserialize)]
pub struct ResetForm {
    reset_token: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
}

pub async fn reset(State(app): State<AppState>, c: Chrome, headers: HeaderMap, axum::Form(f): axum::Form<ResetForm>) -> PageResult {
    let token = auth::check_login_token(&headers, &f.csrf_token)?;
    match app.identity.reset_password(&f.reset_token, &f.password).await {
        Ok(()) => render(ResetPage { c, token, reset_token: String::new(), error: None, done: true }),
        Err(e) if form_error(&e) => {
            let page = ResetPage { c, token, reset_token: f.reset_token, error: Some(e.to_string()), done: false };
            Ok(with_error_status(render(page)?, &e))
        }
        Err(e) => Err(e.into()),
    }
}
