use yiwang_core::codes::CodeError;
use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("未找到信息资源：{0}")]
    ResourceNotFound(String),
    #[error("未找到成员系统：{0}")]
    MemberNotFound(String),
    #[error("未找到共享申请：{0}")]
    GrantNotFound(String),
    #[error("接入凭证无效：{0}")]
    Unauthenticated(String),
    #[error("没有此项操作的权限")]
    Forbidden,
    /// A call refused by the sharing rules (logged as `denied`).
    #[error("共享访问被拒绝：{0}")]
    Denied(String),
    #[error("调用过于频繁，请稍后再试")]
    RateLimited,
    #[error("数据提供方暂不可用：{0}")]
    ProviderUnavailable(String),
    #[error("{field}：{message}")]
    Invalid { field: String, message: String },
    #[error("共享申请当前状态为“{0}”，不能执行此操作")]
    WrongState(&'static str),
    #[error("已存在：{0}")]
    Duplicate(String),
    #[error("{0}")]
    Code(#[from] CodeError),
    #[error("交换日志暂时无法写入，请稍后重试：{0}")]
    LogUnavailable(String),
    #[error("配置错误：{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

yiwang_identity::domain_error_conversions!(ExchangeError);

impl DomainError for ExchangeError {
    fn code(&self) -> &'static str {
        match self {
            ExchangeError::ResourceNotFound(_) => "RESOURCE_NOT_FOUND",
            ExchangeError::MemberNotFound(_) => "MEMBER_NOT_FOUND",
            ExchangeError::GrantNotFound(_) => "GRANT_NOT_FOUND",
            ExchangeError::Unauthenticated(_) => "INVALID_CLIENT",
            ExchangeError::Forbidden => "FORBIDDEN",
            ExchangeError::Denied(_) => "ACCESS_DENIED",
            ExchangeError::RateLimited => "RATE_LIMITED",
            ExchangeError::ProviderUnavailable(_) => "PROVIDER_UNAVAILABLE",
            ExchangeError::Invalid { .. } => "INVALID_FIELD",
            ExchangeError::WrongState(_) => "WRONG_STATE",
            ExchangeError::Duplicate(_) => "DUPLICATE",
            ExchangeError::Code(e) => e.code(),
            ExchangeError::LogUnavailable(_) => "STORE_UNAVAILABLE",
            ExchangeError::Config(_) => "INTERNAL",
            ExchangeError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            ExchangeError::ResourceNotFound(_) | ExchangeError::MemberNotFound(_) | ExchangeError::GrantNotFound(_) => ErrorKind::NotFound,
            ExchangeError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            ExchangeError::Forbidden | ExchangeError::Denied(_) => ErrorKind::Forbidden,
            ExchangeError::RateLimited => ErrorKind::TooManyRequests,
            ExchangeError::ProviderUnavailable(_) | ExchangeError::LogUnavailable(_) => ErrorKind::Unavailable,
            ExchangeError::Invalid { .. } | ExchangeError::Code(_) => ErrorKind::Invalid,
            ExchangeError::WrongState(_) | ExchangeError::Duplicate(_) => ErrorKind::Conflict,
            ExchangeError::Config(_) => ErrorKind::Internal,
            ExchangeError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = ExchangeError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> ExchangeError {
    ExchangeError::Invalid { field: field.into(), message: message.into() }
}
