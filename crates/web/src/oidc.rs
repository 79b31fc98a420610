//! OpenID Connect endpoints. Parsing and rendering only; the protocol lives in
//! `yiwang_identity::oidc::Provider`. Errors follow the RFCs: token and userinfo errors are
//! JSON `{error, error_description}`; an unknown client or redirect URI is an error page,
//! never a redirect.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use yiwang_identity::oidc::{AuthorizeError, AuthorizeParams, AuthorizeRequest, OAuthError, TokenParams, SCOPES};
use yiwang_identity::{Kind, Session};

use crate::auth::{self, MaybeSession, SessionForm};
use crate::pages::staff::with_cookie;
use crate::pages::{render, Chrome, PageResult};
use crate::AppState;

pub async fn discovery(State(app): State<AppState>) -> Response {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(app.provider.discovery())).into_response()
}

pub async fn jwks(State(app): State<AppState>) -> Response {
    match app.provider.jwks().await {
        Ok(k) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(k)).into_response(),
        Err(e) => oauth_error(e.into()),
    }
}

fn oauth_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, [(header::CACHE_CONTROL, "no-store")], Json(e.clone())).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let v = format!("Bearer error=\"{}\"", e.error);
        if let Ok(v) = v.parse() {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    res.extensions_mut().insert(crate::error::ErrorMarker);
    res
}

#[derive(Template)]
#[template(path = "oidc/message.html")]
struct MessagePage {
    c: Chrome,
    title: &'static str,
    message: String,
    confirm_logout: bool,
    params: Vec<(String, String)>,
}

fn message(c: Chrome, status: StatusCode, message: String) -> PageResult {
    let title = c.t.oidc_error_title;
    let mut res = render(MessagePage { c, title, message, confirm_logout: false, params: vec![] })?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Template)]
#[template(path = "oidc/consent.html")]
struct ConsentPage {
    c: Chrome,
    client_name: String,
    claims: Vec<&'static str>,
    acting: Option<String>,
    params: Vec<(String, String)>,
}

fn params_of(p: &AuthorizeParams) -> Vec<(String, String)> {
    serde_urlencoded::to_string(p).ok().and_then(|s| serde_urlencoded::from_str::<Vec<(String, String)>>(&s).ok()).unwrap_or_default()
}

/// Decide what the browser sees: sign in, consent, or straight back with a code.
async fn proceed(app: &AppState, c: Chrome, session: Option<Session>, p: &AuthorizeParams, req: AuthorizeRequest) -> PageResult {
    let fits = session.as_ref().filter(|s| app.provider.session_fits(s, &req));
    let Some(session) = fits else {
        if req.prompt.as_deref() == Some("none") {
            return Ok(Redirect::to(&req.error_redirect("login_required", "需要登录")).into_response());
        }
        let back = format!("/oidc/authorize?{}", serde_urlencoded::to_string(p).unwrap_or_default());
        let login = if req.client.subject_kind == Kind::Staff { "/staff/login" } else { "/login" };
        return Ok(Redirect::to(&format!("{login}?next={}", crate::pages::urlencode(&back))).into_response());
    };
    let consent_needed = req.prompt.as_deref() == Some("consent") || !app.provider.has_consent(session, &req).await?;
    if !consent_needed {
        return Ok(Redirect::to(&app.provider.approve(session, &req).await?).into_response());
    }
    if req.prompt.as_deref() == Some("none") {
        return Ok(Redirect::to(&req.error_redirect("consent_required", "需要用户授权")).into_response());
    }
    let claims = req.scopes.iter().filter_map(|s| SCOPES.iter().find(|x| x.0 == s)).map(|x| if c.en { x.2 } else { x.1 }).collect();
    let acting = session.acting_for.as_ref().map(|a| format!("{}（{}）", a.name, a.credit_code));
    render(ConsentPage { c, client_name: req.client.name.clone(), claims, acting, params: params_of(p) })
}

/// `GET /oidc/authorize`.
pub async fn authorize(
    State(app): State<AppState>,
    c: Chrome,
    MaybeSession(session): MaybeSession,
    Query(p): Query<AuthorizeParams>,
) -> PageResult {
    match app.provider.validate_authorize(&p).await {
        Ok(req) => proceed(&app, c, session, &p, req).await,
        Err(AuthorizeError::Fatal(m)) => message(c, StatusCode::BAD_REQUEST, m),
        Err(AuthorizeError::Redirect(to)) => Ok(Redirect::to(&to).into_response()),
    }
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    decision: String,
    #[serde(flatten)]
    params: AuthorizeParams,
}

/// `POST /oidc/authorize`: the consent decision (CSRF-checked).
pub async fn consent(State(app): State<AppState>, c: Chrome, f: SessionForm<ConsentForm>) -> PageResult {
    let req = match app.provider.validate_authorize(&f.form.params).await {
        Ok(r) => r,
        Err(AuthorizeError::Fatal(m)) => return message(c, StatusCode::BAD_REQUEST, m),
        Err(AuthorizeError::Redirect(to)) => return Ok(Redirect::to(&to).into_response()),
    };
    if f.form.decision != "allow" {
        return Ok(Redirect::to(&req.error_redirect("access_denied", "用户拒绝授权")).into_response());
    }
    if !app.provider.session_fits(&f.auth.session, &req) {
        return message(c, StatusCode::FORBIDDEN, "当前登录的账号类型与该应用不符".into());
    }
    Ok(Redirect::to(&app.provider.approve(&f.auth.session, &req).await?).into_response())
}

/// `client_secret_basic`: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    let dec = |x: &str| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={x}")).ok()?.pop().map(|p| p.1);
    Some((dec(id)?, dec(secret)?))
}

/// `POST /oidc/token`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Ok(p) = serde_urlencoded::from_bytes::<TokenParams>(&body) else {
        return oauth_error(OAuthError {
            error: "invalid_request",
            error_description: "请求体应为 application/x-www-form-urlencoded".into(),
        });
    };
    match app.provider.token(&p, basic_auth(&headers)).await {
        Ok(t) => ([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(t)).into_response(),
        Err(e) => oauth_error(e),
    }
}

/// `GET|POST /oidc/userinfo` with `Authorization: Bearer`.
pub async fn userinfo(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    match app.provider.userinfo(bearer.trim()).await {
        Ok(claims) => ([(header::CACHE_CONTROL, "no-store")], Json(claims)).into_response(),
        Err(e) => oauth_error(e),
    }
}

#[derive(Deserialize, Default)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

fn logout_done(app: &AppState, c: Chrome, redirect: Option<String>) -> PageResult {
    let clear = auth::clear_session_cookie(app.settings.secure_cookies);
    let res = match redirect {
        Some(to) => Redirect::to(&to).into_response(),
        None => {
            let title = c.t.signed_out;
            render(MessagePage { c, title, message: String::new(), confirm_logout: false, params: vec![] })?
        }
    };
    Ok(with_cookie(res, clear))
}

/// `GET /oidc/logout`: RP-initiated logout. With a valid `id_token_hint` for the signed-in
/// account the session ends at once; otherwise the user confirms (CSRF-protected POST).
pub async fn logout(
    State(app): State<AppState>,
    c: Chrome,
    MaybeSession(session): MaybeSession,
    headers: HeaderMap,
    Query(q): Query<LogoutParams>,
) -> PageResult {
    let (redirect, subject) = match app
        .provider
        .end_session(q.id_token_hint.as_deref(), q.client_id.as_deref(), q.post_logout_redirect_uri.as_deref(), q.state.as_deref())
        .await
    {
        Ok(v) => v,
        Err(m) => return message(c, StatusCode::BAD_REQUEST, m),
    };
    let Some(session) = session else { return logout_done(&app, c, redirect) };
    if subject.is_some_and(|sub| yiwang_identity::oidc::session_is_subject(&session, &sub)) {
        if let Some(token) = auth::cookie(&headers, auth::SESSION_COOKIE) {
            app.identity.logout(&token).await?;
        }
        return logout_done(&app, c, redirect);
    }
    let mut params = vec![];
    for (k, v) in [
        ("id_token_hint", &q.id_token_hint),
        ("client_id", &q.client_id),
        ("post_logout_redirect_uri", &q.post_logout_redirect_uri),
        ("state", &q.state),
    ] {
        if let Some(v) = v {
            params.push((k.to_string(), v.clone()));
        }
    }
    let title = c.t.logout_confirm;
    render(MessagePage { c, title, message: String::new(), confirm_logout: true, params })
}

/// `POST /oidc/logout`: the confirmed sign-out.
pub async fn logout_confirmed(State(app): State<AppState>, c: Chrome, f: SessionForm<LogoutParams>) -> PageResult {
    let q = &f.form;
    let redirect = match app
        .provider
        .end_session(q.id_token_hint.as_deref(), q.client_id.as_deref(), q.post_logout_redirect_uri.as_deref(), q.state.as_deref())
        .await
    {
        Ok((r, _)) => r,
        Err(m) => return message(c, StatusCode::BAD_REQUEST, m),
    };
    app.identity.logout(&f.auth.token).await?;
    logout_done(&app, c, redirect)
}
