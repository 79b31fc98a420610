//! Unified payment and delivery (统一支付 · 快递送达): "网上办、快递送".
//!
//! - A case of an item paid online waits in 待缴费 after acceptance; the [`Desk`] (the case
//!   module's payment desk) opens its order in the acceptance's own transaction.
//! - The payer pays at the provider ([`provider`]); the provider's signed notification is
//!   verified, deduplicated and applied once, and the case starts. A notification that never
//!   comes is replaced by asking the provider (query on timeout). Orders of refused cases are
//!   refunded; daily reconciliation compares orders with the provider's statement.
//! - Results by courier: the conclusion opens a shipment; the courier's signed tracking
//!   notifications move it forward and appear on the case timeline; delivery closes the case.
//!
//! Money is integer fen everywhere.

mod error;
pub mod model;
pub mod provider;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use yiwang_cases::{Case, CaseStatus, Cases, ConclusionHook, Delivery, Outcome, PaymentDesk};
use yiwang_catalog::Catalog;
use yiwang_identity::{Role, Staff};
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{timestamp_text, Db, Row, Tx, TxFuture};

pub use error::{PaymentError, Result};
pub use model::*;
pub use provider::{Courier, PaymentProvider, SandboxCourier, SandboxOutcome, SandboxPay};

use crate::error::invalid;

/// Tunables.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// How long an order may be paid.
    pub order_valid_hours: i64,
    /// Ask the provider about an unpaid order after this long without a notification.
    pub query_after_secs: i64,
    /// Notifications older (or newer) than this are refused as replays.
    pub notify_tolerance_secs: i64,
    /// Seals shipments' recipient, phone and address at rest.
    pub personal_data: yiwang_crypto::Sealer,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings { order_valid_hours: 72, query_after_secs: 60, notify_tolerance_secs: 600, personal_data: Default::default() }
    }
}

const ORDER_COLUMNS: &str = "order_no, case_id, case_number, title, department_code, department_name, payer, amount_fen, items, status,
    provider, provider_txn, created_at, expires_at, paid_at, refunded_fen, refund_reason";

fn order_from(r: &Row) -> Result<Order> {
    let status: String = r.try_get("status")?;
    let items: String = r.try_get("items")?;
    Ok(Order {
        order_no: r.try_get("order_no")?,
        case_id: r.try_get("case_id")?,
        case_number: r.try_get("case_number")?,
        title: r.try_get("title")?,
        department_code: r.try_get("department_code")?,
        department_name: r.try_get("department_name")?,
        payer: r.try_get("payer")?,
        amount_fen: r.try_get("amount_fen")?,
        items: serde_json::from_str(&items)?,
        status: OrderStatus::parse(&status).ok_or_else(|| PaymentError::Config(format!("订单状态无效：{status}")))?,
        provider: r.try_get("provider")?,
        provider_txn: r.try_get("provider_txn")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        paid_at: r.try_get("paid_at")?,
        refunded_fen: r.try_get("refunded_fen")?,
        refund_reason: r.try_get("refund_reason")?,
    })
}

async fn order_event(
    tx: &mut Tx,
    order_no: &str,
    at: &str,
    kind: &str,
    amount: Option<i64>,
    detail: &str,
    actor: Option<&str>,
) -> Result<()> {
    sqlx::query("INSERT INTO payment_events (order_no, at, kind, amount_fen, detail, actor) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(order_no)
        .bind(at)
        .bind(kind)
        .bind(amount)
        .bind(detail)
        .bind(actor)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The case module's payment desk and conclusion hook: opens orders at acceptance, marks
/// refunds and opens shipments at conclusion, all inside the case's own transaction.
pub struct Desk {
    catalog: Arc<Catalog>,
    provider: String,
    courier: String,
    settings: PaymentSettings,
}

impl Desk {
    pub fn new(catalog: Arc<Catalog>, provider: &str, courier: &str, settings: PaymentSettings) -> Desk {
        Desk { catalog, provider: provider.to_string(), courier: courier.to_string(), settings }
    }

    async fn open_order(&self, tx: &mut Tx, case: &Case, amount_fen: i64) -> Result<()> {
        // The fee lines as published, when they add up to what is due.
        let mut lines = Vec::new();
        for b in &case.branches {
            if let Ok(item) = self.catalog.item_public(&b.item_code).await {
                for f in item.doc.fees.iter().filter(|f| !f.is_optional() && f.amount_fen > 0) {
                    lines.push(FeeLine { name: f.name.clone(), basis: f.basis.clone(), amount_fen: f.amount_fen });
                }
            }
        }
        if lines.iter().map(|l| l.amount_fen).sum::<i64>() != amount_fen {
            lines = vec![FeeLine { name: "办理费用".into(), basis: String::new(), amount_fen }];
        }
        let at = case.updated_at.clone();
        let order_no =
            format!("YW{}{}", case_time(case).format("%Y%m%d%H%M%S"), &uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase());
        let expires = timestamp_text(case_time(case) + Duration::hours(self.settings.order_valid_hours));
        sqlx::query(
            "INSERT INTO payment_orders (order_no, case_id, case_number, title, department_code, department_name, payer, amount_fen, items,
                status, provider, created_at, expires_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $12, $11)",
        )
        .bind(&order_no)
        .bind(&case.case_id)
        .bind(case.case_number.clone().unwrap_or_default())
        .bind(&case.title)
        .bind(&case.lead_department)
        .bind(&case.lead_department_name)
        .bind(&case.owner)
        .bind(amount_fen)
        .bind(serde_json::to_string(&lines)?)
        .bind(&self.provider)
        .bind(&at)
        .bind(&expires)
        .execute(&mut **tx)
        .await?;
        order_event(tx, &order_no, &at, "created", Some(amount_fen), "受理后生成缴费订单", None).await
    }

    async fn concluded(&self, tx: &mut Tx, case: &Case) -> Result<()> {
        let at = case.updated_at.clone();
        if case.outcome == Some(Outcome::Rejected) {
            let orders: Vec<String> = sqlx::query_scalar("SELECT order_no FROM payment_orders WHERE case_id = $1 AND status = 'paid'")
                .bind(&case.case_id)
                .fetch_all(&mut **tx)
                .await?;
            for o in orders {
                sqlx::query("UPDATE payment_orders SET status = 'refunding', refund_reason = $1, updated_at = $2 WHERE order_no = $3")
                    .bind("不予许可，全额退还已缴费用")
                    .bind(&at)
                    .bind(&o)
                    .execute(&mut **tx)
                    .await?;
                order_event(tx, &o, &at, "refund_requested", None, "不予许可，全额退款", None).await?;
            }
        }
        if case.delivery == Delivery::Courier {
            let seal = &self.settings.personal_data;
            sqlx::query(
                "INSERT INTO shipments (shipment_id, case_id, carrier, recipient, phone, address, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) ON CONFLICT (case_id) DO NOTHING",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&case.case_id)
            .bind(&self.courier)
            .bind(seal.seal("shipments.recipient", &case.case_id, &case.applicant_name)?)
            .bind(seal.seal("shipments.phone", &case.case_id, case.contact_phone.as_deref().unwrap_or_default())?)
            .bind(seal.seal("shipments.address", &case.case_id, case.delivery_address.as_deref().unwrap_or_default())?)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

/// The moment a case change happened.
fn case_time(case: &Case) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&case.updated_at).map(|t| t.with_timezone(&Utc)).unwrap_or_else(|_| Utc::now())
}

fn case_err(e: PaymentError) -> yiwang_cases::CaseError {
    match e {
        PaymentError::Store(s) => yiwang_cases::CaseError::Store(s),
        other => yiwang_cases::CaseError::Config(other.to_string()),
    }
}

impl PaymentDesk for Desk {
    fn payment_due<'a>(&'a self, tx: &'a mut Tx, case: &'a Case, amount_fen: i64) -> TxFuture<'a, yiwang_cases::Result<()>> {
        Box::pin(async move { self.open_order(tx, case, amount_fen).await.map_err(case_err) })
    }
}

impl ConclusionHook for Desk {
    fn on_concluded<'a>(&'a self, tx: &'a mut Tx, case: &'a Case) -> TxFuture<'a, yiwang_cases::Result<()>> {
        Box::pin(async move { self.concluded(tx, case).await.map_err(case_err) })
    }
}

/// What a notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The order is now paid (and the case started).
    Paid,
    /// Seen before, or the order was already paid: nothing changed.
    Duplicate,
    /// The payer's bank refused; the order stays open.
    Failed,
}

/// The payment and delivery service.
#[derive(Clone)]
pub struct Payments {
    db: Db,
    cases: Cases,
    provider: Arc<dyn PaymentProvider>,
    courier: Arc<dyn Courier>,
    sandbox: Option<Arc<SandboxPay>>,
    sandbox_courier: Option<Arc<SandboxCourier>>,
    settings: PaymentSettings,
}

/// Who sees every department's orders and the reconciliation (finance and supervision).
pub fn sees_all(staff: &Staff) -> bool {
    staff.roles.iter().any(|r| matches!(r, Role::PlatformAdmin | Role::Supervisor))
}

impl Payments {
    pub fn new(db: Db, cases: Cases, provider: Arc<dyn PaymentProvider>, courier: Arc<dyn Courier>, settings: PaymentSettings) -> Payments {
        Payments { db, cases, provider, courier, sandbox: None, sandbox_courier: None, settings }
    }

    /// Serve the sandbox pages for these sandboxes (they must be the provider and courier).
    pub fn with_sandboxes(mut self, pay: Arc<SandboxPay>, courier: Arc<SandboxCourier>) -> Payments {
        self.sandbox = Some(pay);
        self.sandbox_courier = Some(courier);
        self
    }

    pub fn provider(&self) -> &dyn PaymentProvider {
        self.provider.as_ref()
    }
    pub fn has_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }
    fn now(&self) -> DateTime<Utc> {
        self.cases.now()
    }

    async fn load(&self, order_no: &str) -> Result<Order> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM payment_orders WHERE order_no = $1")))
            .bind(order_no)
            .fetch_optional(self.db.reader())
            .await?
            .ok_or_else(|| PaymentError::NotFound(format!("订单 {order_no}")))?;
        order_from(&row)
    }

    /// The order of a case (no viewer check; callers authorize).
    pub async fn order_of_case(&self, case_id: &str) -> Result<Option<Order>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM payment_orders WHERE case_id = $1")))
            .bind(case_id)
            .fetch_optional(self.db.reader())
            .await?;
        row.as_ref().map(order_from).transpose()
    }

    /// An order for its payer (others' are "not found").
    pub async fn order_for_payer(&self, payer: &str, order_no: &str) -> Result<Order> {
        let o = self.load(order_no).await?;
        if o.payer != payer {
            return Err(PaymentError::NotFound(format!("订单 {order_no}")));
        }
        Ok(o)
    }

    pub async fn order_events(&self, order_no: &str) -> Result<Vec<OrderEvent>> {
        let rows = sqlx::query("SELECT at, kind, amount_fen, detail FROM payment_events WHERE order_no = $1 ORDER BY id")
            .bind(order_no)
            .fetch_all(self.db.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OrderEvent {
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    amount_fen: r.try_get("amount_fen")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Where the payer goes to pay (a lapsed order of a case still waiting is renewed).
    pub async fn checkout(&self, payer: &str, order_no: &str) -> Result<String> {
        let mut o = self.order_for_payer(payer, order_no).await?;
        let now = self.now();
        let lapsed = o.status == OrderStatus::Expired || (o.status == OrderStatus::Pending && o.expires_at < timestamp_text(now));
        if lapsed {
            let case = self.cases.case_for_platform(&o.case_id).await?;
            if case.status != CaseStatus::AwaitingPayment {
                return Err(PaymentError::WrongState(o.status.label_zh()));
            }
            let expires = timestamp_text(now + Duration::hours(self.settings.order_valid_hours));
            let mut tx = self.db.begin().await?;
            sqlx::query("UPDATE payment_orders SET status = 'pending', expires_at = $1, updated_at = $2 WHERE order_no = $3 AND status IN ('pending', 'expired')")
                .bind(&expires)
                .bind(timestamp_text(now))
                .bind(order_no)
                .execute(&mut *tx)
                .await?;
            order_event(&mut tx, order_no, &timestamp_text(now), "renewed", None, "订单已过期，重新开放支付", None).await?;
            tx.commit().await?;
            o = self.load(order_no).await?;
        }
        if o.status != OrderStatus::Pending {
            return Err(PaymentError::WrongState(o.status.label_zh()));
        }
        Ok(self.provider.checkout_url(&o))
    }

    /// A provider's notification (`/api/v1/payments/notify/{provider}`): verified, checked for
    /// freshness and replays, applied once.
    pub async fn notify(&self, provider: &str, body: &[u8], signature: &str) -> Result<Applied> {
        if provider != self.provider.name() {
            return Err(PaymentError::NotFound(format!("支付机构 {provider}")));
        }
        let n = self.provider.verify(body, signature)?;
        let now = self.now();
        if (now.timestamp() - n.timestamp).abs() > self.settings.notify_tolerance_secs {
            return Err(PaymentError::BadNotification("通知已过期".into()));
        }
        let order = self.load(&n.order_no).await?;
        if n.amount_fen != order.amount_fen {
            return Err(PaymentError::BadNotification(format!("金额{}与订单{}不符", n.amount_fen, order.amount_fen)));
        }
        let mut tx = self.db.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO payment_notifications (provider, notify_id, order_no, received_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider, notify_id) DO NOTHING",
        )
        .bind(provider)
        .bind(&n.notify_id)
        .bind(&n.order_no)
        .bind(timestamp_text(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            return Ok(Applied::Duplicate);
        }
        if n.status != "paid" {
            order_event(&mut tx, &order.order_no, &timestamp_text(now), "failed", Some(n.amount_fen), "支付未成功，可重新支付", None)
                .await?;
            tx.commit().await?;
            return Ok(Applied::Failed);
        }
        let applied = self.mark_paid(&mut tx, &order, &n.txn_id, now, "支付成功（机构通知）").await?;
        tx.commit().await?;
        if applied {
            self.settle_case(&order).await?;
            Ok(Applied::Paid)
        } else {
            Ok(Applied::Duplicate)
        }
    }

    /// Mark an order paid unless it already is; true when this call did it.
    async fn mark_paid(&self, tx: &mut Tx, order: &Order, txn: &str, now: DateTime<Utc>, detail: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE payment_orders SET status = 'paid', provider_txn = $1, paid_at = $2, paid_day = $3, updated_at = $2
             WHERE order_no = $4 AND status IN ('pending', 'expired', 'closed')",
        )
        .bind(txn)
        .bind(timestamp_text(now))
        .bind(yiwang_cases::china_date(now).to_string())
        .bind(&order.order_no)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if n == 1 {
            order_event(tx, &order.order_no, &timestamp_text(now), "paid", Some(order.amount_fen), detail, None).await?;
        }
        Ok(n == 1)
    }

    /// After payment: start the case, or refund money nobody owes any more (the case was
    /// paid at the window, waived or withdrawn meanwhile).
    /// Returns whether it started the case. Either way the order is marked settled.
    async fn settle_case(&self, order: &Order) -> Result<bool> {
        let case = self.cases.case_for_platform(&order.case_id).await?;
        let started = case.status == CaseStatus::AwaitingPayment;
        match case.status {
            CaseStatus::AwaitingPayment => {
                self.cases.payment_received(&order.case_id, order.amount_fen, &order.order_no).await?;
            }
            _ if case.fee_fen.is_some() || case.status == CaseStatus::Withdrawn => {
                let now = timestamp_text(self.now());
                let mut tx = self.db.begin().await?;
                let n = sqlx::query("UPDATE payment_orders SET status = 'refunding', refund_reason = $1, updated_at = $2 WHERE order_no = $3 AND status = 'paid'")
                    .bind("费用已在窗口结清、减免或申请已撤回，全额退款")
                    .bind(&now)
                    .bind(&order.order_no)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 1 {
                    order_event(&mut tx, &order.order_no, &now, "refund_requested", None, "重复缴费，全额退款", None).await?;
                }
                tx.commit().await?;
            }
            _ => {}
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE payment_orders SET settled_at = $1 WHERE order_no = $2 AND settled_at IS NULL")
            .bind(timestamp_text(self.now()))
            .bind(&order.order_no)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(started)
    }

    /// The sandbox payment page's buttons.
    pub async fn sandbox_pay(&self, payer: Option<&str>, order_no: &str, outcome: SandboxOutcome) -> Result<Option<Applied>> {
        let sandbox = self.sandbox.clone().ok_or_else(|| PaymentError::NotFound("沙箱支付".into()))?;
        let order = self.load(order_no).await?;
        if payer.is_some_and(|p| p != order.payer) {
            return Err(PaymentError::NotFound(format!("订单 {order_no}")));
        }
        if order.status != OrderStatus::Pending {
            return Err(PaymentError::WrongState(order.status.label_zh()));
        }
        match sandbox.pay(&order, outcome, self.now()).await? {
            Some((body, sig)) => Ok(Some(self.notify(sandbox.name(), &body, &sig).await?)),
            None => Ok(None),
        }
    }

    /// An order as the sandbox page shows it (anyone with the link, like a real cashier page).
    pub async fn sandbox_order(&self, order_no: &str) -> Result<Order> {
        if self.sandbox.is_none() {
            return Err(PaymentError::NotFound("沙箱支付".into()));
        }
        self.load(order_no).await
    }

    // ----- background -----

    /// One round of upkeep: place shipments, refund, ask about silent orders, expire and close
    /// orders, and start cases whose payment arrived before a crash.
    pub async fn sweep(&self) -> Result<SweepReport> {
        let mut r = SweepReport::default();
        let now = self.now();
        let now_text = timestamp_text(now);

        // Shipments waiting to be handed to the courier.
        let pending = self.shipments_where("status = 'pending'").await?;
        for s in pending {
            let waybill = self.courier.create(&s).await?;
            let mut tx = self.db.begin().await?;
            let n = sqlx::query(
                "UPDATE shipments SET status = 'created', waybill = $1, updated_at = $2 WHERE shipment_id = $3 AND status = 'pending'",
            )
            .bind(&waybill)
            .bind(&now_text)
            .bind(&s.shipment_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query("INSERT INTO shipment_events (shipment_id, event_id, at, status, note) VALUES ($1, $2, $3, 'created', $4)")
                    .bind(&s.shipment_id)
                    .bind(format!("create:{waybill}"))
                    .bind(&now_text)
                    .bind(format!("已交寄，运单号{waybill}"))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            if n == 1 {
                self.cases
                    .courier_update(&s.case_id, &format!("办理结果已交寄（{}），运单号{waybill}", self.courier.name()), false)
                    .await?;
                r.shipments += 1;
            }
        }

        // Refunds.
        for o in self.orders_where("status = 'refunding'", &[]).await? {
            let amount = o.amount_fen - o.refunded_fen;
            match self.provider.refund(&o.order_no, amount).await {
                Ok(()) => {
                    let mut tx = self.db.begin().await?;
                    sqlx::query("UPDATE payment_orders SET status = 'refunded', refunded_fen = amount_fen, updated_at = $1 WHERE order_no = $2 AND status = 'refunding'")
                        .bind(&now_text)
                        .bind(&o.order_no)
                        .execute(&mut *tx)
                        .await?;
                    order_event(
                        &mut tx,
                        &o.order_no,
                        &now_text,
                        "refunded",
                        Some(amount),
                        o.refund_reason.as_deref().unwrap_or("退款"),
                        None,
                    )
                    .await?;
                    tx.commit().await?;
                    r.refunded += 1;
                }
                Err(e) => tracing::warn!(order = %o.order_no, error = %e, "refund failed; retried next round"),
            }
        }

        // Query on timeout: pending orders whose notification is late.
        let asked_before = timestamp_text(now - Duration::seconds(self.settings.query_after_secs));
        let silent = self
            .orders_where("status = 'pending' AND created_at <= $1 AND (last_query_at IS NULL OR last_query_at <= $1)", &[&asked_before])
            .await?;
        for o in silent {
            let state = self.provider.query(&o.order_no).await;
            let mut tx = self.db.begin().await?;
            sqlx::query("UPDATE payment_orders SET last_query_at = $1 WHERE order_no = $2")
                .bind(&now_text)
                .bind(&o.order_no)
                .execute(&mut *tx)
                .await?;
            let paid = match state {
                Ok(ProviderState::Paid { txn_id, amount_fen }) if amount_fen == o.amount_fen => {
                    self.mark_paid(&mut tx, &o, &txn_id, now, "支付成功（未收到通知，主动查询确认）").await?
                }
                Ok(ProviderState::Paid { amount_fen, .. }) => {
                    order_event(&mut tx, &o.order_no, &now_text, "mismatch", Some(amount_fen), "机构查询金额与订单不符，待人工核对", None)
                        .await?;
                    false
                }
                Ok(ProviderState::NotPaid) => false,
                Err(e) => {
                    tracing::warn!(order = %o.order_no, error = %e, "payment query failed");
                    false
                }
            };
            tx.commit().await?;
            if paid {
                self.settle_case(&o).await?;
                r.confirmed_by_query += 1;
            }
        }

        // Expiry, and orders the case no longer needs.
        for o in self.orders_where("status = 'pending'", &[]).await? {
            let case = self.cases.case_for_platform(&o.case_id).await?;
            let (status, why) = if case.status != CaseStatus::AwaitingPayment {
                ("closed", "费用已在窗口结清、减免或申请已撤回，订单关闭")
            } else if o.expires_at < now_text {
                ("expired", "超过支付期限，可在办件页面重新支付")
            } else {
                continue;
            };
            let mut tx = self.db.begin().await?;
            let n = sqlx::query("UPDATE payment_orders SET status = $1, updated_at = $2 WHERE order_no = $3 AND status = 'pending'")
                .bind(status)
                .bind(&now_text)
                .bind(&o.order_no)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                order_event(&mut tx, &o.order_no, &now_text, status, None, why, None).await?;
            }
            tx.commit().await?;
        }

        // 每日对账: yesterday's statement, once.
        let yesterday = yiwang_cases::china_date(now) - Duration::days(1);
        let done: Option<String> = sqlx::query_scalar("SELECT day FROM payment_reconciliations WHERE day = $1 AND provider = $2")
            .bind(yesterday.to_string())
            .bind(self.provider.name())
            .fetch_optional(self.db.reader())
            .await?;
        if done.is_none() {
            let report = self.reconcile_day(yesterday).await?;
            if !report.mismatches.is_empty() {
                tracing::warn!(day = %report.day, mismatches = report.mismatches.len(), "reconciliation found differences");
            }
            r.reconciled += 1;
        }

        // Paid orders never settled (a crash between the payment's commit and the case's start):
        // only those, not every paid order ever.
        for o in self.orders_where("status = 'paid' AND settled_at IS NULL", &[]).await? {
            if self.settle_case(&o).await? {
                r.resumed += 1;
            }
        }
        Ok(r)
    }

    /// Background loop.
    pub async fn run(self, every: std::time::Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match self.sweep().await {
                Ok(r) if r != SweepReport::default() => tracing::info!(?r, "payments and delivery"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "payments sweep failed"),
            }
        }
    }

    async fn orders_where(&self, cond: &str, binds: &[&str]) -> Result<Vec<Order>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM payment_orders WHERE {cond} ORDER BY created_at LIMIT 1000"
        )));
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(self.db.reader()).await?.iter().map(order_from).collect()
    }

    // ----- staff -----

    /// Orders of the staff member's department (all for finance and supervision), newest first.
    pub async fn orders(&self, staff: &Staff, status: Option<OrderStatus>) -> Result<Vec<Order>> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut binds: Vec<String> = vec![];
        if !sees_all(staff) {
            binds.push(staff.department.clone().ok_or(PaymentError::Forbidden)?);
            conds.push(format!("department_code = ${}", binds.len()));
        }
        if let Some(s) = status {
            binds.push(s.key().to_string());
            conds.push(format!("status = ${}", binds.len()));
        }
        let sql = format!("SELECT {ORDER_COLUMNS} FROM payment_orders WHERE {} ORDER BY created_at DESC LIMIT 500", conds.join(" AND "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(self.db.reader()).await?.iter().map(order_from).collect()
    }

    /// 非税收入 by department for a month (`YYYY-MM`): paid less refunded.
    pub async fn revenue(&self, month: &str) -> Result<Vec<Revenue>> {
        if NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_err() {
            return Err(invalid("month", "月份格式应为 YYYY-MM"));
        }
        let rows = sqlx::query(
            "SELECT department_code, MAX(department_name) AS name, COUNT(*) AS n, CAST(SUM(amount_fen) AS BIGINT) AS paid,
                    CAST(SUM(refunded_fen) AS BIGINT) AS refunded
             FROM payment_orders WHERE paid_day LIKE $1 GROUP BY department_code ORDER BY department_code",
        )
        .bind(format!("{month}-%"))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Revenue {
                    department_code: r.try_get("department_code")?,
                    department_name: r.try_get("name")?,
                    orders: r.try_get("n")?,
                    paid_fen: r.try_get("paid")?,
                    refunded_fen: r.try_get("refunded")?,
                })
            })
            .collect()
    }

    /// The kept reconciliation report of a day, if it ran.
    pub async fn reconciliation(&self, day: NaiveDate) -> Result<Option<Reconciliation>> {
        let row = sqlx::query("SELECT day, provider, matched, mismatches, local_fen, provider_fen, created_at FROM payment_reconciliations WHERE day = $1 AND provider = $2")
            .bind(day.to_string())
            .bind(self.provider.name())
            .fetch_optional(self.db.reader())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let mismatches: String = r.try_get("mismatches")?;
        Ok(Some(Reconciliation {
            day: r.try_get("day")?,
            provider: r.try_get("provider")?,
            matched: r.try_get("matched")?,
            local_fen: r.try_get("local_fen")?,
            provider_fen: r.try_get("provider_fen")?,
            mismatches: serde_json::from_str(&mismatches)?,
            created_at: r.try_get("created_at")?,
        }))
    }

    /// 对账: compare the day's paid orders with the provider's statement; the report is kept.
    pub async fn reconcile(&self, staff: &Staff, source: &str, day: NaiveDate) -> Result<Reconciliation> {
        if !sees_all(staff) {
            return Err(PaymentError::Forbidden);
        }
        let r = self.reconcile_day(day).await?;
        let mut tx = self.db.begin().await?;
        yiwang_identity::audit_in(
            &mut tx,
            &staff.username,
            "payments.reconcile",
            &day.to_string(),
            &format!("差异{}笔", r.mismatches.len()),
            source,
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    async fn reconcile_day(&self, day: NaiveDate) -> Result<Reconciliation> {
        let statement = self.provider.statement(day).await?;
        let local = self.orders_where("paid_day = $1 AND provider = $2", &[&day.to_string(), self.provider.name()]).await?;
        let mut mismatches = Vec::new();
        let mut matched = 0;
        for line in &statement {
            match local.iter().find(|o| o.order_no == line.order_no) {
                None => {
                    // Paid at the provider; maybe paid here on another day, maybe not at all.
                    let here = self.load(&line.order_no).await.ok();
                    let paid_here = here.as_ref().is_some_and(|o| o.paid_at.is_some());
                    if !paid_here {
                        mismatches.push(Mismatch {
                            order_no: line.order_no.clone(),
                            kind: MismatchKind::ProviderOnly,
                            local_fen: 0,
                            provider_fen: line.amount_fen,
                        });
                    } else {
                        matched += 1;
                    }
                }
                Some(o) if o.amount_fen != line.amount_fen => mismatches.push(Mismatch {
                    order_no: o.order_no.clone(),
                    kind: MismatchKind::Amount,
                    local_fen: o.amount_fen,
                    provider_fen: line.amount_fen,
                }),
                Some(o) if o.refunded_fen != line.refunded_fen => mismatches.push(Mismatch {
                    order_no: o.order_no.clone(),
                    kind: MismatchKind::Refund,
                    local_fen: o.refunded_fen,
                    provider_fen: line.refunded_fen,
                }),
                Some(_) => matched += 1,
            }
        }
        for o in &local {
            if !statement.iter().any(|l| l.order_no == o.order_no) {
                mismatches.push(Mismatch {
                    order_no: o.order_no.clone(),
                    kind: MismatchKind::LocalOnly,
                    local_fen: o.amount_fen,
                    provider_fen: 0,
                });
            }
        }
        let report = Reconciliation {
            day: day.to_string(),
            provider: self.provider.name().to_string(),
            matched,
            local_fen: local.iter().map(|o| o.amount_fen).sum(),
            provider_fen: statement.iter().map(|l| l.amount_fen).sum(),
            mismatches,
            created_at: timestamp_text(self.now()),
        };
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO payment_reconciliations (day, provider, matched, mismatches, local_fen, provider_fen, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (day, provider) DO UPDATE SET matched = excluded.matched, mismatches = excluded.mismatches, local_fen = excluded.local_fen,
                provider_fen = excluded.provider_fen, created_at = excluded.created_at",
        )
        .bind(&report.day)
        .bind(&report.provider)
        .bind(report.matched)
        .bind(serde_json::to_string(&report.mismatches)?)
        .bind(report.local_fen)
        .bind(report.provider_fen)
        .bind(&report.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    // ----- delivery -----

    async fn shipments_where(&self, cond: &str) -> Result<Vec<Shipment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT shipment_id, case_id, carrier, waybill, recipient, phone, address, status, signer, created_at, updated_at FROM shipments WHERE {cond} LIMIT 1000"
        )))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(|r| shipment_from(r, &self.settings.personal_data)).collect()
    }

    /// The shipment of a case with its tracking (no viewer check; callers authorize).
    pub async fn shipment_of_case(&self, case_id: &str) -> Result<Option<Shipment>> {
        let row = sqlx::query(
            "SELECT shipment_id, case_id, carrier, waybill, recipient, phone, address, status, signer, created_at, updated_at FROM shipments WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_optional(self.db.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut s = shipment_from(&row, &self.settings.personal_data)?;
        let rows = sqlx::query("SELECT event_id, at, status, note FROM shipment_events WHERE shipment_id = $1 ORDER BY id")
            .bind(&s.shipment_id)
            .fetch_all(self.db.reader())
            .await?;
        for r in rows {
            let status: String = r.try_get("status")?;
            s.events.push(TrackingEvent {
                event_id: r.try_get("event_id")?,
                waybill: s.waybill.clone().unwrap_or_default(),
                status: ShipmentStatus::parse(&status).unwrap_or(ShipmentStatus::Created),
                note: r.try_get("note")?,
                at: r.try_get("at")?,
                signer: None,
                timestamp: 0,
            });
        }
        Ok(Some(s))
    }

    /// A courier's tracking notification (`/api/v1/delivery/notify/{courier}`).
    pub async fn courier_notify(&self, courier: &str, body: &[u8], signature: &str) -> Result<Applied> {
        if courier != self.courier.name() {
            return Err(PaymentError::NotFound(format!("寄递企业 {courier}")));
        }
        let e = self.courier.verify(body, signature)?;
        let now = self.now();
        if (now.timestamp() - e.timestamp).abs() > self.settings.notify_tolerance_secs {
            return Err(PaymentError::BadNotification("通知已过期".into()));
        }
        let row = sqlx::query("SELECT shipment_id, case_id, status FROM shipments WHERE waybill = $1")
            .bind(&e.waybill)
            .fetch_optional(self.db.reader())
            .await?
            .ok_or_else(|| PaymentError::NotFound(format!("运单 {}", e.waybill)))?;
        let (shipment_id, case_id, status): (String, String, String) =
            (row.try_get("shipment_id")?, row.try_get("case_id")?, row.try_get("status")?);
        let current = ShipmentStatus::parse(&status).unwrap_or(ShipmentStatus::Pending);
        let mut tx = self.db.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO shipment_events (shipment_id, event_id, at, status, note) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shipment_id, event_id) DO NOTHING",
        )
        .bind(&shipment_id)
        .bind(&e.event_id)
        .bind(&e.at)
        .bind(e.status.key())
        .bind(&e.note)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            return Ok(Applied::Duplicate);
        }
        // States only move forward; a late, older event is kept in the history only.
        if e.status.rank() > current.rank() {
            sqlx::query("UPDATE shipments SET status = $1, signer = COALESCE($2, signer), updated_at = $3 WHERE shipment_id = $4")
                .bind(e.status.key())
                .bind(&e.signer)
                .bind(timestamp_text(now))
                .bind(&shipment_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let delivered = e.status == ShipmentStatus::Delivered;
        let note = format!("{}：{}（运单号{}）", e.status.label_zh(), e.note, e.waybill);
        self.cases.courier_update(&case_id, &note, delivered).await?;
        Ok(Applied::Paid)
    }

    /// The sandbox courier's button: move the parcel one state on (through the signed path).
    pub async fn sandbox_advance(&self, case_id: &str) -> Result<Shipment> {
        let courier = self.sandbox_courier.clone().ok_or_else(|| PaymentError::NotFound("沙箱寄递".into()))?;
        let s = self.shipment_of_case(case_id).await?.ok_or_else(|| PaymentError::NotFound("邮件".into()))?;
        let (body, sig) = courier.advance(&s, self.now()).ok_or(PaymentError::WrongState("已签收或尚未交寄"))?;
        self.courier_notify(courier.name(), &body, &sig).await?;
        self.shipment_of_case(case_id).await?.ok_or_else(|| PaymentError::NotFound("邮件".into()))
    }
}

fn shipment_from(r: &Row, seal: &yiwang_crypto::Sealer) -> Result<Shipment> {
    let status: String = r.try_get("status")?;
    let case_id: String = r.try_get("case_id")?;
    Ok(Shipment {
        shipment_id: r.try_get("shipment_id")?,
        recipient: seal.open("shipments.recipient", &case_id, r.try_get("recipient")?)?,
        phone: seal.open("shipments.phone", &case_id, r.try_get("phone")?)?,
        address: seal.open("shipments.address", &case_id, r.try_get("address")?)?,
        case_id,
        carrier: r.try_get("carrier")?,
        waybill: r.try_get("waybill")?,
        status: ShipmentStatus::parse(&status).ok_or_else(|| PaymentError::Config(format!("寄递状态无效：{status}")))?,
        signer: r.try_get("signer")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        events: vec![],
    })
}

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub shipments: usize,
    pub refunded: usize,
    pub confirmed_by_query: usize,
    pub resumed: usize,
    /// Daily reconciliations run.
    pub reconciled: usize,
}
