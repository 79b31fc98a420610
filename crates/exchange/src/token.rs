//! Member authentication: a member proves itself once with a client assertion (a JWT it signs
//! with its Ed25519 key, RFC 7523 `private_key_jwt`) and receives a short-lived access token.
//! The token is `yx1.{payload}.{mac}` with an HMAC-SHA256 under a key derived from the master
//! key, so every node checks it in about a microsecond without a database read, and a
//! disabled member is refused at once because the gateway checks the member on every call.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::error::{ExchangeError, Result};
use crate::model::Member;

/// Lifetime of access tokens.
pub const TOKEN_SECONDS: i64 = 600;
/// Longest accepted assertion lifetime (exp − now).
const ASSERTION_MAX_SECONDS: i64 = 300;
/// Clock skew tolerated on assertions.
const LEEWAY: u64 = 30;

fn unauth(m: impl Into<String>) -> ExchangeError {
    ExchangeError::Unauthenticated(m.into())
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    jti: String,
}

/// Issues and checks access tokens; remembers assertion ids until they expire (no replay).
pub struct Tokens {
    key: [u8; 32],
    seen: Mutex<HashMap<String, i64>>,
}

impl Tokens {
    pub fn new(key: [u8; 32]) -> Tokens {
        Tokens { key, seen: Mutex::new(HashMap::new()) }
    }

    /// The member id an assertion claims (its `iss`), read before the signature is checked so
    /// the right key can be found.
    pub fn claimed_member(assertion: &str) -> Result<String> {
        let payload = assertion.split('.').nth(1).ok_or_else(|| unauth("client_assertion 不是 JWT"))?;
        let bytes = B64URL.decode(payload).map_err(|_| unauth("client_assertion 格式错误"))?;
        #[derive(Deserialize)]
        struct Iss {
            iss: String,
        }
        let iss: Iss = serde_json::from_slice(&bytes).map_err(|_| unauth("client_assertion 缺少 iss"))?;
        Ok(iss.iss)
    }

    /// Check an assertion signed by `member` for the token endpoint `audience`.
    pub fn verify_assertion(&self, assertion: &str, member: &Member, audience: &str, now: i64) -> Result<()> {
        if member.disabled_at.is_some() {
            return Err(unauth("成员系统已停用"));
        }
        let key = jsonwebtoken::DecodingKey::from_ed_components(&member.public_key).map_err(|_| unauth("成员公钥无效"))?;
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        v.set_audience(&[audience]);
        v.set_issuer(&[member.member_id.as_str()]);
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        v.leeway = LEEWAY;
        let data = jsonwebtoken::decode::<Claims>(assertion, &key, &v).map_err(|e| unauth(format!("client_assertion 校验失败：{e}")))?;
        let c = data.claims;
        if c.sub != c.iss {
            return Err(unauth("client_assertion 的 sub 必须等于 iss"));
        }
        if c.exp - now > ASSERTION_MAX_SECONDS {
            return Err(unauth("client_assertion 有效期过长（最长5分钟）"));
        }
        if c.jti.is_empty() || c.jti.len() > 128 {
            return Err(unauth("client_assertion 缺少 jti"));
        }
        let mut seen = self.seen.lock().map_err(|_| ExchangeError::Config("断言缓存不可用".into()))?;
        seen.retain(|_, exp| *exp + LEEWAY as i64 >= now);
        let id = format!("{}\n{}", c.iss, c.jti);
        if seen.contains_key(&id) {
            return Err(unauth("client_assertion 已使用过"));
        }
        seen.insert(id, c.exp);
        Ok(())
    }

    fn mac(&self, payload: &[u8]) -> Result<Hmac<Sha256>> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).map_err(|_| ExchangeError::Config("令牌密钥无效".into()))?;
        m.update(payload);
        Ok(m)
    }

    /// A token for `member_id` valid until `now + TOKEN_SECONDS`.
    pub fn issue(&self, member_id: &str, now: i64) -> Result<String> {
        let payload = format!("{member_id}|{}", now + TOKEN_SECONDS);
        let tag = self.mac(payload.as_bytes())?.finalize().into_bytes();
        Ok(format!("yx1.{}.{}", B64URL.encode(payload.as_bytes()), B64URL.encode(tag)))
    }

    /// The member a token was issued to, if it is genuine and unexpired.
    pub fn check(&self, token: &str, now: i64) -> Result<String> {
        let mut parts = token.split('.');
        let (Some("yx1"), Some(p), Some(t), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(unauth("访问令牌格式错误"));
        };
        let payload = B64URL.decode(p).map_err(|_| unauth("访问令牌格式错误"))?;
        let tag = B64URL.decode(t).map_err(|_| unauth("访问令牌格式错误"))?;
        self.mac(&payload)?.verify_slice(&tag).map_err(|_| unauth("访问令牌无效"))?;
        let text = String::from_utf8(payload).map_err(|_| unauth("访问令牌格式错误"))?;
        let (member, exp) = text.rsplit_once('|').ok_or_else(|| unauth("访问令牌格式错误"))?;
        let exp: i64 = exp.parse().map_err(|_| unauth("访问令牌格式错误"))?;
        if exp < now {
            return Err(unauth("访问令牌已过期"));
        }
        Ok(member.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_forgeries() {
        let t = Tokens::new([7; 32]);
        let tok = t.issue("11360102711777742F:cases", 1000).unwrap();
        assert_eq!(t.check(&tok, 1000).unwrap(), "11360102711777742F:cases");
        assert!(t.check(&tok, 1000 + TOKEN_SECONDS + 1).is_err(), "expired");
        let other = Tokens::new([8; 32]);
        assert!(other.check(&tok, 1000).is_err(), "another key");
        // Changing the member in the payload breaks the MAC.
        let forged_payload = B64URL.encode(format!("x:y|{}", 1000 + TOKEN_SECONDS));
        let mac = tok.rsplit('.').next().unwrap();
        assert!(t.check(&format!("yx1.{forged_payload}.{mac}"), 1000).is_err());
        for bad in ["", "yx1", "yx1.a.b.c", "yx2.a.b", "yx1.!!.??"] {
            assert!(t.check(bad, 1000).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_tokens_never_panic(s in ".{0,200}") {
            let t = Tokens::new([1; 32]);
            let _ = t.check(&s, 0);
            let _ = Tokens::claimed_member(&s);
        }
    }
}
