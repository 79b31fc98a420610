//! A test app built by the production start-up path, driven in process.
#![allow(dead_code)]

use axum::body::Body;
use axum::Router;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use yiwang::Settings;
use yiwang_store::testing::TestDb;
use yiwang_web::AppState;

pub struct TestApp {
    /// Authenticator secrets and last used steps of staff enrolled during the test.
    pub totp: std::sync::Mutex<std::collections::HashMap<String, (String, u64)>>,
    pub router: Router,
    pub app: AppState,
    pub backend: &'static str,
    /// The settings the app was built with.
    pub settings: Settings,
    _db: TestDb,
}

pub struct Res {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Res {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap_or("").to_string())
    }
    pub fn location(&self) -> String {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
    }
}

/// One app per backend: SQLite always, PostgreSQL unless YIWANG_TEST_PG=off.
pub async fn apps() -> Vec<TestApp> {
    apps_with(|_| {}).await
}

/// [`apps`] with settings changed by `configure`.
pub async fn apps_with(configure: impl Fn(&mut Settings)) -> Vec<TestApp> {
    let mut out = Vec::new();
    for t in TestDb::each().await.expect("test database") {
        let mut settings = Settings {
            database_url: t.options.url.clone(),
            database_schema: t.options.schema.clone(),
            max_connections: 4,
            ..Settings::default()
        };
        configure(&mut settings);
        let app = yiwang::build(&settings).await.expect("build app");
        let backend = if settings.database_url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        out.push(TestApp { totp: Default::default(), router: yiwang_web::router(app.clone()), app, backend, settings, _db: t });
    }
    out
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Res {
        let res = self.router.clone().oneshot(req).await.expect("router");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Res { status, headers, body: String::from_utf8_lossy(&bytes).to_string() }
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn get_with(&self, path: &str, cookie: &str) -> Res {
        self.send(Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await
    }

    pub async fn json(&self, method: &str, path: &str, body: &serde_json::Value, session: Option<&Session>) -> Res {
        self.send(json_request(method, path, body, session)).await
    }

    /// A sign-in from an address of its own, so that the per-address sign-in limit (tested on
    /// its own) does not trip tests that sign many accounts in.
    async fn sign_in_request(&self, path: &str, body: &serde_json::Value, session: Option<&Session>) -> Res {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let addr = std::net::SocketAddr::from(([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 40000));
        let mut req = json_request("POST", path, body, session);
        req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
        self.send(req).await
    }

    pub async fn form(&self, path: &str, fields: &[(&str, &str)], cookie: &str) -> Res {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Sign staff in through the JSON API: password, then TOTP (enrolling on first use).
    pub async fn login(&self, user: &str, password: &str) -> Session {
        let res = self.sign_in_request("/api/v1/auth/login", &serde_json::json!({"username": user, "password": password}), None).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let body = res.json();
        if body["stage"] == "full" {
            // Deployments without a second factor (`staff_totp = false`).
            return Session {
                cookie: res.cookie("yw_session").expect("session cookie"),
                csrf: body["csrf_token"].as_str().unwrap().to_string(),
            };
        }
        let pending =
            Session { cookie: res.cookie("yw_session").expect("session cookie"), csrf: body["csrf_token"].as_str().unwrap().to_string() };
        let code = self.totp_code(user, body["totp_secret"].as_str());
        let res = self.json("POST", "/api/v1/auth/totp", &serde_json::json!({"code": code}), Some(&pending)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.json()["stage"], "full");
        Session {
            cookie: res.cookie("yw_session").expect("new session cookie"),
            csrf: res.json()["csrf_token"].as_str().unwrap().to_string(),
        }
    }

    /// A TOTP code for a step not used before (codes for the next step are accepted too).
    pub fn totp_code(&self, user: &str, new_secret: Option<&str>) -> String {
        let mut m = self.totp.lock().unwrap();
        if let Some(s) = new_secret {
            m.insert(user.to_string(), (s.to_string(), 0));
        }
        let (secret, last) = m.get_mut(user).expect("staff enrolled in this test");
        let step = yiwang_identity::totp::current_step().max(*last + 1);
        *last = step;
        yiwang_identity::totp::code_at_step(secret, step).unwrap()
    }

    /// Sign a citizen in through the JSON API.
    pub async fn person_login(&self, login: &str, password: &str) -> Session {
        let res = self.sign_in_request("/api/v1/persons/login", &serde_json::json!({"login": login, "password": password}), None).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        Session { cookie: res.cookie("yw_session").expect("session cookie"), csrf: res.json()["csrf_token"].as_str().unwrap().to_string() }
    }
}

fn json_request(method: &str, path: &str, body: &serde_json::Value, session: Option<&Session>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(s) = session {
        b = b.header(header::COOKIE, &s.cookie).header("x-csrf-token", &s.csrf);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Demo citizens: 张三 (L2, representative of 91360100MA35C00005), 李四 (L2), 王五 (L1).
pub const ZHANG: (&str, &str) = ("360102199003071236", "yiwang-demo-citizen");
pub const LI: (&str, &str) = ("360103198512120034", "yiwang-demo-citizen");
pub const WANG: (&str, &str) = ("360111197708150054", "yiwang-demo-citizen");
pub const ZHANG_BUSINESS: &str = "91360100MA35C00005";
pub const ADMIN: (&str, &str) = ("admin", "yiwang-demo-admin");
pub const SPJ: (&str, &str) = ("spj-admin", "yiwang-demo-staff");
pub const GAJ: (&str, &str) = ("gaj-admin", "yiwang-demo-staff");
/// 青山市行政审批局
pub const SPJ_DEPT: &str = "11360100866661761G";
/// 青山市公安局
pub const GAJ_DEPT: &str = "11360100104974650K";

/// A minimal valid PDF, accepted as a material.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF";

pub fn item(key: &str) -> String {
    yiwang_catalog::demo::province().unwrap().item_keys[key].clone()
}

pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "yiwangboundary7d2c";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload(t: &TestApp, path: &str, s: &Session, fields: &[(&str, &str)], file: (&str, &[u8]), api: bool) -> Res {
    let (ct, body) = multipart(fields, Some(file));
    let mut b = Request::post(path).header(header::CONTENT_TYPE, ct).header(header::COOKIE, &s.cookie);
    if api {
        b = b.header("x-csrf-token", &s.csrf);
    }
    t.send(b.body(Body::from(body)).unwrap()).await
}

/// 张三 applies for a residence ID card renewal and submits: returns the case id.
pub async fn submitted_case(t: &TestApp, zhang: &Session) -> String {
    let code = item("sfz-hb");
    let form = t.get_with(&format!("/api/v1/applications/form?item={code}"), &zhang.cookie).await.json();
    let mut values = form["prefill"].clone();
    values["contact_phone"] = serde_json::json!("13800138000");
    values["reason"] = serde_json::json!("有效期满换领");
    values["address"] = serde_json::json!("青山市东城区人民路1号");
    let r = t.json("POST", "/api/v1/applications", &serde_json::json!({"kind": "item", "code": code, "values": values}), Some(zhang)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["case_id"].as_str().unwrap().to_string();
    let r = upload(t, &format!("/api/v1/cases/{id}/materials"), zhang, &[("name", "居民户口簿或原居民身份证")], ("h.pdf", PDF), true).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = t.json("POST", &format!("/api/v1/cases/{id}/submit"), &serde_json::json!({}), Some(zhang)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    id
}

/// Percent-encode everything but ASCII letters and digits (path segments and query values).
pub fn pct(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Master key (hex) the tests that run the `yiwang` binary give it.
pub const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The `yiwang` binary on a test database, run in `dir`.
pub fn yiwang_command(db: &TestDb, dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_yiwang"));
    c.current_dir(dir).env("YIWANG_DATABASE_URL", &db.options.url).env("YIWANG_MASTER_KEY", MASTER_KEY).env("RUST_LOG", "warn");
    if let Some(s) = &db.options.schema {
        c.env("YIWANG_DATABASE_SCHEMA", s);
    }
    c
}
