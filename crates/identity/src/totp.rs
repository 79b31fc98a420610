//! TOTP second factor (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), as every authenticator
//! app supports. A code is accepted for the previous, current or next step, and never twice:
//! the last step used is stored and later codes must be for a later step.

use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECONDS: u64 = 30;

/// A fresh 160-bit secret, base32 as authenticator apps expect.
pub fn new_secret() -> String {
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    match Secret::Raw(b.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => String::new(),
    }
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    Some(TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECONDS, bytes))
}

/// The code for a time step.
pub fn code_at_step(secret_b32: &str, step: u64) -> Option<String> {
    totp(secret_b32).map(|t| t.generate(step * STEP_SECONDS))
}

pub fn current_step() -> u64 {
    (chrono::Utc::now().timestamp().max(0) as u64) / STEP_SECONDS
}

/// The step a code matches, if it is within one step of now and later than `last_step`.
pub fn verify(secret_b32: &str, code: &str, last_step: i64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32)?;
    let now = current_step();
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|s| (*s as i64) > last_step && crate::tokens_equal(&t.generate(s * STEP_SECONDS), code))
}

/// `otpauth://` URI for authenticator apps (shown as a QR code and as text).
pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vector_and_replay() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T=59 s -> 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at_step(&secret, 1).unwrap(), "287082");
        let s = new_secret();
        let now = current_step();
        let code = code_at_step(&s, now).unwrap();
        assert_eq!(verify(&s, &code, 0), Some(now));
        assert_eq!(verify(&s, &code, now as i64), None, "a code is never accepted twice");
        assert_eq!(verify(&s, "12345", 0), None);
        assert_eq!(verify(&s, &code_at_step(&s, now + 5).unwrap(), 0), None, "far-future codes are refused");
        assert!(otpauth_uri(&s, "一网", "alice").starts_with("otpauth://totp/%E4%B8%80%E7%BD%91:alice?secret="));
    }
}
