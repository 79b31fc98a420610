//! The case vocabulary: applicants, statuses, branches, events, deliveries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_core::mask;

/// Who a case belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    Person,
    Business,
}

impl ApplicantKind {
    pub fn key(self) -> &'static str {
        match self {
            ApplicantKind::Person => "person",
            ApplicantKind::Business => "business",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(ApplicantKind::Person),
            "business" => Some(ApplicantKind::Business),
            _ => None,
        }
    }
}

/// The applicant as the identity module vouches for them (or as window staff recorded them for
/// an offline applicant). For a business, `name`/`id_number` are the business's and
/// `person_*` the natural person acting for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Applicant {
    /// The person account that applied online (None for an offline applicant without one).
    pub account: Option<String>,
    pub kind: ApplicantKind,
    pub name: String,
    /// Citizen ID number, or the credit code for a business.
    pub id_number: String,
    pub person_name: String,
    pub person_id_number: String,
    pub phone: Option<String>,
    /// Real-name assurance level of the acting person (1–3).
    pub assurance: u8,
    /// Registered address of the person, when a trusted source has it (for pre-filling).
    pub address: Option<String>,
}

impl Applicant {
    /// The key that decides who may see the case online: the business for business cases,
    /// the person otherwise.
    pub fn owner(&self) -> String {
        match self.kind {
            ApplicantKind::Person => format!("person:{}", self.person_id_number),
            ApplicantKind::Business => format!("business:{}", self.id_number),
        }
    }
}

use yiwang_core::labelled_enum;

labelled_enum!(
    /// 办件状态.
    CaseStatus {
        Draft => "draft", "草稿", "Draft";
        Submitted => "submitted", "待受理", "Awaiting acceptance";
        InProgress => "in_progress", "办理中", "In progress";
        Correction => "correction", "待补正", "Correction requested";
        AwaitingPayment => "awaiting_payment", "待缴费", "Awaiting payment";
        Concluded => "concluded", "已办结", "Concluded";
        Delivered => "delivered", "已送达", "Delivered";
        NotAccepted => "not_accepted", "不予受理", "Not accepted";
        Withdrawn => "withdrawn", "已撤回", "Withdrawn";
    }
);

impl CaseStatus {
    /// No more actions except reading (and rating, later).
    pub fn is_final(self) -> bool {
        matches!(self, CaseStatus::Delivered | CaseStatus::NotAccepted | CaseStatus::Withdrawn)
    }
}

labelled_enum!(
    /// 部门分支状态 (one per department item of the case).
    BranchStatus {
        Waiting => "waiting", "待受理", "Waiting";
        Active => "active", "办理中", "In progress";
        Approved => "approved", "准予", "Approved";
        Rejected => "rejected", "不予许可", "Refused";
    }
);

labelled_enum!(
    /// 办理结果.
    Outcome {
        Approved => "approved", "准予办理", "Approved";
        Rejected => "rejected", "不予办理", "Refused";
        Partial => "partial", "部分准予", "Partly approved";
    }
);

labelled_enum!(
    /// 送达方式.
    Delivery {
        Electronic => "electronic", "电子送达（电子证照、电子文书）", "Electronic";
        Window => "window", "窗口领取", "Collect at the window";
        Courier => "courier", "邮政寄递（免费）", "By courier (free)";
    }
);

/// Check a postal address for courier delivery (邮寄地址): long enough to be real, naming a
/// region (省/市/区/县/镇/乡) and a street-level place (路/街/巷/村/号…).
pub fn check_address(a: &str) -> Result<(), &'static str> {
    let n = a.chars().count();
    if !(8..=200).contains(&n) {
        return Err("邮寄地址应为8至200个字，写明省市区县和街道门牌");
    }
    if !a.chars().any(|c| "省市区县镇乡旗州盟".contains(c)) {
        return Err("邮寄地址缺少省、市、区县等行政区划");
    }
    if !a.chars().any(|c| "路街巷道村号弄组栋幢室楼院里屯".contains(c)) {
        return Err("邮寄地址缺少街道、门牌等详细地址");
    }
    Ok(())
}

labelled_enum!(
    /// 申请渠道.
    Channel {
        Online => "online", "网上申请", "Online";
        Window => "window", "窗口受理", "At a window";
    }
);

labelled_enum!(
    /// Timeline event kinds (办件轨迹).
    EventKind {
        Submitted => "submitted", "提交申请", "Application submitted";
        Prechecked => "prechecked", "智能预审通过", "Automatic pre-check passed";
        Accepted => "accepted", "受理", "Accepted";
        NotAccepted => "not_accepted", "不予受理", "Not accepted";
        CorrectionRequested => "correction_requested", "一次性告知补正", "Correction requested";
        Resubmitted => "resubmitted", "补正材料已提交", "Corrections submitted";
        StepCompleted => "step_completed", "环节办理完成", "Step completed";
        Returned => "returned", "退回上一环节", "Returned to previous step";
        BranchApproved => "branch_approved", "部门办理完成（准予）", "Department approved";
        BranchRejected => "branch_rejected", "部门办理完成（不予）", "Department refused";
        Concluded => "concluded", "办结", "Concluded";
        Delivered => "delivered", "送达", "Delivered";
        Withdrawn => "withdrawn", "申请人撤回", "Withdrawn by applicant";
        FeeCharged => "fee_charged", "收取费用", "Fee charged";
        PaymentRequested => "payment_requested", "待缴费", "Payment requested";
        PaymentReceived => "payment_received", "已缴费", "Payment received";
        FeeWaived => "fee_waived", "费用减免", "Fee waived";
        DeliveryUpdate => "delivery_update", "寄递进度", "Delivery progress";
    }
);

/// A step of a department's process (审查, 决定…), as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StepDef {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Role that acts on this step, in the branch's department (`approver` by default).
    #[serde(default = "default_role")]
    pub role: String,
    /// Working days this step may take (step deadline); none = only the case deadline.
    #[serde(default)]
    pub days: Option<u32>,
}

fn default_role() -> String {
    "approver".into()
}

/// A department's part of a case (a branch; a single-item case has one).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Branch {
    pub branch_no: i64,
    pub item_code: String,
    pub item_name: String,
    pub department_code: String,
    pub department_name: String,
    pub steps: Vec<StepDef>,
    pub step_index: i64,
    pub status: BranchStatus,
    pub step_started: Option<String>,
    /// Step deadline (date, China time).
    pub step_due: Option<String>,
    pub decided_at: Option<String>,
    /// The branch's own slice of the form (一表多拆).
    #[schema(value_type = Object)]
    pub form: crate::form::Values,
}

impl Branch {
    pub fn current_step(&self) -> Option<&StepDef> {
        if self.status == BranchStatus::Active {
            self.steps.get(self.step_index as usize)
        } else {
            None
        }
    }
}

/// A case (办件). Personal data is masked when serialised; staff pages read fields directly.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Case {
    pub case_id: String,
    /// 办件编号, 43 chars; none while a draft.
    pub case_number: Option<String>,
    pub target_kind: String,
    pub target_code: String,
    pub title: String,
    pub lead_department: String,
    pub lead_department_name: String,
    pub applicant_kind: ApplicantKind,
    #[serde(skip)]
    pub applicant_name: String,
    #[serde(skip)]
    pub applicant_id_number: String,
    #[serde(skip)]
    pub contact_phone: Option<String>,
    #[serde(skip)]
    pub owner: String,
    #[serde(skip)]
    pub account: Option<String>,
    pub channel: Channel,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    #[schema(value_type = Object)]
    pub form: crate::form::Values,
    pub delivery: Delivery,
    #[serde(skip)]
    pub delivery_address: Option<String>,
    pub submitted_at: Option<String>,
    pub accepted_at: Option<String>,
    pub concluded_at: Option<String>,
    /// Case deadline (date, China time).
    pub due_date: Option<String>,
    /// The clock is stopped from this date (补正).
    pub paused_since: Option<String>,
    pub corrections: i64,
    /// What the applicant must correct (一次性告知) while in correction.
    pub correction_note: Option<String>,
    pub decision_note: Option<String>,
    /// 实收费用 in fen, once the window records it (compared with the published fees by the
    /// supervision rules).
    pub fee_fen: Option<i64>,
    /// Optimistic lock: send it back with every action.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub branches: Vec<Branch>,
}

impl Case {
    pub fn applicant_name_masked(&self) -> String {
        match self.applicant_kind {
            ApplicantKind::Person => mask::mask_name(&self.applicant_name),
            ApplicantKind::Business => self.applicant_name.clone(),
        }
    }
    pub fn applicant_id_masked(&self) -> String {
        match self.applicant_kind {
            ApplicantKind::Person => mask::mask_id_number(&self.applicant_id_number),
            ApplicantKind::Business => self.applicant_id_number.clone(),
        }
    }
    pub fn phone_masked(&self) -> String {
        self.contact_phone.as_deref().map(mask::mask_phone).unwrap_or_default()
    }
    pub fn branch(&self, no: i64) -> Option<&Branch> {
        self.branches.iter().find(|b| b.branch_no == no)
    }
}

/// One line of the timeline. The acting staff member is recorded for audit but not shown to
/// applicants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    /// Row id once stored: the key of the event's entry in the tamper-evident ledger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub at: String,
    pub kind: EventKind,
    pub step: String,
    pub department_code: Option<String>,
    pub department_name: Option<String>,
    pub branch_no: Option<i64>,
    /// Public note (reasons, what to correct).
    pub note: String,
    #[serde(skip)]
    pub actor: Option<String>,
}

/// A row in a list of cases (applicant's list, staff queues).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseSummary {
    pub case_id: String,
    pub case_number: Option<String>,
    pub title: String,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    pub channel: Channel,
    #[serde(skip)]
    pub applicant_name: String,
    pub applicant_kind: ApplicantKind,
    pub submitted_at: Option<String>,
    pub due_date: Option<String>,
    pub updated_at: String,
    /// For queues: the branch and step waiting for the viewer's department.
    pub branch_no: Option<i64>,
    pub step_name: Option<String>,
    pub step_due: Option<String>,
    pub version: i64,
}

impl CaseSummary {
    pub fn applicant_name_masked(&self) -> String {
        match self.applicant_kind {
            ApplicantKind::Person => mask::mask_name(&self.applicant_name),
            ApplicantKind::Business => self.applicant_name.clone(),
        }
    }
}

/// A case as statistics see it: no personal data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseFact {
    pub case_id: String,
    pub target_kind: String,
    pub target_code: String,
    pub title: String,
    pub lead_department: String,
    pub lead_department_name: String,
    pub channel: Channel,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    pub delivery: Delivery,
    pub submitted_at: String,
    pub accepted_at: Option<String>,
    pub concluded_at: Option<String>,
    pub due_date: Option<String>,
    pub corrections: i64,
}

/// 时限颜色 deadline colour for queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// More than the warning margin left.
    Green,
    /// Within the warning margin.
    Yellow,
    /// Overdue.
    Red,
    /// No running clock (paused, finished, no deadline).
    None,
}

impl Urgency {
    pub fn key(self) -> &'static str {
        match self {
            Urgency::Green => "green",
            Urgency::Yellow => "yellow",
            Urgency::Red => "red",
            Urgency::None => "none",
        }
    }
}
