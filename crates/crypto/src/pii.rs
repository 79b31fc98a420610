//! Personal data at rest (个人信息加密存储): ID numbers and phone numbers are stored encrypted
//! (SM4-GCM, random nonce, the field name bound as associated data) beside a blind index
//! (HMAC-SHA256 under a separate key) that lookups and unique constraints use. Both keys derive
//! from the deployment's master key; without it a copy of the database shows neither the
//! numbers nor a way to test guesses offline.

use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

use crate::keys::{derive, Vault};
use crate::{CryptoError, Result};

/// Prefix of a blind index value, so it is never mistaken for a number.
pub const INDEX_PREFIX: &str = "bi1:";

pub struct PersonalData {
    vault: Vault,
    index_key: Zeroizing<[u8; 32]>,
}

impl PersonalData {
    /// Keys for personal data derived from `master` (at least 16 bytes).
    pub fn new(master: &[u8]) -> Result<PersonalData> {
        Ok(PersonalData { vault: Vault::for_purpose(master, "personal data")?, index_key: derive(master, "personal data index")? })
    }

    /// Random keys (tests and throw-away databases only: nothing survives a restart).
    pub fn ephemeral() -> PersonalData {
        let mut master = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut master);
        // 32 bytes always satisfy `new`.
        PersonalData::new(&master).unwrap_or_else(|_| unreachable!())
    }

    /// Encrypt `value` of `field` (e.g. `id_number`).
    pub fn seal(&self, field: &str, value: &str) -> Result<String> {
        self.vault.seal(field, value.as_bytes())
    }

    /// Decrypt what [`seal`](Self::seal) made for the same field.
    pub fn open(&self, field: &str, sealed: &str) -> Result<String> {
        let plain = self.vault.open(field, sealed)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::Key("密文内容无效".into()))
    }

    /// The blind index of `value` of `field`: equal values give equal indexes, and nothing
    /// about the value can be learned or guessed without the key.
    pub fn index(&self, field: &str, value: &str) -> String {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.index_key.as_ref()).unwrap_or_else(|_| unreachable!());
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{INDEX_PREFIX}{hex}")
    }

    /// Whether a stored value is a blind index (rows written before encryption are not).
    pub fn is_index(stored: &str) -> bool {
        stored.starts_with(INDEX_PREFIX)
    }
}

/// Sealing of personal data in ordinary rows (cases, tickets, shipments): bound to the column
/// and the row's id. Without a key (crates' own unit tests) values are stored as given;
/// reading accepts both forms, so rows written before encryption stay readable until the
/// owning module converts them.
#[derive(Clone, Default)]
pub struct Sealer(Option<std::sync::Arc<PersonalData>>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.enabled() { "Sealer(encrypting)" } else { "Sealer(clear)" })
    }
}

impl Sealer {
    pub fn new(key: std::sync::Arc<PersonalData>) -> Sealer {
        Sealer(Some(key))
    }

    /// The blind index of `value` of `field`, when a key is set.
    pub fn index(&self, field: &str, value: &str) -> Option<String> {
        self.0.as_ref().map(|k| k.index(field, value))
    }

    /// Whether values are encrypted (a key is set).
    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Whether a stored value is already sealed.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(crate::keys::SEALED_PREFIX)
    }

    pub fn seal(&self, column: &str, row: &str, value: &str) -> Result<String> {
        match &self.0 {
            Some(k) => k.seal(&format!("{column}:{row}"), value),
            None => Ok(value.to_string()),
        }
    }

    pub fn seal_opt(&self, column: &str, row: &str, value: &Option<String>) -> Result<Option<String>> {
        value.as_deref().map(|v| self.seal(column, row, v)).transpose()
    }

    pub fn open(&self, column: &str, row: &str, stored: String) -> Result<String> {
        if !Self::is_sealed(&stored) {
            return Ok(stored);
        }
        let k = self.0.as_ref().ok_or_else(|| CryptoError::Key("个人信息已加密，但未配置密钥".into()))?;
        k.open(&format!("{column}:{row}"), &stored)
    }

    pub fn open_opt(&self, column: &str, row: &str, stored: Option<String>) -> Result<Option<String>> {
        stored.map(|v| self.open(column, row, v)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seal_open_index() {
        let p = PersonalData::new(b"0123456789abcdef0123").unwrap();
        let sealed = p.seal("id_number", "360102199003071236").unwrap();
        assert!(!sealed.contains("360102"));
        assert_ne!(sealed, p.seal("id_number", "360102199003071236").unwrap(), "random nonce");
        assert_eq!(p.open("id_number", &sealed).unwrap(), "360102199003071236");
        assert!(p.open("phone", &sealed).is_err(), "a field's ciphertext does not open as another field");
        assert!(PersonalData::new(b"another master key!!").unwrap().open("id_number", &sealed).is_err());
        let i = p.index("id_number", "360102199003071236");
        assert_eq!(i, p.index("id_number", "360102199003071236"));
        assert_ne!(i, p.index("phone", "360102199003071236"));
        assert!(PersonalData::is_index(&i) && !PersonalData::is_index("13800138000"));
    }

    #[test]
    fn sealer_binds_column_and_row_and_reads_clear_values() {
        let s = Sealer::new(std::sync::Arc::new(PersonalData::ephemeral()));
        let sealed = s.seal("cases.form", "c1", "{}").unwrap();
        assert!(Sealer::is_sealed(&sealed));
        assert_eq!(s.open("cases.form", "c1", sealed.clone()).unwrap(), "{}");
        assert!(s.open("cases.form", "c2", sealed.clone()).is_err(), "moved to another row");
        assert!(s.open("cases.contact_phone", "c1", sealed.clone()).is_err(), "moved to another column");
        assert_eq!(s.open("cases.form", "c1", "clear".into()).unwrap(), "clear");
        assert!(Sealer::default().open("cases.form", "c1", sealed).is_err(), "no key, no plaintext");
        assert_eq!(Sealer::default().seal("x", "y", "v").unwrap(), "v");
    }

    proptest! {
        #[test]
        fn any_value_round_trips(v in "\\PC{0,40}") {
            let p = PersonalData::ephemeral();
            prop_assert_eq!(p.open("phone", &p.seal("phone", &v).unwrap()).unwrap(), v);
        }
    }
}
