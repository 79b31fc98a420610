//! Personal data at rest, on SQLite and PostgreSQL: the accounts table holds no ID number or
//! phone in the clear (blind indexes and SM4-GCM ciphertexts instead), sign-in by either still
//! works, accounts stored before encryption are converted at start-up, and pages and the API
//! show the numbers masked. Case rows keep the applicant's and agent's ID numbers, the phone,
//! the form and the delivery address sealed, and older clear rows are converted.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;
use yiwang_store::sqlx::{self, Row};

/// A ticket with a contact phone, read through the oversight service (which decrypts).
async fn pick_ticket(t: &TestApp) -> yiwang_oversight::Ticket {
    let id: String = sqlx::query_scalar("SELECT ticket_id FROM tickets WHERE contact_phone IS NOT NULL LIMIT 1")
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    let supervisor = yiwang_identity::Staff {
        username: "supervisor".into(),
        display_name: "电子监察员".into(),
        department: None,
        region: None,
        roles: vec![yiwang_identity::Role::Supervisor],
    };
    t.app.oversight.ticket_for_staff(&supervisor, &id).await.unwrap()
}

async fn persons_dump(t: &TestApp) -> Vec<(String, String, String, String)> {
    sqlx::query("SELECT id_number, phone, COALESCE(id_number_enc, '') AS ie, COALESCE(phone_enc, '') AS pe FROM persons")
        .fetch_all(t.app.db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("id_number"), r.get("phone"), r.get("ie"), r.get("pe")))
        .collect()
}

#[tokio::test]
async fn id_numbers_and_phones_are_encrypted_at_rest() {
    for t in apps().await {
        let b = t.backend;
        let reg = json!({"name": "陈静", "id_number": "360121199511110026", "phone": "13500135000", "password": "blue-river-42"});
        let r = t.json("POST", "/api/v1/persons", &reg, None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {}", r.body);

        let rows = persons_dump(&t).await;
        assert!(rows.len() >= 4, "{b}: demo citizens and the new one");
        for (id, phone, id_enc, phone_enc) in &rows {
            assert!(id.starts_with("bi1:") && phone.starts_with("bi1:"), "{b}: blind indexes, not numbers: {id} {phone}");
            assert!(id_enc.starts_with("sm4gcm1:") && phone_enc.starts_with("sm4gcm1:"), "{b}: ciphertexts");
        }
        let everything = format!("{rows:?}");
        for secret in ["360121199511110026", "13500135000", ZHANG.0, "13800138000"] {
            assert!(!everything.contains(secret), "{b}: {secret} stored in the clear");
        }

        // Sign-in by ID number (lower-case x too) and by phone; masked on the way out.
        let by_id = t.person_login("360121199511110026", "blue-river-42").await;
        let me = t.get_with("/api/v1/persons/me", &by_id.cookie).await;
        assert_eq!(me.json()["id_number_masked"], "360121********0026", "{b}");
        assert_eq!(me.json()["phone_masked"], "135****5000", "{b}");
        assert!(!me.body.contains("360121199511110026") && !me.body.contains("13500135000"), "{b}: {}", me.body);
        t.person_login("13500135000", "blue-river-42").await;
        let page = t.get_with("/account", &by_id.cookie).await;
        assert!(page.body.contains("360121********0026") && !page.body.contains("360121199511110026"), "{b}: account page");
        let r = t
            .json(
                "POST",
                "/api/v1/persons",
                &json!({"name": "陈静", "id_number": "360121199511110026", "phone": "13500135009", "password": "blue-river-42"}),
                None,
            )
            .await;
        assert_eq!(r.json()["code"], "ID_NUMBER_TAKEN", "{b}: uniqueness still holds on the index");

        // An account stored before encryption (plain columns) is converted at start-up.
        let hash_of_zhang: String = {
            let z = t.app.identity.person_by_login(ZHANG.0).await.unwrap().unwrap();
            sqlx::query("SELECT password_hash FROM persons WHERE subject = $1")
                .bind(&z.subject)
                .fetch_one(t.app.db.reader())
                .await
                .unwrap()
                .get(0)
        };
        let mut tx = t.app.db.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO persons (subject, id_number, name, phone, email, password_hash, assurance, created_at)
             VALUES ('legacy-1', '36012119900101001X', '旧账号', '13600136000', NULL, $1, 1, '2026-01-01T00:00:00.000Z')",
        )
        .bind(&hash_of_zhang)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(t.app.identity.protect_personal_data().await.unwrap(), 1, "{b}");
        assert_eq!(t.app.identity.protect_personal_data().await.unwrap(), 0, "{b}: converted once");
        assert!(!format!("{:?}", persons_dump(&t).await).contains("36012119900101001X"), "{b}");
        let legacy = t.person_login("36012119900101001x", ZHANG.1).await;
        let me = t.get_with("/api/v1/persons/me", &legacy.cookie).await.json();
        assert_eq!(me["id_number_masked"], "360121********001X", "{b}");

        // Cases: the applicant's ID number, the agent's, the phone, the form and the address.
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let id = submitted_case(&t, &zhang).await;
        let rows = sqlx::query(
            "SELECT applicant_id_number, agent_id_number, COALESCE(contact_phone, '') AS p, form, COALESCE(delivery_address, '') AS a FROM cases",
        )
        .fetch_all(t.app.db.reader())
        .await
        .unwrap();
        assert!(rows.len() > 10, "{b}: the demo history and the new case");
        let mut dump = String::new();
        for r in &rows {
            for c in ["applicant_id_number", "agent_id_number", "form"] {
                let v: String = r.get(c);
                assert!(v.starts_with("sm4gcm1:"), "{b}: cases.{c} stored in the clear: {v}");
                dump.push_str(&v);
            }
            for c in ["p", "a"] {
                let v: String = r.get(c);
                assert!(v.is_empty() || v.starts_with("sm4gcm1:"), "{b}: {v}");
            }
        }
        let branches: Vec<String> = sqlx::query_scalar("SELECT form FROM case_branches").fetch_all(t.app.db.reader()).await.unwrap();
        assert!(!branches.is_empty() && branches.iter().all(|f| f.starts_with("sm4gcm1:")), "{b}: branch forms");
        for secret in [ZHANG.0, "13800138000", "人民路1号"] {
            assert!(!dump.contains(secret), "{b}: {secret}");
        }
        let case = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        assert_eq!(case["form"]["address"], "青山市东城区人民路1号", "{b}: read back decrypted: {case}");

        // The SMS notices of the submission: sealed number and body, found by the number.
        let outgoing: Vec<(String, Option<String>, String)> =
            sqlx::query_as("SELECT recipient, recipient_enc, body FROM outbox WHERE channel <> 'inbox'")
                .fetch_all(t.app.db.reader())
                .await
                .unwrap();
        assert!(!outgoing.is_empty(), "{b}: the submission notified by SMS");
        for (recipient, enc, body) in &outgoing {
            assert!(recipient.starts_with("bi1:") && enc.is_some() && body.starts_with("sm4gcm1:"), "{b}: {recipient} {body}");
        }
        let sms = t.app.outbox.for_recipient("13800138000", 20).await.unwrap();
        assert!(sms.iter().any(|m| m.body.contains("【一网通办】")), "{b}: opened for delivery");

        // 12345 tickets and courier shipments keep contacts sealed too.
        let phones: Vec<String> = sqlx::query_scalar("SELECT contact_phone FROM tickets WHERE contact_phone IS NOT NULL")
            .fetch_all(t.app.db.reader())
            .await
            .unwrap();
        assert!(!phones.is_empty() && phones.iter().all(|p| p.starts_with("sm4gcm1:")), "{b}: ticket phones {phones:?}");
        let shipments: Vec<String> = sqlx::query_scalar("SELECT phone FROM shipments").fetch_all(t.app.db.reader()).await.unwrap();
        assert!(shipments.iter().all(|p| p.starts_with("sm4gcm1:")), "{b}: shipment phones {shipments:?}");
        let mine = t.get_with("/api/v1/tickets", &zhang.cookie).await;
        assert!(mine.status.is_success() && !mine.body.contains("sm4gcm1:"), "{b}: tickets read back decrypted");
        // A ticket phone stored in the clear (before this) is sealed at start-up.
        let mut tx = t.app.db.begin().await.unwrap();
        sqlx::query("UPDATE tickets SET contact_phone = '13800138000' WHERE contact_phone IS NOT NULL").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let sealer = yiwang_crypto::Sealer::new(yiwang::personal_data(&t.settings).unwrap());
        assert_eq!(yiwang::seal_clear_columns(&t.app.db, &sealer).await.unwrap(), phones.len() as u64, "{b}");
        let stored: Vec<String> = sqlx::query_scalar("SELECT contact_phone FROM tickets WHERE contact_phone IS NOT NULL")
            .fetch_all(t.app.db.reader())
            .await
            .unwrap();
        assert!(stored.iter().all(|p| p.starts_with("sm4gcm1:")), "{b}: {stored:?}");
        let ticket = pick_ticket(&t).await;
        assert_eq!(ticket.contact_phone.as_deref(), Some("13800138000"), "{b}: opens to the same number");

        // Data exchange: the shared store and the access log name nobody in the clear.
        let db = t.app.db.clone();
        let count = |sql: &'static str| {
            let db = db.clone();
            async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.reader()).await.unwrap() }
        };
        assert!(count("SELECT COUNT(*) FROM exchange_records").await > 0, "{b}: the demo shared store");
        let clear_records = "SELECT COUNT(*) FROM exchange_records WHERE subject NOT LIKE 'bi1:%' OR record NOT LIKE 'sm4gcm1:%'";
        assert_eq!(count(clear_records).await, 0, "{b}");
        assert_eq!(count("SELECT COUNT(*) FROM exchange_log WHERE subject NOT LIKE 'bi1:%' OR subject_enc IS NULL").await, 0, "{b}");
        // A record pushed before encryption is sealed at start-up.
        let mut tx = t.app.db.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO exchange_records (resource_code, subject, record, updated_at) VALUES ('test-clear', $1, '{}', '2026-01-01')",
        )
        .bind(ZHANG.0)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(clear_records).await, 1, "{b}");
        assert_eq!(t.app.exchange.protect_personal_data().await.unwrap(), 1, "{b}");
        assert_eq!(count(clear_records).await, 0, "{b}");

        // Licences: holders filed under blind indexes, documents sealed; older rows converted.
        assert!(count("SELECT COUNT(*) FROM licences").await > 0, "{b}: demo licences");
        let clear_licences = "SELECT COUNT(*) FROM licences WHERE holder_id NOT LIKE 'bi1:%' OR document NOT LIKE 'sm4gcm1:%'";
        assert_eq!(count(clear_licences).await, 0, "{b}");
        let wallet = t.get_with("/api/v1/me/licences", &zhang.cookie).await;
        assert!(wallet.status.is_success() && wallet.body.contains("identifier"), "{b}: the wallet finds them: {}", wallet.body);
        let licence: String = serde_json::from_str::<serde_json::Value>(&wallet.body).unwrap()[0]["identifier"].as_str().unwrap().into();
        let verified = t.get(&format!("/api/v1/licences/{licence}/verify")).await;
        assert!(verified.body.contains("\"valid\":true"), "{b}: verified from the sealed document: {}", verified.body);
        let held = t.app.licences.get(&licence).await.unwrap();
        let mut tx = t.app.db.begin().await.unwrap();
        sqlx::query("UPDATE licences SET holder_id = $1, document = $2 WHERE identifier = $3")
            .bind(&held.document.holder_id)
            .bind(&held.canonical)
            .bind(&licence)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(clear_licences).await, 1, "{b}");
        assert_eq!(t.app.licences.protect_personal_data().await.unwrap(), 1, "{b}");
        assert_eq!(count(clear_licences).await, 0, "{b}");
        assert!(t.get(&format!("/api/v1/licences/{licence}/verify")).await.body.contains("\"valid\":true"), "{b}: still valid");

        // Staff second-factor secrets are sealed too; one stored in the clear is converted and
        // its codes still work.
        let window = t.login("gaj-window", "yiwang-demo-staff").await;
        let secrets: Vec<String> = sqlx::query_scalar("SELECT totp_secret FROM staff_accounts WHERE totp_secret IS NOT NULL")
            .fetch_all(t.app.db.reader())
            .await
            .unwrap();
        assert!(!secrets.is_empty() && secrets.iter().all(|s| s.starts_with("sm4gcm1:")), "{b}: {secrets:?}");
        let me = t.get_with("/api/v1/auth/me", &window.cookie).await;
        assert!(me.status.is_success(), "{b}: {}", me.body);
        let clear = t.totp.lock().unwrap()["gaj-window"].0.clone();
        let mut tx = t.app.db.begin().await.unwrap();
        sqlx::query("UPDATE staff_accounts SET totp_secret = $1 WHERE username = 'gaj-window'")
            .bind(&clear)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(t.app.identity.protect_personal_data().await.unwrap(), 1, "{b}");
        let again = t.login("gaj-window", "yiwang-demo-staff").await;
        assert!(t.get_with("/api/v1/auth/me", &again.cookie).await.status.is_success(), "{b}: the sealed secret still signs in");

        // No table files records under an ID number (owner keys are blind indexes).
        for (table, column) in yiwang::OWNER_KEYS {
            let keys: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {column} FROM {table}")))
                .fetch_all(t.app.db.reader())
                .await
                .unwrap();
            for k in keys.into_iter().flatten() {
                assert!(!k.contains(ZHANG.0) && !k.contains(LI.0) && !k.contains(WANG.0), "{b}: {table}.{column} = {k}");
            }
        }
        // An owner key stored with the number (before this) is converted, and the case is still his.
        let mut tx = t.app.db.begin().await.unwrap();
        sqlx::query("UPDATE cases SET owner = $1 WHERE case_id = $2")
            .bind(format!("person:{}", ZHANG.0))
            .bind(&id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(t.app.cases.protect_owner_keys("cases", "owner").await.unwrap(), 1, "{b}");
        let mine = t.get_with("/api/v1/cases", &zhang.cookie).await;
        assert!(mine.body.contains(&id), "{b}: still in 张三's list");

        // A case row written in the clear (before encryption) is sealed at start-up.
        let mut tx = t.app.db.begin().await.unwrap();
        sqlx::query("UPDATE cases SET applicant_id_number = $1, form = $2 WHERE case_id = $3")
            .bind(ZHANG.0)
            .bind(r#"{"reason":"有效期满换领","address":"旧地址"}"#)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let case = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        assert_eq!(case["form"]["address"], "旧地址", "{b}: old rows stay readable");
        assert_eq!(t.app.cases.protect_personal_data().await.unwrap(), 1, "{b}");
        let stored: String =
            sqlx::query_scalar("SELECT form FROM cases WHERE case_id = $1").bind(&id).fetch_one(t.app.db.reader()).await.unwrap();
        assert!(stored.starts_with("sm4gcm1:"), "{b}");
        let case = t.get_with(&format!("/api/v1/cases/{id}"), &zhang.cookie).await.json();
        assert_eq!(case["form"]["address"], "旧地址", "{b}");
    }
}
