//! Open-data benchmark: 10,000 generated datasets (with their resources) in SQLite, loaded the
//! way a node starts (one read, in-memory packages and a jieba-segmented tantivy index), then
//!   1. `package_search` latency percentiles for a mix of CKAN queries (words, filters,
//!      facets, paging, sorts), single thread, and
//!   2. HTTP throughput of `GET /api/3/action/package_search?…` over loopback with keep-alive.
//!
//! Reference: CKAN's own tracker reports ~1 s for a search over 1,000 rows. Run:
//! `cargo bench -p yiwang --bench opendata` (env: BENCH_DATASETS, BENCH_SECONDS, BENCH_CONNECTIONS).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use yiwang::Settings;
use yiwang_openness::opendata::SearchParams;
use yiwang_store::sqlx;
use yiwang_store::testing::TestDb;

const TOPICS: &[(&str, &str)] = &[
    ("公交线路", "transport"),
    ("医疗机构", "health"),
    ("中小学校", "education"),
    ("市场主体", "economy"),
    ("空气质量", "environment"),
    ("养老机构", "social"),
    ("政务服务", "government"),
    ("停车场", "transport"),
    ("药店", "health"),
    ("招聘会", "social"),
];
const PLACES: &[&str] = &["青山市", "东城区", "西城区", "高新区", "湖滨区", "青山县", "云溪县", "江川省"];
const YEARS: &[&str] = &["2021", "2022", "2023", "2024", "2025", "2026"];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn queries(orgs: &[String]) -> Vec<SearchParams> {
    let mut out = Vec::new();
    let facets = Some(r#"["organization","groups","tags","res_format"]"#.to_string());
    for (i, (t, g)) in TOPICS.iter().enumerate() {
        out.push(SearchParams { q: Some(t.to_string()), rows: Some(10), ..Default::default() });
        out.push(SearchParams {
            q: Some(format!("{} {}", PLACES[i % PLACES.len()], t)),
            rows: Some(20),
            facet_field: facets.clone(),
            ..Default::default()
        });
        out.push(SearchParams {
            fq: Some(format!("groups:{g}")),
            rows: Some(10),
            start: Some(20),
            facet_field: facets.clone(),
            ..Default::default()
        });
        out.push(SearchParams {
            fq: Some(format!("organization:{} res_format:CSV", orgs[i % orgs.len()])),
            rows: Some(10),
            sort: Some("metadata_modified desc".into()),
            ..Default::default()
        });
        out.push(SearchParams { rows: Some(10), start: Some(i * 100), sort: Some("name asc".into()), ..Default::default() });
    }
    out
}

fn main() {
    let n = env_or("BENCH_DATASETS", 10_000) as usize;
    let secs = env_or("BENCH_SECONDS", 5);
    let conns = env_or("BENCH_CONNECTIONS", 32) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let t = TestDb::sqlite().await.expect("db");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let settings = Settings { database_url: t.options.url.clone(), public_url: format!("http://{addr}"), ..Settings::default() };
        let app = yiwang::build(&settings).await.expect("app");

        // 10,000 datasets with one CSV resource each, written in bulk.
        let started = Instant::now();
        let depts: Vec<(String, String)> = app.catalog.departments().await.expect("departments").into_iter().map(|d| (d.credit_code, d.name)).collect();
        let mut tx = app.db.begin().await.expect("tx");
        for i in 0..n {
            let (topic, group) = TOPICS[i % TOPICS.len()];
            let place = PLACES[(i / TOPICS.len()) % PLACES.len()];
            let year = YEARS[i % YEARS.len()];
            let (code, dname) = &depts[i % depts.len()];
            let id = format!("bench-{i:05}");
            let now = format!("2026-{:02}-{:02}T0{}:00:00.000Z", 1 + i % 10, 1 + i % 28, i % 10);
            sqlx::query(
                "INSERT INTO datasets (dataset_id, name, title, notes, organization, organization_title, license_id, group_names, tags, update_cycle,
                    open_type, metadata_created, metadata_modified) VALUES ($1, $2, $3, $4, $5, $6, 'gov-open', $7, $8, '每月', '无条件开放', $9, $9)",
            )
            .bind(&id)
            .bind(&id)
            .bind(format!("{place}{topic}数据（{year}年第{}批）", i % 97))
            .bind(format!("{place}{year}年{topic}的明细数据，由{dname}按月更新，供公众查询和下载。"))
            .bind(code)
            .bind(dname)
            .bind(format!("[\"{group}\"]"))
            .bind(format!("[\"{topic}\",\"{place}\",\"{year}\"]"))
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("dataset");
            sqlx::query(
                "INSERT INTO dataset_resources (resource_id, dataset_id, position, name, description, format, mimetype, size, sha256, data, fields, row_count,
                    created, last_modified) VALUES ($1, $2, 0, $3, '', 'CSV', 'text/csv', 20, '0', $4, '[{\"id\":\"名称\",\"type\":\"text\"}]', 1, $5, $5)",
            )
            .bind(format!("{id}-r"))
            .bind(&id)
            .bind(format!("{topic}明细"))
            .bind(b"\xe5\x90\x8d\xe7\xa7\xb0\nx\n".to_vec())
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("resource");
        }
        tx.commit().await.expect("commit");
        let written = started.elapsed();
        let started = Instant::now();
        app.openness.reload().await.expect("reload");
        let loaded = started.elapsed();
        let total = app.openness.dataset_count();
        println!("opendata: {total} datasets (written in {:.1} s; node start-up load and index {:.2} s)", written.as_secs_f64(), loaded.as_secs_f64());

        // 1. In-process latency.
        let orgs: Vec<String> = app.openness.organizations().into_iter().map(|(o, _)| o.name).collect();
        let qs = queries(&orgs);
        for q in &qs {
            app.openness.package_search(q).expect("warm-up");
        }
        let mut lat = Vec::new();
        let started = Instant::now();
        let mut counts = 0usize;
        for round in 0..40 {
            for q in &qs {
                let t0 = Instant::now();
                let r = app.openness.package_search(q).expect("search");
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                if round == 0 {
                    counts += r.count;
                }
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        println!(
            "package_search in process: {} searches ({} query shapes, {counts} matches per round) p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.0} searches/s on one thread",
            lat.len(),
            qs.len(),
            pct(&lat, 0.5),
            pct(&lat, 0.95),
            pct(&lat, 0.99),
            lat[lat.len() - 1],
            lat.len() as f64 / elapsed
        );

        // 2. HTTP throughput.
        let router = yiwang_web::router(app.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        let paths: Vec<String> = qs
            .iter()
            .map(|q| {
                let mut p = format!("/api/3/action/package_search?rows={}", q.rows.unwrap_or(10));
                if let Some(x) = &q.q {
                    p.push_str(&format!("&q={}", yiwang_core::url::percent_encode(x, b"")));
                }
                if let Some(x) = &q.fq {
                    p.push_str(&format!("&fq={}", yiwang_core::url::percent_encode(x, b"")));
                }
                if let Some(x) = q.start {
                    p.push_str(&format!("&start={x}"));
                }
                p
            })
            .collect();
        let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(conns).build_http();
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let lats = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for w in 0..conns {
            let (client, stop, done, errors, lats, paths) = (client.clone(), stop.clone(), done.clone(), errors.clone(), lats.clone(), paths.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = w;
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let uri: hyper::Uri = format!("http://{addr}{}", paths[i % paths.len()]).parse().expect("uri");
                    i += 1;
                    let t0 = Instant::now();
                    match client.get(uri).await {
                        Ok(res) if res.status().is_success() => {
                            let _ = res.into_body().collect().await;
                            mine.push(t0.elapsed().as_secs_f64() * 1000.0);
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                if let Ok(mut l) = lats.lock() {
                    l.extend(mine);
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        let mut l = lats.lock().map(|l| l.clone()).unwrap_or_default();
        l.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let n = done.load(Ordering::Relaxed);
        if l.is_empty() {
            println!("HTTP: no successful requests ({} errors)", errors.load(Ordering::Relaxed));
            return;
        }
        println!(
            "package_search over HTTP ({conns} connections, {secs} s): {:.0} searches/s, p50 {:.1} ms, p99 {:.1} ms, errors {}",
            n as f64 / secs as f64,
            pct(&l, 0.5),
            pct(&l, 0.99),
            errors.load(Ordering::Relaxed)
        );
    });
}
