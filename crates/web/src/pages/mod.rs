//! Server-rendered pages: the public portal (this module) and the staff workbench (`staff`).
//! Handlers parse, call the catalog, and render; views hold only display decisions.

pub mod account;
pub mod cases;
pub mod exchange;
pub mod ledger;
pub mod licences;
pub mod openness;
pub mod oversight;
pub mod payments;
pub mod staff;
pub mod staff_accounts;
pub mod staff_cases;

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use yiwang_catalog::model::*;
use yiwang_catalog::search::SearchHit;

use crate::auth::MaybeSession;
use crate::error::{catalog_error, AppError, ErrorMarker};
use crate::i18n::{Lang, Texts};
use crate::AppState;

/// Percent-encode for links (slashes kept).
pub fn urlencode(s: &str) -> String {
    yiwang_core::url::percent_encode(s, b"/")
}

/// What every page's layout needs: texts, language, where we are, who is signed in.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub en: bool,
    /// Current path and query, for the language switch to come back to.
    pub path: String,
    /// Who is signed in (fully), and where their home page is.
    pub user_name: Option<String>,
    pub user_home: &'static str,
    pub csrf: String,
}

impl FromRequestParts<AppState> for Chrome {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_parts(parts);
        let MaybeSession(session) = MaybeSession::from_request_parts(parts, state).await?;
        let (user_name, user_home) = match session.as_ref() {
            Some(s) if s.staff().is_some() => (s.staff().map(|x| x.display_name.clone()), "/staff"),
            Some(s) if s.person().is_some() => (s.person().map(|p| yiwang_core::mask::mask_name(&p.name)), "/account"),
            _ => (None, "/login"),
        };
        Ok(Chrome {
            t: lang.texts(),
            lang: lang.html_lang(),
            en: lang.english(),
            path: crate::auth::original_uri(parts).path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()),
            user_name,
            user_home,
            csrf: session.map(|s| s.csrf_token).unwrap_or_default(),
        })
    }
}

impl Chrome {
    /// Inline text in the page's language (for strings used on one page only).
    pub fn tr<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.en {
            en
        } else {
            zh
        }
    }
}

/// A page failure, rendered as an HTML error page with the right status.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    code: String,
    message: String,
    details: Vec<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.0.status.as_u16(),
            code: self.0.body.code.clone(),
            message: self.0.body.message.clone(),
            details: self.0.body.details.iter().map(|d| d.as_str().map(str::to_string).unwrap_or_else(|| d.to_string())).collect(),
        };
        let html = page.render().unwrap_or_else(|_| "<h1>Error</h1>".into());
        let mut res = (self.0.status, Html(html)).into_response();
        res.extensions_mut().insert(ErrorMarker);
        res
    }
}

pub type PageResult = Result<Response, PageError>;

/// The first value of a field in a form read as raw pairs (forms with repeated fields, such as
/// check boxes, which serde_urlencoded cannot collect into a struct), or "".
pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// Every value of a repeated form field.
pub fn fields(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
}

/// A QR code as inline SVG (TOTP enrolment, licence verification links).
pub fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build(),
        Err(_) => String::new(),
    }
}

pub fn render(t: impl Template) -> PageResult {
    let html = t.render().map_err(AppError::internal)?;
    Ok(Html(html).into_response())
}

/// Render a page that may show a client error: when `failed`, the answer carries `status`
/// (409 for a state conflict, 422 for invalid input) so scripts and tests see the refusal.
pub fn render_refused(t: impl Template, failed: bool, status: axum::http::StatusCode) -> PageResult {
    let mut res = render(t)?;
    if failed {
        *res.status_mut() = status;
    }
    Ok(res)
}

fn cat_err(e: yiwang_catalog::CatalogError) -> PageError {
    PageError(catalog_error(e))
}

// ---------- view models ----------

/// One item in a list, ready to display.
pub struct Card {
    pub code: String,
    pub name_html: String,
    pub snippet_html: String,
    pub department: String,
    pub type_label: &'static str,
    pub time_label: String,
    pub visits_label: String,
    pub depth: u8,
    pub suspended: bool,
}

pub use yiwang_catalog::search::escape;

fn time_label(t: &Texts, promised: u32) -> String {
    if promised == 0 {
        t.on_the_spot.to_string()
    } else {
        format!("{promised} {}", t.working_days)
    }
}

fn visits_label(t: &Texts, visits: u32) -> String {
    match visits {
        0 => t.zero_visit.to_string(),
        1 => t.at_most_once.to_string(),
        n => format!("{} {n}", t.visits),
    }
}

impl Card {
    fn from_hit(h: &SearchHit, c: &Chrome) -> Card {
        let name_html = match (&h.name_en, c.en) {
            (Some(en), true) => format!("{} <span class=\"sub\" lang=\"zh-CN\">{}</span>", escape(en), h.name_html),
            _ => h.name_html.clone(),
        };
        Card {
            code: h.impl_code.clone(),
            name_html,
            snippet_html: h.snippet_html.clone(),
            department: h.department_name.clone(),
            type_label: h.item_type.label(c.en),
            time_label: time_label(c.t, h.promised_days),
            visits_label: visits_label(c.t, h.visits),
            depth: h.online_depth,
            suspended: h.status == ItemStatus::Suspended,
        }
    }
    fn from_summary(s: &ItemSummary, c: &Chrome) -> Card {
        Card {
            code: s.impl_code.clone(),
            name_html: escape(&s.name),
            snippet_html: String::new(),
            department: s.department_name.clone(),
            type_label: s.item_type.label(c.en),
            time_label: time_label(c.t, s.promised_days),
            visits_label: visits_label(c.t, s.visits),
            depth: s.online_depth,
            suspended: s.status == ItemStatus::Suspended,
        }
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<'a>(items: impl Iterator<Item = (String, String)> + 'a, current: Option<&'a str>) -> Vec<Choice> {
    items.map(|(value, label)| Choice { selected: current == Some(value.as_str()), value, label }).collect()
}

// ---------- handlers ----------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    person_themes: Vec<Theme>,
    business_themes: Vec<Theme>,
    bundles: Vec<Bundle>,
    hot: Vec<Card>,
}

pub async fn home(State(app): State<AppState>, c: Chrome) -> PageResult {
    let themes = app.catalog.themes().await.map_err(cat_err)?;
    let (person_themes, business_themes) = themes.into_iter().partition(|t| t.audience == Audience::Person);
    let hot = app.catalog.hot_items(8).await.map_err(cat_err)?;
    let hot = hot.iter().map(|s| Card::from_summary(s, &c)).collect();
    let bundles = app.catalog.bundles().await.map_err(cat_err)?;
    render(HomePage { c, person_themes, business_themes, bundles, hot })
}

/// Query string of the search and browse pages (also the API's).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Words to search for; empty lists items by popularity.
    #[serde(default)]
    pub q: String,
    pub department: Option<String>,
    pub region: Option<String>,
    /// Item type key, e.g. `licensing`.
    #[serde(rename = "type")]
    pub item_type: Option<String>,
    /// `person` or `business`.
    pub audience: Option<String>,
    pub theme: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl ListQuery {
    /// The filter, with unknown type/audience keys reported instead of ignored.
    pub fn filter(&self) -> Result<ItemFilter, AppError> {
        let nonempty = |o: &Option<String>| o.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let item_type = match nonempty(&self.item_type) {
            Some(t) => Some(ItemType::parse(&t).ok_or_else(|| AppError::bad_request("BAD_FILTER", format!("未知的事项类型：{t}")))?),
            None => None,
        };
        let audience = match nonempty(&self.audience) {
            Some(a) => Some(Audience::parse(&a).ok_or_else(|| AppError::bad_request("BAD_FILTER", format!("未知的服务对象：{a}")))?),
            None => None,
        };
        Ok(ItemFilter {
            department: nonempty(&self.department),
            region: nonempty(&self.region),
            item_type,
            audience,
            theme: nonempty(&self.theme),
        })
    }
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).clamp(1, 10_000)
    }
    pub fn per_page(&self) -> u32 {
        self.per_page.unwrap_or(20).clamp(1, 100)
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    heading: String,
    intro: String,
    q: String,
    total: u64,
    terms: Vec<String>,
    cards: Vec<Card>,
    audiences: Vec<Choice>,
    types: Vec<Choice>,
    regions: Vec<Choice>,
    departments: Vec<Choice>,
    themes: Vec<Choice>,
    page: u32,
    prev_link: Option<String>,
    next_link: Option<String>,
}

/// Search results, or browsing with filters when there is no query.
pub async fn search(State(app): State<AppState>, c: Chrome, Query(q): Query<ListQuery>) -> PageResult {
    list_page(&app, c, q, None, String::new()).await
}

async fn list_page(app: &AppState, c: Chrome, q: ListQuery, heading: Option<String>, intro: String) -> PageResult {
    let filter = q.filter()?;
    let (page, per_page) = (q.page(), q.per_page());
    let (total, terms, cards) = if q.q.trim().is_empty() {
        let p = app.catalog.list_public(&filter, page, per_page).await.map_err(cat_err)?;
        (p.total, vec![], p.items.iter().map(|s| Card::from_summary(s, &c)).collect::<Vec<_>>())
    } else {
        let r = app.catalog.search(&q.q, &filter, page, per_page).map_err(cat_err)?;
        (r.total as u64, r.terms, r.hits.iter().map(|h| Card::from_hit(h, &c)).collect())
    };
    let en = c.en;
    let audiences = choices(
        [Audience::Person, Audience::Business].iter().map(|a| (a.key().to_string(), a.label(en).to_string())),
        q.audience.as_deref(),
    );
    let types = choices(ItemType::ALL.iter().map(|t| (t.key().to_string(), t.label(en).to_string())), q.item_type.as_deref());
    let regions = app.catalog.regions().await.map_err(cat_err)?;
    let regions = choices(
        regions.into_iter().filter(|r| r.level != RegionLevel::Township).map(|r| {
            let name = if en { r.name_en.clone().unwrap_or(r.name.clone()) } else { r.name.clone() };
            (r.code, name)
        }),
        q.region.as_deref(),
    );
    let depts = app.catalog.departments().await.map_err(cat_err)?;
    let departments =
        choices(depts.into_iter().map(|d| (d.credit_code, if en { d.name_en.unwrap_or(d.name) } else { d.name })), q.department.as_deref());
    let themes = app.catalog.themes().await.map_err(cat_err)?;
    let themes = choices(themes.into_iter().map(|t| (t.slug, if en { t.name_en } else { t.name })), q.theme.as_deref());
    let link = |p: u32| {
        let mut s = format!("/search?q={}&page={p}", urlencode(&q.q));
        for (k, v) in
            [("department", &q.department), ("region", &q.region), ("type", &q.item_type), ("audience", &q.audience), ("theme", &q.theme)]
        {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                s.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        s
    };
    let prev_link = (page > 1).then(|| link(page - 1));
    let next_link = (u64::from(page) * u64::from(per_page) < total).then(|| link(page + 1));
    let heading = heading.unwrap_or_else(|| if q.q.trim().is_empty() { c.t.nav_items.to_string() } else { c.t.results_for.to_string() });
    render(SearchPage {
        c,
        heading,
        intro,
        q: q.q.clone(),
        total,
        terms,
        cards,
        audiences,
        types,
        regions,
        departments,
        themes,
        page,
        prev_link,
        next_link,
    })
}

pub struct MaterialView {
    pub name: String,
    pub form: &'static str,
    pub count: u32,
    pub format: String,
    pub required: bool,
    pub replaceable: bool,
}

pub struct FeeView {
    pub name: String,
    pub amount: String,
    pub basis: String,
    /// 减免情形.
    pub waivers: Vec<String>,
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    c: Chrome,
    item: Item,
    name_en: Option<String>,
    type_label: &'static str,
    level_label: &'static str,
    audience_label: &'static str,
    case_kind_label: &'static str,
    result_label: &'static str,
    time_label: String,
    statutory_label: String,
    visits_label: String,
    materials: Vec<MaterialView>,
    fees: Vec<FeeView>,
    suspended: bool,
    bundles: Vec<Bundle>,
}

async fn item_page(app: &AppState, c: Chrome, code: &str) -> Result<ItemPage, PageError> {
    let item = app.catalog.item_public(code).await.map_err(cat_err)?;
    let en = c.en;
    let d = &item.doc;
    let materials = d
        .materials
        .iter()
        .map(|m| MaterialView {
            name: m.name.clone(),
            form: m.form.label(en),
            count: m.count,
            format: m.format.clone(),
            required: m.required,
            replaceable: m.licence_type.is_some(),
        })
        .collect();
    let fees = d
        .fees
        .iter()
        .map(|f| FeeView {
            name: f.name.clone(),
            amount: format!("¥{}", yiwang_catalog::transfer::format_yuan(f.amount_fen)),
            basis: f.basis.clone(),
            waivers: f.waivers.clone(),
        })
        .collect();
    let level_label =
        yiwang_core::codes::ExerciseLevel::from_digit((b'0' + item.exercise_level) as char).map(|l| l.label_zh()).unwrap_or("");
    let bundles = app.catalog.bundles().await.map_err(cat_err)?.into_iter().filter(|b| b.items.contains(&item.impl_code)).collect();
    Ok(ItemPage {
        name_en: d.name_en.clone(),
        type_label: d.item_type.label(en),
        level_label,
        audience_label: d.audience.label(en),
        case_kind_label: d.case_kind.label(en),
        result_label: d.result_type.label(en),
        time_label: time_label(c.t, d.promised_days),
        statutory_label: format!("{} {}", d.statutory_days, c.t.working_days),
        visits_label: visits_label(c.t, d.visits),
        materials,
        fees,
        suspended: item.status == ItemStatus::Suspended,
        bundles,
        c,
        item,
    })
}

pub async fn item(State(app): State<AppState>, c: Chrome, Path(code): Path<String>) -> PageResult {
    let page = item_page(&app, c, &code).await?;
    app.catalog.record_view(&page.item.impl_code);
    render(page)
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    p: ItemPage,
}

pub async fn item_print(State(app): State<AppState>, c: Chrome, Path(code): Path<String>) -> PageResult {
    render(PrintPage { p: item_page(&app, c, &code).await? })
}

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    c: Chrome,
    /// (region code, region name, its departments)
    groups: Vec<(String, String, Vec<Department>)>,
}

pub async fn departments(State(app): State<AppState>, c: Chrome) -> PageResult {
    let regions = app.catalog.regions().await.map_err(cat_err)?;
    let depts = app.catalog.departments().await.map_err(cat_err)?;
    let groups = regions
        .iter()
        .map(|r| {
            let name = if c.en { r.name_en.clone().unwrap_or(r.name.clone()) } else { r.name.clone() };
            (r.code.clone(), name, depts.iter().filter(|d| d.region_code == r.code).cloned().collect::<Vec<_>>())
        })
        .filter(|(_, _, v)| !v.is_empty())
        .collect();
    render(DepartmentsPage { c, groups })
}

pub async fn department(State(app): State<AppState>, c: Chrome, Path(code): Path<String>, Query(mut q): Query<ListQuery>) -> PageResult {
    let d = app.catalog.department(&code).await.map_err(cat_err)?;
    q.department = Some(d.credit_code.clone());
    let intro = format!("{} · {} · {}", d.address, d.phone, d.hours);
    list_page(&app, c, q, Some(d.name), intro).await
}

pub async fn region(State(app): State<AppState>, c: Chrome, Path(code): Path<String>, Query(mut q): Query<ListQuery>) -> PageResult {
    let r = app.catalog.region(&code).await.map_err(cat_err)?;
    q.region = Some(r.code.clone());
    let name = if c.en { r.name_en.unwrap_or(r.name) } else { r.name };
    list_page(&app, c, q, Some(name), String::new()).await
}

pub async fn theme(State(app): State<AppState>, c: Chrome, Path(slug): Path<String>, Query(mut q): Query<ListQuery>) -> PageResult {
    let t = app.catalog.theme(&slug).await.map_err(cat_err)?;
    q.theme = Some(t.slug.clone());
    let name = if c.en { t.name_en } else { t.name };
    list_page(&app, c, q, Some(name), t.description).await
}

#[derive(Template)]
#[template(path = "bundle.html")]
struct BundlePage {
    c: Chrome,
    bundle: Bundle,
    lead: String,
    cards: Vec<Card>,
}

pub async fn bundle(State(app): State<AppState>, c: Chrome, Path(code): Path<String>) -> PageResult {
    let bundle = app.catalog.bundle(&code).await.map_err(cat_err)?;
    let lead = app.catalog.department(&bundle.lead_department).await.map_err(cat_err)?.name;
    let mut cards = Vec::new();
    for code in &bundle.items {
        if let Ok(item) = app.catalog.item_public(code).await {
            let d = &item.doc;
            cards.push(Card {
                code: item.impl_code.clone(),
                name_html: escape(&d.name),
                snippet_html: escape(&d.summary),
                department: item.department_name.clone(),
                type_label: d.item_type.label(c.en),
                time_label: time_label(c.t, d.promised_days),
                visits_label: visits_label(c.t, d.visits),
                depth: d.online_depth,
                suspended: item.status == ItemStatus::Suspended,
            });
        }
    }
    render(BundlePage { c, bundle, lead, cards })
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local paths: never redirect to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.contains("://") => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn switch_lang(State(app): State<AppState>, Path(lang): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    let cookie = crate::auth::set_cookie("lang", value, 365 * 24 * 3600, app.settings.secure_cookies);
    let mut res = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    if let Ok(v) = cookie.parse() {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

pub async fn not_found() -> PageError {
    PageError(AppError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "页面不存在"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/items?q=1")), "/items?q=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert_eq!(safe_next(Some(bad)), "/");
        }
    }
}
