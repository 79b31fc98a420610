//! 站内消息 in-app inbox: one row per message to a person account, written in the same
//! transaction as the change it reports.

use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, Db, StoreError, Tx};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InboxMessage {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// Post a message inside the caller's transaction.
pub async fn post(tx: &mut Tx, account: &str, title: &str, body: &str, link: Option<&str>) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO inbox (account, title, body, link, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(account)
        .bind(title)
        .bind(body)
        .bind(link)
        .bind(now_text())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Newest first.
pub async fn list(db: &Db, account: &str, limit: i64) -> Result<Vec<InboxMessage>, StoreError> {
    let rows = sqlx::query("SELECT id, title, body, link, created_at, read_at FROM inbox WHERE account = $1 ORDER BY id DESC LIMIT $2")
        .bind(account)
        .bind(limit)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(InboxMessage {
                id: r.try_get("id")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                link: r.try_get("link")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

pub async fn unread(db: &Db, account: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE account = $1 AND read_at IS NULL").bind(account).fetch_one(db.reader()).await?)
}

/// Mark all of an account's messages read (only its own).
pub async fn mark_all_read(db: &Db, account: &str) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE inbox SET read_at = $1 WHERE account = $2 AND read_at IS NULL")
        .bind(now_text())
        .bind(account)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}
