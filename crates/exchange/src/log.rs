//! The access log writer (交换日志): group commit of signed access records.
//!
//! Every exchange waits until its record is durable before the consumer gets any data, so no
//! data leaves without a trace. Records that arrive while a commit is running go into the next
//! one: one statement writes all its rows (one JSON parameter) and one row in
//! `exchange_log_batches` with the digest over them, atomically with one round trip and one
//! fsync. The ledger records the batch
//! row, not each access, so neither the log nor the ledger becomes the bottleneck at thousands
//! of calls a second, and an edited or deleted access still shows ([`crate::verify_log`]).
//!
//! Between batches (at most every [`GENERATION_EVERY`]) the writer reads the rules'
//! generation, so gateways on other nodes learn of a revocation within that time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use yiwang_store::{sqlx, Db};

use crate::error::{ExchangeError, Result};
use crate::gateway::Rules;
use crate::model::{batch_digest_of, AccessRecord};
use crate::store;

/// Most records in one commit.
const MAX_BATCH: usize = 2048;
/// How often the rules' generation is read from the database.
pub(crate) const GENERATION_EVERY: Duration = Duration::from_millis(50);

/// A record, its digest ([`AccessRecord::digest`]) and who waits for it.
type Job = (AccessRecord, String, oneshot::Sender<std::result::Result<(), String>>);

#[derive(Clone)]
pub(crate) struct LogWriter {
    jobs: mpsc::Sender<Job>,
}

impl LogWriter {
    /// `sealer` seals each record's subject at rest.
    pub(crate) fn spawn(db: Db, rules: Arc<Rules>, sealer: yiwang_crypto::Sealer) -> LogWriter {
        let (tx, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        tokio::spawn(run(db, rules, sealer, rx));
        LogWriter { jobs: tx }
    }

    /// Append a record; returns once it is committed.
    pub(crate) async fn append(&self, record: AccessRecord, digest: String) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send((record, digest, tx)).await.map_err(|_| ExchangeError::Config("交换日志写入任务已停止".into()))?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ExchangeError::LogUnavailable(e)),
            Err(_) => Err(ExchangeError::Config("交换日志写入任务已停止".into())),
        }
    }
}

async fn run(db: Db, rules: Arc<Rules>, sealer: yiwang_crypto::Sealer, mut rx: mpsc::Receiver<Job>) {
    let sql = store::insert_log_sql(db.dialect());
    let mut records: Vec<AccessRecord> = Vec::with_capacity(MAX_BATCH);
    let mut digests: Vec<String> = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    let mut checked = Instant::now();
    while let Some((first, digest, reply)) = rx.recv().await {
        records.push(first);
        digests.push(digest);
        replies.push(reply);
        while records.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok((r, digest, reply)) => {
                    records.push(r);
                    digests.push(digest);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        // Before the replies, so a caller's next call already sees a newer generation.
        if checked.elapsed() >= GENERATION_EVERY {
            checked = Instant::now();
            match db.reader().acquire().await {
                Ok(mut c) => match store::generation(&mut c).await {
                    Ok(g) => rules.observe(g),
                    Err(e) => tracing::warn!(error = %e, "reading the sharing rules' generation failed"),
                },
                Err(e) => tracing::warn!(error = %e, "reading the sharing rules' generation failed"),
            }
        }
        let batch = batch_digest_of(records.iter().map(|r| r.exchange_id.as_str()).zip(digests.drain(..)).collect());
        let outcome = commit(&db, &sealer, &sql, &records, &batch).await;
        if let Err(e) = &outcome {
            tracing::error!(error = %e, records = records.len(), "exchange log commit failed");
        }
        let reply = outcome.map_err(|e| e.to_string());
        records.clear();
        for tx in replies.drain(..) {
            let _ = tx.send(reply.clone());
        }
    }
}

/// One statement, its own transaction: the batch's digest row (which the ledger records) and
/// all its rows, or nothing.
async fn commit(db: &Db, sealer: &yiwang_crypto::Sealer, sql: &str, records: &[AccessRecord], digest: &str) -> Result<()> {
    let batch_id = uuid::Uuid::now_v7().to_string();
    let json = store::log_rows_json(sealer, &batch_id, records)?;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(&batch_id)
        .bind(yiwang_store::now_text())
        .bind(records.len() as i64)
        .bind(digest)
        .bind(json)
        .execute(db.autocommit_writer())
        .await?;
    Ok(())
}
