//! Every route of the platform with who may call it (the authorization matrix's rows).
//!
//! Routes are only added through [`Routes`], whose methods take an [`Access`]: a route without a
//! declared permission does not compile. [`route_table`] returns the same declarations the
//! router is built from, so the security tests enumerate the real routes, not a hand list, and
//! check each one against every role. The declaration states the intended rule; the handler and
//! the domain enforce it; the matrix test proves the two agree.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;
use yiwang_identity::Role;

use crate::{
    api, api_accounts, api_cases, api_exchange, api_ledger, api_licences, api_openness, api_oversight, api_payments, oidc, ops, pages,
    AppState,
};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: public pages and data, sign-in steps.
    Public,
    /// Department systems, payment providers and couriers, which prove themselves with a
    /// signature or a bearer token; a browser session grants nothing.
    Machine,
    /// Any signed-in account (sign-out, the second factor, who am I).
    Session,
    /// Any signed-in person (citizen or business agent); answers are the person's own.
    Person,
    /// Only the person the resource in the path belongs to.
    Owner,
    /// Only the legal representative of the business in the path.
    Representative,
    /// Staff holding one of these roles, whatever their department.
    Staff(&'static [Role]),
    /// Staff holding one of these roles; department roles (window, approver, department admin)
    /// only in the department the resource in the path belongs to, platform roles (platform
    /// admin, supervisor) everywhere.
    Department(&'static [Role]),
}

/// Every staff role.
pub const ANY_STAFF: &[Role] = &Role::ALL;

/// One route: method, full path as routed, and its access rule.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: String,
    pub access: Access,
}

/// A router under construction that records each route's access rule.
pub struct Routes {
    prefix: &'static str,
    /// The app, when building the router to serve (not just the table): access guards need it.
    state: Option<AppState>,
    router: Router<AppState>,
    table: Vec<RouteSpec>,
}

macro_rules! method_fns {
    ($($name:ident => $method:ident),*) => {$(
        pub fn $name<H, T>(self, path: &str, access: Access, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.add(Method::$method, path, access, axum::routing::$name(handler))
        }
    )*};
}

impl Routes {
    pub fn new(prefix: &'static str, state: Option<&AppState>) -> Self {
        Routes { prefix, state: state.cloned(), router: Router::new(), table: Vec::new() }
    }

    method_fns!(get => GET, post => POST, put => PUT, delete => DELETE);

    fn add(mut self, method: Method, path: &str, access: Access, route: MethodRouter<AppState>) -> Self {
        // A nested router's "/" answers at the prefix itself.
        let full = if path == "/" && !self.prefix.is_empty() { self.prefix.to_string() } else { format!("{}{path}", self.prefix) };
        self.table.push(RouteSpec { method, path: full, access });
        let route = match (&self.state, access) {
            (_, Access::Public | Access::Machine) | (None, _) => route,
            (Some(app), _) => route.route_layer(axum::middleware::from_fn_with_state((app.clone(), access), crate::auth::guard)),
        };
        // The one place routes enter the router (see the test below).
        self.router = self.router.route(path, route);
        self
    }

    /// Record routes served by a router built elsewhere (the OpenAPI viewer).
    fn external(mut self, method: Method, path: &str, access: Access) -> Self {
        self.table.push(RouteSpec { method, path: path.to_string(), access });
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteSpec>) {
        (self.router, self.table)
    }
}

/// Every route of the platform, as the router is built from it.
pub fn route_table() -> Vec<RouteSpec> {
    [portal(None), staff(None), api(None), gateway(None)].into_iter().flat_map(|r| r.into_parts().1).collect()
}

/// 事项管理: create, edit, publish and import items.
const CATALOG: &[Role] = &[Role::PlatformAdmin, Role::DeptAdmin];
/// Reading the audit trail.
const AUDIT: &[Role] = &[Role::PlatformAdmin, Role::Supervisor];
/// 窗口: in-person verification, window intake, visits.
const WINDOW: &[Role] = &[Role::Window];
/// Platform configuration: OpenID Connect clients, authenticator resets, licence types.
const PLATFORM: &[Role] = &[Role::PlatformAdmin];
/// Acting on cases: accept, approve, refuse, request corrections.
const CASE_HANDLERS: &[Role] = &[Role::Window, Role::Approver, Role::DeptAdmin];
/// The roles of a department's own staff.
const DEPARTMENT_ROLES: &[Role] = &[Role::DeptAdmin, Role::Window, Role::Approver];
/// Departments' staff and the platform admin (disclosure workbench).
const DEPARTMENTS_AND_PLATFORM: &[Role] = &[Role::PlatformAdmin, Role::DeptAdmin, Role::Window, Role::Approver];
/// 签发、注销 electronic licences.
const LICENSING: &[Role] = &[Role::Approver, Role::DeptAdmin];
/// Rotating the department's electronic seals.
const SEALS: &[Role] = &[Role::DeptAdmin];
/// 数据共享 administration.
const EXCHANGE: &[Role] = &[Role::PlatformAdmin, Role::DeptAdmin];
/// 电子监察: scores, statistics, reconciliation.
const SUPERVISION: &[Role] = &[Role::Supervisor, Role::PlatformAdmin];
/// Publishing documents and datasets.
const PUBLISHING: &[Role] = &[Role::PlatformAdmin, Role::DeptAdmin];

/// Portal pages, OpenID Connect, CKAN, downloads, health and static files.
pub fn portal(state: Option<&AppState>) -> Routes {
    Routes::new("", state)
        .get("/", Access::Public, pages::home)
        .get("/search", Access::Public, pages::search)
        .get("/items", Access::Public, pages::search)
        .get("/items/{code}", Access::Public, pages::item)
        .get("/items/{code}/print", Access::Public, pages::item_print)
        .get("/departments", Access::Public, pages::departments)
        .get("/departments/{code}", Access::Public, pages::department)
        .get("/themes/{slug}", Access::Public, pages::theme)
        .get("/regions/{code}", Access::Public, pages::region)
        .get("/bundles/{code}", Access::Public, pages::bundle)
        .get("/lang/{lang}", Access::Public, pages::switch_lang)
        .get("/login", Access::Public, pages::account::login_form)
        .post("/login", Access::Public, pages::account::login)
        .get("/register", Access::Public, pages::account::register_form)
        .post("/register", Access::Public, pages::account::register)
        .post("/logout", Access::Session, pages::staff::logout)
        .get("/account", Access::Person, pages::account::home)
        .post("/account/verify", Access::Person, pages::account::verify)
        .post("/account/sessions/revoke", Access::Person, pages::account::revoke_session)
        .post("/account/acting", Access::Person, pages::account::set_acting)
        .post("/account/businesses", Access::Person, pages::account::add_business)
        .get("/account/businesses/{code}", Access::Representative, pages::account::business)
        .post("/account/businesses/{code}/agents", Access::Representative, pages::account::grant_agent)
        .post("/account/businesses/{code}/agents/{id}/revoke", Access::Representative, pages::account::revoke_agent)
        .get("/account/forgot", Access::Public, pages::account::forgot_form)
        .post("/account/forgot", Access::Public, pages::account::forgot)
        .get("/account/reset", Access::Public, pages::account::reset_form)
        .post("/account/reset", Access::Public, pages::account::reset)
        .get("/apply", Access::Person, pages::cases::apply_form)
        .post("/apply", Access::Person, pages::cases::apply)
        .get("/cases", Access::Person, pages::cases::my_cases)
        .get("/cases/{id}", Access::Owner, pages::cases::my_case)
        .get("/cases/{id}/ledger", Access::Owner, pages::ledger::case_history)
        .get("/ledger", Access::Public, pages::ledger::log)
        .post("/cases/{id}/form", Access::Owner, pages::cases::save)
        .post("/cases/{id}/materials", Access::Owner, pages::cases::upload)
        .get("/cases/{id}/materials/{name}", Access::Owner, pages::cases::material)
        .post("/cases/{id}/withdraw", Access::Owner, pages::cases::withdraw)
        .get("/cases/{id}/decision", Access::Owner, pages::cases::decision)
        .get("/inbox", Access::Person, pages::cases::inbox_page)
        .post("/inbox/read", Access::Person, pages::cases::inbox_read)
        .get("/account/data-access", Access::Person, pages::exchange::my_data_access)
        .post("/cases/{id}/rating", Access::Owner, pages::oversight::rate_case)
        .post("/cases/{id}/pay", Access::Owner, pages::payments::pay)
        .get("/gk", Access::Public, pages::openness::documents)
        .get("/gk/apply", Access::Person, pages::openness::apply_form)
        .post("/gk/apply", Access::Person, pages::openness::apply)
        .get("/gk/requests/{id}", Access::Owner, pages::openness::my_request)
        .get("/gk/{id}", Access::Public, pages::openness::document)
        .get("/data", Access::Public, pages::openness::datasets)
        .get("/data/requests", Access::Public, pages::openness::data_requests)
        .post("/data/requests", Access::Person, pages::openness::request_data)
        .get("/data/{name}", Access::Public, pages::openness::dataset)
        .post("/data/{name}/rate", Access::Person, pages::openness::rate)
        .get("/sandbox/pay/{order_no}", Access::Public, pages::payments::sandbox_pay_form)
        .post("/sandbox/pay/{order_no}", Access::Public, pages::payments::sandbox_pay)
        .get("/sandbox/courier/{case_id}", Access::Public, pages::payments::sandbox_courier)
        .post("/sandbox/courier/{case_id}", Access::Public, pages::payments::sandbox_advance)
        .get("/tickets", Access::Person, pages::oversight::my_tickets)
        .post("/tickets", Access::Person, pages::oversight::submit_ticket)
        .get("/tickets/{id}", Access::Owner, pages::oversight::my_ticket)
        .post("/tickets/{id}/follow-up", Access::Owner, pages::oversight::follow_up)
        .get("/report", Access::Public, pages::oversight::report_form)
        .post("/report", Access::Public, pages::oversight::report)
        .post("/report/track", Access::Public, pages::oversight::track)
        .get("/oversight", Access::Public, pages::oversight::public)
        .get("/rate/{id}", Access::Public, pages::oversight::rate_visit_form)
        .post("/rate/{id}", Access::Public, pages::oversight::rate_visit)
        .get("/licences", Access::Person, pages::licences::wallet)
        .get("/licences/{identifier}", Access::Owner, pages::licences::licence)
        .get("/licences/{identifier}/file", Access::Owner, pages::licences::file)
        .post("/licences/{identifier}/copies", Access::Owner, pages::licences::make_copy)
        .get("/verify", Access::Public, pages::licences::verify_form)
        .get("/verify/{identifier}", Access::Public, pages::licences::verify)
        .get("/licence-copies/{token}", Access::Public, pages::licences::copy)
        .post("/licence-copies/{token}", Access::Public, pages::licences::use_copy)
        .get("/.well-known/openid-configuration", Access::Public, oidc::discovery)
        .get("/oidc/jwks", Access::Public, oidc::jwks)
        .get("/oidc/authorize", Access::Public, oidc::authorize)
        .post("/oidc/authorize", Access::Session, oidc::consent)
        .post("/oidc/token", Access::Machine, oidc::token)
        .get("/oidc/userinfo", Access::Machine, oidc::userinfo)
        .post("/oidc/userinfo", Access::Machine, oidc::userinfo)
        .get("/oidc/logout", Access::Public, oidc::logout)
        .post("/oidc/logout", Access::Session, oidc::logout_confirmed)
        .get("/api/3", Access::Public, api_openness::ckan_version)
        .get("/api/3/action/{action}", Access::Public, api_openness::ckan_action)
        .post("/api/3/action/{action}", Access::Public, api_openness::ckan_action)
        .get("/api/action/{action}", Access::Public, api_openness::ckan_action)
        .post("/api/action/{action}", Access::Public, api_openness::ckan_action)
        .get("/data/catalog.jsonld", Access::Public, api_openness::dcat_catalog)
        .get("/data/{name}/dcat.jsonld", Access::Public, api_openness::dcat_dataset)
        .get("/data/{name}/resources/{rid}/download", Access::Public, api_openness::download)
        .get("/gk/feed.atom", Access::Public, api_openness::atom)
        .get("/gk/{id}/files/{name}", Access::Public, api_openness::attachment)
        .get("/healthz", Access::Public, ops::healthz)
        .get("/metrics", Access::Public, ops::metrics)
        .get("/static/{file}", Access::Public, ops::static_file)
        .external(Method::GET, "/api/docs/", Access::Public)
        .external(Method::GET, "/api/openapi.json", Access::Public)
}

/// The staff workbench pages (nested under `/staff`).
pub fn staff(state: Option<&AppState>) -> Routes {
    Routes::new("/staff", state)
        .get("/", Access::Staff(ANY_STAFF), pages::staff::workbench)
        .get("/items/new", Access::Staff(CATALOG), pages::staff::new_form)
        .post("/items/new", Access::Staff(CATALOG), pages::staff::create)
        .get("/items/{code}", Access::Department(CATALOG), pages::staff::edit_form)
        .post("/items/{code}", Access::Department(CATALOG), pages::staff::update)
        .post("/items/{code}/publish", Access::Department(CATALOG), pages::staff::publish)
        .post("/items/{code}/status", Access::Department(CATALOG), pages::staff::change_status)
        .get("/import", Access::Staff(CATALOG), pages::staff::import_form)
        .post("/import", Access::Staff(CATALOG), pages::staff::import_upload)
        .get("/import/{id}", Access::Staff(CATALOG), pages::staff::import_status)
        .get("/export", Access::Staff(CATALOG), pages::staff::export)
        .get("/audit", Access::Staff(AUDIT), pages::staff::audit_log)
        .get("/login", Access::Public, pages::staff::login_form)
        .post("/login", Access::Public, pages::staff::login)
        .get("/login/totp", Access::Session, pages::staff::totp_form)
        .post("/login/totp", Access::Session, pages::staff::totp_submit)
        .get("/account", Access::Staff(ANY_STAFF), pages::staff_accounts::account)
        .get("/verify", Access::Staff(WINDOW), pages::staff_accounts::verify_form)
        .post("/verify", Access::Staff(WINDOW), pages::staff_accounts::verify)
        .get("/clients", Access::Staff(PLATFORM), pages::staff_accounts::clients)
        .post("/clients", Access::Staff(PLATFORM), pages::staff_accounts::create_client)
        .post("/clients/toggle", Access::Staff(PLATFORM), pages::staff_accounts::toggle_client)
        .post("/totp-reset", Access::Staff(PLATFORM), pages::staff_accounts::reset_totp)
        .get("/cases", Access::Staff(ANY_STAFF), pages::staff_cases::queue)
        .get("/cases/{id}", Access::Department(ANY_STAFF), pages::staff_cases::case)
        .post("/cases/{id}/action", Access::Department(CASE_HANDLERS), pages::staff_cases::act)
        .get("/cases/{id}/decision", Access::Department(ANY_STAFF), pages::staff_cases::decision)
        .get("/cases/{id}/materials/{name}", Access::Department(ANY_STAFF), pages::staff_cases::material)
        .get("/window", Access::Staff(WINDOW), pages::staff_cases::window_form)
        .post("/window", Access::Staff(WINDOW), pages::staff_cases::window_submit)
        .get("/licences", Access::Staff(DEPARTMENT_ROLES), pages::licences::staff_licences)
        .post("/licences/issue", Access::Staff(LICENSING), pages::licences::staff_issue)
        .post("/licences/revoke", Access::Staff(LICENSING), pages::licences::staff_revoke)
        .post("/licences/rotate", Access::Staff(SEALS), pages::licences::staff_rotate)
        .get("/exchange", Access::Staff(ANY_STAFF), pages::exchange::catalog)
        .post("/exchange", Access::Staff(EXCHANGE), pages::exchange::publish)
        .get("/exchange/resources/{code}", Access::Staff(ANY_STAFF), pages::exchange::resource)
        .get("/exchange/grants", Access::Staff(ANY_STAFF), pages::exchange::grants)
        .post("/exchange/grants", Access::Staff(EXCHANGE), pages::exchange::request_access)
        .post("/exchange/grants/{id}", Access::Department(EXCHANGE), pages::exchange::decide)
        .get("/exchange/members", Access::Staff(ANY_STAFF), pages::exchange::members)
        .post("/exchange/members", Access::Staff(EXCHANGE), pages::exchange::register_member)
        .post("/exchange/members/state", Access::Staff(EXCHANGE), pages::exchange::member_state)
        .get("/exchange/stats", Access::Staff(ANY_STAFF), pages::exchange::stats)
        .get("/oversight", Access::Staff(ANY_STAFF), pages::oversight::dashboard)
        .get("/oversight/alerts/{id}", Access::Department(ANY_STAFF), pages::oversight::alert)
        .post("/oversight/alerts/{id}", Access::Department(ANY_STAFF), pages::oversight::alert_action)
        .get("/oversight/followups", Access::Staff(ANY_STAFF), pages::oversight::followups)
        .post("/oversight/followups/{id}", Access::Department(ANY_STAFF), pages::oversight::followup_action)
        .post("/oversight/visits", Access::Staff(WINDOW), pages::oversight::open_visit)
        .get("/oversight/tickets", Access::Staff(ANY_STAFF), pages::oversight::tickets)
        .get("/oversight/tickets/{id}", Access::Department(ANY_STAFF), pages::oversight::ticket)
        .post("/oversight/tickets/{id}", Access::Department(ANY_STAFF), pages::oversight::ticket_action)
        .get("/oversight/stats", Access::Staff(SUPERVISION), pages::oversight::stats)
        .get("/oversight/stats.csv", Access::Staff(SUPERVISION), pages::oversight::stats_csv)
        .get("/payments", Access::Staff(ANY_STAFF), pages::payments::staff)
        .post("/payments/reconcile", Access::Staff(SUPERVISION), pages::payments::staff_reconcile)
        .get("/gk", Access::Staff(DEPARTMENTS_AND_PLATFORM), pages::openness::staff)
        .post("/gk", Access::Staff(DEPARTMENTS_AND_PLATFORM), pages::openness::staff_action)
        .post("/gk/upload", Access::Staff(DEPARTMENTS_AND_PLATFORM), pages::openness::staff_upload)
}

/// The JSON API (nested under `/api/v1`).
pub fn api(state: Option<&AppState>) -> Routes {
    Routes::new("/api/v1", state)
        .get("/items", Access::Public, api::list_items)
        .post("/items", Access::Staff(CATALOG), api::create_item)
        .get("/items/{code}", Access::Public, api::get_item)
        .put("/items/{code}", Access::Department(CATALOG), api::update_item)
        .get("/items/{code}/latest", Access::Department(CATALOG), api::get_item_latest)
        .post("/items/{code}/publish", Access::Department(CATALOG), api::publish_item)
        .post("/items/{code}/status", Access::Department(CATALOG), api::item_status)
        .get("/items/{code}/history", Access::Department(CATALOG), api::item_history)
        .get("/items/{code}/workflow", Access::Staff(ANY_STAFF), api_cases::get_workflow)
        .put("/items/{code}/workflow", Access::Department(CATALOG), api_cases::put_workflow)
        .get("/departments", Access::Public, api::departments)
        .get("/departments/{code}", Access::Public, api::department)
        .get("/regions", Access::Public, api::regions)
        .get("/themes", Access::Public, api::themes)
        .get("/bundles", Access::Public, api::bundles)
        .get("/bundles/{code}", Access::Public, api::bundle)
        .post("/catalog/import", Access::Staff(CATALOG), api::import)
        .get("/catalog/export", Access::Staff(CATALOG), api::export)
        .post("/auth/login", Access::Public, api::login)
        .post("/auth/totp", Access::Session, api::totp)
        .post("/auth/logout", Access::Session, api::logout)
        .get("/auth/me", Access::Session, api::whoami)
        .post("/persons", Access::Public, api_accounts::register)
        .post("/persons/login", Access::Public, api_accounts::person_login)
        .get("/persons/me", Access::Person, api_accounts::profile)
        .post("/persons/me/verify", Access::Person, api_accounts::verify)
        .get("/persons/me/sessions", Access::Person, api_accounts::sessions)
        .delete("/persons/me/sessions/{handle}", Access::Person, api_accounts::revoke_session)
        .get("/persons/me/logins", Access::Person, api_accounts::logins)
        .post("/persons/me/acting-for", Access::Person, api_accounts::acting_for)
        .post("/persons/password-reset", Access::Public, api_accounts::reset_request)
        .post("/persons/password-reset/confirm", Access::Public, api_accounts::reset_confirm)
        .post("/businesses", Access::Person, api_accounts::register_business)
        .get("/businesses/{code}/agents", Access::Representative, api_accounts::agents)
        .post("/businesses/{code}/agents", Access::Representative, api_accounts::grant_agent)
        .delete("/businesses/{code}/agents/{id}", Access::Representative, api_accounts::revoke_agent)
        .post("/staff/verifications", Access::Staff(WINDOW), api_accounts::verify_in_person)
        .post("/staff/accounts/{username}/totp-reset", Access::Staff(PLATFORM), api_accounts::reset_staff_totp)
        .get("/oidc/clients", Access::Staff(PLATFORM), api_accounts::clients)
        .post("/oidc/clients", Access::Staff(PLATFORM), api_accounts::create_client)
        .get("/applications/form", Access::Person, api_cases::application_form)
        .post("/applications", Access::Person, api_cases::create_application)
        .get("/cases", Access::Person, api_cases::my_cases)
        .get("/cases/{id}", Access::Owner, api_cases::my_case)
        .put("/cases/{id}/form", Access::Owner, api_cases::save_form)
        .post("/cases/{id}/materials", Access::Owner, api_cases::upload_material)
        .get("/cases/{id}/materials/{name}", Access::Owner, api_cases::download_material)
        .post("/cases/{id}/submit", Access::Owner, api_cases::submit)
        .post("/cases/{id}/resubmit", Access::Owner, api_cases::resubmit)
        .post("/cases/{id}/withdraw", Access::Owner, api_cases::withdraw)
        .get("/inbox", Access::Person, api_cases::my_inbox)
        .post("/inbox/read", Access::Person, api_cases::read_inbox)
        .get("/staff/cases", Access::Staff(ANY_STAFF), api_cases::queue)
        .get("/staff/cases/{id}", Access::Department(ANY_STAFF), api_cases::staff_case)
        .post("/staff/cases/{id}/actions", Access::Department(CASE_HANDLERS), api_cases::act)
        .get("/staff/cases/{id}/materials/{name}", Access::Department(ANY_STAFF), api_cases::staff_material)
        .post("/staff/window-applications", Access::Staff(WINDOW), api_cases::window_apply)
        .get("/licences/types", Access::Public, api_licences::types)
        .put("/licences/types/{code}", Access::Staff(PLATFORM), api_licences::put_type)
        .get("/licences/keys", Access::Public, api_licences::keys)
        .post("/licences/verify", Access::Public, api_licences::verify_uploaded)
        .get("/licences/{identifier}/verify", Access::Public, api_licences::verify)
        .get("/me/licences", Access::Person, api_licences::wallet)
        .get("/me/licences/{identifier}", Access::Owner, api_licences::held)
        .get("/me/licences/{identifier}/file", Access::Owner, api_licences::file)
        .post("/me/licences/{identifier}/copies", Access::Owner, api_licences::make_copy)
        .get("/licence-copies/{token}", Access::Public, api_licences::copy)
        .post("/licence-copies/{token}/use", Access::Public, api_licences::use_copy)
        .get("/staff/licences", Access::Staff(DEPARTMENT_ROLES), api_licences::issued)
        .post("/staff/licences", Access::Staff(LICENSING), api_licences::issue)
        .post("/staff/licences/{identifier}/revoke", Access::Department(LICENSING), api_licences::revoke)
        .post("/staff/licences/{identifier}/reissue", Access::Department(LICENSING), api_licences::reissue)
        .get("/staff/seals", Access::Staff(DEPARTMENT_ROLES), api_licences::seals)
        .post("/staff/seals/rotate", Access::Staff(SEALS), api_licences::rotate)
        .get("/ledger", Access::Public, api_ledger::info)
        .get("/ledger/heads", Access::Public, api_ledger::heads)
        .post("/ledger/heads", Access::Public, api_ledger::publish)
        .get("/ledger/leaves", Access::Public, api_ledger::leaves)
        .get("/ledger/proofs/inclusion", Access::Public, api_ledger::inclusion)
        .get("/ledger/proofs/consistency", Access::Public, api_ledger::consistency)
        .get("/cases/{id}/ledger", Access::Owner, api_ledger::my_case_bundle)
        .get("/exchange/resources", Access::Staff(ANY_STAFF), api_exchange::resources)
        .get("/exchange/resources/{code}", Access::Staff(ANY_STAFF), api_exchange::resource)
        .put("/exchange/resources/{code}", Access::Department(EXCHANGE), api_exchange::put_resource)
        .get("/exchange/members", Access::Staff(ANY_STAFF), api_exchange::members)
        .post("/exchange/members", Access::Staff(EXCHANGE), api_exchange::register_member)
        .post("/exchange/members/{id}/state", Access::Department(EXCHANGE), api_exchange::member_state)
        .get("/exchange/grants", Access::Staff(ANY_STAFF), api_exchange::grants)
        .post("/exchange/grants", Access::Staff(EXCHANGE), api_exchange::request_access)
        .post("/exchange/grants/{id}/decision", Access::Department(EXCHANGE), api_exchange::decide)
        .get("/exchange/stats", Access::Staff(ANY_STAFF), api_exchange::stats)
        .get("/exchange/logs", Access::Staff(ANY_STAFF), api_exchange::logs)
        .get("/exchange/logs/{id}", Access::Department(ANY_STAFF), api_exchange::log_entry)
        .get("/exchange/keys", Access::Public, api_exchange::keys)
        .get("/me/data-access", Access::Person, api_exchange::my_data_access)
        .get("/oversight/alerts", Access::Staff(ANY_STAFF), api_oversight::alerts)
        .get("/oversight/alerts/{id}", Access::Department(ANY_STAFF), api_oversight::alert)
        .post("/oversight/alerts/{id}/actions", Access::Department(ANY_STAFF), api_oversight::alert_action)
        .get("/oversight/scores", Access::Staff(SUPERVISION), api_oversight::scores)
        .get("/oversight/followups", Access::Staff(ANY_STAFF), api_oversight::followups)
        .post("/oversight/followups/{id}/actions", Access::Department(ANY_STAFF), api_oversight::followup_action)
        .post("/oversight/visits", Access::Staff(WINDOW), api_oversight::open_visit)
        .get("/oversight/tickets", Access::Staff(ANY_STAFF), api_oversight::staff_tickets)
        .get("/oversight/tickets/{id}", Access::Department(ANY_STAFF), api_oversight::staff_ticket)
        .post("/oversight/tickets/{id}/actions", Access::Department(ANY_STAFF), api_oversight::ticket_action)
        .get("/oversight/statistics", Access::Staff(SUPERVISION), api_oversight::statistics)
        .get("/oversight/statistics.csv", Access::Staff(SUPERVISION), api_oversight::statistics_csv)
        .get("/cases/{id}/rating", Access::Owner, api_oversight::case_rating)
        .post("/cases/{id}/rating", Access::Owner, api_oversight::rate_case)
        .get("/tickets", Access::Person, api_oversight::my_tickets)
        .post("/tickets", Access::Person, api_oversight::submit_ticket)
        .get("/tickets/{id}", Access::Owner, api_oversight::my_ticket)
        .post("/tickets/{id}/follow-up", Access::Owner, api_oversight::follow_up)
        .post("/reports", Access::Public, api_oversight::anonymous_report)
        .post("/reports/track", Access::Public, api_oversight::track_report)
        .get("/visits/{id}", Access::Public, api_oversight::visit)
        .post("/visits/{id}/rating", Access::Public, api_oversight::rate_visit)
        .get("/public/ratings", Access::Public, api_oversight::public_ratings)
        .get("/public/statistics", Access::Public, api_oversight::public_statistics)
        .get("/cases/{id}/payment", Access::Owner, api_payments::case_payment)
        .post("/cases/{id}/payment/checkout", Access::Owner, api_payments::checkout)
        .get("/cases/{id}/shipment", Access::Owner, api_payments::case_shipment)
        .post("/payments/notify/{provider}", Access::Machine, api_payments::payment_notify)
        .post("/delivery/notify/{courier}", Access::Machine, api_payments::courier_notify)
        .get("/payments/orders", Access::Staff(ANY_STAFF), api_payments::orders)
        .get("/payments/revenue", Access::Staff(ANY_STAFF), api_payments::revenue)
        .post("/payments/reconciliations", Access::Staff(SUPERVISION), api_payments::reconcile)
        .get("/gk/documents", Access::Public, api_openness::documents)
        .post("/gk/documents", Access::Staff(PUBLISHING), api_openness::create_document)
        .get("/gk/documents/{id}", Access::Public, api_openness::document)
        .post("/gk/documents/{id}/publish", Access::Department(PUBLISHING), api_openness::publish_document)
        .post("/gk/documents/{id}/withdraw", Access::Department(PUBLISHING), api_openness::withdraw_document)
        .post("/gk/documents/{id}/attachments", Access::Department(PUBLISHING), api_openness::add_attachment)
        .get("/gk/requests", Access::Person, api_openness::my_requests)
        .post("/gk/requests", Access::Person, api_openness::request_disclosure)
        .post("/gk/requests/{id}/actions", Access::Department(DEPARTMENT_ROLES), api_openness::request_action)
        .put("/opendata/datasets/{name}", Access::Department(PUBLISHING), api_openness::put_dataset)
        .post("/opendata/datasets/{name}/resources", Access::Department(PUBLISHING), api_openness::add_resource)
        .post("/opendata/datasets/{name}/rating", Access::Person, api_openness::rate_dataset)
        .get("/opendata/requests", Access::Public, api_openness::dataset_requests)
        .post("/opendata/requests", Access::Person, api_openness::request_dataset)
}

/// The gateway for department systems (bearer tokens, no sessions).
pub fn gateway(state: Option<&AppState>) -> Routes {
    Routes::new("/api/v1", state)
        .get("/exchange", Access::Machine, api_exchange::member_catalog)
        .post("/exchange/token", Access::Machine, api_exchange::token)
        .get("/exchange/{resource}", Access::Machine, api_exchange::call)
        .post("/exchange/{resource}/records", Access::Machine, api_exchange::push)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes enter the router only through [`Routes`]: no other `.route(` call in the crate.
    #[test]
    fn routes_are_only_added_with_an_access_rule() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(dir)];
        let mut raw = Vec::new();
        while let Some(p) = stack.pop() {
            for entry in std::fs::read_dir(&p).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let text = text.split("#[cfg(test)]").next().unwrap_or("");
                    let n =
                        text.matches(".route(").count() + text.matches(".route_service(").count() + text.matches(".nest_service(").count();
                    let allowed = if path.ends_with("routes.rs") { 1 } else { 0 };
                    if n != allowed {
                        raw.push(format!("{} ({n})", path.display()));
                    }
                }
            }
        }
        assert!(raw.is_empty(), "routes added without an access rule in: {raw:?}");
    }

    #[test]
    fn every_route_is_declared_once() {
        let table = route_table();
        assert!(table.len() > 250, "{}", table.len());
        let mut seen = std::collections::HashSet::new();
        for r in &table {
            assert!(seen.insert((r.method.clone(), r.path.clone())), "declared twice: {} {}", r.method, r.path);
        }
    }
}
