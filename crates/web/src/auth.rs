//! Authentication and request-forgery protection at the HTTP edge.
//!
//! - [`StaffSession`] / [`PersonSession`] / [`AnySession`]: the signed-in account or a 401 (API)
//!   / redirect to the right sign-in page. On unsafe API methods they also require the
//!   session's token in `X-CSRF-Token`.
//! - [`CsrfForm`] / [`PersonForm`] / [`SessionForm`]: a urlencoded form that must carry the
//!   session's `csrf_token`.
//! - [`same_origin`]: refuses unsafe cross-site requests by `Origin` / `Sec-Fetch-Site`.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use yiwang_catalog::Editor;
use yiwang_identity::{tokens_equal, IdentityError, Permission, Person, Session, Staff};

use crate::error::{ApiError, AppError};
use crate::pages::PageError;
use crate::routes::Access;
use crate::AppState;

pub const SESSION_COOKIE: &str = "yw_session";
pub const LOGIN_CSRF_COOKIE: &str = "yw_login_csrf";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// `Set-Cookie` value with the attributes every yiwang cookie gets.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}", if secure { "; Secure" } else { "" })
}

/// The request URI as sent (nested routers see it with their prefix stripped).
pub fn original_uri(parts: &Parts) -> &axum::http::Uri {
    parts.extensions.get::<axum::extract::OriginalUri>().map(|o| &o.0).unwrap_or(&parts.uri)
}

fn is_api(parts: &Parts) -> bool {
    original_uri(parts).path().starts_with("/api/")
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The request's `User-Agent`, or empty.
pub fn user_agent(headers: &HeaderMap) -> &str {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The session cookie for a new session token.
pub fn session_cookie(token: &str, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, token, yiwang_identity::SESSION_HOURS * 3600, secure)
}

/// Expire the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    set_cookie(SESSION_COOKIE, "", 0, secure)
}

/// A fresh double-submit token for a signed-out form (sign-in, register, reset), with the
/// cookie that carries it.
pub fn login_form_token(secure: bool) -> (String, String) {
    let token = random_token();
    let cookie = set_cookie(LOGIN_CSRF_COOKIE, &token, 3600, secure);
    (token, cookie)
}

/// Signed-out forms must echo the cookie set when the form was shown; returns the token.
pub fn check_login_token(headers: &HeaderMap, sent: &str) -> Result<String, IdentityError> {
    let cookie = cookie(headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie.is_empty() || !tokens_equal(&cookie, sent) {
        return Err(IdentityError::CsrfMismatch);
    }
    Ok(cookie)
}

/// After a successful sign-in: set the session cookie and drop the sign-in form's cookie.
pub fn signed_in(res: Response, token: &str, secure: bool) -> Response {
    let res = crate::pages::staff::with_cookie(res, session_cookie(token, secure));
    crate::pages::staff::with_cookie(res, set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure))
}

/// Who made the request, for the audit trail.
pub fn source(headers: &HeaderMap, parts_ext: &axum::http::Extensions) -> String {
    let ip =
        parts_ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "local".into());
    let ua = user_agent(headers);
    format!("{ip} {}", ua.chars().take(80).collect::<String>())
}

/// Why an authenticated extractor refused.
pub enum AuthRejection {
    Api(ApiError),
    Login(String),
    Page(PageError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Api(e) => e.into_response(),
            AuthRejection::Login(to) => Redirect::to(&to).into_response(),
            AuthRejection::Page(e) => e.into_response(),
        }
    }
}

fn reject(parts: &Parts, e: AppError) -> AuthRejection {
    if is_api(parts) {
        AuthRejection::Api(ApiError(e))
    } else {
        AuthRejection::Page(PageError(e))
    }
}

/// Any session, at any stage (used by sign-out and the second-factor step).
#[derive(Clone)]
pub struct AnySession {
    pub session: Session,
    pub token: String,
    pub source: String,
}

/// A fully signed-in staff member.
#[derive(Clone)]
pub struct StaffSession {
    pub session: Session,
    pub staff: Staff,
    pub token: String,
    pub source: String,
}

/// A fully signed-in natural person (citizen portal).
#[derive(Clone)]
pub struct PersonSession {
    pub session: Session,
    pub person: Person,
    pub token: String,
    pub source: String,
}

impl StaffSession {
    /// The permission check every catalog route makes; returns the catalog capability.
    pub fn catalog_editor(&self) -> Result<Editor, AppError> {
        let staff = &self.staff;
        staff.require(Permission::ManageCatalog)?;
        if staff.is_platform_admin() {
            Ok(Editor::platform(&staff.username))
        } else if let Some(d) = &staff.department {
            Ok(Editor::department(&staff.username, d))
        } else {
            Err(IdentityError::Forbidden.into())
        }
    }

    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        Ok(self.staff.require(p)?)
    }
}

/// The request's session, loaded once per request: page chrome and the route's own
/// extractor both ask, so the result is kept in the request's extensions.
#[derive(Clone)]
struct LoadedSession(Option<(String, Session)>);

async fn load_session(parts: &mut Parts, state: &AppState) -> Result<Option<(String, Session)>, AppError> {
    if let Some(LoadedSession(loaded)) = parts.extensions.get::<LoadedSession>() {
        return Ok(loaded.clone());
    }
    let loaded = match cookie(&parts.headers, SESSION_COOKIE) {
        Some(token) => state.identity.session(&token).await?.map(|s| (token, s)),
        None => None,
    };
    parts.extensions.insert(LoadedSession(loaded.clone()));
    Ok(loaded)
}

/// The check a route's declared [`Access`] implies, made before the handler runs and before
/// it reads the body: the account kind and, for staff routes, the roles. Handlers and the
/// domain still check the resource itself (whose case, which department); this makes a route
/// whose handler forgot its role check fail closed.
pub async fn guard(axum::extract::State((app, access)): axum::extract::State<(AppState, Access)>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let verdict = match access {
        Access::Public | Access::Machine => Ok(()),
        Access::Session => AnySession::from_request_parts(&mut parts, &app).await.map(|_| ()),
        Access::Person | Access::Owner | Access::Representative => PersonSession::from_request_parts(&mut parts, &app).await.map(|_| ()),
        Access::Staff(roles) | Access::Department(roles) => match StaffSession::from_request_parts(&mut parts, &app).await {
            Ok(s) if s.staff.roles.iter().any(|r| roles.contains(r)) => Ok(()),
            Ok(_) => Err(reject(&parts, IdentityError::Forbidden.into())),
            Err(e) => Err(e),
        },
    };
    match verdict {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// Where a signed-out browser is sent: staff pages to the staff sign-in, the rest to the
/// citizen sign-in.
fn login_redirect(parts: &Parts) -> AuthRejection {
    let uri = original_uri(parts);
    let next = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let login = if uri.path().starts_with("/staff") { "/staff/login" } else { "/login" };
    AuthRejection::Login(format!("{login}?next={}", crate::pages::urlencode(&next)))
}

/// Load the session, require it to pass `accept`, and check the CSRF header on unsafe API calls.
async fn extract(parts: &mut Parts, state: &AppState, accept: impl Fn(&Session) -> bool) -> Result<AnySession, AuthRejection> {
    let loaded = load_session(parts, state).await.map_err(|e| reject(parts, e))?;
    let Some((token, session)) = loaded.filter(|(_, s)| accept(s)) else {
        return Err(if is_api(parts) {
            AuthRejection::Api(ApiError(IdentityError::Unauthenticated.into()))
        } else {
            login_redirect(parts)
        });
    };
    if is_api(parts) && is_unsafe(&parts.method) {
        let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !tokens_equal(sent, &session.csrf_token) {
            return Err(reject(parts, IdentityError::CsrfMismatch.into()));
        }
    }
    Ok(AnySession { session, token, source: source(&parts.headers, &parts.extensions) })
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        extract(parts, state, |_| true).await
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let a = extract(parts, state, |s| s.staff().is_some()).await?;
        let staff = a.session.staff().cloned().ok_or_else(|| login_redirect(parts))?;
        Ok(StaffSession { session: a.session, staff, token: a.token, source: a.source })
    }
}

impl FromRequestParts<AppState> for PersonSession {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let a = extract(parts, state, |s| s.person().is_some()).await?;
        let person = a.session.person().cloned().ok_or_else(|| login_redirect(parts))?;
        Ok(PersonSession { session: a.session, person, token: a.token, source: a.source })
    }
}

/// The session if any (for page chrome); never rejects.
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(load_session(parts, state).await.ok().flatten().map(|(_, s)| s)))
    }
}

#[derive(serde::Deserialize)]
struct TokenOnly {
    #[serde(default)]
    csrf_token: String,
}

/// Read a urlencoded form body that must echo the session's CSRF token.
async fn csrf_body<T: DeserializeOwned>(parts: &Parts, body: axum::body::Body, csrf: &str) -> Result<T, AuthRejection> {
    let bytes = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .map_err(|_| reject(parts, AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE", "提交内容过大")))?;
    let token: TokenOnly = serde_urlencoded::from_bytes(&bytes).unwrap_or(TokenOnly { csrf_token: String::new() });
    if !tokens_equal(&token.csrf_token, csrf) {
        return Err(reject(parts, IdentityError::CsrfMismatch.into()));
    }
    serde_urlencoded::from_bytes(&bytes).map_err(|e| reject(parts, AppError::bad_request("BAD_FORM", format!("表单内容无效：{e}"))))
}

/// A form posted by a signed-in staff member, checked against the session's CSRF token.
pub struct CsrfForm<T> {
    pub staff: StaffSession,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AuthRejection;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let staff = StaffSession::from_request_parts(&mut parts, state).await?;
        let form = csrf_body(&parts, body, &staff.session.csrf_token).await?;
        Ok(CsrfForm { staff, form })
    }
}

/// A form posted by a signed-in person, checked against the session's CSRF token.
pub struct PersonForm<T> {
    pub person: PersonSession,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PersonForm<T> {
    type Rejection = AuthRejection;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let person = PersonSession::from_request_parts(&mut parts, state).await?;
        let form = csrf_body(&parts, body, &person.session.csrf_token).await?;
        Ok(PersonForm { person, form })
    }
}

/// A form posted with any session (sign-out, second factor), checked against its CSRF token.
pub struct SessionForm<T> {
    pub auth: AnySession,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for SessionForm<T> {
    type Rejection = AuthRejection;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let auth = AnySession::from_request_parts(&mut parts, state).await?;
        let form = csrf_body(&parts, body, &auth.session.csrf_token).await?;
        Ok(SessionForm { auth, form })
    }
}

/// Refuse state-changing requests that come from another site.
pub async fn same_origin(req: Request, next: Next) -> Response {
    if is_unsafe(req.method()) {
        let h = req.headers();
        let cross_site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_mismatch = match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
            (Some("null"), _) => true,
            (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
            _ => false,
        };
        if cross_site || origin_mismatch {
            let body =
                crate::error::ErrorBody {
                    code: "CROSS_SITE_REQUEST".into(), message: "拒绝来自其他网站的请求".into(), details: vec![]
                };
            return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
        }
    }
    next.run(req).await
}

/// A fresh random token (login form double-submit cookie).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Per-source limit on sign-in attempts (on top of the per-account lockout), so one address
/// cannot try many accounts. In memory per node.
#[derive(Default)]
pub struct LoginLimiter(std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>);

/// Attempts allowed per source address per window.
pub const LOGIN_ATTEMPTS_PER_WINDOW: u32 = 20;
pub const LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

impl LoginLimiter {
    /// Count an attempt from `source`; an error once the window's budget is spent.
    pub fn check(&self, source: &str) -> Result<(), AppError> {
        let key = source.split(' ').next().unwrap_or("").to_string();
        let now = std::time::Instant::now();
        let Ok(mut m) = self.0.lock() else { return Ok(()) };
        if m.len() > 10_000 {
            m.retain(|_, (start, _)| now.duration_since(*start) < LOGIN_WINDOW);
        }
        let entry = m.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= LOGIN_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > LOGIN_ATTEMPTS_PER_WINDOW {
            return Err(AppError::new(StatusCode::TOO_MANY_REQUESTS, "LOGIN_RATE_LIMITED", "登录尝试过于频繁，请一分钟后再试"));
        }
        Ok(())
    }
}
