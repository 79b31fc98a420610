//! Authoritative data sources the identity module checks against: the population database
//! (人口库) for real names, and the enterprise registry (市场主体登记) for legal
//! representatives. Pluggable; the built-in demo sources read the demo province's files.

use std::collections::HashMap;

use crate::{IdentityError, Result};

/// The answer of a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Match,
    Mismatch,
    Unknown,
}

/// 人口库 the population data source.
#[async_trait::async_trait]
pub trait PopulationSource: Send + Sync {
    fn name(&self) -> &str;
    /// Does this ID number belong to a person of this name?
    async fn check(&self, id_number: &str, name: &str) -> Result<Verdict>;
    /// 户籍地址 registered address, when the source has it.
    async fn address(&self, _id_number: &str) -> Result<Option<String>> {
        Ok(None)
    }
}

/// A registered business as the enterprise registry knows it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RegisteredBusiness {
    pub credit_code: String,
    pub name: String,
    pub representative_id_number: String,
}

/// 市场主体登记 the enterprise registry.
#[async_trait::async_trait]
pub trait BusinessRegistry: Send + Sync {
    async fn lookup(&self, credit_code: &str) -> Result<Option<RegisteredBusiness>>;
}

#[derive(serde::Deserialize)]
struct Resident {
    id_number: String,
    name: String,
    #[serde(default)]
    address: Option<String>,
}

/// The demo province's population file (`demo/population.yaml`): name and address by ID number.
pub struct DemoPopulation(HashMap<String, (String, Option<String>)>);

impl DemoPopulation {
    pub fn load() -> Result<DemoPopulation> {
        let list: Vec<Resident> = serde_yaml::from_str(include_str!("../../../demo/population.yaml"))
            .map_err(|e| IdentityError::Demo(format!("demo/population.yaml: {e}")))?;
        Ok(DemoPopulation(list.into_iter().map(|r| (r.id_number.to_ascii_uppercase(), (r.name, r.address))).collect()))
    }
}

#[async_trait::async_trait]
impl PopulationSource for DemoPopulation {
    fn name(&self) -> &str {
        "demo"
    }
    async fn check(&self, id_number: &str, name: &str) -> Result<Verdict> {
        Ok(match self.0.get(&id_number.to_ascii_uppercase()) {
            Some((n, _)) if n == name.trim() => Verdict::Match,
            Some(_) => Verdict::Mismatch,
            None => Verdict::Unknown,
        })
    }
    async fn address(&self, id_number: &str) -> Result<Option<String>> {
        Ok(self.0.get(&id_number.to_ascii_uppercase()).and_then(|(_, a)| a.clone()))
    }
}

/// The demo province's enterprise registry (`demo/enterprises.yaml`).
pub struct DemoRegistry(HashMap<String, RegisteredBusiness>);

impl DemoRegistry {
    pub fn load() -> Result<DemoRegistry> {
        let list: Vec<RegisteredBusiness> = serde_yaml::from_str(include_str!("../../../demo/enterprises.yaml"))
            .map_err(|e| IdentityError::Demo(format!("demo/enterprises.yaml: {e}")))?;
        Ok(DemoRegistry(list.into_iter().map(|b| (b.credit_code.clone(), b)).collect()))
    }
}

#[async_trait::async_trait]
impl BusinessRegistry for DemoRegistry {
    async fn lookup(&self, credit_code: &str) -> Result<Option<RegisteredBusiness>> {
        Ok(self.0.get(credit_code).cloned())
    }
}
