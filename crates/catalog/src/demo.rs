//! The demo province (江川省): readable data files in `demo/`, embedded in the binary so a fresh
//! `yiwang serve` is usable at once. Items name their department by key; the loader derives
//! implementation codes and fills place, hours and phones from the department.

use std::collections::HashMap;

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use crate::error::{CatalogError, Result};
use crate::model::*;
use crate::repo;
use crate::service::{create_in, publish_in, Catalog, Editor};
use crate::transfer::ItemRecord;

const PROVINCE: &str = include_str!("../../../demo/province.yaml");
const ITEMS: &str = include_str!("../../../demo/items.yaml");
const BUNDLES: &str = include_str!("../../../demo/bundles.yaml");
const STAFF: &str = include_str!("../../../demo/staff.yaml");

#[derive(Deserialize)]
struct DemoDepartment {
    key: String,
    #[serde(flatten)]
    department: Department,
}

#[derive(Deserialize)]
struct ProvinceFile {
    regions: Vec<Region>,
    departments: Vec<DemoDepartment>,
    themes: Vec<Theme>,
}

#[derive(Deserialize)]
struct BundleFile {
    code: String,
    name: String,
    #[serde(default)]
    name_en: String,
    audience: Audience,
    lead: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    promised_days: u32,
    items: Vec<String>,
}

/// A demo staff account (the identity module creates it).
#[derive(Debug, Clone, Deserialize)]
pub struct DemoStaff {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// Department key in the file; resolved to a credit code by [`province`].
    #[serde(default)]
    pub department: Option<String>,
    pub roles: Vec<String>,
}

/// The whole demo province, parsed and resolved.
pub struct DemoProvince {
    pub regions: Vec<Region>,
    pub departments: Vec<Department>,
    pub themes: Vec<Theme>,
    pub items: Vec<ItemRecord>,
    pub bundles: Vec<Bundle>,
    pub staff: Vec<DemoStaff>,
    /// Item key in the demo files → implementation code (other modules' demo data names items by key).
    pub item_keys: HashMap<String, String>,
}

fn bad(what: &str, e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Invalid(format!("演示数据{what}有误：{e}"))
}

/// Default procedure by case kind, used when a data file leaves it out.
fn standard_procedure(kind: &str) -> Value {
    let steps: &[&str] = if kind == "instant" {
        &["申请", "受理", "当场办结"]
    } else {
        &["申请", "受理", "审查", "决定", "办结（送达）"]
    };
    Value::Sequence(steps.iter().map(|s| Value::String(s.to_string())).collect())
}

fn item_from(mut m: Mapping, depts: &HashMap<String, Department>) -> Result<(String, ItemRecord)> {
    let take =
        |m: &mut Mapping, k: &str| m.remove(k).and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())));
    let key = take(&mut m, "key").ok_or_else(|| bad("事项", "缺少key"))?;
    let dept_key = take(&mut m, "dept").ok_or_else(|| bad(&key, "缺少dept"))?;
    let level = take(&mut m, "level").ok_or_else(|| bad(&key, "缺少level"))?;
    let dept = depts.get(&dept_key).ok_or_else(|| bad(&key, format!("部门{dept_key}不存在")))?;
    fn set_default(m: &mut Mapping, k: &str, v: Value) {
        m.entry(Value::String(k.to_string())).or_insert(v);
    }
    let zero_visit = m.get("visits").and_then(Value::as_u64) == Some(0);
    let kind = m.get("case_kind").and_then(Value::as_str).unwrap_or("promised").to_string();
    let m = &mut m;
    set_default(m, "department_code", Value::String(dept.credit_code.clone()));
    set_default(m, "region_code", Value::String(dept.region_code.clone()));
    set_default(m, "place", Value::String(dept.address.clone()));
    set_default(m, "hours", Value::String(dept.hours.clone()));
    set_default(m, "enquiry_phone", Value::String(dept.phone.clone()));
    set_default(m, "complaint_phone", Value::String("12345".into()));
    let channels: &[&str] = if zero_visit { &["网上办理", "移动端办理"] } else { &["网上办理", "窗口办理"] };
    set_default(m, "channels", Value::Sequence(channels.iter().map(|s| Value::String(s.to_string())).collect()));
    set_default(m, "procedure", standard_procedure(&kind));
    let doc: ItemDoc = serde_yaml::from_value(Value::Mapping(std::mem::take(m))).map_err(|e| bad(&key, e))?;
    let impl_code = format!("{}{}{}", dept.credit_code, level, doc.basic_code);
    Ok((key, ItemRecord { impl_code, doc }))
}

/// Parse the embedded demo files.
pub fn province() -> Result<DemoProvince> {
    let p: ProvinceFile = serde_yaml::from_str(PROVINCE).map_err(|e| bad("province.yaml", e))?;
    let depts: HashMap<String, Department> = p.departments.iter().map(|d| (d.key.clone(), d.department.clone())).collect();
    let raw_items: Vec<Mapping> = serde_yaml::from_str(ITEMS).map_err(|e| bad("items.yaml", e))?;
    let mut keys = HashMap::new();
    let mut items = Vec::new();
    for m in raw_items {
        let (key, rec) = item_from(m, &depts)?;
        keys.insert(key, rec.impl_code.clone());
        items.push(rec);
    }
    let raw_bundles: Vec<BundleFile> = serde_yaml::from_str(BUNDLES).map_err(|e| bad("bundles.yaml", e))?;
    let bundles = raw_bundles
        .into_iter()
        .map(|b| {
            let lead = depts.get(&b.lead).ok_or_else(|| bad(&b.code, format!("牵头部门{}不存在", b.lead)))?;
            let items = b
                .items
                .iter()
                .map(|k| keys.get(k).cloned().ok_or_else(|| bad(&b.code, format!("事项{k}不存在"))))
                .collect::<Result<Vec<_>>>()?;
            Ok(Bundle {
                code: b.code,
                name: b.name,
                name_en: b.name_en,
                audience: b.audience,
                lead_department: lead.credit_code.clone(),
                description: b.description,
                promised_days: b.promised_days,
                items,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut staff: Vec<DemoStaff> = serde_yaml::from_str(STAFF).map_err(|e| bad("staff.yaml", e))?;
    for s in &mut staff {
        if let Some(k) = &s.department {
            s.department = Some(depts.get(k).ok_or_else(|| bad(&s.username, format!("部门{k}不存在")))?.credit_code.clone());
        }
    }
    Ok(DemoProvince {
        regions: p.regions,
        departments: p.departments.into_iter().map(|d| d.department).collect(),
        themes: p.themes,
        items,
        bundles,
        staff,
        item_keys: keys,
    })
}

/// What a demo load wrote.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub regions: usize,
    pub departments: usize,
    pub items_created: usize,
    pub bundles: usize,
}

const DEMO_SETTING: &str = "demo_loaded_at";

impl Catalog {
    pub async fn demo_loaded(&self) -> Result<bool> {
        Ok(repo::get_setting(&mut *self.db().reader().acquire().await?, DEMO_SETTING).await?.is_some())
    }

    /// Load (or top up) the demo province in one transaction. Existing items are left as they are.
    pub async fn load_demo(&self, p: &DemoProvince) -> Result<DemoReport> {
        let editor = Editor::platform("demo");
        let mut report = DemoReport::default();
        let mut tx = self.db().begin().await?;
        for r in &p.regions {
            repo::upsert_region(&mut tx, r).await?;
            report.regions += 1;
        }
        for (i, d) in p.departments.iter().enumerate() {
            repo::upsert_department(&mut tx, d, i as i64).await?;
            report.departments += 1;
        }
        for (i, t) in p.themes.iter().enumerate() {
            repo::upsert_theme(&mut tx, t, i as i64).await?;
        }
        for rec in &p.items {
            if repo::item_row(&mut tx, &rec.impl_code).await?.is_none() {
                create_in(&mut tx, &editor, &rec.impl_code, &rec.doc, "create").await?;
                publish_in(&mut tx, &editor, &rec.impl_code).await?;
                report.items_created += 1;
            }
        }
        for (i, b) in p.bundles.iter().enumerate() {
            repo::upsert_bundle(&mut tx, b, i as i64).await?;
            report.bundles += 1;
        }
        repo::set_setting(&mut tx, DEMO_SETTING, &yiwang_store::now_text()).await?;
        tx.commit().await?;
        self.reindex().await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yiwang_core::codes::ImplementationCode;

    #[test]
    fn demo_files_parse_with_valid_codes_and_complete_items() {
        let p = province().unwrap();
        assert!(p.items.len() >= 40, "{} items", p.items.len());
        let depts: std::collections::HashSet<_> = p.items.iter().map(|i| i.doc.department_code.clone()).collect();
        assert!(depts.len() >= 15, "{} departments with items", depts.len());
        let types: std::collections::HashSet<_> = p.items.iter().map(|i| i.doc.item_type).collect();
        assert!(types.len() >= 4);
        assert_eq!(p.bundles.len(), 3);
        for d in &p.departments {
            yiwang_core::codes::CreditCode::parse(&d.credit_code).unwrap();
        }
        for rec in &p.items {
            ImplementationCode::parse(&rec.impl_code).unwrap();
            crate::validate::check_codes(&rec.impl_code, &rec.doc).unwrap();
            let problems = crate::validate::publish_problems(&rec.doc);
            assert!(problems.is_empty(), "{}: {problems:?}", rec.doc.name);
        }
    }
}
