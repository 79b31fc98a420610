//! Applications and cases over HTTP, on SQLite and PostgreSQL: the JSON API journey with a
//! correction, the same through the pages (CSRF, uploads, one-time notice), authorization
//! between citizens and departments, bad input, window intake, notifications and audit.

mod common;

use axum::body::Body;
use common::*;
use http::{header, Request, StatusCode};
use serde_json::json;

const HUKOU: &str = "居民户口簿或原居民身份证";

#[tokio::test]
async fn api_journey_with_correction_authorization_and_notices() {
    for t in apps().await {
        let code = item("sfz-hb");
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let li = t.person_login(LI.0, LI.1).await;

        let form = t.get_with(&format!("/api/v1/applications/form?item={code}"), &zhang.cookie).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let form = form.json();
        assert_eq!(form["prefill"]["id_number"], ZHANG.0, "{} prefill", t.backend);
        assert_eq!(form["prefill"]["address"], "江川省青山市东城区人民路1号", "registered address from the population register: {form}");
        // An unverified (L1) person gets no address from the register.
        let wang = t.person_login(WANG.0, WANG.1).await;
        let wf = t.get_with(&format!("/api/v1/applications/form?item={code}"), &wang.cookie).await.json();
        assert!(wf["prefill"].get("address").is_none(), "{wf}");
        assert!(form["materials"].as_array().unwrap().iter().any(|m| m["name"] == HUKOU));

        // Signed out: 401, not a redirect.
        let anon = t.json("POST", "/api/v1/applications", &json!({"kind": "item", "code": code}), None).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED);

        let body = json!({"kind": "item", "code": code, "values": form["prefill"]});
        let req = Request::post("/api/v1/applications")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &zhang.cookie)
            .header("x-csrf-token", &zhang.csrf)
            .header("idempotency-key", "sfz-1")
            .body(Body::from(body.to_string()))
            .unwrap();
        let created = t.send(req).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let case = created.json();
        let id = case["case_id"].as_str().unwrap().to_string();
        assert!(case.get("applicant_id_number").is_none(), "personal data is not in the case body");

        // One-time notice: every problem at once, with a stable code.
        let r = t.json("POST", &format!("/api/v1/cases/{id}/submit"), &json!({}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let e = r.json();
        assert_eq!(e["code"], "PRECHECK_FAILED");
        let targets: Vec<_> = e["details"].as_array().unwrap().iter().map(|d| d["target"].as_str().unwrap().to_string()).collect();
        assert_eq!(targets, ["reason", HUKOU].map(String::from).to_vec(), "{}", r.body);

        let mut values = form["prefill"].clone();
        values["contact_phone"] = json!("13800138000");
        values["reason"] = json!("有效期满换领");
        values["address"] = json!("青山市东城区人民路1号");
        let r =
            t.json("PUT", &format!("/api/v1/cases/{id}/form"), &json!({"values": values, "version": case["version"]}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // A stale version is refused.
        let r = t.json("PUT", &format!("/api/v1/cases/{id}/form"), &json!({"values": values, "version": 0}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.json()["code"], "STALE_VERSION");

        // Uploads are checked by content; the CSRF header is required.
        let r = upload(&t, &format!("/api/v1/cases/{id}/materials"), &zhang, &[("name", HUKOU)], ("x.exe", b"MZ\x90\x00"), true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["code"], "BAD_MATERIAL");
        let r = upload(&t, &format!("/api/v1/cases/{id}/materials"), &zhang, &[("name", HUKOU)], ("hukou.pdf", PDF), false).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF header");
        let r = upload(&t, &format!("/api/v1/cases/{id}/materials"), &zhang, &[("name", "不相干的材料")], ("a.pdf", PDF), true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = upload(&t, &format!("/api/v1/cases/{id}/materials"), &zhang, &[("name", HUKOU)], ("hukou.pdf", PDF), true).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        // 李四 cannot upload to, read, or submit 张三's case.
        let r = upload(&t, &format!("/api/v1/cases/{id}/materials"), &li, &[("name", HUKOU)], ("a.pdf", PDF), true).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_with(&format!("/api/v1/cases/{id}"), &li.cookie).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.json("POST", &format!("/api/v1/cases/{id}/submit"), &json!({}), Some(&li)).await.status, StatusCode::NOT_FOUND);

        let r = t.json("POST", &format!("/api/v1/cases/{id}/submit"), &json!({}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let case = r.json();
        let number = case["case_number"].as_str().unwrap().to_string();
        assert_eq!(number.len(), 43);
        assert_eq!(case["status"], "submitted");

        // Staff: the window of 公安局 sees it; the window of 行政审批局 does not.
        let window = t.login("gaj-window", "yiwang-demo-staff").await;
        let other = t.login("window1", "yiwang-demo-staff").await;
        let q = t.get_with("/api/v1/staff/cases", &window.cookie).await.json();
        let row = q.as_array().unwrap().iter().find(|r| r["case_id"] == id.as_str()).expect("in the window's queue").clone();
        assert_eq!(row["applicant_name_masked"], "张*", "{row}");
        assert_eq!(t.get_with(&format!("/api/v1/staff/cases/{id}"), &other.cookie).await.status, StatusCode::NOT_FOUND);
        let r = t
            .json(
                "POST",
                &format!("/api/v1/staff/cases/{id}/actions"),
                &json!({"action": "accept", "version": row["version"]}),
                Some(&other),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let v = row["version"].as_i64().unwrap();
        let r = t
            .json("POST", &format!("/api/v1/staff/cases/{id}/actions"), &json!({"action": "accept", "version": v - 1}), Some(&window))
            .await;
        assert_eq!(r.json()["code"], "STALE_VERSION");
        let r = t
            .json("POST", &format!("/api/v1/staff/cases/{id}/actions"), &json!({"action": "launch_missiles", "version": v}), Some(&window))
            .await;
        assert!(r.status.is_client_error(), "{}", r.body);
        let r =
            t.json("POST", &format!("/api/v1/staff/cases/{id}/actions"), &json!({"action": "accept", "version": v}), Some(&window)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let staff_view = r.json();
        assert_eq!(staff_view["applicant_id_masked"], "360102********1236");
        assert_eq!(staff_view["phone_masked"], "138****8000");

        let approver = t.login("gaj-approver", "yiwang-demo-staff").await;
        let view = t.get_with(&format!("/api/v1/staff/cases/{id}"), &approver.cookie).await.json();
        // Correction without a note is refused; with one, the clock stops.
        let r = t
            .json(
                "POST",
                &format!("/api/v1/staff/cases/{id}/actions"),
                &json!({"action": "request_correction", "note": " ", "version": view["version"]}),
                Some(&approver),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t
            .json(
                "POST",
                &format!("/api/v1/staff/cases/{id}/actions"),
                &json!({"action": "request_correction", "note": "请上传清晰的户口簿首页", "version": view["version"]}),
                Some(&approver),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mine = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        assert_eq!(mine["status"], "correction");
        assert_eq!(mine["correction_note"], "请上传清晰的户口簿首页");
        let r = upload(
            &t,
            &format!("/api/v1/cases/{id}/materials"),
            &zhang,
            &[("name", HUKOU)],
            ("hukou-2.png", b"\x89PNG\r\n\x1a\nclear"),
            true,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = t.json("POST", &format!("/api/v1/cases/{id}/resubmit"), &json!({"version": mine["version"]}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["status"], "in_progress");

        for _ in 0..2 {
            let v = t.get_with(&format!("/api/v1/staff/cases/{id}"), &approver.cookie).await.json()["version"].clone();
            let r = t
                .json(
                    "POST",
                    &format!("/api/v1/staff/cases/{id}/actions"),
                    &json!({"action": "approve", "branch": 1, "version": v}),
                    Some(&approver),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let mine = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        assert_eq!(mine["status"], "delivered");
        assert_eq!(mine["outcome"], "approved");
        let kinds: Vec<_> = mine["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
        assert_eq!(
            kinds,
            ["submitted", "accepted", "correction_requested", "resubmitted", "step_completed", "branch_approved", "concluded", "delivered"]
        );
        assert!(
            mine["timeline"].as_array().unwrap().iter().all(|e| e.get("actor").is_none()),
            "staff identities are not shown to applicants"
        );
        let mine_list = t.get_with("/api/v1/cases", &zhang.cookie).await.json();
        assert!(mine_list.as_array().unwrap().iter().any(|c| c["case_number"] == number.as_str()));
        let others = t.get_with("/api/v1/cases", &li.cookie).await.json();
        assert!(!others.as_array().unwrap().iter().any(|c| c["case_number"] == number.as_str()), "another person never sees it");

        // The decision document for the owner (full name), 404 for anyone else.
        let doc = t.get_with(&format!("/cases/{id}/decision"), &zhang.cookie).await;
        assert_eq!(doc.status, StatusCode::OK);
        assert!(doc.body.contains("准予办理决定书") && doc.body.contains(&number), "{}", doc.body);
        assert_eq!(t.get_with(&format!("/cases/{id}/decision"), &li.cookie).await.status, StatusCode::NOT_FOUND);

        // Materials download as attachments for the owner, not for others.
        let enc = yiwang_web::pages::urlencode(HUKOU);
        let d = t.get_with(&format!("/api/v1/cases/{id}/materials/{enc}"), &zhang.cookie).await;
        assert_eq!(d.status, StatusCode::OK);
        assert!(d.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
        assert_eq!(d.headers[header::CONTENT_TYPE], "image/png");
        assert_eq!(t.get_with(&format!("/api/v1/cases/{id}/materials/{enc}"), &li.cookie).await.status, StatusCode::NOT_FOUND);

        // Notices: inbox for the account, SMS in the outbox, every staff action audited.
        let inbox = t.get_with("/api/v1/inbox", &zhang.cookie).await.json();
        let titles: Vec<_> = inbox.as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_string()).collect();
        for want in ["申请已提交", "申请已受理", "请补正申请材料", "办件已办结"] {
            assert!(titles.iter().any(|t| t == want), "{want} in {titles:?}");
        }
        assert!(inbox[0]["body"].as_str().unwrap().contains("电子送达"));
        let sms = t.app.outbox.for_recipient("13800138000", 20).await.unwrap();
        assert!(sms.iter().any(|m| m.body.contains(&number)), "the acceptance SMS names the case number");
        let audit = t.app.identity.recent_audit(50).await.unwrap();
        assert!(audit.iter().filter(|a| a.action == "case.action" && a.target == id).count() >= 4, "{audit:?}");
    }
}

#[tokio::test]
async fn pages_apply_upload_submit_and_act() {
    for t in apps().await {
        let code = item("sfz-hb");
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        // The guide links to the application.
        let guide = t.get(&format!("/items/{code}")).await;
        assert!(guide.body.contains(&format!("/apply?item={code}")));
        // Signed out, the application page sends you to sign in and back.
        let r = t.get(&format!("/apply?item={code}")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location().starts_with("/login?next="), "{}", r.location());
        let page = t.get_with(&format!("/apply?item={code}"), &zhang.cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("value=\"360102199003071236\""), "pre-filled");

        let fields = [
            ("csrf_token", zhang.csrf.as_str()),
            ("kind", "item"),
            ("code", code.as_str()),
            ("idempotency_key", "page-1"),
            ("f_applicant_name", "张伟"),
            ("f_id_number", ZHANG.0),
            ("f_contact_phone", "13800138000"),
            ("f_reason", "遗失补领"),
            ("delivery", "courier"),
            ("delivery_address", "青山市东城区人民路1号"),
        ];
        // Without the CSRF token: refused.
        let no_csrf: Vec<_> = fields.iter().filter(|(k, _)| *k != "csrf_token").cloned().collect();
        assert_eq!(t.form("/apply", &no_csrf, &zhang.cookie).await.status, StatusCode::FORBIDDEN);
        let r = t.form("/apply", &fields, &zhang.cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let case_url = r.location();
        let id = case_url.trim_start_matches("/cases/").to_string();
        // A double click (same key) lands on the same draft.
        assert_eq!(t.form("/apply", &fields, &zhang.cookie).await.location(), case_url);

        let page = t.get_with(&case_url, &zhang.cookie).await;
        assert!(page.body.contains("id=\"case-form\""));
        let version = |body: &str| body.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
        let v = version(&page.body);
        // Submit from the page: the one-time notice lists the conditional field, address and material.
        let mut submit: Vec<(&str, &str)> = fields.iter().filter(|(k, _)| k.starts_with("f_") || k.starts_with("deliv")).cloned().collect();
        submit.extend([("csrf_token", zhang.csrf.as_str()), ("version", v.as_str()), ("then", "submit")]);
        let r = t.form(&format!("{case_url}/form"), &submit, &zhang.cookie).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("id=\"precheck-problems\""));
        for want in ["遗失地点及经过", "户籍地址", HUKOU] {
            assert!(r.body.contains(want), "{want}");
        }
        // Upload from the page (token in the multipart form).
        let (ct, body) = multipart(&[("csrf_token", &zhang.csrf), ("name", HUKOU)], Some(("户口簿.pdf", PDF)));
        let req = Request::post(format!("{case_url}/materials"))
            .header(header::CONTENT_TYPE, ct)
            .header(header::COOKIE, &zhang.cookie)
            .body(Body::from(body))
            .unwrap();
        let r = t.send(req).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let (ct, body) = multipart(&[("csrf_token", "forged"), ("name", HUKOU)], Some(("x.pdf", PDF)));
        let req = Request::post(format!("{case_url}/materials"))
            .header(header::CONTENT_TYPE, ct)
            .header(header::COOKIE, &zhang.cookie)
            .body(Body::from(body))
            .unwrap();
        assert_eq!(t.send(req).await.status, StatusCode::FORBIDDEN);

        let page = t.get_with(&case_url, &zhang.cookie).await;
        let v = version(&page.body);
        let mut submit: Vec<(&str, &str)> = fields.iter().filter(|(k, _)| k.starts_with("f_") || k.starts_with("deliv")).cloned().collect();
        submit.extend([
            ("f_lost_place", "公交车上"),
            ("f_address", "青山市东城区人民路1号"),
            ("csrf_token", zhang.csrf.as_str()),
            ("version", v.as_str()),
            ("then", "submit"),
        ]);
        let r = t.form(&format!("{case_url}/form"), &submit, &zhang.cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = t.get_with(&case_url, &zhang.cookie).await;
        assert!(page.body.contains("待受理"), "status shown");
        assert!(page.body.contains("id=\"timeline\""));
        let list = t.get_with("/cases", &zhang.cookie).await;
        assert!(list.body.contains(&id));

        // Staff pages: queue with the case, then accept through the form.
        let window = t.login("gaj-window", "yiwang-demo-staff").await;
        let q = t.get_with("/staff/cases", &window.cookie).await;
        assert_eq!(q.status, StatusCode::OK);
        assert!(q.body.contains(&id) && q.body.contains("张*"), "masked name in the queue");
        let sp = t.get_with(&format!("/staff/cases/{id}"), &window.cookie).await;
        assert!(sp.body.contains("id=\"do-accept\""), "the window may accept");
        let v = version(&sp.body);
        let r = t
            .form(
                &format!("/staff/cases/{id}/action"),
                &[("csrf_token", &window.csrf), ("version", &v), ("action", "accept")],
                &window.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // The same form again (stale version) explains instead of failing.
        let r = t
            .form(
                &format!("/staff/cases/{id}/action"),
                &[("csrf_token", &window.csrf), ("version", &v), ("action", "accept")],
                &window.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("id=\"action-error\""));
        let inbox = t.get_with("/inbox", &zhang.cookie).await;
        assert!(inbox.body.contains("申请已受理"));
    }
}

#[tokio::test]
async fn bad_input_and_window_intake() {
    for t in apps().await {
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let r = t.json("POST", "/api/v1/applications", &json!({"kind": "spaceship", "code": "x"}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = t.json("POST", "/api/v1/applications", &json!({"kind": "item", "code": "no-such-item"}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t
            .json("POST", "/api/v1/applications", &json!({"kind": "item", "code": item("sfz-hb"), "delivery": "courier"}), Some(&zhang))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "courier needs an address");
        let r = t.json("POST", "/api/v1/applications", &json!({"kind": "item", "code": item("qy-sl")}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "a person cannot apply for a business item");
        assert_eq!(r.json()["code"], "ACTION_REFUSED");
        let r = t.get_with("/api/v1/applications/form", &zhang.cookie).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        // Workflow definitions: department admins of the item's department only; checked first.
        let spj = t.login(SPJ.0, SPJ.1).await;
        let gaj = t.login(GAJ.0, GAJ.1).await;
        let path = format!("/api/v1/items/{}/workflow", item("qy-bg"));
        let bad = json!({"steps": [{"key": "a", "name": "审查", "role": "janitor"}]});
        let r = t.json("PUT", &path, &bad, Some(&spj)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["code"], "BAD_WORKFLOW");
        let good = json!({"steps": [{"key": "review", "name": "审核", "days": 1}, {"key": "sign", "name": "签批", "role": "dept_admin"}],
            "rules": [{"fact": "applicant.kind", "op": "eq", "value": "business", "message": "仅限企业"}]});
        assert_eq!(t.json("PUT", &path, &good, Some(&gaj)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.json("PUT", &path, &good, Some(&spj)).await.status, StatusCode::NO_CONTENT);
        let got = t.get_with(&path, &spj.cookie).await.json();
        assert_eq!(got["steps"][1]["role"], "dept_admin");

        // Window intake: a wrong check digit is caught; a good one is accepted and finished.
        let window = t.login("gaj-window", "yiwang-demo-staff").await;
        let body = |id: &str| {
            json!({"kind": "item", "code": item("jsz-hz"), "on_the_spot": true,
                "applicant": {"kind": "person", "name": "赵敏", "id_number": id, "phone": "13700137000"},
                "values": {"contact_name": "赵敏", "contact_phone": "13700137000", "contact_email": "zhaomin@example.com"}})
        };
        let r = t.json("POST", "/api/v1/staff/window-applications", &body("360102200001010022"), Some(&window)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = t.json("POST", "/api/v1/staff/window-applications", &body("360102200001010021"), Some(&window)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["status"], "delivered");
        assert_eq!(r.json()["channel"], "window");
        let mails = t.app.outbox.for_recipient("zhaomin@example.com", 5).await.unwrap();
        assert!(mails.iter().any(|m| m.channel == "email" && m.subject.contains("办结")), "{mails:?}");
        // A citizen (not staff) cannot use the window endpoint.
        let r = t.json("POST", "/api/v1/staff/window-applications", &body("360102200001010021"), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // The window page works without script: choose an item, fill, accept.
        let page = t.get_with(&format!("/staff/window?item={}", item("jsz-hz")), &window.cookie).await;
        assert!(page.body.contains("id=\"window-form\""), "{}", page.body);
        let r = t
            .form(
                "/staff/window",
                &[
                    ("csrf_token", &window.csrf),
                    ("item", &item("jsz-hz")),
                    ("kind", "person"),
                    ("name", "钱多多"),
                    ("id_number", "360102199003071235"),
                    ("f_contact_name", "钱多多"),
                    ("f_contact_phone", "13700137001"),
                    ("delivery", "window"),
                    ("on_the_spot", "true"),
                ],
                &window.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "bad check digit shown on the form");
        assert!(r.body.contains("id=\"window-error\""));
    }
}
