//! The HTTP layer of yiwang: portal pages, staff workbench, JSON API, OpenAPI, health and
//! metrics. Thin by design: parse, authorize, call the domain, render.

pub mod api;
pub mod api_accounts;
pub mod api_cases;
pub mod api_exchange;
pub mod api_ledger;
pub mod api_licences;
pub mod api_openness;
pub mod api_oversight;
pub mod api_payments;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod oidc;
mod ops;
pub mod pages;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use yiwang_catalog::Catalog;
use yiwang_identity::oidc::Provider;
use yiwang_identity::Identity;
use yiwang_notify::Outbox;
use yiwang_store::Db;

pub use ops::metrics_handle;

/// Web settings from configuration.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Mark cookies `Secure` (set when served over TLS) and send HSTS.
    pub secure_cookies: bool,
    /// Public base URL for links shown as QR codes (window rating).
    pub public_url: String,
}

/// Everything handlers need, shared by all requests.
pub struct App {
    pub db: Db,
    pub catalog: Arc<Catalog>,
    pub identity: Identity,
    /// The OpenID Connect provider over `identity`.
    pub provider: Arc<Provider>,
    pub outbox: Outbox,
    /// Delivers outbox messages (SMTP, SMS webhook, or the log).
    pub notifier: Arc<dyn yiwang_notify::Sender>,
    /// Applications and cases.
    pub cases: yiwang_cases::Cases,
    /// Electronic licences and seals.
    pub licences: yiwang_licences::Licences,
    /// The tamper-evident ledger.
    pub ledger: yiwang_ledger::Ledger,
    /// Data sharing between departments and the access log.
    pub exchange: yiwang_exchange::Exchange,
    /// Electronic supervision, ratings, 12345 tickets and statistics.
    pub oversight: yiwang_oversight::Oversight,
    /// Payment orders, providers, refunds, reconciliation and courier delivery.
    pub payments: yiwang_payments::Payments,
    /// Disclosure, interpretations, disclosure on application and open data.
    pub openness: yiwang_openness::Openness,
    pub settings: WebSettings,
    pub imports: pages::staff::ImportJobs,
    pub login_limiter: auth::LoginLimiter,
}

pub type AppState = Arc<App>;

/// Largest request body accepted (catalog imports are the biggest).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// Build the full router with all middleware.
pub fn router(app: AppState) -> Router {
    // Install the metrics recorder before the first request is counted.
    ops::metrics_handle();
    let x_request_id = HeaderName::from_static("x-request-id");
    let secure = app.settings.secure_cookies;

    let (api, _) = routes::api(Some(&app)).into_parts();
    let api = api.fallback(ops::api_not_found);

    let (staff, _) = routes::staff(Some(&app)).into_parts();

    // The gateway for department systems: bearer tokens, no cookies or pages, so it skips the
    // portal's session, CSRF, tracing-span and page-header layers, which cost a tenth of a
    // gateway call; requests are still counted in the metrics.
    let (gateway, _) = routes::gateway(Some(&app)).into_parts();
    let gateway = gateway
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));

    let docs = utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", api::ApiDoc::openapi());

    let (portal, _) = routes::portal(Some(&app)).into_parts();
    portal
        .nest("/staff", staff)
        .nest("/api/v1", api)
        .merge(docs)
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(auth::same_origin))
        .layer(axum::middleware::from_fn(ops::uniform_errors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            if secure { HeaderValue::from_static("max-age=31536000") } else { HeaderValue::from_static("max-age=0") },
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .merge(gateway)
        .with_state(app)
}

/// Background upkeep every few seconds: flush view counters, pick up catalog changes made on
/// other app servers so every node's search index stays current, and (every ten minutes)
/// delete expired sessions.
pub fn spawn_background(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_secs(10);
        let mut tick = tokio::time::interval(period);
        let mut last = chrono::Utc::now();
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks += 1;
            if ticks % 60 == 1 {
                match app.identity.purge_expired_sessions().await {
                    Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions purged"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "purging sessions failed"),
                }
            }
            match app.outbox.deliver(app.notifier.clone(), 100).await {
                Ok(n) if n > 0 => tracing::info!(messages = n, "notifications delivered"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "notification delivery failed"),
            }
            if let Err(e) = app.catalog.flush_views().await {
                tracing::warn!(error = %e, "flushing view counts failed");
            }
            // A margin covers clock skew between nodes and transactions committing late.
            let now = chrono::Utc::now();
            let since = yiwang_store::timestamp_text(last - chrono::Duration::seconds(30));
            match app.catalog.sync_index(&since).await {
                Ok(_) => last = now,
                Err(e) => tracing::warn!(error = %e, "search index sync failed"),
            }
            // Documents and datasets changed on other app servers (every 30 s).
            if ticks.is_multiple_of(3) {
                if let Err(e) = app.openness.sync().await {
                    tracing::warn!(error = %e, "open data sync failed");
                }
            }
        }
    })
}
