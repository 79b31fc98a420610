use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OversightError {
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
    #[error("配置错误：{0}")]
    Config(String),
    #[error(transparent)]
    Cases(#[from] yiwang_cases::CaseError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

yiwang_identity::domain_error_conversions!(OversightError);

impl DomainError for OversightError {
    fn code(&self) -> &'static str {
        match self {
            OversightError::NotFound(_) => "NOT_FOUND",
            OversightError::Forbidden => "FORBIDDEN",
            OversightError::Invalid { .. } => "INVALID_FIELD",
            OversightError::WrongState(_) => "WRONG_STATE",
            OversightError::Duplicate(_) => "DUPLICATE",
            OversightError::Config(_) => "INTERNAL",
            OversightError::Cases(e) => e.code(),
            OversightError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            OversightError::NotFound(_) => ErrorKind::NotFound,
            OversightError::Forbidden => ErrorKind::Forbidden,
            OversightError::Invalid { .. } => ErrorKind::Invalid,
            OversightError::WrongState(_) | OversightError::Duplicate(_) => ErrorKind::Conflict,
            OversightError::Config(_) => ErrorKind::Internal,
            OversightError::Cases(e) => e.kind(),
            OversightError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = OversightError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> OversightError {
    OversightError::Invalid { field: field.into(), message: message.into() }
}

/// Trimmed text of at most `max` characters, required unless `optional`.
pub(crate) fn text_field(value: &str, field: &str, max: usize, optional: bool) -> Result<String> {
    yiwang_core::text::checked(value, max, optional).map_err(|m| invalid(field, m))
}
