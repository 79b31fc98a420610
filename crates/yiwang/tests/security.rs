//! The authorization matrix, on SQLite and PostgreSQL: every route the router is built from
//! (`yiwang_web::routes::route_table`, not a hand list) is called by eight roles, and each
//! answer must match the route's declared [`Access`]. Resources in paths are real: 张三's case,
//! ticket, licence and disclosure request, and 青山市公安局's alerts, documents and datasets.

mod common;

use std::collections::HashMap;

use axum::body::Body;
use common::*;
use http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use yiwang_identity::Role;
use yiwang_web::routes::{route_table, Access, RouteSpec};

/// One caller of the matrix.
struct Caller {
    name: &'static str,
    kind: Kind,
    session: Option<Session>,
}

#[derive(Clone)]
enum Kind {
    Anonymous,
    /// A natural person; `owner` for 张三, who owns the fixtures and represents the business.
    Person {
        owner: bool,
    },
    /// Staff with roles; `home` when in the department the fixtures belong to (市公安局).
    Staff {
        login: &'static str,
        roles: &'static [Role],
        home: bool,
    },
}

const CITIZEN_A: &str = "citizen A (张三)";

/// Whether the declaration lets this caller through.
fn expected(access: Access, kind: &Kind) -> bool {
    match (access, kind) {
        (Access::Public, _) => true,
        (Access::Machine, _) => false,
        (Access::Session, k) => !matches!(k, Kind::Anonymous),
        (Access::Person, k) => matches!(k, Kind::Person { .. }),
        (Access::Owner | Access::Representative, Kind::Person { owner }) => *owner,
        (Access::Staff(allowed), Kind::Staff { roles, .. }) => roles.iter().any(|r| allowed.contains(r)),
        (Access::Department(allowed), Kind::Staff { roles, home, .. }) => {
            roles.iter().any(|r| allowed.contains(r) && (*home || matches!(r, Role::PlatformAdmin | Role::Supervisor)))
        }
        _ => false,
    }
}

/// Routes whose denial may be "no such thing" (404): the resource in the path is scoped.
fn scoped(access: Access) -> bool {
    matches!(access, Access::Owner | Access::Representative | Access::Department(_))
}

async fn sign_in(t: &TestApp, kind: &Kind) -> Option<Session> {
    match kind {
        Kind::Anonymous => None,
        Kind::Person { owner: true } => Some(t.person_login(ZHANG.0, ZHANG.1).await),
        Kind::Person { owner: false } => None,
        Kind::Staff { login, .. } => Some(t.login(login, "yiwang-demo-staff").await),
    }
}

async fn callers(t: &TestApp) -> Vec<Caller> {
    let gaj_window: &'static [Role] = &[Role::Window];
    let mut out = Vec::new();
    let specs: Vec<(&'static str, Kind)> = vec![
        ("anonymous", Kind::Anonymous),
        (CITIZEN_A, Kind::Person { owner: true }),
        ("citizen B (李四)", Kind::Person { owner: false }),
        ("business agent (王五)", Kind::Person { owner: false }),
        ("window staff of 市公安局", Kind::Staff { login: "gaj-window", roles: gaj_window, home: true }),
        ("approver of 市行政审批局", Kind::Staff { login: "spj-approver", roles: &[Role::Approver], home: false }),
        ("supervisor", Kind::Staff { login: "supervisor", roles: &[Role::Supervisor], home: false }),
        ("platform admin", Kind::Staff { login: "admin", roles: &[Role::PlatformAdmin], home: false }),
    ];
    for (name, kind) in specs {
        let session = sign_in_named(t, name, &kind).await;
        out.push(Caller { name, kind, session });
    }
    out
}

async fn sign_in_named(t: &TestApp, name: &str, kind: &Kind) -> Option<Session> {
    match (name, kind) {
        (n, _) if n.contains("李四") => Some(t.person_login(LI.0, LI.1).await),
        (n, _) if n.contains("王五") => {
            let s = t.person_login(WANG.0, WANG.1).await;
            let r = t.json("POST", "/api/v1/persons/me/acting-for", &json!({"credit_code": ZHANG_BUSINESS}), Some(&s)).await;
            assert_eq!(r.status, StatusCode::OK, "王五 acts for the business: {}", r.body);
            Some(s)
        }
        ("admin", _) | ("platform admin", _) => Some(t.login(ADMIN.0, ADMIN.1).await),
        _ => sign_in(t, kind).await,
    }
}

/// The first object (depth first) in `v` for which `pick` holds.
fn find<'a>(v: &'a Value, pick: &dyn Fn(&Value) -> bool) -> Option<&'a Value> {
    if v.is_object() && pick(v) {
        return Some(v);
    }
    match v {
        Value::Array(a) => a.iter().find_map(|x| find(x, pick)),
        Value::Object(o) => o.values().find_map(|x| find(x, pick)),
        _ => None,
    }
}

/// `key` of the first object that has it and mentions `needle` anywhere.
fn pick(v: &Value, key: &str, needle: &str) -> String {
    let o = find(v, &|o| o.get(key).is_some() && o.to_string().contains(needle))
        .unwrap_or_else(|| panic!("no object with {key} mentioning {needle:?} in {:.600}", v.to_string()));
    match &o[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Real values for every path parameter, made or found through the API.
async fn fixtures(t: &TestApp) -> HashMap<&'static str, String> {
    let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
    let admin = t.login(ADMIN.0, ADMIN.1).await;
    let gaj = t.login("gaj-window", "yiwang-demo-staff").await;
    let supervisor = t.login("supervisor", "yiwang-demo-staff").await;
    let mut f = HashMap::new();

    // 张三's business with 王五 as its agent.
    let r = t.json("POST", "/api/v1/businesses", &json!({"credit_code": ZHANG_BUSINESS}), Some(&zhang)).await;
    assert!(r.status.is_success(), "{}", r.body);
    let until = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
    let li_grant = json!({"id_number": LI.0, "scopes": ["apply", "view"], "expires_on": until});
    let r = t.json("POST", &format!("/api/v1/businesses/{ZHANG_BUSINESS}/agents"), &li_grant, Some(&zhang)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    f.insert("agent", r.json()["id"].to_string());
    // 王五 is L1 and cannot be an agent; make him L2 first.
    let wang = t.person_login(WANG.0, WANG.1).await;
    let _ = t.json("POST", "/api/v1/persons/me/verify", &json!({}), Some(&wang)).await;
    let wang_grant = json!({"id_number": WANG.0, "scopes": ["apply", "view", "licences"], "expires_on": until});
    let r = t.json("POST", &format!("/api/v1/businesses/{ZHANG_BUSINESS}/agents"), &wang_grant, Some(&zhang)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // A submitted case of 张三 at 市公安局, with a material.
    let case = submitted_case(t, &zhang).await;
    f.insert("case", case);
    f.insert("material", "居民户口簿或原居民身份证".into());

    // A case waiting for online payment (居民身份证申领, accepted by the window).
    let code = item("sfz-sl");
    let form = t.get_with(&format!("/api/v1/applications/form?item={code}"), &zhang.cookie).await.json();
    let draft = json!({"kind": "item", "code": code, "values": form["prefill"], "delivery": "window"});
    let r = t.json("POST", "/api/v1/applications", &draft, Some(&zhang)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let paid = r.json()["case_id"].as_str().unwrap().to_string();
    for m in ["居民户口簿", "符合标准的本人相片（可现场采集）"] {
        let r = upload(t, &format!("/api/v1/cases/{paid}/materials"), &zhang, &[("name", m)], ("m.pdf", PDF), true).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    assert_eq!(t.json("POST", &format!("/api/v1/cases/{paid}/submit"), &json!({}), Some(&zhang)).await.status, StatusCode::OK);
    let v = t.get_with(&format!("/api/v1/staff/cases/{paid}"), &gaj.cookie).await.json();
    let r = t
        .json("POST", &format!("/api/v1/staff/cases/{paid}/actions"), &json!({"action": "accept", "version": v["version"]}), Some(&gaj))
        .await;
    assert_eq!(r.json()["status"], "awaiting_payment", "{}", r.body);
    f.insert("paid_case", paid);

    // 张三's licence, a copy of it, his 12345 ticket and a disclosure request to 市公安局.
    let wallet = t.get_with("/api/v1/me/licences", &zhang.cookie).await.json();
    let licence = pick(&wallet, "identifier", "");
    let copy = json!({"purpose": "办理银行开户", "recipient": "青山银行"});
    let r = t.json("POST", &format!("/api/v1/me/licences/{licence}/copies"), &copy, Some(&zhang)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    f.insert("copy", r.json()["copy"]["token"].as_str().unwrap().to_string());
    f.insert("licence", licence);
    let tickets = t.get_with("/api/v1/tickets", &zhang.cookie).await.json();
    f.insert("ticket", pick(&tickets, "ticket_id", "护照"));
    let req = json!({"department_code": GAJ_DEPT, "description": "户籍窗口办理量统计", "purpose": "研究"});
    let r = t.json("POST", "/api/v1/gk/requests", &req, Some(&zhang)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    f.insert("gk_request", r.json()["request_id"].as_str().unwrap().to_string());

    // 市公安局's supervision records, a window visit, documents and datasets.
    let alerts = t.get_with("/api/v1/oversight/alerts", &supervisor.cookie).await.json();
    f.insert("alert", pick(&alerts, "alert_id", GAJ_DEPT));
    let followups = t.get_with("/api/v1/oversight/followups", &supervisor.cookie).await.json();
    f.insert("followup", pick(&followups, "rating_id", GAJ_DEPT));
    let r = t.json("POST", "/api/v1/oversight/visits", &json!({"item_code": item("hz-qf")}), Some(&gaj)).await;
    assert!(r.status.is_success(), "{}", r.body);
    f.insert("visit", pick(&r.json(), "visit_id", ""));
    let docs = t.get("/api/v1/gk/documents").await.json();
    f.insert("document", pick(&docs, "doc_id", GAJ_DEPT));
    let found = t.get(&format!("/api/3/action/package_search?fq=organization:{}", GAJ_DEPT.to_lowercase())).await.json();
    let dataset = pick(&found["result"]["results"], "name", "");
    let shown = t.get(&format!("/api/3/action/package_show?id={dataset}")).await.json();
    f.insert("resource_id", pick(&shown["result"]["resources"], "id", ""));
    f.insert("dataset", dataset);

    // Catalog and exchange records.
    f.insert("item", item("hz-qf"));
    f.insert("theme", pick(&t.get("/api/v1/themes").await.json(), "slug", ""));
    f.insert("region", pick(&t.get("/api/v1/regions").await.json(), "code", ""));
    f.insert("bundle", pick(&t.get("/api/v1/bundles").await.json(), "code", ""));
    f.insert("licence_type", pick(&t.get("/api/v1/licences/types").await.json(), "code", ""));
    let resources = t.get_with("/api/v1/exchange/resources", &admin.cookie).await.json();
    f.insert("exchange_resource", pick(&resources, "code", ""));
    let members = t.get_with("/api/v1/exchange/members", &admin.cookie).await.json();
    f.insert("member", pick(&members, "member_id", GAJ_DEPT));
    let grants = t.get_with("/api/v1/exchange/grants", &admin.cookie).await.json();
    f.insert("grant", pick(&grants, "grant_id", ""));
    let logs = t.get_with("/api/v1/exchange/logs", &admin.cookie).await.json();
    f.insert("exchange_log", pick(&logs, "exchange_id", GAJ_DEPT));
    f
}

/// The path with every parameter replaced by a fixture.
fn fill(path: &str, f: &HashMap<&'static str, String>) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        if !(seg.starts_with('{') && seg.ends_with('}')) {
            out.push(seg.to_string());
            continue;
        }
        let before = if i > 0 { segs[i - 1] } else { "" };
        let after = segs.get(i + 1).copied().unwrap_or("");
        let key = match (&seg[1..seg.len() - 1], before) {
            ("id", "cases") if after == "pay" || after == "payment" => "paid_case",
            ("id", "cases") | ("case_id", _) => "case",
            ("id", "requests") => "gk_request",
            ("id", "gk" | "documents") => "document",
            ("id", "tickets") => "ticket",
            ("id", "rate" | "visits") => "visit",
            ("id", "alerts") => "alert",
            ("id", "followups") => "followup",
            ("id", "grants") => "grant",
            ("id", "members") => "member",
            ("id", "logs") => "exchange_log",
            ("id", "agents") => "agent",
            ("id", "import") => return path.replace("{id}", "no-such-job"),
            ("code", "items") => "item",
            ("code", "departments") => return fill(&path.replacen("{code}", GAJ_DEPT, 1), f),
            ("code", "regions") => "region",
            ("code", "bundles") => "bundle",
            ("code", "businesses") => return fill(&path.replacen("{code}", ZHANG_BUSINESS, 1), f),
            ("code", "types") => "licence_type",
            ("code", "resources") | ("resource", _) => "exchange_resource",
            ("name", "materials") => "material",
            ("name", "files") => return fill(&path.replacen("{name}", "no-such-file.pdf", 1), f),
            ("name", _) => "dataset",
            ("rid", _) => "resource_id",
            ("identifier", _) => "licence",
            ("token", _) => "copy",
            ("slug", _) => "theme",
            ("handle", _) => return fill(&path.replacen("{handle}", "no-such-session", 1), f),
            ("username", _) => return fill(&path.replacen("{username}", "window1", 1), f),
            ("lang", _) => return fill(&path.replacen("{lang}", "en", 1), f),
            ("order_no", _) => return fill(&path.replacen("{order_no}", "NO-SUCH-ORDER", 1), f),
            ("provider" | "courier", _) => return fill(&path.replacen(seg, "sandbox", 1), f),
            ("action", _) => return fill(&path.replacen("{action}", "package_list", 1), f),
            ("file", _) => return fill(&path.replacen("{file}", "htmx.min.js", 1), f),
            (p, b) => panic!("no fixture for {{{p}}} after {b:?} in {path}: add one"),
        };
        out.push(f[key].clone());
    }
    out.join("/")
}

/// A body plausible enough that a refusal cannot be blamed on it: the fields the state-changing
/// routes read, with the action each scoped route knows.
fn body_fields(path: &str, supervising: bool) -> Vec<(&'static str, String)> {
    let until = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
    // Supervisors close alerts, follow-ups and tickets; departments explain and reply.
    let action = if supervising && ["/alerts/", "/followups/", "/tickets/"].iter().any(|p| path.contains(p)) {
        "close"
    } else if path.contains("/alerts/") {
        "explain"
    } else if path.contains("/followups/") {
        "reply"
    } else if path.contains("/requests/") {
        "extend"
    } else {
        "accept"
    };
    let words = "矩阵测试".to_string();
    vec![
        ("action", action.into()),
        ("version", "1".into()),
        ("reason", words.clone()),
        ("text", words.clone()),
        ("note", words.clone()),
        ("comment", words.clone()),
        ("reply", words.clone()),
        ("verification", words.clone()),
        ("rectification", words.clone()),
        ("purpose", words.clone()),
        ("recipient", words),
        ("level", "5".into()),
        ("satisfaction", "5".into()),
        ("id_number", LI.0.into()),
        ("expires_on", until),
        ("name", "居民户口簿或原居民身份证".into()),
    ]
}

fn json_body(path: &str, supervising: bool) -> Value {
    let mut o = serde_json::Map::new();
    for (k, v) in body_fields(path, supervising) {
        let v = match k {
            "version" | "level" | "satisfaction" => json!(v.parse::<i64>().unwrap()),
            _ => json!(v),
        };
        o.insert(k.to_string(), v);
    }
    o.insert("values".into(), json!({}));
    o.insert("data".into(), json!({"note": "矩阵测试"}));
    o.insert("scopes".into(), json!(["view"]));
    Value::Object(o)
}

async fn call(t: &TestApp, spec: &RouteSpec, url: &str, caller: &Caller) -> (StatusCode, String) {
    let session = caller.session.as_ref();
    let supervising =
        matches!(caller.kind, Kind::Staff { roles, .. } if roles.iter().any(|r| matches!(r, Role::Supervisor | Role::PlatformAdmin)));
    let api = url.starts_with("/api/");
    let mut b = Request::builder()
        .method(spec.method.clone())
        .uri(url)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost");
    if let Some(s) = session {
        b = b.header(header::COOKIE, &s.cookie);
        if api {
            b = b.header("x-csrf-token", &s.csrf);
        }
    }
    let csrf = session.map(|s| s.csrf.as_str()).unwrap_or("");
    let body = if spec.method == Method::GET {
        Body::empty()
    } else if url.ends_with("/materials") || url.ends_with("/attachments") || url.ends_with("/resources") {
        let mut fields = body_fields(url, supervising);
        fields.push(("csrf_token", csrf.to_string()));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (ct, bytes) = multipart(&fields, Some(("m.pdf", PDF)));
        b = b.header(header::CONTENT_TYPE, ct);
        Body::from(bytes)
    } else if api {
        b = b.header(header::CONTENT_TYPE, "application/json");
        Body::from(json_body(url, supervising).to_string())
    } else {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let mut fields = body_fields(url, supervising);
        fields.push(("csrf_token", csrf.to_string()));
        Body::from(serde_urlencoded::to_string(&fields).unwrap())
    };
    let res = t.send(b.body(body).unwrap()).await;
    (res.status, res.location())
}

fn is_login_redirect(status: StatusCode, location: &str) -> bool {
    status.is_redirection() && (location.starts_with("/login") || location.starts_with("/staff/login"))
}

#[tokio::test]
async fn every_route_answers_every_role_as_declared() {
    let table = route_table();
    // Staff sign in with a password only here: the matrix is about what signed-in accounts may
    // do, and it signs accounts in again after the sign-out routes (the second factor has its
    // own tests and would allow one sign-in per 30-second step).
    for t in apps_with(|s| s.staff_totp = false).await {
        let f = fixtures(&t).await;
        let mut callers = callers(&t).await;
        let mut failures = Vec::new();
        let mut checked = 0;
        // Sign-outs last, so that they do not end the sessions the other routes use.
        let mut order: Vec<&RouteSpec> = table.iter().collect();
        order.sort_by_key(|s| s.path.contains("logout"));
        for spec in order {
            let url = fill(&spec.path, &f);
            let mut outcomes = Vec::new();
            // Denied callers first: an allowed call may change the resource (a withdrawal).
            let mut turn: Vec<&Caller> = callers.iter().collect();
            turn.sort_by_key(|c| expected(spec.access, &c.kind));
            for c in turn {
                let (status, location) = call(&t, spec, &url, c).await;
                outcomes.push((c.name, expected(spec.access, &c.kind), status, location));
                checked += 1;
            }
            // A scoped denial may be 404 only when an allowed caller reached the same resource.
            let reachable = outcomes.iter().any(|(_, allow, s, _)| *allow && *s != StatusCode::NOT_FOUND);
            for (name, allow, status, location) in &outcomes {
                let denied = matches!(*status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                    || is_login_redirect(*status, location)
                    || (scoped(spec.access) && reachable && *status == StatusCode::NOT_FOUND)
                    || (spec.access == Access::Machine && status.is_client_error());
                let ok = if status.is_server_error() {
                    false
                } else if *allow {
                    !denied || (*status == StatusCode::NOT_FOUND && !scoped(spec.access))
                } else {
                    denied
                };
                if !ok {
                    failures.push(format!(
                        "{} {} ({:?}) as {name}: {status}{} but {} expected",
                        spec.method,
                        spec.path,
                        spec.access,
                        if location.is_empty() { String::new() } else { format!(" → {location}") },
                        if *allow { "allowed" } else { "denied" }
                    ));
                }
            }
            if scoped(spec.access) && !reachable && spec.method == Method::GET {
                failures.push(format!("{} {}: no allowed caller reached the fixture {url}", spec.method, spec.path));
            }
            if spec.path.contains("logout") || spec.path.contains("acting") {
                for c in callers.iter_mut() {
                    c.session = sign_in_named(&t, c.name, &c.kind).await;
                }
            }
        }
        assert!(failures.is_empty(), "{} {} of {checked} checks failed:\n{}", t.backend, failures.len(), failures.join("\n"));
        eprintln!("{}: {} routes × {} roles = {checked} checks", t.backend, table.len(), callers.len());
    }
}

/// Script and SQL that must come back inert: stored through every state-changing route, then
/// looked for, unescaped, in every page.
const MATERIAL: &str = "居民户口簿或原居民身份证";
const SCRIPT: &str = "<script>alert(\"yw-xss\")</script>";
const PAYLOAD: &str = "<script>alert(\"yw-xss\")</script>\"'><img src=x onerror=alert(1)>' OR '1'='1' --; DROP TABLE persons; --";

/// A request as `caller`, with a chosen body and headers; `csrf` false leaves the token out.
async fn probe(t: &TestApp, method: &Method, url: &str, caller: Option<&Caller>, body: (String, Vec<u8>), csrf: bool, origin: &str) -> Res {
    let mut b = Request::builder().method(method.clone()).uri(url).header(header::HOST, "localhost").header(header::ORIGIN, origin);
    if let Some(s) = caller.and_then(|c| c.session.as_ref()) {
        b = b.header(header::COOKIE, &s.cookie);
        if csrf {
            b = b.header("x-csrf-token", &s.csrf);
        }
    }
    if !body.0.is_empty() {
        b = b.header(header::CONTENT_TYPE, body.0.as_str());
    }
    t.send(b.body(Body::from(body.1)).unwrap()).await
}

/// The body `body_fields` describes, with every text replaced by `text`, as the route expects.
fn filled_body(url: &str, caller: Option<&Caller>, text: &str, csrf: bool) -> (String, Vec<u8>) {
    let supervising = caller.is_some_and(
        |c| matches!(c.kind, Kind::Staff { roles, .. } if roles.iter().any(|r| matches!(r, Role::Supervisor | Role::PlatformAdmin))),
    );
    let token = if csrf { caller.and_then(|c| c.session.as_ref()).map(|s| s.csrf.clone()).unwrap_or_default() } else { String::new() };
    let keep = ["action", "version", "level", "satisfaction", "expires_on", "id_number"];
    let mut fields: Vec<(&str, String)> =
        body_fields(url, supervising).into_iter().map(|(k, v)| if keep.contains(&k) { (k, v) } else { (k, text.to_string()) }).collect();
    for extra in ["title", "content", "description", "body", "comment", "login", "username", "q", "next", "filename"] {
        fields.push((extra, text.to_string()));
    }
    let multipart_route = ["/materials", "/attachments", "/resources", "/upload", "/import"].iter().any(|e| url.ends_with(e));
    if multipart_route && !url.contains("/api/v1/catalog/") {
        fields.push(("csrf_token", token));
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (ct, bytes) = multipart(&pairs, Some(("m.pdf", PDF)));
        return (ct, bytes);
    }
    if url.starts_with("/api/") {
        let mut o = serde_json::Map::new();
        for (k, v) in &fields {
            o.insert(
                k.to_string(),
                if ["version", "level", "satisfaction"].contains(k) { json!(v.parse::<i64>().unwrap_or(1)) } else { json!(v) },
            );
        }
        o.insert("values".into(), json!({"reason": text, "address": text, "contact_phone": "13800138000"}));
        o.insert("kind".into(), json!("complaint"));
        ("application/json".into(), Value::Object(o).to_string().into_bytes())
    } else {
        fields.push(("csrf_token", token));
        fields.push(("kind", "complaint".into()));
        ("application/x-www-form-urlencoded".into(), serde_urlencoded::to_string(&fields).unwrap().into_bytes())
    }
}

#[tokio::test]
async fn attack_probes_on_every_route() {
    let table = route_table();
    for t in apps_with(|s| s.staff_totp = false).await {
        let b = t.backend;
        let f = fixtures(&t).await;
        let callers = callers(&t).await;
        let mut failures = Vec::new();
        let mut probes = 0u64;
        let unsafe_routes: Vec<&RouteSpec> = table.iter().filter(|s| s.method != Method::GET && !s.path.contains("logout")).collect();
        let first_allowed = |s: &RouteSpec| callers.iter().find(|c| expected(s.access, &c.kind) && c.session.is_some());

        // CSRF: without the token, and from another site with it; neither may act.
        for s in &unsafe_routes {
            let url = fill(&s.path, &f);
            if !matches!(s.access, Access::Public | Access::Machine) {
                if let Some(c) = first_allowed(s) {
                    let r = probe(&t, &s.method, &url, Some(c), filled_body(&url, Some(c), "csrf", false), false, "http://localhost").await;
                    probes += 1;
                    if r.status != StatusCode::FORBIDDEN {
                        failures.push(format!("CSRF: {} {} as {} without a token: {}", s.method, s.path, c.name, r.status));
                    }
                }
            }
            let c = first_allowed(s);
            let r = probe(&t, &s.method, &url, c, filled_body(&url, c, "csrf", true), true, "https://evil.example").await;
            probes += 1;
            if r.status != StatusCode::FORBIDDEN && s.access != Access::Machine {
                failures.push(format!("CSRF: {} {} from another site: {}", s.method, s.path, r.status));
            }
        }

        // Malformed and oversized bodies: a clear 4xx, never a 5xx.
        for s in &unsafe_routes {
            let url = fill(&s.path, &f);
            let c = first_allowed(s);
            let bodies: [(&str, Vec<u8>); 4] = [
                ("application/json", b"{\"action\": \"accept\", \"version\": ".to_vec()),
                ("application/x-www-form-urlencoded", b"%%%=&&==%ZZ".to_vec()),
                ("multipart/form-data; boundary=nope", b"--other\r\nContent-Disposition: form-data\r\n\r\nx".to_vec()),
                ("application/json", vec![b'['; 200_000]),
            ];
            for (ct, bytes) in bodies {
                let r = probe(&t, &s.method, &url, c, (ct.to_string(), bytes), true, "http://localhost").await;
                probes += 1;
                // Routes that read no body may succeed; none may fail on the server.
                if r.status.is_server_error() {
                    failures.push(format!("malformed body: {} {}: {}", s.method, s.path, r.status));
                }
            }
            let mut req = Request::builder()
                .method(s.method.clone())
                .uri(&url)
                .header(header::HOST, "localhost")
                .header(header::ORIGIN, "http://localhost")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, (yiwang_web::MAX_BODY_BYTES + 1).to_string());
            if let Some(sess) = c.and_then(|c| c.session.as_ref()) {
                req = req.header(header::COOKIE, &sess.cookie).header("x-csrf-token", &sess.csrf);
            }
            let r = t.send(req.body(Body::from(vec![b' '; yiwang_web::MAX_BODY_BYTES + 1])).unwrap()).await;
            probes += 1;
            if r.status.is_server_error() {
                failures.push(format!("oversized body: {} {}: {}", s.method, s.path, r.status));
            }
        }

        // Script and SQL in every text field of every state-changing route, as every caller the
        // route admits, and in the path and query of every page.
        for s in &unsafe_routes {
            let url = fill(&s.path, &f);
            for c in callers.iter().filter(|c| expected(s.access, &c.kind)) {
                let r = probe(&t, &s.method, &url, Some(c), filled_body(&url, Some(c), PAYLOAD, true), true, "http://localhost").await;
                probes += 1;
                if r.status.is_server_error() {
                    failures.push(format!("injection: {} {} as {}: {} {}", s.method, s.path, c.name, r.status, r.body));
                }
            }
        }
        let q = pct(PAYLOAD);
        let mut escaped_seen = 0;
        for s in table.iter().filter(|s| s.method == Method::GET) {
            let url = fill(&s.path, &f);
            let url = format!("{url}?q={q}&next={q}&name={q}&id={q}&item={q}&start=1&end=2");
            for c in &callers {
                let r = probe(&t, &Method::GET, &url, Some(c), (String::new(), vec![]), true, "http://localhost").await;
                probes += 1;
                if r.status.is_server_error() {
                    failures.push(format!("query injection: GET {} as {}: {}", s.path, c.name, r.status));
                }
                let html = r.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
                if html && r.body.contains(SCRIPT) {
                    failures.push(format!("XSS: GET {} as {} shows the script unescaped", s.path, c.name));
                }
                if html && (r.body.contains("&#60;script&#62;alert(") || r.body.contains("&lt;script&gt;alert(")) {
                    escaped_seen += 1;
                }
            }
        }
        assert!(escaped_seen > 20, "{b}: the payload should have been stored and shown escaped on many pages ({escaped_seen})");
        let persons: i64 = yiwang_store::sqlx::query_scalar("SELECT COUNT(*) FROM persons").fetch_one(t.app.db.reader()).await.unwrap();
        assert!(persons >= 3, "{b}: the persons table survived the SQL strings");

        // Path traversal in downloads and uploads.
        for path in [
            "/static/..%2F..%2FCargo.toml",
            "/static/%2e%2e%2f%2e%2e%2fCargo.toml",
            "/static/....//Cargo.toml",
            "/gk/x/files/..%2F..%2F..%2Fetc%2Fpasswd",
            &format!("/api/v1/cases/{}/materials/..%2F..%2F..%2Fetc%2Fpasswd", f["case"]),
            &format!("/cases/{}/materials/%2e%2e%2f%2e%2e%2fetc%2fpasswd", f["case"]),
        ] {
            let r = probe(&t, &Method::GET, path, Some(&callers[1]), (String::new(), vec![]), true, "http://localhost").await;
            probes += 1;
            if r.status != StatusCode::NOT_FOUND && r.status != StatusCode::BAD_REQUEST {
                failures.push(format!("traversal: GET {path}: {}", r.status));
            }
            if r.body.contains("root:x:0:0") || r.body.contains("[workspace]") {
                failures.push(format!("traversal: GET {path} leaked a file"));
            }
        }
        let zhang = callers[1].session.as_ref().unwrap();
        let draft = {
            let code = item("sfz-hb");
            let form = t.get_with(&format!("/api/v1/applications/form?item={code}"), &zhang.cookie).await.json();
            let r = t
                .json("POST", "/api/v1/applications", &json!({"kind": "item", "code": code, "values": form["prefill"]}), Some(zhang))
                .await;
            r.json()["case_id"].as_str().unwrap().to_string()
        };
        let r =
            upload(&t, &format!("/api/v1/cases/{draft}/materials"), zhang, &[("name", MATERIAL)], ("../../../etc/passwd", PDF), true).await;
        probes += 1;
        let case = t.get_with(&format!("/api/v1/cases/{draft}"), &zhang.cookie).await.body;
        if r.status.is_success() && (case.contains("../") || case.contains("etc/passwd\"")) {
            failures.push(format!("traversal: an uploaded file name kept its path: {case}"));
        }

        // Session fixation: a session id chosen before sign-in is never the one signed in.
        let fixed = "yw_session=attacker-chosen-session-id";
        let mut req = Request::post("/api/v1/persons/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, fixed)
            .body(Body::from(json!({"login": LI.0, "password": LI.1}).to_string()))
            .unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([10, 99, 0, 1], 1))));
        let r = t.send(req).await;
        probes += 1;
        let issued = r.cookie("yw_session").unwrap_or_default();
        if issued.is_empty() || issued == fixed || t.get_with("/api/v1/persons/me", fixed).await.status != StatusCode::UNAUTHORIZED {
            failures.push(format!("session fixation: {issued}"));
        }

        // Open redirects: sign-in `next`, language switch, OpenID Connect.
        for next in ["https://evil.example/", "//evil.example/", "/\\evil.example/", "http:evil.example", "%2F%2Fevil.example"] {
            let page = t.get(&format!("/login?next={}", pct(next))).await;
            let cookie = page.cookie("yw_login_csrf").unwrap_or_default();
            let marker = "name=\"csrf_token\" value=\"";
            let token = page.body.split(marker).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string();
            let mut req = Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &cookie)
                .body(Body::from(
                    serde_urlencoded::to_string([("login", LI.0), ("password", LI.1), ("csrf_token", &token), ("next", next)]).unwrap(),
                ))
                .unwrap();
            req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([10, 99, 1, probes as u8], 1))));
            let r = t.send(req).await;
            let lang = t.get(&format!("/lang/en?next={}", pct(next))).await;
            probes += 2;
            for (what, res) in [("sign-in", &r), ("language", &lang)] {
                let to = res.location();
                if to.contains("evil.example") || to.starts_with("//") || to.starts_with("/\\") || to.contains(':') {
                    failures.push(format!("open redirect: {what} next={next} → {to}"));
                }
            }
            if r.status != StatusCode::SEE_OTHER {
                failures.push(format!("sign-in with next={next}: {}", r.status));
            }
        }
        let client = json!({"name": "探针客户端", "redirect_uris": ["http://127.0.0.1:9999/cb"],
            "post_logout_redirect_uris": ["http://127.0.0.1:9999/bye"], "scopes": ["openid"], "id_token_alg": "RS256"});
        let r = t.json("POST", "/api/v1/oidc/clients", &client, callers[7].session.as_ref()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {}", r.body);
        let client_id = r.json()["client_id"].as_str().unwrap().to_string();
        for evil in ["https://evil.example/cb", "http://127.0.0.1:9999/cb/../../evil", "javascript:alert(1)"] {
            let r = t
                .get(&format!("/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=s", pct(evil)))
                .await;
            let out = t.get(&format!("/oidc/logout?client_id={client_id}&post_logout_redirect_uri={}", pct(evil))).await;
            probes += 2;
            for (what, res) in [("authorize", &r), ("logout", &out)] {
                if res.location().contains("evil") || res.location().starts_with("javascript") || res.status.is_server_error() {
                    failures.push(format!("open redirect: {what} redirect_uri={evil} → {} {}", res.status, res.location()));
                }
            }
        }

        assert!(failures.is_empty(), "{b}: {} of {probes} probes failed:\n{}", failures.len(), failures.join("\n"));
        eprintln!("{b}: {probes} attack probes");
    }
}
