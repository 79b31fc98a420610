//! The demo licence types and the licences the demo people and companies already hold.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::error::{LicenceError, Result};
use crate::model::LicenceType;
use crate::{IssueRequest, Licences};

const LICENCES: &str = include_str!("../../../demo/licences.yaml");

#[derive(Deserialize)]
struct DemoFile {
    types: Vec<LicenceType>,
    #[serde(default)]
    issued: Vec<DemoIssued>,
}

#[derive(Deserialize)]
struct DemoIssued {
    #[serde(rename = "type")]
    type_code: String,
    issuer: String,
    holder_id: String,
    holder_name: String,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

fn parse() -> Result<DemoFile> {
    serde_yaml::from_str(LICENCES).map_err(|e| LicenceError::Config(format!("licences.yaml：{e}")))
}

/// The demo types, with items named by implementation code.
pub fn types(item_keys: &HashMap<String, String>) -> Result<Vec<LicenceType>> {
    named_by_code(parse()?.types, item_keys)
}

fn named_by_code(types: Vec<LicenceType>, item_keys: &HashMap<String, String>) -> Result<Vec<LicenceType>> {
    types
        .into_iter()
        .map(|mut t| {
            t.items = t
                .items
                .iter()
                .map(|k| item_keys.get(k).cloned().ok_or_else(|| LicenceError::Config(format!("licences.yaml：事项{k}不存在"))))
                .collect::<Result<_>>()?;
            Ok(t)
        })
        .collect()
}

/// Store the demo types and issue the demo licences (once: only when no licence exists yet).
/// `department_names` maps credit codes to department names.
pub async fn load(licences: &Licences, item_keys: &HashMap<String, String>, department_names: &HashMap<String, String>) -> Result<usize> {
    let file = parse()?;
    for t in named_by_code(file.types, item_keys)? {
        licences.put_type(&t).await?;
    }
    let mut n = 0;
    for i in file.issued {
        if !licences.wallet(&i.holder_id).await?.is_empty() {
            continue;
        }
        let req = IssueRequest {
            type_code: i.type_code,
            issuer_name: department_names.get(&i.issuer).cloned().unwrap_or_default(),
            issuer_code: i.issuer,
            holder_name: i.holder_name,
            holder_id: i.holder_id,
            data: i.data,
            item_code: None,
            case_id: None,
            case_number: None,
            valid_from: None,
            valid_to: None,
        };
        let mut tx = licences.db.begin().await?;
        licences.issue_in(&mut tx, &req, None).await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n)
}
