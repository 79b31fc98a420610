//! Per-item workflow definitions (办理流程定义) as data: the application form, pre-check
//! rules, whether the item may be approved automatically, and the department's steps. Items
//! without a definition get the generic form and the standard steps for their case kind.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_catalog::model::{CaseKind, Item};

use crate::error::CaseError;
use crate::form::FormDef;
use crate::model::StepDef;
use crate::precheck::{check_rule, Rule};

/// What a definition file or the API says about one item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowDef {
    #[serde(default)]
    pub form: Option<FormDef>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// 无人干预自动审批 when every rule passes.
    #[serde(default)]
    pub auto_approve: bool,
    #[serde(default)]
    pub steps: Vec<StepDef>,
    /// 联合审查: other departments that review the same application in parallel.
    #[serde(default)]
    pub joint_review: Vec<JointReview>,
    /// 先缴费后办理: the published fees every applicant pays are collected online after
    /// acceptance, and the departments start once they are paid. Otherwise fees (if any) are
    /// paid at the window and recorded there.
    #[serde(default)]
    pub pay_online: bool,
}

/// A department joining the review of an item (its own branch of the case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JointReview {
    /// Credit code of the reviewing department.
    pub department: String,
    /// What it reviews, e.g. 现场核查.
    pub name: String,
    /// Its steps (default: one 联合审查 step for its approvers).
    #[serde(default)]
    pub steps: Vec<StepDef>,
}

impl WorkflowDef {
    pub fn check(&self) -> Result<(), CaseError> {
        if let Some(f) = &self.form {
            f.check().map_err(CaseError::BadDefinition)?;
        }
        for r in &self.rules {
            check_rule(r).map_err(CaseError::BadDefinition)?;
        }
        let mut keys = std::collections::BTreeSet::new();
        for s in &self.steps {
            if s.key.is_empty() || s.name.trim().is_empty() {
                return Err(CaseError::BadDefinition("环节缺少代码或名称".into()));
            }
            if !keys.insert(s.key.as_str()) {
                return Err(CaseError::BadDefinition(format!("环节“{}”重复", s.key)));
            }
            if yiwang_identity::Role::parse(&s.role).is_none() {
                return Err(CaseError::BadDefinition(format!("环节“{}”的角色“{}”不存在", s.name, s.role)));
            }
        }
        for j in &self.joint_review {
            yiwang_core::codes::CreditCode::parse(&j.department)
                .map_err(|e| CaseError::BadDefinition(format!("联合审查部门代码无效：{e}")))?;
            if j.name.trim().is_empty() {
                return Err(CaseError::BadDefinition("联合审查缺少名称".into()));
            }
            let sub = WorkflowDef { steps: j.steps.clone(), ..Default::default() };
            sub.check()?;
        }
        Ok(())
    }
}

/// A definition resolved for one item, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub form: FormDef,
    pub rules: Vec<Rule>,
    pub auto_approve: bool,
    pub steps: Vec<StepDef>,
    pub joint_review: Vec<JointReview>,
    pub pay_online: bool,
}

fn step(key: &str, name: &str, name_en: &str) -> StepDef {
    StepDef { key: key.into(), name: name.into(), name_en: Some(name_en.into()), role: "approver".into(), days: None }
}

/// 审查 → 决定 for promised items; one 办理 step for on-the-spot items.
pub fn default_steps(kind: CaseKind) -> Vec<StepDef> {
    match kind {
        CaseKind::Promised => vec![step("review", "审查", "Review"), step("decide", "决定", "Decision")],
        CaseKind::Instant => vec![step("handle", "办理", "Handling")],
    }
}

impl Workflow {
    pub fn resolve(item: &Item, def: Option<WorkflowDef>) -> Workflow {
        let def = def.unwrap_or_default();
        Workflow {
            form: def.form.unwrap_or_else(FormDef::generic),
            rules: def.rules,
            auto_approve: def.auto_approve,
            pay_online: def.pay_online,
            steps: if def.steps.is_empty() { default_steps(item.doc.case_kind) } else { def.steps },
            joint_review: def
                .joint_review
                .into_iter()
                .map(|j| JointReview {
                    steps: if j.steps.is_empty() {
                        vec![StepDef {
                            key: "joint".into(),
                            name: "联合审查".into(),
                            name_en: Some("Joint review".into()),
                            role: "approver".into(),
                            days: None,
                        }]
                    } else {
                        j.steps
                    },
                    ..j
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_checked() {
        let ok: WorkflowDef =
            serde_yaml::from_str("steps: [{ key: a, name: 审查 }, { key: b, name: 决定, role: dept_admin, days: 2 }]").unwrap();
        ok.check().unwrap();
        let dup: WorkflowDef = serde_yaml::from_str("steps: [{ key: a, name: 审查 }, { key: a, name: 决定 }]").unwrap();
        assert!(dup.check().is_err());
        let role: WorkflowDef = serde_yaml::from_str("steps: [{ key: a, name: 审查, role: janitor }]").unwrap();
        assert!(role.check().is_err());
        let rule: WorkflowDef = serde_yaml::from_str("rules: [{ fact: nope, op: present, message: x }]").unwrap();
        assert!(rule.check().is_err());
    }
}
