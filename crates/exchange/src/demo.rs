//! The demo province's data sharing (`demo/exchange.yaml`): resources, member systems,
//! approved grants, shared-store records and the simulated built-in providers.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ExchangeError, Result};
use crate::model::{GrantStatus, Resource};
use crate::{Exchange, GrantRequest, NewMember, Provider};

const EXCHANGE: &str = include_str!("../../../demo/exchange.yaml");
const POPULATION: &str = include_str!("../../../demo/population.yaml");

/// The demo population resource (人口基础信息).
pub const POPULATION_RESOURCE: &str = "11360000083016617P-00001";
/// The demo marriage registry resource (婚姻登记信息), answered by a built-in provider.
pub const MARRIAGE_RESOURCE: &str = "1136000021993518NX-00001";

#[derive(Deserialize)]
struct DemoFile {
    resources: Vec<Resource>,
    members: Vec<DemoMember>,
    grants: Vec<DemoGrant>,
    #[serde(default)]
    store: HashMap<String, Vec<Value>>,
    #[serde(default)]
    providers: HashMap<String, HashMap<String, Value>>,
}

#[derive(Deserialize)]
struct DemoMember {
    department_code: String,
    subsystem: String,
    name: String,
}

#[derive(Deserialize)]
struct DemoGrant {
    member_id: String,
    resource_code: String,
    purpose: String,
    legal_basis: String,
    fields: Vec<String>,
}

#[derive(Deserialize)]
struct Resident {
    id_number: String,
    name: String,
    #[serde(default)]
    address: Option<String>,
}

fn parse() -> Result<DemoFile> {
    serde_yaml::from_str(EXCHANGE).map_err(|e| ExchangeError::Config(format!("exchange.yaml：{e}")))
}

/// A minimal unconditionally shared REST resource about people (tests, benchmarks, examples):
/// `items` are the data items, `id_number` the subject.
pub fn rest_resource(code: &str, provider_code: &str, provider_name: &str, url: &str, items: &[&str]) -> Resource {
    use crate::model::*;
    Resource {
        code: code.into(),
        name: format!("{provider_name}接口"),
        classification: "主题信息资源/测试".into(),
        provider_code: provider_code.into(),
        provider_name: provider_name.into(),
        summary: String::new(),
        format: "接口".into(),
        subject_kind: SubjectKind::Person,
        subject_item: "id_number".into(),
        items: items.iter().map(|n| DataItem { name: n.to_string(), label: n.to_string(), kind: "string".into() }).collect(),
        sharing_type: SharingType::Unconditional,
        sharing_basis: String::new(),
        sharing_conditions: String::new(),
        sharing_method: "接口调用".into(),
        open_type: OpenType::NotOpen,
        update_cycle: UpdateCycle::RealTime,
        published_on: "2026-01-01".into(),
        service: Service::Rest { url: url.into(), timeout_ms: 3000, openapi_url: None },
    }
}

/// A simulated provider system answering from a table of records by subject.
pub struct TableProvider(HashMap<String, Value>);

impl TableProvider {
    pub fn new(records: HashMap<String, Value>) -> TableProvider {
        TableProvider(records)
    }
}

#[async_trait::async_trait]
impl Provider for TableProvider {
    async fn fetch(&self, _resource: &Resource, subject: &str) -> std::result::Result<Option<Value>, String> {
        Ok(self.0.get(subject).cloned())
    }
}

/// The built-in providers of the demo province, by name.
pub fn providers() -> Result<HashMap<String, Arc<dyn Provider>>> {
    Ok(parse()?.providers.into_iter().map(|(name, records)| (name, Arc::new(TableProvider::new(records)) as Arc<dyn Provider>)).collect())
}

/// Population records derived from the demo population file: sex and birth date come from
/// the ID number (GB 11643: digits 7–14 the birth date, the 17th odd for men).
fn population() -> Result<Vec<Value>> {
    let people: Vec<Resident> = serde_yaml::from_str(POPULATION).map_err(|e| ExchangeError::Config(format!("population.yaml：{e}")))?;
    Ok(people
        .into_iter()
        .map(|p| {
            let id = p.id_number.to_ascii_uppercase();
            let birth = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
            let odd = id.as_bytes().get(16).is_some_and(|b| (b - b'0') % 2 == 1);
            let mut m = Map::new();
            m.insert("id_number".into(), Value::String(id.clone()));
            m.insert("name".into(), Value::String(p.name));
            m.insert("sex".into(), Value::String(if odd { "男" } else { "女" }.into()));
            m.insert("birth_date".into(), Value::String(birth));
            m.insert("address".into(), Value::String(p.address.unwrap_or_default()));
            m.insert("household_type".into(), Value::String("家庭户".into()));
            Value::Object(m)
        })
        .collect())
}

/// A fresh Ed25519 public key whose private half is thrown away: demo members that only call
/// in-process never need to sign an assertion.
fn throwaway_key() -> String {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    URL_SAFE_NO_PAD.encode(ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes())
}

/// Load everything once (skipped when resources exist). Returns the number of resources.
pub async fn load(exchange: &Exchange) -> Result<usize> {
    if !exchange.resources().await?.is_empty() {
        return Ok(0);
    }
    let f = parse()?;
    for r in &f.resources {
        exchange.save_resource(r, "demo").await?;
    }
    for m in &f.members {
        let nm = NewMember {
            department_code: m.department_code.clone(),
            subsystem: m.subsystem.clone(),
            name: m.name.clone(),
            public_key: throwaway_key(),
            rate_per_sec: Some(1000),
        };
        exchange.insert_member(&nm, "demo").await?;
    }
    let valid_to = (chrono::Utc::now() + chrono::Duration::days(3 * 365)).format("%Y-%m-%d").to_string();
    for g in &f.grants {
        let req = GrantRequest {
            member_id: g.member_id.clone(),
            resource_code: g.resource_code.clone(),
            purpose: g.purpose.clone(),
            legal_basis: g.legal_basis.clone(),
            fields: g.fields.clone(),
            valid_to: valid_to.clone(),
            rate_per_sec: Some(1000),
        };
        exchange.insert_grant(&req, "demo", GrantStatus::Approved).await?;
    }
    let mut store = f.store;
    store.entry(POPULATION_RESOURCE.to_string()).or_default().extend(population()?);
    for (code, records) in &store {
        let r = exchange.resource(code).await?;
        exchange.put_records(&r, records).await?;
    }
    Ok(f.resources.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_file_is_valid() {
        let f = parse().unwrap();
        assert!(f.resources.len() >= 8);
        for r in &f.resources {
            crate::check_resource(r).unwrap_or_else(|e| panic!("{}: {e}", r.code));
        }
        let p = population().unwrap();
        assert_eq!(p[0]["sex"], "男");
        assert_eq!(p[0]["birth_date"], "1990-03-07");
        assert!(providers().unwrap().contains_key("marriage"));
    }
}
