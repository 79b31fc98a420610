//! 统一社会信用代码 (GB 32100-2015).

use super::{check_digits, check_len, code_string_impls, normalise, CodeError};

const WHAT: &str = "统一社会信用代码";
/// The 31 characters in use (no I O S V Z); index = value.
pub(crate) const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A validated 18-character unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);
code_string_impls!(CreditCode);

fn value(c: char) -> Option<u32> {
    CHARSET.find(c).map(|i| i as u32)
}

impl CreditCode {
    /// Check character for the first 17 characters (caller guarantees they are in the charset).
    pub fn check_char(first17: &str) -> char {
        let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| value(c).unwrap_or(0) * w).sum();
        let c = (31 - sum % 31) % 31;
        CHARSET.as_bytes()[c as usize] as char
    }

    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = normalise(input);
        check_len(WHAT, &s, 18, "18")?;
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| value(*c).is_none()) {
            return Err(CodeError::Character { what: WHAT, position: i + 1, ch });
        }
        // Positions 3-8: the registering authority's 6-digit administrative division code.
        check_digits(WHAT, &s[2..8], 2)?;
        let expected = Self::check_char(&s[..17]);
        let actual = s.as_bytes()[17] as char;
        if expected != actual {
            return Err(CodeError::CheckDigit { what: WHAT, expected, actual });
        }
        Ok(CreditCode(s))
    }

    /// Registering authority (登记管理部门): 1 机构编制, 5 民政, 9 工商 (市场监管), Y 其他…
    pub fn authority(&self) -> char {
        self.0.as_bytes()[0] as char
    }

    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn standard_examples() {
        for ok in ["91350100M000100Y43", "91110108551385082Q", "11100000000013338W", "12441500196720244T", "11370800MB28559184"] {
            assert!(CreditCode::parse(ok).is_ok(), "{ok}");
        }
        assert!(matches!(CreditCode::parse("91350100M000100Y44"), Err(CodeError::CheckDigit { expected: '3', .. })));
        assert!(matches!(CreditCode::parse("91350100I000100Y43"), Err(CodeError::Character { position: 9, ch: 'I', .. })));
        assert!(matches!(CreditCode::parse("9135A100M000100Y43"), Err(CodeError::Character { position: 5, .. })));
        assert!(CreditCode::parse(" 91350100m000100y43 ").is_ok());
    }

    fn valid_first17() -> impl Strategy<Value = String> {
        let ch = prop::sample::select(CHARSET.chars().collect::<Vec<_>>());
        (ch.clone(), ch.clone(), 0u32..1_000_000, prop::collection::vec(ch, 9))
            .prop_map(|(a, b, region, org)| format!("{a}{b}{region:06}{}", org.into_iter().collect::<String>()))
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip(first17 in valid_first17()) {
            let full = format!("{first17}{}", CreditCode::check_char(&first17));
            let parsed = CreditCode::parse(&full).unwrap();
            prop_assert_eq!(parsed.as_str(), full.as_str());
        }

        #[test]
        fn any_single_substitution_is_caught(first17 in valid_first17(), pos in 0usize..18, delta in 1usize..31) {
            let full: Vec<char> = format!("{first17}{}", CreditCode::check_char(&first17)).chars().collect();
            let charset: Vec<char> = CHARSET.chars().collect();
            let idx = charset.iter().position(|c| *c == full[pos]).unwrap();
            let mut mutated = full.clone();
            mutated[pos] = charset[(idx + delta) % 31];
            prop_assert!(CreditCode::parse(&mutated.into_iter().collect::<String>()).is_err());
        }

        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,25}") {
            let _ = CreditCode::parse(&s);
        }
    }
}
