//! The vocabulary of evaluation: alerts, ratings, follow-ups, tickets.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_core::labelled_enum;

labelled_enum!(
    /// 电子监察规则.
    Rule {
        CaseDeadline => "case_deadline", "办件时限", "Case deadline";
        StepDeadline => "step_deadline", "环节时限", "Step deadline";
        RefusalReason => "refusal_reason", "不予办理未说明理由", "Refusal without a reason";
        StepOrder => "step_order", "环节缺失或顺序异常", "Skipped or out-of-order step";
        FeeMismatch => "fee_mismatch", "收费与公示标准不符", "Fee differs from the published standard";
        Corrections => "corrections", "多次要求补正", "Repeated corrections";
        UnlistedItem => "unlisted_item", "受理未公示事项", "Accepted an item not in the published catalog";
        TicketDeadline => "ticket_deadline", "诉求办理时限", "Ticket deadline";
        FollowupDeadline => "followup_deadline", "差评整改时限", "Bad-review follow-up deadline";
    }
);

labelled_enum!(
    /// 预警级别.
    Level {
        Yellow => "yellow", "黄牌预警", "Yellow warning";
        Red => "red", "红牌警告", "Red alert";
    }
);

labelled_enum!(
    /// 预警处理状态.
    AlertStatus {
        Open => "open", "待说明", "Open";
        Explained => "explained", "已说明", "Explained";
        Rectified => "rectified", "已整改", "Rectified";
        Closed => "closed", "已办结", "Closed";
        Cleared => "cleared", "已自动消除", "Cleared";
    }
);

/// An alert (监察预警).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alert {
    pub alert_id: String,
    pub rule: Rule,
    /// Case id, ticket id or rating id.
    pub subject: String,
    pub scope: String,
    pub level: Level,
    pub status: AlertStatus,
    /// What people call the subject: case number, ticket number.
    pub reference: String,
    pub title: String,
    pub department_code: String,
    pub department_name: String,
    pub detail: String,
    pub explanation: Option<String>,
    pub rectification: Option<String>,
    pub closing_note: Option<String>,
    pub raised_at: String,
    pub red_at: Option<String>,
    pub updated_at: String,
    pub month: String,
}

impl Alert {
    /// Link for staff to the subject.
    pub fn link(&self) -> String {
        match self.rule {
            Rule::TicketDeadline => format!("/staff/oversight/tickets/{}", self.subject),
            Rule::FollowupDeadline => "/staff/oversight/followups".to_string(),
            _ => format!("/staff/cases/{}", self.subject),
        }
    }
}

/// A department's monthly score (部门考核分).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Score {
    pub department_code: String,
    pub department_name: String,
    pub red: i64,
    pub yellow: i64,
    pub bad_reviews: i64,
    pub score: i64,
}

labelled_enum!(
    /// 评价渠道.
    RatingKind {
        Case => "case", "网上办件评价（一事一评）", "Case (online)";
        Visit => "visit", "窗口评价（一次一评）", "Window visit";
    }
);

/// The five levels of 好差评 (STANDARDS.md).
pub fn level_label(level: i64) -> &'static str {
    match level {
        5 => "非常满意",
        4 => "满意",
        3 => "基本满意",
        2 => "不满意",
        1 => "非常不满意",
        _ => "",
    }
}

/// Online rating dimensions, 1–5 each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dimensions {
    /// 办事效率
    pub efficiency: Option<u8>,
    /// 指南准确
    pub guide_accuracy: Option<u8>,
    /// 办理便捷
    pub convenience: Option<u8>,
    /// 系统好用
    pub usability: Option<u8>,
}

/// What a rater sends.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RatingInput {
    /// 1 (非常不满意) to 5 (非常满意).
    pub level: i64,
    #[serde(default)]
    pub dimensions: Dimensions,
    #[serde(default)]
    pub comment: String,
}

/// A rating as published (the rater is never shown).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    pub rating_id: String,
    pub kind: RatingKind,
    pub case_id: Option<String>,
    pub department_code: String,
    pub department_name: String,
    pub item_code: String,
    pub item_name: String,
    pub level: i64,
    pub dimensions: Dimensions,
    pub comment: String,
    pub excluded: bool,
    pub created_at: String,
}

impl Rating {
    pub fn level_label(&self) -> &'static str {
        level_label(self.level)
    }
    pub fn is_bad(&self) -> bool {
        self.level <= 2
    }
}

labelled_enum!(
    /// 差评整改状态.
    FollowupStatus {
        Open => "open", "待整改答复", "Awaiting reply";
        Replied => "replied", "已答复", "Replied";
        Appealed => "appealed", "申诉中", "Appealed";
        Closed => "closed", "已办结", "Closed";
    }
);

/// 差评整改 a bad review's rectification task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Followup {
    pub rating: Rating,
    pub status: FollowupStatus,
    pub due_date: String,
    pub verification: Option<String>,
    pub rectification: Option<String>,
    pub reply: Option<String>,
    pub replied_at: Option<String>,
    pub appeal_reason: Option<String>,
    pub appeal_decision: Option<String>,
    pub closed_at: Option<String>,
}

/// A window visit waiting for its rating.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Visit {
    pub visit_id: String,
    pub department_name: String,
    pub item_name: String,
    pub expires_at: String,
    pub rated: bool,
}

labelled_enum!(
    /// 诉求类型.
    TicketKind {
        Consult => "consult", "咨询", "Enquiry";
        Complaint => "complaint", "投诉", "Complaint";
        Suggestion => "suggestion", "建议", "Suggestion";
        Report => "report", "举报", "Report";
        Help => "help", "求助", "Request for help";
    }
);

labelled_enum!(
    /// 办理时限类别.
    Priority {
        Urgent => "urgent", "紧急", "Urgent";
        General => "general", "一般", "General";
        Complex => "complex", "复杂", "Complex";
    }
);

labelled_enum!(
    /// 工单状态.
    TicketStatus {
        Received => "received", "已登记待派单", "Received";
        Dispatched => "dispatched", "已派单", "Dispatched";
        Handling => "handling", "办理中", "Being handled";
        Replied => "replied", "已答复", "Replied";
        Closed => "closed", "已办结", "Closed";
        Merged => "merged", "已合并", "Merged";
    }
);

impl TicketStatus {
    /// The deadline still runs.
    pub fn is_running(self) -> bool {
        matches!(self, TicketStatus::Received | TicketStatus::Dispatched | TicketStatus::Handling)
    }
}

/// A 12345 ticket (工单). Contact details are masked when serialised.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ticket {
    pub ticket_id: String,
    pub number: String,
    pub kind: TicketKind,
    pub priority: Priority,
    pub status: TicketStatus,
    pub title: String,
    pub content: String,
    pub item_code: Option<String>,
    pub item_name: Option<String>,
    pub department_code: Option<String>,
    pub department_name: Option<String>,
    #[serde(skip)]
    pub submitter: Option<String>,
    #[serde(skip)]
    pub account: Option<String>,
    #[serde(skip)]
    pub contact_name: Option<String>,
    #[serde(skip)]
    pub contact_phone: Option<String>,
    pub anonymous: bool,
    pub master_id: Option<String>,
    pub due_at: String,
    /// 0 on time; 1 overdue (督办); 2 overdue again (提级督办).
    pub escalation: i64,
    pub reply: Option<String>,
    pub replied_at: Option<String>,
    pub follow_up: Option<String>,
    pub satisfaction: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
}

impl Ticket {
    pub fn contact_masked(&self) -> String {
        let name = self.contact_name.as_deref().map(yiwang_core::mask::mask_name).unwrap_or_default();
        let phone = self.contact_phone.as_deref().map(yiwang_core::mask::mask_phone).unwrap_or_default();
        format!("{name} {phone}").trim().to_string()
    }
    /// China local time of the deadline, minutes precision.
    pub fn due_local(&self) -> String {
        crate::local_minutes(&self.due_at)
    }
}

/// One line of a ticket's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketEvent {
    pub at: String,
    pub kind: String,
    pub note: String,
}

/// What a citizen (or an anonymous reporter) sends.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TicketInput {
    pub kind: String,
    pub title: String,
    pub content: String,
    /// Implementation code of the item it is about.
    #[serde(default)]
    pub item_code: Option<String>,
    /// Credit code of the department it is about.
    #[serde(default)]
    pub department_code: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// Only reports (举报) may be anonymous.
    #[serde(default)]
    pub anonymous: bool,
}
