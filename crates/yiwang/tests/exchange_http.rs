//! Data sharing over HTTP, on SQLite and PostgreSQL: a department system registers, asks,
//! gets approved, authenticates with a signed assertion and calls the gateway; revocation by
//! form stops it; the case workflow verifies an applicant's household registration through the
//! exchange; the applicant sees every access, staff reads included.

mod common;

use axum::body::Body;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use http::{header, Request, StatusCode};
use serde_json::json;

const POPULATION: &str = "11360000083016617P-00001";
const MZJ: &str = "11360102711777742F";

fn assertion(key: &ed25519_dalek::SigningKey, member: &str, aud: &str, jti: &str) -> String {
    let der = key.to_pkcs8_der().unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": member, "sub": member, "aud": aud, "iat": now, "exp": now + 60, "jti": jti });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
    )
    .unwrap()
}

async fn gateway_get(t: &TestApp, path: &str, token: &str, purpose: &str) -> Res {
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("x-purpose", purpose)
        .body(Body::empty())
        .unwrap();
    t.send(req).await
}

/// Percent-encode for the X-Purpose header.
#[tokio::test]
async fn a_department_system_asks_is_approved_calls_and_is_revoked() {
    for t in apps().await {
        let mzj = t.login("mzj-admin", "yiwang-demo-staff").await;
        let admin = t.login(ADMIN.0, ADMIN.1).await;
        let key = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);

        // Register the archive system (API) — another department may not.
        let body = json!({ "department_code": MZJ, "subsystem": "archive", "name": "婚姻档案系统",
            "public_key": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()), "rate_per_sec": 1000 });
        let gaj = t.login(GAJ.0, GAJ.1).await;
        assert_eq!(t.json("POST", "/api/v1/exchange/members", &body, Some(&gaj)).await.status, StatusCode::FORBIDDEN);
        let r = t.json("POST", "/api/v1/exchange/members", &body, Some(&mzj)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let member = r.json()["member_id"].as_str().unwrap().to_string();
        assert_eq!(t.json("POST", "/api/v1/exchange/members", &body, Some(&mzj)).await.status, StatusCode::CONFLICT);

        // Token: client assertion → access token.
        let aud = t.app.exchange.token_url().to_string();
        let form = |a: &str| {
            serde_urlencoded::to_string([
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", a),
            ])
            .unwrap()
        };
        let post_token = |a: String| {
            Request::post("/exchange/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(&a)))
                .unwrap()
        };
        let r = t.send(post_token(assertion(&key, &member, &aud, "a1"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let token = r.json()["access_token"].as_str().unwrap().to_string();
        let r = t.send(post_token(assertion(&key, &member, &aud, "a1"))).await;
        assert_eq!((r.status, r.json()["code"].as_str().unwrap()), (StatusCode::UNAUTHORIZED, "INVALID_CLIENT"), "replay");

        // The catalog as the system sees it.
        let r =
            t.send(Request::get("/exchange").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.json().as_array().unwrap().iter().any(|x| x["code"] == POPULATION));
        assert_eq!(t.get("/exchange").await.status, StatusCode::UNAUTHORIZED);
        // No token, bad token, no purpose.
        let path = format!("/exchange/{POPULATION}?subject={}", ZHANG.0);
        assert_eq!(t.get(&path).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(gateway_get(&t, &path, "yx1.bad.token", "x").await.status, StatusCode::UNAUTHORIZED);
        let r = gateway_get(&t, &path, &token, "").await;
        assert_eq!((r.status, r.json()["code"].as_str().unwrap()), (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD"));
        // Conditional resource without approval: 403, in Chinese, with a stable code.
        let purpose = pct("婚姻档案核对");
        let r = gateway_get(&t, &path, &token, &purpose).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(r.json()["code"], "ACCESS_DENIED");
        assert!(r.json()["message"].as_str().unwrap().contains("共享"));

        // The request goes in through the page form (CSRF checked).
        let page = t.get_with(&format!("/staff/exchange/resources/{POPULATION}"), &mzj.cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("request-form") && page.body.contains("人口基础信息"));
        let fields = [
            ("resource_code", POPULATION),
            ("member_id", member.as_str()),
            ("purpose", "婚姻档案核对"),
            ("legal_basis", "《婚姻登记档案管理办法》"),
            ("fields", "name"),
            ("fields", "address"),
            ("valid_to", "2099-01-01"),
            ("rate_per_sec", "500"),
        ];
        let r = t.form("/staff/exchange/grants", &fields, &mzj.cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
        let mut with_csrf = fields.to_vec();
        with_csrf.push(("csrf_token", mzj.csrf.as_str()));
        let r = t.form("/staff/exchange/grants", &with_csrf, &mzj.cookie).await;
        assert!(r.body.contains("有效期"), "three years at most: {}", r.body);
        let far = (chrono::Utc::now() + chrono::Duration::days(300)).format("%Y-%m-%d").to_string();
        with_csrf[6] = ("valid_to", far.as_str());
        let r = t.form("/staff/exchange/grants", &with_csrf, &mzj.cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let grants = t.get_with("/api/v1/exchange/grants", &mzj.cookie).await.json();
        let grant = grants.as_array().unwrap().iter().find(|g| g["member_id"] == member.as_str()).unwrap().clone();
        assert_eq!(grant["status"], "pending");
        let gid = grant["grant_id"].as_str().unwrap();

        // The consumer cannot approve its own request; the provider (here the platform admin) does.
        let r = t.json("POST", &format!("/api/v1/exchange/grants/{gid}/decision"), &json!({"action": "approve"}), Some(&mzj)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t
            .json("POST", &format!("/api/v1/exchange/grants/{gid}/decision"), &json!({"action": "approve", "note": "同意"}), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // Now it flows: approved items only, signed, logged.
        let r = gateway_get(&t, &path, &token, &purpose).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let a = r.json();
        assert_eq!(a["records"], json!([{ "name": "张三", "address": "江川省青山市东城区人民路1号" }]));
        assert_eq!(r.headers["x-yiwang-signature"].to_str().unwrap(), a["signature"].as_str().unwrap());
        let id = a["exchange_id"].as_str().unwrap();
        let entry = t.get_with(&format!("/api/v1/exchange/logs/{id}"), &admin.cookie).await.json();
        assert_eq!(entry["signature_valid"], true, "{entry}");
        assert_eq!(entry["record"]["purpose"], "婚姻档案核对");
        assert!(entry["record"]["subject"].as_str().unwrap().contains("********"), "masked for staff: {entry}");
        let recent = t.get_with("/api/v1/exchange/logs", &admin.cookie).await;
        assert!(recent.body.contains(id) && !recent.body.contains(ZHANG.0), "no ID number in the clear: {}", recent.body);
        let r = gateway_get(&t, &format!("{path}&fields=sex"), &token, &purpose).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "items beyond the grant");

        // A department admin publishes a resource through the page (CSRF checked, codes checked).
        let publish = [
            ("csrf_token", mzj.csrf.as_str()),
            ("provider_code", MZJ),
            ("provider_name", "青山市东城区民政局"),
            ("serial", "00001"),
            ("name", "婚姻登记档案目录"),
            ("classification", "主题信息资源/婚姻"),
            ("format", "数据库"),
            ("subject_kind", "person"),
            ("subject_item", "id_number"),
            ("items", "id_number|公民身份号码|string\narchive_no|档案号|string"),
            ("sharing_type", "conditional"),
            ("sharing_basis", ""),
            ("open_type", "not_open"),
            ("update_cycle", "daily"),
            ("service", "store"),
        ];
        let r = t.form("/staff/exchange", &publish, &mzj.cookie).await;
        assert!(r.body.contains("须说明依据"), "a conditional resource needs its basis: {}", r.body);
        let mut ok = publish.to_vec();
        ok[11] = ("sharing_basis", "《婚姻登记档案管理办法》");
        let r = t.form("/staff/exchange", &ok, &mzj.cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = t.get_with(&format!("/api/v1/exchange/resources/{MZJ}-00001"), &mzj.cookie).await.json();
        assert_eq!(r["items"][1]["label"], "档案号");
        // Editing starts from the published values.
        let page = t.get_with(&format!("/staff/exchange/resources/{MZJ}-00001"), &mzj.cookie).await;
        assert!(page.body.contains("edit-resource"), "{}", page.body);
        let form = t.get_with(&format!("/staff/exchange?edit={MZJ}-00001"), &mzj.cookie).await.body;
        assert!(form.contains("archive_no|档案号|string") && form.contains(r#"<option value="conditional" selected>"#), "{form}");
        let mut other = ok.clone();
        other[1] = ("provider_code", "11360000083016617P");
        let r = t.form("/staff/exchange", &other, &mzj.cookie).await;
        assert!(r.body.contains("exchange-error"), "only for the own department: {}", r.body);

        // Staff pages: catalog search, grants, members, statistics.
        let cat = t.get_with(&format!("/staff/exchange?q={}", pct("婚姻")), &mzj.cookie).await;
        assert!(cat.body.contains("婚姻登记信息") && !cat.body.contains("市场主体登记信息"), "{}", cat.body);
        let head = cat.body.split("</head>").next().unwrap();
        assert!(!head.contains("<form") && head.contains("<title>政务信息资源目录"), "{head}");
        let g = t.get_with("/staff/exchange/grants", &admin.cookie).await;
        assert!(g.body.contains("婚姻档案核对") && g.body.contains("已批准"));
        assert!(t.get_with("/staff/exchange/members", &mzj.cookie).await.body.contains("婚姻档案系统"));
        let st = t.get_with("/staff/exchange/stats", &admin.cookie).await;
        assert!(st.body.contains("人口基础信息") && st.body.contains(&member), "{}", st.body);
        // Citizens and anonymous callers see none of it.
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        assert_eq!(t.get_with("/api/v1/exchange/resources", &zhang.cookie).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.get("/api/v1/exchange/stats").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.get("/api/v1/exchange/keys").await.status, StatusCode::OK, "the gateway keys are public");

        // Revoked through the grants page: the next call is refused.
        let r = t
            .form(
                &format!("/staff/exchange/grants/{gid}"),
                &[("csrf_token", &mzj.csrf), ("action", "revoke"), ("note", "档案核对完成")],
                &mzj.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(gateway_get(&t, &path, &token, &purpose).await.status, StatusCode::FORBIDDEN);

        // 张三 sees the archive system's accesses and the refusals.
        let seen = t.get_with("/api/v1/me/data-access", &zhang.cookie).await.json();
        let rows = seen.as_array().unwrap();
        assert!(
            rows.iter().any(|r| r["purpose"] == "婚姻档案核对" && r["result"] == "ok" && r["department_name"] == "青山市东城区民政局"),
            "{seen}"
        );
        assert!(rows.iter().any(|r| r["result"] == "denied"));

        // A business sees the accesses about it through its agent, and only those.
        let market = format!("/exchange/1136000052601815JY-00001?subject={ZHANG_BUSINESS}");
        let r = gateway_get(&t, &market, &token, &pct("企业信息核验")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        t.json("POST", "/api/v1/businesses", &json!({"credit_code": ZHANG_BUSINESS}), Some(&zhang)).await;
        let r = t.json("POST", "/api/v1/persons/me/acting-for", &json!({"credit_code": ZHANG_BUSINESS}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let seen = t.get_with("/api/v1/me/data-access", &zhang.cookie).await.json();
        let rows = seen.as_array().unwrap();
        assert!(rows.iter().any(|r| r["resource_name"] == "市场主体登记信息" && r["purpose"] == "企业信息核验"), "{seen}");
        assert!(rows.iter().all(|r| r["purpose"] != "婚姻档案核对"), "{seen}");

        // Disabled from the members page: the token stops working at once; another
        // department's admin cannot re-enable it.
        let off = [("csrf_token", mzj.csrf.as_str()), ("member_id", member.as_str()), ("disabled", "true")];
        assert_eq!(t.form("/staff/exchange/members/state", &off, &mzj.cookie).await.status, StatusCode::SEE_OTHER);
        assert_eq!(gateway_get(&t, &market, &token, &pct("企业信息核验")).await.status, StatusCode::UNAUTHORIZED);
        let on = [("csrf_token", gaj.csrf.as_str()), ("member_id", member.as_str()), ("disabled", "false")];
        let r = t.form("/staff/exchange/members/state", &on, &gaj.cookie).await;
        assert!(r.body.contains("exchange-error") && r.body.contains("权限"), "the page says why: {}", r.body);
        assert!(t.get_with("/staff/exchange/members", &mzj.cookie).await.body.contains("已停用"));
    }
}

#[tokio::test]
async fn the_case_workflow_verifies_through_the_exchange_and_the_applicant_sees_every_access() {
    for t in apps().await {
        let code = item("jh-dj");
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let form = t.get_with(&format!("/api/v1/applications/form?item={code}"), &zhang.cookie).await.json();
        let mut values = form["prefill"].clone();
        values["spouse_name"] = json!("李梅");
        values["spouse_id_number"] = json!(LI.0);
        values["contact_phone"] = json!("13800138000");
        let slots: Vec<String> = form["materials"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
        let body = json!({"kind": "item", "code": code, "values": values});
        let created = t.json("POST", "/api/v1/applications", &body, Some(&zhang)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.json()["case_id"].as_str().unwrap().to_string();

        // The household register and marital status came through the exchange: no upload.
        let case = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        let files: Vec<String> =
            case["materials"].as_array().unwrap().iter().filter_map(|m| m["file_name"].as_str().map(String::from)).collect();
        assert!(files.iter().any(|f| f == "人口基础信息（数据共享核验）.json"), "{files:?}");
        assert!(files.iter().any(|f| f == "婚姻登记信息（数据共享核验）.json"), "{files:?}");
        let page = t.get_with(&format!("/cases/{id}"), &zhang.cookie).await;
        assert_eq!(page.body.matches("shared-used").count(), 2, "{}", page.body);
        let hukou = t.get_with(&format!("/api/v1/cases/{id}/materials/{}", pct("本人居民户口簿（全省通办可免交）")), &zhang.cookie).await;
        assert_eq!(hukou.status, StatusCode::OK);
        let answer = hukou.json();
        assert_eq!(answer["records"][0]["address"], "江川省青山市东城区人民路1号");
        assert!(answer["records"][0].get("id_number").is_none(), "only the granted items");
        assert!(!answer["signature"].as_str().unwrap().is_empty());

        // Submitting needs only what the exchange could not supply (photos, declaration).
        let r = t.json("POST", &format!("/api/v1/cases/{id}/submit"), &json!({}), Some(&zhang)).await;
        let missing: Vec<String> =
            r.json()["details"].as_array().unwrap().iter().map(|d| d["target"].as_str().unwrap().to_string()).collect();
        assert!(!missing.iter().any(|m| m.contains("户口簿")), "{missing:?}");
        for m in missing.iter().filter(|m| slots.contains(m)) {
            let r = upload(&t, &format!("/api/v1/cases/{id}/materials"), &zhang, &[("name", m)], ("a.pdf", PDF), true).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        let version = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json()["version"].clone();
        let r = t.json("POST", &format!("/api/v1/cases/{id}/submit"), &json!({ "version": version }), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // Staff open the case: a read of the applicant's data, logged too.
        let window = t.login("mzj-window", "yiwang-demo-staff").await;
        assert_eq!(t.get_with(&format!("/api/v1/staff/cases/{id}"), &window.cookie).await.status, StatusCode::OK);

        let seen = t.get_with("/api/v1/me/data-access", &zhang.cookie).await.json();
        let rows = seen.as_array().unwrap();
        assert!(
            rows.iter().any(|r| r["channel"] == "workflow"
                && r["resource_name"] == "人口基础信息"
                && r["department_name"] == "青山市东城区民政局"
                && r["purpose"].as_str().unwrap().starts_with("婚姻登记审核")),
            "{seen}"
        );
        assert!(rows.iter().any(|r| r["channel"] == "workflow" && r["resource_name"] == "婚姻登记信息"));
        assert!(rows.iter().any(|r| r["channel"] == "workbench" && r["purpose"].as_str().unwrap().contains("内地居民结婚登记")));
        let page = t.get_with("/account/data-access", &zhang.cookie).await;
        assert!(page.body.contains("人口基础信息") && page.body.contains("工作人员查阅办件"), "{}", page.body);

        // 李四 sees nothing of 张三's; 王五 (self-declared only) may not look at all.
        let li = t.person_login(LI.0, LI.1).await;
        let theirs = t.get_with("/api/v1/me/data-access", &li.cookie).await.json();
        assert!(theirs.as_array().unwrap().iter().all(|r| r["case_number"] != case["case_number"]), "{theirs}");
        let wang = t.person_login(WANG.0, WANG.1).await;
        let r = t.get_with("/api/v1/me/data-access", &wang.cookie).await;
        assert_eq!((r.status, r.json()["code"].as_str().unwrap()), (StatusCode::FORBIDDEN, "ASSURANCE_TOO_LOW"));
        assert_eq!(t.get("/api/v1/me/data-access").await.status, StatusCode::UNAUTHORIZED);
    }
}
