//! The one mapping from domain errors to HTTP: JSON `{code, message}` for the API, an HTML error
//! page for the portal. Internal causes are logged and never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use yiwang_core::{DomainError, ErrorKind};

/// The API error body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `ITEM_NOT_FOUND`.
    pub code: String,
    /// Chinese message for people.
    pub message: String,
    /// Row-by-row problems (imports) or element problems (publishing), when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl AppError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        AppError { status, body: ErrorBody { code: code.into(), message: message.into(), details: vec![] } }
    }
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "页面不存在")
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "系统繁忙，请稍后重试")
    }
}

impl<E: DomainError> From<E> for AppError {
    fn from(e: E) -> Self {
        let status = status_for(e.kind());
        if status.is_server_error() {
            // Log the cause chain; users see an opaque message.
            let mut cause = format!("{e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                cause.push_str(&format!(": {s}"));
                src = s.source();
            }
            tracing::error!(code = e.code(), error = %cause, "request failed");
            let message = if status == StatusCode::SERVICE_UNAVAILABLE { e.to_string() } else { "系统繁忙，请稍后重试".into() };
            return AppError::new(status, e.code(), message);
        }
        let mut err = AppError::new(status, e.code(), e.to_string());
        err.body.details = e.details();
        err
    }
}

/// Errors from `yiwang_catalog` carry details worth showing (import rows, missing elements).
pub fn catalog_error(e: yiwang_catalog::CatalogError) -> AppError {
    let details: Vec<serde_json::Value> = match &e {
        yiwang_catalog::CatalogError::ImportRejected(rows) => rows.iter().filter_map(|r| serde_json::to_value(r).ok()).collect(),
        yiwang_catalog::CatalogError::Incomplete(p) => p.iter().map(|s| serde_json::Value::String(s.clone())).collect(),
        _ => vec![],
    };
    let mut err = AppError::from(e);
    err.body.details = details;
    err
}

/// An API failure: rendered as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.0.status, Json(self.0.body)).into_response();
        res.extensions_mut().insert(ErrorMarker);
        res
    }
}

/// Marks responses that carry an error body, so the page layer does not re-wrap them.
#[derive(Clone, Copy)]
pub struct ErrorMarker;

pub type ApiResult<T> = Result<T, ApiError>;
