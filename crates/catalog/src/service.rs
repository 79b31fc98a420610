//! The catalog service: the only way pages, the API, import and the demo loader change items.
//! Each change runs in one transaction; the search index is updated after commit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use yiwang_core::codes::ImplementationCode;
use yiwang_store::sqlx::AnyConnection;
use yiwang_store::Db;

use crate::error::{CatalogError, Result};
use crate::model::*;
use crate::repo::{self, Searchable, Visibility};
use crate::search::{SearchIndex, SearchResults};
use crate::validate;

/// Who is editing, and which items they may touch. Obtained by the web layer only after the
/// identity check; the catalog enforces the department scope itself.
#[derive(Debug, Clone)]
pub struct Editor {
    actor: String,
    /// `None`: every department (platform administrators).
    department: Option<String>,
}

impl Editor {
    pub fn platform(actor: impl Into<String>) -> Self {
        Editor { actor: actor.into(), department: None }
    }
    pub fn department(actor: impl Into<String>, department: impl Into<String>) -> Self {
        Editor { actor: actor.into(), department: Some(department.into()) }
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
    pub fn scope(&self) -> Option<&str> {
        self.department.as_deref()
    }
    fn check(&self, department_code: &str) -> Result<()> {
        match &self.department {
            Some(d) if d != department_code => Err(CatalogError::Forbidden),
            _ => Ok(()),
        }
    }
}

/// Longest query searched; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 100;

/// A status change staff can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Suspend,
    Resume,
    Cancel,
}

impl StatusAction {
    /// `suspend`, `resume` or `cancel`.
    pub fn parse(s: &str) -> Result<StatusAction> {
        match s {
            "suspend" => Ok(StatusAction::Suspend),
            "resume" => Ok(StatusAction::Resume),
            "cancel" => Ok(StatusAction::Cancel),
            other => Err(CatalogError::Invalid(format!("未知操作：{other}，应为 suspend、resume 或 cancel"))),
        }
    }
}

pub struct Catalog {
    db: Db,
    search: Arc<SearchIndex>,
    /// Page views counted in memory and flushed in batches, so reading a guide never writes.
    views: Mutex<HashMap<String, i64>>,
}

impl Catalog {
    /// Open the catalog and build the search index from the database.
    pub async fn open(db: Db) -> Result<Catalog> {
        let search = Arc::new(SearchIndex::new()?);
        let catalog = Catalog { db, search, views: Mutex::new(HashMap::new()) };
        catalog.reindex().await?;
        Ok(catalog)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn search_index(&self) -> &SearchIndex {
        &self.search
    }

    /// Rebuild the search index from the database; returns the number of indexed items.
    pub async fn reindex(&self) -> Result<usize> {
        let mut c = self.db.reader().acquire().await?;
        let items = repo::searchable_items(&mut c, Searchable::All).await?;
        self.search.rebuild(&items)?;
        Ok(items.len())
    }

    /// Bring this node's index up to date with changes made since `since` (on any node).
    pub async fn sync_index(&self, since: &str) -> Result<usize> {
        let codes = repo::changed_since(&mut *self.db.reader().acquire().await?, since).await?;
        for code in &codes {
            self.refresh_index(code).await?;
        }
        Ok(codes.len())
    }

    async fn refresh_index(&self, code: &str) -> Result<()> {
        let mut c = self.db.reader().acquire().await?;
        let items = repo::searchable_items(&mut c, Searchable::One(code)).await?;
        if items.is_empty() {
            self.search.remove(code)
        } else {
            self.search.upsert(&items)
        }
    }

    // ---------- reads ----------

    pub async fn regions(&self) -> Result<Vec<Region>> {
        repo::regions(&mut *self.db.reader().acquire().await?).await
    }

    pub async fn region(&self, code: &str) -> Result<Region> {
        repo::region(&mut *self.db.reader().acquire().await?, code).await?.ok_or_else(|| CatalogError::RegionNotFound(code.to_string()))
    }

    pub async fn departments(&self) -> Result<Vec<Department>> {
        repo::departments(&mut *self.db.reader().acquire().await?).await
    }

    pub async fn department(&self, code: &str) -> Result<Department> {
        repo::department(&mut *self.db.reader().acquire().await?, code)
            .await?
            .ok_or_else(|| CatalogError::DepartmentNotFound(code.to_string()))
    }

    pub async fn themes(&self) -> Result<Vec<Theme>> {
        repo::themes(&mut *self.db.reader().acquire().await?).await
    }

    pub async fn theme(&self, slug: &str) -> Result<Theme> {
        self.themes().await?.into_iter().find(|t| t.slug == slug).ok_or_else(|| CatalogError::ThemeNotFound(slug.to_string()))
    }

    pub async fn bundles(&self) -> Result<Vec<Bundle>> {
        repo::bundles(&mut *self.db.reader().acquire().await?).await
    }

    pub async fn bundle(&self, code: &str) -> Result<Bundle> {
        repo::bundle(&mut *self.db.reader().acquire().await?, code).await?.ok_or_else(|| CatalogError::BundleNotFound(code.to_string()))
    }

    async fn load_item(&self, c: &mut AnyConnection, code: &str, version: Option<i64>) -> Result<Item> {
        let row = repo::item_row(c, code).await?.ok_or_else(|| CatalogError::ItemNotFound(code.to_string()))?;
        let version = version.unwrap_or(row.latest_version);
        let (doc, _) = repo::version_doc(c, code, version).await?;
        let department_name = repo::department(c, &doc.department_code).await?.map(|d| d.name).unwrap_or_default();
        let region_name = repo::region(c, &doc.region_code).await?.map(|r| r.name).unwrap_or_default();
        let exercise_level = ImplementationCode::parse(code).map(|c| c.level() as u8).unwrap_or(0);
        Ok(Item {
            impl_code: code.to_string(),
            status: row.status,
            version,
            latest_version: row.latest_version,
            published_version: row.published_version,
            exercise_level,
            department_name,
            region_name,
            updated_at: row.updated_at,
            doc,
        })
    }

    /// The published guide, as the public sees it (published or suspended items only).
    pub async fn item_public(&self, code: &str) -> Result<Item> {
        let mut c = self.db.reader().acquire().await?;
        let row = repo::item_row(&mut c, code).await?.ok_or_else(|| CatalogError::ItemNotFound(code.to_string()))?;
        match (row.status, row.published_version) {
            (ItemStatus::Published | ItemStatus::Suspended, Some(v)) => self.load_item(&mut c, code, Some(v)).await,
            _ => Err(CatalogError::ItemNotFound(code.to_string())),
        }
    }

    /// The latest version (draft or published), for staff of the owning department.
    pub async fn item_latest(&self, editor: &Editor, code: &str) -> Result<Item> {
        let mut c = self.db.reader().acquire().await?;
        let item = self.load_item(&mut c, code, None).await?;
        editor.check(&item.doc.department_code)?;
        Ok(item)
    }

    pub async fn list_public(&self, filter: &ItemFilter, page: u32, per_page: u32) -> Result<Page<ItemSummary>> {
        let mut c = self.db.reader().acquire().await?;
        repo::list_items(&mut c, filter, Visibility::Public, None, page.max(1), per_page.clamp(1, 100)).await
    }

    pub async fn list_staff(
        &self,
        editor: &Editor,
        filter: &ItemFilter,
        status: Option<ItemStatus>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<ItemSummary>> {
        let mut c = self.db.reader().acquire().await?;
        repo::list_items(&mut c, filter, Visibility::Staff(status), editor.scope(), page.max(1), per_page.clamp(1, 100)).await
    }

    /// Most viewed published items.
    pub async fn hot_items(&self, n: u32) -> Result<Vec<ItemSummary>> {
        Ok(self.list_public(&ItemFilter::default(), 1, n).await?.items)
    }

    pub fn search(&self, q: &str, filter: &ItemFilter, page: u32, per_page: u32) -> Result<SearchResults> {
        // Queries are short in practice; bounding them bounds segmentation and query size.
        let q: String = q.chars().take(MAX_QUERY_CHARS).collect();
        let q = q.as_str();
        let per_page = per_page.clamp(1, 100) as usize;
        let offset = (page.max(1) as usize - 1) * per_page;
        self.search.search(q, filter, offset, per_page)
    }

    pub async fn history(&self, editor: &Editor, code: &str) -> Result<Vec<HistoryEntry>> {
        let item = self.item_latest(editor, code).await?;
        repo::history(&mut *self.db.reader().acquire().await?, &item.impl_code).await
    }

    // ---------- writes ----------

    /// Create a new item as a draft (version 1).
    pub async fn create(&self, editor: &Editor, impl_code: &str, doc: ItemDoc) -> Result<Item> {
        let mut tx = self.db.begin().await?;
        let code = create_in(&mut tx, editor, impl_code, &doc, "create").await?;
        tx.commit().await?;
        tracing::info!(item = %code, actor = editor.actor(), "item created");
        self.item_latest(editor, &code).await
    }

    /// Save new elements: overwrites the current draft, or opens a new draft version when the
    /// latest is published (the published guide stays live until the draft is published).
    pub async fn update(&self, editor: &Editor, impl_code: &str, doc: ItemDoc) -> Result<Item> {
        let mut tx = self.db.begin().await?;
        let code = update_in(&mut tx, editor, impl_code, &doc, "edit").await?;
        tx.commit().await?;
        self.item_latest(editor, &code).await
    }

    /// Publish the latest version after checking it is complete.
    pub async fn publish(&self, editor: &Editor, impl_code: &str) -> Result<Item> {
        let mut tx = self.db.begin().await?;
        publish_in(&mut tx, editor, impl_code).await?;
        tx.commit().await?;
        self.refresh_index(impl_code).await?;
        tracing::info!(item = impl_code, actor = editor.actor(), "item published");
        self.item_latest(editor, impl_code).await
    }

    pub async fn change_status(&self, editor: &Editor, impl_code: &str, action: StatusAction, note: &str) -> Result<Item> {
        let mut tx = self.db.begin().await?;
        let row = repo::item_row(&mut tx, impl_code).await?.ok_or_else(|| CatalogError::ItemNotFound(impl_code.to_string()))?;
        let (doc, _) = repo::version_doc(&mut tx, impl_code, row.latest_version).await?;
        editor.check(&doc.department_code)?;
        let (to, name) = match (action, row.status) {
            (StatusAction::Suspend, ItemStatus::Published) => (ItemStatus::Suspended, "suspend"),
            (StatusAction::Resume, ItemStatus::Suspended) => (ItemStatus::Published, "resume"),
            (StatusAction::Cancel, s) if s != ItemStatus::Cancelled => (ItemStatus::Cancelled, "cancel"),
            (a, s) => {
                let verb = match a {
                    StatusAction::Suspend => "暂停",
                    StatusAction::Resume => "恢复",
                    StatusAction::Cancel => "取消",
                };
                return Err(CatalogError::WrongStatus { status: s.label_zh(), action: verb });
            }
        };
        repo::set_status(&mut tx, impl_code, to).await?;
        repo::add_history(&mut tx, impl_code, row.latest_version, name, editor.actor(), note).await?;
        tx.commit().await?;
        self.refresh_index(impl_code).await?;
        self.item_latest(editor, impl_code).await
    }

    /// Count a page view (flushed later by [`Catalog::flush_views`]).
    pub fn record_view(&self, code: &str) {
        if let Ok(mut v) = self.views.lock() {
            *v.entry(code.to_string()).or_default() += 1;
        }
    }

    /// Write counted views to the database in one transaction.
    pub async fn flush_views(&self) -> Result<usize> {
        let pending: Vec<(String, i64)> = match self.views.lock() {
            Ok(mut v) => v.drain().collect(),
            Err(_) => return Ok(0),
        };
        if pending.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        for (code, n) in &pending {
            repo::add_views(&mut tx, code, *n).await?;
        }
        tx.commit().await?;
        Ok(pending.len())
    }
}

/// Reference checks shared by create and update: department, region and themes exist.
async fn check_references(c: &mut AnyConnection, doc: &ItemDoc) -> Result<()> {
    if repo::department(c, &doc.department_code).await?.is_none() {
        return Err(CatalogError::DepartmentNotFound(doc.department_code.clone()));
    }
    if repo::region(c, &doc.region_code).await?.is_none() {
        return Err(CatalogError::RegionNotFound(doc.region_code.clone()));
    }
    Ok(())
}

pub(crate) async fn create_in(c: &mut AnyConnection, editor: &Editor, impl_code: &str, doc: &ItemDoc, action: &str) -> Result<String> {
    let code = validate::check_codes(impl_code, doc)?.to_string();
    editor.check(&doc.department_code)?;
    check_references(c, doc).await?;
    if repo::item_row(c, &code).await?.is_some() {
        return Err(CatalogError::AlreadyExists(code));
    }
    repo::ensure_catalog_item(c, doc).await?;
    repo::insert_item(c, &code, doc, editor.actor()).await?;
    repo::add_history(c, &code, 1, action, editor.actor(), "").await?;
    Ok(code)
}

pub(crate) async fn update_in(c: &mut AnyConnection, editor: &Editor, impl_code: &str, doc: &ItemDoc, action: &str) -> Result<String> {
    let code = validate::check_codes(impl_code, doc)?.to_string();
    let row = repo::item_row(c, &code).await?.ok_or_else(|| CatalogError::ItemNotFound(code.clone()))?;
    editor.check(&doc.department_code)?;
    if row.status == ItemStatus::Cancelled {
        return Err(CatalogError::WrongStatus { status: ItemStatus::Cancelled.label_zh(), action: "修改" });
    }
    check_references(c, doc).await?;
    repo::ensure_catalog_item(c, doc).await?;
    let (_, latest_status) = repo::version_doc(c, &code, row.latest_version).await?;
    let version = if latest_status == "draft" {
        repo::overwrite_draft(c, &code, row.latest_version, doc).await?;
        row.latest_version
    } else {
        repo::insert_draft_version(c, &code, row.latest_version + 1, doc, editor.actor()).await?;
        row.latest_version + 1
    };
    if row.published_version.is_none() {
        repo::denormalise(c, &code, doc).await?;
    }
    repo::add_history(c, &code, version, action, editor.actor(), "").await?;
    Ok(code)
}

pub(crate) async fn publish_in(c: &mut AnyConnection, editor: &Editor, impl_code: &str) -> Result<()> {
    let row = repo::item_row(c, impl_code).await?.ok_or_else(|| CatalogError::ItemNotFound(impl_code.to_string()))?;
    let (doc, version_status) = repo::version_doc(c, impl_code, row.latest_version).await?;
    editor.check(&doc.department_code)?;
    if row.status == ItemStatus::Cancelled {
        return Err(CatalogError::WrongStatus { status: ItemStatus::Cancelled.label_zh(), action: "发布" });
    }
    if version_status != "draft" {
        return Err(CatalogError::WrongStatus { status: row.status.label_zh(), action: "重复发布（没有待发布的新版本）" });
    }
    validate::check_codes(impl_code, &doc)?;
    let problems = validate::publish_problems(&doc);
    if !problems.is_empty() {
        return Err(CatalogError::Incomplete(problems));
    }
    repo::mark_published(c, impl_code, row.latest_version, row.published_version).await?;
    repo::denormalise(c, impl_code, &doc).await?;
    repo::add_history(c, impl_code, row.latest_version, "publish", editor.actor(), "").await?;
    Ok(())
}
