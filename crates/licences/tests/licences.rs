//! Licences against real storage, on SQLite and PostgreSQL: issuance in both algorithms,
//! verification online and offline, tampering, revocation, expiry, versions, key rotation,
//! annotated copies, issuance on case approval and reuse in a later application.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use yiwang_cases::{
    Action, Applicant, ApplicantKind, ApplicationInput, CaseSettings, CaseStatus, Cases, Clock, ManualClock, Target, Values,
};
use yiwang_catalog::{demo, Catalog};
use yiwang_identity::{Role, Staff};
use yiwang_licences::offline::verify_file;
use yiwang_licences::*;
use yiwang_store::testing::TestDb;

const MZJ: &str = "11360102711777742F"; // 东城区民政局
const GAJ: &str = "11360100104974650K"; // 青山市公安局
const WJW: &str = "1136010042366712EM"; // 青山市卫健委
const MARRIAGE: &str = "1136000021993518NX001";
const ID_CARD: &str = "11100000000013338W001";
const ZHANG: &str = "360102199003071236";

struct World {
    licences: Licences,
    cases: Cases,
    clock: Arc<ManualClock>,
    keys: HashMap<String, String>,
    t: TestDb,
}

async fn worlds() -> Vec<World> {
    let mut out = Vec::new();
    for t in TestDb::each().await.unwrap() {
        let catalog = Arc::new(Catalog::open(t.db.clone()).await.unwrap());
        let p = demo::province().unwrap();
        catalog.load_demo(&p).await.unwrap();
        // Monday 23 Nov 2026, 10:00 China time.
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()));
        // Holders and documents sealed at rest, as in production.
        let licences = Licences::new(t.db.clone(), Vault::ephemeral(), "http://yiwang.test", clock.clone())
            .with_personal_data(Arc::new(yiwang_crypto::PersonalData::ephemeral()));
        let names: HashMap<String, String> = p.departments.iter().map(|d| (d.credit_code.clone(), d.name.clone())).collect();
        yiwang_licences::demo::load(&licences, &p.item_keys, &names).await.unwrap();
        let calendar = yiwang_cases::demo::builtin_calendar().unwrap();
        let cases = Cases::new(t.db.clone(), catalog, calendar, clock.clone(), CaseSettings::default())
            .with_hook(Arc::new(licences.clone()))
            .with_wallet(Arc::new(licences.clone()));
        yiwang_cases::demo::load(&cases, &p.item_keys).await.unwrap();
        out.push(World { licences, cases, clock, keys: p.item_keys, t });
    }
    out
}

fn staff(name: &str, dept: &str, roles: &[Role]) -> Staff {
    Staff { username: name.into(), display_name: name.into(), department: Some(dept.into()), region: None, roles: roles.to_vec() }
}

fn marriage(holder: &str, name: &str) -> IssueRequest {
    IssueRequest {
        type_code: MARRIAGE.into(),
        issuer_code: MZJ.into(),
        issuer_name: "青山市东城区民政局".into(),
        holder_name: name.into(),
        holder_id: holder.into(),
        data: BTreeMap::from([
            ("spouse_name".to_string(), "李梅".to_string()),
            ("spouse_id_number".to_string(), "360103198512120034".to_string()),
            ("registered_on".to_string(), "2026-11-23".to_string()),
        ]),
        item_code: None,
        case_id: None,
        case_number: None,
        valid_from: None,
        valid_to: None,
    }
}

impl World {
    async fn corrupt(&self, identifier: &str, document: &str) {
        yiwang_store::sqlx::query("UPDATE licences SET document = $1 WHERE identifier = $2")
            .bind(document)
            .bind(identifier)
            .execute(self.t.db.reader())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn both_algorithms_issue_and_verify_and_any_change_is_detected() {
    for w in worlds().await {
        let approver = staff("mzj", MZJ, &[Role::Approver]);
        // Ed25519 (the marriage certificate type) and SM2 (the identity card type).
        let m = w.licences.issue(&approver, marriage(ZHANG, "张三"), "test").await.unwrap();
        assert_eq!(m.document.algorithm, Algorithm::Ed25519);
        assert!(yiwang_core::codes::LicenceIdentifier::parse(&m.document.identifier).is_ok(), "check character valid");
        assert!(m.document.identifier.starts_with(&format!("1.2.156.3005.2.{MARRIAGE}.{MZJ}.2026")));
        let id_cards = w.licences.wallet(ZHANG).await.unwrap();
        let id_card = id_cards.iter().find(|s| s.type_code == ID_CARD).expect("demo ID card");
        let sm2 = w.licences.get(&id_card.identifier).await.unwrap();
        assert_eq!(sm2.document.algorithm, Algorithm::Sm2);
        // At rest no licence names its holder: blind indexes and sealed documents.
        let stored: Vec<(String, String)> =
            yiwang_store::sqlx::query_as("SELECT holder_id, document FROM licences").fetch_all(w.t.db.reader()).await.unwrap();
        assert!(stored.len() >= 2);
        for (holder, document) in &stored {
            assert!(holder.starts_with("bi1:") && document.starts_with("sm4gcm1:"), "{holder} {document:.40}");
            assert!(!document.contains(ZHANG));
        }

        let keys = w.licences.key_set().await.unwrap();
        for l in [&m, &sm2] {
            let report = w.licences.verify(&l.document.identifier).await.unwrap();
            assert!(report.valid, "{:?}", report.problems);
            assert_eq!(report.holder_id_masked, "360102********1236");
            // Offline: the downloaded file against the published key set.
            let file = w.licences.file(l).await.unwrap();
            let offline = verify_file(&file, Some(&keys), "2026-11-23");
            assert!(offline.valid, "{:?}", offline.problems);
            assert!(!verify_file(&file, None, "2026-11-23").valid, "an unanchored key is not trusted");

            // Any changed field of the document fails, online and offline.
            let doc: serde_json::Value = serde_json::from_str(&l.canonical).unwrap();
            let mut fields: Vec<String> = doc.as_object().unwrap().keys().cloned().collect();
            fields.extend(doc["data"].as_object().unwrap().keys().map(|k| format!("data.{k}")));
            for f in fields {
                let mut changed = doc.clone();
                let slot = match f.strip_prefix("data.") {
                    Some(k) => &mut changed["data"][k],
                    None => &mut changed[&f],
                };
                *slot = match slot {
                    serde_json::Value::Number(n) => serde_json::json!(n.as_i64().unwrap() + 1),
                    serde_json::Value::String(s) => serde_json::json!(format!("{s}X")),
                    _ => serde_json::json!("X"),
                };
                let mut bad = file.clone();
                bad.document = changed.clone();
                assert!(!verify_file(&bad, Some(&keys), "2026-11-23").valid, "offline: changing {f} not detected");
                if f != "identifier" {
                    w.corrupt(&l.document.identifier, &yiwang_licences::canonical::to_string(&changed).unwrap()).await;
                    let r = w.licences.verify(&l.document.identifier).await;
                    assert!(r.map(|r| !r.valid && !r.signature_valid).unwrap_or(true), "online: changing {f} not detected");
                }
            }
            w.corrupt(&l.document.identifier, &l.canonical).await;
            assert!(w.licences.verify(&l.document.identifier).await.unwrap().valid, "restored");
            // A changed signature fails too.
            let mut bad = file.clone();
            bad.signature.value = bad.signature.value.replacen(&bad.signature.value[..4], "AAAA", 1);
            assert!(!verify_file(&bad, Some(&keys), "2026-11-23").signature_valid);
        }
        // A wrong check character is not an identifier.
        let mut wrong = m.document.identifier.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        assert!(matches!(w.licences.verify(&wrong).await, Err(LicenceError::NotFound)));

        // Staff of another department cannot issue in this one's name; data is checked.
        let other = staff("gaj", GAJ, &[Role::Approver]);
        assert!(matches!(w.licences.issue(&other, marriage(ZHANG, "张三"), "t").await, Err(LicenceError::Forbidden)));
        let mut missing = marriage(ZHANG, "张三");
        missing.data.remove("spouse_name");
        assert!(matches!(w.licences.issue(&approver, missing, "t").await, Err(LicenceError::Invalid { .. })));
        assert!(matches!(w.licences.issue(&approver, marriage("360102199003071235", "张三"), "t").await, Err(LicenceError::Code(_))));
    }
}

#[tokio::test]
async fn revocation_expiry_versions_and_key_rotation() {
    for w in worlds().await {
        let approver = staff("mzj", MZJ, &[Role::Approver]);
        let admin = staff("mzj-admin", MZJ, &[Role::DeptAdmin]);
        let first = w.licences.issue(&approver, marriage(ZHANG, "张三"), "t").await.unwrap();

        // Key rotation: the old licence stays valid, new ones use the new seal.
        assert!(matches!(w.licences.rotate_seal(&approver, Algorithm::Ed25519, "东城区民政局", "t").await, Err(LicenceError::Forbidden)));
        let new_seal = w.licences.rotate_seal(&admin, Algorithm::Ed25519, "东城区民政局", "t").await.unwrap();
        assert_ne!(new_seal.seal_id, first.document.seal_id);
        w.clock.set(w.clock.now() + chrono::Duration::seconds(5));
        let second = w.licences.issue(&approver, marriage("360103198512120034", "李四"), "t").await.unwrap();
        assert_eq!(second.document.seal_id, new_seal.seal_id);
        assert!(w.licences.verify(&first.document.identifier).await.unwrap().valid, "signed before rotation: still valid");
        assert!(w.licences.verify(&second.document.identifier).await.unwrap().valid);
        let keys = w.licences.key_set().await.unwrap();
        let old = keys.keys.iter().find(|k| k.seal_id == first.document.seal_id).unwrap();
        assert!(old.retired_at.is_some());
        let file = w.licences.file(&first).await.unwrap();
        assert!(verify_file(&file, Some(&keys), "2026-11-24").valid, "old licence verifies offline against the new key set");

        // 换发: a new version supersedes the old one, the serial stays.
        let mut data = first.document.data.clone();
        data.insert("registered_on".into(), "2026-11-20".into());
        let v2 = w.licences.reissue(&approver, &first.document.identifier, data, "t").await.unwrap();
        assert_eq!(v2.document.version, 2);
        assert_eq!(v2.document.supersedes, first.document.identifier);
        assert_eq!(v2.document.identifier.split('.').nth(7), first.document.identifier.split('.').nth(7));
        let old = w.licences.verify(&first.document.identifier).await.unwrap();
        assert!(!old.valid && old.signature_valid);
        assert_eq!(old.status, LicenceStatus::Superseded);
        assert_eq!(old.superseded_by.as_deref(), Some(v2.document.identifier.as_str()));

        // 注销 with a reason.
        let r = w.licences.revoke(&approver, &v2.document.identifier, "登记机关撤销婚姻登记", "t").await.unwrap();
        assert_eq!(r.status, LicenceStatus::Revoked);
        let report = w.licences.verify(&v2.document.identifier).await.unwrap();
        assert!(!report.valid && report.signature_valid && report.problems[0].contains("撤销"));
        assert!(matches!(w.licences.revoke(&approver, &v2.document.identifier, "again", "t").await, Err(LicenceError::WrongState(_))));
        let audit: i64 =
            yiwang_store::sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'licence.%' OR action LIKE 'seal.%'")
                .fetch_one(w.t.db.reader())
                .await
                .unwrap();
        assert_eq!(audit, 5, "issue ×2, rotate, reissue, revoke audited");

        // Expiry: a five-year food licence is valid until the day before the anniversary.
        let scjg = staff("scjg", "1136010059797114FH", &[Role::Approver]);
        let food = w
            .licences
            .issue(
                &scjg,
                IssueRequest {
                    type_code: "1136000052601815JY002".into(),
                    issuer_code: "1136010059797114FH".into(),
                    issuer_name: "青山市市场监督管理局".into(),
                    holder_name: "青山市李记餐饮管理有限公司".into(),
                    holder_id: "91360102MA38L0001T".into(),
                    data: BTreeMap::from([("premises".to_string(), "滨江路90号".to_string())]),
                    item_code: None,
                    case_id: None,
                    case_number: None,
                    valid_from: None,
                    valid_to: None,
                },
                "t",
            )
            .await
            .unwrap();
        assert_eq!(food.document.valid_to, "2031-11-22");
        w.clock.set(Utc.with_ymd_and_hms(2031, 11, 22, 12, 0, 0).unwrap());
        assert!(w.licences.verify(&food.document.identifier).await.unwrap().valid, "last day");
        w.clock.set(Utc.with_ymd_and_hms(2031, 11, 23, 2, 0, 0).unwrap());
        let expired = w.licences.verify(&food.document.identifier).await.unwrap();
        assert_eq!(expired.status, LicenceStatus::Expired);
        assert!(!expired.valid && expired.signature_valid);
        let file = w.licences.file(&food).await.unwrap();
        assert!(!verify_file(&file, Some(&w.licences.key_set().await.unwrap()), "2031-11-23").valid);

        // A revoked (compromised) seal invalidates what it signs afterwards, not before.
        w.clock.set(Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());
        w.licences.revoke_seal(&admin, &new_seal.seal_id, "t").await.unwrap();
        assert!(w.licences.verify(&second.document.identifier).await.unwrap().valid, "signed before the compromise");
        let third = w.licences.issue(&approver, marriage("360111197708150054", "王五"), "t").await.unwrap();
        assert_ne!(third.document.seal_id, new_seal.seal_id, "a fresh seal after revocation");
    }
}

#[tokio::test]
async fn annotated_copies_are_one_use_and_uses_are_recorded() {
    for w in worlds().await {
        let id_card = w.licences.wallet(ZHANG).await.unwrap().into_iter().find(|s| s.type_code == ID_CARD).unwrap();
        assert!(
            matches!(
                w.licences.make_copy("360103198512120034", "acct", &id_card.identifier, "租房", "", 3).await,
                Err(LicenceError::NotFound)
            ),
            "only the holder makes copies"
        );
        assert!(w.licences.make_copy(ZHANG, "acct", &id_card.identifier, " ", "", 3).await.is_err(), "purpose required");
        let copy = w.licences.make_copy(ZHANG, "acct-zhang", &id_card.identifier, "办理银行开户", "青山银行", 3).await.unwrap();
        assert!(copy.token.len() >= 24);
        let (used, licence, report) = w.licences.use_copy(&copy.token, "青山银行").await.unwrap();
        assert!(used.used_at.is_some() && report.valid);
        assert_eq!(licence.document.holder_id, ZHANG);
        assert!(matches!(w.licences.use_copy(&copy.token, "x").await, Err(LicenceError::CopyUsed)));
        let late = w.licences.make_copy(ZHANG, "acct-zhang", &id_card.identifier, "签约", "", 1).await.unwrap();
        w.clock.advance_days(2);
        assert!(matches!(w.licences.use_copy(&late.token, "x").await, Err(LicenceError::CopyExpired)));
        let uses = w.licences.uses_of(ZHANG, &id_card.identifier).await.unwrap();
        assert_eq!(uses.len(), 1);
        assert!(uses[0].purpose.contains("银行开户") && uses[0].used_by == "青山银行");
    }
}

fn values(pairs: &[(&str, &str)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn approval_issues_the_licence_and_a_later_application_reuses_it() {
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF";
    for w in worlds().await {
        let zhang = Applicant {
            account: Some("acct-zhang".into()),
            kind: ApplicantKind::Person,
            name: "张三".into(),
            id_number: ZHANG.into(),
            person_name: "张三".into(),
            person_id_number: ZHANG.into(),
            phone: Some("13800138000".into()),
            assurance: 2,
            address: None,
        };
        // 结婚登记: the ID card material is filled from the wallet.
        let target = Target::Item(w.keys["jh-dj"].clone());
        let input = ApplicationInput {
            values: values(&[
                ("applicant_name", "张三"),
                ("contact_phone", "13800138000"),
                ("spouse_name", "李梅"),
                ("spouse_id_number", "360103198512120034"),
            ]),
            ..Default::default()
        };
        let draft = w.cases.create_draft(&zhang, &target, &input, None).await.unwrap();
        let view = w.cases.view(draft.clone()).await.unwrap();
        let id_mat = view.materials.iter().find(|m| m.name == "本人居民身份证").expect("ID card filled from the wallet");
        assert!(id_mat.licence_id.as_deref().is_some_and(|l| l.contains(ID_CARD)));
        assert_eq!(id_mat.content_type, "application/json");
        let p = w.cases.prepare(&target).await.unwrap();
        for m in p.materials.iter().filter(|m| m.required && m.licence_type.is_none()) {
            w.cases.attach_material(&zhang, &draft.case_id, &m.name, "m.pdf", PDF).await.unwrap();
        }
        let case = w.cases.submit(&zhang, &draft.case_id).await.unwrap();
        let window = staff("mzj-window", MZJ, &[Role::Window, Role::Approver]);
        let case = w.cases.act(&window, &case.case_id, case.version, &Action::Accept { on_the_spot: true }).await.unwrap();
        assert!(matches!(case.status, CaseStatus::Concluded | CaseStatus::Delivered), "{:?}", case.status);

        // The licence is in the wallet, issued by the branch's department, data from the form.
        let wallet = w.licences.wallet(ZHANG).await.unwrap();
        let cert = wallet.iter().find(|s| s.type_code == MARRIAGE).expect("marriage certificate issued on approval");
        let cert = w.licences.get(&cert.identifier).await.unwrap();
        assert_eq!(cert.document.issuer_code, MZJ);
        assert_eq!(cert.document.data["spouse_name"], "李梅");
        assert_eq!(cert.document.case_number, case.case_number.clone().unwrap());
        assert_eq!(cert.case_id.as_deref(), Some(case.case_id.as_str()));
        assert!(w.licences.verify(&cert.document.identifier).await.unwrap().valid);

        // 生育登记 at another department: both licence materials are satisfied, no upload.
        let sy = Target::Item(w.keys["sy-dj"].clone());
        let input =
            ApplicationInput { values: values(&[("contact_name", "张三"), ("contact_phone", "13800138000")]), ..Default::default() };
        let draft = w.cases.create_draft(&zhang, &sy, &input, None).await.unwrap();
        let view = w.cases.view(draft.clone()).await.unwrap();
        assert_eq!(view.materials.iter().filter(|m| m.licence_id.is_some()).count(), 2, "{:?}", view.materials);
        let submitted = w.cases.submit(&zhang, &draft.case_id).await.expect("nothing to upload");
        assert_eq!(submitted.status, CaseStatus::Submitted);
        let uses = w.licences.uses_of(ZHANG, &cert.document.identifier).await.unwrap();
        assert_eq!(uses.len(), 1);
        assert_eq!(uses[0].case_id.as_deref(), Some(draft.case_id.as_str()));
        assert_eq!(uses[0].department_code.as_deref(), Some(WJW));
        assert_eq!(uses[0].used_by, "acct-zhang");
        // The file attached to the case verifies offline.
        let (_, bytes) = w.cases.material(&submitted, "结婚证").await.unwrap();
        let file: LicenceFile = serde_json::from_slice(&bytes).unwrap();
        assert!(verify_file(&file, Some(&w.licences.key_set().await.unwrap()), "2026-11-23").valid);
    }
}
