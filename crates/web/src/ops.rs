//! Operational endpoints and middleware: health, Prometheus metrics, static assets.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::{ApiError, AppError};
use crate::AppState;

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; metrics then go there.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    res
}

pub async fn metrics() -> String {
    metrics_handle().render()
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    schema_version: i64,
    indexed_items: usize,
}

/// 200 when the database answers, 503 otherwise.
pub async fn healthz(State(app): State<AppState>) -> Response {
    let db_ok = app.db.ping().await.is_ok();
    let version = yiwang_store::current_version(&app.db).await.unwrap_or(0);
    let body = Health {
        status: if db_ok { "ok" } else { "degraded" },
        database: if db_ok { "ok" } else { "unavailable" },
        schema_version: version,
        indexed_items: app.catalog.search_index().len(),
    };
    let status = if db_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

const HTMX: &[u8] = include_bytes!("../static/htmx.min.js");
const CSS: &[u8] = include_bytes!("../static/app.css");

/// Assets are embedded in the binary; nothing is fetched at run time.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "htmx.min.js" => (HTMX, "application/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        _ => return crate::pages::PageError(AppError::not_found()).into_response(),
    };
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

pub async fn api_not_found() -> ApiError {
    ApiError(AppError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "接口不存在"))
}

/// Safety net for responses the framework produced before a handler ran (malformed path
/// encoding, oversized bodies, wrong content type): give them the same shape as ours — a JSON
/// `{code, message}` under `/api/`, an HTML error page elsewhere.
pub async fn uniform_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || res.extensions().get::<crate::error::ErrorMarker>().is_some() {
        return res;
    }
    // Our handlers answer in JSON (API) or HTML (pages), also when they deliberately return
    // 401/422 with a re-shown form; only other bodies (framework plain text) are replaced.
    let ctype = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ctype.starts_with("application/json") || ctype.starts_with("text/html") {
        return res;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("BODY_TOO_LARGE", "提交内容过大"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型"),
        StatusCode::METHOD_NOT_ALLOWED => ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
        StatusCode::NOT_FOUND => ("NOT_FOUND", "页面不存在"),
        s if s.is_server_error() => ("INTERNAL", "系统繁忙，请稍后重试"),
        _ => ("BAD_REQUEST", "请求格式无效"),
    };
    let err = AppError::new(status, code, message);
    if is_api {
        ApiError(err).into_response()
    } else {
        crate::pages::PageError(err).into_response()
    }
}
