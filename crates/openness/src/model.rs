//! Documents, interpretations, disclosure requests, datasets in CKAN's shape.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_core::labelled_enum;

labelled_enum!(
    /// 公开文件类别.
    DocKind {
        Regulation => "regulation", "政府规章", "Government regulation";
        Normative => "normative", "行政规范性文件", "Normative document";
        Notice => "notice", "通知公告", "Notice";
        Plan => "plan", "规划计划", "Plan";
        Budget => "budget", "预决算", "Budget and accounts";
        PowerList => "power_list", "权力清单", "List of powers";
        DutyList => "duty_list", "责任清单", "List of duties";
    }
);

labelled_enum!(
    /// 发布状态.
    DocStatus {
        Draft => "draft", "草稿", "Draft";
        Published => "published", "已发布", "Published";
        Withdrawn => "withdrawn", "已撤回", "Withdrawn";
    }
);

/// One question and answer of an interpretation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Qa {
    pub q: String,
    pub a: String,
}

/// 政策解读: the document in plain language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Interpretation {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub qa: Vec<Qa>,
}

/// An attachment (附件).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub sha256: String,
    pub size: i64,
}

/// A disclosed document (公开文件).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub doc_id: String,
    pub department_code: String,
    pub department_name: String,
    pub kind: DocKind,
    pub title: String,
    /// 文号
    pub doc_number: String,
    /// 成文日期
    pub issued_on: String,
    /// 施行日期
    pub valid_from: Option<String>,
    /// 失效日期
    pub valid_until: Option<String>,
    /// 主题分类
    pub topic: String,
    pub body: String,
    pub interpretation: Option<Interpretation>,
    pub status: DocStatus,
    /// Scheduled publication (定时发布).
    pub publish_at: Option<String>,
    /// Scheduled or past withdrawal.
    pub withdraw_at: Option<String>,
    pub withdraw_reason: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub attachments: Vec<Attachment>,
}

impl Document {
    /// Visible to the public at `now` (a timestamp text).
    pub fn is_public(&self, now: &str) -> bool {
        self.status == DocStatus::Published
            && self.publish_at.as_deref().is_none_or(|p| p <= now)
            && self.withdraw_at.as_deref().is_none_or(|w| w > now)
    }
    /// 有效 / 已失效 at `today` (a date text).
    pub fn in_force(&self, today: &str) -> bool {
        self.valid_from.as_deref().is_none_or(|f| f <= today) && self.valid_until.as_deref().is_none_or(|u| u >= today)
    }
    /// First characters of the body for lists.
    pub fn summary(&self) -> String {
        let s: String = self.body.chars().take(80).collect();
        if self.body.chars().count() > 80 {
            format!("{s}…")
        } else {
            s
        }
    }
}

/// What a department writes.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DocumentInput {
    pub kind: String,
    pub title: String,
    pub doc_number: String,
    pub issued_on: String,
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_until: Option<String>,
    #[serde(default)]
    pub topic: String,
    pub body: String,
    #[serde(default)]
    pub interpretation: Option<Interpretation>,
}

/// One saved version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
}

labelled_enum!(
    /// 依申请公开 状态.
    RequestStatus {
        Received => "received", "已受理", "Received";
        Extended => "extended", "已延期", "Extended";
        Answered => "answered", "已答复", "Answered";
    }
);

labelled_enum!(
    /// 答复类型.
    Decision {
        Disclosed => "disclosed", "予以公开", "Disclosed";
        Partial => "partial", "部分公开", "Partly disclosed";
        Refused => "refused", "不予公开", "Refused";
        NotHeld => "not_held", "本机关不掌握相关信息", "Not held";
        NotOurs => "not_ours", "非本机关负责公开", "Not this body's";
    }
);

/// A request for disclosure (政府信息公开申请).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisclosureRequest {
    pub request_id: String,
    pub number: String,
    #[serde(skip)]
    pub requester: String,
    #[serde(skip)]
    pub account: Option<String>,
    #[serde(skip)]
    pub requester_name: String,
    pub department_code: String,
    pub department_name: String,
    pub description: String,
    pub purpose: String,
    pub status: RequestStatus,
    pub received_on: String,
    /// 答复期限 (20 working days, once extendable by 20).
    pub due_date: String,
    pub extension_reason: Option<String>,
    pub decision: Option<Decision>,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
}

/// A CKAN resource dict.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Resource {
    pub id: String,
    pub package_id: String,
    pub name: String,
    pub description: String,
    pub format: String,
    pub mimetype: String,
    pub url: String,
    pub size: i64,
    pub hash: String,
    pub position: i64,
    pub datastore_active: bool,
    pub created: String,
    pub last_modified: String,
    pub state: String,
}

/// A CKAN organization or group (short form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Named {
    pub id: String,
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default = "default_org_type")]
    pub r#type: String,
    #[serde(default)]
    pub state: String,
}

fn default_org_type() -> String {
    "organization".into()
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tag {
    pub name: String,
    pub display_name: String,
}

/// A key/value extra.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Extra {
    pub key: String,
    pub value: String,
}

/// A CKAN package dict (the dataset as clients see it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub title: String,
    pub notes: String,
    pub license_id: String,
    pub license_title: String,
    pub organization: Named,
    pub owner_org: String,
    pub groups: Vec<Named>,
    pub tags: Vec<Tag>,
    pub resources: Vec<Resource>,
    pub num_resources: usize,
    pub num_tags: usize,
    pub metadata_created: String,
    pub metadata_modified: String,
    pub state: String,
    pub r#type: String,
    pub private: bool,
    pub extras: Vec<Extra>,
    /// Downloads of its resources (下载量).
    pub downloads: i64,
    /// Mean public rating ×100 and how many rated.
    pub rating_x100: i64,
    pub ratings: i64,
}

impl Package {
    pub fn extra(&self, key: &str) -> &str {
        self.extras.iter().find(|e| e.key == key).map(|e| e.value.as_str()).unwrap_or("")
    }
    pub fn rating_text(&self) -> String {
        if self.ratings == 0 {
            "—".into()
        } else {
            format!("{}.{}", self.rating_x100 / 100, (self.rating_x100 % 100) / 10)
        }
    }
}

/// What a department publishes as a dataset.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DatasetInput {
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub notes: String,
    /// Credit code of the publishing department.
    pub organization: String,
    pub license_id: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "default_cycle")]
    pub update_cycle: String,
    #[serde(default = "default_open")]
    pub open_type: String,
}

fn default_cycle() -> String {
    "每月".into()
}
fn default_open() -> String {
    "无条件开放".into()
}

/// `package_search` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResult {
    pub count: usize,
    pub results: Vec<Package>,
    pub sort: String,
    /// field → value → count
    #[schema(value_type = Object)]
    pub facets: std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>,
    #[schema(value_type = Object)]
    pub search_facets: serde_json::Value,
}

/// A field of a tabular resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Field {
    pub id: String,
    pub r#type: String,
}

/// `datastore_search` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatastoreResult {
    pub resource_id: String,
    pub fields: Vec<Field>,
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
}

/// A public dataset request (数据需求).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatasetRequest {
    pub request_id: String,
    pub title: String,
    pub description: String,
    pub organization: Option<String>,
    pub status: String,
    pub reply: Option<String>,
    pub created_at: String,
}
