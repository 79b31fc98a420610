//! Orders, fee lines, provider notifications, statements, shipments.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_core::labelled_enum;

labelled_enum!(
    /// 订单状态.
    OrderStatus {
        Pending => "pending", "待支付", "Awaiting payment";
        Paid => "paid", "已支付", "Paid";
        Expired => "expired", "已过期", "Expired";
        Closed => "closed", "已关闭", "Closed";
        Refunding => "refunding", "退款中", "Refunding";
        Refunded => "refunded", "已退款", "Refunded";
    }
);

/// One fee of an order (收费项目).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeeLine {
    pub name: String,
    pub basis: String,
    pub amount_fen: i64,
}

/// A payment order (缴费订单).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Order {
    pub order_no: String,
    pub case_id: String,
    pub case_number: String,
    pub title: String,
    pub department_code: String,
    pub department_name: String,
    #[serde(skip)]
    pub payer: String,
    pub amount_fen: i64,
    pub items: Vec<FeeLine>,
    pub status: OrderStatus,
    pub provider: String,
    pub provider_txn: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub paid_at: Option<String>,
    pub refunded_fen: i64,
    pub refund_reason: Option<String>,
}

impl Order {
    pub fn amount_text(&self) -> String {
        yiwang_cases::engine::yuan(self.amount_fen)
    }
}

/// One line of an order's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderEvent {
    pub at: String,
    pub kind: String,
    pub amount_fen: Option<i64>,
    pub detail: String,
}

/// What a provider's notification says, once its signature is verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// Unique per notification: a replay carries the same id.
    pub notify_id: String,
    pub order_no: String,
    pub txn_id: String,
    pub amount_fen: i64,
    /// `paid` or `failed`.
    pub status: String,
    /// Unix seconds when the provider sent it (stale notifications are refused).
    pub timestamp: i64,
}

/// What a provider says about an order when asked (查询).
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderState {
    Paid { txn_id: String, amount_fen: i64 },
    NotPaid,
}

/// One line of a provider's daily statement (对账单).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatementLine {
    pub txn_id: String,
    pub order_no: String,
    pub amount_fen: i64,
    pub refunded_fen: i64,
}

labelled_enum!(
    /// 对账差异.
    MismatchKind {
        ProviderOnly => "provider_only", "机构已收款、平台未入账", "Paid at the provider only";
        LocalOnly => "local_only", "平台已入账、机构无记录", "Paid locally only";
        Amount => "amount", "金额不符", "Amounts differ";
        Refund => "refund", "退款不符", "Refunds differ";
    }
);

/// A difference found by reconciliation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Mismatch {
    pub order_no: String,
    pub kind: MismatchKind,
    pub local_fen: i64,
    pub provider_fen: i64,
}

/// 对账报告 for one day and provider.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reconciliation {
    pub day: String,
    pub provider: String,
    pub matched: i64,
    pub local_fen: i64,
    pub provider_fen: i64,
    pub mismatches: Vec<Mismatch>,
    pub created_at: String,
}

/// 非税收入 of one department for a month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revenue {
    pub department_code: String,
    pub department_name: String,
    pub orders: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
}

impl Revenue {
    pub fn net_fen(&self) -> i64 {
        self.paid_fen - self.refunded_fen
    }
    /// Money for pages (takes a value or a reference, as templates pass either).
    pub fn yuan<T: std::borrow::Borrow<i64>>(fen: T) -> String {
        yiwang_cases::engine::yuan(*fen.borrow())
    }
}

labelled_enum!(
    /// 寄递状态 (only moves forward).
    ShipmentStatus {
        Pending => "pending", "待交寄", "To be handed over";
        Created => "created", "已下单", "Order placed";
        PickedUp => "picked_up", "已揽收", "Picked up";
        InTransit => "in_transit", "运输中", "In transit";
        OutForDelivery => "out_for_delivery", "派送中", "Out for delivery";
        Delivered => "delivered", "已签收", "Delivered";
    }
);

impl ShipmentStatus {
    pub fn rank(self) -> usize {
        ShipmentStatus::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
    /// The state after this one (the sandbox courier walks through them).
    pub fn next(self) -> Option<ShipmentStatus> {
        ShipmentStatus::ALL.get(self.rank() + 1).copied()
    }
}

/// A result sent by courier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shipment {
    pub shipment_id: String,
    pub case_id: String,
    pub carrier: String,
    pub waybill: Option<String>,
    #[serde(skip)]
    pub recipient: String,
    #[serde(skip)]
    pub phone: String,
    #[serde(skip)]
    pub address: String,
    pub status: ShipmentStatus,
    pub signer: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub events: Vec<TrackingEvent>,
}

/// One tracking event from the courier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrackingEvent {
    /// Unique per event (replays change nothing).
    pub event_id: String,
    pub waybill: String,
    pub status: ShipmentStatus,
    pub note: String,
    pub at: String,
    /// Who signed for it (delivered only).
    #[serde(default)]
    pub signer: Option<String>,
    /// Unix seconds when the courier sent it.
    pub timestamp: i64,
}
