//! CKAN and DCAT shapes: the action API's envelope and DCAT-AP JSON-LD, so open-data clients
//! and harvesters (ckanapi, CKAN harvesters, data.europa.eu-style DCAT readers) work unchanged.

use serde_json::{json, Value};

use crate::model::Package;
use crate::Openness;

/// `{"help", "success": true, "result"}`.
pub fn ok(base: &str, action: &str, result: Value) -> Value {
    json!({"help": format!("{base}/api/3/action/help_show?name={action}"), "success": true, "result": result})
}

/// `{"success": false, "error": {"__type", "message"}}`.
pub fn error(base: &str, action: &str, kind: &str, message: &str) -> Value {
    json!({"help": format!("{base}/api/3/action/help_show?name={action}"), "success": false, "error": {"__type": kind, "message": message}})
}

/// One dataset as a DCAT `dcat:Dataset`.
pub fn dcat_dataset(base: &str, p: &Package) -> Value {
    json!({
        "@id": format!("{base}/data/{}", p.name),
        "@type": "dcat:Dataset",
        "dct:identifier": p.id,
        "dct:title": p.title,
        "dct:description": p.notes,
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": p.organization.title},
        "dct:license": p.license_id,
        "dct:issued": p.metadata_created,
        "dct:modified": p.metadata_modified,
        "dct:accrualPeriodicity": p.extra("update_cycle"),
        "dcat:keyword": p.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        "dcat:theme": p.groups.iter().map(|g| g.title.clone()).collect::<Vec<_>>(),
        "dcat:landingPage": format!("{base}/data/{}", p.name),
        "dcat:distribution": p.resources.iter().map(|r| json!({
            "@id": format!("{base}/data/{}/resources/{}", p.name, r.id),
            "@type": "dcat:Distribution",
            "dct:title": r.name,
            "dct:format": r.format,
            "dcat:mediaType": r.mimetype,
            "dcat:byteSize": r.size,
            "dcat:downloadURL": r.url,
            "dcat:accessURL": format!("{base}/api/3/action/datastore_search?resource_id={}", r.id),
            "spdx:checksum": {"spdx:algorithm": "sha256", "spdx:checksumValue": r.hash},
        })).collect::<Vec<_>>(),
    })
}

const CONTEXT: &str = r#"{"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/", "spdx": "http://spdx.org/rdf/terms#"}"#;

impl Openness {
    /// The whole catalog as DCAT-AP JSON-LD.
    pub fn dcat_catalog(&self) -> Value {
        let base = self.public_url();
        let mut names = self.package_list();
        names.truncate(100_000);
        let datasets: Vec<Value> = names.iter().filter_map(|n| self.package(n).ok()).map(|p| dcat_dataset(base, &p)).collect();
        json!({
            "@context": serde_json::from_str::<Value>(CONTEXT).unwrap_or(Value::Null),
            "@id": format!("{base}/data"),
            "@type": "dcat:Catalog",
            "dct:title": "开放数据目录",
            "dcat:dataset": datasets,
        })
    }

    /// One dataset as DCAT JSON-LD.
    pub fn dcat_for(&self, name: &str) -> crate::Result<Value> {
        let p = self.package(name)?;
        let mut v = dcat_dataset(self.public_url(), &p);
        if let Value::Object(m) = &mut v {
            m.insert("@context".into(), serde_json::from_str::<Value>(CONTEXT).unwrap_or(Value::Null));
        }
        Ok(v)
    }
}
