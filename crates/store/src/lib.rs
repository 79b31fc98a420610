//! Storage for yiwang: one code path over SQLite (embedded default) and PostgreSQL (production).
//!
//! The backend is chosen at run time from the URL. Queries use `$1` placeholders and portable
//! types (TEXT, BIGINT, DOUBLE PRECISION) so the same SQL runs on both; dialect differences stay
//! in this crate ([`Dialect`]). SQLite writes are serialised through a single-connection pool
//! so writers never fail with `SQLITE_BUSY`; reads use a separate pool (WAL mode).

pub mod backup;
mod batch;
mod migrate;
pub use batch::TxFuture;
pub use migrate::current_version;
pub mod sequences;
pub mod signing_keys;
pub mod testing;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Transaction};
use yiwang_core::{DomainError, ErrorKind};

pub use migrate::{Migration, MIGRATIONS};
pub use sqlx;

/// Which SQL dialect the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of an open connection, for code that holds a transaction but not the `Db`.
    pub fn of(c: &sqlx::AnyConnection) -> Dialect {
        if c.backend_name().eq_ignore_ascii_case("sqlite") {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        }
    }
}

/// Storage failures, mapped to stable codes for the API.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库暂时不可用，请稍后重试")]
    Unavailable(#[source] sqlx::Error),
    #[error("记录已存在")]
    Duplicate(#[source] sqlx::Error),
    #[error("数据库错误")]
    Database(#[source] sqlx::Error),
    #[error("不支持的数据库地址：{0}")]
    UnsupportedUrl(String),
    #[error("数据库迁移失败：{0}")]
    Migration(String),
    /// Personal data could not be sealed or opened (wrong or missing key).
    #[error("个人信息加解密失败：{0}")]
    PersonalData(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => StoreError::Unavailable(e),
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(e),
            _ => StoreError::Database(e),
        }
    }
}

impl DomainError for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "STORE_UNAVAILABLE",
            StoreError::Duplicate(_) => "DUPLICATE",
            StoreError::Database(_) | StoreError::UnsupportedUrl(_) | StoreError::Migration(_) | StoreError::PersonalData(_) => "INTERNAL",
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Unavailable(_) => ErrorKind::Unavailable,
            StoreError::Duplicate(_) => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
pub type Tx = Transaction<'static, Any>;
pub type Row = AnyRow;

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub url: String,
    /// PostgreSQL schema to use (`search_path`); lets tests and tenants share one database.
    pub schema: Option<String>,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl ConnectOptions {
    /// Pool size unless configured (PostgreSQL; SQLite reads).
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

    pub fn new(url: impl Into<String>) -> Self {
        ConnectOptions {
            url: url.into(),
            schema: None,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The database handle shared by every domain module.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    dialect: Dialect,
    /// Group-commit writer (SQLite only); see [`Db::write`].
    writer: Option<batch::Writer>,
}

fn valid_schema_name(s: &str) -> bool {
    !s.is_empty() && s.len() < 60 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Db {
    pub async fn connect(opts: &ConnectOptions) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let dialect = if opts.url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(opts.url.clone()));
        };
        match dialect {
            Dialect::Sqlite => {
                if let Some(path) = sqlite_file(&opts.url) {
                    if let Some(dir) = std::path::Path::new(&path).parent() {
                        if !dir.as_os_str().is_empty() {
                            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
                        }
                    }
                }
                let url = with_sqlite_create_mode(&opts.url);
                let read = sqlite_pool(opts.max_connections.max(2), opts.acquire_timeout).connect(&url).await?;
                let (writer, write) = batch::Writer::start(url, opts.acquire_timeout).await?;
                Ok(Db { read, write, dialect, writer: Some(writer) })
            }
            Dialect::Postgres => {
                let schema = match &opts.schema {
                    Some(s) if !valid_schema_name(s) => return Err(StoreError::UnsupportedUrl(format!("schema {s}"))),
                    other => other.clone(),
                };
                if let Some(s) = &schema {
                    // Created once here, not per connection: concurrent CREATE SCHEMA races.
                    use sqlx::Connection as _;
                    let mut conn = sqlx::AnyConnection::connect(&opts.url).await?;
                    conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {s}"))).await?;
                    conn.close().await?;
                }
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    .after_connect(move |conn, _| {
                        let schema = schema.clone();
                        Box::pin(async move {
                            conn.execute("SET TIME ZONE 'UTC'").await?;
                            if let Some(s) = schema {
                                conn.execute(sqlx::AssertSqlSafe(format!("SET search_path TO {s}"))).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&opts.url)
                    .await?;
                Ok(Db { read: pool.clone(), write: pool, dialect, writer: None })
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Pool for reads (and single-statement writes that need no transaction on PostgreSQL).
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The writer connection(s), for one statement that is its own transaction (autocommit):
    /// on SQLite the single writer connection, so it queues behind other writers instead of
    /// meeting a locked database; on PostgreSQL the pool.
    pub fn autocommit_writer(&self) -> &AnyPool {
        &self.write
    }

    /// Start a write transaction. On SQLite this takes the single writer connection and
    /// `BEGIN IMMEDIATE`, so the write lock is held from the start.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.write.begin().await?,
        })
    }

    /// Apply pending migrations; safe to call on every start.
    pub async fn migrate(&self) -> Result<usize> {
        migrate::run(self).await
    }

    /// A cheap round trip for health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// A SQLite pool of at most `max` connections, each set up for durable WAL use.
fn sqlite_pool(max: u32, acquire_timeout: Duration) -> AnyPoolOptions {
    // synchronous=FULL: an acknowledged commit survives power loss, not just a crash.
    let pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;";
    AnyPoolOptions::new().max_connections(max).acquire_timeout(acquire_timeout).after_connect(move |conn, _| {
        Box::pin(async move {
            conn.execute(pragmas).await?;
            Ok(())
        })
    })
}

/// The database file of a SQLite URL (none for PostgreSQL or in-memory databases).
pub fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.to_string())
}

fn with_sqlite_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// `rows` groups of `cols` bind markers for a multi-row `VALUES`, e.g. `(?,?),(?,?)`.
///
/// SQLite gets anonymous `?` markers: sqlx looks up every marker's name, and SQLite finds a
/// named marker (`$7`) by walking the statement's list of names, which makes binding a
/// statement of n named markers cost n² steps (a fifth of the ledger sequencer's time at
/// 512 markers). PostgreSQL gets `$1…$n`.
pub fn value_rows(dialect: Dialect, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            match dialect {
                Dialect::Sqlite => sql.push('?'),
                Dialect::Postgres => {
                    sql.push('$');
                    sql.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// `0..n` cut into consecutive runs whose lengths come from `sizes` (largest that fits first;
/// 1 when none does), e.g. 203 with `[64, 16, 4, 1]` is 3×64, 2×4, 3×1. Multi-row statements
/// built per run then come in a few shapes that stay prepared, instead of one new statement
/// text (parsed and planned afresh) per batch length.
pub fn runs(n: usize, sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < n {
        let len = sizes.iter().copied().filter(|s| *s > 0 && *s <= n - at).max().unwrap_or(1);
        out.push(at..at + len);
        at += len;
    }
    out
}

/// Current time as stored in the database: RFC 3339 UTC with milliseconds (sorts as text).
pub fn now_text() -> String {
    timestamp_text(chrono::Utc::now())
}

pub fn timestamp_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_file("sqlite://data/yiwang.db").as_deref(), Some("data/yiwang.db"));
        assert_eq!(sqlite_file("sqlite:data/y.db?mode=rwc").as_deref(), Some("data/y.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(with_sqlite_create_mode("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert!(!valid_schema_name("x; DROP TABLE y"));
    }

    #[test]
    fn value_rows_markers() {
        assert_eq!(value_rows(Dialect::Sqlite, 2, 3), "(?,?,?),(?,?,?)");
        assert_eq!(value_rows(Dialect::Postgres, 2, 2), "($1,$2),($3,$4)");
        assert_eq!(value_rows(Dialect::Postgres, 0, 2), "");
    }

    #[test]
    fn runs_cover_every_item_in_few_shapes() {
        let lens = |n, sizes: &[usize]| runs(n, sizes).iter().map(|r| r.len()).collect::<Vec<_>>();
        assert_eq!(lens(203, &[64, 16, 4, 1]), [64, 64, 64, 4, 4, 1, 1, 1]);
        assert_eq!(lens(3, &[64, 16]), [1, 1, 1]);
        assert!(runs(0, &[4]).is_empty());
        for n in 0..300 {
            let r = runs(n, &[100, 10]);
            assert_eq!(r.iter().map(|r| r.len()).sum::<usize>(), n);
            assert!(r.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
