//! Case workflow benchmark: application submissions/s (pre-check, case number, branches,
//! timeline, inbox and SMS notices, durable commit) and staff actions/s (acceptance with
//! deadlines and notices), with p50/p99 latency, on a fresh SQLite file (synchronous=FULL) and
//! on PostgreSQL unless YIWANG_TEST_PG=off. Drafts and materials are prepared first and not
//! timed; personal data is sealed at rest as in production, and PostgreSQL gets the production
//! pool size.
//!
//! Each backend runs without and with the ledger. By default the two are paired: two databases
//! side by side, each part in chunks that alternate between them (see `paired`), so both see
//! the same machine. CASES_BENCH_LEDGER=off|on runs one mode; `capture` runs off, triggers
//! only and on one after the other, as does CASES_BENCH_SEQUENTIAL=1 for off and on. In every
//! mode what the sequencer has left after a timed stretch is appended then and, with the
//! sequencer on, charged to it. CASES_BENCH_ROUNDS rounds (default 4); the summary gives
//! medians and the ledger's cost.
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

/// Run `f(i)` for i in `range` on `concurrency()` tasks; per-call latencies, wall time and the
/// machine's busy CPU seconds.
async fn timed<F, Fut>(range: std::ops::Range<usize>, f: F) -> (Vec<Duration>, Duration, f64)
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
        let range = range.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = range.start + w;
            while i < range.end {
                let t = Instant::now();
                f(i).await;
                lat.push(t.elapsed());
                i += clients;
            }
            lat
        }));
    }
    let mut all = Vec::with_capacity(range.len());
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
    // Off and On are compared in one paired run per round (see [`paired`]) unless
    // CASES_BENCH_SEQUENTIAL=1 asks for one run per mode as before.
    let sequential = std::env::var("CASES_BENCH_SEQUENTIAL").is_ok_and(|v| v == "1");
    for t in TestDb::each().await.unwrap() {
        let sqlite = t.options.url.starts_with("sqlite");
        drop(t);
        if only.as_deref().is_some_and(|b| b != if sqlite { "sqlite" } else { "postgres" }) {
            continue;
        }
        let mut figures: Vec<(Ledger, Figures, Figures)> = Vec::new();
        if modes == [Ledger::Off, Ledger::On] && !sequential {
            for round in 0..rounds {
                figures.extend(paired(sqlite, n, round).await);
            }
            summary(if sqlite { "sqlite" } else { "postgres" }, rounds, &modes, &figures);
            continue;
        }
        for round in 0..rounds {
            // Every other round in reverse, so whatever favours the first or the last run of a
            // round (a warm cache, a neighbour's load) falls on each mode alike.
            let order: Vec<Ledger> = if round % 2 == 0 { modes.clone() } else { modes.iter().rev().copied().collect() };
            for mode in order {
                let (subs, acts) = run(test_db(sqlite).await, n, mode).await;
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
                    // Round by round too: each round's two runs saw the same machine (paired,
                    // they ran side by side), so their ratio drifts less than the medians do.
                    let per_round: Vec<f64> = figures
                        .iter()
                        .filter(|f| f.0 == Ledger::Off)
                        .zip(figures.iter().filter(|f| f.0 == m))
                        .map(|(o, w)| (pick(w).rate / pick(o).rate - 1.0) * 100.0)
                        .collect();
                    let (lo, hi) = per_round.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
                    format!(
                        "   ledger: throughput {:+.1} %, CPU/op {:+.1} %; per round median {:+.1} % ({lo:+.1}…{hi:+.1} %)",
                        (f.rate / off.rate - 1.0) * 100.0,
                        (f.cpu_us / off.cpu_us - 1.0) * 100.0,
                        median(per_round),
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

/// A fresh database of the backend; PostgreSQL gets the production pool size, not the small
/// pool of parallel tests.
async fn test_db(sqlite: bool) -> TestDb {
    if sqlite {
        TestDb::sqlite().await.unwrap()
    } else {
        TestDb::postgres_pool(yiwang_store::ConnectOptions::DEFAULT_MAX_CONNECTIONS).await.unwrap()
    }
}

/// A database with the demo province and `n` drafts with materials, ready to submit.
struct Env {
    t: TestDb,
    cases: Cases,
    /// The ledger, capturing, when the run has one (its sequencer is started by the caller).
    ledger: Option<yiwang_ledger::Ledger>,
    ids: Arc<Vec<String>>,
}

/// Sets up a run (not timed): the drafts' own ledger entries are appended before any clock
/// starts, as they are not the submissions' cost.
async fn prepare(t: TestDb, n: usize, mode: Ledger) -> Env {
    let backend = if t.options.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
    println!("== {backend}, ledger {mode:?} ({n} applications, {} concurrent)", concurrency());
    let ledger = match mode {
        Ledger::Off => None,
        _ => Some(yiwang_ledger::Ledger::open(t.db.clone(), yiwang_crypto::Vault::ephemeral(), Default::default()).await.unwrap()),
    };
    let catalog = Arc::new(Catalog::open(t.db.clone()).await.unwrap());
    let p = demo::province().unwrap();
    catalog.load_demo(&p).await.unwrap();
    let cases =
        Cases::new(t.db.clone(), catalog, yiwang_cases::demo::builtin_calendar().unwrap(), Arc::new(SystemClock), CaseSettings::default())
            // As in production: applicants' ID numbers, phones, forms and addresses sealed at rest.
            .with_personal_data(Arc::new(yiwang_crypto::PersonalData::ephemeral()));
    yiwang_cases::demo::load(&cases, &p.item_keys).await.unwrap();
    // Two items of the public security bureau: a defined form with one material and the
    // generic form with two. Half the load each keeps under the 9,999-a-day numbering.
    let items = Arc::new([(Target::Item(p.item_keys["sfz-hb"].clone()), true), (Target::Item(p.item_keys["sfz-sl"].clone()), false)]);
    let c = cases.clone();
    let ids = Arc::new(tokio::sync::Mutex::new(vec![String::new(); n]));
    let ids2 = ids.clone();
    let start = Instant::now();
    timed(0..n, move |i| {
        let (c, its, ids) = (c.clone(), items.clone(), ids2.clone());
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
    if let Some(l) = &ledger {
        settle(l, "drafts").await;
    }
    let ids = Arc::new(ids.lock().await.clone());
    Env { t, cases, ledger, ids }
}

/// The two timed parts.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// Submit the prepared draft.
    Submit,
    /// Read the case and accept it, as a window clerk.
    Accept,
}

impl Part {
    fn label(self) -> &'static str {
        match self {
            Part::Submit => "application submissions",
            Part::Accept => "staff actions (read case + accept)",
        }
    }
}

/// Runs `part` for the applications in `range`.
async fn timed_part(env: &Env, part: Part, range: std::ops::Range<usize>) -> (Vec<Duration>, Duration, f64) {
    let (c, ids) = (env.cases.clone(), env.ids.clone());
    let window = Staff {
        username: "bench-window".into(),
        display_name: "窗口".into(),
        department: Some("11360100104974650K".into()),
        region: None,
        roles: vec![Role::Window],
    };
    timed(range, move |i| {
        let (c, ids, window) = (c.clone(), ids.clone(), window.clone());
        async move {
            match part {
                Part::Submit => {
                    let case = c.submit(&applicant(i), &ids[i]).await.unwrap();
                    assert!(case.case_number.is_some());
                }
                Part::Accept => {
                    let case = c.case_for_staff(&window, &ids[i]).await.unwrap();
                    c.act(&window, &ids[i], case.version, &Action::Accept { on_the_spot: false }).await.unwrap();
                }
            }
        }
    })
    .await
}

/// Appends what the ledger has queued; returns the time and CPU this took.
async fn settle(l: &yiwang_ledger::Ledger, after: &str) -> (Duration, f64) {
    let pending = l.info().await.unwrap().pending;
    let (start, busy) = (Instant::now(), machine_busy_secs());
    l.sequence_now().await.unwrap();
    let (wall, cpu) = (start.elapsed(), busy_since(busy));
    if !after.is_empty() {
        println!("(ledger after {after}: {} entries; {pending} were waiting, appended in {:.3}s)", l.size(), wall.as_secs_f64());
    }
    (wall, cpu)
}

/// The sequencer as production runs it (every `sequence_every`), stoppable between chunks.
struct Sequencer {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sequencer {
    fn start(l: &yiwang_ledger::Ledger) -> Sequencer {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let l = l.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(l.settings().sequence_every) => {}
                    _ = stopped.changed() => return,
                }
                l.sequence_settled().await.unwrap();
            }
        });
        Sequencer { stop, task }
    }

    /// Stops after the batch in progress, if any, and appends what is left ([`settle`]); the
    /// time and CPU of both, to be charged to the stretch the sequencer ran in.
    async fn finish(self, l: &yiwang_ledger::Ledger, after: &str) -> (Duration, f64) {
        let (start, busy) = (Instant::now(), machine_busy_secs());
        let _ = self.stop.send(true);
        self.task.await.unwrap();
        settle(l, after).await;
        (start.elapsed(), busy_since(busy))
    }
}

/// On PostgreSQL, a checkpoint before each timed part: the first change of each page after a
/// checkpoint writes the whole page to the WAL, so a part that a scheduled checkpoint happens
/// to fall into writes more and runs slower. Each part starts just after one.
async fn checkpoint(db: &yiwang_store::Db) {
    if db.dialect() == yiwang_store::Dialect::Postgres {
        if let Err(e) = yiwang_store::sqlx::query("CHECKPOINT").execute(db.reader()).await {
            println!("(no checkpoint before the part: {e})");
        }
    }
}

/// One run per mode (Off, Capture or On), parts one after the other.
async fn run(t: TestDb, n: usize, mode: Ledger) -> (Figures, Figures) {
    let env = prepare(t, n, mode).await;
    checkpoint(&env.t.db).await;
    let mut out = Vec::new();
    for part in [Part::Submit, Part::Accept] {
        let seq = env.ledger.as_ref().filter(|_| mode == Ledger::On).map(Sequencer::start);
        let (lat, wall, cpu) = timed_part(&env, part, 0..n).await;
        // What the sequencer has left is appended now and, in On mode, charged to this part
        // (Capture leaves the sequencer out of the figures).
        let (extra_wall, extra_cpu) = match (&env.ledger, seq) {
            (Some(l), Some(seq)) => seq.finish(l, part.label()).await,
            (Some(l), None) => {
                settle(l, part.label()).await;
                (Duration::ZERO, 0.0)
            }
            _ => (Duration::ZERO, 0.0),
        };
        out.push(report(part.label(), lat, wall + extra_wall, cpu + extra_cpu));
        checkpoint(&env.t.db).await;
    }
    (out[0], out[1])
}

/// Applications per chunk of a paired run.
const CHUNK: usize = 1500;

/// Off and On side by side: two databases prepared alike, then each part in chunks of
/// [`CHUNK`] applications, Off and On in turn (which goes first alternates). A shared machine's
/// speed drifts by ±15 % within a minute; runs a minute apart measured that drift as much as
/// the ledger, chunks a second apart see the same machine. The On database's sequencer runs
/// only during its own chunks, and what it has left at a chunk's end is appended then and
/// charged to that chunk. The database prepared first alternates between rounds.
async fn paired(sqlite: bool, n: usize, round: usize) -> Vec<(Ledger, Figures, Figures)> {
    let order = if round.is_multiple_of(2) { [Ledger::Off, Ledger::On] } else { [Ledger::On, Ledger::Off] };
    let mut envs = Vec::new();
    for mode in order {
        if sqlite && !envs.is_empty() {
            // SQLite writers are pinned to the CPUs in turn and the CPUs of this machine are
            // not alike (a pair split over two differed by 25 % in the same mode): open and drop
            // databases until the second writer lands on the first one's CPU. Each round the
            // pair moves on to the next CPU.
            let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            for _ in 1..cpus {
                drop(TestDb::sqlite().await.unwrap());
            }
        }
        envs.push((mode, prepare(test_db(sqlite).await, n, mode).await));
    }
    envs.sort_by_key(|(m, _)| *m != Ledger::Off);
    let mut figures: Vec<Vec<Figures>> = vec![Vec::new(), Vec::new()];
    for part in [Part::Submit, Part::Accept] {
        checkpoint(&envs[0].1.t.db).await;
        let mut acc: Vec<(Vec<Duration>, Duration, f64)> = vec![(Vec::new(), Duration::ZERO, 0.0), (Vec::new(), Duration::ZERO, 0.0)];
        // The last chunk takes what is left (`runs` would cut a remainder into single ones).
        for (k, run) in (0..n).step_by(CHUNK).map(|s| s..(s + CHUNK).min(n)).enumerate() {
            for j in [k % 2, 1 - k % 2] {
                let env = &envs[j].1;
                let seq = env.ledger.as_ref().map(Sequencer::start);
                let (lat, mut wall, mut cpu) = timed_part(env, part, run.clone()).await;
                if let (Some(l), Some(seq)) = (&env.ledger, seq) {
                    let (w, c) = seq.finish(l, "").await;
                    wall += w;
                    cpu += c;
                }
                acc[j].0.extend(lat);
                acc[j].1 += wall;
                acc[j].2 += cpu;
            }
        }
        for (j, (lat, wall, cpu)) in acc.into_iter().enumerate() {
            print!("{:<4}", format!("{:?}", envs[j].0));
            figures[j].push(report(part.label(), lat, wall, cpu));
        }
    }
    envs.iter().zip(figures).map(|((m, _), f)| (*m, f[0], f[1])).collect()
}
