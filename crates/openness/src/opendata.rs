//! 数据开放: datasets and resources, tabular rows (datastore), downloads, ratings and requests.
//! Packages live in memory for listing and search; the database is the truth.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use yiwang_cases::Applicant;
use yiwang_identity::Staff;
use yiwang_store::sqlx::{self, Row as _};

use crate::error::{invalid, text, OpenError, Result};
use crate::model::*;
use crate::{may_publish, search, Openness};

/// Licences datasets may carry (id, title).
pub const LICENSES: &[(&str, &str)] = &[
    ("cc-by-4.0", "知识共享署名 4.0 (CC BY 4.0)"),
    ("odc-by", "开放数据共享署名许可 (ODC-BY)"),
    ("gov-open", "政府数据开放许可（无条件开放）"),
    ("cc-zero", "知识共享零授权 (CC0)"),
];

/// Themes (CKAN groups) datasets are filed under (name, title).
pub const GROUPS: &[(&str, &str)] = &[
    ("economy", "经济建设"),
    ("transport", "交通出行"),
    ("health", "医疗卫生"),
    ("education", "教育文化"),
    ("social", "社会保障"),
    ("environment", "生态环境"),
    ("public-services", "公共服务"),
    ("government", "机构与政务"),
];

fn license_title(id: &str) -> String {
    LICENSES.iter().find(|l| l.0 == id).map(|l| l.1.to_string()).unwrap_or_else(|| id.to_string())
}

fn group(name: &str) -> Named {
    let title = GROUPS.iter().find(|g| g.0 == name).map(|g| g.1).unwrap_or(name);
    Named {
        id: name.into(),
        name: name.into(),
        title: title.into(),
        display_name: title.into(),
        r#type: "group".into(),
        state: "active".into(),
    }
}

/// An organization for a department (CKAN wants lower-case names).
pub(crate) fn organization(code: &str, title: &str) -> Named {
    let name = code.to_lowercase();
    Named { id: name.clone(), name, title: title.into(), display_name: title.into(), r#type: "organization".into(), state: "active".into() }
}

/// Build every package (or the one named) from the database.
pub(crate) async fn load_packages(o: &Openness, only: Option<&str>) -> Result<Vec<Package>> {
    let cond = if only.is_some() { "WHERE name = $1" } else { "" };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT dataset_id, name, title, notes, organization, organization_title, license_id, group_names, tags, update_cycle, open_type, downloads,
                metadata_created, metadata_modified FROM datasets {cond}"
    )));
    if let Some(n) = only {
        q = q.bind(n);
    }
    let rows = q.fetch_all(o.db().reader()).await?;
    let mut resources: HashMap<String, Vec<Resource>> = HashMap::new();
    let cond = if only.is_some() { "WHERE d.name = $1" } else { "" };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT r.resource_id, r.dataset_id, r.position, r.name, r.description, r.format, r.mimetype, r.size, r.sha256, r.fields, r.created,
                r.last_modified, d.name AS dataset_name
         FROM dataset_resources r JOIN datasets d ON d.dataset_id = r.dataset_id {cond} ORDER BY r.dataset_id, r.position"
    )));
    if let Some(n) = only {
        q = q.bind(n);
    }
    let rrows = q.fetch_all(o.db().reader()).await?;
    for r in &rrows {
        let res = resource_from(o, r)?;
        resources.entry(res.package_id.clone()).or_default().push(res);
    }
    let mut ratings: HashMap<String, (i64, i64)> = HashMap::new();
    for r in sqlx::query("SELECT dataset_id, COUNT(*) AS n, CAST(SUM(level) AS BIGINT) AS total FROM dataset_ratings GROUP BY dataset_id")
        .fetch_all(o.db().reader())
        .await?
    {
        ratings.insert(r.try_get("dataset_id")?, (r.try_get("n")?, r.try_get("total")?));
    }
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("dataset_id")?;
            let groups: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("group_names")?)?;
            let tags: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("tags")?)?;
            let license_id: String = r.try_get("license_id")?;
            let org = organization(&r.try_get::<String, _>("organization")?, &r.try_get::<String, _>("organization_title")?);
            let res = resources.remove(&id).unwrap_or_default();
            let (n, total) = ratings.get(&id).copied().unwrap_or((0, 0));
            Ok(Package {
                name: r.try_get("name")?,
                title: r.try_get("title")?,
                notes: r.try_get("notes")?,
                license_title: license_title(&license_id),
                license_id,
                owner_org: org.id.clone(),
                organization: org,
                groups: groups.iter().map(|g| group(g)).collect(),
                num_tags: tags.len(),
                tags: tags.iter().map(|t| Tag { name: t.clone(), display_name: t.clone() }).collect(),
                num_resources: res.len(),
                resources: res,
                metadata_created: r.try_get("metadata_created")?,
                metadata_modified: r.try_get("metadata_modified")?,
                state: "active".into(),
                r#type: "dataset".into(),
                private: false,
                extras: vec![
                    Extra { key: "update_cycle".into(), value: r.try_get("update_cycle")? },
                    Extra { key: "open_type".into(), value: r.try_get("open_type")? },
                ],
                downloads: r.try_get("downloads")?,
                rating_x100: if n > 0 { total * 100 / n } else { 0 },
                ratings: n,
                id,
            })
        })
        .collect()
}

fn resource_from(o: &Openness, r: &yiwang_store::Row) -> Result<Resource> {
    let id: String = r.try_get("resource_id")?;
    let dataset_name: String = r.try_get("dataset_name")?;
    let fields: Option<String> = r.try_get("fields")?;
    Ok(Resource {
        url: format!("{}/data/{}/resources/{}/download", o.public_url(), dataset_name, id),
        id,
        package_id: r.try_get("dataset_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        format: r.try_get("format")?,
        mimetype: r.try_get("mimetype")?,
        size: r.try_get("size")?,
        hash: r.try_get("sha256")?,
        position: r.try_get("position")?,
        datastore_active: fields.is_some(),
        created: r.try_get("created")?,
        last_modified: r.try_get("last_modified")?,
        state: "active".into(),
    })
}

/// The search index entry of a package: (name, title, text).
pub(crate) fn index_entry(p: &Package) -> (String, String, String) {
    let tags: Vec<&str> = p.tags.iter().map(|t| t.name.as_str()).collect();
    let groups: Vec<&str> = p.groups.iter().map(|g| g.title.as_str()).collect();
    (p.name.clone(), p.title.clone(), format!("{} {} {} {}", p.notes, p.organization.title, tags.join(" "), groups.join(" ")))
}

/// Rows of a tabular file: CSV (UTF-8, BOM allowed), a JSON array of objects, or the first
/// sheet of an XLSX workbook. Returns field names and rows.
pub fn parse_table(format: &str, bytes: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    match format {
        "CSV" => {
            let text = std::str::from_utf8(bytes).map_err(|_| invalid("file", "CSV文件应为UTF-8编码"))?;
            let text = text.trim_start_matches('\u{feff}');
            let mut rd = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
            let headers: Vec<String> =
                rd.headers().map_err(|e| invalid("file", format!("CSV表头无法读取：{e}")))?.iter().map(|h| h.trim().to_string()).collect();
            let mut rows = Vec::new();
            for (i, rec) in rd.records().enumerate() {
                let rec = rec.map_err(|e| invalid("file", format!("CSV第{}行无法读取：{e}", i + 2)))?;
                rows.push(rec.iter().map(|c| c.trim().to_string()).collect());
            }
            Ok((headers, rows))
        }
        "JSON" => {
            let v: Vec<Map<String, Value>> = serde_json::from_slice(bytes).map_err(|_| invalid("file", "JSON应为对象数组"))?;
            let mut headers: Vec<String> = Vec::new();
            for row in &v {
                for k in row.keys() {
                    if !headers.contains(k) {
                        headers.push(k.clone());
                    }
                }
            }
            let rows = v
                .iter()
                .map(|r| {
                    headers
                        .iter()
                        .map(|h| r.get(h).map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string())).unwrap_or_default())
                        .collect()
                })
                .collect();
            Ok((headers, rows))
        }
        "XLSX" => {
            use calamine::Reader;
            let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
                .map_err(|e| invalid("file", format!("无法读取Excel文件：{e}")))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| invalid("file", "Excel文件没有工作表"))?
                .map_err(|e| invalid("file", format!("无法读取工作表：{e}")))?;
            let mut it = range.rows();
            let headers: Vec<String> = it.next().map(|r| r.iter().map(|c| c.to_string()).collect()).unwrap_or_default();
            Ok((headers, it.map(|r| r.iter().map(|c| c.to_string()).collect()).collect()))
        }
        _ => Err(invalid("format", "格式应为CSV、JSON或XLSX")),
    }
}

/// A column's type: numeric when every non-empty value is a number.
fn column_type(rows: &[Vec<String>], i: usize) -> &'static str {
    let mut any = false;
    for r in rows {
        if let Some(v) = r.get(i).filter(|v| !v.is_empty()) {
            any = true;
            if v.parse::<f64>().is_err() {
                return "text";
            }
        }
    }
    if any {
        "numeric"
    } else {
        "text"
    }
}

/// `package_search` parameters (CKAN names).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    #[serde(default)]
    pub q: Option<String>,
    /// Filters: `organization:NAME tags:"标签" groups:NAME res_format:CSV license_id:ID`.
    #[serde(default)]
    pub fq: Option<String>,
    #[serde(default)]
    pub rows: Option<usize>,
    #[serde(default)]
    pub start: Option<usize>,
    /// `score desc`, `metadata_modified desc`, `name asc`, `title_string asc`.
    #[serde(default)]
    pub sort: Option<String>,
    /// JSON list of fields to count, e.g. `["organization","tags"]`.
    #[serde(default, rename = "facet.field")]
    pub facet_field: Option<String>,
}

/// `fq` as (field, value) pairs.
fn parse_fq(fq: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = fq.trim();
    while let Some(colon) = rest.find(':') {
        let field = rest[..colon].trim().trim_start_matches('+').to_string();
        let after = &rest[colon + 1..];
        let (value, next) = if let Some(stripped) = after.strip_prefix('"') {
            match stripped.find('"') {
                Some(end) => (stripped[..end].to_string(), &stripped[end + 1..]),
                None => (stripped.to_string(), ""),
            }
        } else {
            match after.find(char::is_whitespace) {
                Some(end) => (after[..end].to_string(), &after[end..]),
                None => (after.to_string(), ""),
            }
        };
        out.push((field, value));
        rest = next.trim_start().trim_start_matches("AND ").trim_start();
    }
    out
}

fn matches(p: &Package, field: &str, value: &str) -> bool {
    match field {
        "organization" | "owner_org" => p.organization.name == value.to_lowercase(),
        "tags" => p.tags.iter().any(|t| t.name == value),
        "groups" => p.groups.iter().any(|g| g.name == value),
        "res_format" => p.resources.iter().any(|r| r.format.eq_ignore_ascii_case(value)),
        "license_id" => p.license_id == value,
        "name" => p.name == value,
        _ => true,
    }
}

fn facet_values(p: &Package, field: &str) -> Vec<String> {
    match field {
        "organization" => vec![p.organization.name.clone()],
        "tags" => p.tags.iter().map(|t| t.name.clone()).collect(),
        "groups" => p.groups.iter().map(|g| g.name.clone()).collect(),
        "res_format" => {
            let mut f: Vec<String> = p.resources.iter().map(|r| r.format.clone()).collect();
            f.dedup();
            f
        }
        "license_id" => vec![p.license_id.clone()],
        _ => vec![],
    }
}

/// The dataset-request form.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct DatasetRequestInput {
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub organization: Option<String>,
}

impl Openness {
    fn cache_get(&self, name: &str) -> Option<Package> {
        self.packages.read().ok().and_then(|m| m.get(name).cloned())
    }

    /// Re-read one package after a change here (other nodes pick it up in [`Openness::reload`]).
    async fn refresh_package(&self, name: &str) -> Result<Package> {
        let p = load_packages(self, Some(name)).await?.into_iter().next().ok_or_else(|| OpenError::NotFound(format!("数据集 {name}")))?;
        self.index_upsert(search::Kind::Dataset, &[index_entry(&p)])?;
        if let Ok(mut m) = self.packages.write() {
            m.insert(p.name.clone(), p.clone());
        }
        Ok(p)
    }

    /// Create or update a dataset (department admins of the publisher; `None` = the platform
    /// loading its own data).
    pub async fn save_dataset(&self, staff: Option<&Staff>, input: &DatasetInput) -> Result<Package> {
        let name = input.name.trim().to_lowercase();
        if name.len() < 2 || name.len() > 100 || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(invalid("name", "数据集标识应为2至100位小写字母、数字、-或_"));
        }
        if staff.is_some_and(|s| !may_publish(s, &input.organization)) {
            return Err(OpenError::Forbidden);
        }
        let dept = self.catalog.department(input.organization.trim()).await.map_err(|_| invalid("organization", "部门不存在"))?;
        if !LICENSES.iter().any(|l| l.0 == input.license_id) {
            return Err(invalid("license_id", "许可协议无效"));
        }
        if let Some(g) = input.groups.iter().find(|g| !GROUPS.iter().any(|x| x.0 == g.as_str())) {
            return Err(invalid("groups", format!("主题“{g}”不存在")));
        }
        let title = text(&input.title, "title", 200, false)?;
        let notes = text(&input.notes, "notes", 5000, true)?;
        let tags: Vec<String> = input.tags.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        let now = self.now_text();
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "INSERT INTO datasets (dataset_id, name, title, notes, organization, organization_title, license_id, group_names, tags, update_cycle, open_type,
                metadata_created, metadata_modified)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
             ON CONFLICT (name) DO UPDATE SET title = excluded.title, notes = excluded.notes, organization = excluded.organization,
                organization_title = excluded.organization_title, license_id = excluded.license_id, group_names = excluded.group_names, tags = excluded.tags,
                update_cycle = excluded.update_cycle, open_type = excluded.open_type, metadata_modified = excluded.metadata_modified",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&name)
        .bind(&title)
        .bind(&notes)
        .bind(&dept.credit_code)
        .bind(&dept.name)
        .bind(&input.license_id)
        .bind(serde_json::to_string(&input.groups)?)
        .bind(serde_json::to_string(&tags)?)
        .bind(text(&input.update_cycle, "update_cycle", 20, false)?)
        .bind(text(&input.open_type, "open_type", 20, false)?)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if let Some(s) = staff {
            yiwang_identity::audit_in(&mut tx, &s.username, "openness.dataset", &name, "保存", "").await?;
        }
        tx.commit().await?;
        self.refresh_package(&name).await
    }

    /// Add (or replace, by name) a resource; tabular files become queryable rows.
    pub async fn add_resource(
        &self,
        staff: Option<&Staff>,
        dataset: &str,
        name: &str,
        description: &str,
        format: &str,
        bytes: &[u8],
    ) -> Result<Resource> {
        let p = self.package(dataset)?;
        if staff.is_some_and(|s| !may_publish(s, &p.organization.name.to_uppercase())) {
            return Err(OpenError::Forbidden);
        }
        let format = format.trim().to_uppercase();
        let mimetype = match format.as_str() {
            "CSV" => "text/csv",
            "JSON" => "application/json",
            "XLSX" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            _ => return Err(invalid("format", "格式应为CSV、JSON或XLSX")),
        };
        if bytes.is_empty() || bytes.len() > 50 * 1024 * 1024 {
            return Err(invalid("file", "文件应为1字节至50MB"));
        }
        let (headers, rows) = parse_table(&format, bytes)?;
        if headers.is_empty() || headers.iter().any(|h| h.is_empty()) {
            return Err(invalid("file", "表头不能为空"));
        }
        let fields: Vec<Field> =
            headers.iter().enumerate().map(|(i, h)| Field { id: h.clone(), r#type: column_type(&rows, i).into() }).collect();
        let name = text(name, "name", 200, false)?;
        let now = self.now_text();
        let mut tx = self.db().begin().await?;
        let existing: Option<String> = sqlx::query_scalar("SELECT resource_id FROM dataset_resources WHERE dataset_id = $1 AND name = $2")
            .bind(&p.id)
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
        let rid = existing.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if existing.is_some() {
            sqlx::query("DELETE FROM datastore_rows WHERE resource_id = $1").bind(&rid).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM dataset_resources WHERE resource_id = $1").bind(&rid).execute(&mut *tx).await?;
        }
        let position: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM dataset_resources WHERE dataset_id = $1").bind(&p.id).fetch_one(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO dataset_resources (resource_id, dataset_id, position, name, description, format, mimetype, size, sha256, data, fields, row_count,
                created, last_modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        )
        .bind(&rid)
        .bind(&p.id)
        .bind(position)
        .bind(&name)
        .bind(text(description, "description", 2000, true)?)
        .bind(&format)
        .bind(mimetype)
        .bind(bytes.len() as i64)
        .bind(hex::encode(Sha256::digest(bytes)))
        .bind(bytes)
        .bind(serde_json::to_string(&fields)?)
        .bind(rows.len() as i64)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        // Rows in chunks: one statement per 200 rows.
        for (chunk_no, chunk) in rows.chunks(200).enumerate() {
            let mut sql = String::from("INSERT INTO datastore_rows (resource_id, row_no, data) VALUES ");
            let mut values: Vec<String> = Vec::new();
            for (i, row) in chunk.iter().enumerate() {
                let mut obj = Map::new();
                for (f, v) in fields.iter().zip(row.iter()) {
                    let val = if f.r#type == "numeric" {
                        v.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
                    } else {
                        Value::String(v.clone())
                    };
                    obj.insert(f.id.clone(), val);
                }
                values.push(serde_json::to_string(&obj)?);
                let n = i * 3;
                sql.push_str(&format!("{}(${}, ${}, ${})", if i > 0 { ", " } else { "" }, n + 1, n + 2, n + 3));
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, v) in values.iter().enumerate() {
                q = q.bind(&rid).bind((chunk_no * 200 + i + 1) as i64).bind(v);
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE datasets SET metadata_modified = $1 WHERE dataset_id = $2").bind(&now).bind(&p.id).execute(&mut *tx).await?;
        tx.commit().await?;
        let p = self.refresh_package(&p.name).await?;
        p.resources.into_iter().find(|r| r.id == rid).ok_or_else(|| OpenError::NotFound("资源".into()))
    }

    /// A package by name or id.
    pub fn package(&self, name_or_id: &str) -> Result<Package> {
        if let Some(p) = self.cache_get(name_or_id) {
            return Ok(p);
        }
        self.packages
            .read()
            .ok()
            .and_then(|m| m.values().find(|p| p.id == name_or_id).cloned())
            .ok_or_else(|| OpenError::NotFound(format!("数据集 {name_or_id}")))
    }

    /// Every dataset name, sorted.
    pub fn package_list(&self) -> Vec<String> {
        let mut v: Vec<String> = self.packages.read().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        v.sort();
        v
    }

    /// `package_search`: text, filters, facets, sort and paging, all in memory.
    pub fn package_search(&self, p: &SearchParams) -> Result<SearchResult> {
        let rows = p.rows.unwrap_or(10).min(1000);
        let start = p.start.unwrap_or(0);
        let filters = p.fq.as_deref().map(parse_fq).unwrap_or_default();
        let map = self.packages.read().map_err(|_| OpenError::Index("缓存锁损坏".into()))?;
        let q = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty() && *q != "*:*");
        let mut hits: Vec<&Package> = match q {
            Some(q) => self.index.search(search::Kind::Dataset, q, map.len().max(1))?.iter().filter_map(|n| map.get(n)).collect(),
            None => map.values().collect(),
        };
        hits.retain(|pk| filters.iter().all(|(f, v)| matches(pk, f, v)));
        let sort = p.sort.clone().unwrap_or_else(|| {
            if q.is_some() {
                "score desc, metadata_modified desc".into()
            } else {
                "metadata_modified desc".into()
            }
        });
        match sort.split(',').next().unwrap_or("").trim() {
            "metadata_modified desc" => hits.sort_by(|a, b| b.metadata_modified.cmp(&a.metadata_modified).then(a.name.cmp(&b.name))),
            "metadata_modified asc" => hits.sort_by(|a, b| a.metadata_modified.cmp(&b.metadata_modified).then(a.name.cmp(&b.name))),
            "name asc" => hits.sort_by(|a, b| a.name.cmp(&b.name)),
            "title_string asc" => hits.sort_by(|a, b| a.title.cmp(&b.title)),
            "views_recent desc" | "downloads desc" => hits.sort_by(|a, b| b.downloads.cmp(&a.downloads).then(a.name.cmp(&b.name))),
            _ => {}
        }
        let fields: Vec<String> = match p.facet_field.as_deref() {
            Some(f) => serde_json::from_str(f).map_err(|_| invalid("facet.field", "应为JSON字符串数组"))?,
            None => vec![],
        };
        let mut facets: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for f in &fields {
            let counts = facets.entry(f.clone()).or_default();
            for pk in &hits {
                for v in facet_values(pk, f) {
                    *counts.entry(v).or_default() += 1;
                }
            }
        }
        let search_facets = serde_json::json!(facets
            .iter()
            .map(|(f, counts)| (f.clone(), serde_json::json!({"title": f, "items": counts.iter().map(|(k, n)| serde_json::json!({"name": k, "display_name": k, "count": n})).collect::<Vec<_>>()})))
            .collect::<serde_json::Map<_, _>>());
        Ok(SearchResult {
            count: hits.len(),
            results: hits.into_iter().skip(start).take(rows).cloned().collect(),
            sort,
            facets,
            search_facets,
        })
    }

    /// Departments that publish datasets, with counts.
    pub fn organizations(&self) -> Vec<(Named, usize)> {
        let map = match self.packages.read() {
            Ok(m) => m,
            Err(_) => return vec![],
        };
        let mut orgs: BTreeMap<String, (Named, usize)> = BTreeMap::new();
        for p in map.values() {
            orgs.entry(p.organization.name.clone()).or_insert_with(|| (p.organization.clone(), 0)).1 += 1;
        }
        orgs.into_values().collect()
    }

    /// Themes with counts.
    pub fn groups(&self) -> Vec<(Named, usize)> {
        let map = match self.packages.read() {
            Ok(m) => m,
            Err(_) => return vec![],
        };
        GROUPS.iter().map(|(n, _)| (group(n), map.values().filter(|p| p.groups.iter().any(|g| g.name == *n)).count())).collect()
    }

    pub fn resource(&self, id: &str) -> Result<(Package, Resource)> {
        let map = self.packages.read().map_err(|_| OpenError::Index("缓存锁损坏".into()))?;
        for p in map.values() {
            if let Some(r) = p.resources.iter().find(|r| r.id == id) {
                return Ok((p.clone(), r.clone()));
            }
        }
        Err(OpenError::NotFound(format!("资源 {id}")))
    }

    /// Tabular query: equality `filters` on fields, full-text `q` over values, paging, sort by
    /// a field (`field asc|desc`).
    pub async fn datastore_search(
        &self,
        resource_id: &str,
        filters: &Map<String, Value>,
        q: Option<&str>,
        limit: usize,
        offset: usize,
        sort: Option<&str>,
    ) -> Result<DatastoreResult> {
        let fields_json: Option<String> = sqlx::query_scalar("SELECT fields FROM dataset_resources WHERE resource_id = $1")
            .bind(resource_id)
            .fetch_optional(self.db().reader())
            .await?
            .flatten();
        let fields: Vec<Field> = serde_json::from_str(&fields_json.ok_or_else(|| OpenError::NotFound(format!("表格资源 {resource_id}")))?)?;
        for k in filters.keys() {
            if !fields.iter().any(|f| &f.id == k) {
                return Err(invalid("filters", format!("字段“{k}”不存在")));
            }
        }
        let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM datastore_rows WHERE resource_id = $1 ORDER BY row_no")
            .bind(resource_id)
            .fetch_all(self.db().reader())
            .await?;
        let text_of = |v: &Value| v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
        let mut records: Vec<Map<String, Value>> = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let mut obj: Map<String, Value> = serde_json::from_str(r)?;
            let keep = filters.iter().all(|(k, want)| obj.get(k).is_some_and(|v| text_of(v) == text_of(want)))
                && q.is_none_or(|q| q.trim().is_empty() || obj.values().any(|v| text_of(v).contains(q.trim())));
            if keep {
                obj.insert("_id".into(), Value::from(i as i64 + 1));
                records.push(obj);
            }
        }
        if let Some(s) = sort.map(str::trim).filter(|s| !s.is_empty()) {
            let (field, desc) = match s.rsplit_once(' ') {
                Some((f, d)) => (f.trim(), d.eq_ignore_ascii_case("desc")),
                None => (s, false),
            };
            if !fields.iter().any(|f| f.id == field) {
                return Err(invalid("sort", format!("字段“{field}”不存在")));
            }
            records.sort_by(|a, b| {
                let (x, y) = (a.get(field).cloned().unwrap_or(Value::Null), b.get(field).cloned().unwrap_or(Value::Null));
                let o = match (x.as_f64(), y.as_f64()) {
                    (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(std::cmp::Ordering::Equal),
                    _ => text_of(&x).cmp(&text_of(&y)),
                };
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        let total = records.len();
        let limit = limit.clamp(1, 1000);
        let mut all_fields = vec![Field { id: "_id".into(), r#type: "int".into() }];
        all_fields.extend(fields);
        Ok(DatastoreResult {
            resource_id: resource_id.into(),
            fields: all_fields,
            records: records.into_iter().skip(offset).take(limit).collect(),
            total,
            limit,
            offset,
        })
    }

    /// A resource's file; counts the download.
    pub async fn download(&self, resource_id: &str) -> Result<(Resource, Vec<u8>)> {
        let (p, r) = self.resource(resource_id)?;
        let data: Vec<u8> = sqlx::query_scalar("SELECT data FROM dataset_resources WHERE resource_id = $1")
            .bind(resource_id)
            .fetch_one(self.db().reader())
            .await?;
        let mut tx = self.db().begin().await?;
        sqlx::query("UPDATE datasets SET downloads = downloads + 1 WHERE dataset_id = $1").bind(&p.id).execute(&mut *tx).await?;
        tx.commit().await?;
        if let Ok(mut m) = self.packages.write() {
            if let Some(x) = m.get_mut(&p.name) {
                x.downloads += 1;
            }
        }
        Ok((r, data))
    }

    /// 评分 1–5, one per person per dataset (a new rating replaces the old).
    pub async fn rate_dataset(&self, a: &Applicant, name: &str, level: i64) -> Result<Package> {
        let p = self.package(name)?;
        if !(1..=5).contains(&level) {
            return Err(invalid("level", "评分应为1至5"));
        }
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "INSERT INTO dataset_ratings (dataset_id, rater, level, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (dataset_id, rater) DO UPDATE SET level = excluded.level, created_at = excluded.created_at",
        )
        .bind(&p.id)
        .bind(self.cases.owner_of(a))
        .bind(level)
        .bind(self.now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.refresh_package(&p.name).await
    }

    /// 数据需求: ask for data to be opened.
    pub async fn request_dataset(&self, a: &Applicant, input: &DatasetRequestInput) -> Result<DatasetRequest> {
        let title = text(&input.title, "title", 200, false)?;
        let description = text(&input.description, "description", 2000, false)?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now_text();
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "INSERT INTO dataset_requests (request_id, title, description, organization, requester, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)",
        )
        .bind(&id)
        .bind(&title)
        .bind(&description)
        .bind(input.organization.clone().filter(|o| !o.trim().is_empty()))
        .bind(self.cases.owner_of(a))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(DatasetRequest {
            request_id: id,
            title,
            description,
            organization: input.organization.clone(),
            status: "open".into(),
            reply: None,
            created_at: now,
        })
    }

    /// Public list of dataset requests, newest first.
    pub async fn dataset_requests(&self) -> Result<Vec<DatasetRequest>> {
        let rows = sqlx::query("SELECT request_id, title, description, organization, status, reply, created_at FROM dataset_requests ORDER BY created_at DESC LIMIT 200")
            .fetch_all(self.db().reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DatasetRequest {
                    request_id: r.try_get("request_id")?,
                    title: r.try_get("title")?,
                    description: r.try_get("description")?,
                    organization: r.try_get("organization")?,
                    status: r.try_get("status")?,
                    reply: r.try_get("reply")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// How many datasets there are.
    pub fn dataset_count(&self) -> usize {
        self.packages.read().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn filter_queries_parse() {
        assert_eq!(
            parse_fq(r#"organization:abc tags:"公交 线路" +groups:transport"#),
            vec![("organization".into(), "abc".into()), ("tags".into(), "公交 线路".into()), ("groups".into(), "transport".into())]
        );
        assert!(parse_fq("").is_empty());
    }

    #[test]
    fn tables_parse_with_types() {
        let (h, rows) = parse_table("CSV", "\u{feff}站名,客流\n青山站,1200\n东城站,\n".as_bytes()).unwrap();
        assert_eq!(h, vec!["站名", "客流"]);
        assert_eq!(column_type(&rows, 1), "numeric");
        assert_eq!(column_type(&rows, 0), "text");
        assert!(parse_table("CSV", b"a,b\n1\n").is_err(), "ragged rows are refused");
        let (h, rows) = parse_table("JSON", br#"[{"a":1},{"a":2,"b":"x"}]"#).unwrap();
        assert_eq!((h.len(), rows.len()), (2, 2));
        assert!(parse_table("PDF", b"x").is_err());
    }

    proptest! {
        #[test]
        fn filters_and_tables_never_panic(s in "\\PC{0,80}") {
            let _ = parse_fq(&s);
            let _ = parse_table("CSV", s.as_bytes());
            let _ = parse_table("JSON", s.as_bytes());
        }
    }
}
