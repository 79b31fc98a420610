//! 公民身份号码 (GB 11643-1999).

use super::{check_digits, check_len, code_string_impls, normalise, parse_date, CodeError};

const WHAT: &str = "公民身份号码";
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// A validated 18-character citizen ID number (upper-case X).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(String);
code_string_impls!(CitizenId);

/// Province-level prefixes in use, plus 81/82/83 for HK/Macao/Taiwan residence permits.
fn province_ok(prefix: &str) -> bool {
    matches!(prefix.parse::<u32>(), Ok(11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83))
}

impl CitizenId {
    /// Check character for the first 17 digits (caller guarantees ASCII digits).
    pub fn check_char(first17: &str) -> char {
        let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
        CHECK[(sum % 11) as usize]
    }

    /// Parse an 18-digit number, or upgrade a legacy 15-digit one.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = normalise(input);
        if s.chars().count() == 15 {
            return Self::upgrade_15(&s);
        }
        check_len(WHAT, &s, 18, "18")?;
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(CodeError::Character { what: WHAT, position: i + 1, ch });
        }
        check_digits(WHAT, &s[..17], 0)?;
        let last = s.as_bytes()[17] as char;
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(CodeError::Character { what: WHAT, position: 18, ch: last });
        }
        // Foreigners' permanent-residence numbers start with 9 and use the same check.
        if !s.starts_with('9') && !province_ok(&s[..2]) {
            return Err(CodeError::Region { what: WHAT, prefix: s[..2].to_string() });
        }
        let birth = parse_date(WHAT, &s[6..14])?;
        let today = chrono::Local::now().date_naive();
        if birth > today || birth < chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap_or(birth) {
            return Err(CodeError::Date { what: WHAT, date: s[6..14].to_string() });
        }
        let expected = Self::check_char(&s[..17]);
        if expected != last {
            return Err(CodeError::CheckDigit { what: WHAT, expected, actual: last });
        }
        Ok(CitizenId(s))
    }

    /// Legacy 15-digit numbers: insert "19" after the address code and append the check char.
    fn upgrade_15(s: &str) -> Result<Self, CodeError> {
        check_digits(WHAT, s, 0)?;
        let first17 = format!("{}19{}", &s[..6], &s[6..]);
        let check = Self::check_char(&first17);
        Self::parse(&format!("{first17}{check}"))
    }

    pub fn birth_date(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// Odd sequence digit means male.
    pub fn is_male(&self) -> bool {
        self.0.as_bytes()[16] % 2 == 1
    }

    /// 6-digit administrative division code of the place of first registration.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn masked(&self) -> String {
        crate::mask::mask_id_number(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn standard_examples() {
        for ok in ["11010519491231002X", "440524188001010014", "34052419800101001X", "13043419840726291X"] {
            assert!(CitizenId::parse(ok).is_ok(), "{ok}");
        }
        assert!(matches!(CitizenId::parse("110105194902300021"), Err(CodeError::Date { .. })));
        assert_eq!(CitizenId::parse("11010519491231002x").map(|c| c.to_string()).ok().as_deref(), Some("11010519491231002X"));
    }

    #[test]
    fn rejects_with_specific_errors() {
        assert!(matches!(CitizenId::parse("11010519491231002"), Err(CodeError::Length { .. })));
        assert!(matches!(CitizenId::parse("110105194912310021"), Err(CodeError::CheckDigit { expected: 'X', .. })));
        assert!(matches!(CitizenId::parse("19010519491231002X"), Err(CodeError::Region { .. })));
        assert!(matches!(CitizenId::parse("1101051949A231002X"), Err(CodeError::Character { position: 11, .. })));
        assert!(matches!(CitizenId::parse("110105299912310021"), Err(CodeError::Date { .. })));
    }

    #[test]
    fn upgrades_fifteen_digits() {
        let id = CitizenId::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert!(!id.is_male());
        assert_eq!(id.masked(), "110105********002X");
    }

    fn valid_first17() -> impl Strategy<Value = String> {
        (prop::sample::select(vec![11u32, 13, 31, 34, 44, 51, 65, 71, 81]), 0u32..10000, 1900i32..2020, 1u32..=12, 1u32..=28, 0u32..1000)
            .prop_map(|(p, area, y, m, d, seq)| format!("{p:02}{area:04}{y:04}{m:02}{d:02}{seq:03}"))
    }

    proptest! {
        #[test]
        fn generated_numbers_round_trip(first17 in valid_first17()) {
            let full = format!("{first17}{}", CitizenId::check_char(&first17));
            let id = CitizenId::parse(&full).unwrap();
            prop_assert_eq!(id.as_str(), full.as_str());
            prop_assert_eq!(id.to_string().to_lowercase().parse::<CitizenId>().unwrap(), id);
        }

        #[test]
        fn any_single_digit_change_is_caught(first17 in valid_first17(), pos in 0usize..17, delta in 1u8..10) {
            let full = format!("{first17}{}", CitizenId::check_char(&first17));
            let mut bytes = full.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let mutated = String::from_utf8(bytes).unwrap();
            prop_assert!(CitizenId::parse(&mutated).is_err());
        }

        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,25}") {
            let _ = CitizenId::parse(&s);
        }
    }
}
