//! SQL for the catalog. Every function takes a connection so callers decide the transaction.
//! Only portable SQL: `$n` placeholders, TEXT/BIGINT columns, `ON CONFLICT` upserts.

use yiwang_store::sqlx::{self, AnyConnection, Row as _};
use yiwang_store::{now_text, Row};

use crate::error::{CatalogError, Result};
use crate::model::*;

fn text(row: &Row, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}
fn int(row: &Row, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}
fn enum_col<T>(row: &Row, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s = text(row, col)?;
    parse(&s).ok_or_else(|| CatalogError::Search(format!("bad stored value {col}={s}")))
}

/// Prefix shared by a region and all its sub-regions (GB/T 2260 is hierarchical by digits):
/// 360000 → "36", 360100 → "3601", 360102 → "360102".
pub fn region_prefix(code: &str) -> &str {
    if code.len() == 6 {
        if code.ends_with("0000") {
            return &code[..2];
        }
        if code.ends_with("00") {
            return &code[..4];
        }
    }
    code
}

// ---------- reference data ----------

pub async fn upsert_region(c: &mut AnyConnection, r: &Region) -> Result<()> {
    sqlx::query(
        "INSERT INTO regions (code, name, name_en, level, parent_code) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, level = excluded.level, parent_code = excluded.parent_code",
    )
    .bind(&r.code)
    .bind(&r.name)
    .bind(&r.name_en)
    .bind(r.level.key())
    .bind(&r.parent_code)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn upsert_department(c: &mut AnyConnection, d: &Department, sort: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO departments (credit_code, name, name_en, region_code, address, phone, hours, sort) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, region_code = excluded.region_code,
           address = excluded.address, phone = excluded.phone, hours = excluded.hours, sort = excluded.sort",
    )
    .bind(&d.credit_code)
    .bind(&d.name)
    .bind(&d.name_en)
    .bind(&d.region_code)
    .bind(&d.address)
    .bind(&d.phone)
    .bind(&d.hours)
    .bind(sort)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn upsert_theme(c: &mut AnyConnection, t: &Theme, sort: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO themes (slug, name, name_en, audience, description, sort) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, audience = excluded.audience,
           description = excluded.description, sort = excluded.sort",
    )
    .bind(&t.slug)
    .bind(&t.name)
    .bind(&t.name_en)
    .bind(t.audience.key())
    .bind(&t.description)
    .bind(sort)
    .execute(c)
    .await?;
    Ok(())
}

fn region_from(row: &Row) -> Result<Region> {
    Ok(Region {
        code: text(row, "code")?,
        name: text(row, "name")?,
        name_en: row.try_get("name_en")?,
        level: enum_col(row, "level", RegionLevel::parse)?,
        parent_code: row.try_get("parent_code")?,
    })
}

pub async fn regions(c: &mut AnyConnection) -> Result<Vec<Region>> {
    let rows = sqlx::query("SELECT code, name, name_en, level, parent_code FROM regions ORDER BY code").fetch_all(c).await?;
    rows.iter().map(region_from).collect()
}

pub async fn region(c: &mut AnyConnection, code: &str) -> Result<Option<Region>> {
    let row =
        sqlx::query("SELECT code, name, name_en, level, parent_code FROM regions WHERE code = $1").bind(code).fetch_optional(c).await?;
    row.as_ref().map(region_from).transpose()
}

fn department_from(row: &Row) -> Result<Department> {
    Ok(Department {
        credit_code: text(row, "credit_code")?,
        name: text(row, "name")?,
        name_en: row.try_get("name_en")?,
        region_code: text(row, "region_code")?,
        address: text(row, "address")?,
        phone: text(row, "phone")?,
        hours: text(row, "hours")?,
    })
}

pub async fn departments(c: &mut AnyConnection) -> Result<Vec<Department>> {
    let rows =
        sqlx::query("SELECT credit_code, name, name_en, region_code, address, phone, hours FROM departments ORDER BY sort, credit_code")
            .fetch_all(c)
            .await?;
    rows.iter().map(department_from).collect()
}

pub async fn department(c: &mut AnyConnection, code: &str) -> Result<Option<Department>> {
    let row = sqlx::query("SELECT credit_code, name, name_en, region_code, address, phone, hours FROM departments WHERE credit_code = $1")
        .bind(code)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(department_from).transpose()
}

pub async fn themes(c: &mut AnyConnection) -> Result<Vec<Theme>> {
    let rows = sqlx::query("SELECT slug, name, name_en, audience, description FROM themes ORDER BY sort, slug").fetch_all(c).await?;
    rows.iter()
        .map(|row| {
            Ok(Theme {
                slug: text(row, "slug")?,
                name: text(row, "name")?,
                name_en: text(row, "name_en")?,
                audience: enum_col(row, "audience", Audience::parse)?,
                description: text(row, "description")?,
            })
        })
        .collect()
}

// ---------- items ----------

/// The catalog item (目录清单) for a basic code: created on first use, and afterwards every
/// implementation must keep its type (三级四同: same code, same type at every level).
pub async fn ensure_catalog_item(c: &mut AnyConnection, doc: &ItemDoc) -> Result<()> {
    let existing =
        sqlx::query("SELECT item_type FROM catalog_items WHERE basic_code = $1").bind(&doc.basic_code).fetch_optional(&mut *c).await?;
    match existing {
        Some(row) => {
            let t = text(&row, "item_type")?;
            if t != doc.item_type.key() {
                let label = ItemType::parse(&t).map(|t| t.label_zh()).unwrap_or("未知");
                return Err(CatalogError::Invalid(format!(
                    "基本编码{}在目录清单中的事项类型为“{label}”，实施清单须保持一致",
                    doc.basic_code
                )));
            }
        }
        None => {
            sqlx::query("INSERT INTO catalog_items (basic_code, name, item_type, legal_basis) VALUES ($1, $2, $3, $4)")
                .bind(&doc.basic_code)
                .bind(&doc.name)
                .bind(doc.item_type.key())
                .bind(doc.legal_basis.join("\n"))
                .execute(c)
                .await?;
        }
    }
    Ok(())
}

pub struct ItemRow {
    pub status: ItemStatus,
    pub latest_version: i64,
    pub published_version: Option<i64>,
    pub updated_at: String,
}

pub async fn item_row(c: &mut AnyConnection, code: &str) -> Result<Option<ItemRow>> {
    let row = sqlx::query("SELECT status, latest_version, published_version, updated_at FROM items WHERE impl_code = $1")
        .bind(code)
        .fetch_optional(c)
        .await?;
    row.map(|r| {
        Ok(ItemRow {
            status: enum_col(&r, "status", ItemStatus::parse)?,
            latest_version: int(&r, "latest_version")?,
            published_version: r.try_get("published_version")?,
            updated_at: text(&r, "updated_at")?,
        })
    })
    .transpose()
}

pub async fn version_doc(c: &mut AnyConnection, code: &str, version: i64) -> Result<(ItemDoc, String)> {
    let row = sqlx::query("SELECT doc, status FROM item_versions WHERE impl_code = $1 AND version = $2")
        .bind(code)
        .bind(version)
        .fetch_optional(c)
        .await?
        .ok_or_else(|| CatalogError::ItemNotFound(code.to_string()))?;
    let doc: ItemDoc = serde_json::from_str(&text(&row, "doc")?).map_err(|e| CatalogError::Search(format!("stored doc: {e}")))?;
    Ok((doc, text(&row, "status")?))
}

fn doc_json(doc: &ItemDoc) -> Result<String> {
    serde_json::to_string(doc).map_err(|e| CatalogError::Invalid(e.to_string()))
}

pub async fn insert_item(c: &mut AnyConnection, code: &str, doc: &ItemDoc, actor: &str) -> Result<()> {
    let now = now_text();
    sqlx::query(
        "INSERT INTO items (impl_code, basic_code, status, latest_version, published_version, name, department_code, region_code,
            item_type, audience, promised_days, visits, online_depth, updated_at)
         VALUES ($1, $2, 'draft', 1, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(code)
    .bind(&doc.basic_code)
    .bind(&doc.name)
    .bind(&doc.department_code)
    .bind(&doc.region_code)
    .bind(doc.item_type.key())
    .bind(doc.audience.key())
    .bind(i64::from(doc.promised_days))
    .bind(i64::from(doc.visits))
    .bind(i64::from(doc.online_depth))
    .bind(&now)
    .execute(&mut *c)
    .await
    .map_err(|e| match yiwang_store::StoreError::from(e) {
        yiwang_store::StoreError::Duplicate(_) => CatalogError::AlreadyExists(code.to_string()),
        other => CatalogError::Store(other),
    })?;
    sqlx::query("INSERT INTO item_versions (impl_code, version, status, doc, created_at, created_by) VALUES ($1, 1, 'draft', $2, $3, $4)")
        .bind(code)
        .bind(doc_json(doc)?)
        .bind(&now)
        .bind(actor)
        .execute(&mut *c)
        .await?;
    set_themes(c, code, &doc.themes).await
}

async fn set_themes(c: &mut AnyConnection, code: &str, themes: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM item_themes WHERE impl_code = $1").bind(code).execute(&mut *c).await?;
    for t in themes {
        let exists = sqlx::query("SELECT slug FROM themes WHERE slug = $1").bind(t).fetch_optional(&mut *c).await?;
        if exists.is_none() {
            return Err(CatalogError::ThemeNotFound(t.clone()));
        }
        sqlx::query("INSERT INTO item_themes (impl_code, theme_slug) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(code)
            .bind(t)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Overwrite the draft version `version` with `doc`.
pub async fn overwrite_draft(c: &mut AnyConnection, code: &str, version: i64, doc: &ItemDoc) -> Result<()> {
    sqlx::query("UPDATE item_versions SET doc = $1 WHERE impl_code = $2 AND version = $3 AND status = 'draft'")
        .bind(doc_json(doc)?)
        .bind(code)
        .bind(version)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn insert_draft_version(c: &mut AnyConnection, code: &str, version: i64, doc: &ItemDoc, actor: &str) -> Result<()> {
    sqlx::query("INSERT INTO item_versions (impl_code, version, status, doc, created_at, created_by) VALUES ($1, $2, 'draft', $3, $4, $5)")
        .bind(code)
        .bind(version)
        .bind(doc_json(doc)?)
        .bind(now_text())
        .bind(actor)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE items SET latest_version = $1, updated_at = $2 WHERE impl_code = $3")
        .bind(version)
        .bind(now_text())
        .bind(code)
        .execute(c)
        .await?;
    Ok(())
}

/// Copy the listed fields of `doc` onto the items row (what lists and filters read).
pub async fn denormalise(c: &mut AnyConnection, code: &str, doc: &ItemDoc) -> Result<()> {
    sqlx::query(
        "UPDATE items SET name = $1, region_code = $2, item_type = $3, audience = $4, promised_days = $5, visits = $6,
            online_depth = $7, updated_at = $8 WHERE impl_code = $9",
    )
    .bind(&doc.name)
    .bind(&doc.region_code)
    .bind(doc.item_type.key())
    .bind(doc.audience.key())
    .bind(i64::from(doc.promised_days))
    .bind(i64::from(doc.visits))
    .bind(i64::from(doc.online_depth))
    .bind(now_text())
    .bind(code)
    .execute(&mut *c)
    .await?;
    set_themes(c, code, &doc.themes).await
}

pub async fn mark_published(c: &mut AnyConnection, code: &str, version: i64, previous: Option<i64>) -> Result<()> {
    let now = now_text();
    if let Some(prev) = previous {
        sqlx::query("UPDATE item_versions SET status = 'superseded' WHERE impl_code = $1 AND version = $2")
            .bind(code)
            .bind(prev)
            .execute(&mut *c)
            .await?;
    }
    sqlx::query("UPDATE item_versions SET status = 'published', published_at = $1 WHERE impl_code = $2 AND version = $3")
        .bind(&now)
        .bind(code)
        .bind(version)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE items SET status = 'published', published_version = $1, updated_at = $2 WHERE impl_code = $3")
        .bind(version)
        .bind(&now)
        .bind(code)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_status(c: &mut AnyConnection, code: &str, status: ItemStatus) -> Result<()> {
    sqlx::query("UPDATE items SET status = $1, updated_at = $2 WHERE impl_code = $3")
        .bind(status.key())
        .bind(now_text())
        .bind(code)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn add_history(c: &mut AnyConnection, code: &str, version: i64, action: &str, actor: &str, note: &str) -> Result<()> {
    sqlx::query("INSERT INTO item_history (impl_code, version, action, actor, note, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(code)
        .bind(version)
        .bind(action)
        .bind(actor)
        .bind(note)
        .bind(now_text())
        .execute(c)
        .await?;
    Ok(())
}

pub async fn history(c: &mut AnyConnection, code: &str) -> Result<Vec<HistoryEntry>> {
    let rows = sqlx::query("SELECT version, action, actor, note, at FROM item_history WHERE impl_code = $1 ORDER BY id")
        .bind(code)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                version: int(r, "version")?,
                action: text(r, "action")?,
                actor: text(r, "actor")?,
                note: text(r, "note")?,
                at: text(r, "at")?,
            })
        })
        .collect()
}

const SUMMARY_COLUMNS: &str = "i.impl_code, i.name, i.status, i.department_code, d.name AS department_name, i.region_code, i.item_type,
    i.audience, i.promised_days, i.visits, i.online_depth, i.updated_at";

fn summary_from(r: &Row) -> Result<ItemSummary> {
    Ok(ItemSummary {
        impl_code: text(r, "impl_code")?,
        name: text(r, "name")?,
        status: enum_col(r, "status", ItemStatus::parse)?,
        department_code: text(r, "department_code")?,
        department_name: text(r, "department_name")?,
        region_code: text(r, "region_code")?,
        item_type: enum_col(r, "item_type", ItemType::parse)?,
        audience: enum_col(r, "audience", Audience::parse)?,
        promised_days: u32::try_from(int(r, "promised_days")?).unwrap_or(0),
        visits: u32::try_from(int(r, "visits")?).unwrap_or(0),
        online_depth: u8::try_from(int(r, "online_depth")?).unwrap_or(1),
        updated_at: text(r, "updated_at")?,
    })
}

/// Which items a listing may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Published and suspended items (the public portal).
    Public,
    /// Everything, optionally one status (the staff workbench).
    Staff(Option<ItemStatus>),
}

/// Build WHERE clause and binds for a filter. Binds are all text.
fn where_clause(filter: &ItemFilter, vis: Visibility, scope_dept: Option<&str>) -> (String, Vec<String>) {
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    // `?` in `sql` becomes the next numbered placeholder.
    fn push(conds: &mut Vec<String>, binds: &mut Vec<String>, sql: &str, v: String) {
        binds.push(v);
        conds.push(sql.replace('?', &format!("${}", binds.len())));
    }
    match vis {
        Visibility::Public => conds.push("i.status IN ('published', 'suspended')".to_string()),
        Visibility::Staff(Some(s)) => push(&mut conds, &mut binds, "i.status = ?", s.key().to_string()),
        Visibility::Staff(None) => {}
    }
    if let Some(d) = scope_dept {
        push(&mut conds, &mut binds, "i.department_code = ?", d.to_string());
    }
    if let Some(d) = &filter.department {
        push(&mut conds, &mut binds, "i.department_code = ?", d.clone());
    }
    if let Some(r) = &filter.region {
        push(&mut conds, &mut binds, "i.region_code LIKE ?", format!("{}%", region_prefix(r)));
    }
    if let Some(t) = filter.item_type {
        push(&mut conds, &mut binds, "i.item_type = ?", t.key().to_string());
    }
    if let Some(a) = filter.audience {
        if a != Audience::Both {
            push(&mut conds, &mut binds, "i.audience IN (?, 'both')", a.key().to_string());
        }
    }
    if let Some(t) = &filter.theme {
        push(
            &mut conds,
            &mut binds,
            "EXISTS (SELECT 1 FROM item_themes t WHERE t.impl_code = i.impl_code AND t.theme_slug = ?)",
            t.clone(),
        );
    }
    let sql = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    (sql, binds)
}

pub async fn list_items(
    c: &mut AnyConnection,
    filter: &ItemFilter,
    vis: Visibility,
    scope_dept: Option<&str>,
    page: u32,
    per_page: u32,
) -> Result<Page<ItemSummary>> {
    let (wh, binds) = where_clause(filter, vis, scope_dept);
    let count_sql = format!("SELECT COUNT(*) AS n FROM items i {wh}");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(count_sql));
    for b in &binds {
        q = q.bind(b.clone());
    }
    let total = int(&q.fetch_one(&mut *c).await?, "n")?;
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM items i JOIN departments d ON d.credit_code = i.department_code {wh}
         ORDER BY i.views DESC, i.impl_code LIMIT {} OFFSET {offset}",
        per_page
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b.clone());
    }
    let rows = q.fetch_all(c).await?;
    Ok(Page { total: u64::try_from(total).unwrap_or(0), page, per_page, items: rows.iter().map(summary_from).collect::<Result<_>>()? })
}

/// Published items with their docs and department names, for (re)building the search index.
/// Which items to read for the index.
pub enum Searchable<'a> {
    All,
    One(&'a str),
}

pub async fn searchable_items(c: &mut AnyConnection, which: Searchable<'_>) -> Result<Vec<crate::search::IndexedItem>> {
    let mut sql = "SELECT i.impl_code, i.status, i.views, d.name AS department_name, v.doc FROM items i
         JOIN departments d ON d.credit_code = i.department_code
         JOIN item_versions v ON v.impl_code = i.impl_code AND v.version = i.published_version
         WHERE i.status IN ('published', 'suspended')"
        .to_string();
    if let Searchable::One(_) = which {
        sql.push_str(" AND i.impl_code = $1");
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Searchable::One(code) = which {
        q = q.bind(code.to_string());
    }
    let rows = q.fetch_all(c).await?;
    rows.iter()
        .map(|r| {
            let doc: ItemDoc = serde_json::from_str(&text(r, "doc")?).map_err(|e| CatalogError::Search(e.to_string()))?;
            Ok(crate::search::IndexedItem {
                impl_code: text(r, "impl_code")?,
                status: enum_col(r, "status", ItemStatus::parse)?,
                views: int(r, "views")?,
                department_name: text(r, "department_name")?,
                doc,
            })
        })
        .collect()
}

/// Items changed at or after `since` (RFC 3339 text, as stored).
pub async fn changed_since(c: &mut AnyConnection, since: &str) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT impl_code FROM items WHERE updated_at >= $1").bind(since).fetch_all(c).await?;
    rows.iter().map(|r| text(r, "impl_code")).collect()
}

pub async fn add_views(c: &mut AnyConnection, code: &str, n: i64) -> Result<()> {
    sqlx::query("UPDATE items SET views = views + $1 WHERE impl_code = $2").bind(n).bind(code).execute(c).await?;
    Ok(())
}

// ---------- bundles ----------

pub async fn upsert_bundle(c: &mut AnyConnection, b: &Bundle, sort: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO bundles (code, name, name_en, audience, lead_department, description, promised_days, sort)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, audience = excluded.audience,
           lead_department = excluded.lead_department, description = excluded.description, promised_days = excluded.promised_days, sort = excluded.sort",
    )
    .bind(&b.code)
    .bind(&b.name)
    .bind(&b.name_en)
    .bind(b.audience.key())
    .bind(&b.lead_department)
    .bind(&b.description)
    .bind(i64::from(b.promised_days))
    .bind(sort)
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM bundle_items WHERE bundle_code = $1").bind(&b.code).execute(&mut *c).await?;
    for (i, item) in b.items.iter().enumerate() {
        sqlx::query("INSERT INTO bundle_items (bundle_code, impl_code, sort) VALUES ($1, $2, $3)")
            .bind(&b.code)
            .bind(item)
            .bind(i as i64)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub async fn bundles(c: &mut AnyConnection) -> Result<Vec<Bundle>> {
    let rows = sqlx::query("SELECT code FROM bundles ORDER BY sort, code").fetch_all(&mut *c).await?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(b) = bundle(c, &text(&r, "code")?).await? {
            out.push(b);
        }
    }
    Ok(out)
}

pub async fn bundle(c: &mut AnyConnection, code: &str) -> Result<Option<Bundle>> {
    let Some(r) =
        sqlx::query("SELECT code, name, name_en, audience, lead_department, description, promised_days FROM bundles WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *c)
            .await?
    else {
        return Ok(None);
    };
    let items = sqlx::query("SELECT impl_code FROM bundle_items WHERE bundle_code = $1 ORDER BY sort")
        .bind(code)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| text(r, "impl_code"))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Bundle {
        code: text(&r, "code")?,
        name: text(&r, "name")?,
        name_en: text(&r, "name_en")?,
        audience: enum_col(&r, "audience", Audience::parse)?,
        lead_department: text(&r, "lead_department")?,
        description: text(&r, "description")?,
        promised_days: u32::try_from(int(&r, "promised_days")?).unwrap_or(0),
        items,
    }))
}

pub async fn get_setting(c: &mut AnyConnection, key: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(c).await?;
    row.map(|r| text(&r, "value")).transpose()
}

pub async fn set_setting(c: &mut AnyConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(c)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_prefixes() {
        assert_eq!(region_prefix("360000"), "36");
        assert_eq!(region_prefix("360100"), "3601");
        assert_eq!(region_prefix("360102"), "360102");
        assert_eq!(region_prefix("360102001"), "360102001");
    }

    #[test]
    fn filters_become_numbered_placeholders() {
        let f = ItemFilter {
            department: Some("X".into()),
            audience: Some(Audience::Person),
            theme: Some("shengyu".into()),
            ..Default::default()
        };
        let (sql, binds) = where_clause(&f, Visibility::Public, None);
        assert!(sql.contains("i.department_code = $1"));
        assert!(sql.contains("i.audience IN ($2, 'both')"));
        assert!(sql.contains("t.theme_slug = $3"));
        assert_eq!(binds, vec!["X", "person", "shengyu"]);
    }
}
