//! Evaluation over HTTP, on SQLite and PostgreSQL, against the demo history: a citizen rates a
//! finished case once (page form and API); the bad review reaches the department, cannot be
//! closed before the reply; alerts are scoped to departments and handled with CSRF; scores and
//! statistics are for supervisors; tickets and anonymous reports; window visit ratings.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;

const STAFF_PW: &str = "yiwang-demo-staff";

/// 张三's finished demo case nobody has rated yet (普通护照签发).
async fn unrated_case(t: &TestApp, zhang: &Session) -> String {
    let list = t.get_with("/api/v1/cases", &zhang.cookie).await.json();
    for c in list.as_array().unwrap() {
        let id = c["case_id"].as_str().unwrap();
        let finished = matches!(c["status"].as_str(), Some("concluded" | "delivered"));
        if finished
            && c["title"] == "普通护照签发"
            && t.get_with(&format!("/api/v1/cases/{id}/rating"), &zhang.cookie).await.json().is_null()
        {
            return id.to_string();
        }
    }
    panic!("no unrated demo case in {list}");
}

#[tokio::test]
async fn ratings_follow_ups_alerts_scores_and_statistics() {
    for t in apps().await {
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let id = unrated_case(&t, &zhang).await;
        let before = t.get("/api/v1/public/ratings").await.json()["total"]["count"].as_i64().unwrap();

        // The page form needs the session's CSRF token.
        let no_token = t.form(&format!("/cases/{id}/rating"), &[("level", "1"), ("comment", "x")], &zhang.cookie).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN, "{}", no_token.body);
        let page = t.get_with(&format!("/cases/{id}"), &zhang.cookie).await;
        assert!(page.body.contains("submit-rating"), "the rating form is offered");
        let r = t
            .form(
                &format!("/cases/{id}/rating"),
                &[("csrf_token", &zhang.csrf), ("level", "1"), ("efficiency", "1"), ("comment", "<script>alert(1)</script>等太久")],
                &zhang.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let mine = t.get_with(&format!("/api/v1/cases/{id}/rating"), &zhang.cookie).await.json();
        assert_eq!((mine["level"].as_i64(), mine["dimensions"]["efficiency"].as_i64()), (Some(1), Some(1)));
        let again = t.json("POST", &format!("/api/v1/cases/{id}/rating"), &json!({"level": 5}), Some(&zhang)).await;
        assert_eq!((again.status, again.json()["code"].as_str()), (StatusCode::CONFLICT, Some("DUPLICATE")));
        let li = t.person_login(LI.0, LI.1).await;
        assert_eq!(
            t.json("POST", &format!("/api/v1/cases/{id}/rating"), &json!({"level": 5}), Some(&li)).await.status,
            StatusCode::NOT_FOUND
        );
        let bad = t.json("POST", &format!("/api/v1/cases/{id}/rating"), &json!({"level": 9}), Some(&zhang)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(bad.json()["message"].as_str().unwrap().contains("评价等级"));
        assert_eq!(t.get("/api/v1/public/ratings").await.json()["total"]["count"].as_i64().unwrap(), before + 1, "public results update");
        assert!(t.get("/oversight").await.body.contains("satisfaction-rate"));

        // The bad review is the department's to answer; escaped on the page.
        let gaj = t.login(GAJ.0, GAJ.1).await;
        let sup = t.login("supervisor", STAFF_PW).await;
        let fus = t.get_with("/api/v1/oversight/followups?active=true", &gaj.cookie).await.json();
        let fu = fus.as_array().unwrap().iter().find(|f| f["rating"]["case_id"] == id.as_str()).expect("follow-up").clone();
        let rating_id = fu["rating"]["rating_id"].as_str().unwrap().to_string();
        let page = t.get_with("/staff/oversight/followups", &gaj.cookie).await;
        assert!(page.body.contains("&#60;script&#62;") && !page.body.contains("<script>alert"), "escaped: {}", page.body);
        let spj = t.login(SPJ.0, SPJ.1).await;
        let other = t.get_with("/api/v1/oversight/followups", &spj.cookie).await.json();
        assert!(other.as_array().unwrap().iter().all(|f| f["rating"]["department_code"] != GAJ_DEPT), "other departments do not see it");
        let early =
            t.json("POST", &format!("/api/v1/oversight/followups/{rating_id}/actions"), &json!({"action": "close"}), Some(&sup)).await;
        assert_eq!(
            (early.status, early.json()["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_FIELD")),
            "{}",
            early.body
        );
        let r = t
            .form(
                &format!("/staff/oversight/followups/{rating_id}"),
                &[
                    ("csrf_token", &gaj.csrf),
                    ("action", "reply"),
                    ("verification", "属实"),
                    ("rectification", "增加窗口"),
                    ("reply", "已整改，抱歉"),
                ],
                &gaj.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let closed =
            t.json("POST", &format!("/api/v1/oversight/followups/{rating_id}/actions"), &json!({"action": "close"}), Some(&sup)).await;
        assert_eq!(closed.json()["status"], "closed", "{}", closed.body);
        let inbox = t.get_with("/api/v1/inbox", &zhang.cookie).await.body;
        assert!(inbox.contains("已整改，抱歉"), "{inbox}");

        // Alerts: red ones from the demo history, scoped by department.
        let all = t.get_with("/api/v1/oversight/alerts?level=red&active=true", &sup.cookie).await.json();
        let all = all.as_array().unwrap().clone();
        assert!(all.iter().any(|a| a["rule"] == "step_deadline" && a["department_code"] == GAJ_DEPT), "{all:?}");
        let mine = t.get_with("/api/v1/oversight/alerts", &gaj.cookie).await.json();
        assert!(mine.as_array().unwrap().iter().all(|a| a["department_code"] == GAJ_DEPT));
        let theirs = t.get_with("/api/v1/oversight/alerts", &spj.cookie).await.json();
        assert!(theirs.as_array().unwrap().iter().all(|a| a["department_code"] != GAJ_DEPT));
        let alert_id = all.iter().find(|a| a["department_code"] == GAJ_DEPT).unwrap()["alert_id"].as_str().unwrap().to_string();
        assert_eq!(t.get_with(&format!("/api/v1/oversight/alerts/{alert_id}"), &spj.cookie).await.status, StatusCode::NOT_FOUND);
        let path = format!("/api/v1/oversight/alerts/{alert_id}/actions");
        let forged = Session { cookie: gaj.cookie.clone(), csrf: "wrong".into() };
        assert_eq!(t.json("POST", &path, &json!({"action": "explain", "text": "x"}), Some(&forged)).await.status, StatusCode::FORBIDDEN);
        let empty = t.json("POST", &path, &json!({"action": "explain", "text": "  "}), Some(&gaj)).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.json()["message"].as_str().unwrap().contains("必须填写"));
        let e = t.json("POST", &path, &json!({"action": "explain", "text": "审批人员休假，未及时转办"}), Some(&gaj)).await;
        assert_eq!(e.json()["status"], "explained", "{}", e.body);
        assert_eq!(t.json("POST", &path, &json!({"action": "close", "note": "x"}), Some(&gaj)).await.status, StatusCode::FORBIDDEN);
        let page = t
            .form(
                &format!("/staff/oversight/alerts/{alert_id}"),
                &[("csrf_token", &sup.csrf), ("action", "close"), ("text", "已督促")],
                &sup.cookie,
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(t.get_with(&format!("/api/v1/oversight/alerts/{alert_id}"), &sup.cookie).await.json()["status"], "closed");
        // Every state of the alert and the rating went into the tamper-evident ledger.
        t.app.ledger.sequence_now().await.unwrap();
        let states: Vec<String> = yiwang_store::sqlx::query_scalar(
            "SELECT record FROM ledger_entries WHERE source = 'supervision_alert' AND source_key = $1 ORDER BY leaf_index",
        )
        .bind(&alert_id)
        .fetch_all(t.app.db.reader())
        .await
        .unwrap();
        assert!(states.len() >= 3 && states.last().unwrap().contains("closed"), "{states:?}");
        let rated: i64 =
            yiwang_store::sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE source = 'rating' AND source_key = $1")
                .bind(&rating_id)
                .fetch_one(t.app.db.reader())
                .await
                .unwrap();
        assert_eq!(rated, 1);

        // Scores and statistics are for supervisors.
        let scores = t.get_with("/api/v1/oversight/scores", &sup.cookie).await.json();
        let g = scores.as_array().unwrap().iter().find(|s| s["department_code"] == GAJ_DEPT).unwrap().clone();
        assert!(g["score"].as_i64().unwrap() < 100, "{g}");
        assert_eq!(t.get_with("/api/v1/oversight/scores", &gaj.cookie).await.status, StatusCode::FORBIDDEN);
        let csv = t.get_with("/staff/oversight/stats.csv?from=2026-01-01&to=2026-12-31&table=department", &sup.cookie).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.headers[http::header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
        assert!(csv.body.starts_with('\u{feff}') && csv.body.contains("青山市公安局"), "{}", csv.body);
        assert_eq!(t.get_with("/staff/oversight/stats.csv", &gaj.cookie).await.status, StatusCode::FORBIDDEN);
        let stats = t.get_with("/staff/oversight/stats?from=2026-01-01&to=2026-12-31", &sup.cookie).await;
        assert!(stats.body.contains("<svg") && stats.body.contains("by-region"), "{}", stats.status);
        let bad_period = t.get_with("/api/v1/oversight/statistics?from=2026-12-01&to=2026-01-01", &sup.cookie).await;
        assert_eq!((bad_period.status, bad_period.json()["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_FIELD")));
        let dash = t.get_with("/staff/oversight", &sup.cookie).await;
        assert!(dash.body.contains("alert-red") && dash.body.contains("score-value"));
    }
}

#[tokio::test]
async fn tickets_anonymous_reports_and_window_visits() {
    for t in apps().await {
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let r = t
            .form(
                "/tickets",
                &[
                    ("csrf_token", &zhang.csrf),
                    ("kind", "complaint"),
                    ("item_code", &item("sfz-hb")),
                    ("title", "排队太久"),
                    ("content", "窗口只开了一个"),
                ],
                &zhang.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let ticket_id = r.location().trim_start_matches("/tickets/").to_string();
        let mine = t.get_with(&format!("/tickets/{ticket_id}"), &zhang.cookie).await;
        assert!(mine.body.contains("已登记待派单"), "{}", mine.body);
        let li = t.person_login(LI.0, LI.1).await;
        assert_eq!(t.get_with(&format!("/api/v1/tickets/{ticket_id}"), &li.cookie).await.status, StatusCode::NOT_FOUND);
        let bad = t.json("POST", "/api/v1/tickets", &json!({"kind": "nonsense", "title": "a", "content": "b"}), Some(&zhang)).await;
        assert_eq!((bad.status, bad.json()["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_FIELD")));
        assert_eq!(
            t.json("POST", "/api/v1/tickets", &json!({"kind": "complaint", "title": "a", "content": "b"}), None).await.status,
            StatusCode::UNAUTHORIZED
        );

        // Dispatch (operator), accept and reply (department), follow-up (citizen).
        let sup = t.login("supervisor", STAFF_PW).await;
        let view = t.get_with(&format!("/api/v1/oversight/tickets/{ticket_id}"), &sup.cookie).await.json();
        assert_eq!(view["status"], "received");
        let gaj = t.login(GAJ.0, GAJ.1).await;
        assert_eq!(
            t.get_with(&format!("/api/v1/oversight/tickets/{ticket_id}"), &gaj.cookie).await.status,
            StatusCode::NOT_FOUND,
            "not dispatched yet"
        );
        let path = format!("/api/v1/oversight/tickets/{ticket_id}/actions");
        let d = t.json("POST", &path, &json!({"action": "dispatch", "department_code": GAJ_DEPT, "priority": "urgent"}), Some(&sup)).await;
        assert_eq!(d.json()["status"], "dispatched", "{}", d.body);
        assert_eq!(t.json("POST", &path, &json!({"action": "accept"}), Some(&sup)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.json("POST", &path, &json!({"action": "accept"}), Some(&gaj)).await.json()["status"], "handling");
        let r = t
            .form(
                &format!("/staff/oversight/tickets/{ticket_id}"),
                &[("csrf_token", &gaj.csrf), ("action", "reply"), ("text", "已加开窗口")],
                &gaj.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let seen = t.get_with(&format!("/api/v1/tickets/{ticket_id}"), &zhang.cookie).await.json();
        assert_eq!((seen["status"].as_str(), seen["reply"].as_str()), (Some("replied"), Some("已加开窗口")));
        assert!(seen.get("contact_phone").is_none(), "contact details are not serialised");
        let fu = t.json("POST", &format!("/api/v1/tickets/{ticket_id}/follow-up"), &json!({"satisfaction": 5}), Some(&zhang)).await;
        assert_eq!(fu.json()["satisfaction"], 5, "{}", fu.body);
        let closed = t.json("POST", &path, &json!({"action": "close", "note": ""}), Some(&sup)).await;
        assert_eq!(closed.json()["status"], "closed");

        // Anonymous reports: no account, a query code to follow.
        let rep = t
            .json("POST", "/api/v1/reports", &json!({"kind": "report", "title": "索要好处", "content": "窗口暗示加急要另付费"}), None)
            .await;
        assert_eq!(rep.status, StatusCode::OK, "{}", rep.body);
        let (number, code) = (rep.json()["number"].as_str().unwrap().to_string(), rep.json()["query_code"].as_str().unwrap().to_string());
        let found = t.json("POST", "/api/v1/reports/track", &json!({"number": number, "query_code": code}), None).await;
        assert_eq!((found.status, found.json()["anonymous"].as_bool()), (StatusCode::OK, Some(true)));
        assert_eq!(
            t.json("POST", "/api/v1/reports/track", &json!({"number": number, "query_code": "WRONG"}), None).await.status,
            StatusCode::NOT_FOUND
        );
        let page = t.form("/report", &[("title", "又一起"), ("content", "同上")], "").await;
        assert!(page.body.contains("report-code"), "{}", page.body);

        // 一次一评 at the window.
        let window = t.login("gaj-window", STAFF_PW).await;
        let v = t.form("/staff/oversight/visits", &[("csrf_token", &window.csrf), ("item_code", &item("hz-qf"))], &window.cookie).await;
        assert_eq!(v.status, StatusCode::OK, "{}", v.body);
        let link = v.body.split("/rate/").nth(1).unwrap();
        let visit: String = link.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        assert_eq!(visit.len(), 32);
        assert!(v.body.contains("<svg"), "QR code");
        assert!(t.get(&format!("/rate/{visit}")).await.body.contains("submit-rating"));
        let ok = t.form(&format!("/rate/{visit}"), &[("level", "5"), ("convenience", "5")], "").await;
        assert!(ok.body.contains("id=\"rated\""), "{}", ok.body);
        let twice = t.json("POST", &format!("/api/v1/visits/{visit}/rating"), &json!({"level": 1, "comment": "x"}), None).await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        let spj_window = t.form("/staff/oversight/visits", &[("csrf_token", &sup.csrf), ("item_code", &item("hz-qf"))], &sup.cookie).await;
        assert_eq!(spj_window.status, StatusCode::FORBIDDEN, "only window staff open visits");
    }
}
