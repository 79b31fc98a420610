//! Tailed sources: insert-only tables whose new rows the sequencer reads from the table itself,
//! past the last id it appended, instead of through a trigger and `ledger_queue`.
//!
//! The cursor may pass an id only once no row can appear below it later.
//! - **SQLite** has one writer: ids are given out and committed in order, so every row a
//!   reader sees is settled.
//! - **PostgreSQL** gives out ids when rows are inserted but commits transactions in any order,
//!   so a committed row with id 8 may be visible while id 7 is still in an open transaction.
//!   A transaction that inserts holds a `RowExclusiveLock` on the table from before it draws
//!   its id until it ends. So the sequencer reads the table's highest id `m`, then the
//!   transactions holding that lock (a *fence*); once none of them is still open, every id up
//!   to `m` is committed or gone for good. With no holder the fence settles at once, which is
//!   the common case when the sequencer or a proof request runs on a quiet table.
//!
//! A row inserted and deleted before the sequencer reads it leaves no entry (no id sequence is
//! gap-free on PostgreSQL, so a missing id proves nothing). With triggers such a row left a
//! queued key, unless the same hand deleted that too. Once appended, a deleted row is
//! reported by `verify`.

use std::collections::{HashMap, HashSet};

use sqlx::Row as _;
use yiwang_store::{sqlx, Dialect, Tx};

use crate::error::{LedgerError, Result};
use crate::sources::{source, Source, SOURCES};

type Conn = sqlx::AnyConnection;

/// The tailed sources.
pub fn sources() -> impl Iterator<Item = &'static Source> {
    SOURCES.iter().filter(|s| s.tailed())
}

/// Start tailing `src` unless already started: at the table's highest id, since every earlier
/// row was captured by the triggers of before (or predates the ledger). On PostgreSQL the table
/// is locked against writers first, so no transaction that drew a lower id is still open.
pub async fn start(tx: &mut Tx, dialect: Dialect, src: &Source) -> Result<()> {
    let started = sqlx::query("SELECT last_id FROM ledger_tails WHERE source = $1").bind(src.name).fetch_optional(&mut **tx).await?;
    if started.is_some() {
        return Ok(());
    }
    if dialect == Dialect::Postgres {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", src.table))).execute(&mut **tx).await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO ledger_tails (source, last_id) SELECT $1, COALESCE(MAX(id), 0) FROM {}",
        src.table
    )))
    .bind(src.name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The last appended id of each started tail.
pub async fn cursors(c: &mut Conn) -> Result<HashMap<String, i64>> {
    let rows = sqlx::query("SELECT source, last_id FROM ledger_tails").fetch_all(&mut *c).await?;
    rows.iter().map(|r| Ok((r.try_get("source")?, r.try_get("last_id")?))).collect()
}

/// Rows of tailed sources not yet appended.
pub async fn pending(c: &mut Conn) -> Result<u64> {
    let mut n = 0i64;
    for (name, last) in cursors(c).await? {
        let Some(src) = source(&name).filter(|s| s.tailed()) else { continue };
        let q = format!("SELECT COUNT(*) AS n FROM {} WHERE id > $1", src.table);
        n += sqlx::query(sqlx::AssertSqlSafe(q)).bind(last).fetch_one(&mut *c).await?.try_get::<i64, _>("n")?;
    }
    Ok(n.max(0) as u64)
}

/// Up to `limit` rows of `src` after `after` up to `upto`, as (id, key, record JSON).
pub async fn rows(c: &mut Conn, dialect: Dialect, src: &Source, after: i64, upto: i64, limit: usize) -> Result<Vec<(i64, String, String)>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(src.tail_sql(dialect))).bind(after).bind(upto).bind(limit as i64).fetch_all(&mut *c).await?;
    rows.iter()
        .map(|r| {
            let k: String = r.try_get("k")?;
            let id = k.parse().map_err(|_| LedgerError::Corrupt(format!("{} 的编号不是整数：{k}", src.table)))?;
            Ok((id, k, r.try_get("r")?))
        })
        .collect()
}

/// What one look at the tables saw: each tailed table's highest id, then the open
/// transactions writing to it.
#[derive(Debug, Default, Clone)]
pub struct Sight {
    pub max: HashMap<&'static str, i64>,
    pub writers: HashMap<&'static str, HashSet<String>>,
}

/// Look at the tailed tables (PostgreSQL; SQLite needs no fences). The highest ids are read
/// before the writers, so any transaction that drew a lower id and is still open is seen.
pub async fn look(c: &mut Conn) -> Result<Sight> {
    let tables: Vec<&Source> = sources().collect();
    let max_sql = tables
        .iter()
        .map(|s| format!("SELECT '{}' AS s, (SELECT MAX(id) FROM {}) AS m", s.name, s.table))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut sight = Sight::default();
    for r in sqlx::query(sqlx::AssertSqlSafe(max_sql)).fetch_all(&mut *c).await? {
        let name: String = r.try_get("s")?;
        let max: Option<i64> = r.try_get("m")?;
        if let Some(src) = source(&name) {
            sight.max.insert(src.name, max.unwrap_or(0));
        }
    }
    let values =
        tables.iter().map(|s| format!("('{}', CAST(CAST('{}' AS regclass) AS oid))", s.name, s.table)).collect::<Vec<_>>().join(", ");
    let writers_sql = format!(
        "SELECT t.s AS s, l.virtualtransaction AS v FROM pg_locks l JOIN (VALUES {values}) AS t(s, r) ON l.relation = t.r \
         WHERE l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND l.pid IS DISTINCT FROM pg_backend_pid() \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(writers_sql)).fetch_all(&mut *c).await? {
        let name: String = r.try_get("s")?;
        if let Some(src) = source(&name) {
            sight.writers.entry(src.name).or_default().insert(r.try_get("v")?);
        }
    }
    Ok(sight)
}

/// Per tailed table: the id up to which rows are settled, and the fence waiting to settle.
#[derive(Debug, Default)]
pub struct Fences {
    open: HashMap<&'static str, (i64, HashSet<String>)>,
    settled: HashMap<&'static str, i64>,
}

impl Fences {
    /// Take in a new look: a fence whose writers are all gone settles at its id; the look's
    /// own highest id settles at once if nobody is writing, else becomes the fence (unless one
    /// is already waiting: it is older, so it settles first).
    pub fn observe(&mut self, sight: &Sight) {
        let none = HashSet::new();
        for (&name, &max) in &sight.max {
            let writing = sight.writers.get(name).unwrap_or(&none);
            if let Some((at, holders)) = self.open.get(name) {
                if holders.is_disjoint(writing) {
                    let at = *at;
                    self.settle(name, at);
                    self.open.remove(name);
                }
            }
            if writing.is_empty() {
                self.settle(name, max);
                self.open.remove(name);
            } else if !self.open.contains_key(name) && max > self.settled(name) {
                self.open.insert(name, (max, writing.clone()));
            }
        }
    }

    fn settle(&mut self, name: &'static str, at: i64) {
        let s = self.settled.entry(name).or_insert(0);
        *s = (*s).max(at);
    }

    /// Rows of `name` up to this id may be appended.
    pub fn settled(&self, name: &str) -> i64 {
        self.settled.get(name).copied().unwrap_or(0)
    }

    /// Whether rows up to `max` of every table in `target` are settled.
    pub fn reached(&self, target: &HashMap<&'static str, i64>) -> bool {
        target.iter().all(|(name, max)| self.settled(name) >= *max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sight(max: i64, writers: &[&str]) -> Sight {
        let mut s = Sight::default();
        s.max.insert("case_event", max);
        if !writers.is_empty() {
            s.writers.insert("case_event", writers.iter().map(|w| w.to_string()).collect());
        }
        s
    }

    #[test]
    fn a_fence_settles_when_its_writers_are_gone() {
        let mut f = Fences::default();
        // Nobody writing: the highest id settles at once.
        f.observe(&sight(5, &[]));
        assert_eq!(f.settled("case_event"), 5);
        // Writers 1 and 2 may still hold ids below 9: not settled.
        f.observe(&sight(9, &["1/10", "2/20"]));
        assert_eq!(f.settled("case_event"), 5);
        // 1 ended, 3 began: 2 may still hold a low id.
        f.observe(&sight(12, &["2/20", "3/30"]));
        assert_eq!(f.settled("case_event"), 5);
        // 2 ended: 9 settles, and 14 is fenced by 3 and 4 (12 never was: a fence waited).
        f.observe(&sight(14, &["3/30", "4/40"]));
        assert_eq!(f.settled("case_event"), 9);
        f.observe(&sight(15, &["3/30", "4/40"]));
        assert_eq!(f.settled("case_event"), 9);
        f.observe(&sight(15, &["5/50"]));
        assert_eq!(f.settled("case_event"), 14);
        f.observe(&sight(15, &[]));
        assert_eq!(f.settled("case_event"), 15);
        let target = HashMap::from([("case_event", 15)]);
        assert!(f.reached(&target) && !f.reached(&HashMap::from([("case_event", 16)])));
    }
}
