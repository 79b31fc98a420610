//! OpenID Connect provider (OpenID Connect Core 1.0, authorization code flow with PKCE S256
//! only; refresh tokens with rotation and reuse detection; RP-initiated logout). Department
//! systems register as clients; persons and staff sign in once at yiwang.
//!
//! The HTTP handlers only parse and render; every protocol decision is made here.

pub mod keys;

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Header, Validation};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, timestamp_text, Db, Tx};

use crate::error::invalid;
use crate::roles::{Permission, Staff};
use crate::sessions::{Kind, Principal, Session, Stage};
use crate::{hash_token, random_hex, tokens_equal, Identity, IdentityError, Result};
pub use keys::Alg;

/// Authorization codes are single-use and short-lived.
pub const CODE_SECONDS: i64 = 60;
pub const ACCESS_TOKEN_SECONDS: i64 = 600;
pub const ID_TOKEN_SECONDS: i64 = 600;
pub const REFRESH_DAYS: i64 = 30;

/// Scopes the provider understands, with what they release (shown on the consent screen).
pub const SCOPES: &[(&str, &str, &str)] = &[
    ("openid", "登录标识（不含个人信息）", "Sign-in identifier (no personal data)"),
    ("profile", "姓名、实名认证等级、脱敏身份证号", "Name, assurance level, masked ID number"),
    ("phone", "手机号码", "Phone number"),
    ("email", "电子邮箱", "Email address"),
    ("id_number", "完整身份证号码", "Full citizen ID number"),
    ("business", "当前代办的企业（统一社会信用代码、名称、授权范围）", "The business you act for (credit code, name, scopes)"),
];

pub fn scope_known(s: &str) -> bool {
    SCOPES.iter().any(|(k, _, _)| *k == s)
}

/// A protocol error with its RFC 6749 / OIDC error code.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: String,
}

impl OAuthError {
    fn new(error: &'static str, d: impl Into<String>) -> OAuthError {
        OAuthError { error, error_description: d.into() }
    }
    /// HTTP status for token and userinfo endpoints.
    pub fn status(&self) -> u16 {
        match self.error {
            "invalid_client" | "invalid_token" => 401,
            "server_error" => 500,
            _ => 400,
        }
    }
}

impl From<IdentityError> for OAuthError {
    fn from(e: IdentityError) -> Self {
        tracing::error!(error = %e, "oidc internal error");
        OAuthError::new("server_error", "服务器内部错误")
    }
}

impl From<yiwang_store::StoreError> for OAuthError {
    fn from(e: yiwang_store::StoreError) -> Self {
        IdentityError::from(e).into()
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(e: sqlx::Error) -> Self {
        IdentityError::from(e).into()
    }
}

type OResult<T> = std::result::Result<T, OAuthError>;

/// A registered relying party (a department system).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub id_token_alg: Alg,
    pub subject_kind: Kind,
    pub department: Option<String>,
    pub created_at: String,
    pub disabled: bool,
}

pub struct NewClient<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub scopes: &'a [String],
    pub id_token_alg: &'a str,
    pub subject_kind: &'a str,
    pub department: Option<&'a str>,
}

/// A new client with its secret, shown once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RegisteredClient {
    #[serde(flatten)]
    pub client: Client,
    pub client_secret: String,
}

/// Query parameters of an authorization request.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
}

impl AuthorizeRequest {
    /// Where to send the browser with an error (the redirect URI is already validated).
    pub fn error_redirect(&self, error: &str, description: &str) -> String {
        let mut q = vec![("error", error.to_string()), ("error_description", description.to_string())];
        if let Some(s) = &self.state {
            q.push(("state", s.clone()));
        }
        with_query(&self.redirect_uri, &q)
    }
}

/// Why an authorization request failed: `Fatal` errors are shown to the user and never
/// redirected (unknown client or unregistered redirect URI); the rest go back to the client.
#[derive(Debug)]
pub enum AuthorizeError {
    Fatal(String),
    Redirect(String),
}

fn with_query(base: &str, q: &[(&str, String)]) -> String {
    let enc = serde_urlencoded::to_string(q).unwrap_or_default();
    format!("{base}{}{enc}", if base.contains('?') { '&' } else { '?' })
}

/// What the token endpoint received.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenParams {
    #[serde(default)]
    pub grant_type: String,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    scope: String,
    gid: String,
    exp: i64,
    iat: i64,
    jti: String,
}

#[derive(serde::Deserialize)]
struct HintClaims {
    sub: String,
    aud: serde_json::Value,
}

/// The provider: protocol logic over the identity store.
pub struct Provider {
    identity: Identity,
    db: Db,
    issuer: String,
    keys: OnceCell<keys::Keys>,
}

fn oauth(error: &'static str, d: impl Into<String>) -> OAuthError {
    OAuthError::new(error, d)
}

fn client_from(r: &yiwang_store::Row) -> Result<Client> {
    let lines = |s: String| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect::<Vec<_>>();
    Ok(Client {
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        redirect_uris: lines(r.try_get("redirect_uris")?),
        post_logout_redirect_uris: lines(r.try_get("post_logout_redirect_uris")?),
        scopes: r.try_get::<String, _>("scopes")?.split_whitespace().map(String::from).collect(),
        id_token_alg: Alg::parse(&r.try_get::<String, _>("id_token_alg")?).unwrap_or(Alg::RS256),
        subject_kind: Kind::parse(&r.try_get::<String, _>("subject_kind")?).unwrap_or(Kind::Person),
        department: r.try_get("department_code")?,
        created_at: r.try_get("created_at")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

const CLIENT_COLUMNS: &str =
    "client_id, name, redirect_uris, post_logout_redirect_uris, scopes, id_token_alg, subject_kind, department_code, created_at, disabled";

/// Redirect URIs must be absolute https, or http on a loopback host (native apps, tests).
fn valid_redirect(u: &str) -> bool {
    let lower = u.to_ascii_lowercase();
    let ok_scheme =
        lower.starts_with("https://") || ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| lower.starts_with(p));
    ok_scheme && !u.contains('#') && !u.chars().any(char::is_whitespace) && u.len() <= 500
}

pub(crate) async fn revoke_grants_of_session(tx: &mut Tx, handle: &str) -> Result<()> {
    sqlx::query("UPDATE oidc_grants SET revoked_at = $1 WHERE session_handle = $2 AND revoked_at IS NULL")
        .bind(now_text())
        .bind(handle)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let v_ok = (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    v_ok && tokens_equal(&URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())), challenge)
}

fn unix(ts: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts).map(|t| t.timestamp()).unwrap_or(0)
}

impl Provider {
    pub fn new(identity: Identity) -> Provider {
        let issuer = identity.config().public_url.trim_end_matches('/').to_string();
        Provider { db: identity.db().clone(), identity, issuer, keys: OnceCell::new() }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn keys(&self) -> Result<&keys::Keys> {
        self.keys.get_or_try_init(|| keys::load_or_create(&self.db)).await
    }

    /// `/.well-known/openid-configuration`.
    pub fn discovery(&self) -> serde_json::Value {
        let i = &self.issuer;
        serde_json::json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/oidc/authorize"),
            "token_endpoint": format!("{i}/oidc/token"),
            "userinfo_endpoint": format!("{i}/oidc/userinfo"),
            "jwks_uri": format!("{i}/oidc/jwks"),
            "end_session_endpoint": format!("{i}/oidc/logout"),
            "scopes_supported": SCOPES.iter().map(|s| s.0).collect::<Vec<_>>(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "name", "assurance_level",
                "id_number_masked", "id_number", "phone_number", "email", "business", "preferred_username", "department", "roles"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "ui_locales_supported": ["zh-CN", "en"],
        })
    }

    pub async fn jwks(&self) -> Result<serde_json::Value> {
        self.keys().await?;
        keys::jwks(&self.db).await
    }

    // ---- clients ----

    /// Register a department system (platform admins only). The secret is returned once.
    pub async fn register_client(&self, admin: &Staff, c: NewClient<'_>, source: &str) -> Result<RegisteredClient> {
        admin.require(Permission::ManageClients)?;
        let name = c.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(invalid("名称", "应为1至80个字符"));
        }
        if c.redirect_uris.is_empty() || c.redirect_uris.len() > 10 {
            return Err(invalid("回调地址", "至少一个、至多十个"));
        }
        if let Some(bad) = c.redirect_uris.iter().chain(c.post_logout_redirect_uris).find(|u| !valid_redirect(u)) {
            return Err(invalid("回调地址", format!("“{bad}”无效：须为https地址（本机调试可用http://127.0.0.1），不含#片段")));
        }
        let mut scopes: BTreeSet<&str> = c.scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        scopes.insert("openid");
        if let Some(bad) = scopes.iter().find(|s| !scope_known(s)) {
            return Err(invalid("授权范围", format!("未知范围：{bad}")));
        }
        let alg = Alg::parse(c.id_token_alg).ok_or_else(|| invalid("签名算法", "应为RS256或EdDSA"))?;
        let kind = Kind::parse(c.subject_kind).ok_or_else(|| invalid("用户类型", "应为person或staff"))?;
        let client_id = format!("yw-{}", random_hex(8));
        let secret = random_hex(32);
        let now = now_text();
        let mut tx = self.db.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO oidc_clients ({CLIENT_COLUMNS}, secret_hash, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11)"
        )))
        .bind(&client_id)
        .bind(name)
        .bind(c.redirect_uris.join("\n"))
        .bind(c.post_logout_redirect_uris.join("\n"))
        .bind(scopes.iter().copied().collect::<Vec<_>>().join(" "))
        .bind(alg.key())
        .bind(kind.key())
        .bind(c.department.filter(|d| !d.trim().is_empty()))
        .bind(&now)
        .bind(hash_token(&secret))
        .bind(&admin.username)
        .execute(&mut *tx)
        .await?;
        crate::audit_in(&mut tx, &admin.username, "register_oidc_client", &client_id, name, source).await?;
        tx.commit().await?;
        let client = self.client(&client_id).await?.ok_or(IdentityError::NotFound("客户端"))?;
        Ok(RegisteredClient { client, client_secret: secret })
    }

    pub async fn client(&self, client_id: &str) -> Result<Option<Client>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE client_id = $1")))
            .bind(client_id)
            .fetch_optional(self.db.reader())
            .await?;
        row.as_ref().map(client_from).transpose()
    }

    pub async fn clients(&self) -> Result<Vec<Client>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_at DESC")))
            .fetch_all(self.db.reader())
            .await?;
        rows.iter().map(client_from).collect()
    }

    /// Disable or re-enable a client; disabling also revokes its grants.
    pub async fn set_client_disabled(&self, admin: &Staff, client_id: &str, disabled: bool, source: &str) -> Result<()> {
        admin.require(Permission::ManageClients)?;
        let mut tx = self.db.begin().await?;
        let n = sqlx::query("UPDATE oidc_clients SET disabled = $1 WHERE client_id = $2")
            .bind(disabled as i64)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(IdentityError::NotFound("客户端"));
        }
        if disabled {
            sqlx::query("UPDATE oidc_grants SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL")
                .bind(now_text())
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit_in(
            &mut tx,
            &admin.username,
            if disabled { "disable_oidc_client" } else { "enable_oidc_client" },
            client_id,
            "success",
            source,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Client authentication at the token endpoint (secret compared by hash, constant time).
    /// One read: the client and its secret hash (the token endpoint's hot path).
    async fn authenticate_client(&self, client_id: &str, secret: &str) -> OResult<Client> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS}, secret_hash FROM oidc_clients WHERE client_id = $1 AND disabled = 0"
        )))
        .bind(client_id)
        .fetch_optional(self.db.reader())
        .await?;
        match row {
            Some(r) if tokens_equal(&r.try_get::<String, _>("secret_hash")?, &hash_token(secret)) => Ok(client_from(&r)?),
            _ => Err(oauth("invalid_client", "客户端认证失败")),
        }
    }

    // ---- authorization endpoint ----

    /// Validate an authorization request (OIDC Core 3.1.2.1, RFC 7636).
    pub async fn validate_authorize(&self, p: &AuthorizeParams) -> std::result::Result<AuthorizeRequest, AuthorizeError> {
        let client = match self.client(&p.client_id).await {
            Ok(Some(c)) if !c.disabled => c,
            Ok(_) => return Err(AuthorizeError::Fatal("未知或已停用的客户端（client_id）".into())),
            Err(e) => return Err(AuthorizeError::Fatal(e.to_string())),
        };
        if !client.redirect_uris.contains(&p.redirect_uri) {
            return Err(AuthorizeError::Fatal("回调地址（redirect_uri）未在该客户端登记".into()));
        }
        let mut req = AuthorizeRequest {
            client,
            redirect_uri: p.redirect_uri.clone(),
            scopes: vec![],
            state: p.state.clone(),
            nonce: p.nonce.clone().filter(|n| !n.is_empty()),
            code_challenge: String::new(),
            prompt: p.prompt.clone(),
        };
        let fail = |req: &AuthorizeRequest, e: &str, d: &str| Err(AuthorizeError::Redirect(req.error_redirect(e, d)));
        if p.response_type != "code" {
            return fail(&req, "unsupported_response_type", "只支持授权码模式（response_type=code）");
        }
        let scopes: Vec<String> = p.scope.split_whitespace().map(String::from).collect::<BTreeSet<_>>().into_iter().collect();
        if !scopes.iter().any(|s| s == "openid") {
            return fail(&req, "invalid_scope", "scope 须包含 openid");
        }
        // Scopes the client may not ask for are dropped, unknown ones refused.
        if scopes.iter().any(|s| !scope_known(s)) {
            return fail(&req, "invalid_scope", "包含未知的 scope");
        }
        req.scopes = scopes.into_iter().filter(|s| req.client.scopes.contains(s)).collect();
        match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
            (Some(c), Some("S256")) if c.len() == 43 => req.code_challenge = c.to_string(),
            (Some(_), Some("S256")) => return fail(&req, "invalid_request", "code_challenge 格式无效"),
            _ => return fail(&req, "invalid_request", "必须使用 PKCE（code_challenge_method=S256）"),
        }
        if req.nonce.as_ref().is_some_and(|n| n.len() > 255) || req.state.as_ref().is_some_and(|s| s.len() > 1000) {
            return fail(&req, "invalid_request", "nonce 或 state 过长");
        }
        Ok(req)
    }

    /// Has this account already consented to these scopes for this client?
    pub async fn has_consent(&self, session: &Session, req: &AuthorizeRequest) -> Result<bool> {
        let row = sqlx::query("SELECT scope FROM oidc_consents WHERE kind = $1 AND principal = $2 AND client_id = $3")
            .bind(session.kind().key())
            .bind(session.principal_id())
            .bind(&req.client.client_id)
            .fetch_optional(self.db.reader())
            .await?;
        let Some(r) = row else { return Ok(false) };
        let granted: BTreeSet<String> = r.try_get::<String, _>("scope")?.split_whitespace().map(String::from).collect();
        Ok(req.scopes.iter().all(|s| granted.contains(s)))
    }

    /// Does this session suit the client (right kind of account, fully signed in)?
    pub fn session_fits(&self, session: &Session, req: &AuthorizeRequest) -> bool {
        session.stage == Stage::Full && session.kind() == req.client.subject_kind
    }

    /// The user approved: remember the consent, issue a code, return the redirect URL.
    pub async fn approve(&self, session: &Session, req: &AuthorizeRequest) -> Result<String> {
        if !self.session_fits(session, req) {
            return Err(IdentityError::Unauthenticated);
        }
        let code = random_hex(32);
        let now = chrono::Utc::now();
        let scope = req.scopes.join(" ");
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO oidc_consents (kind, principal, client_id, scope, granted_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, principal, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(session.kind().key())
        .bind(session.principal_id())
        .bind(&req.client.client_id)
        .bind(&scope)
        .bind(timestamp_text(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, client_id, kind, principal, acting_for, scope, redirect_uri, nonce, code_challenge, auth_time,
               session_handle, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(hash_token(&code))
        .bind(&req.client.client_id)
        .bind(session.kind().key())
        .bind(session.principal_id())
        .bind(session.acting_for.as_ref().map(|a| a.credit_code.clone()))
        .bind(&scope)
        .bind(&req.redirect_uri)
        .bind(&req.nonce)
        .bind(&req.code_challenge)
        .bind(&session.auth_time)
        .bind(&session.handle)
        .bind(timestamp_text(now))
        .bind(timestamp_text(now + chrono::Duration::seconds(CODE_SECONDS)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut q = vec![("code", code)];
        if let Some(s) = &req.state {
            q.push(("state", s.clone()));
        }
        q.push(("iss", self.issuer.clone()));
        Ok(with_query(&req.redirect_uri, &q))
    }

    // ---- token endpoint ----

    /// The token endpoint: `authorization_code` and `refresh_token` grants.
    pub async fn token(&self, p: &TokenParams, basic: Option<(String, String)>) -> OResult<TokenResponse> {
        let (client_id, secret) = match (basic, &p.client_id, &p.client_secret) {
            (Some(b), _, _) => b,
            (None, Some(id), Some(s)) => (id.clone(), s.clone()),
            _ => return Err(oauth("invalid_client", "缺少客户端认证信息")),
        };
        let client = self.authenticate_client(&client_id, &secret).await?;
        match p.grant_type.as_str() {
            "authorization_code" => self.exchange_code(&client, p).await,
            "refresh_token" => self.refresh(&client, p).await,
            _ => Err(oauth("unsupported_grant_type", "只支持 authorization_code 与 refresh_token")),
        }
    }

    async fn exchange_code(&self, client: &Client, p: &TokenParams) -> OResult<TokenResponse> {
        let code = p.code.as_deref().unwrap_or("");
        let code_hash = hash_token(code);
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(
            "SELECT client_id, kind, principal, acting_for, scope, redirect_uri, nonce, code_challenge, auth_time, session_handle,
               expires_at, used_at, grant_id FROM oidc_codes WHERE code_hash = $1",
        )
        .bind(&code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Err(oauth("invalid_grant", "授权码无效")) };
        let get = |c: &str| row.try_get::<String, _>(c).map_err(IdentityError::from);
        let get_opt = |c: &str| row.try_get::<Option<String>, _>(c).map_err(IdentityError::from);
        if get_opt("used_at")?.is_some() {
            // A replayed code: revoke everything issued from it (RFC 6749 section 4.1.2).
            if let Some(g) = get_opt("grant_id")? {
                sqlx::query("UPDATE oidc_grants SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
                    .bind(now_text())
                    .bind(g)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            return Err(oauth("invalid_grant", "授权码已使用"));
        }
        if get("client_id")? != client.client_id {
            return Err(oauth("invalid_grant", "授权码不属于该客户端"));
        }
        if get("expires_at")? < now_text() {
            return Err(oauth("invalid_grant", "授权码已过期"));
        }
        if p.redirect_uri.as_deref() != Some(get("redirect_uri")?.as_str()) {
            return Err(oauth("invalid_grant", "redirect_uri 与授权请求不一致"));
        }
        if !pkce_ok(p.code_verifier.as_deref().unwrap_or(""), &get("code_challenge")?) {
            return Err(oauth("invalid_grant", "PKCE 校验失败（code_verifier 不匹配）"));
        }
        let grant_id = random_hex(16);
        let n = sqlx::query("UPDATE oidc_codes SET used_at = $1, grant_id = $2 WHERE code_hash = $3 AND used_at IS NULL")
            .bind(now_text())
            .bind(&grant_id)
            .bind(&code_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(oauth("invalid_grant", "授权码已使用"));
        }
        let kind = Kind::parse(&get("kind")?).unwrap_or(Kind::Person);
        let grant = Grant {
            grant_id,
            client_id: client.client_id.clone(),
            kind,
            principal: get("principal")?,
            acting_for: get_opt("acting_for")?,
            scope: get("scope")?,
            auth_time: get("auth_time")?,
        };
        sqlx::query(
            "INSERT INTO oidc_grants (grant_id, client_id, kind, principal, acting_for, scope, auth_time, session_handle, created_at,
                refresh_gen, refresh_expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
        )
        .bind(&grant.grant_id)
        .bind(&grant.client_id)
        .bind(kind.key())
        .bind(&grant.principal)
        .bind(&grant.acting_for)
        .bind(&grant.scope)
        .bind(&grant.auth_time)
        .bind(get("session_handle")?)
        .bind(now_text())
        .bind(refresh_expiry())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let refresh = refresh_token(&self.keys().await?.refresh_mac, &grant.grant_id, 1);
        let claims = self.claims(&grant).await?;
        let id_token = self.id_token(client, &grant, &claims, get_opt("nonce")?).await?;
        Ok(TokenResponse {
            access_token: self.access_token(&grant).await?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
            refresh_token: refresh,
            id_token: Some(id_token),
            scope: grant.scope,
        })
    }

    /// Rotate a refresh token: one guarded update of the grant's generation through the
    /// group-commit writer. Presenting an earlier generation (a used token) revokes the grant
    /// (theft detection, RFC 6819 5.2.2.3).
    async fn refresh(&self, client: &Client, p: &TokenParams) -> OResult<TokenResponse> {
        let keys = self.keys().await?;
        let Some((grant_id, gen)) = parse_refresh_token(&keys.refresh_mac, p.refresh_token.as_deref().unwrap_or("")) else {
            return Err(oauth("invalid_grant", "刷新令牌无效"));
        };
        let row = sqlx::query(
            "SELECT client_id, kind, principal, acting_for, scope, auth_time, revoked_at, refresh_gen, refresh_expires_at
             FROM oidc_grants WHERE grant_id = $1",
        )
        .bind(&grant_id)
        .fetch_optional(self.db.reader())
        .await?;
        let Some(row) = row else { return Err(oauth("invalid_grant", "刷新令牌无效")) };
        let get = |c: &str| row.try_get::<String, _>(c).map_err(IdentityError::from);
        let get_opt = |c: &str| row.try_get::<Option<String>, _>(c).map_err(IdentityError::from);
        if get("client_id")? != client.client_id {
            return Err(oauth("invalid_grant", "刷新令牌不属于该客户端"));
        }
        if get_opt("revoked_at")?.is_some() {
            return Err(oauth("invalid_grant", "授权已撤销，请重新登录"));
        }
        let current: i64 = row.try_get("refresh_gen")?;
        if gen != current {
            if gen < current {
                self.revoke_for_reuse(&grant_id, &client.client_id).await?;
                return Err(oauth("invalid_grant", "刷新令牌已使用，授权已撤销"));
            }
            return Err(oauth("invalid_grant", "刷新令牌无效"));
        }
        if get_opt("refresh_expires_at")?.is_none_or(|e| e < now_text()) {
            return Err(oauth("invalid_grant", "刷新令牌已过期"));
        }
        let mut scope = get("scope")?;
        if let Some(asked) = p.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            let granted: BTreeSet<&str> = scope.split_whitespace().collect();
            if asked.split_whitespace().any(|s| !granted.contains(s)) {
                return Err(oauth("invalid_scope", "刷新时不能扩大授权范围"));
            }
            scope = asked.split_whitespace().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(" ");
        }
        let g = grant_id.clone();
        let rotated = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let n = sqlx::query(
                        "UPDATE oidc_grants SET refresh_gen = $1, refresh_expires_at = $2
                         WHERE grant_id = $3 AND refresh_gen = $4 AND revoked_at IS NULL",
                    )
                    .bind(gen + 1)
                    .bind(refresh_expiry())
                    .bind(&g)
                    .bind(gen)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    Ok::<_, IdentityError>(n == 1)
                })
            })
            .await?;
        if !rotated {
            // The same token was used twice at once, or the grant was just revoked.
            self.revoke_for_reuse(&grant_id, &client.client_id).await?;
            return Err(oauth("invalid_grant", "刷新令牌已使用，授权已撤销"));
        }
        let grant = Grant {
            grant_id,
            client_id: client.client_id.clone(),
            kind: Kind::parse(&get("kind")?).unwrap_or(Kind::Person),
            principal: get("principal")?,
            acting_for: get_opt("acting_for")?,
            scope,
            auth_time: get("auth_time")?,
        };
        Ok(TokenResponse {
            access_token: self.access_token(&grant).await?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
            refresh_token: refresh_token(&keys.refresh_mac, &grant.grant_id, gen + 1),
            id_token: None,
            scope: grant.scope,
        })
    }

    async fn revoke_for_reuse(&self, grant_id: &str, client_id: &str) -> Result<()> {
        let g = grant_id.to_string();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    sqlx::query("UPDATE oidc_grants SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
                        .bind(now_text())
                        .bind(&g)
                        .execute(&mut **tx)
                        .await?;
                    Ok::<_, IdentityError>(())
                })
            })
            .await?;
        tracing::warn!(grant = %grant_id, client = %client_id, "refresh token reuse: grant revoked");
        Ok(())
    }

    async fn access_token(&self, g: &Grant) -> Result<String> {
        let k = &self.keys().await?.ed;
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: g.principal.clone(),
            aud: self.issuer.clone(),
            client_id: g.client_id.clone(),
            scope: g.scope.clone(),
            gid: g.grant_id.clone(),
            exp: now + ACCESS_TOKEN_SECONDS,
            iat: now,
            jti: random_hex(8),
        };
        let mut h = Header::new(jsonwebtoken::Algorithm::EdDSA);
        h.kid = Some(k.kid.clone());
        h.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&h, &claims, &k.encoding).map_err(|e| IdentityError::Keys(e.to_string()))
    }

    async fn id_token(&self, client: &Client, g: &Grant, claims: &serde_json::Value, nonce: Option<String>) -> Result<String> {
        let k = self.keys().await?.for_alg(client.id_token_alg);
        let now = chrono::Utc::now().timestamp();
        let mut c = claims.clone();
        c["iss"] = self.issuer.clone().into();
        c["aud"] = client.client_id.clone().into();
        c["iat"] = now.into();
        c["exp"] = (now + ID_TOKEN_SECONDS).into();
        c["auth_time"] = unix(&g.auth_time).into();
        if let Some(n) = nonce {
            c["nonce"] = n.into();
        }
        let mut h = Header::new(k.alg.jwt());
        h.kid = Some(k.kid.clone());
        jsonwebtoken::encode(&h, &c, &k.encoding).map_err(|e| IdentityError::Keys(e.to_string()))
    }

    /// Claims released for a grant, by scope.
    async fn claims(&self, g: &Grant) -> Result<serde_json::Value> {
        let has = |s: &str| g.scope.split_whitespace().any(|x| x == s);
        let mut c = serde_json::json!({ "sub": g.principal });
        match g.kind {
            Kind::Person => {
                let p = self.identity.person(&g.principal).await?;
                c["acr"] = format!("urn:yiwang:loa:{}", p.assurance.level()).into();
                c["amr"] = serde_json::json!(["pwd"]);
                if has("profile") {
                    c["name"] = p.name.clone().into();
                    c["assurance_level"] = p.assurance.level().into();
                    c["id_number_masked"] = p.id_number_masked().into();
                }
                if has("id_number") {
                    c["id_number"] = p.id_number.clone().into();
                }
                if has("phone") {
                    c["phone_number"] = format!("+86{}", p.phone).into();
                    c["phone_number_verified"] = false.into();
                }
                if has("email") {
                    if let Some(e) = &p.email {
                        c["email"] = e.clone().into();
                        c["email_verified"] = false.into();
                    }
                }
                if has("business") {
                    if let Some(code) = &g.acting_for {
                        // Re-checked now: a revoked agent loses the business context at once.
                        if let Some(a) = self.identity.acting_context(&g.principal, code).await? {
                            c["business"] = serde_json::to_value(&a).unwrap_or_default();
                        }
                    }
                }
            }
            Kind::Staff => {
                let s = self.identity.staff_by_username(&g.principal).await?.ok_or(IdentityError::NotFound("工作人员账号"))?;
                c["acr"] = "urn:yiwang:staff:mfa".into();
                c["amr"] = serde_json::json!(["pwd", "otp"]);
                if has("profile") {
                    c["name"] = s.display_name.into();
                    c["preferred_username"] = s.username.into();
                    c["department"] = s.department.into();
                    c["region"] = s.region.into();
                    c["roles"] = serde_json::to_value(&s.roles).unwrap_or_default();
                }
            }
        }
        Ok(c)
    }

    // ---- userinfo ----

    /// The userinfo endpoint: verify the access token and return the grant's claims.
    pub async fn userinfo(&self, bearer: &str) -> OResult<serde_json::Value> {
        let keys = self.keys().await?;
        let invalid = || oauth("invalid_token", "访问令牌无效或已过期");
        let header = jsonwebtoken::decode_header(bearer).map_err(|_| invalid())?;
        let k = header.kid.as_deref().and_then(|kid| keys.by_kid(kid)).filter(|k| k.alg == Alg::EdDSA).ok_or_else(invalid)?;
        let mut v = Validation::new(jsonwebtoken::Algorithm::EdDSA);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.issuer]);
        v.leeway = 5;
        let data = jsonwebtoken::decode::<AccessClaims>(bearer, &k.decoding, &v).map_err(|_| invalid())?;
        let row = sqlx::query("SELECT client_id, kind, principal, acting_for, auth_time, revoked_at FROM oidc_grants WHERE grant_id = $1")
            .bind(&data.claims.gid)
            .fetch_optional(self.db.reader())
            .await?
            .ok_or_else(invalid)?;
        if row.try_get::<Option<String>, _>("revoked_at")?.is_some() {
            return Err(oauth("invalid_token", "授权已撤销"));
        }
        let get = |c: &str| row.try_get::<String, _>(c).map_err(IdentityError::from);
        let grant = Grant {
            grant_id: data.claims.gid.clone(),
            client_id: get("client_id")?,
            kind: Kind::parse(&get("kind")?).unwrap_or(Kind::Person),
            principal: get("principal")?,
            acting_for: row.try_get("acting_for")?,
            scope: data.claims.scope.clone(),
            auth_time: get("auth_time")?,
        };
        Ok(self.claims(&grant).await?)
    }

    // ---- logout ----

    /// Check an RP-initiated logout request. Returns the validated redirect (if any) and the
    /// subject named by `id_token_hint` (if any).
    pub async fn end_session(
        &self,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> std::result::Result<(Option<String>, Option<String>), String> {
        let keys = self.keys().await.map_err(|e| e.to_string())?;
        let mut subject = None;
        let mut client_id = client_id.map(String::from);
        if let Some(hint) = id_token_hint.filter(|h| !h.is_empty()) {
            let header = jsonwebtoken::decode_header(hint).map_err(|_| "id_token_hint 无效".to_string())?;
            let k = header.kid.as_deref().and_then(|kid| keys.by_kid(kid)).ok_or("id_token_hint 的签名密钥未知")?;
            let mut v = Validation::new(k.alg.jwt());
            v.set_issuer(&[&self.issuer]);
            v.validate_exp = false; // an expired ID token is still a fine hint
            v.validate_aud = false;
            let data = jsonwebtoken::decode::<HintClaims>(hint, &k.decoding, &v).map_err(|_| "id_token_hint 签名无效".to_string())?;
            let aud = match &data.claims.aud {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).unwrap_or("").to_string(),
                _ => String::new(),
            };
            if client_id.as_ref().is_some_and(|c| *c != aud) {
                return Err("client_id 与 id_token_hint 不一致".into());
            }
            client_id = Some(aud);
            subject = Some(data.claims.sub);
        }
        let redirect = match post_logout_redirect_uri.filter(|u| !u.is_empty()) {
            None => None,
            Some(uri) => {
                let client = match client_id.as_deref() {
                    Some(id) => self.client(id).await.map_err(|e| e.to_string())?,
                    None => None,
                };
                let client = client.ok_or("使用 post_logout_redirect_uri 时须提供 id_token_hint 或 client_id")?;
                if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
                    return Err("post_logout_redirect_uri 未在该客户端登记".into());
                }
                Some(match state {
                    Some(s) => with_query(uri, &[("state", s.to_string())]),
                    None => uri.to_string(),
                })
            }
        };
        Ok((redirect, subject))
    }
}

/// What a code exchange or refresh is about.
struct Grant {
    grant_id: String,
    client_id: String,
    kind: Kind,
    principal: String,
    acting_for: Option<String>,
    scope: String,
    auth_time: String,
}

fn refresh_expiry() -> String {
    timestamp_text(chrono::Utc::now() + chrono::Duration::days(REFRESH_DAYS))
}

fn refresh_mac(key: &[u8], grant_id: &str, gen: i64) -> String {
    use hmac::Mac as _;
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    mac.update(format!("{grant_id}.{gen}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// `yr1.<grant>.<generation>.<mac>`: which grant and generation, and proof we issued it.
fn refresh_token(key: &[u8], grant_id: &str, gen: i64) -> String {
    format!("yr1.{grant_id}.{gen}.{}", refresh_mac(key, grant_id, gen))
}

fn parse_refresh_token(key: &[u8], token: &str) -> Option<(String, i64)> {
    let mut parts = token.trim().split('.');
    let (prefix, grant, gen, mac) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if prefix != "yr1" || parts.next().is_some() || grant.is_empty() || grant.len() > 64 {
        return None;
    }
    let gen: i64 = gen.parse().ok().filter(|g| *g > 0)?;
    tokens_equal(mac, &refresh_mac(key, grant, gen)).then(|| (grant.to_string(), gen))
}

/// Does a principal match an ID token subject?
pub fn session_is_subject(session: &Session, sub: &str) -> bool {
    match &session.principal {
        Principal::Staff(s) => s.username == sub,
        Principal::Person(p) => p.subject == sub,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_rfc7636_vector() {
        // RFC 7636 appendix B.
        assert!(pkce_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_ok("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn refresh_tokens_carry_grant_generation_and_mac() {
        let key = b"k".repeat(32);
        let t = refresh_token(&key, "g1", 3);
        assert_eq!(parse_refresh_token(&key, &t), Some(("g1".to_string(), 3)));
        assert_eq!(parse_refresh_token(&b"x".repeat(32), &t), None, "another key");
        let forged = t.replace(".3.", ".2.");
        assert_eq!(parse_refresh_token(&key, &forged), None, "generation cannot be changed");
        assert_eq!(parse_refresh_token(&key, "yr1.g1.0.x"), None);
        assert_eq!(parse_refresh_token(&key, "deadbeef"), None);
        assert_eq!(parse_refresh_token(&key, &format!("{t}.extra")), None);
    }

    #[test]
    fn redirect_uris() {
        assert!(valid_redirect("https://rp.example.gov.cn/cb"));
        assert!(valid_redirect("http://127.0.0.1:9000/cb"));
        assert!(!valid_redirect("http://rp.example.com/cb"));
        assert!(!valid_redirect("https://rp.example.com/cb#x"));
        assert!(!valid_redirect("javascript:alert(1)"));
        assert_eq!(with_query("https://a/cb?x=1", &[("code", "c d".into())]), "https://a/cb?x=1&code=c+d");
    }
}
