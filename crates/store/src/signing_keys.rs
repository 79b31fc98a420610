//! The platform's own signing keys (ledger tree heads, gateway access records): one table shape
//! (`key_id, algorithm, public_key, private_key, created_at, retired_at`) per use, the private
//! half sealed by the caller's vault before it gets here.

use sqlx::{AnyConnection, Row as _};

use crate::Result;

/// A key row; `private_key` is the sealed private half.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub key_id: String,
    pub algorithm: String,
    pub public_key: String,
    pub private_key: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// Every key of `table` (a table of the shape above), oldest first.
pub async fn all(c: &mut AnyConnection, table: &'static str) -> Result<Vec<StoredKey>> {
    let sql = format!("SELECT key_id, algorithm, public_key, private_key, created_at, retired_at FROM {table} ORDER BY created_at, key_id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
    rows.iter()
        .map(|r| {
            Ok(StoredKey {
                key_id: r.try_get("key_id")?,
                algorithm: r.try_get("algorithm")?,
                public_key: r.try_get("public_key")?,
                private_key: r.try_get("private_key")?,
                created_at: r.try_get("created_at")?,
                retired_at: r.try_get("retired_at")?,
            })
        })
        .collect()
}

/// Add a key to `table`.
pub async fn insert(c: &mut AnyConnection, table: &'static str, k: &StoredKey) -> Result<()> {
    let sql = format!("INSERT INTO {table} (key_id, algorithm, public_key, private_key, created_at) VALUES ($1, $2, $3, $4, $5)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&k.key_id)
        .bind(&k.algorithm)
        .bind(&k.public_key)
        .bind(&k.private_key)
        .bind(&k.created_at)
        .execute(&mut *c)
        .await?;
    Ok(())
}
