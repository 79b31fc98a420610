//! Notifications (消息通知): messages are written to an outbox in the same transaction as the
//! change that causes them, so a committed change always has its message and a rolled-back one
//! never does. A delivery loop hands pending messages to the configured channel.
//!
//! Channels: `log` (the demo default), SMTP email and an SMS/WeChat webhook ([`senders`]); the
//! in-app inbox ([`inbox`]) is written directly in the same transaction.

pub mod inbox;
pub mod senders;

use std::sync::Arc;

use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, Db, StoreError, Tx};

/// 通知渠道 a delivery channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
    /// 站内消息: delivered the moment it is written.
    Inbox,
}

impl Channel {
    pub fn key(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Inbox => "inbox",
        }
    }
}

/// A message to one recipient.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Message {
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Where the message points (in-app messages link to the case).
    pub link: Option<String>,
}

/// A message as stored in the outbox.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Queued {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// Put a message in the outbox inside the caller's transaction.
pub async fn enqueue(tx: &mut Tx, m: &Message) -> Result<(), StoreError> {
    enqueue_all(tx, std::slice::from_ref(m)).await
}

/// Put several messages in the outbox with one statement (a change's inbox, SMS and email
/// notices together). In-app messages are delivered by being written.
pub async fn enqueue_all(tx: &mut Tx, messages: &[Message]) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..messages.len())
        .map(|i| {
            let b = i * 7;
            format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7)
        })
        .collect();
    let sql = format!("INSERT INTO outbox (channel, recipient, subject, body, link, created_at, sent_at) VALUES {}", rows.join(", "));
    let now = now_text();
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for m in messages {
        let sent = (m.channel == Channel::Inbox).then(|| now.clone());
        q = q.bind(m.channel.key()).bind(&m.recipient).bind(&m.subject).bind(&m.body).bind(&m.link).bind(&now).bind(sent);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Something that can deliver a message (SMS gateway, SMTP relay, log).
pub trait Sender: Send + Sync {
    fn send(&self, m: &Queued) -> Result<(), String>;
}

/// Writes messages to the service log. Suitable for development and the demo only: message
/// bodies may contain one-time links.
pub struct LogSender;

impl Sender for LogSender {
    fn send(&self, m: &Queued) -> Result<(), String> {
        tracing::info!(channel = %m.channel, recipient = %m.recipient, subject = %m.subject, body = %m.body, "notification");
        Ok(())
    }
}

/// The outbox reader and deliverer.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
}

fn queued(r: &yiwang_store::Row) -> Result<Queued, sqlx::Error> {
    Ok(Queued {
        id: r.try_get("id")?,
        channel: r.try_get("channel")?,
        recipient: r.try_get("recipient")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}

const COLUMNS: &str = "id, channel, recipient, subject, body, created_at, sent_at";

impl Outbox {
    pub fn new(db: Db) -> Outbox {
        Outbox { db }
    }

    /// Messages for one recipient, newest first.
    pub async fn for_recipient(&self, recipient: &str, limit: i64) -> Result<Vec<Queued>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT $2")))
            .bind(recipient)
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows.iter().map(queued).collect::<Result<_, _>>()?)
    }

    /// Deliver up to `batch` pending messages; returns how many were sent. A failed message
    /// stays pending with its error and is retried on the next run (up to 10 attempts).
    pub async fn deliver(&self, sender: Arc<dyn Sender>, batch: i64) -> Result<usize, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND attempts < 10 ORDER BY id LIMIT $1"
        )))
        .bind(batch)
        .fetch_all(self.db.reader())
        .await?;
        let mut sent = 0;
        for r in &rows {
            let m = queued(r)?;
            // Gateways block on the network: keep them off the async worker threads.
            let (s, msg) = (sender.clone(), m.clone());
            let result = tokio::task::spawn_blocking(move || s.send(&msg)).await.unwrap_or_else(|e| Err(format!("发送任务失败：{e}")));
            let mut tx = self.db.begin().await?;
            match &result {
                Ok(()) => {
                    // Only the first deliverer to claim a message marks it; others skip it.
                    sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE id = $2 AND sent_at IS NULL")
                        .bind(now_text())
                        .bind(m.id)
                        .execute(&mut *tx)
                        .await?;
                    sent += 1;
                }
                Err(e) => {
                    sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
                        .bind(e)
                        .bind(m.id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;
    impl Sender for Failing {
        fn send(&self, _: &Queued) -> Result<(), String> {
            Err("gateway down".into())
        }
    }

    #[tokio::test]
    async fn outbox_is_transactional_and_delivers_on_both_backends() {
        for t in yiwang_store::testing::TestDb::each().await.unwrap() {
            let outbox = Outbox::new(t.db.clone());
            let m = Message { channel: Channel::Sms, recipient: "13800138000".into(), subject: "s".into(), body: "b".into(), link: None };
            let mut tx = t.db.begin().await.unwrap();
            enqueue(&mut tx, &m).await.unwrap();
            tx.rollback().await.unwrap();
            assert!(outbox.for_recipient("13800138000", 10).await.unwrap().is_empty(), "rolled back, no message");
            let mut tx = t.db.begin().await.unwrap();
            enqueue(&mut tx, &m).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(outbox.deliver(Arc::new(Failing), 10).await.unwrap(), 0);
            assert_eq!(outbox.deliver(Arc::new(LogSender), 10).await.unwrap(), 1);
            assert_eq!(outbox.deliver(Arc::new(LogSender), 10).await.unwrap(), 0);
            let got = outbox.for_recipient("13800138000", 10).await.unwrap();
            assert!(got[0].sent_at.is_some());
        }
    }
}
