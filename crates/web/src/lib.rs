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

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{get, post};
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

    let api = Router::new()
        .route("/items", get(api::list_items).post(api::create_item))
        .route("/items/{code}", get(api::get_item).put(api::update_item))
        .route("/items/{code}/latest", get(api::get_item_latest))
        .route("/items/{code}/publish", post(api::publish_item))
        .route("/items/{code}/status", post(api::item_status))
        .route("/items/{code}/history", get(api::item_history))
        .route("/items/{code}/workflow", get(api_cases::get_workflow).put(api_cases::put_workflow))
        .route("/departments", get(api::departments))
        .route("/departments/{code}", get(api::department))
        .route("/regions", get(api::regions))
        .route("/themes", get(api::themes))
        .route("/bundles", get(api::bundles))
        .route("/bundles/{code}", get(api::bundle))
        .route("/catalog/import", post(api::import))
        .route("/catalog/export", get(api::export))
        .route("/auth/login", post(api::login))
        .route("/auth/totp", post(api::totp))
        .route("/auth/logout", post(api::logout))
        .route("/auth/me", get(api::whoami))
        .route("/persons", post(api_accounts::register))
        .route("/persons/login", post(api_accounts::person_login))
        .route("/persons/me", get(api_accounts::profile))
        .route("/persons/me/verify", post(api_accounts::verify))
        .route("/persons/me/sessions", get(api_accounts::sessions))
        .route("/persons/me/sessions/{handle}", axum::routing::delete(api_accounts::revoke_session))
        .route("/persons/me/logins", get(api_accounts::logins))
        .route("/persons/me/acting-for", post(api_accounts::acting_for))
        .route("/persons/password-reset", post(api_accounts::reset_request))
        .route("/persons/password-reset/confirm", post(api_accounts::reset_confirm))
        .route("/businesses", post(api_accounts::register_business))
        .route("/businesses/{code}/agents", get(api_accounts::agents).post(api_accounts::grant_agent))
        .route("/businesses/{code}/agents/{id}", axum::routing::delete(api_accounts::revoke_agent))
        .route("/staff/verifications", post(api_accounts::verify_in_person))
        .route("/staff/accounts/{username}/totp-reset", post(api_accounts::reset_staff_totp))
        .route("/oidc/clients", get(api_accounts::clients).post(api_accounts::create_client))
        .route("/applications/form", get(api_cases::application_form))
        .route("/applications", post(api_cases::create_application))
        .route("/cases", get(api_cases::my_cases))
        .route("/cases/{id}", get(api_cases::my_case))
        .route("/cases/{id}/form", axum::routing::put(api_cases::save_form))
        .route("/cases/{id}/materials", post(api_cases::upload_material))
        .route("/cases/{id}/materials/{name}", get(api_cases::download_material))
        .route("/cases/{id}/submit", post(api_cases::submit))
        .route("/cases/{id}/resubmit", post(api_cases::resubmit))
        .route("/cases/{id}/withdraw", post(api_cases::withdraw))
        .route("/inbox", get(api_cases::my_inbox))
        .route("/inbox/read", post(api_cases::read_inbox))
        .route("/staff/cases", get(api_cases::queue))
        .route("/staff/cases/{id}", get(api_cases::staff_case))
        .route("/staff/cases/{id}/actions", post(api_cases::act))
        .route("/staff/cases/{id}/materials/{name}", get(api_cases::staff_material))
        .route("/staff/window-applications", post(api_cases::window_apply))
        .route("/licences/types", get(api_licences::types))
        .route("/licences/types/{code}", axum::routing::put(api_licences::put_type))
        .route("/licences/keys", get(api_licences::keys))
        .route("/licences/verify", post(api_licences::verify_uploaded))
        .route("/licences/{identifier}/verify", get(api_licences::verify))
        .route("/me/licences", get(api_licences::wallet))
        .route("/me/licences/{identifier}", get(api_licences::held))
        .route("/me/licences/{identifier}/file", get(api_licences::file))
        .route("/me/licences/{identifier}/copies", post(api_licences::make_copy))
        .route("/licence-copies/{token}", get(api_licences::copy))
        .route("/licence-copies/{token}/use", post(api_licences::use_copy))
        .route("/staff/licences", get(api_licences::issued).post(api_licences::issue))
        .route("/staff/licences/{identifier}/revoke", post(api_licences::revoke))
        .route("/staff/licences/{identifier}/reissue", post(api_licences::reissue))
        .route("/staff/seals", get(api_licences::seals))
        .route("/staff/seals/rotate", post(api_licences::rotate))
        .route("/ledger", get(api_ledger::info))
        .route("/ledger/heads", get(api_ledger::heads).post(api_ledger::publish))
        .route("/ledger/leaves", get(api_ledger::leaves))
        .route("/ledger/proofs/inclusion", get(api_ledger::inclusion))
        .route("/ledger/proofs/consistency", get(api_ledger::consistency))
        .route("/cases/{id}/ledger", get(api_ledger::my_case_bundle))
        .route("/exchange/resources", get(api_exchange::resources))
        .route("/exchange/resources/{code}", get(api_exchange::resource).put(api_exchange::put_resource))
        .route("/exchange/members", get(api_exchange::members).post(api_exchange::register_member))
        .route("/exchange/members/{id}/state", post(api_exchange::member_state))
        .route("/exchange/grants", get(api_exchange::grants).post(api_exchange::request_access))
        .route("/exchange/grants/{id}/decision", post(api_exchange::decide))
        .route("/exchange/stats", get(api_exchange::stats))
        .route("/exchange/logs", get(api_exchange::logs))
        .route("/exchange/logs/{id}", get(api_exchange::log_entry))
        .route("/exchange/keys", get(api_exchange::keys))
        .route("/me/data-access", get(api_exchange::my_data_access))
        .route("/oversight/alerts", get(api_oversight::alerts))
        .route("/oversight/alerts/{id}", get(api_oversight::alert))
        .route("/oversight/alerts/{id}/actions", post(api_oversight::alert_action))
        .route("/oversight/scores", get(api_oversight::scores))
        .route("/oversight/followups", get(api_oversight::followups))
        .route("/oversight/followups/{id}/actions", post(api_oversight::followup_action))
        .route("/oversight/visits", post(api_oversight::open_visit))
        .route("/oversight/tickets", get(api_oversight::staff_tickets))
        .route("/oversight/tickets/{id}", get(api_oversight::staff_ticket))
        .route("/oversight/tickets/{id}/actions", post(api_oversight::ticket_action))
        .route("/oversight/statistics", get(api_oversight::statistics))
        .route("/oversight/statistics.csv", get(api_oversight::statistics_csv))
        .route("/cases/{id}/rating", get(api_oversight::case_rating).post(api_oversight::rate_case))
        .route("/tickets", get(api_oversight::my_tickets).post(api_oversight::submit_ticket))
        .route("/tickets/{id}", get(api_oversight::my_ticket))
        .route("/tickets/{id}/follow-up", post(api_oversight::follow_up))
        .route("/reports", post(api_oversight::anonymous_report))
        .route("/reports/track", post(api_oversight::track_report))
        .route("/visits/{id}", get(api_oversight::visit))
        .route("/visits/{id}/rating", post(api_oversight::rate_visit))
        .route("/public/ratings", get(api_oversight::public_ratings))
        .route("/public/statistics", get(api_oversight::public_statistics))
        .route("/cases/{id}/payment", get(api_payments::case_payment))
        .route("/cases/{id}/payment/checkout", post(api_payments::checkout))
        .route("/cases/{id}/shipment", get(api_payments::case_shipment))
        .route("/payments/notify/{provider}", post(api_payments::payment_notify))
        .route("/delivery/notify/{courier}", post(api_payments::courier_notify))
        .route("/payments/orders", get(api_payments::orders))
        .route("/payments/revenue", get(api_payments::revenue))
        .route("/payments/reconciliations", post(api_payments::reconcile))
        .route("/gk/documents", get(api_openness::documents).post(api_openness::create_document))
        .route("/gk/documents/{id}", get(api_openness::document))
        .route("/gk/documents/{id}/publish", post(api_openness::publish_document))
        .route("/gk/documents/{id}/withdraw", post(api_openness::withdraw_document))
        .route("/gk/documents/{id}/attachments", post(api_openness::add_attachment))
        .route("/gk/requests", get(api_openness::my_requests).post(api_openness::request_disclosure))
        .route("/gk/requests/{id}/actions", post(api_openness::request_action))
        .route("/opendata/datasets/{name}", axum::routing::put(api_openness::put_dataset))
        .route("/opendata/datasets/{name}/resources", post(api_openness::add_resource))
        .route("/opendata/datasets/{name}/rating", post(api_openness::rate_dataset))
        .route("/opendata/requests", get(api_openness::dataset_requests).post(api_openness::request_dataset))
        .fallback(ops::api_not_found);

    let staff = Router::new()
        .route("/", get(pages::staff::workbench))
        .route("/items/new", get(pages::staff::new_form).post(pages::staff::create))
        .route("/items/{code}", get(pages::staff::edit_form).post(pages::staff::update))
        .route("/items/{code}/publish", post(pages::staff::publish))
        .route("/items/{code}/status", post(pages::staff::change_status))
        .route("/import", get(pages::staff::import_form).post(pages::staff::import_upload))
        .route("/import/{id}", get(pages::staff::import_status))
        .route("/export", get(pages::staff::export))
        .route("/audit", get(pages::staff::audit_log))
        .route("/login", get(pages::staff::login_form).post(pages::staff::login))
        .route("/login/totp", get(pages::staff::totp_form).post(pages::staff::totp_submit))
        .route("/account", get(pages::staff_accounts::account))
        .route("/verify", get(pages::staff_accounts::verify_form).post(pages::staff_accounts::verify))
        .route("/clients", get(pages::staff_accounts::clients).post(pages::staff_accounts::create_client))
        .route("/clients/toggle", post(pages::staff_accounts::toggle_client))
        .route("/totp-reset", post(pages::staff_accounts::reset_totp))
        .route("/cases", get(pages::staff_cases::queue))
        .route("/cases/{id}", get(pages::staff_cases::case))
        .route("/cases/{id}/action", post(pages::staff_cases::act))
        .route("/cases/{id}/decision", get(pages::staff_cases::decision))
        .route("/cases/{id}/materials/{name}", get(pages::staff_cases::material))
        .route("/window", get(pages::staff_cases::window_form).post(pages::staff_cases::window_submit))
        .route("/licences", get(pages::licences::staff_licences))
        .route("/licences/issue", post(pages::licences::staff_issue))
        .route("/licences/revoke", post(pages::licences::staff_revoke))
        .route("/licences/rotate", post(pages::licences::staff_rotate))
        .route("/exchange", get(pages::exchange::catalog).post(pages::exchange::publish))
        .route("/exchange/resources/{code}", get(pages::exchange::resource))
        .route("/exchange/grants", get(pages::exchange::grants).post(pages::exchange::request_access))
        .route("/exchange/grants/{id}", post(pages::exchange::decide))
        .route("/exchange/members", get(pages::exchange::members).post(pages::exchange::register_member))
        .route("/exchange/members/state", post(pages::exchange::member_state))
        .route("/exchange/stats", get(pages::exchange::stats))
        .route("/oversight", get(pages::oversight::dashboard))
        .route("/oversight/alerts/{id}", get(pages::oversight::alert).post(pages::oversight::alert_action))
        .route("/oversight/followups", get(pages::oversight::followups))
        .route("/oversight/followups/{id}", post(pages::oversight::followup_action))
        .route("/oversight/visits", post(pages::oversight::open_visit))
        .route("/oversight/tickets", get(pages::oversight::tickets))
        .route("/oversight/tickets/{id}", get(pages::oversight::ticket).post(pages::oversight::ticket_action))
        .route("/oversight/stats", get(pages::oversight::stats))
        .route("/oversight/stats.csv", get(pages::oversight::stats_csv))
        .route("/payments", get(pages::payments::staff))
        .route("/payments/reconcile", post(pages::payments::staff_reconcile))
        .route("/gk", get(pages::openness::staff).post(pages::openness::staff_action))
        .route("/gk/upload", post(pages::openness::staff_upload));

    // The gateway for department systems: bearer tokens, no cookies or pages, so it skips the
    // portal's session, CSRF, tracing-span and page-header layers, which cost a tenth of a
    // gateway call; requests are still counted in the metrics.
    let gateway = Router::new()
        .route("/exchange", get(api_exchange::member_catalog))
        .route("/exchange/token", post(api_exchange::token))
        .route("/exchange/{resource}", get(api_exchange::call))
        .route("/exchange/{resource}/records", post(api_exchange::push))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));

    let docs = utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", api::ApiDoc::openapi());

    Router::new()
        .route("/", get(pages::home))
        .route("/search", get(pages::search))
        .route("/items", get(pages::search))
        .route("/items/{code}", get(pages::item))
        .route("/items/{code}/print", get(pages::item_print))
        .route("/departments", get(pages::departments))
        .route("/departments/{code}", get(pages::department))
        .route("/themes/{slug}", get(pages::theme))
        .route("/regions/{code}", get(pages::region))
        .route("/bundles/{code}", get(pages::bundle))
        .route("/lang/{lang}", get(pages::switch_lang))
        .route("/login", get(pages::account::login_form).post(pages::account::login))
        .route("/register", get(pages::account::register_form).post(pages::account::register))
        .route("/logout", post(pages::staff::logout))
        .route("/account", get(pages::account::home))
        .route("/account/verify", post(pages::account::verify))
        .route("/account/sessions/revoke", post(pages::account::revoke_session))
        .route("/account/acting", post(pages::account::set_acting))
        .route("/account/businesses", post(pages::account::add_business))
        .route("/account/businesses/{code}", get(pages::account::business))
        .route("/account/businesses/{code}/agents", post(pages::account::grant_agent))
        .route("/account/businesses/{code}/agents/{id}/revoke", post(pages::account::revoke_agent))
        .route("/account/forgot", get(pages::account::forgot_form).post(pages::account::forgot))
        .route("/account/reset", get(pages::account::reset_form).post(pages::account::reset))
        .route("/apply", get(pages::cases::apply_form).post(pages::cases::apply))
        .route("/cases", get(pages::cases::my_cases))
        .route("/cases/{id}", get(pages::cases::my_case))
        .route("/cases/{id}/ledger", get(pages::ledger::case_history))
        .route("/ledger", get(pages::ledger::log))
        .route("/cases/{id}/form", post(pages::cases::save))
        .route("/cases/{id}/materials", post(pages::cases::upload))
        .route("/cases/{id}/materials/{name}", get(pages::cases::material))
        .route("/cases/{id}/withdraw", post(pages::cases::withdraw))
        .route("/cases/{id}/decision", get(pages::cases::decision))
        .route("/inbox", get(pages::cases::inbox_page))
        .route("/inbox/read", post(pages::cases::inbox_read))
        .route("/account/data-access", get(pages::exchange::my_data_access))
        .route("/cases/{id}/rating", post(pages::oversight::rate_case))
        .route("/cases/{id}/pay", post(pages::payments::pay))
        .route("/gk", get(pages::openness::documents))
        .route("/gk/apply", get(pages::openness::apply_form).post(pages::openness::apply))
        .route("/gk/requests/{id}", get(pages::openness::my_request))
        .route("/gk/{id}", get(pages::openness::document))
        .route("/data", get(pages::openness::datasets))
        .route("/data/requests", get(pages::openness::data_requests).post(pages::openness::request_data))
        .route("/data/{name}", get(pages::openness::dataset))
        .route("/data/{name}/rate", post(pages::openness::rate))
        .route("/sandbox/pay/{order_no}", get(pages::payments::sandbox_pay_form).post(pages::payments::sandbox_pay))
        .route("/sandbox/courier/{case_id}", get(pages::payments::sandbox_courier).post(pages::payments::sandbox_advance))
        .route("/tickets", get(pages::oversight::my_tickets).post(pages::oversight::submit_ticket))
        .route("/tickets/{id}", get(pages::oversight::my_ticket))
        .route("/tickets/{id}/follow-up", post(pages::oversight::follow_up))
        .route("/report", get(pages::oversight::report_form).post(pages::oversight::report))
        .route("/report/track", post(pages::oversight::track))
        .route("/oversight", get(pages::oversight::public))
        .route("/rate/{id}", get(pages::oversight::rate_visit_form).post(pages::oversight::rate_visit))
        .route("/licences", get(pages::licences::wallet))
        .route("/licences/{identifier}", get(pages::licences::licence))
        .route("/licences/{identifier}/file", get(pages::licences::file))
        .route("/licences/{identifier}/copies", post(pages::licences::make_copy))
        .route("/verify", get(pages::licences::verify_form))
        .route("/verify/{identifier}", get(pages::licences::verify))
        .route("/licence-copies/{token}", get(pages::licences::copy).post(pages::licences::use_copy))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oidc/jwks", get(oidc::jwks))
        .route("/oidc/authorize", get(oidc::authorize).post(oidc::consent))
        .route("/oidc/token", post(oidc::token))
        .route("/oidc/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/oidc/logout", get(oidc::logout).post(oidc::logout_confirmed))
        .nest("/staff", staff)
        .nest("/api/v1", api)
        .merge(docs)
        .route("/api/3", get(api_openness::ckan_version))
        .route("/api/3/action/{action}", get(api_openness::ckan_action).post(api_openness::ckan_action))
        .route("/api/action/{action}", get(api_openness::ckan_action).post(api_openness::ckan_action))
        .route("/data/catalog.jsonld", get(api_openness::dcat_catalog))
        .route("/data/{name}/dcat.jsonld", get(api_openness::dcat_dataset))
        .route("/data/{name}/resources/{rid}/download", get(api_openness::download))
        .route("/gk/feed.atom", get(api_openness::atom))
        .route("/gk/{id}/files/{name}", get(api_openness::attachment))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{file}", get(ops::static_file))
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
