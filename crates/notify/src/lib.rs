//! Notifications (消息通知): messages are written to an outbox in the same transaction as the
//! change that causes them, so a committed change always has its message and a rolled-back one
//! never does. A delivery loop hands pending messages to the configured channel.
//!
//! Channels: `log` (the demo default), SMTP email and an SMS/WeChat webhook ([`senders`]); the
//! in-app inbox ([`inbox`]) is written directly in the same transaction.

pub mod inbox;
pub mod senders;

use std::sync::Arc;

pub use yiwang_crypto::Sealer;
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, Db, StoreError, Tx};

/// Outgoing messages (SMS, e-mail) keep their phone number or address and their body sealed at
/// rest (a reset link is in a body); `recipient` then holds the address's blind index, so
/// look-ups by address still work. In-app messages name an opaque account and stay readable.
const RECIPIENT: &str = "outbox.recipient";
const BODY: &str = "outbox.body";

fn sealing(e: yiwang_crypto::CryptoError) -> StoreError {
    StoreError::PersonalData(e.to_string())
}

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
pub async fn enqueue(tx: &mut Tx, sealer: &Sealer, m: &Message) -> Result<(), StoreError> {
    enqueue_all(tx, sealer, std::slice::from_ref(m)).await
}

/// Put several messages in the outbox with one statement (a change's inbox, SMS and email
/// notices together). In-app messages are delivered by being written; the recipients and
/// bodies of the others are sealed with `sealer`.
pub async fn enqueue_all(tx: &mut Tx, sealer: &Sealer, messages: &[Message]) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO outbox (channel, recipient, recipient_enc, subject, body, link, created_at, sent_at) VALUES {}",
        yiwang_store::value_rows(yiwang_store::Dialect::of(tx), messages.len(), 8)
    );
    let now = now_text();
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for m in messages {
        let sent = (m.channel == Channel::Inbox).then(|| now.clone());
        let (recipient, recipient_enc, body) = stored_form(sealer, m.channel.key(), &m.recipient, &m.body)?;
        q = q.bind(m.channel.key()).bind(recipient).bind(recipient_enc).bind(&m.subject).bind(body).bind(&m.link).bind(&now).bind(sent);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// What the outbox stores for a message: recipient (the blind index when sealing), the sealed
/// recipient, the body.
fn stored_form(sealer: &Sealer, channel: &str, recipient: &str, body: &str) -> Result<(String, Option<String>, String), StoreError> {
    match sealer.index(RECIPIENT, recipient) {
        Some(index) if channel != Channel::Inbox.key() => Ok((
            index,
            Some(sealer.seal(RECIPIENT, channel, recipient).map_err(sealing)?),
            sealer.seal(BODY, channel, body).map_err(sealing)?,
        )),
        _ => Ok((recipient.to_string(), None, body.to_string())),
    }
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
        tracing::info!(channel = %m.channel, recipient = %masked_recipient(&m.recipient), subject = %m.subject, body = %m.body, "notification");
        Ok(())
    }
}

/// A recipient as logs may show it: phones as `138****8000`, e-mail addresses as `z***@host`;
/// account handles (inbox) are opaque already.
pub fn masked_recipient(recipient: &str) -> String {
    if let Some((local, host)) = recipient.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{host}");
    }
    if recipient.len() >= 7 && recipient.chars().all(|c| c.is_ascii_digit() || c == '+') {
        return yiwang_core::mask::mask_phone(recipient);
    }
    recipient.to_string()
}

/// The outbox reader and deliverer.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
    sealer: Sealer,
}

const COLUMNS: &str = "id, channel, recipient, recipient_enc, subject, body, created_at, sent_at";

impl Outbox {
    /// The outbox of `db`; `sealer` opens what [`enqueue_all`] sealed.
    pub fn new(db: Db, sealer: Sealer) -> Outbox {
        Outbox { db, sealer }
    }

    fn queued(&self, r: &yiwang_store::Row) -> Result<Queued, StoreError> {
        let channel: String = r.try_get("channel")?;
        let recipient = match r.try_get::<Option<String>, _>("recipient_enc")? {
            Some(sealed) => self.sealer.open(RECIPIENT, &channel, sealed).map_err(sealing)?,
            None => r.try_get("recipient")?,
        };
        let body = self.sealer.open(BODY, &channel, r.try_get("body")?).map_err(sealing)?;
        Ok(Queued {
            id: r.try_get("id")?,
            recipient,
            subject: r.try_get("subject")?,
            body,
            created_at: r.try_get("created_at")?,
            sent_at: r.try_get("sent_at")?,
            channel,
        })
    }

    /// Messages for one recipient (account, phone number or address), newest first.
    pub async fn for_recipient(&self, recipient: &str, limit: i64) -> Result<Vec<Queued>, StoreError> {
        let index = self.sealer.index(RECIPIENT, recipient).unwrap_or_else(|| recipient.to_string());
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE recipient = $1 OR recipient = $2 ORDER BY id DESC LIMIT $3"
        )))
        .bind(recipient)
        .bind(index)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(|r| self.queued(r)).collect()
    }

    /// Seal the recipients and bodies of outgoing messages stored before encryption at rest
    /// (start-up). Returns how many messages.
    pub async fn protect_personal_data(&self) -> Result<u64, StoreError> {
        if !self.sealer.enabled() {
            return Ok(0);
        }
        let rows = sqlx::query("SELECT id, channel, recipient, body FROM outbox WHERE channel <> 'inbox' AND recipient_enc IS NULL")
            .fetch_all(self.db.reader())
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        for r in &rows {
            let (id, channel): (i64, String) = (r.try_get("id")?, r.try_get("channel")?);
            let (recipient, enc, body) =
                stored_form(&self.sealer, &channel, &r.try_get::<String, _>("recipient")?, &r.try_get::<String, _>("body")?)?;
            sqlx::query("UPDATE outbox SET recipient = $1, recipient_enc = $2, body = $3 WHERE id = $4 AND recipient_enc IS NULL")
                .bind(recipient)
                .bind(enc)
                .bind(body)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
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
            let m = self.queued(r)?;
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

    #[test]
    fn logs_show_recipients_masked() {
        assert_eq!(masked_recipient("13800138000"), "138****8000");
        assert_eq!(masked_recipient("zhangsan@example.cn"), "z***@example.cn");
        assert_eq!(masked_recipient("person:3f2a"), "person:3f2a");
    }

    struct Failing;
    impl Sender for Failing {
        fn send(&self, _: &Queued) -> Result<(), String> {
            Err("gateway down".into())
        }
    }

    #[tokio::test]
    async fn outbox_is_transactional_and_delivers_on_both_backends() {
        for t in yiwang_store::testing::TestDb::each().await.unwrap() {
            let sealer = Sealer::new(std::sync::Arc::new(yiwang_crypto::PersonalData::ephemeral()));
            let outbox = Outbox::new(t.db.clone(), sealer.clone());
            let m = Message { channel: Channel::Sms, recipient: "13800138000".into(), subject: "s".into(), body: "b".into(), link: None };
            let mut tx = t.db.begin().await.unwrap();
            enqueue(&mut tx, &sealer, &m).await.unwrap();
            tx.rollback().await.unwrap();
            assert!(outbox.for_recipient("13800138000", 10).await.unwrap().is_empty(), "rolled back, no message");
            let mut tx = t.db.begin().await.unwrap();
            enqueue(&mut tx, &sealer, &m).await.unwrap();
            tx.commit().await.unwrap();
            // At rest: neither the number nor the body in the clear.
            let (recipient, enc, body): (String, Option<String>, String) =
                sqlx::query_as("SELECT recipient, recipient_enc, body FROM outbox").fetch_one(t.db.reader()).await.unwrap();
            assert!(recipient.starts_with("bi1:") && !enc.as_deref().unwrap_or("13800138000").contains("138001") && body != "b");
            assert_eq!(outbox.deliver(Arc::new(Failing), 10).await.unwrap(), 0);
            assert_eq!(outbox.deliver(Arc::new(LogSender), 10).await.unwrap(), 1);
            assert_eq!(outbox.deliver(Arc::new(LogSender), 10).await.unwrap(), 0);
            let got = outbox.for_recipient("13800138000", 10).await.unwrap();
            assert!(got[0].sent_at.is_some());
            assert_eq!((got[0].recipient.as_str(), got[0].body.as_str()), ("13800138000", "b"), "opened for delivery");
        }
    }

    #[tokio::test]
    async fn messages_stored_before_encryption_are_sealed_at_start_up() {
        for t in yiwang_store::testing::TestDb::each().await.unwrap() {
            let m =
                Message { channel: Channel::Email, recipient: "li@example.cn".into(), subject: "s".into(), body: "b".into(), link: None };
            let inbox = inbox::message("acct-1", "t", "b", None);
            let mut tx = t.db.begin().await.unwrap();
            enqueue_all(&mut tx, &Sealer::default(), &[m, inbox]).await.unwrap();
            tx.commit().await.unwrap();
            let sealer = Sealer::new(std::sync::Arc::new(yiwang_crypto::PersonalData::ephemeral()));
            let outbox = Outbox::new(t.db.clone(), sealer);
            assert_eq!(outbox.protect_personal_data().await.unwrap(), 1, "only the e-mail");
            assert_eq!(outbox.protect_personal_data().await.unwrap(), 0, "once");
            let clear: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE recipient LIKE '%example.cn%'")
                .fetch_one(t.db.reader())
                .await
                .unwrap();
            assert_eq!(clear, 0);
            assert_eq!(outbox.for_recipient("li@example.cn", 5).await.unwrap()[0].recipient, "li@example.cn");
            assert_eq!(inbox::list(&t.db, "acct-1", 5).await.unwrap().len(), 1, "inbox untouched");
        }
    }
}
