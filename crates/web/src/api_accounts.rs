//! JSON API for accounts: citizens register and sign in, verify their real name, manage
//! sessions, businesses and agents; window staff verify in person; platform admins register
//! OIDC clients. Same domain calls as the pages.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_identity::oidc::NewClient;
use yiwang_identity::{ClientInfo, Kind, NewAgent, NewPerson, Permission};

use crate::api::{me, ApiJson, Me};
use crate::auth::{self, PersonSession, StaffSession};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub name: String,
    /// 18-character citizen ID number (GB 11643, check character verified).
    pub id_number: String,
    /// Mainland mobile number.
    pub phone: String,
    pub email: Option<String>,
    pub password: String,
}

/// A person's own profile (ID number and phone masked).
#[derive(Serialize, ToSchema)]
pub struct Profile {
    pub subject: String,
    pub name: String,
    pub id_number_masked: String,
    pub phone_masked: String,
    pub assurance_level: u8,
    pub verified_at: Option<String>,
    /// Businesses the person represents or is an agent of.
    #[schema(value_type = Vec<Object>)]
    pub businesses: Vec<yiwang_identity::Business>,
    #[schema(value_type = Option<Object>)]
    pub acting_for: Option<yiwang_identity::ActingFor>,
}

async fn profile_of(app: &AppState, subject: &str, acting_for: Option<yiwang_identity::ActingFor>) -> ApiResult<Profile> {
    let p = app.identity.person(subject).await?;
    Ok(Profile {
        subject: p.subject.clone(),
        name: p.name.clone(),
        id_number_masked: p.id_number_masked(),
        phone_masked: p.phone_masked(),
        assurance_level: p.assurance.level(),
        verified_at: p.verified_at.clone(),
        businesses: app.identity.businesses_of(subject).await?,
        acting_for,
    })
}

/// Register a personal account (assurance L1) and sign in.
#[utoipa::path(post, path = "/api/v1/persons", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = Me, description = "Sets the session cookie"), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn register(
    State(app): State<AppState>,
    headers: HeaderMap,
    crate::pages::staff::ConnectInfoOpt(source): crate::pages::staff::ConnectInfoOpt,
    ApiJson(r): ApiJson<RegisterRequest>,
) -> ApiResult<Response> {
    app.login_limiter.check(&source)?;
    let new = NewPerson { name: &r.name, id_number: &r.id_number, phone: &r.phone, email: r.email.as_deref(), password: &r.password };
    let client = ClientInfo { source: &source, user_agent: auth::user_agent(&headers) };
    let (_, token, session) = app.identity.register_and_sign_in(new, client).await?;
    Ok((StatusCode::CREATED, [(header::SET_COOKIE, auth::session_cookie(&token, app.settings.secure_cookies))], Json(me(&session)))
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct PersonLoginRequest {
    /// ID number or mobile number.
    pub login: String,
    pub password: String,
}

/// Sign a person in.
#[utoipa::path(post, path = "/api/v1/persons/login", tag = "accounts", request_body = PersonLoginRequest,
    responses((status = 200, body = Me, description = "Sets the session cookie"), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn person_login(
    State(app): State<AppState>,
    headers: HeaderMap,
    crate::pages::staff::ConnectInfoOpt(source): crate::pages::staff::ConnectInfoOpt,
    ApiJson(r): ApiJson<PersonLoginRequest>,
) -> ApiResult<Response> {
    app.login_limiter.check(&source)?;
    let (token, session) =
        app.identity.login_person(&r.login, &r.password, ClientInfo { source: &source, user_agent: auth::user_agent(&headers) }).await?;
    Ok(([(header::SET_COOKIE, auth::session_cookie(&token, app.settings.secure_cookies))], Json(me(&session))).into_response())
}

/// The signed-in person's profile.
#[utoipa::path(get, path = "/api/v1/persons/me", tag = "accounts", responses((status = 200, body = Profile), (status = 401, body = ErrorBody)))]
pub async fn profile(State(app): State<AppState>, s: PersonSession) -> ApiResult<Json<Profile>> {
    Ok(Json(profile_of(&app, &s.person.subject, s.session.acting_for.clone()).await?))
}

/// Verify name and ID number against the population data source (raises to L2).
#[utoipa::path(post, path = "/api/v1/persons/me/verify", tag = "accounts", responses((status = 200, body = Profile), (status = 400, body = ErrorBody)))]
pub async fn verify(State(app): State<AppState>, s: PersonSession) -> ApiResult<Json<Profile>> {
    app.identity.verify_online(&s.person.subject).await?;
    Ok(Json(profile_of(&app, &s.person.subject, s.session.acting_for.clone()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub handle: String,
    pub created_at: String,
    pub expires_at: String,
    pub source: String,
    pub current: bool,
}

/// The person's signed-in devices.
#[utoipa::path(get, path = "/api/v1/persons/me/sessions", tag = "accounts", responses((status = 200, body = Vec<SessionView>)))]
pub async fn sessions(State(app): State<AppState>, s: PersonSession) -> ApiResult<Json<Vec<SessionView>>> {
    let list = app.identity.sessions_of(Kind::Person, &s.person.subject).await?;
    Ok(Json(
        list.into_iter()
            .map(|i| SessionView {
                current: i.handle == s.session.handle,
                handle: i.handle,
                created_at: i.created_at,
                expires_at: i.expires_at,
                source: i.source,
            })
            .collect(),
    ))
}

/// Sign one of the person's own sessions out.
#[utoipa::path(delete, path = "/api/v1/persons/me/sessions/{handle}", tag = "accounts", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(State(app): State<AppState>, s: PersonSession, Path(handle): Path<String>) -> ApiResult<StatusCode> {
    app.identity.revoke_session(Kind::Person, &s.person.subject, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct LoginView {
    pub at: String,
    pub result: String,
    pub source: String,
}

/// The person's sign-in history, newest first.
#[utoipa::path(get, path = "/api/v1/persons/me/logins", tag = "accounts", responses((status = 200, body = Vec<LoginView>)))]
pub async fn logins(State(app): State<AppState>, s: PersonSession) -> ApiResult<Json<Vec<LoginView>>> {
    let list = app.identity.login_history(Kind::Person, &s.person.subject, 50).await?;
    Ok(Json(list.into_iter().map(|e| LoginView { at: e.at, result: e.result, source: e.source }).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct ActingRequest {
    /// Credit code of a business the person represents or is an agent of; null for oneself.
    pub credit_code: Option<String>,
}

/// Act for a business (or for oneself) in this session.
#[utoipa::path(post, path = "/api/v1/persons/me/acting-for", tag = "accounts", request_body = ActingRequest,
    responses((status = 200, body = Profile), (status = 403, body = ErrorBody)))]
pub async fn acting_for(State(app): State<AppState>, s: PersonSession, ApiJson(r): ApiJson<ActingRequest>) -> ApiResult<Json<Profile>> {
    let code = r.credit_code.as_deref().map(str::trim).filter(|c| !c.is_empty());
    app.identity.set_acting_for(&s.token, &s.person.subject, code).await?;
    let acting = match code {
        Some(c) => app.identity.acting_context(&s.person.subject, c).await?,
        None => None,
    };
    Ok(Json(profile_of(&app, &s.person.subject, acting).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    /// ID number or mobile number.
    pub login: String,
}

/// Send a password reset link by SMS (always 202: says nothing about whether the account exists).
#[utoipa::path(post, path = "/api/v1/persons/password-reset", tag = "accounts", request_body = ResetRequest, responses((status = 202)))]
pub async fn reset_request(
    State(app): State<AppState>,
    crate::pages::staff::ConnectInfoOpt(source): crate::pages::staff::ConnectInfoOpt,
    ApiJson(r): ApiJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    app.login_limiter.check(&source)?;
    app.identity.request_password_reset(&r.login).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
pub struct ResetConfirm {
    pub token: String,
    pub password: String,
}

/// Set a new password with the token from the reset link; signs out every device.
#[utoipa::path(post, path = "/api/v1/persons/password-reset/confirm", tag = "accounts", request_body = ResetConfirm,
    responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn reset_confirm(State(app): State<AppState>, ApiJson(r): ApiJson<ResetConfirm>) -> ApiResult<StatusCode> {
    app.identity.reset_password(&r.token, &r.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct BusinessRequest {
    pub credit_code: String,
}

/// Open a business account; the registry must name the caller (L2+) as legal representative.
#[utoipa::path(post, path = "/api/v1/businesses", tag = "accounts", request_body = BusinessRequest,
    responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn register_business(State(app): State<AppState>, s: PersonSession, ApiJson(r): ApiJson<BusinessRequest>) -> ApiResult<Response> {
    let b = app.identity.register_business(&s.person.subject, &r.credit_code, &s.source).await?;
    Ok((StatusCode::CREATED, Json(b)).into_response())
}

/// The business's agents (legal representative only).
#[utoipa::path(get, path = "/api/v1/businesses/{code}/agents", tag = "accounts", responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn agents(State(app): State<AppState>, s: PersonSession, Path(code): Path<String>) -> ApiResult<Response> {
    Ok(Json(app.identity.agents(&s.person.subject, &code).await?).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct AgentRequest {
    pub id_number: String,
    /// Any of `apply`, `view`, `licences`.
    pub scopes: Vec<String>,
    /// Last valid day, `YYYY-MM-DD`.
    pub expires_on: String,
}

/// Authorise an agent (经办人) with scopes and an expiry.
#[utoipa::path(post, path = "/api/v1/businesses/{code}/agents", tag = "accounts", request_body = AgentRequest,
    responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn grant_agent(
    State(app): State<AppState>,
    s: PersonSession,
    Path(code): Path<String>,
    ApiJson(r): ApiJson<AgentRequest>,
) -> ApiResult<Response> {
    let a = app
        .identity
        .grant_agent(
            &s.person.subject,
            &code,
            NewAgent { id_number: &r.id_number, scopes: &r.scopes, expires_on: &r.expires_on },
            &s.source,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// Withdraw an agent's authorisation.
#[utoipa::path(delete, path = "/api/v1/businesses/{code}/agents/{id}", tag = "accounts", responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_agent(State(app): State<AppState>, s: PersonSession, Path((code, id)): Path<(String, i64)>) -> ApiResult<StatusCode> {
    app.identity.revoke_agent(&s.person.subject, &code, id, &s.source).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct InPersonRequest {
    pub id_number: String,
    pub name: String,
}

/// 现场核验: window staff raise a person to L3 after checking the ID card.
#[utoipa::path(post, path = "/api/v1/staff/verifications", tag = "accounts", request_body = InPersonRequest,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn verify_in_person(State(app): State<AppState>, s: StaffSession, ApiJson(r): ApiJson<InPersonRequest>) -> ApiResult<Response> {
    s.require(Permission::VerifyInPerson)?;
    let p = app.identity.verify_in_person(&s.staff, &r.id_number, &r.name, &s.source).await?;
    Ok(Json(p).into_response())
}

/// Registered OIDC clients (platform admins).
#[utoipa::path(get, path = "/api/v1/oidc/clients", tag = "oidc", responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn clients(State(app): State<AppState>, s: StaffSession) -> ApiResult<Response> {
    s.require(Permission::ManageClients)?;
    Ok(Json(app.provider.clients().await?).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ClientRequest {
    pub name: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may request (`openid` is always included).
    pub scopes: Vec<String>,
    /// `RS256` (default) or `EdDSA`.
    #[serde(default = "default_alg")]
    pub id_token_alg: String,
    /// `person` (default) or `staff`.
    #[serde(default = "default_kind")]
    pub subject_kind: String,
    pub department: Option<String>,
}

fn default_alg() -> String {
    "RS256".into()
}
fn default_kind() -> String {
    "person".into()
}

/// Register a department system as an OIDC client; the secret is returned only here.
#[utoipa::path(post, path = "/api/v1/oidc/clients", tag = "oidc", request_body = ClientRequest,
    responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_client(State(app): State<AppState>, s: StaffSession, ApiJson(r): ApiJson<ClientRequest>) -> ApiResult<Response> {
    s.require(Permission::ManageClients)?;
    let new = NewClient {
        name: &r.name,
        redirect_uris: &r.redirect_uris,
        post_logout_redirect_uris: &r.post_logout_redirect_uris,
        scopes: &r.scopes,
        id_token_alg: &r.id_token_alg,
        subject_kind: &r.subject_kind,
        department: r.department.as_deref(),
    };
    let c = app.provider.register_client(&s.staff, new, &s.source).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// Clear a staff member's authenticator (platform administrators): all their sessions end and
/// they enrol again at the next sign-in.
#[utoipa::path(post, path = "/api/v1/staff/accounts/{username}/totp-reset", tag = "accounts",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_staff_totp(State(app): State<AppState>, s: StaffSession, Path(username): Path<String>) -> ApiResult<StatusCode> {
    app.identity.reset_staff_totp(&s.staff, &username, &s.source).await?;
    Ok(StatusCode::NO_CONTENT)
}
