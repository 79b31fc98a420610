//! SQL of the ledger, portable between SQLite and PostgreSQL.

use std::collections::HashMap;

use sqlx::Row as _;
use yiwang_crypto::HashAlg;
use yiwang_store::{signing_keys, sqlx, Dialect, Row, Tx};

use crate::error::{LedgerError, Result};
use crate::merkle::Hash;
use crate::model::{Entry, Envelope, LogKey, SignedHead, LOG_FORMAT};
use crate::sources::Source;
use crate::tree::NewTile;

type Conn = sqlx::AnyConnection;

pub fn hex32(s: &str) -> Result<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| LedgerError::Corrupt(format!("哈希值格式错误：{s}")))?;
    Ok(out)
}

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

pub struct State {
    pub alg: HashAlg,
    pub size: u64,
    pub last_leaf: Hash,
}

/// The state row, created on first use with `alg`. The algorithm of an existing log wins.
pub async fn ensure_state(tx: &mut Tx, alg: HashAlg) -> Result<State> {
    sqlx::query(
        "INSERT INTO ledger_state (id, hash_alg, tree_size, last_leaf, updated_at) VALUES (1, $1, 0, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(alg.key())
    .bind(hex::encode([0u8; 32]))
    .bind(yiwang_store::now_text())
    .execute(&mut **tx)
    .await?;
    state(tx).await
}

pub async fn state(c: &mut Conn) -> Result<State> {
    state_opt(c).await?.ok_or_else(|| LedgerError::Corrupt("账本状态缺失".into()))
}

/// The log's state, or `None` when the ledger has never started on this database.
pub async fn state_opt(c: &mut Conn) -> Result<Option<State>> {
    let Some(row) = sqlx::query("SELECT hash_alg, tree_size, last_leaf FROM ledger_state WHERE id = 1").fetch_optional(&mut *c).await?
    else {
        return Ok(None);
    };
    let alg: String = row.try_get("hash_alg")?;
    Ok(Some(State {
        alg: HashAlg::parse(&alg).ok_or_else(|| LedgerError::Corrupt(format!("未知的哈希算法 {alg}")))?,
        size: u(row.try_get("tree_size")?),
        last_leaf: hex32(&row.try_get::<String, _>("last_leaf")?)?,
    }))
}

pub struct Queued {
    /// Its row in `ledger_queue`; `None` for a row of a tailed source (see [`crate::tail`]).
    pub id: Option<i64>,
    pub source: String,
    pub key: String,
    /// The record as JSON text; `None` for an insert-only row deleted before it was appended.
    pub record: Option<String>,
}

/// The queue's oldest `limit` rows. Insert-only rows queued by key alone (`''`) get their
/// row as it reads now (`None` once deleted), looked up by key per source: one plain read of
/// the queue and one indexed lookup per source. (A single statement with a sub-select per
/// source was estimated so costly that PostgreSQL compiled it with JIT at every batch: about
/// 70 ms of CPU each time.)
pub async fn queue_batch(c: &mut Conn, dialect: Dialect, limit: usize) -> Result<Vec<Queued>> {
    let rows = sqlx::query("SELECT id, source, source_key, record FROM ledger_queue ORDER BY id LIMIT $1")
        .bind(limit as i64)
        .fetch_all(&mut *c)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    // Key-only rows per source: the source and their positions in `out`.
    let mut by_key: HashMap<&'static str, (&'static Source, Vec<usize>)> = HashMap::new();
    for r in &rows {
        let (source, record): (String, String) = (r.try_get("source")?, r.try_get("record")?);
        if record.is_empty() {
            if let Some(src) = crate::sources::source(&source).filter(|s| !s.updates) {
                by_key.entry(src.name).or_insert((src, Vec::new())).1.push(out.len());
            }
        }
        out.push(Queued {
            id: Some(r.try_get("id")?),
            source,
            key: r.try_get("source_key")?,
            record: Some(record).filter(|r| !r.is_empty()),
        });
    }
    for (src, at) in by_key.into_values() {
        let keys: Vec<String> = at.iter().map(|i| out[*i].key.clone()).collect();
        let mut found = records_of(c, dialect, src, &keys).await?;
        for i in at {
            out[i].record = found.remove(&out[i].key);
        }
    }
    Ok(out)
}

/// Keys per `IN` list: a few shapes, so the statements stay prepared.
const KEY_RUNS: &[usize] = &[256, 64, 16, 4, 1];

/// The current rows of `keys` in `src` as (key, record JSON text); absent keys are missing.
pub async fn records_of(c: &mut Conn, dialect: Dialect, src: &Source, keys: &[String]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::with_capacity(keys.len());
    for run in yiwang_store::runs(keys.len(), KEY_RUNS) {
        let chunk = &keys[run];
        let mut q = sqlx::query(sqlx::AssertSqlSafe(src.rows_by_key_sql(dialect, chunk.len())));
        for k in chunk {
            q = if src.integer_key() {
                // A key that is not a number matches no row (it cannot come from the trigger).
                q.bind(k.parse::<i64>().unwrap_or(i64::MIN))
            } else {
                q.bind(k.as_str())
            };
        }
        for row in q.fetch_all(&mut *c).await? {
            out.insert(row.try_get("k")?, row.try_get("r")?);
        }
    }
    Ok(out)
}

/// Captured rows not yet appended: queued ones and those of tailed tables.
pub async fn pending(c: &mut Conn) -> Result<u64> {
    let queued = u(sqlx::query("SELECT COUNT(*) AS n FROM ledger_queue").fetch_one(&mut *c).await?.try_get("n")?);
    Ok(queued + crate::tail::pending(c).await?)
}

/// Entries, tiles and the new state computed outside the writer.
pub struct Plan {
    pub base_size: u64,
    pub entries: Vec<Envelope>,
    pub records: Vec<String>,
    pub tiles: Vec<NewTile>,
    pub queue_ids: Vec<i64>,
    /// Tailed sources read in this batch: (source, last id before, last id after).
    pub tails: Vec<(&'static str, i64, i64)>,
    pub last_leaf: Hash,
}

/// Write a plan if the log is still at `plan.base_size` (else [`LedgerError::Busy`]).
pub async fn apply(tx: &mut Tx, dialect: Dialect, plan: &Plan) -> Result<()> {
    let lock = match dialect {
        Dialect::Postgres => "SELECT tree_size FROM ledger_state WHERE id = 1 FOR UPDATE",
        Dialect::Sqlite => "SELECT tree_size FROM ledger_state WHERE id = 1",
    };
    let size: i64 = sqlx::query(lock).fetch_one(&mut **tx).await?.try_get("tree_size")?;
    if u(size) != plan.base_size {
        return Err(LedgerError::Busy);
    }
    // Rows per INSERT from a fixed set of sizes, so the few statement texts stay prepared.
    const COLS: usize = 8;
    for run in yiwang_store::runs(plan.entries.len(), &[64, 16, 4, 1]) {
        let mut sql = String::from(
            "INSERT INTO ledger_entries (leaf_index, source, source_key, record, content_hash, prev_hash, leaf_hash, sequenced_at) VALUES ",
        );
        sql.push_str(&yiwang_store::value_rows(dialect, run.len(), COLS));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in run {
            let e = &plan.entries[i];
            q = q
                .bind(e.index as i64)
                .bind(&e.source)
                .bind(&e.key)
                .bind(&plan.records[i])
                .bind(&e.content)
                .bind(&e.prev)
                .bind(&e.leaf_hash)
                .bind(&e.sequenced_at);
        }
        q.execute(&mut **tx).await?;
    }
    for t in &plan.tiles {
        sqlx::query("INSERT INTO ledger_tiles (tile, leaves, root) VALUES ($1, $2, $3)")
            .bind(t.tile as i64)
            .bind(t.leaves.concat())
            .bind(hex::encode(t.root))
            .execute(&mut **tx)
            .await?;
    }
    for (source, before, after) in &plan.tails {
        // Moves only from where the batch was read (the log's size is checked above too).
        let moved = sqlx::query("UPDATE ledger_tails SET last_id = $1 WHERE source = $2 AND last_id = $3")
            .bind(*after)
            .bind(*source)
            .bind(*before)
            .execute(&mut **tx)
            .await?;
        if moved.rows_affected() != 1 {
            return Err(LedgerError::Busy);
        }
    }
    if dialect == Dialect::Sqlite {
        // One writer assigns SQLite's ids in commit order, each above every id present, so the
        // batch read is exactly the queue's prefix up to its last id. (PostgreSQL may commit ids out of order: a lower id
        // not yet visible must stay queued, hence the exact list below.)
        if let Some(max) = plan.queue_ids.iter().max() {
            sqlx::query("DELETE FROM ledger_queue WHERE id <= $1").bind(*max).execute(&mut **tx).await?;
        }
        return finish(tx, plan).await;
    }
    for run in yiwang_store::runs(plan.queue_ids.len(), KEY_RUNS) {
        let chunk = &plan.queue_ids[run];
        let list = yiwang_store::value_rows(dialect, 1, chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM ledger_queue WHERE id IN {list}")));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
    finish(tx, plan).await
}

async fn finish(tx: &mut Tx, plan: &Plan) -> Result<()> {
    sqlx::query("UPDATE ledger_state SET tree_size = $1, last_leaf = $2, updated_at = $3 WHERE id = 1")
        .bind((plan.base_size + plan.entries.len() as u64) as i64)
        .bind(hex::encode(plan.last_leaf))
        .bind(yiwang_store::now_text())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn tile_roots(c: &mut Conn) -> Result<Vec<(u64, Hash)>> {
    let rows = sqlx::query("SELECT tile, root FROM ledger_tiles ORDER BY tile").fetch_all(&mut *c).await?;
    rows.iter().map(|r| Ok((u(r.try_get("tile")?), hex32(&r.try_get::<String, _>("root")?)?))).collect()
}

pub async fn tile_leaves(c: &mut Conn, tile: u64) -> Result<Option<Vec<Hash>>> {
    let row = sqlx::query("SELECT leaves FROM ledger_tiles WHERE tile = $1").bind(tile as i64).fetch_optional(&mut *c).await?;
    let Some(row) = row else { return Ok(None) };
    let bytes: Vec<u8> = row.try_get("leaves")?;
    if !bytes.len().is_multiple_of(32) {
        return Err(LedgerError::Corrupt(format!("第 {tile} 块叶子哈希长度错误")));
    }
    Ok(Some(bytes.chunks(32).map(|c| c.try_into().unwrap_or([0u8; 32])).collect()))
}

/// Stored leaf hashes of `[start, end)`, in order, with their positions.
pub async fn leaf_hashes(c: &mut Conn, start: u64, end: u64) -> Result<Vec<(u64, Hash)>> {
    let rows =
        sqlx::query("SELECT leaf_index, leaf_hash FROM ledger_entries WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index")
            .bind(start as i64)
            .bind(end as i64)
            .fetch_all(&mut *c)
            .await?;
    rows.iter().map(|r| Ok((u(r.try_get("leaf_index")?), hex32(&r.try_get::<String, _>("leaf_hash")?)?))).collect()
}

const ENTRY_COLS: &str = "leaf_index, source, source_key, record, content_hash, prev_hash, leaf_hash, sequenced_at";

pub fn entry_of(r: &Row) -> Result<(Envelope, String)> {
    Ok((
        Envelope {
            index: u(r.try_get("leaf_index")?),
            source: r.try_get("source")?,
            key: r.try_get("source_key")?,
            content: r.try_get("content_hash")?,
            prev: r.try_get("prev_hash")?,
            leaf_hash: r.try_get("leaf_hash")?,
            sequenced_at: r.try_get("sequenced_at")?,
        },
        r.try_get("record")?,
    ))
}

fn with_record((envelope, record): (Envelope, String)) -> Entry {
    let record = serde_json::from_str(&record).unwrap_or(serde_json::Value::String(record));
    Entry { envelope, record }
}

/// Entries `[start, end)` as stored (the audit reads them raw).
pub async fn entries_raw(c: &mut Conn, start: u64, end: u64) -> Result<Vec<(Envelope, String)>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLS} FROM ledger_entries WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index"
    )))
    .bind(start as i64)
    .bind(end as i64)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(entry_of).collect()
}

pub async fn envelopes(c: &mut Conn, start: u64, end: u64) -> Result<Vec<Envelope>> {
    Ok(entries_raw(c, start, end).await?.into_iter().map(|(e, _)| e).collect())
}

/// Every entry of one source row, oldest first.
pub async fn entries_for(c: &mut Conn, source: &str, key: &str) -> Result<Vec<Entry>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLS} FROM ledger_entries WHERE source = $1 AND source_key = $2 ORDER BY leaf_index"
    )))
    .bind(source)
    .bind(key)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(|r| entry_of(r).map(with_record)).collect()
}

fn head_of(r: &Row, alg: HashAlg) -> Result<SignedHead> {
    Ok(SignedHead {
        format: LOG_FORMAT.into(),
        hash: alg.key().into(),
        tree_size: u(r.try_get("tree_size")?),
        root: r.try_get("root_hash")?,
        timestamp: r.try_get("signed_at")?,
        key_id: r.try_get("key_id")?,
        signature: r.try_get("signature")?,
    })
}

pub async fn insert_head(tx: &mut Tx, h: &SignedHead) -> Result<()> {
    sqlx::query("INSERT INTO ledger_heads (tree_size, root_hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)")
        .bind(h.tree_size as i64)
        .bind(&h.root)
        .bind(&h.timestamp)
        .bind(&h.key_id)
        .bind(&h.signature)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Heads, newest first.
pub async fn heads(c: &mut Conn, alg: HashAlg, limit: i64) -> Result<Vec<SignedHead>> {
    let rows = sqlx::query("SELECT tree_size, root_hash, signed_at, key_id, signature FROM ledger_heads ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(|r| head_of(r, alg)).collect()
}

/// The first head that covers `size` entries.
pub async fn head_covering(c: &mut Conn, alg: HashAlg, size: u64) -> Result<Option<SignedHead>> {
    let row = sqlx::query(
        "SELECT tree_size, root_hash, signed_at, key_id, signature FROM ledger_heads WHERE tree_size >= $1 ORDER BY id LIMIT 1",
    )
    .bind(size as i64)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| head_of(&r, alg)).transpose()
}

pub async fn keys(c: &mut Conn) -> Result<Vec<(LogKey, String)>> {
    Ok(signing_keys::all(c, "ledger_keys")
        .await?
        .into_iter()
        .map(|k| {
            let key = LogKey {
                key_id: k.key_id,
                algorithm: k.algorithm,
                public_key: k.public_key,
                created_at: k.created_at,
                retired_at: k.retired_at,
            };
            (key, k.private_key)
        })
        .collect())
}

pub async fn insert_key(tx: &mut Tx, k: &LogKey, sealed: &str) -> Result<()> {
    let row = signing_keys::StoredKey {
        key_id: k.key_id.clone(),
        algorithm: k.algorithm.clone(),
        public_key: k.public_key.clone(),
        private_key: sealed.to_string(),
        created_at: k.created_at.clone(),
        retired_at: None,
    };
    Ok(signing_keys::insert(tx, "ledger_keys", &row).await?)
}
