use yiwang_core::codes::CodeError;
use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::{sqlx, StoreError};

use crate::precheck::Problem;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("未找到办件")]
    NotFound,
    #[error("未找到事项或该事项未发布：{0}")]
    ItemNotFound(String),
    #[error("没有办理此办件的权限")]
    Forbidden,
    #[error("{field}：{message}")]
    InvalidField { field: String, message: String },
    /// 一次性告知: every problem at once.
    #[error("申请未通过预审，请按以下{}项意见修改后再提交", .0.len())]
    PrecheckFailed(Vec<Problem>),
    #[error("办件当前状态为“{0}”，不能执行此操作")]
    WrongState(&'static str),
    #[error("办件已被他人处理，请刷新后重试")]
    Stale,
    #[error("{0}")]
    Refused(String),
    #[error("当日办件编号已用尽")]
    SequenceExhausted,
    #[error("材料不符合要求：{0}")]
    BadMaterial(String),
    #[error("{0}")]
    Code(#[from] CodeError),
    #[error("配置错误：{0}")]
    Config(String),
    #[error("办理流程定义有误：{0}")]
    BadDefinition(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CaseError {
    fn from(e: sqlx::Error) -> Self {
        CaseError::Store(e.into())
    }
}

/// Only the audit trail is written through identity here; its failures are storage failures.
impl From<yiwang_identity::IdentityError> for CaseError {
    fn from(e: yiwang_identity::IdentityError) -> Self {
        match e {
            yiwang_identity::IdentityError::Store(s) => CaseError::Store(s),
            other => CaseError::Config(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for CaseError {
    fn from(e: serde_json::Error) -> Self {
        CaseError::Config(format!("数据格式错误：{e}"))
    }
}

impl DomainError for CaseError {
    fn code(&self) -> &'static str {
        match self {
            CaseError::NotFound => "CASE_NOT_FOUND",
            CaseError::ItemNotFound(_) => "ITEM_NOT_FOUND",
            CaseError::Forbidden => "FORBIDDEN",
            CaseError::InvalidField { .. } => "INVALID_FIELD",
            CaseError::PrecheckFailed(_) => "PRECHECK_FAILED",
            CaseError::WrongState(_) => "WRONG_STATE",
            CaseError::Stale => "STALE_VERSION",
            CaseError::Refused(_) => "ACTION_REFUSED",
            CaseError::SequenceExhausted => "SEQUENCE_EXHAUSTED",
            CaseError::BadMaterial(_) => "BAD_MATERIAL",
            CaseError::Code(e) => e.code(),
            CaseError::Config(_) => "INTERNAL",
            CaseError::BadDefinition(_) => "BAD_WORKFLOW",
            CaseError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            CaseError::NotFound | CaseError::ItemNotFound(_) => ErrorKind::NotFound,
            CaseError::Forbidden => ErrorKind::Forbidden,
            CaseError::InvalidField { .. }
            | CaseError::PrecheckFailed(_)
            | CaseError::BadMaterial(_)
            | CaseError::Code(_)
            | CaseError::BadDefinition(_) => ErrorKind::Invalid,
            CaseError::WrongState(_) | CaseError::Stale | CaseError::Refused(_) | CaseError::SequenceExhausted => ErrorKind::Conflict,
            CaseError::Config(_) => ErrorKind::Internal,
            CaseError::Store(e) => e.kind(),
        }
    }
    fn details(&self) -> Vec<serde_json::Value> {
        match self {
            CaseError::PrecheckFailed(p) => p.iter().filter_map(|x| serde_json::to_value(x).ok()).collect(),
            _ => Vec::new(),
        }
    }
}

pub type Result<T, E = CaseError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> CaseError {
    CaseError::InvalidField { field: field.into(), message: message.into() }
}

/// Personal data that does not seal or open (wrong master key, damaged row).
impl From<yiwang_crypto::CryptoError> for CaseError {
    fn from(e: yiwang_crypto::CryptoError) -> Self {
        CaseError::Config(format!("个人信息加密或解密失败：{e}"))
    }
}
