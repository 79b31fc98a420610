use yiwang_core::codes::CodeError;
use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::StoreError;

/// Everything that can go wrong in the catalog, with stable codes and Chinese messages.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("事项不存在：{0}")]
    ItemNotFound(String),
    #[error("部门不存在：{0}")]
    DepartmentNotFound(String),
    #[error("行政区划不存在：{0}")]
    RegionNotFound(String),
    #[error("主题不存在：{0}")]
    ThemeNotFound(String),
    #[error("一件事不存在：{0}")]
    BundleNotFound(String),
    #[error("{field}：{source}")]
    InvalidCode {
        field: &'static str,
        #[source]
        source: CodeError,
    },
    #[error("事项要素不完整或有误，请一次性补正：{}", .0.join("；"))]
    Incomplete(Vec<String>),
    #[error("{0}")]
    Invalid(String),
    #[error("事项已存在：{0}")]
    AlreadyExists(String),
    #[error("事项当前状态为“{status}”，不能{action}")]
    WrongStatus { status: &'static str, action: &'static str },
    #[error("无权维护其他部门的事项")]
    Forbidden,
    #[error("导入失败，共{} 处错误，未导入任何数据", .0.len())]
    ImportRejected(Vec<crate::transfer::RowError>),
    #[error("搜索服务错误")]
    Search(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<yiwang_store::sqlx::Error> for CatalogError {
    fn from(e: yiwang_store::sqlx::Error) -> Self {
        CatalogError::Store(e.into())
    }
}

impl From<tantivy::TantivyError> for CatalogError {
    fn from(e: tantivy::TantivyError) -> Self {
        CatalogError::Search(e.to_string())
    }
}

impl DomainError for CatalogError {
    fn code(&self) -> &'static str {
        match self {
            CatalogError::ItemNotFound(_) => "ITEM_NOT_FOUND",
            CatalogError::DepartmentNotFound(_) => "DEPARTMENT_NOT_FOUND",
            CatalogError::RegionNotFound(_) => "REGION_NOT_FOUND",
            CatalogError::ThemeNotFound(_) => "THEME_NOT_FOUND",
            CatalogError::BundleNotFound(_) => "BUNDLE_NOT_FOUND",
            CatalogError::InvalidCode { .. } => "INVALID_CODE",
            CatalogError::Incomplete(_) => "ITEM_INCOMPLETE",
            CatalogError::Invalid(_) => "ITEM_INVALID",
            CatalogError::AlreadyExists(_) => "ITEM_EXISTS",
            CatalogError::WrongStatus { .. } => "ITEM_WRONG_STATUS",
            CatalogError::Forbidden => "CATALOG_FORBIDDEN",
            CatalogError::ImportRejected(_) => "IMPORT_REJECTED",
            CatalogError::Search(_) => "SEARCH_ERROR",
            CatalogError::Store(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CatalogError::ItemNotFound(_)
            | CatalogError::DepartmentNotFound(_)
            | CatalogError::RegionNotFound(_)
            | CatalogError::ThemeNotFound(_)
            | CatalogError::BundleNotFound(_) => ErrorKind::NotFound,
            CatalogError::InvalidCode { .. } | CatalogError::Incomplete(_) | CatalogError::Invalid(_) | CatalogError::ImportRejected(_) => {
                ErrorKind::Invalid
            }
            CatalogError::AlreadyExists(_) | CatalogError::WrongStatus { .. } => ErrorKind::Conflict,
            CatalogError::Forbidden => ErrorKind::Forbidden,
            CatalogError::Search(_) => ErrorKind::Internal,
            CatalogError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;
