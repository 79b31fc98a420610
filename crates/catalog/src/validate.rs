//! Rules an item must meet to be saved (codes consistent) and to be published (complete).

use yiwang_core::codes::{BasicCode, CreditCode, ImplementationCode};

use crate::error::{CatalogError, Result};
use crate::model::{CaseKind, ItemDoc, ResultType};

/// Checks every item must pass even as a draft: valid codes that agree with each other.
pub fn check_codes(impl_code: &str, doc: &ItemDoc) -> Result<ImplementationCode> {
    let code = ImplementationCode::parse(impl_code).map_err(|source| CatalogError::InvalidCode { field: "实施编码", source })?;
    BasicCode::parse(&doc.basic_code).map_err(|source| CatalogError::InvalidCode { field: "基本编码", source })?;
    CreditCode::parse(&doc.department_code).map_err(|source| CatalogError::InvalidCode { field: "实施主体编码", source })?;
    if code.basic() != doc.basic_code.trim() {
        return Err(CatalogError::Invalid(format!("实施编码中的基本编码“{}”与事项基本编码“{}”不一致", code.basic(), doc.basic_code)));
    }
    if code.agency() != doc.department_code.trim().to_ascii_uppercase() {
        return Err(CatalogError::Invalid(format!("实施编码中的实施主体编码“{}”与实施部门“{}”不一致", code.agency(), doc.department_code)));
    }
    if doc.name.trim().is_empty() {
        return Err(CatalogError::Invalid("事项名称不能为空".into()));
    }
    if doc.name.chars().count() > 200 {
        return Err(CatalogError::Invalid("事项名称不能超过200字".into()));
    }
    Ok(code)
}

/// Everything missing or wrong for publication, listed at once (一次性告知).
pub fn publish_problems(doc: &ItemDoc) -> Vec<String> {
    let mut p = Vec::new();
    let blank = |s: &str| s.trim().is_empty();
    if doc.legal_basis.iter().all(|b| blank(b)) {
        p.push("缺少设定依据".to_string());
    }
    if doc.conditions.iter().all(|c| blank(c)) {
        p.push("缺少受理条件".to_string());
    }
    if doc.materials.is_empty() {
        p.push("缺少申请材料".to_string());
    }
    for (i, m) in doc.materials.iter().enumerate() {
        if blank(&m.name) {
            p.push(format!("第{}项材料缺少名称", i + 1));
        }
        if m.count == 0 {
            p.push(format!("材料“{}”的份数应大于0", m.name));
        }
    }
    if doc.procedure.is_empty() {
        p.push("缺少办理流程".to_string());
    }
    match doc.case_kind {
        CaseKind::Promised if doc.promised_days == 0 => p.push("承诺件须填写承诺办结时限".to_string()),
        _ => {}
    }
    if doc.statutory_days == 0 && doc.case_kind == CaseKind::Promised {
        p.push("缺少法定办结时限".to_string());
    }
    if doc.promised_days > doc.statutory_days && doc.statutory_days > 0 {
        p.push(format!("承诺时限（{}个工作日）不得超过法定时限（{}个工作日）", doc.promised_days, doc.statutory_days));
    }
    if blank(&doc.enquiry_phone) {
        p.push("缺少咨询电话".to_string());
    }
    if blank(&doc.complaint_phone) {
        p.push("缺少监督投诉电话".to_string());
    }
    if blank(&doc.place) {
        p.push("缺少办理地点".to_string());
    }
    if blank(&doc.hours) {
        p.push("缺少办理时间".to_string());
    }
    if !(1..=5).contains(&doc.online_depth) {
        p.push("网上办理深度应为1至5星".to_string());
    }
    if doc.visits > 5 {
        p.push("到现场次数不应超过5次".to_string());
    }
    if doc.result_type != ResultType::NoResult && blank(&doc.result_name) {
        p.push("缺少办理结果名称".to_string());
    }
    for f in &doc.fees {
        if f.amount_fen < 0 {
            p.push(format!("收费项目“{}”金额不能为负", f.name));
        }
        if f.amount_fen > 0 && blank(&f.basis) {
            p.push(format!("收费项目“{}”缺少收费依据", f.name));
        }
    }
    p
}
