//! 站内消息 in-app inbox: outbox rows of channel `inbox` for a person account, written in the
//! same transaction as the change they report and delivered by being written.

use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, Db, StoreError, Tx};

use crate::{Channel, Message};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InboxMessage {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// The in-app message for an account, to write with [`crate::enqueue_all`] (in-app messages
/// are never sealed: they name an opaque account).
pub fn message(account: &str, title: &str, body: &str, link: Option<&str>) -> Message {
    Message { channel: Channel::Inbox, recipient: account.into(), subject: title.into(), body: body.into(), link: link.map(String::from) }
}

/// Post a message inside the caller's transaction.
pub async fn post(tx: &mut Tx, account: &str, title: &str, body: &str, link: Option<&str>) -> Result<(), StoreError> {
    crate::enqueue(tx, &crate::Sealer::default(), &message(account, title, body, link)).await
}

/// Newest first.
pub async fn list(db: &Db, account: &str, limit: i64) -> Result<Vec<InboxMessage>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, subject, body, link, created_at, read_at FROM outbox WHERE recipient = $1 AND channel = 'inbox' ORDER BY id DESC LIMIT $2",
    )
    .bind(account)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(InboxMessage {
                id: r.try_get("id")?,
                title: r.try_get("subject")?,
                body: r.try_get("body")?,
                link: r.try_get("link")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Mark all of an account's messages read (only its own).
pub async fn mark_all_read(db: &Db, account: &str) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE outbox SET read_at = $1 WHERE recipient = $2 AND channel = 'inbox' AND read_at IS NULL")
        .bind(now_text())
        .bind(account)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}
