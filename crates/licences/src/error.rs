use yiwang_core::codes::CodeError;
use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::{sqlx, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    #[error("未找到电子证照")]
    NotFound,
    #[error("未找到证照类型：{0}")]
    TypeNotFound(String),
    #[error("未找到电子印章：{0}")]
    SealNotFound(String),
    #[error("加注件不存在或已失效")]
    CopyNotFound,
    #[error("加注件已使用，不能再次使用")]
    CopyUsed,
    #[error("加注件已过期")]
    CopyExpired,
    #[error("没有此项操作的权限")]
    Forbidden,
    #[error("{field}：{message}")]
    Invalid { field: String, message: String },
    #[error("证照当前状态为“{0}”，不能执行此操作")]
    WrongState(&'static str),
    #[error("{0}")]
    Code(#[from] CodeError),
    #[error("密码运算失败：{0}")]
    Crypto(String),
    #[error("配置错误：{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<yiwang_crypto::CryptoError> for LicenceError {
    fn from(e: yiwang_crypto::CryptoError) -> Self {
        match e {
            yiwang_crypto::CryptoError::Key(m) => LicenceError::Crypto(m),
            yiwang_crypto::CryptoError::NotCanonical(m) => LicenceError::Invalid { field: "data".into(), message: m },
        }
    }
}

impl From<sqlx::Error> for LicenceError {
    fn from(e: sqlx::Error) -> Self {
        LicenceError::Store(e.into())
    }
}

impl From<yiwang_identity::IdentityError> for LicenceError {
    fn from(e: yiwang_identity::IdentityError) -> Self {
        match e {
            yiwang_identity::IdentityError::Store(s) => LicenceError::Store(s),
            yiwang_identity::IdentityError::Forbidden => LicenceError::Forbidden,
            other => LicenceError::Config(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for LicenceError {
    fn from(e: serde_json::Error) -> Self {
        LicenceError::Config(format!("数据格式错误：{e}"))
    }
}

impl DomainError for LicenceError {
    fn code(&self) -> &'static str {
        match self {
            LicenceError::NotFound => "LICENCE_NOT_FOUND",
            LicenceError::TypeNotFound(_) => "LICENCE_TYPE_NOT_FOUND",
            LicenceError::SealNotFound(_) => "SEAL_NOT_FOUND",
            LicenceError::CopyNotFound => "COPY_NOT_FOUND",
            LicenceError::CopyUsed => "COPY_USED",
            LicenceError::CopyExpired => "COPY_EXPIRED",
            LicenceError::Forbidden => "FORBIDDEN",
            LicenceError::Invalid { .. } => "INVALID_FIELD",
            LicenceError::WrongState(_) => "WRONG_STATE",
            LicenceError::Code(e) => e.code(),
            LicenceError::Crypto(_) | LicenceError::Config(_) => "INTERNAL",
            LicenceError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            LicenceError::NotFound | LicenceError::TypeNotFound(_) | LicenceError::SealNotFound(_) | LicenceError::CopyNotFound => {
                ErrorKind::NotFound
            }
            LicenceError::CopyUsed | LicenceError::CopyExpired | LicenceError::WrongState(_) => ErrorKind::Conflict,
            LicenceError::Forbidden => ErrorKind::Forbidden,
            LicenceError::Invalid { .. } | LicenceError::Code(_) => ErrorKind::Invalid,
            LicenceError::Crypto(_) | LicenceError::Config(_) => ErrorKind::Internal,
            LicenceError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = LicenceError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> LicenceError {
    LicenceError::Invalid { field: field.into(), message: message.into() }
}
