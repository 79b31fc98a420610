//! Demo openness data: policy documents with interpretations (`demo/documents.yaml`) and open
//! datasets with CSV resources (`demo/opendata.yaml`, files in `demo/opendata/`).

use serde::Deserialize;

use crate::error::{OpenError, Result};
use crate::model::{DatasetInput, DocumentInput};
use crate::Openness;

const DOCUMENTS: &str = include_str!("../../../demo/documents.yaml");
const DATASETS: &str = include_str!("../../../demo/opendata.yaml");

#[derive(Deserialize)]
struct DemoDoc {
    /// Department credit code.
    department: String,
    #[serde(flatten)]
    input: DocumentInput,
}

#[derive(Deserialize)]
struct DemoResource {
    name: String,
    #[serde(default)]
    description: String,
    /// File under demo/opendata/.
    file: String,
}

#[derive(Deserialize)]
struct DemoDataset {
    #[serde(flatten)]
    input: DatasetInput,
    resources: Vec<DemoResource>,
}

fn bad(file: &str, e: impl std::fmt::Display) -> OpenError {
    OpenError::Config(format!("demo/{file}：{e}"))
}

/// The CSV files shipped in the binary, by name.
fn demo_file(name: &str) -> Option<&'static str> {
    crate::demo_files::FILES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// Load the demo documents (published) and datasets; returns (documents, datasets).
pub async fn load(o: &Openness) -> Result<(usize, usize)> {
    o.bulk(load_all(o)).await
}

async fn load_all(o: &Openness) -> Result<(usize, usize)> {
    let docs: Vec<DemoDoc> = serde_yaml::from_str(DOCUMENTS).map_err(|e| bad("documents.yaml", e))?;
    let system = yiwang_identity::Staff {
        username: "demo".into(),
        display_name: "演示数据".into(),
        department: None,
        region: None,
        roles: vec![yiwang_identity::Role::PlatformAdmin],
    };
    for d in &docs {
        let doc = o.save_document(&system, "demo", None, &d.department, &d.input).await?;
        o.publish(&system, "demo", &doc.doc_id, None).await?;
    }
    let sets: Vec<DemoDataset> = serde_yaml::from_str(DATASETS).map_err(|e| bad("opendata.yaml", e))?;
    for s in &sets {
        o.save_dataset(None, &s.input).await?;
        for r in &s.resources {
            let content = demo_file(&r.file).ok_or_else(|| bad("opendata.yaml", format!("文件{}不存在", r.file)))?;
            o.add_resource(None, &s.input.name, &r.name, &r.description, "CSV", content.as_bytes()).await?;
        }
    }
    Ok((docs.len(), sets.len()))
}

/// Whether the demo was loaded (any document or dataset exists).
pub async fn loaded(o: &Openness) -> Result<bool> {
    let n: i64 = yiwang_store::sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM documents) + (SELECT COUNT(*) FROM datasets)")
        .fetch_one(o.db().reader())
        .await?;
    Ok(n > 0)
}
