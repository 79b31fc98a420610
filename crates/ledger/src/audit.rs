//! `yiwang ledger verify`: recompute the log from storage and check it against the signed
//! heads and the recorded tables. Read-only; needs no key.
//!
//! Each row of `ledger_entries` is checked on its own (record → content hash → leaf hash at
//! its position with its stored predecessor), then against its neighbour (the stored chain),
//! then the tree recomputed from the records alone is compared with every signed head. A row
//! edited, deleted or moved in place is reported at its position; a forger who rewrites every
//! later row consistently is still caught by the first head that covers the change.

use std::collections::HashMap;

use futures_util::TryStreamExt as _;
use sqlx::Row as _;
use yiwang_store::{sqlx, Db};

use crate::error::Result;
use crate::merkle::{Frontier, Hash};
use crate::model::{AuditReport, Finding, FindingKind, LogKey, SignedHead};
use crate::{canonical_record, head_signed_by, leaf_of, sources, store};

/// What to trust besides storage: heads and keys kept elsewhere (a monitor, a newspaper).
#[derive(Debug, Default, Clone)]
pub struct AuditOptions {
    pub extra_heads: Vec<SignedHead>,
    /// When set, only these keys are trusted for head signatures (else the stored keys).
    pub trusted_keys: Option<Vec<LogKey>>,
}

fn finding(kind: FindingKind, position: Option<u64>, source: Option<&str>, key: Option<&str>, detail: String) -> Finding {
    Finding { kind, position, source: source.map(str::to_string), key: key.map(str::to_string), detail }
}

const CHUNK: u64 = 5000;

pub async fn run(db: &Db, opts: AuditOptions) -> Result<AuditReport> {
    let mut c = db.reader().acquire().await?;
    let Some(state) = store::state_opt(&mut c).await? else {
        // Never started here (the server has not run on this database): nothing was recorded,
        // unless entries or heads exist without the state that describes them.
        let left: i64 = sqlx::query("SELECT (SELECT COUNT(*) FROM ledger_entries) + (SELECT COUNT(*) FROM ledger_heads) AS n")
            .fetch_one(&mut *c)
            .await?
            .try_get("n")?;
        let mut report = AuditReport { hash: "-".into(), ..Default::default() };
        if left > 0 {
            report.findings.push(finding(FindingKind::ChainBroken, None, None, None, "账本状态缺失，但存在账本记录".into()));
        }
        return Ok(report);
    };
    let alg = state.alg;
    let mut report = AuditReport { hash: alg.key().into(), ..Default::default() };

    // Heads: stored ones and the caller's, each checked for its signature.
    let keys = match opts.trusted_keys {
        Some(k) => k,
        None => store::keys(&mut c).await?.into_iter().map(|(k, _)| k).collect(),
    };
    let mut heads = store::heads(&mut c, alg, i64::MAX).await?;
    heads.extend(opts.extra_heads);
    heads.sort_by_key(|h| h.tree_size);
    for h in &heads {
        let signed = keys.iter().any(|k| head_signed_by(h, k));
        if !signed || h.hash != alg.key() {
            report.findings.push(finding(
                FindingKind::HeadSignature,
                Some(h.tree_size),
                None,
                None,
                format!("{} 签发的树头（{} 条）签名无效或签名密钥不明", h.timestamp, h.tree_size),
            ));
        }
    }
    report.heads_checked = heads.len() as u64;
    let max_head = heads.iter().map(|h| h.tree_size).max().unwrap_or(0);
    let max_row: Option<i64> = sqlx::query("SELECT MAX(leaf_index) AS m FROM ledger_entries").fetch_one(&mut *c).await?.try_get("m")?;
    let end = state.size.max(max_head).max(max_row.map(|m| m as u64 + 1).unwrap_or(0));

    // Entries, streamed in order.
    let mut frontier = Frontier::new(alg);
    let mut heads_at = heads.iter().peekable();
    check_heads(&mut report, &mut heads_at, &frontier);
    let mut prev_recomputed: Hash = [0u8; 32];
    let mut prev_stored: Option<(u64, String, bool)> = None; // (index, leaf hash, flagged)
    let mut latest: HashMap<(String, String), (u64, Hash)> = HashMap::new();
    let mut expected = 0u64;
    let mut start = 0u64;
    while start < end {
        let rows = store::entries_raw(&mut c, start, start + CHUNK).await?;
        for (e, record) in rows {
            if e.index > expected {
                report.findings.push(finding(
                    FindingKind::EntryDeleted,
                    Some(expected),
                    None,
                    None,
                    format!("第 {} 至 {} 条记录被删除", expected, e.index - 1),
                ));
                while frontier.size() < e.index {
                    frontier.push([0u8; 32]);
                    check_heads(&mut report, &mut heads_at, &frontier);
                }
                prev_stored = None;
            }
            let canon = canonical_record(&record);
            let content_raw = alg.digest(&[canon.as_bytes()]);
            let content = hex::encode(content_raw);
            let mut flagged = false;
            if content != e.content {
                report.findings.push(finding(
                    FindingKind::EntryEdited,
                    Some(e.index),
                    Some(&e.source),
                    Some(&e.key),
                    format!("第 {} 条记录的内容被改动（内容哈希不符）", e.index),
                ));
                flagged = true;
            } else if hex::encode(leaf_of(alg, e.index, &e.source, &e.key, &content, &e.prev)) != e.leaf_hash {
                report.findings.push(finding(
                    FindingKind::EntryMoved,
                    Some(e.index),
                    Some(&e.source),
                    Some(&e.key),
                    format!("第 {} 条记录不在它写入时的位置（顺序被调换或移动）", e.index),
                ));
                flagged = true;
            }
            if let Some((pi, pleaf, pflagged)) = &prev_stored {
                if !flagged && !pflagged && *pi + 1 == e.index && *pleaf != e.prev {
                    report.findings.push(finding(
                        FindingKind::ChainBroken,
                        Some(*pi),
                        None,
                        None,
                        format!("第 {pi} 条记录被替换（与下一条的哈希链断开）"),
                    ));
                }
            }
            // The tree from the records alone, chained by recomputed hashes.
            let leaf = leaf_of(alg, e.index, &e.source, &e.key, &content, &hex::encode(prev_recomputed));
            prev_recomputed = leaf;
            frontier.push(leaf);
            check_heads(&mut report, &mut heads_at, &frontier);
            latest.insert((e.source.clone(), e.key.clone()), (e.index, content_raw));
            prev_stored = Some((e.index, e.leaf_hash.clone(), flagged));
            expected = e.index + 1;
            report.entries_checked += 1;
        }
        start += CHUNK;
    }
    if expected < end {
        report.findings.push(finding(
            FindingKind::EntryDeleted,
            Some(expected),
            None,
            None,
            format!("第 {} 至 {} 条记录被删除", expected, end - 1),
        ));
    }
    for h in heads_at {
        report.findings.push(finding(
            FindingKind::HeadMismatch,
            Some(h.tree_size),
            None,
            None,
            format!("树头承诺 {} 条记录，账本只有 {} 条", h.tree_size, frontier.size()),
        ));
    }

    // Recorded tables: the latest entry of each row must read as the row does now.
    // Rows still queued: captured ones must read as captured; insert-only ones queue their key
    // alone and will be appended as they read (`None`). Rows of a tailed table past the last
    // id appended will be read as they are.
    let queued: HashMap<(String, String), Option<Hash>> = {
        let rows = sqlx::query("SELECT source, source_key, record FROM ledger_queue ORDER BY id").fetch_all(&mut *c).await?;
        let mut m = HashMap::new();
        for r in rows {
            let rec: String = r.try_get("record")?;
            let hash = (!rec.is_empty()).then(|| alg.digest(&[canonical_record(&rec).as_bytes()]));
            m.insert((r.try_get("source")?, r.try_get("source_key")?), hash);
        }
        m
    };
    // Rows of tailed tables past the last id appended are yet to be read.
    let tails = crate::tail::cursors(&mut c).await?;
    for src in sources::SOURCES {
        let tail = tails.get(src.name).copied().filter(|_| src.tailed());
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(src.rows_sql(db.dialect()))).fetch(&mut *c);
        while let Some(row) = rows.try_next().await? {
            let key: String = row.try_get("k")?;
            if tail.is_some_and(|last| key.parse::<i64>().is_ok_and(|id| id > last)) {
                report.source_rows_checked += 1;
                continue;
            }
            let record: String = row.try_get("r")?;
            let now = alg.digest(&[canonical_record(&record).as_bytes()]);
            let id = (src.name.to_string(), key);
            report.source_rows_checked += 1;
            let logged = latest.remove(&id);
            match queued.get(&id) {
                Some(None) => continue,
                Some(Some(h)) if *h == now => continue,
                _ => {}
            }
            match logged {
                Some((_, h)) if h == now => {}
                Some((index, _)) => report.findings.push(finding(
                    FindingKind::SourceEdited,
                    Some(index),
                    Some(src.name),
                    Some(&id.1),
                    format!("{}（{}）在记入账本后被改动，账本第 {index} 条为原始记录", src.label, id.1),
                )),
                None => report.findings.push(finding(
                    FindingKind::SourceUnrecorded,
                    None,
                    Some(src.name),
                    Some(&id.1),
                    format!("{}（{}）没有记入账本", src.label, id.1),
                )),
            }
        }
        drop(rows);
        let mut gone: Vec<(u64, String)> =
            latest.iter().filter(|((s, _), _)| s == src.name).map(|((_, k), (i, _))| (*i, k.clone())).collect();
        gone.sort();
        for (index, key) in gone {
            latest.remove(&(src.name.to_string(), key.clone()));
            report.findings.push(finding(
                FindingKind::SourceDeleted,
                Some(index),
                Some(src.name),
                Some(&key),
                format!("{}（{key}）已从数据库删除，账本第 {index} 条记有它", src.label),
            ));
        }
    }
    report.findings.sort_by_key(|f| (f.position.unwrap_or(u64::MAX), f.kind as u8));
    Ok(report)
}

/// Check every head of exactly the frontier's size against its root.
fn check_heads(report: &mut AuditReport, heads: &mut std::iter::Peekable<std::slice::Iter<'_, SignedHead>>, frontier: &Frontier) {
    while let Some(h) = heads.next_if(|h| h.tree_size == frontier.size()) {
        if hex::encode(frontier.root()) != h.root {
            report.findings.push(finding(
                FindingKind::HeadMismatch,
                Some(h.tree_size),
                None,
                None,
                format!("{} 签发的树头（{} 条）与重算的根哈希不符：此前的记录被改动", h.timestamp, h.tree_size),
            ));
        }
    }
}
