use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("未找到：{0}")]
    NotFound(String),
    #[error("没有此项操作的权限")]
    Forbidden,
    #[error("{field}：{message}")]
    Invalid { field: String, message: String },
    #[error("当前状态为“{0}”，不能执行此操作")]
    WrongState(&'static str),
    #[error("{0}")]
    Duplicate(String),
    #[error("搜索索引错误：{0}")]
    Index(String),
    #[error("配置错误：{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<tantivy::TantivyError> for OpenError {
    fn from(e: tantivy::TantivyError) -> Self {
        OpenError::Index(e.to_string())
    }
}

yiwang_identity::domain_error_conversions!(OpenError);

impl DomainError for OpenError {
    fn code(&self) -> &'static str {
        match self {
            OpenError::NotFound(_) => "NOT_FOUND",
            OpenError::Forbidden => "FORBIDDEN",
            OpenError::Invalid { .. } => "INVALID_FIELD",
            OpenError::WrongState(_) => "WRONG_STATE",
            OpenError::Duplicate(_) => "DUPLICATE",
            OpenError::Index(_) | OpenError::Config(_) => "INTERNAL",
            OpenError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            OpenError::NotFound(_) => ErrorKind::NotFound,
            OpenError::Forbidden => ErrorKind::Forbidden,
            OpenError::Invalid { .. } => ErrorKind::Invalid,
            OpenError::WrongState(_) | OpenError::Duplicate(_) => ErrorKind::Conflict,
            OpenError::Index(_) | OpenError::Config(_) => ErrorKind::Internal,
            OpenError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = OpenError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> OpenError {
    OpenError::Invalid { field: field.into(), message: message.into() }
}

/// Trimmed text of at most `max` characters, required unless `optional`.
pub(crate) fn text(value: &str, field: &str, max: usize, optional: bool) -> Result<String> {
    yiwang_core::text::checked(value, max, optional).map_err(|m| invalid(field, m))
}
