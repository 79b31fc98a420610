//! The catalog's vocabulary: item types, audiences, the elements of an implementation item
//! (实施清单要素, GB/T 39554.1) and the things around it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use yiwang_core::labelled_enum;

labelled_enum!(
    /// 事项类型 (GB/T 39554.1).
    ItemType {
        Licensing => "licensing", "行政许可", "Administrative licensing";
        Penalty => "penalty", "行政处罚", "Administrative penalty";
        Enforcement => "enforcement", "行政强制", "Administrative enforcement";
        Levy => "levy", "行政征收", "Administrative levy";
        Benefit => "benefit", "行政给付", "Administrative benefit";
        Inspection => "inspection", "行政检查", "Administrative inspection";
        Confirmation => "confirmation", "行政确认", "Administrative confirmation";
        Reward => "reward", "行政奖励", "Administrative reward";
        Adjudication => "adjudication", "行政裁决", "Administrative adjudication";
        OtherPower => "other_power", "其他行政权力", "Other administrative power";
        PublicService => "public_service", "公共服务", "Public service";
    }
);

labelled_enum!(
    /// 服务对象 who may apply.
    Audience {
        Person => "person", "自然人", "Individuals";
        Business => "business", "法人", "Businesses";
        Both => "both", "自然人、法人", "Individuals and businesses";
    }
);

impl Audience {
    /// Whether an item for `self` serves someone looking for `wanted`.
    pub fn serves(self, wanted: Audience) -> bool {
        self == wanted || self == Audience::Both || wanted == Audience::Both
    }
}

labelled_enum!(
    /// 办件类型: 即办件 finished on the spot, 承诺件 within the promised limit.
    CaseKind {
        Instant => "instant", "即办件", "On the spot";
        Promised => "promised", "承诺件", "Within promised time";
    }
);

labelled_enum!(
    /// 办理结果类型.
    ResultType {
        Licence => "licence", "证照", "Licence";
        Approval => "approval", "批文", "Approval document";
        Other => "other", "其他", "Other";
        NoResult => "none", "无", "None";
    }
);

labelled_enum!(
    /// 材料形式.
    MaterialForm {
        Original => "original", "原件", "Original";
        Copy => "copy", "复印件", "Copy";
        OriginalAndCopy => "original_and_copy", "原件和复印件", "Original and copy";
        Electronic => "electronic", "电子材料", "Electronic";
    }
);

labelled_enum!(
    /// 事项状态.
    ItemStatus {
        Draft => "draft", "草稿", "Draft";
        Published => "published", "已发布", "Published";
        Suspended => "suspended", "已暂停", "Suspended";
        Cancelled => "cancelled", "已取消", "Cancelled";
    }
);

labelled_enum!(
    /// 区划层级.
    RegionLevel {
        Province => "province", "省级", "Province";
        City => "city", "市级", "City";
        County => "county", "县级", "County";
        Township => "township", "乡镇（街道）", "Township";
    }
);

fn default_true() -> bool {
    true
}
fn default_one() -> u32 {
    1
}
fn default_depth() -> u8 {
    3
}
fn default_power_source() -> String {
    "法定本级行使".to_string()
}

/// 申请材料. In data files a bare string is accepted as a required original, one copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(from = "MaterialInput")]
pub struct Material {
    pub name: String,
    #[serde(default = "default_true")]
    pub required: bool,
    pub form: MaterialForm,
    /// 份数
    pub count: u32,
    /// 材料格式, e.g. 纸质/电子
    #[serde(default)]
    pub format: String,
    /// 设定依据
    #[serde(default)]
    pub basis: String,
    /// 来源渠道: 申请人自备 / 政府部门核发
    #[serde(default)]
    pub source: String,
    /// Type code of an e-licence that can replace this material (可用电子证照替代).
    #[serde(default)]
    pub licence_type: Option<String>,
    /// Code of a shared information resource that proves the same facts (可通过数据共享核验):
    /// the case workflow fetches it through the exchange instead of asking for the proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_resource: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MaterialInput {
    Name(String),
    Full {
        name: String,
        #[serde(default = "default_true")]
        required: bool,
        #[serde(default)]
        form: Option<MaterialForm>,
        #[serde(default = "default_one")]
        count: u32,
        #[serde(default)]
        format: String,
        #[serde(default)]
        basis: String,
        #[serde(default)]
        source: String,
        #[serde(default)]
        licence_type: Option<String>,
        #[serde(default)]
        shared_resource: Option<String>,
        #[serde(default)]
        note: String,
    },
}

impl From<MaterialInput> for Material {
    fn from(m: MaterialInput) -> Self {
        match m {
            MaterialInput::Name(name) => Material {
                name,
                required: true,
                form: MaterialForm::Original,
                count: 1,
                format: "纸质或电子".into(),
                basis: String::new(),
                source: "申请人自备".into(),
                licence_type: None,
                shared_resource: None,
                note: String::new(),
            },
            MaterialInput::Full { name, required, form, count, format, basis, source, licence_type, shared_resource, note } => Material {
                name,
                required,
                form: form.unwrap_or(MaterialForm::Original),
                count,
                format: if format.is_empty() { "纸质或电子".into() } else { format },
                basis,
                source: if source.is_empty() { "申请人自备".into() } else { source },
                licence_type: licence_type.filter(|s| !s.trim().is_empty()),
                shared_resource: shared_resource.filter(|s| !s.trim().is_empty()),
                note,
            },
        }
    }
}

/// 办理流程环节.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(from = "StepInput")]
pub struct Step {
    pub name: String,
    pub description: String,
    /// Working days this step may take, if it has its own limit.
    pub days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StepInput {
    Name(String),
    Full {
        name: String,
        #[serde(default)]
        description: String,
        #[serde(default)]
        days: Option<u32>,
    },
}

impl From<StepInput> for Step {
    fn from(s: StepInput) -> Self {
        match s {
            StepInput::Name(name) => Step { name, description: String::new(), days: None },
            StepInput::Full { name, description, days } => Step { name, description, days },
        }
    }
}

/// 收费项目. Money is integer fen (分), never floating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Fee {
    pub name: String,
    #[serde(default)]
    pub basis: String,
    pub amount_fen: i64,
    #[serde(default)]
    pub note: String,
    /// 减免情形: who does not pay (e.g. 城乡低保对象), with the basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<String>,
}

impl Fee {
    /// Charged only in some cases (e.g. 临时居民身份证工本费（需要时）).
    pub fn is_optional(&self) -> bool {
        [&self.name, &self.note].iter().any(|t| t.contains("需要时") || t.contains("可选") || t.contains("选缴"))
    }
}

/// The elements of an implementation item (实施清单要素). Stored per version as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemDoc {
    /// 事项名称
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// 基本编码 (12 digits)
    pub basic_code: String,
    pub item_type: ItemType,
    /// 权力来源
    #[serde(default = "default_power_source")]
    pub power_source: String,
    /// 实施主体 credit code
    pub department_code: String,
    /// Region where the item is exercised.
    pub region_code: String,
    pub audience: Audience,
    #[serde(default)]
    pub themes: Vec<String>,
    /// Extra words people use for this item (search only).
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub summary: String,
    /// 设定依据
    #[serde(default)]
    pub legal_basis: Vec<String>,
    /// 受理条件
    #[serde(default)]
    pub conditions: Vec<String>,
    #[serde(default)]
    pub materials: Vec<Material>,
    /// 办理流程
    #[serde(default)]
    pub procedure: Vec<Step>,
    pub case_kind: CaseKind,
    /// 法定办结时限 (working days)
    pub statutory_days: u32,
    /// 承诺办结时限 (working days)
    pub promised_days: u32,
    /// 办理渠道: 网上办理, 窗口办理, 自助终端, 移动端…
    #[serde(default)]
    pub channels: Vec<String>,
    /// 到办事现场次数
    pub visits: u32,
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// 办理地点
    #[serde(default)]
    pub place: String,
    /// 办理时间
    #[serde(default)]
    pub hours: String,
    /// 咨询电话
    #[serde(default)]
    pub enquiry_phone: String,
    /// 监督投诉电话
    #[serde(default)]
    pub complaint_phone: String,
    pub result_type: ResultType,
    /// 办理结果名称
    #[serde(default)]
    pub result_name: String,
    /// 网上办理深度 1-5 stars
    #[serde(default = "default_depth")]
    pub online_depth: u8,
    #[serde(default)]
    pub online_url: Option<String>,
}

impl ItemDoc {
    pub fn is_free(&self) -> bool {
        self.fees.iter().all(|f| f.amount_fen == 0)
    }
    pub fn total_fee_fen(&self) -> i64 {
        self.fees.iter().map(|f| f.amount_fen).sum()
    }
    /// Fees every applicant pays (收费项目 not marked as applying only when needed, 需要时/可选):
    /// what a case owes at acceptance.
    pub fn required_fee_fen(&self) -> i64 {
        self.fees.iter().filter(|f| !f.is_optional()).map(|f| f.amount_fen).sum()
    }
    /// Text the search index reads besides the name.
    pub fn body_text(&self) -> String {
        let mut parts = vec![self.summary.clone()];
        parts.extend(self.conditions.iter().cloned());
        parts.extend(self.materials.iter().map(|m| m.name.clone()));
        parts.push(self.result_name.clone());
        parts.join("\n")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Region {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub level: RegionLevel,
    #[serde(default)]
    pub parent_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Department {
    pub credit_code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub region_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub hours: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Theme {
    pub slug: String,
    pub name: String,
    pub name_en: String,
    pub audience: Audience,
    #[serde(default)]
    pub description: String,
}

/// A row in a list of items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemSummary {
    pub impl_code: String,
    pub name: String,
    pub status: ItemStatus,
    pub department_code: String,
    pub department_name: String,
    pub region_code: String,
    pub item_type: ItemType,
    pub audience: Audience,
    pub promised_days: u32,
    pub visits: u32,
    pub online_depth: u8,
    pub updated_at: String,
}

/// One implementation item with a chosen version of its elements.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Item {
    pub impl_code: String,
    pub status: ItemStatus,
    pub version: i64,
    pub latest_version: i64,
    pub published_version: Option<i64>,
    /// 行使层级 1-5
    pub exercise_level: u8,
    pub department_name: String,
    pub region_name: String,
    pub updated_at: String,
    pub doc: ItemDoc,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    pub action: String,
    pub actor: String,
    pub note: String,
    pub at: String,
}

/// 一件事: items of several departments handled as one thing, with a lead department.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Bundle {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub audience: Audience,
    pub lead_department: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub promised_days: u32,
    /// Implementation codes, in handling order.
    pub items: Vec<String>,
}

/// Filters for browsing and search.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ItemFilter {
    pub department: Option<String>,
    /// A region code; items of its sub-regions match too.
    pub region: Option<String>,
    pub item_type: Option<ItemType>,
    pub audience: Option<Audience>,
    pub theme: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub items: Vec<T>,
}
