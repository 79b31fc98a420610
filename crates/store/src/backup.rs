//! Backup and restore (`yiwang backup` / `yiwang restore`).
//!
//! - SQLite: an online backup with `VACUUM INTO` (a consistent snapshot taken inside one read
//!   transaction while the server keeps running), checked with `PRAGMA integrity_check` before
//!   it is reported done. Restore checks the file the same way, keeps the current database
//!   beside it (`*.before-restore`) and moves the backup into place; the server must be stopped.
//! - PostgreSQL: `pg_dump --format=custom` of the platform's schema and `pg_restore --clean`,
//!   the standard tools, which must be on `PATH` (Debian: postgresql-client). See
//!   docs/security.md for the procedure and point-in-time recovery.
//!
//! The master key (`master.key`) is not in the database: back it up separately, or sealed seal
//! keys and encrypted personal data cannot be read after a restore.

use std::path::{Path, PathBuf};

use crate::{sqlite_file, ConnectOptions, Db, Dialect, StoreError};

/// What a backup or restore did.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub file: PathBuf,
    pub bytes: u64,
    /// Schema version in the backup.
    pub schema_version: i64,
}

/// Backup and restore failures.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("目标文件已存在：{0}")]
    Exists(String),
    #[error("备份文件不存在或不可读：{0}")]
    Missing(String),
    #[error("备份文件已损坏：{0}")]
    Corrupt(String),
    #[error("需要 {0}（PostgreSQL 客户端工具）在 PATH 中")]
    ToolMissing(&'static str),
    #[error("{0} 失败：{1}")]
    ToolFailed(&'static str, String),
    #[error("仅支持文件型 SQLite 数据库")]
    NotAFile,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("文件操作失败：{0}")]
    Io(#[from] std::io::Error),
}

/// Back the database up to `to` (which must not exist).
pub async fn backup(db: &Db, opts: &ConnectOptions, to: &Path) -> Result<BackupReport, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(to.display().to_string()));
    }
    match db.dialect() {
        Dialect::Sqlite => {
            let target = to.to_string_lossy().to_string();
            sqlx::query("VACUUM INTO $1").bind(target).execute(db.reader()).await.map_err(StoreError::from)?;
            let schema_version = check_sqlite(to).await?;
            Ok(BackupReport { file: to.to_path_buf(), bytes: std::fs::metadata(to)?.len(), schema_version })
        }
        Dialect::Postgres => {
            let mut cmd = std::process::Command::new("pg_dump");
            cmd.args(["--format=custom", "--no-owner", "--file"]).arg(to);
            if let Some(s) = &opts.schema {
                cmd.args(["--schema", s]);
            }
            cmd.arg(pg_url(&opts.url));
            run(cmd, "pg_dump")?;
            let schema_version = crate::current_version(db).await?;
            Ok(BackupReport { file: to.to_path_buf(), bytes: std::fs::metadata(to)?.len(), schema_version })
        }
    }
}

/// Replace the database with the backup in `from`. The server must be stopped.
pub async fn restore(opts: &ConnectOptions, from: &Path) -> Result<BackupReport, BackupError> {
    if !from.is_file() {
        return Err(BackupError::Missing(from.display().to_string()));
    }
    if opts.url.starts_with("sqlite:") {
        let schema_version = check_sqlite(from).await?;
        let target = PathBuf::from(sqlite_file(&opts.url).ok_or(BackupError::NotAFile)?);
        // Copy beside the target first so that the final step is one rename on one file system.
        let staging = with_suffix(&target, ".restoring");
        std::fs::copy(from, &staging)?;
        std::fs::File::open(&staging)?.sync_all()?;
        if target.exists() {
            std::fs::rename(&target, with_suffix(&target, ".before-restore"))?;
        }
        for side in ["-wal", "-shm"] {
            let p = with_suffix(&target, side);
            if p.exists() {
                std::fs::remove_file(p)?;
            }
        }
        std::fs::rename(&staging, &target)?;
        Ok(BackupReport { file: target.clone(), bytes: std::fs::metadata(&target)?.len(), schema_version })
    } else {
        let mut cmd = std::process::Command::new("pg_restore");
        cmd.args(["--clean", "--if-exists", "--no-owner", "--single-transaction", "--dbname"]).arg(pg_url(&opts.url)).arg(from);
        run(cmd, "pg_restore")?;
        let db = Db::connect(opts).await?;
        let schema_version = crate::current_version(&db).await?;
        db.close().await;
        Ok(BackupReport { file: from.to_path_buf(), bytes: std::fs::metadata(from)?.len(), schema_version })
    }
}

/// Open a SQLite file read-only, check its integrity and read its schema version.
async fn check_sqlite(path: &Path) -> Result<i64, BackupError> {
    use sqlx::Connection;
    let corrupt = |e: sqlx::Error| BackupError::Corrupt(e.to_string());
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.map_err(corrupt)?;
    let (ok,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&mut conn).await.map_err(corrupt)?;
    let (version,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM yiwang_migrations").fetch_one(&mut conn).await.map_err(corrupt)?;
    conn.close().await.map_err(corrupt)?;
    if ok == "ok" && version > 0 {
        Ok(version)
    } else {
        Err(BackupError::Corrupt(format!("integrity_check: {ok}, schema version {version}")))
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// libpq does not know sqlx's extra URL parameters; keep the connection part.
fn pg_url(url: &str) -> String {
    url.split('?').next().unwrap_or(url).replacen("postgresql://", "postgres://", 1)
}

fn run(mut cmd: std::process::Command, tool: &'static str) -> Result<(), BackupError> {
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BackupError::ToolMissing(tool),
        _ => BackupError::Io(e),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackupError::ToolFailed(tool, String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(with_suffix(Path::new("data/y.db"), "-wal"), PathBuf::from("data/y.db-wal"));
        assert_eq!(pg_url("postgresql://u@h:5432/db?sslmode=disable"), "postgres://u@h:5432/db");
    }
}
