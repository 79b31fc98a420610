//! Signing keys: SM2 with SM3 (GB/T 32918, default user id `1234567812345678`) and Ed25519, and
//! the vault that keeps private keys (seals, the ledger's log key) encrypted at rest (SM4-GCM under a master key).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::{CryptoError, Result};

/// SM2 distinguishing identifier used for every signature (GB/T 35276 default).
pub const SM2_USER_ID: &str = "1234567812345678";

/// Signature algorithm of a seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Algorithm {
    /// SM2 signature over SM3 (国密), signature = r‖s (64 bytes).
    #[serde(rename = "SM2-SM3")]
    Sm2,
    /// Ed25519 (RFC 8032), signature 64 bytes.
    #[serde(rename = "Ed25519")]
    Ed25519,
}

impl Algorithm {
    pub fn key(self) -> &'static str {
        match self {
            Algorithm::Sm2 => "SM2-SM3",
            Algorithm::Ed25519 => "Ed25519",
        }
    }
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sm2-sm3" | "sm2" => Some(Algorithm::Sm2),
            "ed25519" => Some(Algorithm::Ed25519),
            _ => None,
        }
    }
}

/// A fresh private key (32 bytes for both algorithms) and its public key.
pub fn generate(alg: Algorithm) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    let mut rng = rand::rngs::OsRng;
    loop {
        let mut secret = Zeroizing::new(vec![0u8; 32]);
        rng.fill_bytes(&mut secret);
        // A random 32-byte string is an invalid SM2 scalar with probability ~2^-32; draw again.
        if let Ok(public) = public_key(alg, &secret) {
            return Ok((secret, public));
        }
    }
}

/// The public key of a private key: SEC1 uncompressed (65 bytes) for SM2, 32 bytes for Ed25519.
pub fn public_key(alg: Algorithm, secret: &[u8]) -> Result<Vec<u8>> {
    match alg {
        Algorithm::Sm2 => {
            let sk = sm2::SecretKey::from_slice(secret).map_err(|_| CryptoError::Key("SM2 私钥无效".into()))?;
            Ok(sk.public_key().to_sec1_bytes().to_vec())
        }
        Algorithm::Ed25519 => {
            let bytes: [u8; 32] = secret.try_into().map_err(|_| CryptoError::Key("Ed25519 私钥长度应为32字节".into()))?;
            Ok(ed25519_dalek::SigningKey::from_bytes(&bytes).verifying_key().to_bytes().to_vec())
        }
    }
}

/// Sign `message` with a private key.
pub fn sign(alg: Algorithm, secret: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    match alg {
        Algorithm::Sm2 => {
            use sm2::dsa::signature::Signer;
            let sk = sm2::SecretKey::from_slice(secret).map_err(|_| CryptoError::Key("SM2 私钥无效".into()))?;
            let key = sm2::dsa::SigningKey::new(SM2_USER_ID, &sk).map_err(|_| CryptoError::Key("SM2 签名密钥无效".into()))?;
            let sig: sm2::dsa::Signature = key.try_sign(message).map_err(|_| CryptoError::Key("SM2 签名失败".into()))?;
            Ok(sig.to_bytes().to_vec())
        }
        Algorithm::Ed25519 => {
            use ed25519_dalek::Signer;
            let bytes: [u8; 32] = secret.try_into().map_err(|_| CryptoError::Key("Ed25519 私钥长度应为32字节".into()))?;
            Ok(ed25519_dalek::SigningKey::from_bytes(&bytes).sign(message).to_bytes().to_vec())
        }
    }
}

/// A parsed public key, ready to verify many signatures.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Sm2(Box<sm2::dsa::VerifyingKey>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    pub fn parse(alg: Algorithm, bytes: &[u8]) -> Result<PublicKey> {
        match alg {
            Algorithm::Sm2 => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_USER_ID, bytes)
                .map(|k| PublicKey::Sm2(Box::new(k)))
                .map_err(|_| CryptoError::Key("SM2 公钥无效".into())),
            Algorithm::Ed25519 => {
                let b: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Key("Ed25519 公钥长度应为32字节".into()))?;
                ed25519_dalek::VerifyingKey::from_bytes(&b).map(PublicKey::Ed25519).map_err(|_| CryptoError::Key("Ed25519 公钥无效".into()))
            }
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Sm2(_) => Algorithm::Sm2,
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// True when `signature` is a valid signature of `message` under this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Sm2(k) => {
                use sm2::dsa::signature::Verifier;
                let Ok(sig) = sm2::dsa::Signature::try_from(signature) else { return false };
                k.verify(message, &sig).is_ok()
            }
            PublicKey::Ed25519(k) => {
                let Ok(bytes) = <[u8; 64]>::try_from(signature) else { return false };
                // Strict verification refuses malleable and small-order encodings.
                k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes)).is_ok()
            }
        }
    }
}

/// Keeps seal private keys encrypted at rest: SM4-GCM with a key derived (SM3) from the
/// deployment's master key; the seal id is bound as associated data so a ciphertext cannot be
/// moved to another seal's row.
pub struct Vault {
    key: Zeroizing<[u8; 16]>,
}

type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// SM3("yiwang {purpose} v1\0" ‖ master): 32 bytes of key material for one purpose.
pub(crate) fn derive(master: &[u8], purpose: &str) -> Result<Zeroizing<[u8; 32]>> {
    if master.len() < 16 {
        return Err(CryptoError::Key("主密钥至少16字节".into()));
    }
    use sm3::Digest;
    let mut h = sm3::Sm3::new();
    h.update(format!("yiwang {purpose} v1\0").as_bytes());
    h.update(master);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&h.finalize());
    Ok(out)
}

pub(crate) const SEALED_PREFIX: &str = "sm4gcm1:";

impl Vault {
    /// A vault over `master` (at least 16 bytes of secret) for seal private keys.
    pub fn new(master: &[u8]) -> Result<Vault> {
        Vault::for_purpose(master, "seal keys")
    }

    /// A vault whose key is derived from `master` for one purpose: keys for different purposes
    /// are unrelated, so a ciphertext of one kind never opens as another.
    pub fn for_purpose(master: &[u8], purpose: &str) -> Result<Vault> {
        let digest = derive(master, purpose)?;
        let mut key = Zeroizing::new([0u8; 16]);
        key.copy_from_slice(&digest[..16]);
        Ok(Vault { key })
    }

    /// A vault with a random master key (tests and throw-away databases).
    pub fn ephemeral() -> Vault {
        let mut master = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(master.as_mut());
        // 32 bytes always satisfy `new`.
        Vault::new(master.as_ref()).unwrap_or_else(|_| unreachable!())
    }

    fn cipher(&self) -> Sm4Gcm {
        use aes_gcm::KeyInit;
        Sm4Gcm::new(aes_gcm::Key::<Sm4Gcm>::from_slice(self.key.as_ref()))
    }

    pub fn seal(&self, aad: &str, plain: &[u8]) -> Result<String> {
        use aes_gcm::aead::{Aead, Payload};
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plain, aad: aad.as_bytes() })
            .map_err(|_| CryptoError::Key("加密失败".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{SEALED_PREFIX}{}", B64.encode(out)))
    }

    pub fn open(&self, aad: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
        use aes_gcm::aead::{Aead, Payload};
        let fail = || CryptoError::Key("密文无法解密（主密钥不符或数据被篡改）".into());
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(fail)?;
        let bytes = B64.decode(body).map_err(|_| fail())?;
        if bytes.len() < 12 + 16 {
            return Err(fail());
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain =
            self.cipher().decrypt(aes_gcm::Nonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() }).map_err(|_| fail())?;
        Ok(Zeroizing::new(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_algorithms_sign_and_verify() {
        for alg in [Algorithm::Sm2, Algorithm::Ed25519] {
            let (secret, public) = generate(alg).unwrap();
            let key = PublicKey::parse(alg, &public).unwrap();
            let sig = sign(alg, &secret, b"licence").unwrap();
            assert_eq!(sig.len(), 64);
            assert!(key.verify(b"licence", &sig), "{alg:?}");
            assert!(!key.verify(b"licencf", &sig), "{alg:?} tampered message");
            let mut bad = sig.clone();
            bad[10] ^= 1;
            assert!(!key.verify(b"licence", &bad), "{alg:?} tampered signature");
            assert!(!key.verify(b"licence", &sig[..63]));
            let (_, other) = generate(alg).unwrap();
            assert!(!PublicKey::parse(alg, &other).unwrap().verify(b"licence", &sig), "{alg:?} other key");
        }
    }

    #[test]
    fn vault_round_trips_and_binds_the_seal() {
        let v = Vault::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let sealed = v.seal("seal-1", b"secret key bytes").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(v.open("seal-1", &sealed).unwrap().as_slice(), b"secret key bytes");
        assert!(v.open("seal-2", &sealed).is_err(), "moved to another seal");
        assert!(Vault::new(b"another master key, 32 bytes ok").unwrap().open("seal-1", &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.replace_range(20..21, if &sealed[20..21] == "A" { "B" } else { "A" });
        assert!(v.open("seal-1", &tampered).is_err());
        assert!(Vault::new(b"short").is_err());
    }
}
