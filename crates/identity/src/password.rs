//! Password hashing (argon2id, OWASP parameters) and the password policy.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::{IdentityError, Result};

/// argon2id with the crate defaults, which are OWASP's recommended minimum (m=19 MiB, t=2, p=1).
/// Never lower these to make logins faster.
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| IdentityError::Hash)
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Hash on the blocking pool: argon2 takes tens of milliseconds of CPU.
pub async fn hash_blocking(password: &str) -> Result<String> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&pw)).await.map_err(|_| IdentityError::Hash)?
}

pub async fn verify_blocking(password: &str, phc: &str) -> bool {
    let (pw, phc) = (password.to_string(), phc.to_string());
    tokio::task::spawn_blocking(move || verify_password(&pw, &phc)).await.unwrap_or(false)
}

/// Minimum lengths: staff accounts hold more power, so they need longer passwords.
pub const MIN_LEN_PERSON: usize = 10;
pub const MIN_LEN_STAFF: usize = 12;

const COMMON: &[&str] =
    &["password", "12345678", "123456789", "qwerty", "11111111", "abc123", "iloveyou", "admin", "welcome", "woaini", "5201314"];

/// 密码策略: length, at least two character classes, not a common password, and not containing
/// the account's own identifiers (ID number, phone, username).
pub fn check_policy(password: &str, min_len: usize, personal: &[&str]) -> Result<()> {
    let weak = |m: &str| Err(IdentityError::WeakPassword(m.to_string()));
    let n = password.chars().count();
    if n < min_len {
        return weak(&format!("长度至少{min_len}位"));
    }
    if n > 128 {
        return weak("长度不能超过128位");
    }
    let classes = [
        password.chars().any(|c| c.is_alphabetic()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < 2 {
        return weak("须包含字母、数字、符号中的至少两类");
    }
    let lower = password.to_lowercase();
    // "Password2024!" is as weak as "password": compare the letters, and the digits, alone.
    let letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    let digits: String = lower.chars().filter(|c| c.is_ascii_digit()).collect();
    if COMMON.iter().any(|c| *c == letters || *c == digits || *c == lower) {
        return weak("包含常见弱密码");
    }
    if personal.iter().filter(|p| p.len() >= 6).any(|p| lower.contains(&p.to_lowercase())) {
        return weak("不能包含身份证号、手机号或用户名");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_owasp_argon2id() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("short1!", 10, &[]).is_err());
        assert!(check_policy("onlyletterslong", 10, &[]).is_err());
        assert!(check_policy("1234567890123", 10, &[]).is_err());
        assert!(check_policy("Password-2024!", 10, &[]).is_err(), "common word");
        assert!(check_policy("x13800138000y", 10, &["13800138000"]).is_err(), "contains phone");
        assert!(check_policy("blue-river-42", 10, &["13800138000"]).is_ok());
        assert!(check_policy("蓝色河流很长很长的1", 10, &[]).is_ok(), "Chinese letters count as letters");
    }
}
