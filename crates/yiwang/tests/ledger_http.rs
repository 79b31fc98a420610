//! The ledger over HTTP, on SQLite and PostgreSQL: a citizen verifies the history of a case
//! ("verify this history"), nobody else can; public log endpoints; a row changed in the
//! database shows on the page and in `yiwang ledger verify`; and the independent Python
//! verifier (tools/ledger_verify.py) checks a live log and a downloaded bundle.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;
use yiwang_ledger::{check_bundle, ProofBundle};
use yiwang_store::sqlx;

#[tokio::test]
async fn citizens_verify_their_case_history_and_see_changes() {
    for t in apps().await {
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let id = submitted_case(&t, &zhang).await;
        let timeline = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json()["timeline"].clone();
        let events: Vec<i64> = timeline.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(!events.is_empty(), "{timeline}");

        // The bundle proves every event against a signed head.
        let r = t.get_with(&format!("/api/v1/cases/{id}/ledger"), &zhang.cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let bundle: ProofBundle = serde_json::from_str(&r.body).unwrap();
        assert_eq!(bundle.entries.len(), events.len(), "{}: {}", t.backend, r.body);
        assert!(bundle.pending.is_empty());
        assert!(check_bundle(&bundle, None).all_valid());
        assert_eq!(bundle.entries[0].entry.record["case_id"], id.as_str());
        // Only the owner.
        let li = t.person_login(LI.0, LI.1).await;
        assert_eq!(t.get_with(&format!("/api/v1/cases/{id}/ledger"), &li.cookie).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get(&format!("/api/v1/cases/{id}/ledger")).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.get_with(&format!("/cases/{id}/ledger"), &li.cookie).await.status, StatusCode::NOT_FOUND);

        let page = t.get_with(&format!("/cases/{id}/ledger"), &zhang.cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("验证通过"), "{}", page.body);
        assert!(t.get_with(&format!("/cases/{id}"), &zhang.cookie).await.body.contains(&format!("/cases/{id}/ledger")));

        // Someone with database access rewrites an event: the page and the verifier say so.
        sqlx::query("UPDATE case_events SET note = '已办结' WHERE id = $1").bind(events[0]).execute(t.app.db.reader()).await.unwrap();
        let page = t.get_with(&format!("/cases/{id}/ledger"), &zhang.cookie).await;
        assert!(page.body.contains("数据库中的记录已被改动") && page.body.contains("验证未通过"), "{}", page.body);
        let report = yiwang_ledger::audit::run(&t.app.db, Default::default()).await.unwrap();
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.kind == yiwang_ledger::FindingKind::SourceEdited && f.key.as_deref() == Some(&events[0].to_string())),
            "{:?}",
            report.findings
        );

        // Public endpoints.
        let info = t.get("/api/v1/ledger").await.json();
        assert_eq!(info["hash"], "sm3");
        let size = info["tree_size"].as_u64().unwrap();
        assert!(size > 100, "demo data and the case are recorded: {info}");
        assert_eq!(info["keys"][0]["algorithm"], "SM2-SM3");
        let head = t.json("POST", "/api/v1/ledger/heads", &json!({}), None).await;
        assert_eq!(head.status, StatusCode::OK, "{}", head.body);
        let head = head.json();
        let n = head["tree_size"].as_u64().unwrap();
        let p = t.get(&format!("/api/v1/ledger/proofs/inclusion?index=3&tree_size={n}")).await.json();
        assert_eq!(p["index"], 3);
        let c = t.get(&format!("/api/v1/ledger/proofs/consistency?first=10&second={n}")).await;
        assert_eq!(c.status, StatusCode::OK);
        let bad = t.get(&format!("/api/v1/ledger/proofs/inclusion?index={n}&tree_size={n}")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["code"], "INVALID_FIELD");
        let leaves = t.get("/api/v1/ledger/leaves?start=0&end=5").await.json();
        assert_eq!(leaves.as_array().unwrap().len(), 5);
        assert!(leaves[0].get("record").is_none(), "records are not public");
        assert!(t.get("/ledger").await.body.contains("政务账本"));
    }
}

fn python_ready() -> bool {
    let ok = std::process::Command::new("python3").args(["-c", "import gmssl"]).status().map(|s| s.success()).unwrap_or(false);
    if !ok && std::env::var("YIWANG_REQUIRE_GMSSL").as_deref() == Ok("1") {
        panic!("python3 with gmssl is required (pip install gmssl)");
    }
    ok
}

#[test]
fn independent_verifier_and_cli_check_a_live_log() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/yiwang.db", dir.path().display());
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/ledger_verify.py");
    let (base, bundle) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let settings = yiwang::Settings { database_url: url.clone(), public_url: format!("http://{addr}"), ..Default::default() };
        let app = yiwang::build(&settings).await.unwrap();
        app.ledger.sequence_now().await.unwrap();
        app.ledger.sign_head().await.unwrap();
        app.identity.audit("window-1", "case.accept", "X", "success", "127.0.0.1").await.unwrap();
        app.ledger.sequence_now().await.unwrap();
        app.ledger.sign_head().await.unwrap();
        let keys: Vec<String> = (1..=3).map(|i| i.to_string()).collect();
        let bundle = serde_json::to_string(&app.ledger.prove("item_change", &keys).await.unwrap()).unwrap();
        let router = yiwang_web::router(app);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        (format!("http://{addr}"), bundle)
    });

    if python_ready() {
        let out = std::process::Command::new("python3").args([tools, "log", "--url", &base]).output().unwrap();
        assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        std::fs::write(dir.path().join("bundle.json"), &bundle).unwrap();
        let out = std::process::Command::new("python3").args([tools, "bundle"]).arg(dir.path().join("bundle.json")).output().unwrap();
        assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        std::fs::write(dir.path().join("changed.json"), bundle.replace("\"publish\"", "\"cancel\"")).unwrap();
        let out = std::process::Command::new("python3").args([tools, "bundle"]).arg(dir.path().join("changed.json")).output().unwrap();
        assert!(!out.status.success(), "a changed record fails: {}", String::from_utf8_lossy(&out.stdout));
    }

    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_yiwang"))
            .args(args)
            .env("YIWANG_DATABASE_URL", &url)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = cli(&["ledger", "verify"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("未发现篡改"));
    rt.block_on(async {
        let db = yiwang_store::Db::connect(&yiwang_store::ConnectOptions::new(&url)).await.unwrap();
        sqlx::query("DELETE FROM ledger_entries WHERE leaf_index = 42").execute(db.reader()).await.unwrap();
        db.close().await;
    });
    let out = cli(&["ledger", "verify", "--json"]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["ledger"]["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "entry_deleted" && f["position"] == 42),
        "{report}"
    );
    assert_eq!(report["exchange_log"]["findings"], serde_json::json!([]), "{report}");
}
