//! The access log writer (交换日志): group commit of signed access records.
//!
//! Every exchange waits until its record is durable before the consumer gets any data, so no
//! data leaves without a trace. Records that arrive while a commit is running go into the next
//! one: one multi-row INSERT per batch (fixed sizes, prepared once) keeps the log from
//! becoming the bottleneck at tens of thousands of calls a second. The same transaction reads
//! the rules' generation, so gateways on other nodes learn of a revocation with their next batch.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use yiwang_store::Db;

use crate::error::{ExchangeError, Result};
use crate::gateway::Rules;
use crate::model::AccessRecord;
use crate::store;

/// Most records in one commit.
const MAX_BATCH: usize = 1024;

type Job = (AccessRecord, oneshot::Sender<std::result::Result<(), String>>);

#[derive(Clone)]
pub(crate) struct LogWriter {
    jobs: mpsc::Sender<Job>,
}

impl LogWriter {
    pub(crate) fn spawn(db: Db, rules: Arc<Rules>) -> LogWriter {
        let (tx, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        tokio::spawn(run(db, rules, rx));
        LogWriter { jobs: tx }
    }

    /// Append a record; returns once it is committed.
    pub(crate) async fn append(&self, record: AccessRecord) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send((record, tx)).await.map_err(|_| ExchangeError::Config("交换日志写入任务已停止".into()))?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ExchangeError::LogUnavailable(e)),
            Err(_) => Err(ExchangeError::Config("交换日志写入任务已停止".into())),
        }
    }
}

async fn run(db: Db, rules: Arc<Rules>, mut rx: mpsc::Receiver<Job>) {
    let sqls: Vec<(usize, String)> = store::INSERT_SIZES.iter().map(|&n| (n, store::insert_log_sql(n))).collect();
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let records: Vec<AccessRecord> = batch.iter().map(|(r, _)| r.clone()).collect();
        let outcome = commit(&db, &sqls, &records).await;
        let reply = match outcome {
            Ok(generation) => {
                rules.observe(generation);
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, records = records.len(), "exchange log commit failed");
                Err(e.to_string())
            }
        };
        for (_, tx) in batch.drain(..) {
            let _ = tx.send(reply.clone());
        }
    }
}

async fn commit(db: &Db, sqls: &[(usize, String)], records: &[AccessRecord]) -> Result<i64> {
    let mut tx = db.begin().await?;
    let mut rest = records;
    for (size, sql) in sqls {
        while rest.len() >= *size {
            let (chunk, tail) = rest.split_at(*size);
            store::insert_log(&mut tx, sql, chunk).await?;
            rest = tail;
        }
    }
    let generation = store::generation(&mut tx).await?;
    tx.commit().await?;
    Ok(generation)
}
