use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("未找到：{0}")]
    NotFound(String),
    #[error("没有此项操作的权限")]
    Forbidden,
    /// A callback whose signature, time or content does not hold.
    #[error("支付通知无效：{0}")]
    BadNotification(String),
    #[error("{field}：{message}")]
    Invalid { field: String, message: String },
    #[error("当前状态为“{0}”，不能执行此操作")]
    WrongState(&'static str),
    #[error("支付机构暂不可用：{0}")]
    Provider(String),
    #[error("配置错误：{0}")]
    Config(String),
    #[error(transparent)]
    Cases(#[from] yiwang_cases::CaseError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

yiwang_identity::domain_error_conversions!(PaymentError);

impl DomainError for PaymentError {
    fn code(&self) -> &'static str {
        match self {
            PaymentError::NotFound(_) => "NOT_FOUND",
            PaymentError::Forbidden => "FORBIDDEN",
            PaymentError::BadNotification(_) => "BAD_SIGNATURE",
            PaymentError::Invalid { .. } => "INVALID_FIELD",
            PaymentError::WrongState(_) => "WRONG_STATE",
            PaymentError::Provider(_) => "PROVIDER_UNAVAILABLE",
            PaymentError::Config(_) => "INTERNAL",
            PaymentError::Cases(e) => e.code(),
            PaymentError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            PaymentError::NotFound(_) => ErrorKind::NotFound,
            PaymentError::Forbidden => ErrorKind::Forbidden,
            PaymentError::BadNotification(_) => ErrorKind::Unauthenticated,
            PaymentError::Invalid { .. } => ErrorKind::Invalid,
            PaymentError::WrongState(_) => ErrorKind::Conflict,
            PaymentError::Provider(_) => ErrorKind::Unavailable,
            PaymentError::Config(_) => ErrorKind::Internal,
            PaymentError::Cases(e) => e.kind(),
            PaymentError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = PaymentError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> PaymentError {
    PaymentError::Invalid { field: field.into(), message: message.into() }
}
