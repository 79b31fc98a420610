//! Shared building blocks for every yiwang capability: national code formats with
//! their check digits, personal-data masking and the error vocabulary the web layer maps.

pub mod codes;
pub mod error;
pub mod labels;
pub mod mask;
pub mod text;
pub mod url;

pub use error::{DomainError, ErrorKind};
