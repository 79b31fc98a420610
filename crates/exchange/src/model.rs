//! The vocabulary of data sharing: resources (政务信息资源目录 elements per STANDARDS.md),
//! member systems, access grants and access records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// 共享类型 sharing type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SharingType {
    /// 无条件共享: every member may read it.
    Unconditional,
    /// 有条件共享: an approved access request is needed.
    Conditional,
    /// 不予共享: never flows; the basis must be stated.
    NotShared,
}

impl SharingType {
    /// The catalog's numeric code (1, 2, 3).
    pub fn number(self) -> i64 {
        match self {
            SharingType::Unconditional => 1,
            SharingType::Conditional => 2,
            SharingType::NotShared => 3,
        }
    }
    pub fn from_number(n: i64) -> Option<SharingType> {
        match n {
            1 => Some(SharingType::Unconditional),
            2 => Some(SharingType::Conditional),
            3 => Some(SharingType::NotShared),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            SharingType::Unconditional => "无条件共享",
            SharingType::Conditional => "有条件共享",
            SharingType::NotShared => "不予共享",
        }
    }
}

/// 开放类型 open type (to the public, via open data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenType {
    Unconditional,
    Conditional,
    NotOpen,
}

impl OpenType {
    pub fn label_zh(self) -> &'static str {
        match self {
            OpenType::Unconditional => "无条件开放",
            OpenType::Conditional => "有条件开放",
            OpenType::NotOpen => "不予开放",
        }
    }
}

/// 更新周期 update cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateCycle {
    RealTime,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    OnDemand,
}

impl UpdateCycle {
    pub fn label_zh(self) -> &'static str {
        match self {
            UpdateCycle::RealTime => "实时",
            UpdateCycle::Daily => "每日",
            UpdateCycle::Weekly => "每周",
            UpdateCycle::Monthly => "每月",
            UpdateCycle::Quarterly => "每季度",
            UpdateCycle::Yearly => "每年",
            UpdateCycle::OnDemand => "按需",
        }
    }
}

/// Whom the resource's records are about: a person (citizen ID number) or a business
/// (unified social credit code). Every exchange names one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Person,
    Business,
}

/// 信息项 a data item of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DataItem {
    /// Field name in records (ASCII).
    pub name: String,
    /// 中文名称.
    pub label: String,
    /// string | date | number | boolean
    #[serde(default = "default_kind")]
    pub kind: String,
}

fn default_kind() -> String {
    "string".into()
}

/// Where the records come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Service {
    /// 共享库: the provider pushes records into yiwang; the gateway answers from them.
    Store,
    /// A REST endpoint the provider hosts: `GET {url}?subject=…` answering a JSON object or
    /// array of objects, 404 when there is no record.
    Rest {
        url: String,
        #[serde(default = "default_timeout")]
        timeout_ms: u64,
        /// Where the provider publishes the service's OpenAPI description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        openapi_url: Option<String>,
    },
    /// A provider compiled into this server (the demo province's simulated systems).
    Builtin { name: String },
}

fn default_timeout() -> u64 {
    3000
}

/// 政务信息资源 an information resource in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Resource {
    /// 资源代码: provider credit code, `-`, five-digit serial.
    pub code: String,
    pub name: String,
    /// 资源分类, e.g. 基础信息资源/人口.
    pub classification: String,
    /// 提供方 (unified social credit code).
    pub provider_code: String,
    pub provider_name: String,
    /// 资源摘要.
    pub summary: String,
    /// 资源格式: 数据库 / 接口 / 文件.
    pub format: String,
    pub subject_kind: SubjectKind,
    /// The data item holding the subject's ID number or credit code (the shared store's key).
    pub subject_item: String,
    /// 信息项.
    pub items: Vec<DataItem>,
    pub sharing_type: SharingType,
    /// 不予共享或有条件共享的依据.
    #[serde(default)]
    pub sharing_basis: String,
    /// 共享条件.
    #[serde(default)]
    pub sharing_conditions: String,
    /// 共享方式: 接口调用 / 共享库.
    #[serde(default)]
    pub sharing_method: String,
    pub open_type: OpenType,
    pub update_cycle: UpdateCycle,
    /// 发布日期 (YYYY-MM-DD).
    pub published_on: String,
    pub service: Service,
}

impl Resource {
    pub fn item(&self, name: &str) -> Option<&DataItem> {
        self.items.iter().find(|i| i.name == name)
    }
    /// The provider's OpenAPI description of a REST service.
    pub fn openapi_url(&self) -> Option<&str> {
        match &self.service {
            Service::Rest { openapi_url, .. } => openapi_url.as_deref(),
            _ => None,
        }
    }
    pub fn item_names(&self) -> Vec<String> {
        self.items.iter().map(|i| i.name.clone()).collect()
    }
}

/// 成员 a department system registered to use or provide data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// `{department credit code}:{subsystem}`.
    pub member_id: String,
    pub department_code: String,
    pub name: String,
    /// Ed25519 public key, base64url without padding (the JWK `x`), for client assertions.
    pub public_key: String,
    /// Calls per second on unconditional resources.
    pub rate_per_sec: u32,
    pub disabled_at: Option<String>,
    pub created_at: String,
    pub created_by: String,
}

/// 共享申请状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Pending,
    Approved,
    Rejected,
    Revoked,
}

impl GrantStatus {
    pub fn key(self) -> &'static str {
        match self {
            GrantStatus::Pending => "pending",
            GrantStatus::Approved => "approved",
            GrantStatus::Rejected => "rejected",
            GrantStatus::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Option<GrantStatus> {
        match s {
            "pending" => Some(GrantStatus::Pending),
            "approved" => Some(GrantStatus::Approved),
            "rejected" => Some(GrantStatus::Rejected),
            "revoked" => Some(GrantStatus::Revoked),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            GrantStatus::Pending => "待审核",
            GrantStatus::Approved => "已批准",
            GrantStatus::Rejected => "已驳回",
            GrantStatus::Revoked => "已撤销",
        }
    }
}

/// 共享申请 an access request for a conditional resource, and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    pub grant_id: String,
    pub member_id: String,
    pub resource_code: String,
    /// 用途: calls must state this same purpose.
    pub purpose: String,
    /// 法律依据.
    pub legal_basis: String,
    /// Data items the member may receive.
    pub fields: Vec<String>,
    /// Last day of validity (YYYY-MM-DD).
    pub valid_to: String,
    pub rate_per_sec: u32,
    pub status: GrantStatus,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
}

/// How an exchange reached the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A member system through `/exchange/…`.
    Gateway,
    /// The case workflow verifying an applicant's facts.
    Workflow,
    /// A staff member opening personal data in the workbench.
    Workbench,
}

impl Channel {
    pub fn key(self) -> &'static str {
        match self {
            Channel::Gateway => "gateway",
            Channel::Workflow => "workflow",
            Channel::Workbench => "workbench",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "gateway" => Some(Channel::Gateway),
            "workflow" => Some(Channel::Workflow),
            "workbench" => Some(Channel::Workbench),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Channel::Gateway => "数据共享接口",
            Channel::Workflow => "办件在线核验",
            Channel::Workbench => "工作人员查阅办件",
        }
    }
}

/// What came of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Records released.
    Ok,
    /// The provider holds nothing about the subject.
    NotFound,
    /// Refused: no grant, not shared, wrong purpose or fields.
    Denied,
    /// The provider failed, timed out or is cut off by its circuit breaker.
    ProviderError,
}

impl Outcome {
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::Denied => "denied",
            Outcome::ProviderError => "provider_error",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "ok" => Some(Outcome::Ok),
            "not_found" => Some(Outcome::NotFound),
            "denied" => Some(Outcome::Denied),
            "provider_error" => Some(Outcome::ProviderError),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Outcome::Ok => "已提供",
            Outcome::NotFound => "无记录",
            Outcome::Denied => "已拒绝",
            Outcome::ProviderError => "提供方异常",
        }
    }
}

/// 交换日志 one exchange, as logged and signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccessRecord {
    pub exchange_id: String,
    pub at: String,
    pub channel: Channel,
    /// Member id (gateway, workflow) or staff username (workbench).
    pub consumer: String,
    pub consumer_department: String,
    pub resource_code: String,
    pub provider_department: String,
    /// ID number or credit code of the person or business concerned.
    pub subject: String,
    pub purpose: String,
    pub case_number: Option<String>,
    pub grant_id: Option<String>,
    pub result: Outcome,
    pub fields: Vec<String>,
    pub bytes: i64,
    pub body_hash: String,
    pub latency_us: i64,
    pub request_id: String,
    pub key_id: String,
    /// Ed25519 over [`AccessRecord::signed_message`], base64.
    pub signature: String,
}

impl AccessRecord {
    /// The record as staff see it: a person's ID number masked (`360102********1236`); a
    /// business's credit code is public and stays. Signatures are checked before this.
    pub fn masked(mut self) -> AccessRecord {
        if yiwang_core::codes::CitizenId::parse(&self.subject).is_ok() {
            self.subject = yiwang_core::mask::mask_id_number(&self.subject);
        }
        self
    }

    /// The canonical JSON the gateway signs: everything but the latency and the signature.
    pub fn signed_message(&self) -> String {
        let v = serde_json::json!({
            "exchange_id": self.exchange_id,
            "at": self.at,
            "channel": self.channel.key(),
            "consumer": self.consumer,
            "consumer_department": self.consumer_department,
            "resource_code": self.resource_code,
            "provider_department": self.provider_department,
            "subject": self.subject,
            "purpose": self.purpose,
            "case_number": self.case_number,
            "grant_id": self.grant_id,
            "result": self.result.key(),
            "fields": self.fields,
            "bytes": self.bytes,
            "body_hash": self.body_hash,
            "request_id": self.request_id,
            "key_id": self.key_id,
        });
        // Only strings, integers, arrays and nulls: always canonical.
        yiwang_crypto::canonical::to_string(&v).unwrap_or_default()
    }

    /// What a log batch's digest covers of this record: hex SHA-256 of the signed message, the
    /// latency and the signature, each followed by a newline.
    pub fn digest(&self) -> String {
        self.digest_of(&self.signed_message())
    }

    /// [`AccessRecord::digest`] given the signed message already built.
    pub fn digest_of(&self, message: &str) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(format!("{message}\n{}\n{}\n", self.latency_us, self.signature).as_bytes()))
    }
}

/// The digest of a log batch: hex SHA-256 over its records' digests in `exchange_id` order,
/// each followed by a newline.
pub fn batch_digest(records: &[AccessRecord]) -> String {
    let digests: Vec<(&str, String)> = records.iter().map(|r| (r.exchange_id.as_str(), r.digest())).collect();
    batch_digest_of(digests)
}

/// [`batch_digest`] from (exchange id, record digest) pairs.
pub fn batch_digest_of(mut digests: Vec<(&str, String)>) -> String {
    use sha2::{Digest, Sha256};
    digests.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Sha256::new();
    for (_, d) in digests {
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// What checking the access log against its recorded batches found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogCheck {
    pub batches: i64,
    pub records: i64,
    pub findings: Vec<LogFinding>,
}

impl LogCheck {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// One discrepancy in the access log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogFinding {
    /// `batch_changed` (rows edited or deleted), `unbatched` (rows added outside a batch) or
    /// `bad_signature`.
    pub kind: &'static str,
    pub batch_id: Option<String>,
    pub exchange_id: Option<String>,
    pub detail: String,
}

/// An exchange as the person or business it concerned sees it (数据访问记录).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessView {
    pub exchange_id: String,
    pub at: String,
    pub channel: Channel,
    pub channel_label: &'static str,
    pub department_code: String,
    pub department_name: String,
    pub resource_code: String,
    pub resource_name: String,
    pub purpose: String,
    pub case_number: Option<String>,
    pub result: Outcome,
    pub result_label: &'static str,
    pub fields: Vec<String>,
}

/// Calls per resource and consumer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stat {
    pub resource_code: String,
    pub consumer: String,
    pub calls: i64,
    /// Denied and provider errors.
    pub errors: i64,
    pub denied: i64,
    pub avg_latency_us: i64,
    pub max_latency_us: i64,
    pub bytes: i64,
}

/// The gateway's public signing key, for consumers to check response signatures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GatewayKey {
    pub key_id: String,
    pub algorithm: String,
    /// Raw public key, base64.
    pub public_key: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// What a gateway call returns to the consumer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Answer {
    pub exchange_id: String,
    pub resource: String,
    pub result: Outcome,
    pub fields: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
    pub at: String,
    pub key_id: String,
    /// Signature over the access record (see `GET /api/v1/exchange/logs/{id}`).
    pub signature: String,
}
