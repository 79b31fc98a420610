//! Fresh databases for tests: a temporary SQLite file, or a private PostgreSQL schema that is
//! dropped afterwards, so parallel test runs never collide.

use crate::{ConnectOptions, Db, Result};

/// PostgreSQL URL for tests: `YIWANG_TEST_PG_URL`, default the CI server on 127.0.0.1:5432.
pub fn pg_url() -> String {
    std::env::var("YIWANG_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Whether PostgreSQL tests are explicitly switched off (`YIWANG_TEST_PG=off`).
pub fn pg_disabled() -> bool {
    std::env::var("YIWANG_TEST_PG").map(|v| v == "off").unwrap_or(false)
}

/// A database that lives as long as this value.
pub struct TestDb {
    pub db: Db,
    pub options: ConnectOptions,
    _dir: Option<TempDir>,
    pg_schema: Option<String>,
}

/// Minimal temp dir (avoids a dependency for one directory).
struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    pub async fn sqlite() -> Result<TestDb> {
        let dir = std::env::temp_dir().join(format!("yiwang-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::Unavailable(sqlx::Error::Io(e)))?;
        let options = ConnectOptions::new(format!("sqlite://{}/test.db", dir.display()));
        let db = Db::connect(&options).await?;
        db.migrate().await?;
        Ok(TestDb { db, options, _dir: Some(TempDir(dir)), pg_schema: None })
    }

    /// A private schema reached through a small pool (4 connections), so parallel tests stay
    /// within the server's connection limit.
    pub async fn postgres() -> Result<TestDb> {
        TestDb::postgres_pool(4).await
    }

    /// A private schema reached through a pool of `max_connections` (benchmarks use the
    /// production default, [`ConnectOptions::DEFAULT_MAX_CONNECTIONS`]).
    pub async fn postgres_pool(max_connections: u32) -> Result<TestDb> {
        let schema = format!("yiwang_test_{}", uuid::Uuid::new_v4().simple());
        let mut options = ConnectOptions::new(pg_url());
        options.schema = Some(schema.clone());
        options.max_connections = max_connections;
        let db = Db::connect(&options).await?;
        db.migrate().await?;
        Ok(TestDb { db, options, _dir: None, pg_schema: Some(schema) })
    }

    /// Both backends, for tests that must hold on SQLite and PostgreSQL alike.
    pub async fn each() -> Result<Vec<TestDb>> {
        let mut v = vec![TestDb::sqlite().await?];
        if !pg_disabled() {
            v.push(TestDb::postgres().await?);
        }
        Ok(v)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(schema) = self.pg_schema.take() else { return };
        // Drop runs outside async context: use a private runtime on a helper thread.
        let url = pg_url();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok(db) = Db::connect(&ConnectOptions::new(url)).await {
                    // A connection of the test's pool may still hold a transaction that its
                    // runtime (blocked on this join) cannot roll back: give up rather than
                    // wait forever; a stray schema with a random name is harmless.
                    let sql = format!("SET lock_timeout = '3s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(db.reader()).await;
                    db.close().await;
                }
            });
        })
        .join();
    }
}
