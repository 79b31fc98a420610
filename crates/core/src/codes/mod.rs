//! National code formats (see shared/design/STANDARDS.md) with check-digit validation.
//! Parsers normalise (trim, upper-case) and return a typed value only when every rule holds.

mod citizen_id;
mod credit_code;
mod item_code;
mod licence_id;

pub use citizen_id::CitizenId;
pub use credit_code::CreditCode;
pub use item_code::{BasicCode, CaseNumber, ExerciseLevel, ImplementationCode};
pub use licence_id::{licence_check_char, LicenceIdentifier};

use crate::{DomainError, ErrorKind};

/// Why a code was rejected. Messages are shown to users, so they are Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("{what}长度应为{expected}位，实际为{actual}位")]
    Length { what: &'static str, expected: &'static str, actual: usize },
    #[error("{what}第{position}位含有非法字符“{ch}”")]
    Character { what: &'static str, position: usize, ch: char },
    #[error("{what}校验位错误：应为“{expected}”，实际为“{actual}”")]
    CheckDigit { what: &'static str, expected: char, actual: char },
    #[error("{what}中的日期“{date}”不是有效日期")]
    Date { what: &'static str, date: String },
    #[error("{what}中的地区代码“{prefix}”无效")]
    Region { what: &'static str, prefix: String },
    #[error("{what}中的行使层级“{level}”无效，应为1至5")]
    Level { what: &'static str, level: char },
}

impl DomainError for CodeError {
    fn code(&self) -> &'static str {
        match self {
            CodeError::Length { .. } => "CODE_LENGTH",
            CodeError::Character { .. } => "CODE_CHARACTER",
            CodeError::CheckDigit { .. } => "CODE_CHECK_DIGIT",
            CodeError::Date { .. } => "CODE_DATE",
            CodeError::Region { .. } => "CODE_REGION",
            CodeError::Level { .. } => "CODE_LEVEL",
        }
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

/// Trim and upper-case the input; codes are compared in this form.
fn normalise(input: &str) -> String {
    input.trim().to_ascii_uppercase()
}

fn check_len(what: &'static str, s: &str, expected: usize, label: &'static str) -> Result<(), CodeError> {
    let n = s.chars().count();
    if n == expected {
        Ok(())
    } else {
        Err(CodeError::Length { what, expected: label, actual: n })
    }
}

fn check_digits(what: &'static str, s: &str, offset: usize) -> Result<(), CodeError> {
    match s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, ch)) => Err(CodeError::Character { what, position: offset + i + 1, ch }),
        None => Ok(()),
    }
}

/// Parse `YYYYMMDD` into a date that exists.
fn parse_date(what: &'static str, s: &str) -> Result<chrono::NaiveDate, CodeError> {
    chrono::NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| CodeError::Date { what, date: s.to_string() })
}

macro_rules! code_string_impls {
    ($t:ty) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use code_string_impls;
