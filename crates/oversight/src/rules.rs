//! Electronic supervision rules (电子监察规则) as pure functions of a case, its timeline and the
//! published catalog, so each rule is testable without storage. Time rules use the case
//! module's own deadline colours, so the queue, the alerts and the case page always agree.
//!
//! Yellow findings are warnings that go away when the condition does (a step finished in
//! time); red findings are records of something that happened and stay until a supervisor
//! closes them.

use chrono::NaiveDate;
use yiwang_cases::engine::{urgency, yuan, ON_THE_SPOT_NOTE};
use yiwang_cases::{Case, CaseStatus, CaseView, EventKind, Urgency, WorkCalendar};

use crate::model::{Level, Rule};

/// Tunables of the rules.
#[derive(Debug, Clone)]
pub struct RuleSettings {
    /// Yellow this many working days before a deadline.
    pub warn_days: u32,
    /// More correction requests than this on one case raise an alert.
    pub max_corrections: i64,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings { warn_days: 1, max_corrections: 2 }
    }
}

/// What a rule found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: Rule,
    /// Which part of the subject (a branch's step, an event); empty for the whole case.
    pub scope: String,
    pub level: Level,
    pub department_code: String,
    pub department_name: String,
    pub detail: String,
}

/// The published standard the rules compare a case with.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Published fee amounts of the case's item(s), in fen; a case may owe any combination of
    /// them (some apply only when needed, e.g. a temporary ID card).
    pub fees: Vec<i64>,
    /// The published fees mention a waiver (减免).
    pub waivable: bool,
    /// Items of the case's branches that are not published now.
    pub unpublished: Vec<String>,
}

/// Words that are not a reason (“不予受理” with no why).
const NOT_A_REASON: &[&str] = &[
    "无",
    "没有",
    "其他",
    "其它",
    "略",
    "不符合",
    "不符合条件",
    "不符合要求",
    "不予受理",
    "不予许可",
    "不通过",
    "驳回",
    "拒绝",
    "不行",
    "不批",
];

/// A refusal note that gives no reason: empty, a placeholder, or too short to say anything.
pub fn is_reasonless(note: &str) -> bool {
    let core: String =
        note.chars().filter(|c| !c.is_ascii_punctuation() && !c.is_whitespace() && !"。，、；：！？（）“”".contains(*c)).collect();
    core.chars().count() < 4 || NOT_A_REASON.contains(&core.as_str())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// A deadline finding: red when overdue, yellow near it, nothing otherwise.
pub fn deadline(calendar: &WorkCalendar, today: NaiveDate, due: &str, running: bool, warn_days: u32) -> Option<(Level, String)> {
    let d = parse_date(due)?;
    match urgency(calendar, today, Some(due), running, warn_days) {
        Urgency::Red => Some((Level::Red, format!("已超过时限（{due}）{}个工作日", calendar.working_days_between(d, today).max(1)))),
        Urgency::Yellow => Some((Level::Yellow, format!("距时限（{due}）还有{}个工作日", calendar.working_days_between(today, d)))),
        _ => None,
    }
}

/// Everything the case's present state and timeline show (the sweep and every event).
pub fn state_findings(v: &CaseView, published: &Published, calendar: &WorkCalendar, today: NaiveDate, s: &RuleSettings) -> Vec<Finding> {
    let c = &v.case;
    let lead = |rule, scope: String, level, detail: String| Finding {
        rule,
        scope,
        level,
        department_code: c.lead_department.clone(),
        department_name: c.lead_department_name.clone(),
        detail,
    };
    let mut out = Vec::new();

    // 办件时限: the acceptance limit while waiting, the promised limit once accepted.
    let running = matches!(c.status, CaseStatus::Submitted | CaseStatus::InProgress);
    if let Some(due) = c.due_date.as_deref() {
        let what = if c.accepted_at.is_some() { "办结" } else { "受理审查" };
        if running {
            if let Some((level, d)) = deadline(calendar, today, due, true, s.warn_days) {
                out.push(lead(Rule::CaseDeadline, String::new(), level, format!("{what}{d}")));
            }
        } else if let Some(done) = c.concluded_at.as_deref().and_then(yiwang_cases::china_date_of) {
            if let Some(d) = parse_date(due).filter(|d| done > *d) {
                let late = calendar.working_days_between(d, done).max(1);
                out.push(lead(Rule::CaseDeadline, String::new(), Level::Red, format!("超期{late}个工作日办结（时限{due}）")));
            }
        }
    }

    // 环节时限 of every running step.
    if c.status == CaseStatus::InProgress {
        for b in &c.branches {
            let (Some(step), Some(due)) = (b.current_step(), b.step_due.as_deref()) else { continue };
            if let Some((level, d)) = deadline(calendar, today, due, true, s.warn_days) {
                out.push(Finding {
                    rule: Rule::StepDeadline,
                    scope: step_scope(b.branch_no, &step.key),
                    level,
                    department_code: b.department_code.clone(),
                    department_name: b.department_name.clone(),
                    detail: format!("{}“{}”环节{d}", b.department_name, step.name),
                });
            }
        }
    }

    // Refusals must say why; steps must run in order.
    let mut accepted = false;
    let mut position: std::collections::HashMap<i64, usize> = Default::default();
    for (i, e) in v.timeline.iter().enumerate() {
        let scope = format!("event:{}", e.id.unwrap_or(i as i64));
        let dept = |b: Option<i64>| match b.and_then(|no| c.branch(no)) {
            Some(b) => (b.department_code.clone(), b.department_name.clone()),
            None => (c.lead_department.clone(), c.lead_department_name.clone()),
        };
        let finding = |rule, detail: String| {
            let (code, name) = dept(e.branch_no);
            Finding { rule, scope: scope.clone(), level: Level::Red, department_code: code, department_name: name, detail }
        };
        if matches!(e.kind, EventKind::NotAccepted | EventKind::BranchRejected) && is_reasonless(&e.note) {
            out.push(finding(Rule::RefusalReason, format!("{}未说明具体理由（“{}”）", e.kind.label_zh(), e.note)));
        }
        match e.kind {
            EventKind::Accepted => accepted = true,
            EventKind::StepCompleted | EventKind::BranchApproved | EventKind::BranchRejected | EventKind::Returned => {
                let Some(b) = e.branch_no.and_then(|no| c.branch(no)) else { continue };
                if !accepted {
                    out.push(finding(Rule::StepOrder, format!("未受理即办理“{}”", e.step)));
                    continue;
                }
                let pos = position.entry(b.branch_no).or_insert(0);
                let expected = b.steps.get(*pos).map(|s| s.name.as_str());
                let on_the_spot = e.kind == EventKind::BranchApproved && e.note == ON_THE_SPOT_NOTE && *pos == 0;
                if on_the_spot {
                    *pos = b.steps.len();
                    continue;
                }
                if e.kind != EventKind::BranchRejected && expected != Some(e.step.as_str()) {
                    out.push(finding(
                        Rule::StepOrder,
                        format!("{}“{}”不是当前环节（应为“{}”）", b.department_name, e.step, expected.unwrap_or("无")),
                    ));
                }
                match e.kind {
                    EventKind::StepCompleted => *pos += 1,
                    EventKind::Returned => *pos = pos.saturating_sub(1),
                    EventKind::BranchApproved => {
                        if *pos + 1 != b.steps.len() {
                            out.push(finding(Rule::StepOrder, format!("{}跳过环节直接办结", b.department_name)));
                        }
                        *pos = b.steps.len();
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    // 收费: what the window recorded against the published standard.
    if let Some(fee) = c.fee_fen {
        let waived = fee == 0 && published.waivable && fee_note(v).contains('免');
        if !fee_allowed(fee, &published.fees) && !waived {
            let standard = if published.fees.is_empty() {
                "不收费".to_string()
            } else {
                published.fees.iter().map(|f| yuan(*f)).collect::<Vec<_>>().join("、")
            };
            out.push(lead(Rule::FeeMismatch, String::new(), Level::Red, format!("实收{}，公示收费标准：{standard}", yuan(fee))));
        }
    }

    if c.corrections > s.max_corrections {
        out.push(lead(
            Rule::Corrections,
            String::new(),
            Level::Red,
            format!("已要求补正{}次（上限{}次），未做到一次性告知", c.corrections, s.max_corrections),
        ));
    }
    out
}

/// What only the moment of a change shows: a step finished after its deadline, an item
/// accepted while not published.
pub fn transition_findings(
    before: Option<&Case>,
    after: &Case,
    published: &Published,
    calendar: &WorkCalendar,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(before) = before {
        for old in &before.branches {
            let (Some(step), Some(due)) = (old.current_step(), old.step_due.as_deref()) else { continue };
            let moved = after.branch(old.branch_no).is_none_or(|b| b.step_index != old.step_index || b.status != old.status);
            let Some(d) = parse_date(due) else { continue };
            if moved && today > d {
                out.push(Finding {
                    rule: Rule::StepDeadline,
                    scope: step_scope(old.branch_no, &step.key),
                    level: Level::Red,
                    department_code: old.department_code.clone(),
                    department_name: old.department_name.clone(),
                    detail: format!(
                        "{}“{}”环节超期{}个工作日完成（时限{due}）",
                        old.department_name,
                        step.name,
                        calendar.working_days_between(d, today).max(1)
                    ),
                });
            }
        }
    }
    let newly_accepted = after.accepted_at.is_some() && before.is_none_or(|b| b.accepted_at.is_none());
    if newly_accepted && !published.unpublished.is_empty() {
        out.push(Finding {
            rule: Rule::UnlistedItem,
            scope: String::new(),
            level: Level::Red,
            department_code: after.lead_department.clone(),
            department_name: after.lead_department_name.clone(),
            detail: format!("受理时事项未在公示目录中：{}", published.unpublished.join("、")),
        });
    }
    out
}

/// Whether `fee` is what some combination of the published fees adds up to.
pub fn fee_allowed(fee: i64, published: &[i64]) -> bool {
    if fee == 0 {
        return published.iter().all(|f| *f == 0);
    }
    // Items publish a handful of fees; beyond 16 only the exact total and single fees count.
    if published.len() > 16 {
        return fee == published.iter().sum::<i64>() || published.contains(&fee);
    }
    (1u32..(1 << published.len()))
        .any(|mask| published.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, f)| f).sum::<i64>() == fee)
}

fn step_scope(branch: i64, step: &str) -> String {
    format!("branch:{branch}:{step}")
}

fn fee_note(v: &CaseView) -> String {
    v.timeline.iter().rev().find(|e| e.kind == EventKind::FeeCharged).map(|e| e.note.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn placeholders_are_not_reasons() {
        assert!(is_reasonless(""));
        assert!(is_reasonless("无"));
        assert!(is_reasonless("不符合条件。"));
        assert!(is_reasonless("不行"));
        assert!(!is_reasonless("申请人不满18周岁，不符合《条例》第五条"));
        assert!(!is_reasonless("缺少户口簿原件"));
    }

    #[test]
    fn fees_may_combine_published_amounts() {
        assert!(fee_allowed(2000, &[2000, 1000]));
        assert!(fee_allowed(3000, &[2000, 1000]));
        assert!(!fee_allowed(2500, &[2000, 1000]));
        assert!(!fee_allowed(500, &[]));
        assert!(fee_allowed(0, &[]));
        assert!(!fee_allowed(0, &[2000]), "free only with a waiver");
    }

    proptest! {
        #[test]
        fn reason_check_never_panics(s in "\\PC{0,50}") {
            let _ = is_reasonless(&s);
        }
    }
}
