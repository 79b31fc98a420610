//! Licence benchmark: verifications/s (Ed25519 and SM2 reported separately) and issuances/s.
//!
//! - offline: a licence file checked against the key set (canonical form, signature, seal life,
//!   validity) on every core, no I/O: the ceiling a third party sees;
//! - online: `Licences::verify(identifier)` (read the licence and status, seal from memory,
//!   check) from 32 concurrent tasks on a 2-worker runtime: what the verify API does per call;
//! - issuance: `Licences::issue` (serial, identifier, sign, insert, audit; group commit) from
//!   32 concurrent tasks.
//!
//! On a fresh SQLite file and on PostgreSQL unless YIWANG_TEST_PG=off.
//! Run: `cargo bench -p yiwang-licences --bench licences` (LICENCE_BENCH_N to change counts).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use yiwang_cases::SystemClock;
use yiwang_core::codes::CitizenId;
use yiwang_identity::{Role, Staff};
use yiwang_licences::*;
use yiwang_store::testing::TestDb;

const ISSUER: &str = "11360102711777742F";
const CONCURRENCY: usize = 32;

fn n() -> usize {
    std::env::var("LICENCE_BENCH_N").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(2000)
}

fn licence_type(code: &str, alg: Algorithm) -> LicenceType {
    LicenceType {
        code: code.into(),
        name: format!("基准证照{}", alg.key()),
        name_en: String::new(),
        department_name: "江川省民政厅".into(),
        holder: HolderKind::Person,
        algorithm: alg,
        validity_years: Some(10),
        number_prefix: "B".into(),
        fields: vec![TypeField { key: "note".into(), label: "备注".into(), label_en: String::new(), from: None, required: false }],
        items: vec![],
        template: Template::default(),
    }
}

fn holder(i: usize) -> String {
    let first17 = format!("36010219900101{:03}", i % 1000);
    format!("{first17}{}", CitizenId::check_char(&first17))
}

fn request(type_code: &str, i: usize) -> IssueRequest {
    IssueRequest {
        type_code: type_code.into(),
        issuer_code: ISSUER.into(),
        issuer_name: "青山市东城区民政局".into(),
        holder_name: "测试".into(),
        holder_id: holder(i),
        data: BTreeMap::from([("note".to_string(), format!("第{i}号"))]),
        item_code: None,
        case_id: None,
        case_number: None,
        valid_from: None,
        valid_to: None,
    }
}

fn report(label: &str, count: usize, wall: Duration, mut lat: Vec<Duration>) {
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).map(|d| d.as_secs_f64() * 1000.0);
    match (pct(0.5), pct(0.99)) {
        (Some(p50), Some(p99)) => println!(
            "{label:<44} {:>9.0}/s   p50 {p50:>6.2} ms   p99 {p99:>6.2} ms   ({count} in {:.2}s)",
            count as f64 / wall.as_secs_f64(),
            wall.as_secs_f64()
        ),
        _ => println!("{label:<44} {:>9.0}/s   ({count} in {:.2}s)", count as f64 / wall.as_secs_f64(), wall.as_secs_f64()),
    }
}

async fn concurrent<F, Fut>(count: usize, f: F) -> (Duration, Vec<Duration>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t = Instant::now();
                f(i).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    (start.elapsed(), lat)
}

/// Offline file verification on every core (std threads, no runtime).
fn offline(label: &str, file: &LicenceFile, keys: &KeySet, count: usize) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let per = count / cores;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                for _ in 0..per {
                    assert!(offline::verify_file(file, Some(keys), "2026-11-23").valid);
                }
            });
        }
    });
    report(&format!("{label} ({cores} threads)"), per * cores, start.elapsed(), vec![]);
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let n = n();
        let staff = Staff {
            username: "bench".into(),
            display_name: "bench".into(),
            department: Some(ISSUER.into()),
            region: None,
            roles: vec![Role::Approver],
        };
        for t in TestDb::each().await.expect("test database") {
            let backend = if t.options.url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
            // As in production: holders and documents sealed at rest, opened on every verification.
            let licences = Licences::new(t.db.clone(), Vault::ephemeral(), "http://bench", Arc::new(SystemClock))
                .with_personal_data(Arc::new(yiwang_crypto::PersonalData::ephemeral()));
            println!("== {backend}");
            for (code, alg) in [("1136000021993518NX901", Algorithm::Ed25519), ("1136000021993518NX902", Algorithm::Sm2)] {
                licences.put_type(&licence_type(code, alg)).await.expect("type");
                // Issuance.
                let issued = n / 2;
                let (l2, st, c) = (licences.clone(), staff.clone(), code.to_string());
                let (wall, lat) = concurrent(issued, move |i| {
                    let (l, st, c) = (l2.clone(), st.clone(), c.clone());
                    async move {
                        l.issue(&st, request(&c, i), "bench").await.expect("issue");
                    }
                })
                .await;
                report(&format!("{backend} issuances {}", alg.key()), issued, wall, lat);
                let ids: Arc<Vec<String>> = Arc::new(
                    licences
                        .issued_by(ISSUER, 500)
                        .await
                        .expect("list")
                        .into_iter()
                        .filter(|s| s.type_code == code)
                        .map(|s| s.identifier)
                        .collect(),
                );
                // Online verification (the verify API's domain call).
                let count = if alg == Algorithm::Sm2 { n } else { n * 10 };
                let (l2, ids2) = (licences.clone(), ids.clone());
                let (wall, lat) = concurrent(count, move |i| {
                    let (l, ids) = (l2.clone(), ids2.clone());
                    async move {
                        let r = l.verify(&ids[i % ids.len()]).await.expect("verify");
                        assert!(r.valid);
                    }
                })
                .await;
                report(&format!("{backend} online verifications {}", alg.key()), count, wall, lat);
                if backend == "SQLite" {
                    let l = licences.get(&ids[0]).await.expect("get");
                    let file = licences.file(&l).await.expect("file");
                    let keys = licences.key_set().await.expect("keys");
                    offline(&format!("offline file verifications {}", alg.key()), &file, &keys, count);
                }
            }
        }
    });
}
