//! 智慧审批 automatic pre-check: declarative rules per item over the form, the applicant and
//! the materials. Every failure is reported at once (一次性告知); an item marked `auto_approve`
//! is approved without a person when nothing fails.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_core::codes::CitizenId;

use crate::form::{FormDef, Values};
use crate::model::{Applicant, ApplicantKind};

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Present,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
}

/// One rule: `fact op value`, with the message the applicant sees when it fails.
///
/// Facts: `form.<field>`, `material.<name>` (uploaded or satisfied), `applicant.kind`
/// (`person`/`business`), `applicant.age` (years, from the ID number), `applicant.assurance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    pub fact: String,
    pub op: Op,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    pub message: String,
    /// Only check when this form field has this value (e.g. only for 有限责任公司).
    #[serde(default)]
    pub when: Option<crate::form::ShowIf>,
}

/// What a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    Field,
    Material,
    Rule,
}

/// One item of the one-time notice.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Field key, material name or rule fact.
    pub target: String,
    /// Field label, material name or rule fact, for people.
    pub label: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}：{}", self.label, self.message)
    }
}

/// What the rules can look at.
pub struct Facts<'a> {
    pub form: &'a Values,
    pub applicant: &'a Applicant,
    /// Names of materials that are uploaded or satisfied by a held licence.
    pub materials: &'a BTreeSet<String>,
    pub today: NaiveDate,
}

impl Facts<'_> {
    fn get(&self, fact: &str) -> Option<serde_json::Value> {
        use serde_json::Value;
        if let Some(k) = fact.strip_prefix("form.") {
            return self.form.get(k).map(|v| {
                v.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::String(v.clone()))
            });
        }
        if let Some(m) = fact.strip_prefix("material.") {
            return self.materials.contains(m).then_some(Value::Bool(true));
        }
        match fact {
            "applicant.kind" => Some(Value::String(match self.applicant.kind {
                ApplicantKind::Person => "person".into(),
                ApplicantKind::Business => "business".into(),
            })),
            "applicant.assurance" => Some(Value::from(self.applicant.assurance)),
            "applicant.age" => {
                let id = CitizenId::parse(&self.applicant.person_id_number).ok()?;
                let born = id.birth_date()?;
                self.today.years_since(born).map(Value::from)
            }
            _ => None,
        }
    }
}

fn compare(a: &serde_json::Value, op: Op, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match op {
        Op::Present => true,
        Op::Eq => num(a).zip(num(b)).map(|(x, y)| x == y).unwrap_or_else(|| text(a) == text(b)),
        Op::Ne => !compare(a, Op::Eq, b),
        Op::Gt | Op::Ge | Op::Lt | Op::Le => match (num(a), num(b)) {
            (Some(x), Some(y)) => match op {
                Op::Gt => x > y,
                Op::Ge => x >= y,
                Op::Lt => x < y,
                _ => x <= y,
            },
            _ => false,
        },
        Op::In => b.as_array().is_some_and(|opts| opts.iter().any(|o| compare(a, Op::Eq, o))),
    }
}

/// Check a rule's shape when definitions are loaded.
pub fn check_rule(r: &Rule) -> Result<(), String> {
    let known = r.fact.starts_with("form.")
        || r.fact.starts_with("material.")
        || matches!(r.fact.as_str(), "applicant.kind" | "applicant.age" | "applicant.assurance");
    if !known {
        return Err(format!("未知的预审事实“{}”", r.fact));
    }
    if r.op == Op::In && !r.value.is_array() {
        return Err(format!("规则“{}”的 in 需要列表", r.fact));
    }
    if r.message.trim().is_empty() {
        return Err(format!("规则“{}”缺少提示语", r.fact));
    }
    Ok(())
}

/// The form's own checks as one-time-notice problems.
pub fn form_problems(form: &FormDef, values: &Values) -> Vec<Problem> {
    form.validate(values)
        .into_iter()
        .map(|p| Problem { kind: ProblemKind::Field, target: p.field, label: p.label, message: p.message })
        .collect()
}

/// Run everything: form validation, required materials, rules. Empty means the application
/// passes pre-check.
pub fn run(form: &FormDef, required_materials: &[String], rules: &[Rule], facts: &Facts<'_>) -> Vec<Problem> {
    let mut out = form_problems(form, facts.form);
    for m in required_materials {
        if !facts.materials.contains(m) {
            out.push(Problem { kind: ProblemKind::Material, target: m.clone(), label: m.clone(), message: "未提交".into() });
        }
    }
    for r in rules {
        if let Some(w) = &r.when {
            if facts.form.get(&w.field) != Some(&w.equals) {
                continue;
            }
        }
        let ok = match facts.get(&r.fact) {
            Some(v) => compare(&v, r.op, &r.value),
            None => false,
        };
        if !ok {
            let label =
                r.fact.strip_prefix("form.").and_then(|k| form.field(k)).map(|f| f.label.clone()).unwrap_or_else(|| "申请条件".into());
            out.push(Problem { kind: ProblemKind::Rule, target: r.fact.clone(), label, message: r.message.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applicant(id: &str) -> Applicant {
        Applicant {
            account: Some("p1".into()),
            kind: ApplicantKind::Person,
            name: "张三".into(),
            id_number: id.into(),
            person_id_number: id.into(),
            person_name: "张三".into(),
            phone: Some("13800138000".into()),
            assurance: 2,
            address: None,
        }
    }

    fn rule(y: &str) -> Rule {
        serde_yaml::from_str(y).unwrap()
    }

    #[test]
    fn rules_report_every_failure() {
        let form: FormDef = serde_yaml::from_str(
            "fields: [{ key: capital, label: 注册资本, kind: number, required: true }, { key: kind, label: 类型, kind: text }]",
        )
        .unwrap();
        let rules = vec![
            rule("{ fact: applicant.age, op: ge, value: 18, message: 申请人须年满18周岁 }"),
            rule("{ fact: form.capital, op: ge, value: 30, message: 注册资本不少于30万元, when: { field: kind, equals: 有限 } }"),
            rule("{ fact: applicant.assurance, op: ge, value: 3, message: 需现场核验身份 }"),
        ];
        for r in &rules {
            check_rule(r).unwrap();
        }
        let mut values = Values::new();
        values.insert("capital".into(), "10".into());
        values.insert("kind".into(), "有限".into());
        let mats = BTreeSet::from(["申请书".to_string()]);
        // Born 2010: a minor on 2026-11-22.
        let a = applicant("360102201001010012");
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let facts = Facts { form: &values, applicant: &a, materials: &mats, today };
        let p = run(&form, &["申请书".into(), "章程".into()], &rules, &facts);
        let msgs: Vec<_> = p.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(msgs, ["未提交", "申请人须年满18周岁", "注册资本不少于30万元", "需现场核验身份"]);
        // An adult with enough capital and L3, all materials: passes.
        let mut a = applicant("360102199003071236");
        a.assurance = 3;
        values.insert("capital".into(), "30".into());
        let mats = BTreeSet::from(["申请书".to_string(), "章程".to_string()]);
        let facts = Facts { form: &values, applicant: &a, materials: &mats, today };
        assert!(run(&form, &["申请书".into(), "章程".into()], &rules, &facts).is_empty());
    }

    #[test]
    fn unknown_facts_are_refused_at_load() {
        assert!(check_rule(&rule("{ fact: db.password, op: present, message: x }")).is_err());
        assert!(check_rule(&rule("{ fact: form.kind, op: in, value: 3, message: x }")).is_err());
        assert!(compare(&serde_json::json!("b"), Op::In, &serde_json::json!(["a", "b"])));
        assert!(!compare(&serde_json::json!("abc"), Op::Gt, &serde_json::json!(1)));
    }
}
