//! Group commit (批量提交) for SQLite.
//!
//! SQLite has one writer and `synchronous=FULL` pays one fsync per commit, which caps durable
//! write transactions at a few thousand per second on an ordinary disk. [`Db::write`] queues
//! small transactions to one writer task that runs every job already waiting inside a single
//! database transaction, each job in its own savepoint, and acknowledges them all after the one
//! commit. A job that fails is rolled back to its savepoint without touching its neighbours; if
//! the commit itself fails every job of the batch gets the error. Nothing is acknowledged before
//! it is durable.
//!
//! PostgreSQL already groups concurrent commits in its WAL writer, so there `write` is a plain
//! transaction.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::{Db, Dialect, StoreError, Tx};

/// A boxed future borrowing the transaction, as job closures return.
pub type TxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// What the writer needs from a finished job: whether to keep its savepoint, and how to tell
/// the caller once the batch's fate is known.
struct Outcome {
    ok: bool,
    deliver: Deliver,
}

/// Called once the batch's commit is known: `Some(error)` when it failed.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

type Job = Box<dyn for<'c> FnOnce(&'c mut Tx) -> TxFuture<'c, Outcome> + Send>;

/// Most jobs in one commit: bounds the latency one batch adds to the first job in it.
const MAX_BATCH: usize = 256;

#[derive(Debug, Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Start the writer on a thread of its own and open the single writer connection from it.
    ///
    /// The thread and the connection's SQLite thread (which inherits its CPU) are pinned to one
    /// CPU: every statement is a hand-off between the two, and on virtual machines a hand-off
    /// to another CPU costs 3–6 times one on the same CPU (measured here: 25–70 µs against
    /// 8–11 µs per `SELECT 1`). The writer is the one serial path of SQLite writes, so this is
    /// most of its time. Writers of several databases are spread over the CPUs.
    pub(crate) async fn start(url: String, acquire_timeout: Duration) -> Result<(Writer, AnyPool), StoreError> {
        let (jobs, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let (ready, started) = oneshot::channel::<Result<AnyPool, StoreError>>();
        let thread = std::thread::Builder::new().name("yiwang-writer".into()).spawn(move || {
            affinity::pin_to_one_cpu();
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready.send(Err(StoreError::Unavailable(sqlx::Error::Io(e))));
                    return;
                }
            };
            rt.block_on(async move {
                // Kept open for good: a replacement opened elsewhere would lose the pinning.
                let opened = crate::sqlite_pool(1, acquire_timeout).idle_timeout(None).max_lifetime(None).connect(&url).await;
                match opened {
                    Ok(pool) => {
                        let _ = ready.send(Ok(pool.clone()));
                        run(pool, rx).await;
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e.into()));
                    }
                }
            });
        });
        if let Err(e) = thread {
            return Err(StoreError::Unavailable(sqlx::Error::Io(e)));
        }
        let pool = started.await.map_err(|_| unavailable("写入线程未能启动"))??;
        Ok((Writer { jobs }, pool))
    }
}

/// Runs until every [`Writer`] handle is gone.
async fn run(pool: AnyPool, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        commit_batch(&pool, batch).await;
    }
}

async fn commit_batch(pool: &AnyPool, batch: Vec<Job>) {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            // Jobs never ran: tell each caller the database was unavailable.
            for job in batch {
                fail_unrun(job, &msg);
            }
            return;
        }
    };
    // Savepoint statements ride along with their neighbours (one round trip between jobs, none
    // before the commit): `RELEASE; SAVEPOINT` after a job, nothing after the last one.
    let mut done = Vec::with_capacity(batch.len());
    let n = batch.len();
    if let Err(e) = sqlx::raw_sql("SAVEPOINT yiwang_job").execute(&mut *tx).await {
        let msg = e.to_string();
        let _ = tx.rollback().await;
        for job in batch {
            fail_unrun(job, &msg);
        }
        return;
    }
    for (i, job) in batch.into_iter().enumerate() {
        let outcome = job(&mut tx).await;
        let last = i + 1 == n;
        let end = match (outcome.ok, last) {
            (true, true) => None,
            (true, false) => Some("RELEASE SAVEPOINT yiwang_job; SAVEPOINT yiwang_job"),
            (false, true) => Some("ROLLBACK TO SAVEPOINT yiwang_job; RELEASE SAVEPOINT yiwang_job"),
            (false, false) => Some("ROLLBACK TO SAVEPOINT yiwang_job; RELEASE SAVEPOINT yiwang_job; SAVEPOINT yiwang_job"),
        };
        done.push(outcome);
        if let Some(sql) = end {
            if let Err(e) = sqlx::raw_sql(sql).execute(&mut *tx).await {
                tracing::error!(error = %e, "ending a job's savepoint failed; abandoning the batch");
                let msg = e.to_string();
                let _ = tx.rollback().await;
                for o in done {
                    (o.deliver)(Some(&msg));
                }
                return;
            }
        }
    }
    let committed = tx.commit().await.map_err(|e| e.to_string());
    for o in done {
        (o.deliver)(committed.as_ref().err().map(String::as_str));
    }
}

/// A job that could not run: run it against nothing is impossible, so just drop it; the caller's
/// receiver sees the sender dropped and reports the message it was given.
fn fail_unrun(job: Job, msg: &str) {
    tracing::warn!(error = %msg, "write batch could not start");
    drop(job);
}

fn unavailable(msg: &str) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Protocol(format!("批量提交失败：{msg}")))
}

impl Db {
    /// Run `f` in a write transaction and commit it durably. On SQLite concurrent calls share
    /// one commit (group commit); `f` may run after other jobs in the same transaction but sees
    /// a consistent state and its writes are all-or-nothing. Keep `f` short: it holds the
    /// single writer.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut Tx) -> TxFuture<'c, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let writer = match (&self.dialect, &self.writer) {
            (Dialect::Sqlite, Some(w)) => w,
            _ => {
                let mut tx = self.begin().await?;
                let out = f(&mut tx).await;
                match out {
                    Ok(v) => {
                        tx.commit().await.map_err(StoreError::from)?;
                        return Ok(v);
                    }
                    Err(e) => {
                        let _ = tx.rollback().await;
                        return Err(e);
                    }
                }
            }
        };
        let (send, recv) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |tx: &mut Tx| {
            Box::pin(async move {
                let result = f(tx).await;
                let ok = result.is_ok();
                Outcome {
                    ok,
                    deliver: Box::new(move |commit_error: Option<&str>| {
                        let out = match (result, commit_error) {
                            (Ok(_), Some(msg)) => Err(E::from(unavailable(msg))),
                            (r, _) => r,
                        };
                        let _ = send.send(out);
                    }),
                }
            })
        });
        if writer.jobs.send(job).await.is_err() {
            return Err(E::from(unavailable("写入队列已关闭")));
        }
        match recv.await {
            Ok(out) => out,
            Err(_) => Err(E::from(unavailable("写入未完成"))),
        }
    }
}

mod affinity {
    /// Pin the calling thread to one of the CPUs it may run on. Best effort: on failure, or
    /// off Linux, the thread keeps running wherever the scheduler puts it.
    #[cfg(target_os = "linux")]
    pub fn pin_to_one_cpu() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        /// Writers started so far, to spread them over the allowed CPUs (last CPU first).
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        // SAFETY: `cpu_set_t` is a plain bit set for which all zeroes is valid; both calls get
        // its true size and act on the calling thread only (pid 0).
        unsafe {
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if libc::sched_getaffinity(0, size, &mut allowed) != 0 {
                return;
            }
            let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize).filter(|c| libc::CPU_ISSET(*c, &allowed)).collect();
            if cpus.len() < 2 {
                return;
            }
            let n = STARTED.fetch_add(1, Ordering::Relaxed);
            let cpu = cpus[cpus.len() - 1 - n % cpus.len()];
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut one);
            if libc::sched_setaffinity(0, size, &one) != 0 {
                tracing::debug!(cpu, "could not pin the database writer");
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn pin_to_one_cpu() {}
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;
    use crate::{Dialect, StoreError, Tx, TxFuture};

    async fn count(db: &crate::Db) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM batch_probe").fetch_one(db.reader()).await.unwrap_or(-1)
    }

    fn insert(v: i64, fail: bool) -> impl for<'c> FnOnce(&'c mut Tx) -> TxFuture<'c, Result<i64, StoreError>> + Send + 'static {
        move |tx: &mut Tx| {
            Box::pin(async move {
                sqlx::query("INSERT INTO batch_probe (v) VALUES ($1)").bind(v).execute(&mut **tx).await?;
                if fail {
                    // Second insert of the same key: a unique violation after a successful write.
                    sqlx::query("INSERT INTO batch_probe (v) VALUES ($1)").bind(v).execute(&mut **tx).await?;
                }
                Ok(v)
            })
        }
    }

    #[tokio::test]
    async fn a_transaction_knows_its_dialect() {
        for t in TestDb::each().await.unwrap() {
            let tx = t.db.begin().await.unwrap();
            assert_eq!(Dialect::of(&tx), t.db.dialect());
            tx.rollback().await.unwrap();
        }
    }

    #[tokio::test]
    async fn concurrent_jobs_commit_and_a_failing_job_leaves_no_trace() {
        for t in TestDb::each().await.unwrap() {
            let db = t.db.clone();
            sqlx::raw_sql("CREATE TABLE batch_probe (v BIGINT PRIMARY KEY)").execute(db.reader()).await.unwrap();
            let mut handles = Vec::new();
            for i in 0..200i64 {
                let db = db.clone();
                handles.push(tokio::spawn(async move { db.write(insert(i, i % 10 == 3)).await }));
            }
            let mut ok = 0;
            let mut failed = 0;
            for h in handles {
                match h.await.unwrap() {
                    Ok(_) => ok += 1,
                    Err(StoreError::Duplicate(_)) => failed += 1,
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            assert_eq!((ok, failed), (180, 20));
            // The failed jobs' first insert was rolled back with them; the rest all landed.
            assert_eq!(count(&db).await, 180);
            let three: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM batch_probe WHERE v = 3").fetch_one(db.reader()).await.unwrap();
            assert_eq!(three, 0);
        }
    }

    #[tokio::test]
    async fn acknowledged_writes_survive_reopening() {
        let t = TestDb::sqlite().await.unwrap();
        sqlx::raw_sql("CREATE TABLE batch_probe (v BIGINT PRIMARY KEY)").execute(t.db.reader()).await.unwrap();
        let mut handles = Vec::new();
        for i in 0..50i64 {
            let db = t.db.clone();
            handles.push(tokio::spawn(async move { db.write(insert(i, false)).await }));
        }
        for h in handles {
            h.await.unwrap().unwrap();
        }
        t.db.close().await;
        let again = crate::Db::connect(&t.options).await.unwrap();
        assert_eq!(count(&again).await, 50);
        again.close().await;
    }
}
