//! Openness over HTTP: the CKAN-compatible API read by the stock `ckanapi` Python client
//! against a live server; CKAN envelopes and errors, DCAT, the Atom feed; documents,
//! disclosure requests and dataset ratings through the JSON API and pages, on both databases.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;

fn ckanapi_ready() -> bool {
    let ok = std::process::Command::new("python3").args(["-c", "import ckanapi"]).status().map(|s| s.success()).unwrap_or(false);
    if !ok && std::env::var("YIWANG_REQUIRE_CKANAPI").as_deref() == Ok("1") {
        panic!("python3 with ckanapi is required (pip install ckanapi)");
    }
    ok
}

#[test]
fn the_ckanapi_client_reads_yiwang() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/yiwang.db", dir.path().display());
    let base = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let settings = yiwang::Settings { database_url: url.clone(), public_url: format!("http://{addr}"), ..Default::default() };
        let router = yiwang_web::router(yiwang::build(&settings).await.unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        format!("http://{addr}")
    });
    if ckanapi_ready() {
        let tool = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/ckan_check.py");
        let out = std::process::Command::new("python3").args([tool, &base]).output().unwrap();
        assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("datastore OK"));
    }
    drop(rt);
}

#[tokio::test]
async fn ckan_envelopes_documents_requests_and_ratings() {
    for t in apps().await {
        // CKAN envelopes, POST bodies, errors.
        let r = t.get("/api/3/action/package_search?q=%E5%85%AC%E4%BA%A4&rows=2").await;
        assert_eq!(r.status, StatusCode::OK);
        let v = r.json();
        assert_eq!(v["success"], true);
        assert!(v["result"]["count"].as_u64().unwrap() >= 1 && v["result"]["results"].as_array().unwrap().len() <= 2);
        let r = t.json("POST", "/api/3/action/package_show", &json!({"id": "qingshan-hospitals"}), None).await;
        assert_eq!(r.json()["result"]["organization"]["title"], "青山市卫生健康委员会");
        let missing = t.get("/api/3/action/package_show?id=nope").await;
        assert_eq!((missing.status, missing.json()["error"]["__type"].as_str()), (StatusCode::NOT_FOUND, Some("Not Found Error")));
        assert_eq!(t.get("/api/3/action/package_search?rows=abc").await.status, StatusCode::CONFLICT);
        assert_eq!(t.get("/api/3/action/drop_everything").await.status, StatusCode::BAD_REQUEST);
        let dcat = t.get("/data/catalog.jsonld").await;
        assert!(dcat.headers[http::header::CONTENT_TYPE].to_str().unwrap().starts_with("application/ld+json"));
        assert!(dcat.json()["dcat:dataset"].as_array().unwrap().len() >= 20);
        let feed = t.get("/gk/feed.atom").await;
        assert!(feed.body.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">") && feed.body.contains("<entry>"));

        // Documents: search finds the interpretation's words; pages render them.
        let docs = t.get("/api/v1/gk/documents?q=%E4%B8%8D%E7%94%A8%E8%B7%91").await.json();
        assert!(docs["total"].as_u64().unwrap() >= 1, "{docs}");
        let id = docs["documents"][0]["doc_id"].as_str().unwrap().to_string();
        let page = t.get(&format!("/gk/{id}")).await;
        assert!(page.body.contains("id=\"interpretation\""), "{}", page.status);
        assert_eq!(t.get("/gk/not-a-document").await.status, StatusCode::NOT_FOUND);
        // A department admin drafts and schedules; the public sees nothing until then.
        let spj = t.login(SPJ.0, SPJ.1).await;
        let d = t
            .json(
                "POST",
                "/api/v1/gk/documents",
                &json!({"department": SPJ_DEPT, "kind": "notice", "title": "关于周末延时服务的通知", "doc_number": "青审批通〔2026〕50号", "issued_on": "2026-11-20", "body": "周六上午开放综合窗口。"}),
                Some(&spj),
            )
            .await;
        assert_eq!(d.status, StatusCode::CREATED, "{}", d.body);
        let did = d.json()["doc_id"].as_str().unwrap().to_string();
        assert_eq!(t.get(&format!("/api/v1/gk/documents/{did}")).await.status, StatusCode::NOT_FOUND, "draft");
        let later = t.json("POST", &format!("/api/v1/gk/documents/{did}/publish"), &json!({"at": "2099-01-01T09:00"}), Some(&spj)).await;
        assert_eq!(later.status, StatusCode::OK, "{}", later.body);
        assert_eq!(t.get(&format!("/api/v1/gk/documents/{did}")).await.status, StatusCode::NOT_FOUND, "scheduled");
        t.json("POST", &format!("/api/v1/gk/documents/{did}/publish"), &json!({}), Some(&spj)).await;
        assert_eq!(t.get(&format!("/api/v1/gk/documents/{did}")).await.status, StatusCode::OK);
        let gaj = t.login(GAJ.0, GAJ.1).await;
        assert_eq!(
            t.json("POST", &format!("/api/v1/gk/documents/{did}/withdraw"), &json!({"reason": "x"}), Some(&gaj)).await.status,
            StatusCode::FORBIDDEN
        );

        // Disclosure on application: filed by a citizen, answered by the department.
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let r = t
            .json(
                "POST",
                "/api/v1/gk/requests",
                &json!({"department_code": SPJ_DEPT, "description": "2025年企业开办平均用时", "purpose": "研究"}),
                Some(&zhang),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let rid = r.json()["request_id"].as_str().unwrap().to_string();
        assert!(r.json().get("requester").is_none());
        let bad = t.json("POST", "/api/v1/gk/requests", &json!({"department_code": "X", "description": "a"}), Some(&zhang)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let window = t.login("window1", "yiwang-demo-staff").await;
        let a = t
            .json(
                "POST",
                &format!("/api/v1/gk/requests/{rid}/actions"),
                &json!({"action": "answer", "decision": "disclosed", "answer": "平均0.8个工作日"}),
                Some(&window),
            )
            .await;
        assert_eq!(a.json()["status"], "answered", "{}", a.body);
        let page = t.get_with(&format!("/gk/requests/{rid}"), &zhang.cookie).await;
        assert!(page.body.contains("平均0.8个工作日"));
        let li = t.person_login(LI.0, LI.1).await;
        assert_eq!(t.get_with(&format!("/gk/requests/{rid}"), &li.cookie).await.status, StatusCode::NOT_FOUND);

        // Open data pages, downloads and ratings.
        let page = t.get("/data/qingshan-bus-lines").await;
        assert!(page.body.contains("class=\"preview\"") && page.body.contains("3路"));
        let link = page.body.split("/data/qingshan-bus-lines/resources/").nth(1).unwrap().split('"').next().unwrap().to_string();
        let csv = t.get(&format!("/data/qingshan-bus-lines/resources/{link}")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with("线路,起点"));
        let rated = t.json("POST", "/api/v1/opendata/datasets/qingshan-bus-lines/rating", &json!({"level": 5}), Some(&zhang)).await;
        assert_eq!((rated.json()["ratings"].as_i64(), rated.json()["downloads"].as_i64()), (Some(1), Some(1)));
        assert_eq!(
            t.json("POST", "/api/v1/opendata/datasets/qingshan-bus-lines/rating", &json!({"level": 5}), None).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert!(t.get("/data?q=%E5%8C%BB%E9%99%A2").await.body.contains("qingshan-hospitals"));

        // A department publishes its own dataset and a table; others may not.
        let ds = json!({"name": "spj-window-waits", "title": "综合窗口等候时间", "notes": "每日平均等候分钟数", "organization": SPJ_DEPT,
            "license_id": "cc-by-4.0", "groups": ["government"], "tags": ["窗口", "等候"]});
        assert_eq!(t.json("PUT", "/api/v1/opendata/datasets/spj-window-waits", &ds, Some(&gaj)).await.status, StatusCode::FORBIDDEN);
        let put = t.json("PUT", "/api/v1/opendata/datasets/spj-window-waits", &ds, Some(&spj)).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
        let req = http::Request::post("/api/v1/opendata/datasets/spj-window-waits/resources?name=%E7%AD%89%E5%80%99&format=CSV")
            .header("cookie", &spj.cookie)
            .header("x-csrf-token", &spj.csrf)
            .body(axum::body::Body::from(
                "日期,分钟
2026-11-02,12
2026-11-03,9
",
            ))
            .unwrap();
        let up = t.send(req).await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
        let rid = up.json()["id"].as_str().unwrap().to_string();
        let rows = t.get(&format!("/api/3/action/datastore_search?resource_id={rid}&sort=%E5%88%86%E9%92%9F%20asc")).await.json();
        assert_eq!(rows["result"]["records"][0]["分钟"], 9.0);
        let found = t.get("/api/3/action/package_search?q=%E7%AD%89%E5%80%99").await.json();
        assert_eq!(found["result"]["results"][0]["name"], "spj-window-waits");

        // The same through the staff pages: a dataset by form, a table and an attachment by upload.
        let form = [
            ("csrf_token", spj.csrf.as_str()),
            ("action", "dataset"),
            ("name", "spj-queue-numbers"),
            ("title", "取号量统计"),
            ("license_id", "gov-open"),
            ("group", "government"),
            ("tags", "取号, 窗口"),
            ("update_cycle", "每日"),
        ];
        assert_eq!(t.form("/staff/gk", &form, &spj.cookie).await.status, StatusCode::SEE_OTHER);
        let workbench = t.get_with("/staff/gk", &spj.cookie).await.body;
        assert_eq!(workbench.matches("id=\"datasets\"").count(), 1, "the datasets section once, not in the title");
        assert!(workbench.contains("<title>政务公开管理"));
        let fields = [
            ("csrf_token", spj.csrf.as_str()),
            ("target", "resource"),
            ("dataset", "spj-queue-numbers"),
            ("name", "取号量"),
            ("format", "CSV"),
        ];
        let up = upload(&t, "/staff/gk/upload", &spj, &fields, ("q.csv", "日期,取号\n2026-11-02,300\n".as_bytes()), false).await;
        assert_eq!(up.status, StatusCode::SEE_OTHER, "{}", up.body);
        assert!(t.get("/data/spj-queue-numbers").await.body.contains("300"));
        let no_csrf = upload(
            &t,
            "/staff/gk/upload",
            &spj,
            &[("target", "resource"), ("dataset", "spj-queue-numbers"), ("format", "CSV")],
            ("q.csv", b"a\n1\n"),
            false,
        )
        .await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
        let fields = [("csrf_token", spj.csrf.as_str()), ("target", "attachment"), ("id", did.as_str()), ("name", "延时服务安排.pdf")];
        let att = upload(&t, "/staff/gk/upload", &spj, &fields, ("a.pdf", b"%PDF-1.4"), false).await;
        assert_eq!(att.status, StatusCode::SEE_OTHER, "{}", att.body);
        let file = t.get(&format!("/gk/{did}/files/%E5%BB%B6%E6%97%B6%E6%9C%8D%E5%8A%A1%E5%AE%89%E6%8E%92.pdf")).await;
        assert_eq!((file.status, file.body.as_str()), (StatusCode::OK, "%PDF-1.4"));
    }
}
