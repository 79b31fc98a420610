//! Electronic licence identifiers (GB/T 36903): `1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`.

use super::{code_string_impls, CodeError, CreditCode};

const WHAT: &str = "电子证照标识";
const PREFIX: &str = "1.2.156.3005.2.";
const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn alnum_value(c: char) -> Option<u32> {
    c.to_digit(36)
}

/// ISO 7064 MOD 37,36 check character over `data` (0-9, A-Z; dots removed by the caller).
/// Returns `None` if `data` holds a character outside 0-9A-Z.
pub fn licence_check_char(data: &str) -> Option<char> {
    let mut p = 36u32;
    for c in data.chars() {
        let v = alnum_value(c.to_ascii_uppercase())?;
        let mut t = (p + v) % 36;
        if t == 0 {
            t = 36;
        }
        p = (2 * t) % 37;
    }
    Some(ALPHABET[((37 - p) % 36) as usize] as char)
}

/// A validated licence identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LicenceIdentifier(String);
code_string_impls!(LicenceIdentifier);

impl LicenceIdentifier {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = input.trim().to_ascii_uppercase();
        let Some(rest) = s.strip_prefix(PREFIX) else {
            return Err(CodeError::Character { what: WHAT, position: 1, ch: s.chars().next().unwrap_or(' ') });
        };
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = parts.as_slice() else {
            return Err(CodeError::Length { what: WHAT, expected: "10段", actual: parts.len() + 5 });
        };
        if type_code.len() != 21 || !type_code.is_ascii() {
            return Err(CodeError::Length { what: "证照类型代码", expected: "21", actual: type_code.chars().count() });
        }
        CreditCode::parse(&type_code[..18])?;
        super::check_digits("证照类型代码", &type_code[18..], 18)?;
        if version.len() != 3 {
            return Err(CodeError::Length { what: "证照版本号", expected: "3", actual: version.chars().count() });
        }
        super::check_digits("证照版本号", version, 0)?;
        let data = format!("{type_code}{issuer}{serial}{version}");
        let Some(expected) = licence_check_char(&data) else {
            let ch = data.chars().find(|c| alnum_value(*c).is_none()).unwrap_or('?');
            return Err(CodeError::Character { what: WHAT, position: 0, ch });
        };
        let actual = check.chars().next().unwrap_or(' ');
        if check.chars().count() != 1 || actual != expected {
            return Err(CodeError::CheckDigit { what: WHAT, expected, actual });
        }
        Ok(LicenceIdentifier(s))
    }

    /// The issuer-assigned serial (the segment between the issuer code and the version).
    pub fn serial(&self) -> &str {
        self.0.split('.').nth(7).unwrap_or("")
    }

    /// Build an identifier, computing its check character.
    pub fn compose(type_code: &str, issuer: &str, serial: &str, version: u16) -> Result<Self, CodeError> {
        let version = format!("{:03}", version.min(999));
        let data = format!("{type_code}{issuer}{serial}{version}").to_ascii_uppercase();
        let check = licence_check_char(&data).ok_or(CodeError::Character { what: WHAT, position: 0, ch: '?' })?;
        Self::parse(&format!("{PREFIX}{type_code}.{issuer}.{serial}.{version}.{check}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso7064_known_values() {
        // ISO/IEC 7064 MOD 37,36 reference: "A12425GABC1234002" → check "M".
        assert_eq!(licence_check_char("A12425GABC1234002"), Some('M'));
        assert_eq!(licence_check_char("中"), None);
    }

    #[test]
    fn compose_and_parse() {
        let id = LicenceIdentifier::compose("11100000000013338W001", "12441500196720244T", "000123", 1).unwrap();
        assert!(id.as_str().starts_with("1.2.156.3005.2.11100000000013338W001.12441500196720244T.000123.001."));
        assert_eq!(id.serial(), "000123");
        let mut bad = id.to_string();
        bad.pop();
        bad.push(if id.as_str().ends_with('0') { '1' } else { '0' });
        assert!(matches!(LicenceIdentifier::parse(&bad), Err(CodeError::CheckDigit { .. })));
    }

    proptest! {
        #[test]
        fn any_single_substitution_is_caught(serial in "[0-9A-Z]{4,12}", pos in 0usize..4, delta in 1u32..36) {
            let id = LicenceIdentifier::compose("11100000000013338W001", "12441500196720244T", &serial, 1).unwrap();
            let mut chars: Vec<char> = serial.chars().collect();
            let i = pos % chars.len();
            let v = chars[i].to_digit(36).unwrap();
            chars[i] = std::char::from_digit((v + delta) % 36, 36).unwrap().to_ascii_uppercase();
            let check = id.as_str().chars().last().unwrap();
            let forged = format!("1.2.156.3005.2.11100000000013338W001.12441500196720244T.{}.001.{check}", chars.into_iter().collect::<String>());
            prop_assert!(LicenceIdentifier::parse(&forged).is_err());
        }

        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,80}") {
            let _ = LicenceIdentifier::parse(&s);
            let _ = LicenceIdentifier::parse(&format!("1.2.156.3005.2.{s}"));
        }
    }
}
