//! HTTP behaviour of the whole app, through the production router, on SQLite and PostgreSQL.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn portal_pages_api_docs_health_and_metrics() {
    for t in apps().await {
        let b = t.backend;
        let home = t.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{b}");
        assert!(home.body.contains("江川政务服务网") && home.body.contains("开办企业一件事"));
        for h in ["x-request-id", "content-security-policy", "x-frame-options", "x-content-type-options"] {
            assert!(home.headers.contains_key(h), "{b}: header {h}");
        }

        let search = t.get("/search?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7").await; // 营业执照
        assert_eq!(search.status, StatusCode::OK);
        assert!(search.body.contains("企业设立登记") && search.body.contains("<em>营业执照</em>"), "{b}");

        // Reflected input is escaped.
        let xss = t.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
        assert_eq!(xss.status, StatusCode::OK);
        assert!(
            !xss.body.contains("<script>alert(1)") && (xss.body.contains("&lt;script&gt;") || xss.body.contains("&#60;script&#62;")),
            "{b}"
        );

        let list = t.get("/api/v1/items?q=%E6%8F%90%E5%8F%96%E5%85%AC%E7%A7%AF%E9%87%91&per_page=5").await.json(); // 提取公积金
        let first = &list["items"][0];
        assert!(first["name"].as_str().unwrap().starts_with("住房公积金提取"), "{b}: {list}");
        let code = first["impl_code"].as_str().unwrap().to_string();

        let item = t.get(&format!("/items/{code}")).await;
        assert_eq!(item.status, StatusCode::OK);
        assert!(item.body.contains("申请材料") && item.body.contains("承诺时限"));
        assert_eq!(t.get(&format!("/items/{code}/print")).await.status, StatusCode::OK);
        let api_item = t.get(&format!("/api/v1/items/{code}")).await.json();
        assert!(api_item["doc"]["materials"].as_array().unwrap().len() >= 2);

        // Errors: JSON with stable codes for the API, HTML pages for the portal.
        let missing = t.get("/api/v1/items/11360100866661761G3999999999999").await;
        assert_eq!((missing.status, missing.json()["code"].as_str()), (StatusCode::NOT_FOUND, Some("ITEM_NOT_FOUND")));
        assert!(missing.json()["message"].as_str().unwrap().contains("事项不存在"));
        let malformed = t.get("/api/v1/items/not-a-code").await;
        assert_eq!((malformed.status, malformed.json()["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_CODE")));
        let bad_filter = t.get("/api/v1/items?type=nonsense").await;
        assert_eq!((bad_filter.status, bad_filter.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("BAD_FILTER")));
        let bad_page = t.get("/api/v1/items?page=-1").await;
        assert_eq!((bad_page.status, bad_page.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("BAD_QUERY")));
        let page404 = t.get("/items/11360100866661761G3999999999999").await;
        assert_eq!(page404.status, StatusCode::NOT_FOUND);
        assert!(page404.body.contains("<html") && page404.body.contains("ITEM_NOT_FOUND"));
        assert_eq!(t.get("/nowhere").await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get("/api/v1/nowhere").await.json()["code"], "NOT_FOUND");

        // Browse by theme, department, bundle; reference data over the API.
        assert!(t.get("/themes/shengyu").await.body.contains("出生医学证明签发"));
        assert!(t.get(&format!("/departments/{SPJ_DEPT}")).await.body.contains("企业设立登记"));
        assert!(t.get("/bundles/kaiban-qiye").await.body.contains("印章刻制备案"));
        assert!(t.get("/departments").await.body.contains("青山市公安局"));
        let city = t.get("/regions/360100?per_page=100").await;
        assert!(city.body.contains("青山市") && city.body.contains("内地居民结婚登记"), "district items under the city");
        assert_eq!(t.get("/regions/999999").await.status, StatusCode::NOT_FOUND);

        // Framework-level rejections keep our error shapes.
        let bad_path = t.get("/api/v1/items/%FF%FE").await;
        assert!(bad_path.status.is_client_error());
        assert!(bad_path.json()["code"].is_string(), "{}", bad_path.body);
        let wrong_method = t.send(http::Request::delete("/api/v1/items").body(axum::body::Body::empty()).unwrap()).await;
        assert_eq!(
            (wrong_method.status, wrong_method.json()["code"].as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED"))
        );
        let huge = t
            .send(
                http::Request::post("/api/v1/auth/login")
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(vec![b' '; 21 * 1024 * 1024]))
                    .unwrap(),
            )
            .await;
        assert_eq!((huge.status, huge.json()["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("BODY_TOO_LARGE")));
        let bad_form = t
            .send(
                http::Request::post("/login")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(axum::body::Body::from("username=%"))
                    .unwrap(),
            )
            .await;
        assert!(bad_form.status.is_client_error() && bad_form.body.contains("<html"), "{}", bad_form.body);
        assert_eq!(t.get("/api/v1/bundles").await.json().as_array().unwrap().len(), 3);
        assert!(t.get("/api/v1/regions").await.json().as_array().unwrap().len() >= 4);
        assert!(t.get("/api/v1/departments").await.json().as_array().unwrap().len() >= 15);
        assert!(t.get("/api/v1/themes").await.json().as_array().unwrap().len() >= 8);

        let spec = t.get("/api/openapi.json").await.json();
        for p in ["/api/v1/items", "/api/v1/items/{code}", "/api/v1/catalog/import", "/api/v1/auth/login"] {
            assert!(spec["paths"][p].is_object(), "openapi lacks {p}");
        }
        let docs = t.get("/api/docs/").await;
        assert_eq!(docs.status, StatusCode::OK, "swagger ui served offline");
        let health = t.get("/healthz").await.json();
        assert_eq!((health["status"].as_str(), health["indexed_items"].as_u64()), (Some("ok"), Some(49)));
        assert!(t.get("/metrics").await.body.contains("http_requests_total"));
        let htmx = t.get("/static/htmx.min.js").await;
        assert!(htmx.status == StatusCode::OK && htmx.body.len() > 10_000);
    }
}

#[tokio::test]
async fn language_switch_and_no_open_redirect() {
    for t in apps().await {
        let sw = t.get("/lang/en?next=/items").await;
        assert_eq!((sw.status, sw.location()), (StatusCode::SEE_OTHER, "/items".to_string()));
        assert_eq!(sw.cookie("lang").as_deref(), Some("lang=en"));
        let en = t.get_with("/", "lang=en").await;
        assert!(en.body.contains("Jiangchuan Government Services") && en.body.contains("lang=\"en\""));
        let evil = t.get("/lang/en?next=//evil.example/").await;
        assert_eq!(evil.location(), "/");
    }
}

#[tokio::test]
async fn staff_api_create_publish_scope_csrf_and_audit() {
    for t in apps().await {
        let b = t.backend;
        let code = format!("{SPJ_DEPT}3360199000555");
        let template = t.get("/api/v1/items?q=%E4%BC%81%E4%B8%9A%E8%AE%BE%E7%AB%8B%E7%99%BB%E8%AE%B0").await.json(); // 企业设立登记
        let src = template["items"][0]["impl_code"].as_str().unwrap().to_string();
        let mut doc = t.get(&format!("/api/v1/items/{src}")).await.json()["doc"].clone();
        doc["basic_code"] = json!("360199000555");
        doc["name"] = json!("测试：农民专业合作社设立登记");
        doc["legal_basis"] = json!([]);
        let record = json!({"impl_code": code, "doc": doc});

        // Anonymous and CSRF-less writes are refused.
        let anon = t.json("POST", "/api/v1/items", &record, None).await;
        assert_eq!((anon.status, anon.json()["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("UNAUTHENTICATED")), "{b}");
        let s = t.login(SPJ.0, SPJ.1).await;
        let no_csrf = t
            .send(
                http::Request::post("/api/v1/items")
                    .header("content-type", "application/json")
                    .header("cookie", &s.cookie)
                    .body(axum::body::Body::from(record.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!((no_csrf.status, no_csrf.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("CSRF_MISMATCH")));
        let bad_json = t.json("POST", "/api/v1/items", &json!({"impl_code": 1}), Some(&s)).await;
        assert_eq!((bad_json.status, bad_json.json()["code"].as_str()), (StatusCode::BAD_REQUEST, Some("BAD_JSON")));

        let created = t.json("POST", "/api/v1/items", &record, Some(&s)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{b}: {}", created.body);
        assert_eq!(created.json()["status"], "draft");
        let dup = t.json("POST", "/api/v1/items", &record, Some(&s)).await;
        assert_eq!((dup.status, dup.json()["code"].as_str()), (StatusCode::CONFLICT, Some("ITEM_EXISTS")));

        let incomplete = t.json("POST", &format!("/api/v1/items/{code}/publish"), &json!({}), Some(&s)).await;
        assert_eq!((incomplete.status, incomplete.json()["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("ITEM_INCOMPLETE")));
        assert!(incomplete.json()["details"].as_array().unwrap().iter().any(|d| d.as_str().unwrap().contains("设定依据")));

        doc["legal_basis"] = json!(["《中华人民共和国农民专业合作社法》第十六条"]);
        let updated = t.json("PUT", &format!("/api/v1/items/{code}"), &doc, Some(&s)).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        let published = t.json("POST", &format!("/api/v1/items/{code}/publish"), &json!({}), Some(&s)).await;
        assert_eq!(published.json()["status"], "published", "{}", published.body);
        assert_eq!(t.get(&format!("/api/v1/items/{code}")).await.status, StatusCode::OK);
        let found = t.get("/api/v1/items?q=%E5%90%88%E4%BD%9C%E7%A4%BE").await.json(); // 合作社
        assert_eq!(found["items"][0]["impl_code"], code.as_str());

        // Another department's administrator cannot change it; a wrong status action is refused.
        let other = t.login(GAJ.0, GAJ.1).await;
        let forbidden = t.json("PUT", &format!("/api/v1/items/{code}"), &doc, Some(&other)).await;
        assert_eq!((forbidden.status, forbidden.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("CATALOG_FORBIDDEN")));
        let resume = t.json("POST", &format!("/api/v1/items/{code}/status"), &json!({"action": "resume"}), Some(&s)).await;
        assert_eq!((resume.status, resume.json()["code"].as_str()), (StatusCode::CONFLICT, Some("ITEM_WRONG_STATUS")));
        let hist = t.get_with(&format!("/api/v1/items/{code}/history"), &s.cookie).await.json();
        assert_eq!(hist.as_array().unwrap().len(), 3);

        // Every staff action is in the audit trail.
        let audit = t.app.identity.recent_audit(100).await.unwrap();
        for action in ["item.create", "item.update", "item.publish", "login"] {
            assert!(audit.iter().any(|a| a.action == action && a.actor == SPJ.0), "{b}: audit lacks {action}");
        }
        assert!(audit.iter().any(|a| a.action == "item.update" && a.actor == GAJ.0 && a.result.starts_with("failure")));

        let me = t.get_with("/api/v1/auth/me", &s.cookie).await.json();
        assert_eq!(me["department"], SPJ_DEPT);
        let out = t.json("POST", "/api/v1/auth/logout", &json!({}), Some(&s)).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(t.get_with("/api/v1/auth/me", &s.cookie).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn login_lockout_over_http() {
    for t in apps().await {
        let wrong = json!({"username": "window1", "password": "not-the-password"});
        for _ in 0..4 {
            let r = t.json("POST", "/api/v1/auth/login", &wrong, None).await;
            assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("INVALID_CREDENTIALS")));
        }
        let locked = t.json("POST", "/api/v1/auth/login", &wrong, None).await;
        assert_eq!((locked.status, locked.json()["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("ACCOUNT_LOCKED")));
        assert!(locked.json()["message"].as_str().unwrap().contains("锁定"));

        // One source trying many accounts is slowed down too.
        let mut limited = None;
        for i in 0..30 {
            let r = t.json("POST", "/api/v1/auth/login", &json!({"username": format!("nobody{i}"), "password": "x"}), None).await;
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                limited = Some(r.json()["code"].as_str().unwrap().to_string());
                break;
            }
        }
        assert_eq!(limited.as_deref(), Some("LOGIN_RATE_LIMITED"));
    }
}

#[tokio::test]
async fn api_import_reports_rows_and_export_downloads() {
    for t in apps().await {
        let s = t.login(ADMIN.0, ADMIN.1).await;
        let csv = t.get_with("/api/v1/catalog/export?format=csv", &s.cookie).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.contains("实施编码") && csv.body.lines().count() > 49);

        // Break one cell of one row: the whole file is rejected with row and column named.
        let broken = csv.body.replacen("承诺件", "随便件", 1);
        let req = http::Request::post("/api/v1/catalog/import?format=csv")
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .body(axum::body::Body::from(broken))
            .unwrap();
        let rejected = t.send(req).await;
        assert_eq!(
            (rejected.status, rejected.json()["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("IMPORT_REJECTED")),
            "{}",
            rejected.body
        );
        let details = rejected.json()["details"].clone();
        assert!(details.as_array().unwrap().iter().any(|d| d["column"] == "办件类型"), "{details}");

        // The untouched export imports cleanly as new drafts of every item.
        let req = http::Request::post("/api/v1/catalog/import?format=csv")
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .body(axum::body::Body::from(csv.body.clone()))
            .unwrap();
        let ok = t.send(req).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.json()["updated"], 49);
    }
}
