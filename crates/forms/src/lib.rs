//! 动态表单 dynamic application forms, defined per item as data. A bundle's form is the union
//! of its items' forms with shared fields asked once (多表合一); on submission each department's
//! branch receives only the fields its item defines (一表多拆).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_core::codes::{CitizenId, CreditCode};

/// Field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Textarea,
    Number,
    Date,
    Select,
    Checkbox,
    Phone,
    Email,
    IdNumber,
    CreditCode,
}

/// Where a field's value can be taken from so the applicant need not type it (“免填”).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    ApplicantName,
    ApplicantIdNumber,
    ApplicantPhone,
    ApplicantAddress,
    BusinessName,
    BusinessCreditCode,
}

/// Show a field only when another field has a given value (conditional field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShowIf {
    pub field: String,
    pub equals: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Field {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_en: Option<String>,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// Choices for `select`.
    #[serde(default)]
    pub options: Vec<String>,
    /// Bounds for `number`; length bounds for text.
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub prefill: Option<Prefill>,
    #[serde(default)]
    pub show_if: Option<ShowIf>,
}

impl Field {
    pub fn label(&self, english: bool) -> &str {
        match (&self.label_en, english) {
            (Some(en), true) => en,
            _ => &self.label,
        }
    }
}

/// A form: ordered fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FormDef {
    pub fields: Vec<Field>,
}

/// Submitted values, by field key. Checkboxes are "true"/absent.
pub type Values = BTreeMap<String, String>;

/// One failed field.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub label: String,
    pub message: String,
}

const MAX_TEXT: usize = 200;
const MAX_TEXTAREA: usize = 4000;

impl FormDef {
    /// The generic form for items that define none: contact and a description of the request.
    pub fn generic() -> FormDef {
        let f = |key: &str, label: &str, kind, required, prefill| Field {
            key: key.into(),
            label: label.into(),
            label_en: None,
            kind,
            required,
            options: vec![],
            min: None,
            max: None,
            help: String::new(),
            prefill,
            show_if: None,
        };
        FormDef {
            fields: vec![
                f("contact_name", "联系人", FieldKind::Text, true, Some(Prefill::ApplicantName)),
                f("contact_phone", "联系电话", FieldKind::Phone, true, Some(Prefill::ApplicantPhone)),
                f("contact_email", "电子邮箱（选填，用于接收办理通知）", FieldKind::Email, false, None),
                f("address", "联系地址", FieldKind::Text, false, None),
                f("request", "申请事项说明", FieldKind::Textarea, false, None),
            ],
        }
    }

    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Check the definition itself (data files are written by people).
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for f in &self.fields {
            if f.key.is_empty() || !f.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                return Err(format!("字段名“{}”只能用小写字母、数字和下划线", f.key));
            }
            if !seen.insert(f.key.as_str()) {
                return Err(format!("字段“{}”重复", f.key));
            }
            if f.kind == FieldKind::Select && f.options.is_empty() {
                return Err(format!("下拉字段“{}”缺少选项", f.key));
            }
            if let Some(s) = &f.show_if {
                if !self.fields.iter().any(|o| o.key == s.field) {
                    return Err(format!("字段“{}”的显示条件引用了不存在的字段“{}”", f.key, s.field));
                }
            }
        }
        Ok(())
    }

    /// Whether a field is shown given the other values.
    pub fn visible(&self, f: &Field, values: &Values) -> bool {
        match &f.show_if {
            None => true,
            Some(s) => values.get(&s.field).map(|v| v == &s.equals).unwrap_or(false),
        }
    }

    /// Keep only known, visible fields with trimmed values; unknown keys are dropped so a
    /// department never receives data its form did not ask for.
    pub fn normalise(&self, values: &Values) -> Values {
        let mut out = Values::new();
        for f in &self.fields {
            if let Some(v) = values.get(&f.key) {
                let v = v.trim();
                if !v.is_empty() && self.visible(f, values) {
                    let v = match f.kind {
                        FieldKind::IdNumber | FieldKind::CreditCode => v.to_ascii_uppercase(),
                        FieldKind::Checkbox => "true".to_string(),
                        _ => v.to_string(),
                    };
                    out.insert(f.key.clone(), v);
                }
            }
        }
        out
    }

    /// Every problem at once, in form order (一次性告知).
    pub fn validate(&self, values: &Values) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        for f in &self.fields {
            if !self.visible(f, values) {
                continue;
            }
            let value = values.get(&f.key).map(|s| s.trim()).unwrap_or("");
            let mut bad = |m: String| problems.push(FieldProblem { field: f.key.clone(), label: f.label.clone(), message: m });
            if value.is_empty() {
                if f.required {
                    bad("必填".into());
                }
                continue;
            }
            if let Some(m) = check_value(f, value) {
                bad(m);
            }
        }
        problems
    }

    /// 多表合一: the union of several forms, first definition of a key wins.
    pub fn merge<'a>(forms: impl IntoIterator<Item = &'a FormDef>) -> FormDef {
        let mut out = FormDef::default();
        for form in forms {
            for f in &form.fields {
                match out.fields.iter_mut().find(|o| o.key == f.key) {
                    Some(existing) => existing.required |= f.required,
                    None => out.fields.push(f.clone()),
                }
            }
        }
        out
    }
}

fn check_value(f: &Field, value: &str) -> Option<String> {
    let chars = value.chars().count();
    match f.kind {
        FieldKind::Text | FieldKind::Textarea => {
            let limit = f.max.map(|m| m as usize).unwrap_or(if f.kind == FieldKind::Text { MAX_TEXT } else { MAX_TEXTAREA });
            if chars > limit {
                return Some(format!("不能超过{limit}个字"));
            }
            if let Some(min) = f.min {
                if (chars as f64) < min {
                    return Some(format!("至少{min}个字"));
                }
            }
            if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                return Some("含有不可见的控制字符".into());
            }
        }
        FieldKind::Number => {
            let Ok(n) = value.parse::<f64>() else { return Some("应为数字".into()) };
            if !n.is_finite() {
                return Some("应为数字".into());
            }
            if f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m) {
                return Some(match (f.min, f.max) {
                    (Some(a), Some(b)) => format!("应在{a}到{b}之间"),
                    (Some(a), None) => format!("不能小于{a}"),
                    (None, Some(b)) => format!("不能大于{b}"),
                    (None, None) => String::new(),
                });
            }
        }
        FieldKind::Date => {
            if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_err() {
                return Some("日期格式应为 年-月-日，如 2026-01-31".into());
            }
        }
        FieldKind::Select => {
            if !f.options.iter().any(|o| o == value) {
                return Some("请从选项中选择".into());
            }
        }
        FieldKind::Checkbox => {}
        FieldKind::Phone => {
            let ok = value.len() == 11 && value.starts_with('1') && value.chars().all(|c| c.is_ascii_digit());
            if !ok {
                return Some("应为11位手机号码".into());
            }
        }
        FieldKind::Email => {
            let ok = value.len() <= 254
                && value.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.'))
                && !value.chars().any(char::is_whitespace);
            if !ok {
                return Some("电子邮箱格式不正确".into());
            }
        }
        FieldKind::IdNumber => {
            if let Err(e) = CitizenId::parse(value) {
                return Some(e.to_string());
            }
        }
        FieldKind::CreditCode => {
            if let Err(e) = CreditCode::parse(value) {
                return Some(e.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn form() -> FormDef {
        serde_yaml::from_str(
            r#"
fields:
  - { key: name, label: 姓名, kind: text, required: true }
  - { key: capital, label: 注册资本（万元）, kind: number, required: true, min: 3 }
  - { key: kind, label: 类型, kind: select, options: [有限责任公司, 个人独资企业], required: true }
  - { key: shareholders, label: 股东人数, kind: number, required: true, min: 1, max: 50, show_if: { field: kind, equals: 有限责任公司 } }
  - { key: phone, label: 电话, kind: phone }
  - { key: legal_id, label: 法定代表人身份证号, kind: id_number }
"#,
        )
        .unwrap()
    }

    fn vals(pairs: &[(&str, &str)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn all_problems_at_once() {
        let f = form();
        f.check().unwrap();
        let p = f.validate(&vals(&[("capital", "1"), ("kind", "有限责任公司"), ("phone", "12345"), ("legal_id", "360102199003071235")]));
        let fields: Vec<_> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "capital", "shareholders", "phone", "legal_id"]);
        assert!(p[4].message.contains("校验"), "{}", p[4].message);
    }

    #[test]
    fn conditional_fields_are_skipped_and_dropped_when_hidden() {
        let f = form();
        let v = vals(&[("name", "张三"), ("capital", "10"), ("kind", "个人独资企业"), ("shareholders", "abc"), ("other", "x")]);
        assert!(f.validate(&v).is_empty());
        let n = f.normalise(&v);
        assert!(!n.contains_key("shareholders") && !n.contains_key("other"));
    }

    #[test]
    fn merge_asks_shared_fields_once() {
        let a = FormDef::generic();
        let mut b = FormDef::generic();
        b.fields[3].required = true;
        b.fields.push(form().fields[0].clone());
        let m = FormDef::merge([&a, &b]);
        assert_eq!(m.fields.len(), a.fields.len() + 1);
        assert!(m.field("address").unwrap().required, "required anywhere means required in the merged form");
    }

    #[test]
    fn bad_definitions() {
        let mut f = form();
        f.fields[0].key = "Name!".into();
        assert!(f.check().is_err());
        let mut f = form();
        f.fields[3].show_if = Some(ShowIf { field: "nope".into(), equals: "x".into() });
        assert!(f.check().is_err());
    }

    proptest! {
        #[test]
        fn validation_never_panics(values in proptest::collection::btree_map("[a-z_]{1,12}", "\\PC{0,40}", 0..8)) {
            let f = form();
            let _ = f.validate(&values);
            let _ = f.normalise(&values);
        }

        #[test]
        fn numbers_inside_bounds_pass(n in 3.0f64..1e9) {
            let f = form();
            let v = vals(&[("name", "x"), ("capital", &n.to_string()), ("kind", "个人独资企业")]);
            prop_assert!(f.validate(&v).is_empty());
        }
    }
}
