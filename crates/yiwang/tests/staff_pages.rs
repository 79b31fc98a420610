//! The staff workbench through its HTML forms: sign in, create, publish, import with progress.

mod common;

use axum::body::Body;
use common::*;
use http::{header, Request, StatusCode};
use yiwang_catalog::transfer::{record_to_row, ItemRecord};

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {name} in page")) + marker.len();
    body[start..].split('"').next().unwrap().to_string()
}

/// Password, then the TOTP page (enrolment shows the secret on first sign-in).
async fn sign_in(t: &TestApp, user: &str, password: &str) -> String {
    let form = t.get("/staff/login").await;
    let login_cookie = form.cookie("yw_login_csrf").expect("login csrf cookie");
    let token = hidden(&form.body, "csrf_token");
    let res =
        t.form("/staff/login", &[("username", user), ("password", password), ("csrf_token", &token), ("next", "")], &login_cookie).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(res.location().starts_with("/staff/login/totp"), "{}", res.location());
    let pending = res.cookie("yw_session").expect("pending session");
    // A pending session cannot use the workbench.
    assert_eq!(t.get_with("/staff", &pending).await.status, StatusCode::SEE_OTHER);
    let page = t.get_with(&res.location(), &pending).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let secret = page.body.split("id=\"totp-secret\">").nth(1).map(|r| r.split('<').next().unwrap().to_string());
    let code = t.totp_code(user, secret.as_deref());
    let csrf = hidden(&page.body, "csrf_token");
    let wrong = t.form("/staff/login/totp", &[("code", "000000"), ("csrf_token", &csrf), ("next", "")], &pending).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    let done = t.form("/staff/login/totp", &[("code", &code), ("csrf_token", &csrf), ("next", "")], &pending).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, "/staff".to_string()), "{}", done.body);
    done.cookie("yw_session").expect("full session")
}

#[tokio::test]
async fn sign_in_edit_publish_through_forms() {
    for t in apps().await {
        let b = t.backend;
        // Signed out: the workbench sends you to sign in, and comes back.
        let r = t.get("/staff").await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/staff/login?next=/staff".to_string()), "{b}");

        // The login form needs its double-submit token.
        let form = t.get("/staff/login").await;
        let login_cookie = form.cookie("yw_login_csrf").unwrap();
        let no_token = t.form("/staff/login", &[("username", SPJ.0), ("password", SPJ.1)], &login_cookie).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let token = hidden(&form.body, "csrf_token");
        let wrong =
            t.form("/staff/login", &[("username", SPJ.0), ("password", "wrong-password"), ("csrf_token", &token)], &login_cookie).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("账号或密码错误"));

        let session = sign_in(&t, SPJ.0, SPJ.1).await;
        let bench = t.get_with("/staff", &session).await;
        assert_eq!(bench.status, StatusCode::OK);
        assert!(bench.body.contains("新建事项") && bench.body.contains("企业设立登记"), "{b}");
        let csrf = hidden(&bench.body, "csrf_token");

        // Create from a copy of an existing item's fields.
        let list = t.get(&format!("/api/v1/items?department={SPJ_DEPT}&per_page=1")).await.json();
        let src = list["items"][0]["impl_code"].as_str().unwrap();
        let doc = serde_json::from_value(t.get(&format!("/api/v1/items/{src}")).await.json()["doc"].clone()).unwrap();
        let code = format!("{SPJ_DEPT}3360199000666");
        let mut cells = record_to_row(&ItemRecord { impl_code: code.clone(), doc });
        cells[1] = "测试：户外广告设施设置审批".into();
        cells[3] = "360199000666".into();
        let mut fields: Vec<(String, String)> = cells.iter().enumerate().map(|(i, v)| (format!("f{i}"), v.clone())).collect();
        fields.push(("csrf_token".into(), csrf.clone()));
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let created = t.form("/staff/items/new", &pairs, &session).await;
        assert_eq!(
            (created.status, created.location()),
            (StatusCode::SEE_OTHER, format!("/staff/items/{code}?saved=1")),
            "{}",
            created.body
        );

        // A bad cell re-shows the form with the problem next to the field.
        let mut bad = fields.clone();
        bad[0].1 = format!("{SPJ_DEPT}3360199000667");
        bad[3].1 = "360199000667".into();
        bad[16].1 = "十五".into();
        let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let invalid = t.form("/staff/items/new", &pairs, &session).await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(invalid.body.contains("法定办结时限") && invalid.body.contains("不是非负整数"));

        // Publishing needs the CSRF token; cross-site posts are refused outright.
        let forged = t.form(&format!("/staff/items/{code}/publish"), &[], &session).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let cross = t
            .send(
                Request::post(format!("/staff/items/{code}/publish"))
                    .header(header::COOKIE, &session)
                    .header(header::ORIGIN, "https://evil.example")
                    .header(header::HOST, "127.0.0.1:8080")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!("csrf_token={csrf}")))
                    .unwrap(),
            )
            .await;
        assert_eq!((cross.status, cross.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("CROSS_SITE_REQUEST")));
        let published = t.form(&format!("/staff/items/{code}/publish"), &[("csrf_token", &csrf)], &session).await;
        assert_eq!(published.status, StatusCode::OK, "{}", published.body);
        assert!(published.body.contains("已发布"));
        assert!(t.get(&format!("/items/{code}")).await.body.contains("户外广告设施设置审批"));

        let suspended = t
            .form(&format!("/staff/items/{code}/status"), &[("csrf_token", &csrf), ("action", "suspend"), ("note", "整改")], &session)
            .await;
        assert!(suspended.body.contains("已暂停"), "{}", suspended.body);
        assert!(t.get(&format!("/items/{code}")).await.body.contains("暂停办理"));

        // Another department's item is off limits; the audit page needs the audit permission.
        let gaj_item = t.get("/api/v1/items?department=11360100104974650K&per_page=1").await.json()["items"][0]["impl_code"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(t.get_with(&format!("/staff/items/{gaj_item}"), &session).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.get_with("/staff/audit", &session).await.status, StatusCode::FORBIDDEN);
        let admin = sign_in(&t, ADMIN.0, ADMIN.1).await;
        let audit = t.get_with("/staff/audit", &admin).await;
        assert!(audit.body.contains("item.publish") && audit.body.contains(SPJ.0));

        let out = t.form("/logout", &[("csrf_token", &csrf)], &session).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(t.get_with("/staff", &session).await.status, StatusCode::SEE_OTHER);
    }
}

fn multipart(boundary: &str, csrf: &str, filename: &str, file: &[u8], publish: bool) -> Vec<u8> {
    let mut body = Vec::new();
    let mut part = |headers: String, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("Content-Disposition: form-data; name=\"csrf_token\"".into(), csrf.as_bytes());
    if publish {
        part("Content-Disposition: form-data; name=\"publish\"".into(), b"1");
    }
    part(format!("Content-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream"), file);
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn import_page_shows_progress_and_row_errors() {
    for t in apps().await {
        let session = sign_in(&t, ADMIN.0, ADMIN.1).await;
        let csrf = hidden(&t.get_with("/staff/import", &session).await.body, "csrf_token");
        let xlsx = t.get_with("/staff/export?format=xlsx", &session).await;
        assert_eq!(xlsx.status, StatusCode::OK);
        let csv = t.get_with("/staff/export?format=csv", &session).await.body;

        let upload = |name: &'static str, bytes: Vec<u8>, token: String| {
            let boundary = "yiwangboundary";
            Request::post("/staff/import")
                .header(header::COOKIE, &session)
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
                .body(Body::from(multipart(boundary, &token, name, &bytes, true)))
                .unwrap()
        };

        // Without the token: refused.
        let forged = t.send(upload("catalog.csv", csv.clone().into_bytes(), String::new())).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);

        // A file with errors is rejected before anything starts, row by row.
        let broken = csv.replacen("承诺件", "随便件", 1);
        let rejected = t.send(upload("catalog.csv", broken.into_bytes(), csrf.clone())).await;
        assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(rejected.body.contains("import-errors") && rejected.body.contains("办件类型"));

        // A good file runs as a job; its page shows progress until done.
        let started = t.send(upload("catalog.csv", csv.clone().into_bytes(), csrf.clone())).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let job = started.location();
        assert!(job.starts_with("/staff/import/"));
        let mut done = false;
        for _ in 0..100 {
            let page =
                t.send(Request::get(&job).header(header::COOKIE, &session).header("hx-request", "true").body(Body::empty()).unwrap()).await;
            assert!(page.body.contains("<progress"));
            if page.body.contains("import-done") {
                assert!(page.body.contains("更新 49 项"), "{}", page.body);
                done = true;
                break;
            }
            assert!(!page.body.contains("import-failed"), "{}", page.body);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(done, "import finished");
        // Somebody else's job is not visible.
        let other = sign_in(&t, SPJ.0, SPJ.1).await;
        assert_eq!(t.get_with(&job, &other).await.status, StatusCode::NOT_FOUND);
    }
}
