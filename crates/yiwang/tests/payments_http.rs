//! Payment and delivery over HTTP, on SQLite and PostgreSQL: a citizen applies for a first ID
//! card (fee paid online) with courier delivery, the window accepts, the citizen pays at the
//! sandbox cashier, the case starts; forged notifications are refused; the result goes by
//! courier and the tracking closes the case; staff see their orders, finance reconciles.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;

async fn act(t: &TestApp, s: &Session, id: &str, action: serde_json::Value) -> serde_json::Value {
    let case = t.get_with(&format!("/api/v1/staff/cases/{id}"), &s.cookie).await.json();
    let mut body = action;
    body["version"] = case["version"].clone();
    let r = t.json("POST", &format!("/api/v1/staff/cases/{id}/actions"), &body, Some(s)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn pay_online_then_receive_by_courier() {
    for t in apps().await {
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let code = item("sfz-sl");
        let form = t.get_with(&format!("/api/v1/applications/form?item={code}"), &zhang.cookie).await.json();
        let values = form["prefill"].clone();
        let draft = json!({"kind": "item", "code": code, "values": values, "delivery": "courier", "delivery_address": "青山"});
        let bad = t.json("POST", "/api/v1/applications", &draft, Some(&zhang)).await;
        assert_eq!((bad.status, bad.json()["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_FIELD")), "{}", bad.body);
        let draft = json!({"kind": "item", "code": code, "values": values, "delivery": "courier", "delivery_address": "江川省青山市东城区人民路1号3栋201室"});
        let r = t.json("POST", "/api/v1/applications", &draft, Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.json()["case_id"].as_str().unwrap().to_string();
        for m in ["居民户口簿", "符合标准的本人相片（可现场采集）"] {
            let r = upload(&t, &format!("/api/v1/cases/{id}/materials"), &zhang, &[("name", m)], ("m.pdf", PDF), true).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        assert_eq!(t.json("POST", &format!("/api/v1/cases/{id}/submit"), &json!({}), Some(&zhang)).await.status, StatusCode::OK);

        let window = t.login("gaj-window", "yiwang-demo-staff").await;
        let accepted = act(&t, &window, &id, json!({"action": "accept"})).await;
        assert_eq!(accepted["status"], "awaiting_payment");
        let p = t.get_with(&format!("/api/v1/cases/{id}/payment"), &zhang.cookie).await.json();
        assert_eq!((p["order"]["amount_fen"].as_i64(), p["order"]["status"].as_str()), (Some(2000), Some("pending")), "{p}");
        let order_no = p["order"]["order_no"].as_str().unwrap().to_string();
        let li = t.person_login(LI.0, LI.1).await;
        assert_eq!(t.get_with(&format!("/api/v1/cases/{id}/payment"), &li.cookie).await.status, StatusCode::NOT_FOUND);
        assert!(t.get_with(&format!("/cases/{id}"), &zhang.cookie).await.body.contains("pay-now"));

        // The cashier: the page form leads there, and paying starts the case.
        let r = t.form(&format!("/cases/{id}/pay"), &[("csrf_token", &zhang.csrf)], &zhang.cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(r.location().ends_with(&format!("/sandbox/pay/{order_no}")), "{}", r.location());
        let cashier = t.get(&format!("/sandbox/pay/{order_no}")).await;
        assert!(cashier.body.contains("20.00元"), "{}", cashier.body);
        let paid = t.form(&format!("/sandbox/pay/{order_no}"), &[("outcome", "succeed")], "").await;
        assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.body);
        let case = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        assert_eq!(case["status"], "in_progress");
        assert!(case["timeline"].as_array().unwrap().iter().any(|e| e["kind"] == "payment_received"));
        assert_eq!(
            t.form(&format!("/sandbox/pay/{order_no}"), &[("outcome", "succeed")], "").await.status,
            StatusCode::OK,
            "paid already: told so"
        );

        // Forged or malformed notifications.
        let forged = json!({"notify_id": "x", "order_no": order_no, "txn_id": "t", "amount_fen": 2000, "status": "paid", "timestamp": 0})
            .to_string();
        let req = http::Request::post("/api/v1/payments/notify/sandbox")
            .header("content-type", "application/json")
            .header("x-signature", "00".repeat(32))
            .body(axum::body::Body::from(forged))
            .unwrap();
        let r = t.send(req).await;
        assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("BAD_SIGNATURE")), "{}", r.body);
        let req =
            http::Request::post("/api/v1/delivery/notify/sandbox").header("x-signature", "zz").body(axum::body::Body::from("{")).unwrap();
        assert_eq!(t.send(req).await.status, StatusCode::UNAUTHORIZED);

        // Decided, then sent by courier and followed to the door.
        let approver = t.login("gaj-approver", "yiwang-demo-staff").await;
        act(&t, &approver, &id, json!({"action": "approve", "branch": 1})).await;
        let done = act(&t, &approver, &id, json!({"action": "approve", "branch": 1})).await;
        assert_eq!(done["status"], "concluded");
        t.app.payments.sweep().await.unwrap();
        let s = t.get_with(&format!("/api/v1/cases/{id}/shipment"), &zhang.cookie).await.json();
        assert_eq!(s["status"], "created", "{s}");
        assert!(s.get("address").is_none(), "the address is not echoed");
        for _ in 0..4 {
            assert_eq!(t.form(&format!("/sandbox/courier/{id}"), &[], "").await.status, StatusCode::SEE_OTHER);
        }
        let case = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        assert_eq!(case["status"], "delivered");
        let page = t.get_with(&format!("/cases/{id}"), &zhang.cookie).await.body;
        assert!(page.contains("已签收") && page.contains("shipment-status"), "tracking on the case page");

        // Staff: the bureau sees its order, another department does not; finance reconciles.
        let gaj = t.login(GAJ.0, GAJ.1).await;
        let orders = t.get_with("/api/v1/payments/orders?status=paid", &gaj.cookie).await.json();
        assert!(orders.as_array().unwrap().iter().any(|o| o["order_no"] == order_no.as_str()));
        let spj = t.login(SPJ.0, SPJ.1).await;
        let theirs = t.get_with("/api/v1/payments/orders", &spj.cookie).await.json();
        assert!(theirs.as_array().unwrap().iter().all(|o| o["department_code"] != GAJ_DEPT));
        let day = yiwang_cases::china_date(chrono::Utc::now()).to_string();
        assert_eq!(
            t.json("POST", "/api/v1/payments/reconciliations", &json!({"day": day}), Some(&gaj)).await.status,
            StatusCode::FORBIDDEN
        );
        let admin = t.login(ADMIN.0, ADMIN.1).await;
        let rec = t.json("POST", "/api/v1/payments/reconciliations", &json!({"day": day}), Some(&admin)).await.json();
        assert!(rec["matched"].as_i64().unwrap() >= 1 && rec["mismatches"].as_array().unwrap().is_empty(), "{rec}");
        let rev = t.get_with("/api/v1/payments/revenue", &gaj.cookie).await.json();
        assert!(rev.as_array().unwrap().iter().all(|r| r["department_code"] == GAJ_DEPT));
        assert!(t.get_with("/staff/payments", &admin.cookie).await.body.contains("do-reconcile"));
    }
}
