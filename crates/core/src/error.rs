//! The error vocabulary shared by all domain modules.
//!
//! Every domain error carries a stable machine code (`ITEM_NOT_FOUND`) and a Chinese
//! message (its `Display`); the web layer maps [`ErrorKind`] to an HTTP status once.

/// What kind of failure this is, independent of HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller sent something malformed or failing a rule.
    Invalid,
    /// Authentication is missing or wrong.
    Unauthenticated,
    /// Authenticated but not allowed.
    Forbidden,
    NotFound,
    /// The request conflicts with the current state (duplicate, wrong status).
    Conflict,
    /// Too many attempts; try later.
    TooManyRequests,
    /// A dependency (database pool, index) is temporarily unavailable.
    Unavailable,
    /// A bug or an unexpected failure; shown opaque to users.
    Internal,
}

/// Implemented by every domain error so the HTTP edge can render it uniformly.
pub trait DomainError: std::error::Error {
    /// Stable, upper-snake machine code, e.g. `ITEM_NOT_FOUND`.
    fn code(&self) -> &'static str;
    fn kind(&self) -> ErrorKind;
    /// Several problems at once (one-time notices, import rows), shown beside the message.
    fn details(&self) -> Vec<serde_json::Value> {
        Vec::new()
    }
}
