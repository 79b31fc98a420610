//! Electronic licences over HTTP, on SQLite and PostgreSQL: the wallet, public verification
//! (API and the QR page, personal data masked), file verification, one-use annotated copies,
//! staff issuance and revocation, seal rotation, authorization and bad input; and the offline
//! CLI `yiwang licence verify`.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;

const ID_CARD: &str = "11100000000013338W001";
const MARRIAGE: &str = "1136000021993518NX001";

#[tokio::test]
async fn wallet_verification_copies_issuance_and_rotation() {
    for t in apps().await {
        let b = t.backend;
        // Public catalogue of types and the key set.
        let types = t.get("/api/v1/licences/types").await;
        assert_eq!(types.status, StatusCode::OK);
        assert!(types.json().as_array().unwrap().len() >= 4, "{b}");
        // Platform administrators maintain the catalogue of types; others may not.
        let mut food = types.json().as_array().unwrap().iter().find(|t| t["code"] == "1136000052601815JY002").unwrap().clone();
        food["validity_years"] = json!(3);
        let admin = t.login(ADMIN.0, ADMIN.1).await;
        let r = t.json("PUT", "/api/v1/licences/types/1136000052601815JY002", &food, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut bad = food.clone();
        bad["code"] = json!("1136000052601815JY00X");
        let r = t.json("PUT", "/api/v1/licences/types/1136000052601815JY00X", &bad, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let gaj_admin = t.login(GAJ.0, GAJ.1).await;
        assert_eq!(
            t.json("PUT", "/api/v1/licences/types/1136000052601815JY002", &food, Some(&gaj_admin)).await.status,
            StatusCode::FORBIDDEN
        );

        // The demo ID card is in 张三's wallet.
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let wallet = t.get_with("/api/v1/me/licences", &zhang.cookie).await;
        assert_eq!(wallet.status, StatusCode::OK, "{}", wallet.body);
        let id = wallet.json().as_array().unwrap().iter().find(|l| l["type_code"] == ID_CARD).expect("ID card")["identifier"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(t.get("/api/v1/me/licences").await.status, StatusCode::UNAUTHORIZED);

        // Anyone can verify; personal data is masked.
        let v = t.get(&format!("/api/v1/licences/{id}/verify")).await;
        assert_eq!(v.status, StatusCode::OK, "{}", v.body);
        let v = v.json();
        assert_eq!(v["valid"], true, "{b}: {v}");
        assert_eq!(v["holder_id_masked"], "360102********1236");
        assert!(!v.to_string().contains(ZHANG.0));
        let page = t.get(&format!("/verify/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("核验通过") && !page.body.contains(ZHANG.0), "{b}");
        assert_eq!(t.get("/api/v1/licences/1.2.156.3005.2.X/verify").await.status, StatusCode::NOT_FOUND);
        assert!(t.get("/verify?identifier=nonsense").await.body.contains("未找到该电子证照"));

        // The holder's page: QR code to the verify page; someone else gets "not found".
        let mine = t.get_with(&format!("/licences/{id}"), &zhang.cookie).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains("<svg") && mine.body.contains(&format!("/verify/{id}")));
        let li = t.person_login(LI.0, LI.1).await;
        assert_eq!(t.get_with(&format!("/api/v1/me/licences/{id}"), &li.cookie).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_with(&format!("/licences/{id}/file"), &li.cookie).await.status, StatusCode::NOT_FOUND);

        // The downloaded file verifies against the published key set; a changed one does not.
        let file = t.get_with(&format!("/api/v1/me/licences/{id}/file"), &zhang.cookie).await;
        assert_eq!(file.status, StatusCode::OK);
        assert!(file.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let mut f = file.json();
        let r = t.json("POST", "/api/v1/licences/verify", &f, None).await;
        assert_eq!(r.json()["valid"], true, "{b}: {}", r.body);
        f["document"]["holder_name"] = json!("王五");
        let r = t.json("POST", "/api/v1/licences/verify", &f, None).await;
        assert_eq!(r.json()["valid"], false);
        assert_eq!(r.json()["signature_valid"], false);

        // A one-use annotated copy.
        let bad = t.json("POST", &format!("/api/v1/me/licences/{id}/copies"), &json!({"purpose": ""}), Some(&zhang)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["code"], "INVALID_FIELD");
        let c = t
            .json(
                "POST",
                &format!("/api/v1/me/licences/{id}/copies"),
                &json!({"purpose": "办理银行开户", "recipient": "青山银行"}),
                Some(&zhang),
            )
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
        let token = c.json()["copy"]["token"].as_str().unwrap().to_string();
        let view = t.get(&format!("/licence-copies/{token}")).await;
        assert!(view.body.contains("办理银行开户") && !view.body.contains(ZHANG.0), "the annotation only, until used");
        let used = t.form(&format!("/licence-copies/{token}"), &[("used_by", "青山银行")], "").await;
        assert_eq!(used.status, StatusCode::OK, "{}", used.body);
        assert!(used.body.contains(ZHANG.0) && used.body.contains("核验通过"));
        let again = t.json("POST", &format!("/api/v1/licence-copies/{token}/use"), &json!({}), None).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json()["code"], "COPY_USED");
        let uses = t.get_with(&format!("/api/v1/me/licences/{id}"), &zhang.cookie).await.json();
        assert_eq!(uses["uses"][0]["used_by"], "青山银行", "{b}");

        // Staff issuance in their own department's name, audited; bad input named.
        let mzj = t.login("mzj-window", "yiwang-demo-staff").await;
        let body = json!({"type_code": MARRIAGE, "holder_name": "张三", "holder_id": ZHANG.0,
            "data": {"spouse_name": "李梅", "spouse_id_number": "360103198512120034", "registered_on": "2026-11-23"}});
        let issued = t.json("POST", "/api/v1/staff/licences", &body, Some(&mzj)).await;
        assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
        let cert = issued.json()["document"]["identifier"].as_str().unwrap().to_string();
        assert!(cert.contains(".11360102711777742F."));
        let mut wrong = body.clone();
        wrong["holder_id"] = json!("360102199003071235");
        let r = t.json("POST", "/api/v1/staff/licences", &wrong, Some(&mzj)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let mut extra = body.clone();
        extra["data"]["nonsense"] = json!("x");
        assert_eq!(t.json("POST", "/api/v1/staff/licences", &extra, Some(&mzj)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let no_csrf = Session { cookie: mzj.cookie.clone(), csrf: "wrong".into() };
        assert_eq!(t.json("POST", "/api/v1/staff/licences", &body, Some(&no_csrf)).await.status, StatusCode::FORBIDDEN);
        assert!(t.get_with("/api/v1/me/licences", &zhang.cookie).await.body.contains(&cert));

        // Staff of another department cannot revoke it; its own can, with a reason.
        let gaj = gaj_admin;
        let r = t.json("POST", &format!("/api/v1/staff/licences/{cert}/revoke"), &json!({"reason": "x"}), Some(&gaj)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = t.json("POST", &format!("/api/v1/staff/licences/{cert}/revoke"), &json!({"reason": ""}), Some(&mzj)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.json("POST", &format!("/api/v1/staff/licences/{cert}/revoke"), &json!({"reason": "登记错误"}), Some(&mzj)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = t.get(&format!("/api/v1/licences/{cert}/verify")).await.json();
        assert_eq!((v["valid"].clone(), v["status"].clone()), (json!(false), json!("revoked")));
        let page = t.get_with("/staff/licences", &mzj.cookie).await;
        assert!(page.body.contains("已注销") || page.body.contains("Revoked"), "{b}");

        // Seal rotation: department admins only; the key set keeps the old key.
        let r = t.json("POST", "/api/v1/staff/seals/rotate", &json!({"algorithm": "Ed25519"}), Some(&mzj)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let admin = t.login("mzj-admin", "yiwang-demo-staff").await;
        let r = t.json("POST", "/api/v1/staff/seals/rotate", &json!({"algorithm": "Ed25519"}), Some(&admin)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let keys = t.get("/api/v1/licences/keys").await.json();
        let mzj_keys: Vec<_> = keys["keys"].as_array().unwrap().iter().filter(|k| k["department_code"] == "11360102711777742F").collect();
        assert_eq!(mzj_keys.len(), 2, "{b}");
        let audit: i64 = yiwang_store::sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('licence.issue', 'licence.revoke', 'seal.rotate') AND actor LIKE 'mzj-%'",
        )
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
        assert_eq!(audit, 3);
    }
}

#[test]
fn cli_verifies_a_licence_file_offline() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (file, keys) = rt.block_on(async {
        let t = apps().await.remove(0);
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let wallet = t.get_with("/api/v1/me/licences", &zhang.cookie).await.json();
        let id = wallet[0]["identifier"].as_str().unwrap().to_string();
        (t.get_with(&format!("/api/v1/me/licences/{id}/file"), &zhang.cookie).await.body, t.get("/api/v1/licences/keys").await.body)
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("licence.json"), &file).unwrap();
    std::fs::write(dir.path().join("keys.json"), &keys).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_yiwang")).args(args).current_dir(dir.path()).output().expect("run yiwang")
    };
    let out = run(&["licence", "verify", "licence.json", "--keys", "keys.json"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("VALID"));
    // Without the key set the seal is not trusted; a changed file fails.
    assert!(!run(&["licence", "verify", "licence.json"]).status.success());
    std::fs::write(dir.path().join("changed.json"), file.replace("张三", "张四")).unwrap();
    let out = run(&["licence", "verify", "changed.json", "--keys", "keys.json", "--json"]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["signature_valid"], false);
}
