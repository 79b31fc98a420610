//! Openness (政务公开 · 数据开放): "以公开为常态、不公开为例外".
//!
//! - [`documents`]: departments publish documents (regulations, normative documents, notices,
//!   plans, budgets, lists of powers and duties) with metadata, attachments and a plain-language
//!   interpretation; publication and withdrawal can be scheduled; every version is kept; Atom feed.
//! - [`disclosure`]: disclosure on application, answered within 20 working days (once
//!   extendable by 20), tracked like a case.
//! - [`opendata`]: datasets with CSV/JSON/XLSX resources, previews, downloads, a tabular query
//!   API, requests and ratings; [`ckan`] maps them to CKAN's action API and DCAT.
//! - [`search`]: one Chinese full-text index over documents and datasets.

pub mod ckan;
pub mod demo;
pub mod disclosure;
pub mod documents;
mod error;
pub mod model;
pub mod opendata;
pub mod search;

/// The demo CSV files embedded at build time.
mod demo_files {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use yiwang_cases::Cases;
use yiwang_catalog::Catalog;
use yiwang_identity::{Role, Staff};
use yiwang_store::{timestamp_text, Db};

pub use error::{OpenError, Result};
pub use model::*;

/// The openness service.
#[derive(Clone)]
pub struct Openness {
    db: Db,
    catalog: Arc<Catalog>,
    cases: Cases,
    index: Arc<search::OpenIndex>,
    /// Every dataset as a CKAN package, by name: searches and listings never touch the
    /// database. Refreshed after each change here and from the database periodically.
    packages: Arc<RwLock<HashMap<String, Package>>>,
    public_url: String,
    /// While set (bulk loads), changes skip the index; a [`Openness::reload`] follows.
    defer_index: Arc<std::sync::atomic::AtomicBool>,
    /// What the database looked like at the last sync.
    fingerprint: Arc<RwLock<String>>,
}

/// Who may publish for `department`: its admins, and platform admins for everyone.
pub(crate) fn may_publish(staff: &Staff, department: &str) -> bool {
    staff.roles.contains(&Role::PlatformAdmin)
        || (staff.roles.contains(&Role::DeptAdmin) && staff.department.as_deref() == Some(department))
}

impl Openness {
    /// Open the service and build the search index and package cache from the database.
    pub async fn open(db: Db, catalog: Arc<Catalog>, cases: Cases, public_url: &str) -> Result<Openness> {
        let index = Arc::new(search::OpenIndex::new(catalog.search_index().shared_jieba())?);
        let o = Openness {
            db,
            catalog,
            cases,
            index,
            packages: Default::default(),
            public_url: public_url.trim_end_matches('/').to_string(),
            defer_index: Default::default(),
            fingerprint: Default::default(),
        };
        o.reload().await?;
        Ok(o)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.cases.now()
    }
    pub(crate) fn now_text(&self) -> String {
        timestamp_text(self.now())
    }
    pub(crate) fn today(&self) -> NaiveDate {
        yiwang_cases::china_date(self.now())
    }
    pub fn public_url(&self) -> &str {
        &self.public_url
    }
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Reload when another node changed documents or datasets (a cheap fingerprint first).
    pub async fn sync(&self) -> Result<bool> {
        let (n, last): (i64, Option<String>) = yiwang_store::sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM datasets) + (SELECT COUNT(*) FROM documents) + (SELECT COUNT(*) FROM dataset_resources) + (SELECT COUNT(*) FROM dataset_ratings),
                    (SELECT MAX(m) FROM (SELECT MAX(metadata_modified) AS m FROM datasets UNION ALL SELECT MAX(updated_at) FROM documents) AS x)",
        )
        .fetch_one(self.db.reader())
        .await?;
        let print = format!("{n}/{}", last.unwrap_or_default());
        let changed = self.fingerprint.read().map(|f| *f != print).unwrap_or(true);
        if changed {
            self.reload().await?;
            if let Ok(mut f) = self.fingerprint.write() {
                *f = print;
            }
        }
        Ok(changed)
    }

    /// Update the index after a change, unless a bulk load defers it.
    pub(crate) fn index_upsert(&self, kind: search::Kind, entries: &[(String, String, String)]) -> Result<()> {
        if self.defer_index.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        self.index.upsert(kind, entries)
    }

    /// Run `f` with index updates deferred, then rebuild the index once.
    pub(crate) async fn bulk<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.defer_index.store(true, std::sync::atomic::Ordering::Relaxed);
        let out = f.await;
        self.defer_index.store(false, std::sync::atomic::Ordering::Relaxed);
        self.reload().await?;
        out
    }

    /// Rebuild the index and package cache from the database (start-up, other nodes' changes).
    pub async fn reload(&self) -> Result<()> {
        let docs = documents::all_for_index(&self.db).await?;
        self.index.upsert(search::Kind::Document, &docs)?;
        let packages = opendata::load_packages(self, None).await?;
        let entries: Vec<(String, String, String)> = packages.iter().map(opendata::index_entry).collect();
        self.index.upsert(search::Kind::Dataset, &entries)?;
        if let Ok(mut m) = self.packages.write() {
            *m = packages.into_iter().map(|p| (p.name.clone(), p)).collect();
        }
        Ok(())
    }
}
