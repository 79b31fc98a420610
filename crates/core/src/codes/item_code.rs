//! Service item codes (GB/T 39554.1-2020): basic code, implementation code, case number.

use super::{check_digits, check_len, code_string_impls, normalise, parse_date, CodeError, CreditCode};

/// 基本编码: 12 digits shared by all levels for the same catalog item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BasicCode(String);
code_string_impls!(BasicCode);

impl BasicCode {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        const WHAT: &str = "事项基本编码";
        let s = normalise(input);
        check_len(WHAT, &s, 12, "12")?;
        check_digits(WHAT, &s, 0)?;
        Ok(BasicCode(s))
    }
}

/// 行使层级 exercise level: 1 national … 5 township.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseLevel {
    National = 1,
    Province = 2,
    City = 3,
    County = 4,
    Township = 5,
}

impl ExerciseLevel {
    pub fn from_digit(c: char) -> Option<Self> {
        Some(match c {
            '1' => Self::National,
            '2' => Self::Province,
            '3' => Self::City,
            '4' => Self::County,
            '5' => Self::Township,
            _ => return None,
        })
    }
    pub fn digit(self) -> char {
        (b'0' + self as u8) as char
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::National => "国家级",
            Self::Province => "省级",
            Self::City => "市级",
            Self::County => "县级",
            Self::Township => "乡镇（街道）级",
        }
    }
}

/// 实施编码: implementing agency's credit code (18) + exercise level (1) + basic code (12).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImplementationCode(String);
code_string_impls!(ImplementationCode);

impl ImplementationCode {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        const WHAT: &str = "事项实施编码";
        let s = normalise(input);
        check_len(WHAT, &s, 31, "31")?;
        if !s.is_ascii() {
            return Err(CodeError::Character { what: WHAT, position: 1, ch: s.chars().find(|c| !c.is_ascii()).unwrap_or('?') });
        }
        CreditCode::parse(&s[..18])?;
        let level = s.as_bytes()[18] as char;
        ExerciseLevel::from_digit(level).ok_or(CodeError::Level { what: WHAT, level })?;
        BasicCode::parse(&s[19..])?;
        Ok(ImplementationCode(s))
    }

    pub fn compose(agency: &CreditCode, level: ExerciseLevel, basic: &BasicCode) -> Self {
        ImplementationCode(format!("{agency}{}{basic}", level.digit()))
    }

    pub fn agency(&self) -> &str {
        &self.0[..18]
    }
    pub fn level(&self) -> ExerciseLevel {
        ExerciseLevel::from_digit(self.0.as_bytes()[18] as char).unwrap_or(ExerciseLevel::National)
    }
    pub fn basic(&self) -> &str {
        &self.0[19..]
    }
}

/// 办件编号: implementation code (31) + yyyyMMdd + 4-digit daily sequence = 43 chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber(String);
code_string_impls!(CaseNumber);

impl CaseNumber {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        const WHAT: &str = "办件编号";
        let s = normalise(input);
        check_len(WHAT, &s, 43, "43")?;
        if !s.is_ascii() {
            return Err(CodeError::Character { what: WHAT, position: 1, ch: s.chars().find(|c| !c.is_ascii()).unwrap_or('?') });
        }
        ImplementationCode::parse(&s[..31])?;
        check_digits(WHAT, &s[31..], 31)?;
        parse_date(WHAT, &s[31..39])?;
        Ok(CaseNumber(s))
    }

    pub fn compose(item: &ImplementationCode, date: chrono::NaiveDate, seq: u16) -> Option<Self> {
        (seq <= 9999).then(|| CaseNumber(format!("{item}{}{seq:04}", date.format("%Y%m%d"))))
    }

    pub fn item(&self) -> &str {
        &self.0[..31]
    }
    pub fn sequence(&self) -> u16 {
        self.0[39..].parse().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn standard_example() {
        let code = ImplementationCode::parse("12441500196720244T3442199806003").unwrap();
        assert_eq!(code.agency(), "12441500196720244T");
        assert_eq!(code.level(), ExerciseLevel::City);
        assert_eq!(code.basic(), "442199806003");
        assert!(matches!(ImplementationCode::parse("12441500196720244T6442199806003"), Err(CodeError::Level { .. })));
        assert!(matches!(ImplementationCode::parse("12441500196720244X3442199806003"), Err(CodeError::CheckDigit { .. })));
        assert!(ImplementationCode::parse("12441500196720244T34421998060页").is_err());

        let case = CaseNumber::parse("12441500196720244T3442199806003202611220007").unwrap();
        assert_eq!(case.sequence(), 7);
        assert!(matches!(CaseNumber::parse("12441500196720244T3442199806003202602300007"), Err(CodeError::Date { .. })));
        let composed = CaseNumber::compose(&code, chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), 7).unwrap();
        assert_eq!(composed, case);
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,50}") {
            let _ = ImplementationCode::parse(&s);
            let _ = CaseNumber::parse(&s);
            let _ = BasicCode::parse(&s);
        }

        #[test]
        fn composed_case_numbers_parse(basic in "[0-9]{12}", level in 1u8..=5, seq in 0u16..10000, days in 0i64..20000) {
            let agency = CreditCode::parse("12441500196720244T").unwrap();
            let lvl = ExerciseLevel::from_digit((b'0' + level) as char).unwrap();
            let item = ImplementationCode::compose(&agency, lvl, &BasicCode::parse(&basic).unwrap());
            prop_assert!(ImplementationCode::parse(item.as_str()).is_ok());
            let date = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
            let case = CaseNumber::compose(&item, date, seq).unwrap();
            prop_assert_eq!(CaseNumber::parse(case.as_str()).unwrap(), case);
        }
    }
}
