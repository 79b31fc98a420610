//! Search benchmark: generates a catalog of 10,000 published items (through the real import
//! path into SQLite), then measures
//!   1. in-process search latency percentiles and single-thread throughput, and
//!   2. HTTP throughput of `GET /api/v1/items?q=…` over loopback with keep-alive connections.
//!
//! Targets (issue 2): p99 < 5 ms in-process; ≥ 5,000 searches/s over HTTP on 2 cores.
//!
//! Run: `cargo bench -p yiwang --bench search` (env: BENCH_ITEMS, BENCH_SECONDS, BENCH_CONNECTIONS).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use yiwang::Settings;
use yiwang_catalog::model::ItemFilter;
use yiwang_catalog::transfer::ItemRecord;
use yiwang_catalog::{demo, Editor};
use yiwang_store::testing::TestDb;

const QUERIES: &[&str] = &[
    "营业执照",
    "提取公积金",
    "身份证",
    "结婚登记",
    "退休",
    "社保卡",
    "驾照",
    "食品经营许可",
    "新生儿",
    "不动产登记",
    "失业金",
    "护照",
    "低保",
    "公司注销",
    "医保",
    "异地就医",
    "教师资格",
    "施工许可",
    "落户",
    "yyzz",
    "开公司",
    "公积金贷款",
    "出生医学证明",
    "生育津贴",
    "高龄津贴",
    "发票",
    "居住证",
    "二手房过户",
    "创业贷款",
    "卫生许可",
];

const PLACES: &[&str] = &["东城", "西湖", "南溪", "桃源", "朝阳", "和平", "中心", "青山", "绿水", "江川"];
const VARIANTS: &[&str] = &["", "（网上办）", "（窗口办）", "（跨省通办）", "（告知承诺）", "（延续）", "（变更）", "（补办）"];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// 10,000 realistic items: demo items re-issued with new basic codes and varied names.
fn generate(n: usize) -> Vec<ItemRecord> {
    let base = demo::province().expect("demo").items;
    (0..n)
        .map(|i| {
            let src = &base[i % base.len()];
            let mut doc = src.doc.clone();
            doc.basic_code = format!("3699{:08}", i);
            let place = PLACES[(i / base.len()) % PLACES.len()];
            let variant = VARIANTS[(i / (base.len() * PLACES.len())) % VARIANTS.len()];
            doc.name = format!("{}{}（{}）", doc.name, variant, place);
            let level = &src.impl_code[18..19];
            ItemRecord { impl_code: format!("{}{}{}", doc.department_code, level, doc.basic_code), doc }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let n = env_or("BENCH_ITEMS", 10_000) as usize;
    let seconds = env_or("BENCH_SECONDS", 10);
    let connections = env_or("BENCH_CONNECTIONS", 32) as usize;

    let db = TestDb::sqlite().await.expect("db");
    let settings = Settings { database_url: db.options.url.clone(), ..Settings::default() };
    let app = yiwang::build(&settings).await.expect("app");
    let records = generate(n);
    let t0 = Instant::now();
    let report = app.catalog.import(&Editor::platform("bench"), &records, true, &|_, _| {}).await.expect("import");
    let import_time = t0.elapsed();
    let indexed = app.catalog.search_index().len();
    println!(
        "catalog: {} generated + demo = {} indexed items; import+publish+reindex took {:.2} s ({:.0} items/s)",
        report.published,
        indexed,
        import_time.as_secs_f64(),
        n as f64 / import_time.as_secs_f64()
    );

    // 1. In-process latency.
    let filter = ItemFilter::default();
    for q in QUERIES {
        app.catalog.search(q, &filter, 1, 10).expect("warm-up");
    }
    let rounds = 1000;
    let mut lat = Vec::with_capacity(rounds * QUERIES.len());
    let mut hits = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        for q in QUERIES {
            let t = Instant::now();
            let r = app.catalog.search(q, &filter, 1, 10).expect("search");
            lat.push(t.elapsed());
            hits += r.hits.len();
        }
    }
    let wall = start.elapsed();
    lat.sort();
    println!(
        "in-process search ({} queries, top 10, {} hits): p50 {} · p90 {} · p99 {} · max {} · {:.0} searches/s on one thread",
        lat.len(),
        hits,
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.9)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
        lat.len() as f64 / wall.as_secs_f64()
    );
    let p99 = percentile(&lat, 0.99);
    println!("target p99 < 5 ms in-process: {}", if p99 < Duration::from_millis(5) { "MET" } else { "NOT MET" });

    // 2. HTTP throughput over loopback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = yiwang_web::router(app.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(connections).build_http();
    let urls: Vec<hyper::Uri> = QUERIES
        .iter()
        .map(|q| {
            let enc: String =
                q.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
            format!("http://{addr}/api/v1/items?q={enc}&per_page=10").parse().expect("uri")
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for w in 0..connections {
        let (client, urls, stop, done, errors) = (client.clone(), urls.clone(), stop.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match client.get(urls[i % urls.len()].clone()).await {
                    Ok(res) if res.status().is_success() => {
                        let _ = res.into_body().collect().await;
                        done.fetch_add(1, Ordering::Relaxed);
                        lat.push(t.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += connections;
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    let total = done.load(Ordering::Relaxed);
    let rps = total as f64 / elapsed;
    println!(
        "HTTP search ({connections} keep-alive connections, {seconds} s, load generator in the same process on the same 2 cores): {total} requests, {} errors, {:.0} searches/s · p50 {} · p99 {}",
        errors.load(Ordering::Relaxed), rps,
        ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99))
    );
    println!("target ≥ 5,000 searches/s over HTTP: {}", if rps >= 5000.0 { "MET" } else { "NOT MET" });
}
