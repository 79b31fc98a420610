//! The exchange on SQLite and PostgreSQL: sharing rules, field filtering, approval and
//! revocation (on this node and another), member authentication, REST providers with
//! timeouts and circuit breaking, the person's access records, and a log that cannot be
//! edited without detection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use yiwang_crypto::Vault;
use yiwang_exchange::demo::{MARRIAGE_RESOURCE, POPULATION_RESOURCE};
use yiwang_exchange::*;
use yiwang_identity::{Role, Staff};
use yiwang_store::testing::TestDb;
use yiwang_store::{sqlx, Db};

const ZHANGSAN: &str = "360102199003071236";
const LISI: &str = "360103198512120034";
/// 东城区民政局 (consumer) and its case system.
const MZJ: &str = "11360102711777742F";
const MZJ_CASES: &str = "11360102711777742F:cases";
/// 江川省公安厅 provides the population resource.
const GAT: &str = "11360000083016617P";
/// 江川省人社厅 provides the REST resource registered in these tests.
const RST: &str = "1136000018609139YX";
const REST_RESOURCE: &str = "1136000018609139YX-00099";
const MARKET: &str = "1136000052601815JY-00001";
const PROPERTY: &str = "1236010079244026HQ-00001";

fn staff(username: &str, department: &str, roles: &[Role]) -> Staff {
    Staff {
        username: username.into(),
        display_name: username.into(),
        department: Some(department.into()),
        region: None,
        roles: roles.to_vec(),
    }
}

fn vault() -> Vault {
    Vault::new(b"exchange test master key 32 byte").unwrap()
}

/// Subjects and shared records sealed at rest, as in production (a fixed key: every node of a
/// test shares it).
fn sealer() -> yiwang_crypto::Sealer {
    yiwang_crypto::Sealer::new(Arc::new(yiwang_crypto::PersonalData::new(b"exchange test personal data key!").unwrap()))
}

async fn open(db: &Db, settings: GatewaySettings) -> Exchange {
    let settings = GatewaySettings { personal_data: sealer(), ..settings };
    let mut builtin = demo::providers().unwrap();
    builtin.insert("slow".into(), Arc::new(Slow) as Arc<dyn Provider>);
    Exchange::open(db.clone(), &vault(), [9; 32], "http://yiwang.test", builtin, settings).await.unwrap()
}

struct Slow;
#[async_trait::async_trait]
impl Provider for Slow {
    async fn fetch(&self, _r: &Resource, _s: &str) -> Result<Option<serde_json::Value>, String> {
        Ok(None)
    }
}

fn call(member: &str, resource: &str, subject: &str, purpose: &str) -> CallRequest {
    CallRequest {
        channel: Channel::Gateway,
        member_id: member.into(),
        resource: resource.into(),
        subject: subject.into(),
        purpose: purpose.into(),
        case_number: None,
        fields: None,
        request_id: None,
    }
}

/// A provider system on loopback: answers `/people?subject=…`, counts calls, can fail.
async fn rest_provider(fail: Arc<AtomicU32>) -> (String, Arc<AtomicU32>) {
    use axum::extract::Query;
    let calls = Arc::new(AtomicU32::new(0));
    let c2 = calls.clone();
    let app = axum::Router::new().route(
        "/people",
        axum::routing::get(move |Query(q): Query<HashMap<String, String>>, headers: axum::http::HeaderMap| {
            let calls = c2.clone();
            let fail = fail.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                assert!(headers.contains_key("x-request-id"), "request id forwarded");
                match fail.load(Ordering::SeqCst) {
                    1 => return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                    2 => {
                        tokio::time::sleep(Duration::from_millis(400)).await;
                    }
                    _ => {}
                }
                match q.get("subject").map(String::as_str) {
                    Some(ZHANGSAN) => (
                        axum::http::StatusCode::OK,
                        serde_json::json!({ "id_number": ZHANGSAN, "name": "张三", "insured": "正常参保", "employer": "云图科技", "secret": "never" })
                            .to_string(),
                    ),
                    _ => (axum::http::StatusCode::NOT_FOUND, String::new()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/people"), calls)
}

fn rest_resource(url: &str) -> Resource {
    let mut r = demo::rest_resource(REST_RESOURCE, RST, "江川省人力资源和社会保障厅", url, &["id_number", "name", "insured", "employer"]);
    r.service = Service::Rest { url: url.into(), timeout_ms: 200, openapi_url: Some(format!("{url}/openapi.json")) };
    r
}

fn in_a_year() -> String {
    (chrono::Utc::now() + chrono::Duration::days(365)).format("%Y-%m-%d").to_string()
}

async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// A member system with a key pair we hold.
async fn member_with_key(x: &Exchange, dept: &str, subsystem: &str) -> (String, ed25519_dalek::SigningKey) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[subsystem.len() as u8 + 3; 32]);
    let m = NewMember {
        department_code: dept.into(),
        subsystem: subsystem.into(),
        name: format!("{subsystem} 系统"),
        public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        rate_per_sec: Some(5),
    };
    let admin = staff("admin", dept, &[Role::DeptAdmin]);
    (x.register_member(&admin, &m).await.unwrap().member_id, key)
}

fn assertion(key: &ed25519_dalek::SigningKey, member: &str, aud: &str, jti: &str, lifetime: i64) -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let der = key.to_pkcs8_der().unwrap();
    let enc = jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes());
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({ "iss": member, "sub": member, "aud": aud, "iat": now, "exp": now + lifetime, "jti": jti });
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA), &claims, &enc).unwrap()
}

#[tokio::test]
async fn sharing_rules_filtering_revocation_and_the_citizens_view() {
    for t in TestDb::each().await.unwrap() {
        let x = open(&t.db, Default::default()).await;
        demo::load(&x).await.unwrap();
        let (member, _key) = member_with_key(&x, MZJ, "archive").await;
        let mzj_admin = staff("mzj-admin", MZJ, &[Role::DeptAdmin]);
        let gat_admin = staff("gat-admin", GAT, &[Role::DeptAdmin]);
        let window = staff("mzj-window", MZJ, &[Role::Window]);

        // Conditional resource, no grant: refused, and the refusal is logged.
        let e = x.call(call(&member, POPULATION_RESOURCE, ZHANGSAN, "婚姻档案核对")).await.unwrap_err();
        assert!(matches!(e, ExchangeError::Denied(_)), "{e}");
        // Not shared: never flows, whatever is asked.
        assert!(matches!(x.call(call(&member, PROPERTY, ZHANGSAN, "x")).await, Err(ExchangeError::Denied(_))));
        // Hammering a refused resource hits the member's rate limit, so it cannot flood the log.
        let mut limited = 0;
        for _ in 0..10 {
            if matches!(x.call(call(&member, PROPERTY, ZHANGSAN, "x")).await, Err(ExchangeError::RateLimited)) {
                limited += 1;
            }
        }
        assert!(limited > 0, "refusals are rate limited too");
        // Bad input: check digit, empty purpose, unknown resource, unknown member.
        assert!(matches!(x.call(call(&member, POPULATION_RESOURCE, "360102199003071235", "p")).await, Err(ExchangeError::Code(_))));
        assert!(matches!(x.call(call(&member, POPULATION_RESOURCE, ZHANGSAN, "  ")).await, Err(ExchangeError::Invalid { .. })));
        assert!(matches!(x.call(call(&member, "nope", ZHANGSAN, "p")).await, Err(ExchangeError::ResourceNotFound(_))));
        assert!(matches!(x.call(call("x:y", POPULATION_RESOURCE, ZHANGSAN, "p")).await, Err(ExchangeError::Unauthenticated(_))));

        // The consumer asks (window staff may not); the provider approves (the consumer may not).
        let req = GrantRequest {
            member_id: member.clone(),
            resource_code: POPULATION_RESOURCE.into(),
            purpose: "婚姻档案核对".into(),
            legal_basis: "《婚姻登记档案管理办法》".into(),
            fields: vec!["name".into(), "address".into()],
            valid_to: in_a_year(),
            rate_per_sec: Some(50),
        };
        assert!(matches!(x.request_access(&window, &req).await, Err(ExchangeError::Forbidden)));
        assert!(matches!(x.request_access(&gat_admin, &req).await, Err(ExchangeError::Forbidden)), "not the consumer's department");
        let bad = GrantRequest { fields: vec!["password".into()], ..req.clone() };
        assert!(matches!(x.request_access(&mzj_admin, &bad).await, Err(ExchangeError::Invalid { .. })));
        let g = x.request_access(&mzj_admin, &req).await.unwrap();
        assert_eq!(g.status, GrantStatus::Pending);
        assert!(
            matches!(x.call(call(&member, POPULATION_RESOURCE, ZHANGSAN, "婚姻档案核对")).await, Err(ExchangeError::Denied(_))),
            "pending is not approved"
        );
        assert!(matches!(x.decide(&mzj_admin, &g.grant_id, true, "").await, Err(ExchangeError::Forbidden)));
        assert!(matches!(x.decide(&gat_admin, &g.grant_id, false, "").await, Err(ExchangeError::Invalid { .. })), "a rejection states why");
        x.decide(&gat_admin, &g.grant_id, true, "同意").await.unwrap();
        // The refusals above used the member's bucket (5 a second); the grant allows 50.
        tokio::time::sleep(Duration::from_millis(300)).await;

        // Approved: only the approved items flow, for the approved purpose.
        let a = x.call(call(&member, POPULATION_RESOURCE, ZHANGSAN, "婚姻档案核对")).await.unwrap();
        assert_eq!(a.result, Outcome::Ok);
        assert_eq!(a.fields, ["name", "address"]);
        assert_eq!(
            serde_json::to_value(&a.records).unwrap(),
            serde_json::json!([{ "name": "张三", "address": "江川省青山市东城区人民路1号" }])
        );
        assert!(matches!(x.call(call(&member, POPULATION_RESOURCE, ZHANGSAN, "其他用途")).await, Err(ExchangeError::Denied(_))));
        let mut narrow = call(&member, POPULATION_RESOURCE, ZHANGSAN, "婚姻档案核对");
        narrow.fields = Some(vec!["address".into()]);
        assert_eq!(x.call(narrow.clone()).await.unwrap().records[0].keys().collect::<Vec<_>>(), ["address"]);
        narrow.fields = Some(vec!["birth_date".into()]);
        assert!(matches!(x.call(narrow).await, Err(ExchangeError::Denied(_))), "items beyond the grant");
        // The answer's signature covers the logged record.
        let keys = x.keys().await.unwrap();
        assert_eq!(keys.len(), 1);
        let logged = x.log_entry(&gat_admin, &a.exchange_id).await.unwrap();
        assert_eq!(logged.signature, a.signature);
        assert!(x.verify_record(&logged).await.unwrap());
        assert!(matches!(x.log_entry(&staff("other", RST, &[Role::Window]), &a.exchange_id).await, Err(ExchangeError::Forbidden)));

        // Revoked: the very next call is refused.
        x.revoke(&gat_admin, &g.grant_id, "用途已完成").await.unwrap();
        let e = x.call(call(&member, POPULATION_RESOURCE, ZHANGSAN, "婚姻档案核对")).await.unwrap_err();
        assert!(matches!(e, ExchangeError::Denied(_)), "{e}");
        assert!(matches!(x.revoke(&gat_admin, &g.grant_id, "").await, Err(ExchangeError::WrongState(_))));

        // Unconditional: every member may read, up to its rate.
        let a = x.call(call(&member, MARKET, "91360100MA35C00005", "企业信息核验")).await.unwrap();
        assert_eq!(a.records[0]["name"], "江川青山云图科技有限公司");
        let mut limited = 0;
        for _ in 0..10 {
            if matches!(x.call(call(&member, MARKET, "91360100MA35C00005", "企业信息核验")).await, Err(ExchangeError::RateLimited)) {
                limited += 1;
            }
        }
        assert!(limited > 0, "5 calls a second");
        // No record about the subject.
        assert_eq!(
            x.call(call(MZJ_CASES, MARRIAGE_RESOURCE, "360121199511110026", "婚姻登记审核")).await.unwrap().result,
            Outcome::NotFound
        );

        // A staff read through the workbench.
        x.record_read(ReadRecord {
            staff: "mzj-window".into(),
            department: MZJ.into(),
            subject: ZHANGSAN.into(),
            case_number: Some("CASE-1".into()),
            holder_department: MZJ.into(),
            purpose: "办理“内地居民结婚登记”".into(),
        })
        .await
        .unwrap();

        // 张三 sees every access about him, with the department and purpose; 李四 sees none of it.
        let names = HashMap::from([(MZJ.to_string(), "青山市东城区民政局".to_string())]);
        let mine = x.access_for_subject(ZHANGSAN, &names, 100).await.unwrap();
        assert!(mine.iter().any(|v| v.result == Outcome::Ok
            && v.resource_name == "人口基础信息"
            && v.purpose == "婚姻档案核对"
            && v.department_name == "青山市东城区民政局"));
        assert!(mine.iter().any(|v| v.result == Outcome::Denied));
        assert!(mine.iter().any(|v| v.channel == Channel::Workbench && v.case_number.as_deref() == Some("CASE-1")));
        assert!(x.access_for_subject(LISI, &names, 100).await.unwrap().is_empty());

        // Statistics count calls, errors and denials per resource and member.
        let stats = x.stats().await.unwrap();
        let s = stats.iter().find(|s| s.resource_code == POPULATION_RESOURCE && s.consumer == member).unwrap();
        assert!(s.calls >= 6 && s.denied >= 4 && s.errors >= s.denied, "{s:?}");
    }
}

#[tokio::test]
async fn a_revocation_on_one_node_stops_calls_on_another() {
    for t in TestDb::each().await.unwrap() {
        let a = open(&t.db, Default::default()).await;
        demo::load(&a).await.unwrap();
        let b = open(&t.db, Default::default()).await;
        let gat_admin = staff("gat-admin", GAT, &[Role::DeptAdmin]);
        let req = call(MZJ_CASES, POPULATION_RESOURCE, ZHANGSAN, "婚姻登记审核");
        b.call(req.clone()).await.unwrap();
        let g = a.grants().await.unwrap().into_iter().find(|g| g.member_id == MZJ_CASES && g.resource_code == POPULATION_RESOURCE).unwrap();
        a.revoke(&gat_admin, &g.grant_id, "测试").await.unwrap();
        // Node b reads the rules' generation after a log commit, at most every 50 ms: after
        // that long, one call later it refuses.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let _ = b.call(req.clone()).await;
        assert!(matches!(b.call(req).await, Err(ExchangeError::Denied(_))));
    }
}

#[tokio::test]
async fn members_authenticate_with_signed_assertions() {
    for t in TestDb::each().await.unwrap() {
        let x = open(&t.db, Default::default()).await;
        let (member, key) = member_with_key(&x, MZJ, "archive").await;
        let aud = x.token_url().to_string();
        let (token, ttl) = x.token(&assertion(&key, &member, &aud, "j1", 120)).await.unwrap();
        assert_eq!(ttl, 600);
        assert_eq!(x.authenticate(&token).unwrap(), member);
        // Replayed, wrong audience, too long-lived, signed by another key, unknown member.
        assert!(x.token(&assertion(&key, &member, &aud, "j1", 120)).await.is_err(), "replay");
        assert!(x.token(&assertion(&key, &member, "http://elsewhere/token", "j2", 120)).await.is_err());
        assert!(x.token(&assertion(&key, &member, &aud, "j3", 3600)).await.is_err());
        let other = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
        assert!(x.token(&assertion(&other, &member, &aud, "j4", 120)).await.is_err());
        assert!(x.token(&assertion(&key, "11360102711777742F:ghost", &aud, "j5", 120)).await.is_err());
        assert!(x.token("not a jwt").await.is_err());
        // A disabled member gets no token and its calls stop.
        let admin = staff("admin", MZJ, &[Role::DeptAdmin]);
        x.set_member_disabled(&admin, &member, true).await.unwrap();
        assert!(x.token(&assertion(&key, &member, &aud, "j6", 120)).await.is_err());
        assert!(matches!(x.call(call(&member, MARKET, "91360100MA35C00005", "p")).await, Err(ExchangeError::Unauthenticated(_))));
        // Another department's admin cannot register for MZJ or change its members.
        let rst = staff("rst", RST, &[Role::DeptAdmin]);
        assert!(matches!(x.set_member_disabled(&rst, &member, false).await, Err(ExchangeError::Forbidden)));
        let nm = NewMember {
            department_code: MZJ.into(),
            subsystem: "sneaky".into(),
            name: "x".into(),
            public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
            rate_per_sec: None,
        };
        assert!(matches!(x.register_member(&rst, &nm).await, Err(ExchangeError::Forbidden)));
        let bad_key = NewMember { department_code: RST.into(), public_key: "abc".into(), ..nm };
        assert!(matches!(x.register_member(&rst, &bad_key).await, Err(ExchangeError::Invalid { .. })));
    }
}

#[tokio::test]
async fn rest_providers_are_filtered_timed_out_and_cut_off() {
    for t in TestDb::each().await.unwrap() {
        let settings = GatewaySettings { trip_after: 3, open_for: Duration::from_millis(300), ..Default::default() };
        let x = open(&t.db, settings).await;
        let fail = Arc::new(AtomicU32::new(0));
        let (url, calls) = rest_provider(fail.clone()).await;
        let rst_admin = staff("rst-admin", RST, &[Role::DeptAdmin]);
        x.put_resource(&rst_admin, &rest_resource(&url)).await.unwrap();
        assert!(matches!(x.put_resource(&staff("a", MZJ, &[Role::DeptAdmin]), &rest_resource(&url)).await, Err(ExchangeError::Forbidden)));
        let (member, _) = member_with_key(&x, MZJ, "archive").await;

        let a = x.call(call(&member, REST_RESOURCE, ZHANGSAN, "社保核验")).await.unwrap();
        assert_eq!(serde_json::to_value(&a.records[0]).unwrap()["employer"], "云图科技");
        assert!(!a.records[0].contains_key("secret"), "items outside the catalog never flow");
        assert_eq!(x.call(call(&member, REST_RESOURCE, LISI, "社保核验")).await.unwrap().result, Outcome::NotFound);

        // A slow provider times out; failures open the circuit, which then refuses at once.
        fail.store(2, Ordering::SeqCst);
        let e = x.call(call(&member, REST_RESOURCE, ZHANGSAN, "社保核验")).await.unwrap_err();
        assert!(matches!(e, ExchangeError::ProviderUnavailable(ref m) if m.contains("超时")), "{e}");
        fail.store(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(250)).await; // rate bucket refills
        for _ in 0..2 {
            assert!(matches!(x.call(call(&member, REST_RESOURCE, ZHANGSAN, "社保核验")).await, Err(ExchangeError::ProviderUnavailable(_))));
        }
        assert!(x.circuit_open(REST_RESOURCE));
        let before = calls.load(Ordering::SeqCst);
        assert!(matches!(x.call(call(&member, REST_RESOURCE, ZHANGSAN, "社保核验")).await, Err(ExchangeError::ProviderUnavailable(_))));
        assert_eq!(calls.load(Ordering::SeqCst), before, "open circuit: the provider is not called");
        // After the pause, one probe; a good one closes the circuit.
        fail.store(0, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(x.call(call(&member, REST_RESOURCE, ZHANGSAN, "社保核验")).await.unwrap().result, Outcome::Ok);
        assert!(!x.circuit_open(REST_RESOURCE));
        let stats = x.stats().await.unwrap();
        let s = stats.iter().find(|s| s.resource_code == REST_RESOURCE).unwrap();
        assert!(s.errors >= 4, "{s:?}");
    }
}

#[tokio::test]
async fn the_log_cannot_be_edited_or_deleted_without_detection() {
    for t in TestDb::each().await.unwrap() {
        let ledger = yiwang_ledger::Ledger::open(t.db.clone(), vault(), Default::default()).await.unwrap();
        let x = open(&t.db, Default::default()).await;
        demo::load(&x).await.unwrap();
        let mut ids = vec![];
        for _ in 0..3 {
            ids.push(x.call(call(MZJ_CASES, POPULATION_RESOURCE, ZHANGSAN, "婚姻登记审核")).await.unwrap().exchange_id);
        }
        ledger.sequence_now().await.unwrap();
        ledger.sign_head().await.unwrap();
        let clean = yiwang_ledger::audit::run(&t.db, Default::default()).await.unwrap();
        assert!(clean.findings.is_empty(), "{:?}", clean.findings);

        assert!(verify_log(&t.db, &sealer()).await.unwrap().ok());
        // At rest the log names nobody: subjects are blind indexes, sealed beside them, and the
        // shared store's records are sealed too.
        let clear: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT (SELECT COUNT(*) FROM exchange_log WHERE subject = '{ZHANGSAN}' OR subject_enc NOT LIKE 'sm4gcm1:%') + \
             (SELECT COUNT(*) FROM exchange_records WHERE subject NOT LIKE 'bi1:%' OR record NOT LIKE 'sm4gcm1:%')"
        )))
        .fetch_one(t.db.reader())
        .await
        .unwrap();
        assert_eq!(clear, 0);

        // Someone with database access hides the purpose of one access, deletes another and
        // slips in a third.
        exec(&t.db, &format!("UPDATE exchange_log SET purpose = '例行检查' WHERE exchange_id = '{}'", ids[0])).await;
        exec(&t.db, &format!("DELETE FROM exchange_log WHERE exchange_id = '{}'", ids[1])).await;
        exec(
            &t.db,
            &format!(
                "INSERT INTO exchange_log SELECT 'forged', 'no-batch', at, channel, consumer, consumer_department, resource_code, \
                 provider_department, subject, purpose, case_number, grant_id, result, fields, bytes, body_hash, latency_us, request_id, \
                 key_id, signature, subject_enc FROM exchange_log WHERE exchange_id = '{}'",
                ids[2]
            ),
        )
        .await;
        let check = verify_log(&t.db, &sealer()).await.unwrap();
        let kinds: Vec<(&str, Option<String>)> = check.findings.iter().map(|f| (f.kind, f.exchange_id.clone())).collect();
        assert_eq!(check.findings.iter().filter(|f| f.kind == "batch_changed").count(), 2, "{kinds:?}");
        assert!(kinds.contains(&("bad_signature", Some(ids[0].clone()))), "{kinds:?}");
        assert!(kinds.contains(&("unbatched", Some("forged".into()))), "{kinds:?}");
        // The edited record's signature no longer verifies either.
        let admin = Staff { roles: vec![Role::PlatformAdmin], ..staff("root", GAT, &[]) };
        let edited = x.log_entry(&admin, &ids[0]).await.unwrap();
        assert!(!x.verify_record(&edited).await.unwrap());
        assert!(x.verify_record(&x.log_entry(&admin, &ids[2]).await.unwrap()).await.unwrap());
        // Rewriting a batch's digest to match is caught by the ledger, which recorded it.
        exec(&t.db, "UPDATE exchange_log_batches SET digest = 'x'").await;
        let report = yiwang_ledger::audit::run(&t.db, Default::default()).await.unwrap();
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.kind == yiwang_ledger::FindingKind::SourceEdited && f.source.as_deref() == Some("exchange_log_batch")),
            "{:?}",
            report.findings
        );
    }
}
