//! Signing keys of the OpenID Provider: one RSA-2048 key for RS256 (mandatory in OpenID
//! Connect) and one Ed25519 key for EdDSA. Generated on first use and stored in the database so
//! every node signs with the same keys; when two nodes race, both keys are stored and every
//! node converges on the oldest, while the JWKS publishes all live keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{now_text, Db};

use crate::{random_hex, IdentityError, Result};

/// ID token signing algorithms offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Alg {
    RS256,
    EdDSA,
}

impl Alg {
    pub fn key(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::EdDSA => "EdDSA",
        }
    }
    pub fn parse(s: &str) -> Option<Alg> {
        match s.trim() {
            "RS256" => Some(Alg::RS256),
            "EdDSA" => Some(Alg::EdDSA),
            _ => None,
        }
    }
    pub fn jwt(self) -> Algorithm {
        match self {
            Alg::RS256 => Algorithm::RS256,
            Alg::EdDSA => Algorithm::EdDSA,
        }
    }
}

pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
}

pub struct Keys {
    pub rsa: SigningKey,
    pub ed: SigningKey,
    /// MAC key of refresh tokens, derived from the Ed25519 private key (so it is exactly as
    /// protected as the signing keys and shared by every node).
    pub refresh_mac: Vec<u8>,
}

impl Keys {
    pub fn for_alg(&self, alg: Alg) -> &SigningKey {
        match alg {
            Alg::RS256 => &self.rsa,
            Alg::EdDSA => &self.ed,
        }
    }
    /// The key a token header names, among the keys this node signs with.
    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        [&self.rsa, &self.ed].into_iter().find(|k| k.kid == kid)
    }
}

fn keys_err(e: impl std::fmt::Display) -> IdentityError {
    IdentityError::Keys(e.to_string())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Generate a key pair: (private DER hex, public JWK without kid).
fn generate(alg: Alg) -> Result<(String, serde_json::Value)> {
    let mut rng = rand::rngs::OsRng;
    match alg {
        Alg::RS256 => {
            let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(keys_err)?;
            let der = key.to_pkcs1_der().map_err(keys_err)?;
            let jwk = serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())});
            Ok((hex::encode(der.as_bytes()), jwk))
        }
        Alg::EdDSA => {
            use ed25519_dalek::pkcs8::EncodePrivateKey;
            let key = ed25519_dalek::SigningKey::generate(&mut rng);
            let der = key.to_pkcs8_der().map_err(keys_err)?;
            let jwk =
                serde_json::json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "x": b64(key.verifying_key().as_bytes())});
            Ok((hex::encode(der.as_bytes()), jwk))
        }
    }
}

fn load_key(kid: String, alg: Alg, private_hex: &str, jwk: &serde_json::Value) -> Result<SigningKey> {
    let der = hex::decode(private_hex).map_err(keys_err)?;
    let s = |k: &str| jwk.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let (encoding, decoding) = match alg {
        Alg::RS256 => (EncodingKey::from_rsa_der(&der), DecodingKey::from_rsa_components(&s("n"), &s("e")).map_err(keys_err)?),
        Alg::EdDSA => (EncodingKey::from_ed_der(&der), DecodingKey::from_ed_components(&s("x")).map_err(keys_err)?),
    };
    Ok(SigningKey { kid, alg, encoding, decoding })
}

async fn live_rows(db: &Db) -> Result<Vec<(String, Alg, String, serde_json::Value)>> {
    let rows = sqlx::query("SELECT kid, alg, private_der, public_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, kid")
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .filter_map(|r| {
            let alg = Alg::parse(&r.try_get::<String, _>("alg").ok()?)?;
            Some((|| {
                let jwk: serde_json::Value = serde_json::from_str(&r.try_get::<String, _>("public_jwk")?).map_err(keys_err)?;
                Ok((r.try_get("kid")?, alg, r.try_get("private_der")?, jwk))
            })())
        })
        .collect()
}

/// Load the signing keys, generating any that are missing.
pub async fn load_or_create(db: &Db) -> Result<Keys> {
    for alg in [Alg::RS256, Alg::EdDSA] {
        if live_rows(db).await?.iter().any(|r| r.1 == alg) {
            continue;
        }
        // RSA key generation takes a noticeable moment: keep it off the async workers.
        let (private, mut jwk) = tokio::task::spawn_blocking(move || generate(alg)).await.map_err(keys_err)??;
        let kid = format!("{}-{}", alg.key().to_ascii_lowercase(), random_hex(8));
        jwk["kid"] = serde_json::Value::String(kid.clone());
        let mut tx = db.begin().await?;
        sqlx::query("INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&kid)
            .bind(alg.key())
            .bind(private)
            .bind(jwk.to_string())
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(kid, alg = alg.key(), "OIDC signing key generated");
    }
    let rows = live_rows(db).await?;
    let pick = |alg: Alg| -> Result<SigningKey> {
        let (kid, alg, private, jwk) = rows.iter().find(|r| r.1 == alg).ok_or_else(|| keys_err("signing key missing"))?;
        load_key(kid.clone(), *alg, private, jwk)
    };
    let ed_private = rows.iter().find(|r| r.1 == Alg::EdDSA).map(|r| r.2.clone()).ok_or_else(|| keys_err("signing key missing"))?;
    let refresh_mac = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"yiwang/oidc/refresh-token/v1\0");
        h.update(hex::decode(&ed_private).map_err(keys_err)?);
        h.finalize().to_vec()
    };
    Ok(Keys { rsa: pick(Alg::RS256)?, ed: pick(Alg::EdDSA)?, refresh_mac })
}

/// The JSON Web Key Set: every live public key.
pub async fn jwks(db: &Db) -> Result<serde_json::Value> {
    let keys: Vec<serde_json::Value> = live_rows(db).await?.into_iter().map(|r| r.3).collect();
    Ok(serde_json::json!({ "keys": keys }))
}
