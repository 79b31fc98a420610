//! Ledger benchmark: appends/s when the sequencer drains captured rows into a log of
//! LEDGER_BENCH_N entries (half queued as the capture triggers queue rows that change, half new
//! rows of a tailed table, read from the table itself; LEDGER_BENCH_TAILED sets the percentage) (default 1,000,000 on SQLite; LEDGER_BENCH_PG_N, default 200,000, on
//! PostgreSQL unless YIWANG_TEST_PG=off), then inclusion and consistency proofs/s against the
//! full tree, head signing, and a full `verify` of the log. Run: `cargo bench -p yiwang-ledger`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use yiwang_crypto::Vault;
use yiwang_ledger::{audit, Ledger, LedgerSettings};
use yiwang_store::sqlx;
use yiwang_store::testing::TestDb;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn pct(lat: &mut [Duration], p: f64) -> f64 {
    lat.sort();
    lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0
}

/// `n` rows written by `insert` (an `INSERT … VALUES ` head) with the values `row(i)`: 500 rows
/// a statement, 20 statements a transaction.
async fn fill(t: &TestDb, n: u64, insert: &str, row: impl Fn(u64) -> String) {
    let mut done = 0;
    while done < n {
        let mut tx = t.db.begin().await.unwrap();
        for _ in 0..20 {
            let k = (n - done).min(500);
            if k == 0 {
                break;
            }
            let values: Vec<String> = (done..done + k).map(&row).collect();
            let sql = format!("{insert}{}", values.join(","));
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await.unwrap();
            done += k;
        }
        tx.commit().await.unwrap();
    }
}

/// Rows as the capture triggers queue them (a case event's size and shape).
async fn fill_queue(t: &TestDb, n: u64) {
    fill(t, n, "INSERT INTO ledger_queue (source, source_key, record) VALUES ", |id| {
        format!(
            "('bench','{id}','{{\"id\":{id},\"case_id\":\"c{id}\",\"at\":\"2026-11-23T08:00:00.000Z\",\"kind\":\"accepted\",\"step\":\"受理\",\"department_code\":\"11360100104974650K\",\"department_name\":\"青山市公安局\",\"branch_no\":1,\"note\":\"\",\"actor\":\"window\"}}')"
        )
    })
    .await
}

/// Staff actions, a tailed source: the sequencer reads them from `audit_log` itself.
async fn fill_tailed(t: &TestDb, n: u64) {
    fill(t, n, "INSERT INTO audit_log (at, actor, action, target, result, source) VALUES ", |i| {
        format!("('2026-11-23T08:00:00.000Z','staff-{}','case.accept','case:c{i}','success','127.0.0.1')", i % 50)
    })
    .await
}

async fn bench(t: TestDb, n: u64) {
    let backend = if t.options.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
    println!("== {backend}: {n} entries (SM3, SM2 heads)");
    let ledger = Ledger::open(t.db.clone(), Vault::ephemeral(), LedgerSettings { batch: 5000, ..Default::default() }).await.unwrap();
    let start = Instant::now();
    // LEDGER_BENCH_TAILED: the percentage of rows from a tailed table (default 50).
    let tailed = n * env("LEDGER_BENCH_TAILED", 50).min(100) / 100;
    fill_queue(&t, n - tailed).await;
    fill_tailed(&t, tailed).await;
    println!("(queued {} captured rows and wrote {tailed} staff actions in {:.1}s)", n - tailed, start.elapsed().as_secs_f64());

    let start = Instant::now();
    let appended = ledger.sequence_now().await.unwrap();
    let wall = start.elapsed();
    println!("{:<36} {:>9.0}/s   ({appended} in {:.2}s)", "appends (sequencer)", appended as f64 / wall.as_secs_f64(), wall.as_secs_f64());

    let start = Instant::now();
    let heads = 200;
    for _ in 0..heads {
        ledger.sign_head().await.unwrap();
    }
    println!("{:<36} {:>9.0}/s", "signed tree heads", heads as f64 / start.elapsed().as_secs_f64());

    let proofs = env("LEDGER_BENCH_PROOFS", 20_000);
    let size = ledger.size();
    for (label, consistency) in [("inclusion proofs", false), ("consistency proofs", true)] {
        let clients = 4;
        let start = Instant::now();
        let mut tasks = Vec::new();
        let l = Arc::new(ledger.clone());
        for _ in 0..clients {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                for _ in 0..proofs / clients {
                    let i = rand::thread_rng().gen_range(0..size);
                    let t = Instant::now();
                    if consistency {
                        l.consistency(i.max(1), size).await.unwrap();
                    } else {
                        l.inclusion(i, size).await.unwrap();
                    }
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let wall = start.elapsed();
        let rate = lat.len() as f64 / wall.as_secs_f64();
        println!("{label:<36} {rate:>9.0}/s   p50 {:>6.3} ms   p99 {:>6.3} ms", pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    }

    let start = Instant::now();
    let report = audit::run(&t.db, Default::default()).await.unwrap();
    assert!(report.findings.is_empty(), "{:?}", &report.findings[..report.findings.len().min(5)]);
    let wall = start.elapsed();
    println!(
        "{:<36} {:>9.0}/s   ({} entries, {} heads in {:.1}s)",
        "verify (recompute everything)",
        report.entries_checked as f64 / wall.as_secs_f64(),
        report.entries_checked,
        report.heads_checked,
        wall.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    bench(TestDb::sqlite().await.unwrap(), env("LEDGER_BENCH_N", 1_000_000)).await;
    if !yiwang_store::testing::pg_disabled() {
        bench(TestDb::postgres().await.unwrap(), env("LEDGER_BENCH_PG_N", 200_000)).await;
    }
}
