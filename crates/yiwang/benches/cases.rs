//! Case workflow benchmark: application submissions/s (pre-check, case number, branches,
//! timeline, inbox and SMS notices, durable commit) and staff actions/s (acceptance with
//! deadlines and notices), with p50/p99 latency, on a fresh SQLite file (synchronous=FULL) and
//! on PostgreSQL unless YIWANG_TEST_PG=off. Drafts and materials are prepared first and not
//! timed; personal data is sealed at rest as in production, and PostgreSQL gets the production
//! pool size. Each backend runs without and with the ledger (CASES_BENCH_LEDGER=off|on|both, or
//! capture: off, triggers only, on; what the sequencer has left after each timed part is
//! appended and, in On mode, charged to that part), the modes in turn for CASES_BENCH_ROUNDS rounds (default
//! 4, every other one in reverse order); the summary gives medians and the ledger's cost.
//! Run: `cargo bench -p yiwang --bench cases` (CASES_BENCH_N to change the count,
//! CASES_BENCH_BACKEND=sqlite|postgres for one backend only).

use std::sync::Arc;
use std::time::{Duration, Instant};

use yiwang_cases::{Action, Applicant, ApplicantKind, ApplicationInput, CaseSettings, Cases, SystemClock, Target, Values};
use yiwang_catalog::{demo, Catalog};
use yiwang_core::codes::CitizenId;
use yiwang_identity::{Role, Staff};
use yiwang_store::testing::TestDb;

/// Concurrent clients (`CASES_BENCH_CONCURRENCY`, default 32). With group commit, throughput
/// grows with concurrency until the writer is busy all the time: each client waits for the
/// batch in progress and then its own.
fn concurrency() -> usize {
    std::env::var("CASES_BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(32)
}

fn applicant(i: usize) -> Applicant {
    // A thousand applicants, several cases each.
    let first17 = format!("36010219900101{:03}", i % 1000);
    let id = format!("{first17}{}", CitizenId::check_char(&first17));
    Applicant {
        account: Some(format!("bench-{i}")),
        kind: ApplicantKind::Person,
        name: "测试".into(),
        id_number: id.clone(),
        person_name: "测试".into(),
        person_id_number: id,
        phone: Some("13800138000".into()),
        assurance: 2,
        address: None,
    }
}

/// CPU time the whole machine has spent busy so far (every process, the database server
/// included), in seconds; `None` off Linux.
fn machine_busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<f64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal: idle, iowait and steal (time the
    // hypervisor gave to other guests) are not work done here.
    let busy: f64 = cpu.iter().take(8).enumerate().filter(|(i, _)| ![3, 4, 7].contains(i)).map(|(_, v)| v).sum();
    Some(busy / 100.0)
}

/// The machine's busy CPU seconds since `start` (a [`machine_busy_secs`] reading).
fn busy_since(start: Option<f64>) -> f64 {
    start.zip(machine_busy_secs()).map(|(a, b)| b - a).unwrap_or(0.0)
}

/// What one timed part measured: operations per second and machine CPU per operation.
#[derive(Clone, Copy)]
struct Figures {
    rate: f64,
    cpu_us: f64,
}

/// Prints the figures of one timed part. CPU per operation varies far less between runs than
/// throughput on a shared machine, so the ledger's cost is reported in both.
fn report(label: &str, mut lat: Vec<Duration>, wall: Duration, cpu_secs: f64) -> Figures {
    lat.sort();
    let n = lat.len();
    let pct = |p: f64| lat[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1000.0;
    let f = Figures { rate: n as f64 / wall.as_secs_f64(), cpu_us: cpu_secs * 1e6 / n as f64 };
    println!(
        "{label:<40} {:>8.0}/s   p50 {:>6.2} ms   p99 {:>6.2} ms   CPU {:>5.0} µs/op   ({n} in {:.2}s)",
        f.rate,
        pct(0.50),
        pct(0.99),
        f.cpu_us,
        wall.as_secs_f64()
    );
    f
}

/// Run `f(i)` for i in 0..n on `concurrency()` tasks; per-call latencies, wall time and the
/// machine's busy CPU seconds.
async fn timed<F, Fut>(n: usize, f: F) -> (Vec<Duration>, Duration, f64)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let busy = machine_busy_secs();
    let start = Instant::now();
    let mut tasks = Vec::new();
    let clients = concurrency();
    for w in 0..clients {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = w;
            while i < n {
                let t = Instant::now();
                f(i).await;
                lat.push(t.elapsed());
                i += clients;
            }
            lat
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, start.elapsed(), busy_since(busy))
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("CASES_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(6000);
    // CASES_BENCH_LEDGER: `off`, `on` or `both` (default): the same load without and with the
    // tamper-evident ledger capturing every row and its sequencer running alongside.
    // `capture`: triggers only, the sequencer runs after the timed part (isolates its cost).
    let modes: Vec<Ledger> = match std::env::var("CASES_BENCH_LEDGER").as_deref() {
        Ok("off") => vec![Ledger::Off],
        Ok("on") => vec![Ledger::On],
        Ok("capture") => vec![Ledger::Off, Ledger::Capture, Ledger::On],
        _ => vec![Ledger::Off, Ledger::On],
    };
    // CASES_BENCH_ROUNDS: the modes run in turn this many times and medians are reported, so
    // the ledger's cost is not lost in the drift of a shared machine (±15 % between runs).
    let rounds: usize = std::env::var("CASES_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(4);
    let only = std::env::var("CASES_BENCH_BACKEND").ok();
    for t in TestDb::each().await.unwrap() {
        let sqlite = t.options.url.starts_with("sqlite");
        drop(t);
        if only.as_deref().is_some_and(|b| b != if sqlite { "sqlite" } else { "postgres" }) {
            continue;
        }
        let mut figures: Vec<(Ledger, Figures, Figures)> = Vec::new();
        for round in 0..rounds {
            // Every other round in reverse, so whatever favours the first or the last run of a
            // round (a warm cache, a neighbour's load) falls on each mode alike.
            let order: Vec<Ledger> = if round % 2 == 0 { modes.clone() } else { modes.iter().rev().copied().collect() };
            for mode in order {
                let t = if sqlite {
                    TestDb::sqlite().await.unwrap()
                } else {
                    // The production pool size, not the small pool of parallel tests.
                    TestDb::postgres_pool(yiwang_store::ConnectOptions::DEFAULT_MAX_CONNECTIONS).await.unwrap()
                };
                let (subs, acts) = run(t, n, mode).await;
                figures.push((mode, subs, acts));
            }
        }
        summary(if sqlite { "sqlite" } else { "postgres" }, rounds, &modes, &figures);
    }
}

/// Picks the submissions' or the staff actions' figures of one run.
type Pick = fn(&(Ledger, Figures, Figures)) -> Figures;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    }
}

/// Medians per mode, and the ledger's cost against the run without it: in throughput and in
/// the machine's CPU per operation.
fn summary(backend: &str, rounds: usize, modes: &[Ledger], figures: &[(Ledger, Figures, Figures)]) {
    println!("== {backend}: medians of {rounds} rounds");
    let of = |m: Ledger, pick: Pick| {
        let runs: Vec<Figures> = figures.iter().filter(|f| f.0 == m).map(pick).collect();
        Figures { rate: median(runs.iter().map(|f| f.rate).collect()), cpu_us: median(runs.iter().map(|f| f.cpu_us).collect()) }
    };
    let parts: [(&str, Pick); 2] = [("submissions", |f| f.1), ("staff actions", |f| f.2)];
    for (label, pick) in parts {
        let off = modes.contains(&Ledger::Off).then(|| of(Ledger::Off, pick));
        for &m in modes {
            let f = of(m, pick);
            let cost = match off {
                Some(off) if m != Ledger::Off => {
                    format!(
                        "   ledger: throughput {:+.1} %, CPU/op {:+.1} %",
                        (f.rate / off.rate - 1.0) * 100.0,
                        (f.cpu_us / off.cpu_us - 1.0) * 100.0
                    )
                }
                _ => String::new(),
            };
            println!("{:<14}{:<8} {:>6.0}/s  CPU {:>5.0} µs/op{cost}", label, format!("{m:?}"), f.rate, f.cpu_us);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ledger {
    Off,
    Capture,
    On,
}

/// The ledger of a run and, in On mode, its sequencer task.
type RunLedger = Option<(yiwang_ledger::Ledger, Option<tokio::task::JoinHandle<()>>)>;

/// Appends what the part just timed left queued. With the sequencer running (On), the time and
/// CPU this takes are returned to be charged to that part, so each part pays its whole ledger
/// cost and none of another's; Capture leaves the sequencer out of the figures.
async fn settle(ledger: &RunLedger, part: &str) -> (Duration, f64) {
    let Some((l, task)) = ledger else { return (Duration::ZERO, 0.0) };
    let pending = l.info().await.unwrap().pending;
    let (start, busy) = (Instant::now(), machine_busy_secs());
    l.sequence_now().await.unwrap();
    let (wall, cpu) = (start.elapsed(), busy_since(busy));
    let charged = task.is_some();
    println!(
        "(ledger after {part}: {} entries; {pending} were waiting, appended in {:.3}s{})",
        l.size(),
        wall.as_secs_f64(),
        if charged { ", included below" } else { "" }
    );
    if charged {
        (wall, cpu)
    } else {
        (Duration::ZERO, 0.0)
    }
}

/// On PostgreSQL, a checkpoint before each timed part: the first change of each page after a
/// checkpoint writes the whole page to the WAL, so a part that a scheduled checkpoint happens
/// to fall into writes more and runs slower (±20 % between otherwise equal runs). Each part
/// now starts just after one.
async fn checkpoint(db: &yiwang_store::Db) {
    if db.dialect() == yiwang_store::Dialect::Postgres {
        if let Err(e) = yiwang_store::sqlx::query("CHECKPOINT").execute(db.reader()).await {
            println!("(no checkpoint before the part: {e})");
        }
    }
}

/// One timed run; returns the figures of submissions and of staff actions.
async fn run(t: TestDb, n: usize, mode: Ledger) -> (Figures, Figures) {
    {
        let backend = if t.options.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        println!("== {backend}, ledger {mode:?} ({n} applications, {} concurrent)", concurrency());
        let ledger = match mode {
            Ledger::Off => None,
            _ => {
                let l = yiwang_ledger::Ledger::open(t.db.clone(), yiwang_crypto::Vault::ephemeral(), Default::default()).await.unwrap();
                let task = (mode == Ledger::On).then(|| tokio::spawn(l.clone().run()));
                Some((l, task))
            }
        };
        let catalog = Arc::new(Catalog::open(t.db.clone()).await.unwrap());
        let p = demo::province().unwrap();
        catalog.load_demo(&p).await.unwrap();
        let cases = Cases::new(
            t.db.clone(),
            catalog,
            yiwang_cases::demo::builtin_calendar().unwrap(),
            Arc::new(SystemClock),
            CaseSettings::default(),
        )
        // As in production: applicants' ID numbers, phones, forms and addresses sealed at rest.
        .with_personal_data(Arc::new(yiwang_crypto::PersonalData::ephemeral()));
        yiwang_cases::demo::load(&cases, &p.item_keys).await.unwrap();
        // Two items of the public security bureau: a defined form with one material and the
        // generic form with two. Half the load each keeps under the 9,999-a-day numbering.
        let items = [(Target::Item(p.item_keys["sfz-hb"].clone()), true), (Target::Item(p.item_keys["sfz-sl"].clone()), false)];
        let items = Arc::new(items);

        // Prepare drafts with materials (not timed).
        let c = cases.clone();
        let its = items.clone();
        let ids = Arc::new(tokio::sync::Mutex::new(vec![String::new(); n]));
        let ids2 = ids.clone();
        let start = Instant::now();
        timed(n, move |i| {
            let (c, its, ids) = (c.clone(), its.clone(), ids2.clone());
            async move {
                let a = applicant(i);
                let (target, defined) = &its[i % 2];
                let mut v = Values::new();
                let pairs: &[(&str, &str)] = if *defined {
                    &[("applicant_name", "测试"), ("contact_phone", "13800138000"), ("reason", "有效期满换领"), ("address", "青山市")]
                } else {
                    &[("contact_name", "测试"), ("contact_phone", "13800138000")]
                };
                for (k, x) in pairs {
                    v.insert(k.to_string(), x.to_string());
                }
                v.insert("id_number".into(), a.id_number.clone());
                let d = c.create_draft(&a, target, &ApplicationInput { values: v, ..Default::default() }, None).await.unwrap();
                let p = c.prepare(target).await.unwrap();
                for m in p.materials.iter().filter(|m| m.required) {
                    c.attach_material(&a, &d.case_id, &m.name, "m.pdf", format!("%PDF-1.4 bench {i} {}", m.name).as_bytes()).await.unwrap();
                }
                ids.lock().await[i] = d.case_id;
            }
        })
        .await;
        println!("(prepared {n} drafts with materials in {:.1}s)", start.elapsed().as_secs_f64());
        // The drafts' own entries are appended before the clock starts: they are not the
        // submissions' cost.
        settle(&ledger, "drafts").await;
        checkpoint(&t.db).await;

        let ids: Arc<Vec<String>> = Arc::new(ids.lock().await.clone());
        let c = cases.clone();
        let ids2 = ids.clone();
        let (lat, wall, cpu) = timed(n, move |i| {
            let (c, ids) = (c.clone(), ids2.clone());
            async move {
                let case = c.submit(&applicant(i), &ids[i]).await.unwrap();
                assert!(case.case_number.is_some());
            }
        })
        .await;
        let (extra_wall, extra_cpu) = settle(&ledger, "submissions").await;
        let subs = report("application submissions", lat, wall + extra_wall, cpu + extra_cpu);
        checkpoint(&t.db).await;

        let window = Staff {
            username: "bench-window".into(),
            display_name: "窗口".into(),
            department: Some("11360100104974650K".into()),
            region: None,
            roles: vec![Role::Window],
        };
        let c = cases.clone();
        let (lat, wall, cpu) = timed(n, move |i| {
            let (c, ids, window) = (c.clone(), ids.clone(), window.clone());
            async move {
                let case = c.case_for_staff(&window, &ids[i]).await.unwrap();
                c.act(&window, &ids[i], case.version, &Action::Accept { on_the_spot: false }).await.unwrap();
            }
        })
        .await;
        let (extra_wall, extra_cpu) = settle(&ledger, "staff actions").await;
        if let Some((_, Some(task))) = ledger {
            task.abort();
        }
        let acts = report("staff actions (read case + accept)", lat, wall + extra_wall, cpu + extra_cpu);
        (subs, acts)
    }
}
