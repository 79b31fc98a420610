//! Cryptography shared by the capabilities that sign or hash records: seal and log keys
//! ([`keys`]: SM2 with SM3, Ed25519), digests ([`hash`]: SM3, SHA-256), private keys kept
//! encrypted at rest ([`Vault`]) and the canonical JSON that signatures and hashes cover
//! ([`canonical`]).

pub mod canonical;
pub mod hash;
pub mod keys;
pub mod pii;

pub use hash::HashAlg;
pub use keys::{generate, public_key, sign, Algorithm, PublicKey, Vault, SM2_USER_ID};
pub use pii::{PersonalData, Sealer};

/// Why a cryptographic operation failed. Messages are Chinese, for users.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A key, signature or ciphertext is malformed or does not open.
    #[error("{0}")]
    Key(String),
    /// A value has no canonical form (fractional numbers).
    #[error("{0}")]
    NotCanonical(String),
}

pub type Result<T, E = CryptoError> = std::result::Result<T, E>;
