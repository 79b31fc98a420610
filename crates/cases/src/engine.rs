//! The workflow engine: a pure transition from a case's state and an action to the next state,
//! its timeline events and the notice for the applicant. No I/O here, so every rule of the
//! process (who may act, in which status, how the clock runs) is testable without a database;
//! the service writes the result in one transaction guarded by the case's version.
//!
//! Shape of every case: 受理 by a window of the lead department → each department's branch runs
//! its own steps in parallel (并联审批) → 办结 when every branch has decided → 送达.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_identity::{Role, Staff};

use crate::calendar::WorkCalendar;
use crate::error::{CaseError, Result};
use crate::model::{BranchStatus, Case, CaseStatus, Delivery, Event, EventKind, Outcome, Urgency};

/// A staff action on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// 受理. `on_the_spot` finishes an on-the-spot item (即办件) at once.
    Accept {
        #[serde(default)]
        on_the_spot: bool,
    },
    /// 不予受理, with the reason the applicant sees.
    NotAccept { reason: String },
    /// 一次性告知补正: everything to correct, at once. The clock stops.
    RequestCorrection { note: String },
    /// Complete the current step of a branch (the last step approves the branch).
    Approve {
        branch: i64,
        #[serde(default)]
        note: String,
    },
    /// 不予许可 for a branch, with the reason.
    Reject { branch: i64, reason: String },
    /// 退回 a branch to its previous step.
    Return { branch: i64, reason: String },
    /// 送达 the result (window pickup or courier handed over).
    Deliver {
        #[serde(default)]
        note: String,
    },
    /// 缴费确认: the fee due at acceptance was paid (the payment module, on a verified
    /// callback; or the window, for payment on the spot). The clock restarts.
    ConfirmPayment {
        amount_fen: i64,
        #[serde(default)]
        reference: String,
    },
    /// 费用减免: the window waives the fee due, with the basis.
    WaiveFee { reason: String },
    /// 寄递进度 from the courier (platform only).
    Track { note: String },
    /// 收费登记: the window records the fee actually charged (in fen), with its basis or the
    /// waiver applied. Supervision compares it with the published fees.
    ChargeFee {
        amount_fen: i64,
        #[serde(default)]
        note: String,
    },
}

impl Action {
    pub fn label_zh(&self) -> &'static str {
        match self {
            Action::Accept { on_the_spot: true } => "受理并当场办结",
            Action::Accept { .. } => "受理",
            Action::NotAccept { .. } => "不予受理",
            Action::RequestCorrection { .. } => "一次性告知补正",
            Action::Approve { .. } => "通过",
            Action::Reject { .. } => "不予许可",
            Action::Return { .. } => "退回",
            Action::Deliver { .. } => "送达",
            Action::ChargeFee { .. } => "收费登记",
            Action::ConfirmPayment { .. } => "缴费确认",
            Action::WaiveFee { .. } => "费用减免",
            Action::Track { .. } => "寄递进度",
        }
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The applicant (already checked to own the case).
    Applicant,
    Staff(&'a Staff),
    /// Automatic approval and other platform decisions.
    System,
}

impl Actor<'_> {
    fn name(&self) -> Option<String> {
        match self {
            Actor::Applicant => None,
            Actor::Staff(s) => Some(s.username.clone()),
            Actor::System => Some("system".into()),
        }
    }
}

/// What to tell the applicant.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// A transition's result: the new state and what happened.
#[derive(Debug, Clone)]
pub struct Change {
    pub case: Case,
    /// Branch numbers whose rows changed.
    pub branches: Vec<i64>,
    pub events: Vec<Event>,
    pub notice: Option<Notice>,
}

/// Note of a branch finished at acceptance (即办件): the one approval that skips the steps.
pub const ON_THE_SPOT_NOTE: &str = "当场办结";

/// Stands for the case number in a notice written before the number exists (submission, window
/// acceptance); the service replaces it when it assigns the number.
pub const NUMBER_PLACEHOLDER: &str = "{办件编号}";

fn number_of(case: &Case) -> String {
    case.case_number.clone().unwrap_or_else(|| NUMBER_PLACEHOLDER.to_string())
}

/// Money for people: 25.00元.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}元", fen / 100, fen % 100)
}

pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The moment and the working calendar a transition runs against.
pub struct Context<'a> {
    pub now: String,
    pub today: NaiveDate,
    pub calendar: &'a WorkCalendar,
    /// Working days the window has to accept or refuse an application.
    pub accept_days: u32,
    /// Case limit in working days (承诺时限); 0 = on the spot.
    pub promised_days: u32,
    /// Fee due at acceptance (published fees that always apply), in fen; the case waits for
    /// payment before any department starts.
    pub fee_fen: i64,
}

struct Builder<'a> {
    ctx: &'a Context<'a>,
    case: Case,
    branches: Vec<i64>,
    events: Vec<Event>,
    notice: Option<Notice>,
    actor: Option<String>,
}

impl Builder<'_> {
    fn event(&mut self, kind: EventKind, step: &str, branch: Option<i64>, note: &str) {
        let (dept_code, dept_name) = match branch.and_then(|b| self.case.branch(b)) {
            Some(b) => (b.department_code.clone(), b.department_name.clone()),
            None => (self.case.lead_department.clone(), self.case.lead_department_name.clone()),
        };
        self.events.push(Event {
            id: None,
            at: self.ctx.now.clone(),
            kind,
            step: step.to_string(),
            department_code: Some(dept_code),
            department_name: Some(dept_name),
            branch_no: branch,
            note: note.to_string(),
            actor: self.actor.clone(),
        });
    }

    fn notify(&mut self, title: String, body: String) {
        self.notice = Some(Notice { title, body });
    }

    fn touch(&mut self, b: i64) {
        if !self.branches.contains(&b) {
            self.branches.push(b);
        }
    }

    fn branch_mut(&mut self, no: i64) -> Result<&mut crate::model::Branch> {
        self.case.branches.iter_mut().find(|b| b.branch_no == no).ok_or(CaseError::NotFound)
    }

    fn step_due(&self, days: Option<u32>) -> Option<String> {
        days.map(|d| date_text(self.ctx.calendar.add_working_days(self.ctx.today, d)))
    }

    /// Start a branch's step `index` now.
    fn start_step(&mut self, no: i64, index: i64) -> Result<()> {
        let now = self.ctx.now.clone();
        let days = self.case.branch(no).and_then(|b| b.steps.get(index as usize)).and_then(|s| s.days);
        let due = self.step_due(days);
        let b = self.branch_mut(no)?;
        b.step_index = index;
        b.status = BranchStatus::Active;
        b.step_started = Some(now);
        b.step_due = due;
        self.touch(no);
        Ok(())
    }

    /// Restart a stopped clock: every running deadline moves by the working days it stood.
    fn resume_clock(&mut self) -> Result<u32> {
        let ctx = self.ctx;
        let paused =
            self.case.paused_since.as_deref().and_then(parse_date).map(|d| ctx.calendar.working_days_between(d, ctx.today)).unwrap_or(0);
        let shift = |s: &Option<String>| -> Option<String> {
            s.as_deref().and_then(parse_date).map(|d| date_text(ctx.calendar.add_working_days(d, paused)))
        };
        self.case.due_date = shift(&self.case.due_date);
        let active: Vec<i64> = self.case.branches.iter().filter(|x| x.status == BranchStatus::Active).map(|x| x.branch_no).collect();
        for no in active {
            let due = shift(&self.case.branch(no).and_then(|x| x.step_due.clone()));
            self.branch_mut(no)?.step_due = due;
            self.touch(no);
        }
        self.case.paused_since = None;
        Ok(paused)
    }

    /// Payment settled (paid or waived): the clock restarts and every department begins.
    fn start_after_payment(&mut self) -> Result<()> {
        self.resume_clock()?;
        self.case.status = CaseStatus::InProgress;
        let nos: Vec<i64> = self.case.branches.iter().map(|x| x.branch_no).collect();
        for no in nos {
            self.start_step(no, 0)?;
        }
        Ok(())
    }

    /// Close the case when every branch has decided (办结), and deliver electronic results.
    fn conclude_if_done(&mut self) {
        let decided = self.case.branches.iter().all(|b| matches!(b.status, BranchStatus::Approved | BranchStatus::Rejected));
        if !decided || self.case.status != CaseStatus::InProgress {
            return;
        }
        let approved = self.case.branches.iter().filter(|b| b.status == BranchStatus::Approved).count();
        let outcome = match approved {
            0 => Outcome::Rejected,
            n if n == self.case.branches.len() => Outcome::Approved,
            _ => Outcome::Partial,
        };
        self.case.outcome = Some(outcome);
        self.case.status = CaseStatus::Concluded;
        self.case.concluded_at = Some(self.ctx.now.clone());
        let note = format!("办理结果：{}", outcome.label_zh());
        self.event(EventKind::Concluded, "办结", None, &note);
        let mut body = format!("您的“{}”已办结，{}。", self.case.title, note);
        match self.case.delivery {
            Delivery::Electronic => {
                self.case.status = CaseStatus::Delivered;
                self.event(EventKind::Delivered, "送达", None, "结果已电子送达至您的账户");
                body.push_str("结果已电子送达，可在“我的办件”中查看。");
            }
            Delivery::Window => body.push_str("请携带有效身份证件到窗口领取结果。"),
            Delivery::Courier => body.push_str("结果将免费邮寄给您。"),
        }
        self.notify("办件已办结".into(), body);
    }

    fn finish(self) -> Change {
        let mut case = self.case;
        case.updated_at = self.ctx.now.clone();
        Change { case, branches: self.branches, events: self.events, notice: self.notice }
    }
}

fn require_text(s: &str, what: &'static str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(CaseError::InvalidField { field: what.into(), message: "必须填写，申请人会看到这段说明".into() });
    }
    if t.chars().count() > 2000 {
        return Err(CaseError::InvalidField { field: what.into(), message: "不能超过2000字".into() });
    }
    Ok(t.to_string())
}

fn has_role(staff: &Staff, role: &str) -> bool {
    Role::parse(role).is_some_and(|r| staff.roles.contains(&r))
}

fn in_department(staff: &Staff, dept: &str) -> bool {
    staff.department.as_deref() == Some(dept)
}

/// Window staff of the lead department (一窗受理): they accept, refuse and deliver.
pub fn is_lead_window(staff: &Staff, case: &Case) -> bool {
    has_role(staff, "window") && in_department(staff, &case.lead_department)
}

/// Whether the staff member may act on the branch's current step (its department, the step's
/// role). False when the branch has no running step.
pub fn may_act_on_branch(staff: &Staff, case: &Case, no: i64) -> bool {
    case.branch(no)
        .and_then(|b| b.current_step().map(|s| (b, s)))
        .is_some_and(|(b, step)| in_department(staff, &b.department_code) && has_role(staff, &step.role))
}

/// 即办件: finished on the spot only when nothing is promised for later and the lead
/// department does it all.
pub fn can_finish_on_the_spot(case: &Case, promised_days: u32) -> bool {
    promised_days == 0 && case.branches.iter().all(|x| x.department_code == case.lead_department)
}

fn require_window(staff: &Staff, case: &Case) -> Result<()> {
    if is_lead_window(staff, case) {
        Ok(())
    } else {
        Err(CaseError::Forbidden)
    }
}

fn require_step_actor(staff: &Staff, case: &Case, no: i64) -> Result<()> {
    let b = case.branch(no).ok_or(CaseError::NotFound)?;
    if b.current_step().is_none() {
        return Err(CaseError::WrongState(b.status.label_zh()));
    }
    if may_act_on_branch(staff, case, no) {
        Ok(())
    } else {
        Err(CaseError::Forbidden)
    }
}

/// Whether staff may read a case: its departments, supervisors, platform admins.
pub fn staff_can_view(staff: &Staff, case: &Case) -> bool {
    staff.roles.iter().any(|r| matches!(r, Role::Supervisor | Role::PlatformAdmin))
        || staff.department.as_deref().is_some_and(|d| d == case.lead_department || case.branches.iter().any(|b| b.department_code == d))
}

/// Submission of a checked draft. Branches are created by the caller (they need the catalog).
pub fn submit(ctx: &Context<'_>, case: &Case, auto_note: Option<&str>) -> Result<Change> {
    if case.status != CaseStatus::Draft {
        return Err(CaseError::WrongState(case.status.label_zh()));
    }
    let mut b = Builder { ctx, case: case.clone(), branches: vec![], events: vec![], notice: None, actor: None };
    b.case.status = CaseStatus::Submitted;
    b.case.submitted_at = Some(ctx.now.clone());
    b.case.due_date = Some(date_text(ctx.calendar.add_working_days(ctx.today, ctx.accept_days)));
    let nos: Vec<i64> = b.case.branches.iter().map(|x| x.branch_no).collect();
    for no in nos {
        b.touch(no);
    }
    b.event(EventKind::Submitted, "申请", None, "");
    if let Some(note) = auto_note {
        b.event(EventKind::Prechecked, "预审", None, note);
    }
    let body = format!(
        "您的“{}”已提交，办件编号 {}，我们将在{}前完成受理审查。",
        b.case.title,
        number_of(case),
        b.case.due_date.clone().unwrap_or_default()
    );
    b.notify("申请已提交".into(), body);
    Ok(b.finish())
}

/// The applicant resubmits after a correction request; the clock resumes and every running
/// deadline moves by the working days it was stopped.
pub fn resubmit(ctx: &Context<'_>, case: &Case) -> Result<Change> {
    if case.status != CaseStatus::Correction {
        return Err(CaseError::WrongState(case.status.label_zh()));
    }
    let mut b = Builder { ctx, case: case.clone(), branches: vec![], events: vec![], notice: None, actor: None };
    let paused = b.resume_clock()?;
    b.case.correction_note = None;
    b.case.status = if b.case.accepted_at.is_some() { CaseStatus::InProgress } else { CaseStatus::Submitted };
    let note = if paused > 0 { format!("办理时限顺延{paused}个工作日") } else { String::new() };
    b.event(EventKind::Resubmitted, "补正", None, &note);
    Ok(b.finish())
}

/// The applicant withdraws before acceptance.
pub fn withdraw(ctx: &Context<'_>, case: &Case) -> Result<Change> {
    let allowed = matches!(case.status, CaseStatus::Submitted | CaseStatus::AwaitingPayment)
        || (case.status == CaseStatus::Correction && case.accepted_at.is_none());
    if !allowed {
        return Err(CaseError::WrongState(case.status.label_zh()));
    }
    let mut b = Builder { ctx, case: case.clone(), branches: vec![], events: vec![], notice: None, actor: None };
    b.case.status = CaseStatus::Withdrawn;
    b.case.paused_since = None;
    b.event(EventKind::Withdrawn, "撤回", None, "");
    Ok(b.finish())
}

/// A staff (or system) action.
pub fn act(ctx: &Context<'_>, case: &Case, actor: Actor<'_>, action: &Action) -> Result<Change> {
    let staff = match actor {
        Actor::Staff(s) => Some(s),
        Actor::System => None,
        Actor::Applicant => return Err(CaseError::Forbidden),
    };
    let check = |f: &dyn Fn(&Staff) -> Result<()>| staff.map(f).unwrap_or(Ok(()));
    let mut b = Builder { ctx, case: case.clone(), branches: vec![], events: vec![], notice: None, actor: actor.name() };
    let status = case.status;
    let wrong = || CaseError::WrongState(status.label_zh());
    match action {
        Action::Accept { on_the_spot } => {
            if status != CaseStatus::Submitted {
                return Err(wrong());
            }
            check(&|s| require_window(s, case))?;
            b.case.status = CaseStatus::InProgress;
            b.case.accepted_at = Some(ctx.now.clone());
            b.case.due_date = Some(date_text(ctx.calendar.add_working_days(ctx.today, ctx.promised_days)));
            let nos: Vec<i64> = b.case.branches.iter().map(|x| x.branch_no).collect();
            if ctx.fee_fen > 0 && !*on_the_spot {
                // 先缴费后办理: the clock stands until the fee is paid.
                b.case.status = CaseStatus::AwaitingPayment;
                b.case.paused_since = Some(date_text(ctx.today));
                b.event(EventKind::Accepted, "受理", None, "");
                let due = format!("应缴费用{}，缴费后开始办理，办理时限自缴费之日起计算", yuan(ctx.fee_fen));
                b.event(EventKind::PaymentRequested, "缴费", None, &due);
                b.notify(
                    "申请已受理，请缴费".into(),
                    format!("您的“{}”已受理，办件编号 {}。{due}，请在办件页面在线缴费。", case.title, number_of(case)),
                );
                return Ok(b.finish());
            }
            for no in &nos {
                b.start_step(*no, 0)?;
            }
            b.event(EventKind::Accepted, "受理", None, "");
            if *on_the_spot {
                if !can_finish_on_the_spot(case, ctx.promised_days) {
                    return Err(CaseError::Refused("只有本部门的即办件可以当场办结".into()));
                }
                for no in &nos {
                    let steps = b.case.branch(*no).map(|x| x.steps.len()).unwrap_or(0);
                    let br = b.branch_mut(*no)?;
                    br.step_index = steps as i64;
                    br.status = BranchStatus::Approved;
                    br.decided_at = Some(ctx.now.clone());
                    b.event(EventKind::BranchApproved, "办理", Some(*no), ON_THE_SPOT_NOTE);
                }
                if b.case.delivery != Delivery::Electronic {
                    // Handed over at the window on the spot.
                    b.case.delivery = Delivery::Window;
                }
                b.conclude_if_done();
                if b.case.status == CaseStatus::Concluded {
                    b.case.status = CaseStatus::Delivered;
                    b.event(EventKind::Delivered, "送达", None, "当场领取");
                }
            } else {
                b.notify(
                    "申请已受理".into(),
                    format!(
                        "您的“{}”已受理，办件编号 {}，承诺在{}前办结。",
                        case.title,
                        number_of(case),
                        b.case.due_date.clone().unwrap_or_default()
                    ),
                );
            }
        }
        Action::NotAccept { reason } => {
            if status != CaseStatus::Submitted {
                return Err(wrong());
            }
            check(&|s| require_window(s, case))?;
            let reason = require_text(reason, "reason")?;
            b.case.status = CaseStatus::NotAccepted;
            b.case.decision_note = Some(reason.clone());
            b.event(EventKind::NotAccepted, "受理", None, &reason);
            b.notify("申请不予受理".into(), format!("您的“{}”不予受理。理由：{reason}", case.title));
        }
        Action::RequestCorrection { note } => {
            let note = require_text(note, "note")?;
            let branch = match status {
                CaseStatus::Submitted => {
                    check(&|s| require_window(s, case))?;
                    None
                }
                CaseStatus::InProgress => {
                    // Any department currently handling a step may ask; its branch is named.
                    let mine = case.branches.iter().find(|x| staff.is_none_or(|s| require_step_actor(s, case, x.branch_no).is_ok()));
                    match mine {
                        Some(x) => Some(x.branch_no),
                        None => return Err(CaseError::Forbidden),
                    }
                }
                _ => return Err(wrong()),
            };
            b.case.status = CaseStatus::Correction;
            b.case.paused_since = Some(date_text(ctx.today));
            b.case.corrections += 1;
            b.case.correction_note = Some(note.clone());
            b.event(EventKind::CorrectionRequested, "补正", branch, &note);
            b.notify("请补正申请材料".into(), format!("您的“{}”需要补正（办理时限暂停）：{note}", case.title));
        }
        Action::Approve { branch, note } => {
            if status != CaseStatus::InProgress {
                return Err(wrong());
            }
            check(&|s| require_step_actor(s, case, *branch))?;
            let br = case.branch(*branch).ok_or(CaseError::NotFound)?;
            let step = br.current_step().ok_or_else(|| CaseError::WrongState(br.status.label_zh()))?.clone();
            let next = br.step_index + 1;
            if (next as usize) < br.steps.len() {
                b.event(EventKind::StepCompleted, &step.name, Some(*branch), note.trim());
                b.start_step(*branch, next)?;
            } else {
                let x = b.branch_mut(*branch)?;
                x.step_index = next;
                x.status = BranchStatus::Approved;
                x.decided_at = Some(ctx.now.clone());
                x.step_due = None;
                b.touch(*branch);
                b.event(EventKind::BranchApproved, &step.name, Some(*branch), note.trim());
                b.conclude_if_done();
            }
        }
        Action::Reject { branch, reason } => {
            if status != CaseStatus::InProgress {
                return Err(wrong());
            }
            check(&|s| require_step_actor(s, case, *branch))?;
            let reason = require_text(reason, "reason")?;
            let step = case.branch(*branch).and_then(|x| x.current_step()).map(|s| s.name.clone()).unwrap_or_default();
            let x = b.branch_mut(*branch)?;
            x.status = BranchStatus::Rejected;
            x.decided_at = Some(ctx.now.clone());
            x.step_due = None;
            b.touch(*branch);
            b.event(EventKind::BranchRejected, &step, Some(*branch), &reason);
            b.case.decision_note = Some(reason);
            b.conclude_if_done();
        }
        Action::Return { branch, reason } => {
            if status != CaseStatus::InProgress {
                return Err(wrong());
            }
            check(&|s| require_step_actor(s, case, *branch))?;
            let reason = require_text(reason, "reason")?;
            let br = case.branch(*branch).ok_or(CaseError::NotFound)?;
            if br.step_index == 0 {
                return Err(CaseError::Refused("已是第一个环节，不能退回；如需申请人补正请使用“一次性告知补正”".into()));
            }
            let step = br.current_step().map(|s| s.name.clone()).unwrap_or_default();
            b.start_step(*branch, br.step_index - 1)?;
            b.event(EventKind::Returned, &step, Some(*branch), &reason);
        }
        Action::Deliver { note } => {
            if status != CaseStatus::Concluded {
                return Err(wrong());
            }
            check(&|s| require_window(s, case))?;
            b.case.status = CaseStatus::Delivered;
            let note = if note.trim().is_empty() { b.case.delivery.label_zh().to_string() } else { note.trim().to_string() };
            b.event(EventKind::Delivered, "送达", None, &note);
            b.notify("办理结果已送达".into(), format!("您的“{}”办理结果已送达（{note}）。", case.title));
        }
        Action::ConfirmPayment { amount_fen, reference } => {
            if status != CaseStatus::AwaitingPayment {
                return Err(wrong());
            }
            check(&|s| require_window(s, case))?;
            if *amount_fen != ctx.fee_fen {
                return Err(CaseError::InvalidField {
                    field: "amount_fen".into(),
                    message: format!("缴费金额{}与应缴{}不符", yuan(*amount_fen), yuan(ctx.fee_fen)),
                });
            }
            b.case.fee_fen = Some(*amount_fen);
            b.start_after_payment()?;
            let note =
                if reference.trim().is_empty() { yuan(*amount_fen) } else { format!("{}（{}）", yuan(*amount_fen), reference.trim()) };
            b.event(EventKind::PaymentReceived, "缴费", None, &note);
            b.notify(
                "缴费成功".into(),
                format!(
                    "您的“{}”已缴费{}，开始办理，承诺在{}前办结。",
                    case.title,
                    yuan(*amount_fen),
                    b.case.due_date.clone().unwrap_or_default()
                ),
            );
        }
        Action::WaiveFee { reason } => {
            if status != CaseStatus::AwaitingPayment {
                return Err(wrong());
            }
            check(&|s| require_window(s, case))?;
            let reason = require_text(reason, "reason")?;
            b.case.fee_fen = Some(0);
            b.start_after_payment()?;
            b.event(EventKind::FeeWaived, "缴费", None, &format!("免收费用：{reason}"));
        }
        Action::Track { note } => {
            if status != CaseStatus::Concluded || case.delivery != Delivery::Courier {
                return Err(wrong());
            }
            if staff.is_some() {
                return Err(CaseError::Forbidden);
            }
            let note = require_text(note, "note")?;
            b.event(EventKind::DeliveryUpdate, "送达", None, &note);
        }
        Action::ChargeFee { amount_fen, note } => {
            if !matches!(status, CaseStatus::InProgress | CaseStatus::Concluded) {
                return Err(wrong());
            }
            check(&|s| require_window(s, case))?;
            if !(0..=100_000_000_000).contains(amount_fen) {
                return Err(CaseError::InvalidField { field: "amount_fen".into(), message: "金额无效".into() });
            }
            b.case.fee_fen = Some(*amount_fen);
            let text = if note.trim().is_empty() { yuan(*amount_fen) } else { format!("{}（{}）", yuan(*amount_fen), note.trim()) };
            b.event(EventKind::FeeCharged, "收费", None, &text);
        }
    }
    Ok(b.finish())
}

/// Deadline colour: red when overdue, yellow within `warn_days` working days.
pub fn urgency(calendar: &WorkCalendar, today: NaiveDate, due: Option<&str>, running: bool, warn_days: u32) -> Urgency {
    let Some(due) = due.and_then(parse_date) else { return Urgency::None };
    if !running {
        return Urgency::None;
    }
    if due < today {
        Urgency::Red
    } else if calendar.working_days_between(today, due) <= warn_days {
        Urgency::Yellow
    } else {
        Urgency::Green
    }
}
