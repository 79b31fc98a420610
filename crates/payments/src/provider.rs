//! Payment providers (支付机构) and couriers (寄递企业) behind small interfaces, with the
//! built-in sandboxes: a loopback payment page that can succeed, fail or time out, and a
//! courier whose parcels move one state per click. A real gateway implements the same traits
//! (see docs/payments.md for the adapter shape).

use async_trait::async_trait;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::Db;

use crate::error::{PaymentError, Result};
use crate::model::*;

type HmacSha256 = Hmac<Sha256>;

/// A payment gateway.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Stable name, part of the callback URL (`/api/v1/payments/notify/{name}`).
    fn name(&self) -> &'static str;
    /// Where the payer is sent to pay `order`.
    fn checkout_url(&self, order: &Order) -> String;
    /// Check a notification's signature and read it. Anything unsigned or altered is refused.
    fn verify(&self, body: &[u8], signature: &str) -> Result<Notification>;
    /// Ask about an order whose notification did not come (查询).
    async fn query(&self, order_no: &str) -> Result<ProviderState>;
    /// Return `amount_fen` of a paid order (退款).
    async fn refund(&self, order_no: &str, amount_fen: i64) -> Result<()>;
    /// The provider's statement of a day (对账单).
    async fn statement(&self, day: NaiveDate) -> Result<Vec<StatementLine>>;
}

/// A courier.
#[async_trait]
pub trait Courier: Send + Sync {
    fn name(&self) -> &'static str;
    /// Place the shipment; returns the waybill number.
    async fn create(&self, s: &Shipment) -> Result<String>;
    /// Check a tracking notification's signature and read it.
    fn verify(&self, body: &[u8], signature: &str) -> Result<TrackingEvent>;
}

fn sign(key: &[u8], body: &[u8]) -> String {
    match HmacSha256::new_from_slice(key) {
        Ok(mut m) => {
            m.update(body);
            hex::encode(m.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn check(key: &[u8], body: &[u8], signature: &str) -> Result<()> {
    let sig = hex::decode(signature.trim()).map_err(|_| PaymentError::BadNotification("签名格式错误".into()))?;
    let mut m = HmacSha256::new_from_slice(key).map_err(|_| PaymentError::Config("签名密钥无效".into()))?;
    m.update(body);
    m.verify_slice(&sig).map_err(|_| PaymentError::BadNotification("签名不正确".into()))
}

/// What the payer chose on the sandbox page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxOutcome {
    /// Paid; the notification is sent at once.
    Succeed,
    /// Refused by the "bank"; a failure notification is sent.
    Fail,
    /// Paid, but the notification never arrives (the platform must ask).
    TimeOut,
}

impl SandboxOutcome {
    pub fn parse(s: &str) -> Option<SandboxOutcome> {
        match s {
            "succeed" => Some(SandboxOutcome::Succeed),
            "fail" => Some(SandboxOutcome::Fail),
            "timeout" => Some(SandboxOutcome::TimeOut),
            _ => None,
        }
    }
}

/// The sandbox payment provider: its own books in `sandbox_transactions`, HMAC-SHA256 signed
/// notifications.
pub struct SandboxPay {
    db: Db,
    key: Vec<u8>,
    public_url: String,
}

impl SandboxPay {
    pub fn new(db: Db, key: &[u8], public_url: &str) -> SandboxPay {
        SandboxPay { db, key: key.to_vec(), public_url: public_url.trim_end_matches('/').to_string() }
    }

    /// Sign a body as the sandbox does (tests forge with another key).
    pub fn sign(&self, body: &[u8]) -> String {
        sign(&self.key, body)
    }

    /// Record the payer's choice; returns the signed notification to deliver, if any.
    pub async fn pay(
        &self,
        order: &Order,
        outcome: SandboxOutcome,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(Vec<u8>, String)>> {
        let paid: Option<String> = sqlx::query_scalar("SELECT txn_id FROM sandbox_transactions WHERE order_no = $1 AND status = 'paid'")
            .bind(&order.order_no)
            .fetch_optional(self.db.reader())
            .await?;
        if paid.is_some() {
            return Err(PaymentError::WrongState("已支付"));
        }
        let txn_id = format!("SBX{}", uuid::Uuid::new_v4().simple());
        let status = if outcome == SandboxOutcome::Fail { "failed" } else { "paid" };
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO sandbox_transactions (txn_id, order_no, amount_fen, status, at, day) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&txn_id)
            .bind(&order.order_no)
            .bind(order.amount_fen)
            .bind(status)
            .bind(yiwang_store::timestamp_text(now))
            .bind(yiwang_cases::china_date(now).to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if outcome == SandboxOutcome::TimeOut {
            return Ok(None);
        }
        let n = Notification {
            notify_id: uuid::Uuid::new_v4().to_string(),
            order_no: order.order_no.clone(),
            txn_id,
            amount_fen: order.amount_fen,
            status: status.to_string(),
            timestamp: now.timestamp(),
        };
        let body = serde_json::to_vec(&n)?;
        let sig = self.sign(&body);
        Ok(Some((body, sig)))
    }
}

#[async_trait]
impl PaymentProvider for SandboxPay {
    fn name(&self) -> &'static str {
        "sandbox"
    }
    fn checkout_url(&self, order: &Order) -> String {
        format!("{}/sandbox/pay/{}", self.public_url, order.order_no)
    }
    fn verify(&self, body: &[u8], signature: &str) -> Result<Notification> {
        check(&self.key, body, signature)?;
        serde_json::from_slice(body).map_err(|e| PaymentError::BadNotification(format!("内容无法解析：{e}")))
    }
    async fn query(&self, order_no: &str) -> Result<ProviderState> {
        let row = sqlx::query("SELECT txn_id, amount_fen FROM sandbox_transactions WHERE order_no = $1 AND status = 'paid'")
            .bind(order_no)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(match row {
            Some(r) => ProviderState::Paid { txn_id: r.try_get("txn_id")?, amount_fen: r.try_get("amount_fen")? },
            None => ProviderState::NotPaid,
        })
    }
    async fn refund(&self, order_no: &str, amount_fen: i64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let n = sqlx::query(
            "UPDATE sandbox_transactions SET refunded_fen = refunded_fen + $1 WHERE order_no = $2 AND status = 'paid' AND refunded_fen + $1 <= amount_fen",
        )
        .bind(amount_fen)
        .bind(order_no)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if n != 1 {
            return Err(PaymentError::Provider(format!("订单{order_no}无可退款的交易")));
        }
        Ok(())
    }
    async fn statement(&self, day: NaiveDate) -> Result<Vec<StatementLine>> {
        let rows = sqlx::query(
            "SELECT txn_id, order_no, amount_fen, refunded_fen FROM sandbox_transactions WHERE day = $1 AND status = 'paid' ORDER BY at",
        )
        .bind(day.to_string())
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatementLine {
                    txn_id: r.try_get("txn_id")?,
                    order_no: r.try_get("order_no")?,
                    amount_fen: r.try_get("amount_fen")?,
                    refunded_fen: r.try_get("refunded_fen")?,
                })
            })
            .collect()
    }
}

/// The sandbox courier: waybills `SB` + ten digits; each click moves a parcel one state on.
pub struct SandboxCourier {
    key: Vec<u8>,
}

impl SandboxCourier {
    pub fn new(key: &[u8]) -> SandboxCourier {
        SandboxCourier { key: key.to_vec() }
    }

    /// The next tracking event of a shipment, signed; none once delivered.
    pub fn advance(&self, s: &Shipment, now: chrono::DateTime<chrono::Utc>) -> Option<(Vec<u8>, String)> {
        let waybill = s.waybill.clone()?;
        let next = s.status.next()?;
        let note = match next {
            ShipmentStatus::PickedUp => "快递员已揽收".to_string(),
            ShipmentStatus::InTransit => "已到达青山转运中心".to_string(),
            ShipmentStatus::OutForDelivery => "派送中，请保持电话畅通".to_string(),
            ShipmentStatus::Delivered => "已签收，签收人：本人".to_string(),
            other => other.label_zh().to_string(),
        };
        let e = TrackingEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            waybill,
            status: next,
            note,
            at: yiwang_store::timestamp_text(now),
            signer: (next == ShipmentStatus::Delivered).then(|| "本人".to_string()),
            timestamp: now.timestamp(),
        };
        let body = serde_json::to_vec(&e).ok()?;
        let sig = sign(&self.key, &body);
        Some((body, sig))
    }
}

#[async_trait]
impl Courier for SandboxCourier {
    fn name(&self) -> &'static str {
        "sandbox"
    }
    async fn create(&self, _s: &Shipment) -> Result<String> {
        let mut n = [0u8; 5];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut n);
        Ok(format!("SB{:010}", u64::from_be_bytes([0, 0, 0, n[0], n[1], n[2], n[3], n[4]]) % 10_000_000_000))
    }
    fn verify(&self, body: &[u8], signature: &str) -> Result<TrackingEvent> {
        check(&self.key, body, signature)?;
        serde_json::from_slice(body).map_err(|e| PaymentError::BadNotification(format!("内容无法解析：{e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signatures_check_body_and_key() {
        let c = SandboxCourier::new(b"k1");
        let body = br#"{"event_id":"e","waybill":"SB1","status":"picked_up","note":"n","at":"t","timestamp":1}"#;
        let sig = sign(b"k1", body);
        assert!(c.verify(body, &sig).is_ok());
        assert!(c.verify(body, &sign(b"k2", body)).is_err());
        assert!(c.verify(&body[1..], &sig).is_err());
        assert!(c.verify(body, "zz").is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_notifications_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200), sig in "[0-9a-f]{0,70}") {
            let c = SandboxCourier::new(b"k");
            let _ = c.verify(&body, &sig);
            let signed = sign(b"k", &body);
            // Correctly signed garbage is still refused as unreadable, not a panic.
            let _ = c.verify(&body, &signed);
        }
    }
}
