//! Crash safety, on SQLite and PostgreSQL: the real `yiwang serve` process takes a load of
//! applications (create, upload, submit) from concurrent clients and is killed with SIGKILL in
//! the middle of it. After a restart on the same database, every submission the server had
//! acknowledged is there, submitted, with its material; every acknowledged draft is there; the
//! ledger verifies; SQLite's integrity check passes; and an online backup of the running
//! server succeeds.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{pct, yiwang_command, PDF, ZHANG};
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use yiwang_store::testing::TestDb;

const MATERIAL: &str = "居民户口簿或原居民身份证";

/// The server process; killed when dropped so a failing test leaves nothing running.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn command(db: &TestDb, dir: &std::path::Path) -> std::process::Command {
    let mut c = yiwang_command(db, dir);
    c.stdout(std::process::Stdio::null());
    c
}

type Http = Client<HttpConnector, Full<Bytes>>;

struct Api {
    http: Http,
    base: String,
    cookie: String,
    csrf: String,
}

async fn send(http: &Http, req: Request<Full<Bytes>>) -> Result<(StatusCode, Value), String> {
    let res = tokio::time::timeout(Duration::from_secs(30), http.request(req))
        .await
        .map_err(|_| "timeout".to_string())?
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<(StatusCode, Value), String> {
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())))
            .unwrap();
        send(&self.http, req).await
    }

    async fn upload(&self, case: &str) -> Result<StatusCode, String> {
        let boundary = "crashtestboundary";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{MATERIAL}\r\n").into_bytes();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(PDF);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post(format!("{}/api/v1/cases/{case}/materials", self.base))
            .header(header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        send(&self.http, req).await.map(|(s, _)| s)
    }
}

/// Start the server and wait until it answers (the first start loads the demo province).
async fn start(db: &TestDb, dir: &std::path::Path) -> (Server, String) {
    let port = free_port();
    let child = command(db, dir).args(["serve", "--listen", &format!("127.0.0.1:{port}")]).spawn().expect("start yiwang");
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let http: Http = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let req = Request::get(format!("{base}/healthz")).body(Full::new(Bytes::new())).unwrap();
        if let Ok((StatusCode::OK, _)) = send(&http, req).await {
            return (server, base);
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn sign_in(base: &str) -> Api {
    let http: Http = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let req = Request::post(format!("{base}/api/v1/persons/login"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(json!({"login": ZHANG.0, "password": ZHANG.1}).to_string())))
        .unwrap();
    let res = http.request(req).await.expect("login");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let body: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    Api { http, base: base.to_string(), cookie, csrf: body["csrf_token"].as_str().unwrap().to_string() }
}

#[derive(Default)]
struct Acknowledged {
    drafts: Vec<String>,
    submitted: Vec<String>,
}

/// One client: applications one after another until the server stops answering.
async fn client(api: Arc<Api>, code: String, prefill: Value, acked: Arc<Mutex<Acknowledged>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let mut values = prefill.clone();
        values["contact_phone"] = json!("13800138000");
        values["reason"] = json!("有效期满换领");
        values["address"] = json!("青山市东城区人民路1号");
        let Ok((StatusCode::CREATED, r)) =
            api.call(Method::POST, "/api/v1/applications", Some(json!({"kind": "item", "code": code, "values": values}))).await
        else {
            return;
        };
        let id = r["case_id"].as_str().unwrap_or_default().to_string();
        acked.lock().unwrap().drafts.push(id.clone());
        if !matches!(api.upload(&id).await, Ok(StatusCode::CREATED)) {
            return;
        }
        match api.call(Method::POST, &format!("/api/v1/cases/{id}/submit"), Some(json!({}))).await {
            Ok((StatusCode::OK, _)) => acked.lock().unwrap().submitted.push(id),
            _ => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_submissions_survive_sigkill() {
    let code = yiwang_catalog::demo::province().unwrap().item_keys["sfz-hb"].clone();
    for db in TestDb::each().await.expect("test database") {
        let backend = if db.options.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        let dir = tempfile::tempdir().unwrap();
        let (server, base) = start(&db, dir.path()).await;
        let api = Arc::new(sign_in(&base).await);
        let (_, form) = api.call(Method::GET, &format!("/api/v1/applications/form?item={code}"), None).await.unwrap();
        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> =
            (0..8).map(|_| tokio::spawn(client(api.clone(), code.clone(), form["prefill"].clone(), acked.clone(), stop.clone()))).collect();

        // Kill the server mid-load, once a good number of submissions has been acknowledged.
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked.lock().unwrap().submitted.len() < 150 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut server = server;
        server.0.kill().expect("SIGKILL");
        let _ = server.0.wait();
        drop(server);
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            let _ = c.await;
        }
        let (drafts, submitted) = {
            let a = acked.lock().unwrap();
            (a.drafts.clone(), a.submitted.clone())
        };
        assert!(submitted.len() >= 150, "{backend}: only {} submissions before the deadline", submitted.len());

        // Restart on the same database: everything acknowledged is there and consistent.
        let (_server, base) = start(&db, dir.path()).await;
        let api = sign_in(&base).await;
        for id in &drafts {
            let (status, case) = api.call(Method::GET, &format!("/api/v1/cases/{id}"), None).await.unwrap();
            assert_eq!(status, StatusCode::OK, "{backend}: acknowledged draft {id} lost: {case}");
            if submitted.contains(id) {
                assert_eq!(case["status"], "submitted", "{backend}: {id}: {case}");
                let materials = case["materials"].to_string();
                assert!(materials.contains(MATERIAL) && materials.contains("h.pdf"), "{backend}: {id} lost its material: {materials}");
                let req = Request::get(format!("{base}/api/v1/cases/{id}/materials/{}", pct(MATERIAL)))
                    .header(header::COOKIE, &api.cookie)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                let res = api.http.request(req).await.unwrap();
                assert_eq!(res.status(), StatusCode::OK, "{backend}: {id}: material file");
                assert_eq!(res.into_body().collect().await.unwrap().to_bytes().as_ref(), PDF, "{backend}: {id}: material bytes");
            }
        }
        let out = command(&db, dir.path()).args(["ledger", "verify"]).output().expect("ledger verify");
        assert!(out.status.success(), "{backend}: ledger verify after the crash: {}", String::from_utf8_lossy(&out.stdout));
        // An online backup while the restarted server runs.
        let out = command(&db, dir.path()).args(["backup", "online.bak"]).output().expect("backup");
        assert!(out.status.success(), "{backend}: online backup: {}", String::from_utf8_lossy(&out.stderr));
        if backend == "sqlite" {
            let row: (String,) = yiwang_store::sqlx::query_as("PRAGMA integrity_check").fetch_one(db.db.reader()).await.unwrap();
            assert_eq!(row.0, "ok");
        }
        eprintln!("{backend}: {} acknowledged submissions and {} drafts verified after SIGKILL", submitted.len(), drafts.len());
    }
}
