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
    let mut out = Vec::new();
    for t in TestDb::each().await.expect("test database") {
        let settings = Settings {
            database_url: t.options.url.clone(),
            database_schema: t.options.schema.clone(),
            max_connections: 4,
            ..Settings::default()
        };
        let app = yiwang::build(&settings).await.expect("build app");
        let backend = if settings.database_url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        out.push(TestApp { totp: Default::default(), router: yiwang_web::router(app.clone()), app, backend, _db: t });
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
        let mut b = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(s) = session {
            b = b.header(header::COOKIE, &s.cookie).header("x-csrf-token", &s.csrf);
        }
        self.send(b.body(Body::from(body.to_string())).unwrap()).await
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
        let res = self.json("POST", "/api/v1/auth/login", &serde_json::json!({"username": user, "password": password}), None).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let body = res.json();
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
        let res = self.json("POST", "/api/v1/persons/login", &serde_json::json!({"login": login, "password": password}), None).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        Session { cookie: res.cookie("yw_session").expect("session cookie"), csrf: res.json()["csrf_token"].as_str().unwrap().to_string() }
    }
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
