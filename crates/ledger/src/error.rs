use yiwang_core::{DomainError, ErrorKind};
use yiwang_crypto::CryptoError;
use yiwang_store::{sqlx, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("账本中没有这条记录")]
    NotFound,
    #[error("{field}：{message}")]
    Invalid { field: String, message: String },
    /// Another sequencer (another app server) appended first; the caller retries.
    #[error("账本正在写入，请稍后重试")]
    Busy,
    #[error("账本数据损坏：{0}")]
    Corrupt(String),
    #[error("密码运算失败：{0}")]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LedgerError {
    fn from(e: sqlx::Error) -> Self {
        LedgerError::Store(e.into())
    }
}

impl DomainError for LedgerError {
    fn code(&self) -> &'static str {
        match self {
            LedgerError::NotFound => "LEDGER_NOT_FOUND",
            LedgerError::Invalid { .. } => "INVALID_FIELD",
            LedgerError::Busy => "LEDGER_BUSY",
            LedgerError::Corrupt(_) => "LEDGER_CORRUPT",
            LedgerError::Crypto(_) => "INTERNAL",
            LedgerError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            LedgerError::NotFound => ErrorKind::NotFound,
            LedgerError::Invalid { .. } => ErrorKind::Invalid,
            LedgerError::Busy => ErrorKind::Unavailable,
            LedgerError::Corrupt(_) | LedgerError::Crypto(_) => ErrorKind::Internal,
            LedgerError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> LedgerError {
    LedgerError::Invalid { field: field.into(), message: message.into() }
}
