use yiwang_core::codes::CodeError;
use yiwang_core::{DomainError, ErrorKind};
use yiwang_store::{sqlx, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("账号或密码错误")]
    InvalidCredentials,
    #[error("登录失败次数过多，账号已锁定，请于{0}分钟后再试")]
    Locked(i64),
    #[error("请先登录")]
    Unauthenticated,
    #[error("没有执行此操作的权限")]
    Forbidden,
    #[error("页面已过期或请求来源无效，请刷新页面后重试")]
    CsrfMismatch,
    #[error("密码强度不足：{0}")]
    WeakPassword(String),
    #[error("未知角色：{0}")]
    UnknownRole(String),
    #[error("{0}")]
    Code(#[from] CodeError),
    #[error("{field}：{message}")]
    InvalidField { field: &'static str, message: String },
    #[error("该身份证号已注册，请直接登录或找回密码")]
    IdNumberTaken,
    #[error("该手机号已被其他账号使用")]
    PhoneTaken,
    #[error("动态验证码错误或已使用")]
    InvalidTotp,
    #[error("需要先完成实名核验（{0}级及以上）")]
    AssuranceTooLow(u8),
    #[error("实名核验未通过：姓名与身份证号不匹配")]
    VerificationFailed,
    #[error("未找到该统一社会信用代码的市场主体登记信息")]
    BusinessNotRegistered,
    #[error("您不是该企业登记的法定代表人")]
    NotRepresentative,
    #[error("该企业已开通法人账号")]
    BusinessExists,
    #[error("未找到：{0}")]
    NotFound(&'static str),
    #[error("链接无效或已过期，请重新申请")]
    InvalidResetToken,
    #[error("密码处理失败")]
    Hash,
    #[error("签名密钥处理失败：{0}")]
    Keys(String),
    #[error("演示数据有误：{0}")]
    Demo(String),
    /// An encrypted ID number or phone does not open (wrong master key or damaged row).
    #[error("个人信息无法解密：{0}")]
    PersonalData(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IdentityError {
    fn from(e: sqlx::Error) -> Self {
        IdentityError::Store(e.into())
    }
}

impl DomainError for IdentityError {
    fn code(&self) -> &'static str {
        match self {
            IdentityError::InvalidCredentials => "INVALID_CREDENTIALS",
            IdentityError::Locked(_) => "ACCOUNT_LOCKED",
            IdentityError::Unauthenticated => "UNAUTHENTICATED",
            IdentityError::Forbidden => "FORBIDDEN",
            IdentityError::CsrfMismatch => "CSRF_MISMATCH",
            IdentityError::WeakPassword(_) => "WEAK_PASSWORD",
            IdentityError::UnknownRole(_) => "UNKNOWN_ROLE",
            IdentityError::Code(e) => e.code(),
            IdentityError::InvalidField { .. } => "INVALID_FIELD",
            IdentityError::IdNumberTaken => "ID_NUMBER_TAKEN",
            IdentityError::PhoneTaken => "PHONE_TAKEN",
            IdentityError::InvalidTotp => "INVALID_TOTP",
            IdentityError::AssuranceTooLow(_) => "ASSURANCE_TOO_LOW",
            IdentityError::VerificationFailed => "VERIFICATION_FAILED",
            IdentityError::BusinessNotRegistered => "BUSINESS_NOT_REGISTERED",
            IdentityError::NotRepresentative => "NOT_REPRESENTATIVE",
            IdentityError::BusinessExists => "BUSINESS_EXISTS",
            IdentityError::NotFound(_) => "NOT_FOUND",
            IdentityError::InvalidResetToken => "INVALID_RESET_TOKEN",
            IdentityError::Hash | IdentityError::Keys(_) | IdentityError::Demo(_) | IdentityError::PersonalData(_) => "INTERNAL",
            IdentityError::Store(e) => e.code(),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            IdentityError::InvalidCredentials | IdentityError::Unauthenticated | IdentityError::InvalidTotp => ErrorKind::Unauthenticated,
            IdentityError::Locked(_) => ErrorKind::TooManyRequests,
            IdentityError::Forbidden
            | IdentityError::CsrfMismatch
            | IdentityError::AssuranceTooLow(_)
            | IdentityError::NotRepresentative => ErrorKind::Forbidden,
            IdentityError::WeakPassword(_)
            | IdentityError::UnknownRole(_)
            | IdentityError::Code(_)
            | IdentityError::InvalidField { .. }
            | IdentityError::VerificationFailed
            | IdentityError::BusinessNotRegistered
            | IdentityError::InvalidResetToken => ErrorKind::Invalid,
            IdentityError::IdNumberTaken | IdentityError::PhoneTaken | IdentityError::BusinessExists => ErrorKind::Conflict,
            IdentityError::NotFound(_) => ErrorKind::NotFound,
            IdentityError::Hash | IdentityError::Keys(_) | IdentityError::Demo(_) | IdentityError::PersonalData(_) => ErrorKind::Internal,
            IdentityError::Store(e) => e.kind(),
        }
    }
}

pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> IdentityError {
    IdentityError::InvalidField { field, message: message.into() }
}

/// The conversions every domain error enum with `Store(StoreError)`, `Config(String)` and
/// `Forbidden` variants needs: database errors, malformed stored JSON, keys or sealed personal
/// data that do not open, and identity errors (permission refusals stay refusals).
#[macro_export]
macro_rules! domain_error_conversions {
    ($t:ident) => {
        impl From<::yiwang_store::sqlx::Error> for $t {
            fn from(e: ::yiwang_store::sqlx::Error) -> Self {
                $t::Store(e.into())
            }
        }

        impl From<::serde_json::Error> for $t {
            fn from(e: ::serde_json::Error) -> Self {
                $t::Config(format!("数据格式错误：{e}"))
            }
        }

        impl From<$crate::__crypto::CryptoError> for $t {
            fn from(e: $crate::__crypto::CryptoError) -> Self {
                $t::Config(e.to_string())
            }
        }

        impl From<$crate::IdentityError> for $t {
            fn from(e: $crate::IdentityError) -> Self {
                match e {
                    $crate::IdentityError::Store(s) => $t::Store(s),
                    $crate::IdentityError::Forbidden => $t::Forbidden,
                    other => $t::Config(other.to_string()),
                }
            }
        }
    };
}
