//! The service catalog (事项管理 · 办事指南 · 搜索): regions, departments, themes, catalog and
//! implementation items with versions, 一件事 bundles, Chinese search, import/export and the
//! demo province.

pub mod demo;
mod error;
pub mod model;
pub mod repo;
pub mod search;
mod service;
pub mod transfer;
pub mod validate;

pub use error::{CatalogError, Result};
pub use service::{Catalog, Editor, StatusAction};
