//! Exchange gateway benchmark: the same provider called directly and through the gateway, in
//! one run, over real loopback HTTP. Through the gateway each call is authenticated (access
//! token), authorized, forwarded, filtered, signed (Ed25519) and durably logged (group commit,
//! synchronous=FULL on SQLite) before the answer, with the ledger capturing every log row and
//! its sequencer running. Client, gateway and provider share the machine's cores.
//!
//! 1. Latency, one client, direct and gateway calls interleaved: p50/p99 and the overhead.
//! 2. Throughput, `EXCHANGE_BENCH_CONCURRENCY` clients (default 64) for
//!    `EXCHANGE_BENCH_SECS` (default 5) each way: calls/s with p50/p99.
//!
//! Afterwards every acknowledged gateway call is checked to be in the log.
//! SQLite always; PostgreSQL too unless YIWANG_TEST_PG=off.
//! Run: `cargo bench -p yiwang --bench exchange`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use yiwang::Settings;
use yiwang_exchange::{NewMember, Resource, Service};
use yiwang_identity::{Role, Staff};
use yiwang_store::testing::TestDb;

/// The allocator the `yiwang` binary runs with.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RESOURCE: &str = "1136000018609139YX-00042";
const RST: &str = "1136000018609139YX";
const MZJ: &str = "11360102711777742F";
const SUBJECT: &str = "360102199003071236";

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

/// The provider system: a record of about 200 bytes per subject.
async fn provider() -> String {
    let app = axum::Router::new().route(
        "/insured",
        axum::routing::get(|| async {
            (
                [(http::header::CONTENT_TYPE, "application/json")],
                r#"{"id_number":"360102199003071236","name":"张三","insured":"正常参保","insurance_types":"养老、失业、工伤","employer":"江川青山云图科技有限公司","since":"2013-07","internal_note":"not in the catalog"}"#,
            )
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/insured")
}

fn resource(url: &str) -> Resource {
    let items = ["id_number", "name", "insured", "insurance_types", "employer", "since"];
    let mut r = yiwang_exchange::demo::rest_resource(RESOURCE, RST, "江川省人力资源和社会保障厅", url, &items);
    r.service = Service::Rest { url: url.into(), timeout_ms: 5000, openapi_url: None };
    r
}

async fn get(client: &HttpClient, uri: &str, token: Option<&str>) -> (u16, usize) {
    let mut b = http::Request::get(uri);
    if let Some(t) = token {
        b = b.header(http::header::AUTHORIZATION, t).header("x-purpose", "bench");
    }
    let res = client.request(b.body(Full::new(Bytes::new())).unwrap()).await.expect("request");
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, body.len())
}

fn pct(lat: &mut [Duration], p: f64) -> f64 {
    lat.sort();
    lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1e6
}

/// CPU seconds this process has used (user + system), from /proc (0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// `clients` tasks calling `uri` for `secs`: calls/s and latencies.
async fn load(client: &HttpClient, uri: &str, token: Option<&str>, clients: usize, secs: u64) -> (f64, Vec<Duration>, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let cpu = cpu_seconds();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, uri, token, stop, ok) = (client.clone(), uri.to_string(), token.map(String::from), stop.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let (status, _) = get(&client, &uri, token.as_deref()).await;
                assert_eq!(status, 200);
                lat.push(t.elapsed());
                ok.fetch_add(1, Ordering::Relaxed);
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = start.elapsed().as_secs_f64();
    println!("  (CPU in use: {:.2} cores)", (cpu_seconds() - cpu) / wall);
    (all.len() as f64 / wall, all, ok.load(Ordering::Relaxed))
}

async fn run(t: &TestDb, backend: &str) {
    // EXCHANGE_BENCH_LEDGER: on (default: capture and sequencer), capture (triggers only), off.
    let ledger = std::env::var("EXCHANGE_BENCH_LEDGER").unwrap_or_else(|_| "on".into());
    let settings = Settings {
        database_url: t.options.url.clone(),
        database_schema: t.options.schema.clone(),
        max_connections: 8,
        ledger_head_interval_secs: 3600,
        ledger_capture: ledger != "off",
        ..Settings::default()
    };
    let app = yiwang::build(&settings).await.expect("build");
    let sequencer = tokio::spawn({
        let l = app.ledger.clone();
        let on = ledger == "on";
        async move {
            if on {
                l.run().await
            }
        }
    });
    println!("[{backend}] ledger: {ledger}");
    let provider_url = provider().await;
    let rst = Staff {
        username: "bench".into(),
        display_name: "bench".into(),
        department: Some(RST.into()),
        region: None,
        roles: vec![Role::DeptAdmin],
    };
    app.exchange.put_resource(&rst, &resource(&provider_url)).await.unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let m = NewMember {
        department_code: MZJ.into(),
        subsystem: "bench".into(),
        name: "bench".into(),
        public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        rate_per_sec: Some(1_000_000),
    };
    let member = app.exchange.insert_member(&m, "bench").await.unwrap().member_id;
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({ "iss": member, "sub": member, "aud": app.exchange.token_url(), "exp": now + 60, "jti": "bench" });
    let der = key.to_pkcs8_der().unwrap();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
    )
    .unwrap();
    let token = format!("Bearer {}", app.exchange.token(&jwt).await.unwrap().0);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = yiwang_web::router(app.clone());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1024).build(connector);
    let direct = format!("{provider_url}?subject={SUBJECT}");
    let gateway = format!("http://{addr}/exchange/{RESOURCE}?subject={SUBJECT}");
    let (status, _) = get(&client, &gateway, Some(&token)).await;
    assert_eq!(status, 200, "gateway answers");

    // 1. Latency, one client, interleaved.
    let n = env_num("EXCHANGE_BENCH_N", 3000) as usize;
    let (mut d, mut g) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..200 {
        get(&client, &direct, None).await;
        get(&client, &gateway, Some(&token)).await;
    }
    for _ in 0..n {
        let t = Instant::now();
        get(&client, &direct, None).await;
        d.push(t.elapsed());
        let t = Instant::now();
        get(&client, &gateway, Some(&token)).await;
        g.push(t.elapsed());
    }
    let (d50, d99, g50, g99) = (pct(&mut d, 0.5), pct(&mut d, 0.99), pct(&mut g, 0.5), pct(&mut g, 0.99));
    println!("[{backend}] one client, {n} calls each way, interleaved");
    println!("  direct   p50 {d50:>7.0} µs   p99 {d99:>7.0} µs");
    println!("  gateway  p50 {g50:>7.0} µs   p99 {g99:>7.0} µs");
    println!("  overhead p50 {:>7.0} µs   (target < 1000 µs)", g50 - d50);

    // 2. Throughput.
    let clients = env_num("EXCHANGE_BENCH_CONCURRENCY", 64) as usize;
    let secs = env_num("EXCHANGE_BENCH_SECS", 5);
    let logged_before = log_rows(&app).await;
    // EXCHANGE_BENCH_DIRECT=off skips the direct load (for profiling the gateway alone).
    let (drate, mut dl, _) = if std::env::var("EXCHANGE_BENCH_DIRECT").as_deref() == Ok("off") {
        (0.0, vec![Duration::ZERO], 0)
    } else {
        load(&client, &direct, None, clients, secs).await
    };
    let (grate, mut gl, acknowledged) = load(&client, &gateway, Some(&token), clients, secs).await;
    println!("[{backend}] {clients} clients, {secs} s each way");
    println!("  direct   {drate:>8.0} calls/s   p50 {:>7.0} µs   p99 {:>7.0} µs", pct(&mut dl, 0.5), pct(&mut dl, 0.99));
    println!(
        "  gateway  {grate:>8.0} audited calls/s   p50 {:>7.0} µs   p99 {:>7.0} µs   (target ≥ 10,000/s)",
        pct(&mut gl, 0.5),
        pct(&mut gl, 0.99)
    );
    let logged = log_rows(&app).await - logged_before;
    assert!(logged >= acknowledged as i64, "every acknowledged call is logged: {logged} < {acknowledged}");
    println!("  log rows written during the load: {logged} (acknowledged {acknowledged})");
    if let Some(s) = app.exchange.stats().await.unwrap().into_iter().find(|s| s.resource_code == RESOURCE) {
        println!("  gateway work before the log commit (authorize, forward, filter, sign): mean {} µs", s.avg_latency_us);
    }
    sequencer.abort();
}

async fn log_rows(app: &yiwang_web::AppState) -> i64 {
    yiwang_store::sqlx::query_scalar("SELECT COUNT(*) FROM exchange_log").fetch_one(app.db.reader()).await.unwrap()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        for t in TestDb::each().await.expect("test databases") {
            let backend = if t.options.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
            run(&t, backend).await;
        }
    });
}
