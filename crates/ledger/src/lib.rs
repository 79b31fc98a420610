//! The tamper-evident ledger (数据铁笼 · 处处留痕): every case event, staff action, licence
//! change, licence use and configuration change appends an entry to an append-only Merkle log
//! in the manner of Certificate Transparency (RFC 6962 / 9162), over SM3 or SHA-256.
//!
//! - **Capture**: triggers generated from [`sources::SOURCES`] queue each recorded row that
//!   can change in the writing transaction; insert-only tables keyed by a growing id are read
//!   from the table itself past the last id appended ([`tail`]). Either way nothing
//!   acknowledged is ever missing from the log.
//! - **Sequencing**: a background task appends captured rows in batches: canonical record,
//!   content hash, previous leaf hash, leaf hash, tiles of 256 leaves ([`Ledger::sequence_now`]).
//! - **Heads**: signed tree heads (SM2 or Ed25519 under a key kept in the vault) at intervals
//!   and on demand; inclusion and consistency proofs for any size ([`merkle`]).
//! - **Verification**: [`audit::run`] recomputes everything from storage and reports each
//!   edited, deleted or moved row with its position; [`check_bundle`] checks the proofs a
//!   citizen downloads for a case. `docs/ledger-format.md` specifies the format, and
//!   `tools/ledger_verify.py` checks it independently.

pub mod audit;
pub mod error;
pub mod merkle;
pub mod model;
pub mod sources;
mod store;
pub mod tail;
pub mod tree;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::json;
use yiwang_crypto::{canonical, Algorithm, HashAlg, PublicKey, Vault};
use yiwang_store::{sqlx, Db, Dialect};
use zeroize::Zeroizing;

pub use error::{LedgerError, Result};
pub use model::*;

use crate::error::invalid;
use crate::merkle::{Hash, NeedTile, Nodes};
use crate::tree::TreeCache;

/// How the ledger runs.
#[derive(Debug, Clone)]
pub struct LedgerSettings {
    /// Hash of a new log (an existing log keeps the one it started with).
    pub hash: HashAlg,
    /// Algorithm of the key that signs tree heads.
    pub signing: Algorithm,
    /// Install the capture triggers and read the tailed tables (off: rows that change are not
    /// captured, insert-only tables are read again when capture returns; for benchmarks and
    /// emergencies only).
    pub capture: bool,
    /// Queued rows appended per transaction. Small enough that appending a batch holds
    /// SQLite's single writer for a few milliseconds only, as every job queued behind it
    /// waits that long (2,000 rows held it 10 ms and more). The sequencer goes on while
    /// batches come back full, so the log's own throughput is unchanged.
    pub batch: usize,
    pub sequence_every: Duration,
    /// Sign a head this often when the log has grown.
    pub head_every: Duration,
}

impl Default for LedgerSettings {
    fn default() -> Self {
        LedgerSettings {
            hash: HashAlg::Sm3,
            signing: Algorithm::Sm2,
            capture: true,
            batch: 256,
            sequence_every: Duration::from_millis(200),
            head_every: Duration::from_secs(60),
        }
    }
}

/// How long [`Ledger::sequence_now`] waits for open transactions to settle the tailed rows
/// committed before it was called.
const TAIL_WAIT: Duration = Duration::from_secs(2);
/// Heads signed on demand at most this often.
const ON_DEMAND_GAP: Duration = Duration::from_secs(1);
/// Tiles kept in memory for proofs.
const TILE_CACHE: usize = 1024;

#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    vault: Vault,
    settings: LedgerSettings,
    alg: HashAlg,
    tree: RwLock<TreeCache>,
    tiles: Mutex<HashMap<u64, Arc<Vec<Hash>>>>,
    sequencer: tokio::sync::Mutex<()>,
    signer: tokio::sync::Mutex<Option<Signer>>,
    last_signed: Mutex<Option<Instant>>,
    /// Storage failed its consistency check at start: capture goes on, appends stop.
    damaged: AtomicBool,
    /// Capture is on: tailed tables are read.
    capturing: AtomicBool,
    /// How far each tailed table is settled (PostgreSQL; see [`tail`]).
    fences: Mutex<tail::Fences>,
}

struct Signer {
    key: LogKey,
    alg: Algorithm,
    secret: Zeroizing<Vec<u8>>,
}

fn hexs(h: &Hash) -> String {
    hex::encode(h)
}

/// The canonical text of a captured record (a record that is not JSON is kept as a string).
pub fn canonical_record(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| canonical::to_string(&v).ok())
        .unwrap_or_else(|| canonical::to_string(&serde_json::Value::String(raw.to_string())).unwrap_or_default())
}

/// The leaf data: canonical JSON of the envelope's hashed fields.
pub fn leaf_data(index: u64, source: &str, key: &str, content: &str, prev: &str) -> String {
    // Written out directly (keys already in canonical order): the sequencer makes one per entry.
    let mut out = String::with_capacity(64 + content.len() + prev.len() + key.len() + source.len());
    out.push_str("{\"content\":");
    canonical::write_str(content, &mut out);
    out.push_str(",\"index\":");
    out.push_str(&index.to_string());
    out.push_str(",\"key\":");
    canonical::write_str(key, &mut out);
    out.push_str(",\"prev\":");
    canonical::write_str(prev, &mut out);
    out.push_str(",\"source\":");
    canonical::write_str(source, &mut out);
    out.push('}');
    out
}

pub fn leaf_of(alg: HashAlg, index: u64, source: &str, key: &str, content: &str, prev: &str) -> Hash {
    merkle::leaf_hash(alg, leaf_data(index, source, key, content, prev).as_bytes())
}

/// The text a head's signature covers.
pub fn head_message(h: &SignedHead) -> String {
    canonical::to_string(&json!({
        "format": h.format, "hash": h.hash, "key_id": h.key_id, "root": h.root, "timestamp": h.timestamp, "tree_size": h.tree_size,
    }))
    .unwrap_or_default()
}

/// Whether `head` is signed by `key`.
pub fn head_signed_by(head: &SignedHead, key: &LogKey) -> bool {
    let (Some(alg), Ok(public), Ok(sig)) = (Algorithm::parse(&key.algorithm), hex::decode(&key.public_key), B64.decode(&head.signature))
    else {
        return false;
    };
    head.key_id == key.key_id && PublicKey::parse(alg, &public).map(|k| k.verify(head_message(head).as_bytes(), &sig)).unwrap_or(false)
}

/// Check a proof bundle on its own (or against a trusted key): head signature, each record's
/// content hash, leaf hash and inclusion in the signed head.
pub fn check_bundle(b: &ProofBundle, trusted: Option<&LogKey>) -> BundleCheck {
    let alg = HashAlg::parse(&b.hash).unwrap_or(HashAlg::Sm3);
    let key = trusted.or(b.key.as_ref());
    let head_ok = matches!((&b.head, key), (Some(h), Some(k)) if head_signed_by(h, k) && h.hash == b.hash);
    let root = b.head.as_ref().and_then(|h| store::hex32(&h.root).ok());
    let entries = b
        .entries
        .iter()
        .map(|p| {
            let e = &p.entry.envelope;
            let record = canonical::to_string(&p.entry.record).unwrap_or_default();
            let content = hex::encode(alg.digest(&[record.as_bytes()]));
            let leaf = leaf_of(alg, e.index, &e.source, &e.key, &content, &e.prev);
            let path: Option<Vec<Hash>> = p.proof.iter().map(|h| store::hex32(h).ok()).collect();
            let included = match (&b.head, root, path) {
                (Some(h), Some(r), Some(path)) => {
                    hexs(&leaf) == e.leaf_hash && merkle::verify_inclusion(alg, e.index, h.tree_size, &leaf, &path, &r)
                }
                _ => false,
            };
            EntryCheck {
                key: e.key.clone(),
                index: e.index,
                content_matches: content == e.content,
                included,
                matches_source: p.matches_source,
            }
        })
        .collect();
    BundleCheck { head_signature_valid: head_ok, entries }
}

impl Ledger {
    /// Open the log: state, signing key, capture triggers and the in-memory tree.
    pub async fn open(db: Db, vault: Vault, settings: LedgerSettings) -> Result<Ledger> {
        let mut tx = db.begin().await?;
        let state = store::ensure_state(&mut tx, settings.hash).await?;
        tx.commit().await?;
        if state.alg != settings.hash {
            tracing::warn!(configured = settings.hash.key(), log = state.alg.key(), "the ledger keeps the hash it started with");
        }
        let ledger = Ledger {
            inner: Arc::new(Inner {
                alg: state.alg,
                tree: RwLock::new(TreeCache::empty(state.alg)),
                tiles: Mutex::new(HashMap::new()),
                sequencer: tokio::sync::Mutex::new(()),
                signer: tokio::sync::Mutex::new(None),
                last_signed: Mutex::new(None),
                damaged: AtomicBool::new(false),
                capturing: AtomicBool::new(false),
                fences: Mutex::new(tail::Fences::default()),
                db,
                vault,
                settings,
            }),
        };
        ledger.set_capture(ledger.inner.settings.capture).await?;
        ledger.reload().await?;
        drop(ledger.signer().await?);
        Ok(ledger)
    }

    pub fn hash(&self) -> HashAlg {
        self.inner.alg
    }

    pub fn settings(&self) -> &LedgerSettings {
        &self.inner.settings
    }

    /// Install (or remove) the capture triggers of every source; start reading the tailed
    /// tables (or pause: they are read from where they stopped when capture returns).
    pub async fn set_capture(&self, on: bool) -> Result<()> {
        let db = &self.inner.db;
        let dialect = db.dialect();
        let mut tx = db.begin().await?;
        if dialect == Dialect::Postgres {
            // App servers starting together must not replace the functions concurrently: the
            // state row is the lock (a row lock, which distributed engines support too).
            sqlx::query("SELECT id FROM ledger_state WHERE id = 1 FOR UPDATE").execute(&mut *tx).await?;
        }
        for s in sources::SOURCES {
            let stmts = if on { s.install_sql(dialect) } else { s.uninstall_sql(dialect) };
            for sql in stmts {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
            }
        }
        if on {
            for s in tail::sources() {
                tail::start(&mut tx, dialect, s).await?;
            }
        }
        tx.commit().await?;
        self.inner.capturing.store(on, Ordering::SeqCst);
        Ok(())
    }

    /// Load the tree from storage (tile roots and the leaves after them). Storage that does
    /// not add up marks the ledger damaged: capture continues, appends stop, verify explains.
    async fn reload(&self) -> Result<()> {
        let mut c = self.inner.db.reader().acquire().await?;
        let state = store::state(&mut c).await?;
        let roots = store::tile_roots(&mut c).await?;
        let complete = state.size / TILE_SIZE;
        let contiguous = roots.len() as u64 == complete && roots.iter().enumerate().all(|(i, (t, _))| *t == i as u64);
        let partial = store::leaf_hashes(&mut c, complete * TILE_SIZE, state.size).await?;
        let partial_ok = partial.iter().enumerate().all(|(i, (idx, _))| *idx == complete * TILE_SIZE + i as u64)
            && partial.len() as u64 == state.size - complete * TILE_SIZE;
        drop(c);
        if !contiguous || !partial_ok {
            tracing::error!(
                size = state.size,
                tiles = roots.len(),
                "ledger storage is inconsistent: appends stopped; run `yiwang ledger verify`"
            );
            self.inner.damaged.store(true, Ordering::SeqCst);
        }
        let cache = TreeCache::from_parts(
            state.alg,
            roots.into_iter().map(|(_, r)| r).collect(),
            partial.into_iter().map(|(_, h)| h).collect(),
            state.last_leaf,
        );
        if let Ok(mut t) = self.inner.tree.write() {
            *t = cache;
        }
        Ok(())
    }

    /// Entries appended so far (on this node's view).
    pub fn size(&self) -> u64 {
        self.inner.tree.read().map(|t| t.size).unwrap_or(0)
    }

    pub fn is_damaged(&self) -> bool {
        self.inner.damaged.load(Ordering::SeqCst)
    }

    /// Append every captured row; returns how many were appended. Rows of tailed tables
    /// committed before the call are waited for while other transactions that may hold lower
    /// ids are open (PostgreSQL; at most [`TAIL_WAIT`]): for proofs, shutdown and tests.
    pub async fn sequence_now(&self) -> Result<u64> {
        self.sequence(true).await
    }

    /// Append what is captured and settled now, without waiting: the background task's step.
    /// (Waiting would look at PostgreSQL's lock table every few milliseconds under load; a
    /// fence that is not settled now is at the next step.)
    pub async fn sequence_settled(&self) -> Result<u64> {
        self.sequence(false).await
    }

    async fn sequence(&self, wait: bool) -> Result<u64> {
        if self.is_damaged() {
            return Err(LedgerError::Corrupt("账本存储不一致，已停止追加；请运行 yiwang ledger verify".into()));
        }
        let _one = self.inner.sequencer.lock().await;
        let batch = self.inner.settings.batch;
        let dialect = self.inner.db.dialect();
        if wait {
            self.await_tails().await?;
        }
        let mut total = 0;
        let mut conflicts = 0;
        loop {
            let (rows, tails) = {
                let mut c = self.capture_pool().acquire().await?;
                let bounds = self.tail_bounds(&mut c).await?;
                let mut rows = store::queue_batch(&mut c, dialect, batch).await?;
                let mut tails = Vec::new();
                for (src, after, upto) in bounds {
                    let room = batch.saturating_sub(rows.len());
                    if room == 0 {
                        break;
                    }
                    let got = tail::rows(&mut c, dialect, src, after, upto, room).await?;
                    if let Some((last, _, _)) = got.last() {
                        tails.push((src.name, after, *last));
                    }
                    rows.extend(got.into_iter().map(|(_, key, record)| store::Queued {
                        id: None,
                        source: src.name.to_string(),
                        key,
                        record: Some(record),
                    }));
                }
                (rows, tails)
            };
            let full = rows.len() == batch;
            if !rows.is_empty() {
                let (mut plan, leaves) = self.plan(rows);
                plan.tails = tails;
                let n = plan.entries.len() as u64;
                let plan = Arc::new(plan);
                let p = plan.clone();
                match self.inner.db.write(move |tx| Box::pin(async move { store::apply(tx, dialect, &p).await })).await {
                    Ok(()) => {
                        if let Ok(mut t) = self.inner.tree.write() {
                            t.commit(&leaves, &plan.tiles);
                        }
                        total += n;
                    }
                    Err(LedgerError::Busy) if conflicts < 3 => {
                        // Another app server appended first: catch up and try again.
                        conflicts += 1;
                        self.reload().await?;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !full {
                return Ok(total);
            }
        }
    }

    /// Where captured rows are read. On PostgreSQL the primary's pool: the fences look at its
    /// locks, and a replica behind it could show a row without a lower one committed before it.
    fn capture_pool(&self) -> &yiwang_store::sqlx::AnyPool {
        match self.inner.db.dialect() {
            Dialect::Postgres => self.inner.db.autocommit_writer(),
            Dialect::Sqlite => self.inner.db.reader(),
        }
    }

    /// PostgreSQL: wait (at most [`TAIL_WAIT`]) until the rows of tailed tables committed
    /// before now are settled, i.e. every transaction that may hold a lower id has ended.
    async fn await_tails(&self) -> Result<()> {
        if self.inner.db.dialect() != Dialect::Postgres || !self.inner.capturing.load(Ordering::SeqCst) {
            return Ok(());
        }
        let started = Instant::now();
        let mut target = None;
        loop {
            let sight = {
                let mut c = self.capture_pool().acquire().await?;
                tail::look(&mut c).await?
            };
            let reached = {
                let mut f = self.inner.fences.lock().unwrap_or_else(|p| p.into_inner());
                f.observe(&sight);
                f.reached(target.get_or_insert_with(|| sight.max.clone()))
            };
            if reached || started.elapsed() >= TAIL_WAIT {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Each tailed table to read now: (source, last id appended, last id settled). Empty while
    /// capture is off. On PostgreSQL this looks at the tables and moves the fences.
    async fn tail_bounds(&self, c: &mut sqlx::AnyConnection) -> Result<Vec<(&'static sources::Source, i64, i64)>> {
        if !self.inner.capturing.load(Ordering::SeqCst) {
            return Ok(Vec::new());
        }
        let cursors = tail::cursors(c).await?;
        let sight = match self.inner.db.dialect() {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(tail::look(c).await?),
        };
        let mut fences = self.inner.fences.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sight) = &sight {
            fences.observe(sight);
        }
        let mut out = Vec::new();
        for src in tail::sources() {
            let Some(after) = cursors.get(src.name) else { continue };
            let upto = if sight.is_some() { fences.settled(src.name) } else { i64::MAX };
            if upto > *after {
                out.push((src, *after, upto));
            }
        }
        Ok(out)
    }

    /// Hash a batch outside the writer: envelopes, leaves and completed tiles.
    fn plan(&self, rows: Vec<store::Queued>) -> (store::Plan, Vec<Hash>) {
        let alg = self.inner.alg;
        // Only the sequencer (one at a time, under its lock) moves the tree, so it stays as read.
        let (base_size, mut prev) =
            self.inner.tree.read().map(|t| (t.size, t.last_leaf)).unwrap_or_else(|p| (p.get_ref().size, p.get_ref().last_leaf));
        let now = yiwang_store::now_text();
        let mut entries = Vec::with_capacity(rows.len());
        let mut records = Vec::with_capacity(rows.len());
        let mut leaves = Vec::with_capacity(rows.len());
        let mut queue_ids = Vec::with_capacity(rows.len());
        for (i, r) in rows.into_iter().enumerate() {
            let index = base_size + i as u64;
            // A row deleted before it was appended is recorded as `null`: its key was written and
            // verify reports the row as deleted.
            let record = r.record.as_deref().map(canonical_record).unwrap_or_else(|| "null".into());
            let content = hex::encode(alg.digest(&[record.as_bytes()]));
            let prev_hex = hexs(&prev);
            let leaf = leaf_of(alg, index, &r.source, &r.key, &content, &prev_hex);
            entries.push(Envelope {
                index,
                source: r.source,
                key: r.key,
                content,
                prev: prev_hex,
                leaf_hash: hexs(&leaf),
                sequenced_at: now.clone(),
            });
            records.push(record);
            leaves.push(leaf);
            queue_ids.extend(r.id);
            prev = leaf;
        }
        let tiles =
            self.inner.tree.read().map(|t| t.tiles_completed_by(&leaves)).unwrap_or_else(|p| p.get_ref().tiles_completed_by(&leaves));
        (store::Plan { base_size, entries, records, tiles, queue_ids, tails: Vec::new(), last_leaf: prev }, leaves)
    }

    /// Sequence and sign heads on schedule until the task is dropped.
    pub async fn run(self) {
        let mut last_head = Instant::now();
        loop {
            tokio::time::sleep(self.inner.settings.sequence_every).await;
            if self.is_damaged() {
                // Said once at start; capture goes on until an operator repairs storage.
                tokio::time::sleep(Duration::from_secs(60)).await;
                continue;
            }
            if let Err(e) = self.sequence_settled().await {
                tracing::warn!(error = %e, "ledger sequencing failed; will retry");
                continue;
            }
            if last_head.elapsed() >= self.inner.settings.head_every {
                last_head = Instant::now();
                if let Err(e) = self.publish(Duration::ZERO).await {
                    tracing::warn!(error = %e, "signing a tree head failed");
                }
            }
        }
    }

    async fn signer(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Signer>>> {
        let mut guard = self.inner.signer.lock().await;
        if guard.is_none() {
            let want = self.inner.settings.signing;
            let keys = {
                let mut c = self.inner.db.reader().acquire().await?;
                store::keys(&mut c).await?
            };
            let active = keys.into_iter().find(|(k, _)| k.retired_at.is_none() && Algorithm::parse(&k.algorithm) == Some(want));
            let (key, secret) = match active {
                Some((key, sealed)) => {
                    let secret = self.inner.vault.open(&format!("ledger:{}", key.key_id), &sealed)?;
                    (key, secret)
                }
                None => {
                    let (secret, public) = yiwang_crypto::generate(want)?;
                    let key_id = hex::encode(&HashAlg::Sm3.digest(&[&public])[..8]);
                    let key = LogKey {
                        key_id: key_id.clone(),
                        algorithm: want.key().into(),
                        public_key: hex::encode(&public),
                        created_at: yiwang_store::now_text(),
                        retired_at: None,
                    };
                    let sealed = self.inner.vault.seal(&format!("ledger:{key_id}"), &secret)?;
                    let mut tx = self.inner.db.begin().await?;
                    store::insert_key(&mut tx, &key, &sealed).await?;
                    tx.commit().await?;
                    tracing::info!(key_id, algorithm = want.key(), "ledger signing key created");
                    (key, secret)
                }
            };
            *guard = Some(Signer { key, alg: want, secret });
        }
        Ok(guard)
    }

    /// Sign a head over the current tree now.
    pub async fn sign_head(&self) -> Result<SignedHead> {
        if self.is_damaged() {
            // Never vouch for storage that failed its check.
            return Err(LedgerError::Corrupt("账本存储不一致，不签发树头；请运行 yiwang ledger verify".into()));
        }
        let size = self.size();
        let root = self.with_nodes(|n| merkle::root(n, size)).await?;
        let guard = self.signer().await?;
        let Some(signer) = guard.as_ref() else { return Err(LedgerError::Corrupt("缺少账本签名密钥".into())) };
        let mut head = SignedHead {
            format: LOG_FORMAT.into(),
            hash: self.inner.alg.key().into(),
            tree_size: size,
            root: hexs(&root),
            timestamp: yiwang_store::now_text(),
            key_id: signer.key.key_id.clone(),
            signature: String::new(),
        };
        head.signature = B64.encode(yiwang_crypto::sign(signer.alg, &signer.secret, head_message(&head).as_bytes())?);
        drop(guard);
        let mut tx = self.inner.db.begin().await?;
        store::insert_head(&mut tx, &head).await?;
        tx.commit().await?;
        if let Ok(mut t) = self.inner.last_signed.lock() {
            *t = Some(Instant::now());
        }
        Ok(head)
    }

    /// Sign a head if the log grew since the latest one and that one is at least `gap` old;
    /// returns the latest head either way.
    pub async fn publish(&self, gap: Duration) -> Result<Option<SignedHead>> {
        let latest = self.latest_head().await?;
        let grown = latest.as_ref().map(|h| h.tree_size < self.size()).unwrap_or(true);
        let recent = self.inner.last_signed.lock().ok().and_then(|t| *t).map(|t| t.elapsed() < gap).unwrap_or(false);
        if grown && !recent {
            return Ok(Some(self.sign_head().await?));
        }
        Ok(latest)
    }

    /// On-demand head (throttled to one per second).
    pub async fn publish_on_demand(&self) -> Result<Option<SignedHead>> {
        self.publish(ON_DEMAND_GAP).await
    }

    pub async fn latest_head(&self) -> Result<Option<SignedHead>> {
        let mut c = self.inner.db.reader().acquire().await?;
        Ok(store::heads(&mut c, self.inner.alg, 1).await?.pop())
    }

    pub async fn heads(&self, limit: i64) -> Result<Vec<SignedHead>> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::heads(&mut c, self.inner.alg, limit.clamp(1, 10_000)).await
    }

    pub async fn keys(&self) -> Result<Vec<LogKey>> {
        let mut c = self.inner.db.reader().acquire().await?;
        Ok(store::keys(&mut c).await?.into_iter().map(|(k, _)| k).collect())
    }

    pub async fn info(&self) -> Result<LogInfo> {
        let pending = {
            let mut c = self.inner.db.reader().acquire().await?;
            store::pending(&mut c).await?
        };
        Ok(LogInfo {
            format: LOG_FORMAT.into(),
            hash: self.inner.alg.key().into(),
            tree_size: self.size(),
            pending,
            latest_head: self.latest_head().await?,
            keys: self.keys().await?,
        })
    }

    /// Public envelopes of `[start, end)`, at most 1,000.
    pub async fn leaves(&self, start: u64, end: u64) -> Result<Vec<Envelope>> {
        let end = end.min(start.saturating_add(1000)).min(self.size());
        let mut c = self.inner.db.reader().acquire().await?;
        store::envelopes(&mut c, start, end).await
    }

    /// Run `f` over the tree's nodes, reading the tiles it asks for.
    async fn with_nodes<T>(&self, f: impl Fn(&dyn Nodes) -> Result<T, NeedTile>) -> Result<T> {
        let mut extra: HashMap<u64, Arc<Vec<Hash>>> = HashMap::new();
        for _ in 0..8 {
            let need = {
                let tree = self.inner.tree.read().map_err(|_| LedgerError::Corrupt("账本缓存不可用".into()))?;
                match f(&tree.view(&extra)) {
                    Ok(v) => return Ok(v),
                    Err(NeedTile(t)) => t,
                }
            };
            let cached = self.inner.tiles.lock().ok().and_then(|m| m.get(&need).cloned());
            let tile = match cached {
                Some(t) => t,
                None => {
                    let mut c = self.inner.db.reader().acquire().await?;
                    let leaves =
                        store::tile_leaves(&mut c, need).await?.ok_or_else(|| LedgerError::Corrupt(format!("缺少第 {need} 块")))?;
                    let t = Arc::new(leaves);
                    if let Ok(mut m) = self.inner.tiles.lock() {
                        if m.len() >= TILE_CACHE {
                            m.clear();
                        }
                        m.insert(need, t.clone());
                    }
                    t
                }
            };
            extra.insert(need, tile);
        }
        Err(LedgerError::Corrupt("证明计算需要的块过多".into()))
    }

    fn check_size(&self, tree_size: u64) -> Result<()> {
        if tree_size > self.size() {
            return Err(invalid("tree_size", format!("账本目前只有 {} 条记录", self.size())));
        }
        Ok(())
    }

    pub async fn inclusion(&self, index: u64, tree_size: u64) -> Result<InclusionProof> {
        self.check_size(tree_size)?;
        if index >= tree_size {
            return Err(invalid("index", "序号必须小于树的大小"));
        }
        let (leaf, path) =
            self.with_nodes(|n| Ok((merkle::range_hash(n, index, index + 1)?, merkle::inclusion_proof(n, index, tree_size)?))).await?;
        Ok(InclusionProof { index, tree_size, leaf_hash: hexs(&leaf), path: path.iter().map(hexs).collect() })
    }

    pub async fn consistency(&self, first: u64, second: u64) -> Result<ConsistencyProof> {
        self.check_size(second)?;
        if first == 0 || first > second {
            return Err(invalid("first", "first 必须大于 0 且不大于 second"));
        }
        let path = self.with_nodes(|n| merkle::consistency_proof(n, first, second)).await?;
        Ok(ConsistencyProof { first, second, path: path.iter().map(hexs).collect() })
    }

    pub async fn root_at(&self, tree_size: u64) -> Result<String> {
        self.check_size(tree_size)?;
        Ok(hexs(&self.with_nodes(|n| merkle::root(n, tree_size)).await?))
    }

    /// Entries of one recorded row (all versions for updatable sources), oldest first.
    pub async fn entries_for(&self, source: &str, key: &str) -> Result<Vec<Entry>> {
        let mut c = self.inner.db.reader().acquire().await?;
        store::entries_for(&mut c, source, key).await
    }

    /// Proofs that the given rows of `source` are in the log, against one signed head (signed
    /// now if none covers them yet).
    pub async fn prove(&self, source: &str, keys: &[String]) -> Result<ProofBundle> {
        let src = sources::source(source).ok_or_else(|| invalid("source", "未知的记录来源"))?;
        if let Err(e) = self.sequence_now().await {
            tracing::warn!(error = %e, "sequencing before a proof failed");
        }
        let mut found: Vec<Entry> = Vec::new();
        let mut pending = Vec::new();
        for key in keys {
            let entries = self.entries_for(source, key).await?;
            if entries.is_empty() {
                pending.push(key.clone());
            }
            found.extend(entries);
        }
        let needed = found.iter().map(|e| e.envelope.index + 1).max().unwrap_or(0);
        let head = {
            let mut c = self.inner.db.reader().acquire().await?;
            store::head_covering(&mut c, self.inner.alg, needed).await?
        };
        let head = match head {
            Some(h) => Some(h),
            // Signed only when no head covers these records yet, which their own creation
            // bounds: repeated requests find the head signed the first time.
            None if needed > 0 => match self.publish(Duration::ZERO).await {
                Ok(h) => h.filter(|h| h.tree_size >= needed),
                Err(e) => {
                    // The records are shown as not yet proven rather than failing the page.
                    tracing::warn!(error = %e, "no head for a proof");
                    None
                }
            },
            None => self.latest_head().await?,
        };
        let current = self.current_records(src, keys).await?;
        let mut entries = Vec::with_capacity(found.len());
        let mut proven_keys = Vec::new();
        for (i, e) in found.iter().enumerate() {
            let latest = !found[i + 1..].iter().any(|later| later.envelope.key == e.envelope.key);
            let matches_source =
                !latest || current.get(&e.envelope.key).map(|r| *r == canonical::to_string(&e.record).unwrap_or_default()).unwrap_or(false);
            let proof = match &head {
                Some(h) => self.inclusion(e.envelope.index, h.tree_size).await?.path,
                None => {
                    proven_keys.push(e.envelope.key.clone());
                    continue;
                }
            };
            entries.push(ProvenEntry { entry: e.clone(), proof, matches_source });
        }
        pending.extend(proven_keys);
        let key = match &head {
            Some(h) => self.keys().await?.into_iter().find(|k| k.key_id == h.key_id),
            None => None,
        };
        Ok(ProofBundle { format: LOG_FORMAT.into(), hash: self.inner.alg.key().into(), head, key, entries, pending })
    }

    /// The current rows of `keys` in their canonical record form.
    async fn current_records(&self, src: &sources::Source, keys: &[String]) -> Result<HashMap<String, String>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let mut c = self.inner.db.reader().acquire().await?;
        let rows = store::records_of(&mut c, self.inner.db.dialect(), src, keys).await?;
        Ok(rows.into_iter().map(|(k, r)| (k, canonical_record(&r))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The leaf data written out by hand is the canonical JSON of the documented object.
        #[test]
        fn leaf_data_is_canonical(index in any::<u64>(), source in "\\PC{0,12}", key in "[\\x00-\\x1f\"\\\\a@中]{0,12}") {
            let (content, prev) = (hex::encode([7u8; 32]), hex::encode([0u8; 32]));
            let doc = json!({"content": content, "index": index, "key": key, "prev": prev, "source": source});
            prop_assert_eq!(leaf_data(index, &source, &key, &content, &prev), canonical::to_string(&doc).unwrap());
        }
    }
}
