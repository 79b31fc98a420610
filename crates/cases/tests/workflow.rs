//! The workflow engine against real storage, on SQLite and PostgreSQL: submissions, one-time
//! notices, acceptance, corrections that stop the clock, parallel branches, deadlines across
//! holidays, automatic approval, window acceptance, optimistic locking and authorization.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use yiwang_cases::*;
use yiwang_catalog::{demo, Catalog};
use yiwang_identity::{Role, Staff};
use yiwang_store::testing::TestDb;

struct World {
    cases: Cases,
    clock: Arc<ManualClock>,
    keys: HashMap<String, String>,
    depts: HashMap<String, String>,
    _t: TestDb,
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF";

async fn worlds() -> Vec<World> {
    let mut out = Vec::new();
    for t in TestDb::each().await.unwrap() {
        let catalog = Arc::new(Catalog::open(t.db.clone()).await.unwrap());
        let p = demo::province().unwrap();
        catalog.load_demo(&p).await.unwrap();
        // Monday 23 Nov 2026, 10:00 China time.
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()));
        let cases = Cases::new(t.db.clone(), catalog, demo_calendar(), clock.clone(), CaseSettings::default());
        yiwang_cases::demo::load(&cases, &p.item_keys).await.unwrap();
        let depts = [
            ("qs-gaj", "11360100104974650K"),
            ("qs-spj", "11360100866661761G"),
            ("qs-sw", "113601003137215916"),
            ("qs-rsj", "1136010075291703Q3"),
            ("qs-gjj", "123601006321223306"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        out.push(World { cases, clock, keys: p.item_keys, depts, _t: t });
    }
    out
}

fn demo_calendar() -> WorkCalendar {
    yiwang_cases::demo::builtin_calendar().unwrap()
}

fn person(id: &str, name: &str, assurance: u8) -> Applicant {
    Applicant {
        account: Some(format!("acct-{id}")),
        kind: ApplicantKind::Person,
        name: name.into(),
        id_number: id.into(),
        person_name: name.into(),
        person_id_number: id.into(),
        phone: Some("13800138000".into()),
        assurance,
        address: None,
    }
}

fn business() -> Applicant {
    Applicant {
        account: Some("acct-zhang".into()),
        kind: ApplicantKind::Business,
        name: "青山示范科技有限公司".into(),
        id_number: "91360100MA35C00005".into(),
        person_name: "张伟".into(),
        person_id_number: "360102199003071236".into(),
        phone: Some("13900139000".into()),
        assurance: 2,
        address: None,
    }
}

impl World {
    fn staff(&self, name: &str, dept: &str, role: Role) -> Staff {
        Staff {
            username: name.into(),
            display_name: name.into(),
            department: Some(self.depts[dept].clone()),
            region: None,
            roles: vec![role],
        }
    }
    fn item(&self, key: &str) -> Target {
        Target::Item(self.keys[key].clone())
    }
    /// Audit records of a case: (actor, result, source).
    async fn cases_audit(&self, case_id: &str) -> Vec<(String, String, String)> {
        yiwang_store::sqlx::query_as("SELECT actor, result, source FROM audit_log WHERE action = 'case.action' AND target = $1 ORDER BY id")
            .bind(case_id)
            .fetch_all(self._t.db.reader())
            .await
            .unwrap()
    }
}

fn values(pairs: &[(&str, &str)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn kinds(v: &CaseView) -> Vec<EventKind> {
    v.timeline.iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn citizen_journey_with_correction_on_both_backends() {
    for w in worlds().await {
        let zhang = person("360102199003071236", "张伟", 2);
        let target = w.item("sfz-hb");
        let prepared = w.cases.prepare(&target).await.unwrap();
        let pre = Cases::prefill(&prepared.form, &zhang);
        assert_eq!(pre.get("id_number").map(String::as_str), Some("360102199003071236"), "known data is pre-filled");

        let draft = w.cases.create_draft(&zhang, &target, &ApplicationInput { values: pre, ..Default::default() }, None).await.unwrap();
        assert_eq!(draft.status, CaseStatus::Draft);
        // Submitting now lists everything missing at once.
        match w.cases.submit(&zhang, &draft.case_id).await {
            Err(CaseError::PrecheckFailed(p)) => {
                let targets: Vec<_> = p.iter().map(|p| p.target.as_str()).collect();
                assert_eq!(targets, ["reason", "address", "居民户口簿或原居民身份证"], "{p:?}");
            }
            other => panic!("expected a one-time notice, got {other:?}"),
        }
        // Choosing 遗失补领 makes the conditional field required.
        let mut input = ApplicationInput {
            values: values(&[
                ("applicant_name", "张伟"),
                ("id_number", "360102199003071236"),
                ("contact_phone", "13800138000"),
                ("reason", "遗失补领"),
                ("address", "青山市东城区人民路1号"),
            ]),
            ..Default::default()
        };
        let draft = w.cases.save_form(&zhang, &draft.case_id, &input, draft.version).await.unwrap();
        w.cases.attach_material(&zhang, &draft.case_id, "居民户口簿或原居民身份证", "hukou.pdf", PDF).await.unwrap();
        match w.cases.submit(&zhang, &draft.case_id).await {
            Err(CaseError::PrecheckFailed(p)) => assert_eq!(p.len(), 1, "{p:?}"),
            other => panic!("{other:?}"),
        }
        input.values.insert("lost_place".into(), "在公交车上遗失".into());
        w.cases.save_form(&zhang, &draft.case_id, &input, draft.version).await.unwrap();
        let case = w.cases.submit(&zhang, &draft.case_id).await.unwrap();
        let number = case.case_number.clone().unwrap();
        assert_eq!(number.len(), 43);
        assert!(number.starts_with(&w.keys["sfz-hb"]) && number[31..].starts_with("20261123"), "{number}");
        // Submitting again is idempotent.
        let again = w.cases.submit(&zhang, &draft.case_id).await.unwrap();
        assert_eq!(again.case_number, case.case_number);

        let window = w.staff("gaj-window", "qs-gaj", Role::Window);
        let approver = w.staff("gaj-approver", "qs-gaj", Role::Approver);
        // The approver cannot accept; a window of another department cannot even see it.
        assert!(matches!(
            w.cases.act(&approver, &case.case_id, case.version, &Action::Accept { on_the_spot: false }).await,
            Err(CaseError::Forbidden)
        ));
        let other_window = w.staff("spj-window", "qs-spj", Role::Window);
        assert!(matches!(w.cases.case_for_staff(&other_window, &case.case_id).await, Err(CaseError::NotFound)));
        // Another citizen cannot see it either.
        let li = person("360103198512120034", "李娜", 2);
        assert!(matches!(w.cases.case_for_owner(&li, &case.case_id).await, Err(CaseError::NotFound)));

        let case = w.cases.act(&window, &case.case_id, case.version, &Action::Accept { on_the_spot: false }).await.unwrap();
        assert_eq!(case.status, CaseStatus::InProgress);
        // 15 working days from Mon 23 Nov 2026.
        assert_eq!(case.due_date.as_deref(), Some("2026-12-14"));
        let queue = w.cases.queue(&approver, &QueueFilter::default()).await.unwrap();
        assert!(queue.iter().any(|(s, _)| s.case_id == case.case_id && s.step_name.as_deref() == Some("审核")));

        // Correction: the clock stops for the 3 working days the applicant takes.
        let case = w
            .cases
            .act(&approver, &case.case_id, case.version, &Action::RequestCorrection { note: "户口簿照片不清晰，请重新上传".into() })
            .await
            .unwrap();
        assert_eq!(case.status, CaseStatus::Correction);
        assert!(matches!(
            w.cases.act(&approver, &case.case_id, case.version, &Action::Approve { branch: 1, note: String::new() }).await,
            Err(CaseError::WrongState(_))
        ));
        w.clock.advance_days(3); // Thursday 26 Nov: 3 working days later
        w.cases.attach_material(&zhang, &case.case_id, "居民户口簿或原居民身份证", "hukou2.pdf", b"%PDF-1.4 clearer").await.unwrap();
        let case = w.cases.resubmit(&zhang, &case.case_id, case.version).await.unwrap();
        assert_eq!(case.status, CaseStatus::InProgress);
        assert_eq!(case.due_date.as_deref(), Some("2026-12-17"), "deadline moved by the 3 paused working days");
        // Resubmitting the same version again is harmless.
        let same = w.cases.resubmit(&zhang, &case.case_id, case.version - 1).await.unwrap();
        assert_eq!(same.version, case.version);

        let case =
            w.cases.act(&approver, &case.case_id, case.version, &Action::Approve { branch: 1, note: "材料齐全".into() }).await.unwrap();
        assert_eq!(case.status, CaseStatus::InProgress);
        assert_eq!(case.branches[0].current_step().map(|s| s.name.as_str()), Some("签发"));
        let case =
            w.cases.act(&approver, &case.case_id, case.version, &Action::Return { branch: 1, reason: "复核照片".into() }).await.unwrap();
        let case = w.cases.act(&approver, &case.case_id, case.version, &Action::Approve { branch: 1, note: String::new() }).await.unwrap();
        let case = w.cases.act(&approver, &case.case_id, case.version, &Action::Approve { branch: 1, note: String::new() }).await.unwrap();
        assert_eq!(case.status, CaseStatus::Delivered, "electronic delivery happens at conclusion");
        assert_eq!(case.outcome, Some(Outcome::Approved));

        let view = w.cases.view(w.cases.case_for_owner(&zhang, &case.case_id).await.unwrap()).await.unwrap();
        use EventKind::*;
        assert_eq!(
            kinds(&view),
            [
                Submitted,
                Accepted,
                CorrectionRequested,
                Resubmitted,
                StepCompleted,
                Returned,
                StepCompleted,
                BranchApproved,
                Concluded,
                Delivered
            ]
        );
        assert!(view.timeline.iter().all(|e| e.department_name.as_deref() == Some("青山市公安局")));
        assert_eq!(view.timeline[2].note, "户口簿照片不清晰，请重新上传");
        assert_eq!(view.materials.len(), 1);
        assert_eq!(view.materials[0].file_name, "hukou2.pdf");
    }
}

#[tokio::test]
async fn bundle_runs_in_parallel_and_concludes_when_every_branch_is_done() {
    for w in worlds().await {
        let biz = business();
        let target = Target::Bundle("kaiban-qiye".into());
        let p = w.cases.prepare(&target).await.unwrap();
        assert_eq!(p.items.len(), 5);
        assert_eq!(p.form.fields.iter().filter(|f| f.key == "company_name").count(), 1, "shared fields asked once");
        // A person cannot apply for a business bundle.
        let zhang = person("360102199003071236", "张伟", 2);
        assert!(matches!(w.cases.create_draft(&zhang, &target, &ApplicationInput::default(), None).await, Err(CaseError::Refused(_))));

        let mut v = Cases::prefill(&p.form, &biz);
        for (k, x) in [
            ("company_name", "青山云帆科技有限公司"),
            ("company_type", "有限责任公司"),
            ("registered_capital", "100"),
            ("shareholders", "2"),
            ("address", "青山市高新区创新大道8号"),
            ("scope", "软件开发；信息技术咨询服务"),
            ("seal_kinds", "公章、财务章、发票专用章"),
            ("invoice_type", "增值税普通发票（电子）"),
            ("employees", "12"),
            ("deposit_rate", "12"),
        ] {
            v.insert(k.into(), x.into());
        }
        let input =
            ApplicationInput {
                values: v, delivery: Some(Delivery::Courier), delivery_address: Some("青山市高新区创新大道8号".into())
            };
        let draft = w.cases.create_draft(&biz, &target, &input, Some("kaiban-1")).await.unwrap();
        let same = w.cases.create_draft(&biz, &target, &input, Some("kaiban-1")).await.unwrap();
        assert_eq!(same.case_id, draft.case_id, "idempotency key returns the same draft");
        for m in p.materials.iter().filter(|m| m.required) {
            w.cases.attach_material(&biz, &draft.case_id, &m.name, "m.pdf", PDF).await.unwrap();
        }
        let case = w.cases.submit(&biz, &draft.case_id).await.unwrap();
        assert_eq!(case.branches.len(), 5);
        // 一表多拆: the tax branch gets its own fields only.
        let tax = case.branches.iter().find(|b| b.department_code == w.depts["qs-sw"]).unwrap();
        assert!(tax.form.contains_key("invoice_type") && !tax.form.contains_key("scope") && !tax.form.contains_key("deposit_rate"));

        let window = w.staff("window1", "qs-spj", Role::Window);
        let mut case = w.cases.act(&window, &case.case_id, case.version, &Action::Accept { on_the_spot: false }).await.unwrap();
        assert!(case.branches.iter().all(|b| b.status == BranchStatus::Active), "all departments start together");
        let order = ["qs-gjj", "qs-sw", "qs-rsj", "qs-gaj", "qs-spj"];
        for (i, dept) in order.iter().enumerate() {
            let approver = w.staff(&format!("{dept}-approver"), dept, Role::Approver);
            let queue = w.cases.queue(&approver, &QueueFilter::default()).await.unwrap();
            let (row, _) = queue.iter().find(|(s, _)| s.case_id == case.case_id).expect("case in the department's queue");
            let branch = row.branch_no.unwrap();
            // An approver cannot act on another department's branch.
            let other = case.branches.iter().find(|b| b.branch_no != branch && b.status == BranchStatus::Active);
            if let Some(o) = other {
                assert!(matches!(
                    w.cases
                        .act(&approver, &case.case_id, case.version, &Action::Approve { branch: o.branch_no, note: String::new() })
                        .await,
                    Err(CaseError::Forbidden)
                ));
            }
            // Promised items have two steps, on-the-spot items one.
            while case.branch(branch).unwrap().status == BranchStatus::Active {
                case = w.cases.act(&approver, &case.case_id, case.version, &Action::Approve { branch, note: String::new() }).await.unwrap();
            }
            if i < order.len() - 1 {
                assert_eq!(case.status, CaseStatus::InProgress, "not concluded while a branch is open");
            }
        }
        assert_eq!(case.status, CaseStatus::Concluded);
        assert_eq!(case.outcome, Some(Outcome::Approved));
        let case = w.cases.act(&window, &case.case_id, case.version, &Action::Deliver { note: "EMS 1234567890".into() }).await.unwrap();
        assert_eq!(case.status, CaseStatus::Delivered);
        let view = w.cases.view(case).await.unwrap();
        let depts: std::collections::BTreeSet<_> = view.timeline.iter().filter_map(|e| e.department_code.clone()).collect();
        assert_eq!(depts.len(), 5, "the timeline names every department");
    }
}

#[tokio::test]
async fn deadlines_across_national_day_and_adjusted_weekends() {
    for w in worlds().await {
        // Tuesday 29 Sep 2026, 09:00 China time.
        w.clock.set(Utc.with_ymd_and_hms(2026, 9, 29, 1, 0, 0).unwrap());
        let zhang = person("360102199003071236", "张伟", 2);
        let target = w.item("sfz-hb");
        let input = ApplicationInput {
            values: values(&[
                ("applicant_name", "张伟"),
                ("id_number", "360102199003071236"),
                ("contact_phone", "13800138000"),
                ("reason", "有效期满换领"),
                ("address", "青山市"),
            ]),
            ..Default::default()
        };
        let d = w.cases.create_draft(&zhang, &target, &input, None).await.unwrap();
        w.cases.attach_material(&zhang, &d.case_id, "居民户口簿或原居民身份证", "a.pdf", PDF).await.unwrap();
        let case = w.cases.submit(&zhang, &d.case_id).await.unwrap();
        // Acceptance within 2 working days: 30 Sep, then 8 Oct (1–7 Oct off).
        assert_eq!(case.due_date.as_deref(), Some("2026-10-08"));
        let window = w.staff("gaj-window", "qs-gaj", Role::Window);
        let approver = w.staff("gaj-approver", "qs-gaj", Role::Approver);
        let case = w.cases.act(&window, &case.case_id, case.version, &Action::Accept { on_the_spot: false }).await.unwrap();
        // 15 working days from 29 Sep: 30 Sep, 8, 9, 10 (Sat, adjusted), 12–16, 19–23, 26 Oct.
        assert_eq!(case.due_date.as_deref(), Some("2026-10-26"));
        // Step 审核 has its own 5-day limit: 30 Sep, 8, 9, 10, 12 Oct.
        assert_eq!(case.branches[0].step_due.as_deref(), Some("2026-10-12"));
        // Correction asked on Wednesday 30 Sep (that day counts as used).
        w.clock.set(Utc.with_ymd_and_hms(2026, 9, 30, 1, 0, 0).unwrap());
        let case =
            w.cases.act(&approver, &case.case_id, case.version, &Action::RequestCorrection { note: "补充照片".into() }).await.unwrap();
        // Resubmitted Friday 9 Oct: the paused working days are 8 and 9 Oct.
        w.clock.set(Utc.with_ymd_and_hms(2026, 10, 9, 1, 0, 0).unwrap());
        let case = w.cases.resubmit(&zhang, &case.case_id, case.version).await.unwrap();
        assert_eq!(case.due_date.as_deref(), Some("2026-10-28"));
        assert_eq!(case.branches[0].step_due.as_deref(), Some("2026-10-14"));
        // Queue colours: green now, yellow on the last day, red after it.
        async fn colour(w: &World, approver: &Staff, id: &str) -> Urgency {
            w.cases
                .queue(approver, &QueueFilter::default())
                .await
                .unwrap()
                .into_iter()
                .find(|(s, _)| s.case_id == id)
                .map(|(_, u)| u)
                .unwrap()
        }
        assert_eq!(colour(&w, &approver, &case.case_id).await, Urgency::Green);
        w.clock.set(Utc.with_ymd_and_hms(2026, 10, 13, 1, 0, 0).unwrap());
        assert_eq!(colour(&w, &approver, &case.case_id).await, Urgency::Yellow);
        w.clock.set(Utc.with_ymd_and_hms(2026, 10, 15, 1, 0, 0).unwrap());
        assert_eq!(colour(&w, &approver, &case.case_id).await, Urgency::Red);
    }
}

#[tokio::test]
async fn automatic_approval_and_window_acceptance() {
    for w in worlds().await {
        let target = w.item("jy-dj");
        let input = |name: &str| ApplicationInput {
            values: values(&[
                ("applicant_name", name),
                ("contact_phone", "13800138000"),
                ("status", "就业登记"),
                ("employer", "青山示范科技有限公司"),
            ]),
            ..Default::default()
        };
        // L2 applicant: approved and delivered without a person.
        let zhang = person("360102199003071236", "张伟", 2);
        let d = w.cases.create_draft(&zhang, &target, &input("张伟"), None).await.unwrap();
        w.cases.attach_material(&zhang, &d.case_id, "居民身份证", "id.png", b"\x89PNG\r\n\x1a\nxxxx").await.unwrap();
        let case = w.cases.submit(&zhang, &d.case_id).await.unwrap();
        assert_eq!(case.status, CaseStatus::Delivered);
        assert_eq!(case.outcome, Some(Outcome::Approved));
        let view = w.cases.view(case).await.unwrap();
        assert!(kinds(&view).contains(&EventKind::Prechecked));
        // L1 applicant: the rule says why, nothing is submitted.
        let wang = person("360111197708150054", "王强", 1);
        let d = w.cases.create_draft(&wang, &target, &input("王强"), None).await.unwrap();
        w.cases.attach_material(&wang, &d.case_id, "居民身份证", "id.png", b"\x89PNG\r\n\x1a\nxxxx").await.unwrap();
        match w.cases.submit(&wang, &d.case_id).await {
            Err(CaseError::PrecheckFailed(p)) => assert!(p[0].message.contains("实名核验"), "{p:?}"),
            other => panic!("{other:?}"),
        }

        // 一窗受理 for an offline applicant; an on-the-spot item finishes at once.
        let window = w.staff("gaj-window", "qs-gaj", Role::Window);
        let offline = Applicant { account: None, ..person("360102200001010021", "赵敏", 3) };
        let jsz = w.item("jsz-hz");
        let case = w
            .cases
            .window_apply(
                &window,
                &offline,
                &jsz,
                &ApplicationInput { values: values(&[("contact_name", "赵敏"), ("contact_phone", "13700137000")]), ..Default::default() },
                true,
                "127.0.0.1",
            )
            .await
            .unwrap();
        assert_eq!(case.status, CaseStatus::Delivered);
        assert_eq!(case.channel, Channel::Window);
        let audit = w.cases_audit(&case.case_id).await;
        assert_eq!(
            audit,
            [("gaj-window".to_string(), "受理并当场办结".to_string(), "127.0.0.1".to_string())],
            "audited in the same transaction"
        );
        // The citizen later signs in with the same ID number and sees the case.
        let online = person("360102200001010021", "赵敏", 2);
        assert_eq!(w.cases.cases_of(&online, 10).await.unwrap().len(), 1);
        // A promised item cannot be finished on the spot.
        let hz = w.item("hz-qf");
        assert!(matches!(
            w.cases
                .window_apply(
                    &window,
                    &offline,
                    &hz,
                    &ApplicationInput {
                        values: values(&[("contact_name", "赵敏"), ("contact_phone", "13700137000")]),
                        ..Default::default()
                    },
                    true,
                    "127.0.0.1"
                )
                .await,
            Err(CaseError::Refused(_))
        ));
        // A window of another department is sent to the right one.
        let spj = w.staff("window1", "qs-spj", Role::Window);
        assert!(matches!(
            w.cases
                .window_apply(
                    &spj,
                    &offline,
                    &jsz,
                    &ApplicationInput {
                        values: values(&[("contact_name", "赵敏"), ("contact_phone", "13700137000")]),
                        ..Default::default()
                    },
                    true,
                    "127.0.0.1"
                )
                .await,
            Err(CaseError::Refused(_))
        ));
    }
}

#[tokio::test]
async fn two_staff_acting_at_once_cannot_both_succeed() {
    for w in worlds().await {
        let zhang = person("360102199003071236", "张伟", 2);
        let target = w.item("sfz-hb");
        let input = ApplicationInput {
            values: values(&[
                ("applicant_name", "张伟"),
                ("id_number", "360102199003071236"),
                ("contact_phone", "13800138000"),
                ("reason", "有效期满换领"),
                ("address", "青山市"),
            ]),
            ..Default::default()
        };
        let window_a = w.staff("gaj-window", "qs-gaj", Role::Window);
        let window_b = w.staff("gaj-window-2", "qs-gaj", Role::Window);
        for round in 0..5 {
            let d = w.cases.create_draft(&zhang, &target, &input, None).await.unwrap();
            w.cases.attach_material(&zhang, &d.case_id, "居民户口簿或原居民身份证", "a.pdf", PDF).await.unwrap();
            let case = w.cases.submit(&zhang, &d.case_id).await.unwrap();
            let (c1, c2) = (w.cases.clone(), w.cases.clone());
            let (id1, id2) = (case.case_id.clone(), case.case_id.clone());
            let (a, b) = (window_a.clone(), window_b.clone());
            let v = case.version;
            let t1 = tokio::spawn(async move { c1.act(&a, &id1, v, &Action::Accept { on_the_spot: false }).await });
            let t2 = tokio::spawn(async move { c2.act(&b, &id2, v, &Action::NotAccept { reason: "材料不全".into() }).await });
            let (r1, r2) = (t1.await.unwrap(), t2.await.unwrap());
            assert!(r1.is_ok() ^ r2.is_ok(), "round {round}: exactly one wins: {r1:?} / {r2:?}");
            let loser = if r1.is_ok() { r2 } else { r1 };
            assert!(matches!(loser, Err(CaseError::Stale)), "{loser:?}");
            let view = w.cases.view(w.cases.case_for_owner(&zhang, &case.case_id).await.unwrap()).await.unwrap();
            assert_eq!(view.timeline.len(), 2, "one submission and one decision, never both decisions");
        }
    }
}

#[tokio::test]
async fn concurrent_submissions_get_distinct_numbers() {
    for w in worlds().await {
        let target = w.item("jy-dj");
        let mut handles = Vec::new();
        for i in 0..20 {
            let cases = w.cases.clone();
            let target = target.clone();
            handles.push(tokio::spawn(async move {
                let id = format!("36010219900307{:04}", i);
                let id = format!("{}{}", &id[..17], yiwang_core::codes::CitizenId::check_char(&id[..17]));
                let a = person(&id, "申请人", 2);
                let input = ApplicationInput {
                    values: values(&[
                        ("applicant_name", "申请人"),
                        ("contact_phone", "13800138000"),
                        ("status", "失业登记"),
                        ("last_job_end", "2026-10-31"),
                    ]),
                    ..Default::default()
                };
                let d = cases.create_draft(&a, &target, &input, None).await.unwrap();
                cases.attach_material(&a, &d.case_id, "居民身份证", "id.pdf", PDF).await.unwrap();
                cases.submit(&a, &d.case_id).await.unwrap().case_number.unwrap()
            }));
        }
        let mut numbers = Vec::new();
        for h in handles {
            numbers.push(h.await.unwrap());
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 20);
        assert!(numbers.iter().any(|n| n.ends_with("0001")) && numbers.iter().any(|n| n.ends_with("0020")));
    }
}

#[tokio::test]
async fn joint_review_adds_a_parallel_department() {
    for w in worlds().await {
        let biz = business();
        let target = w.item("spjy");
        let p = w.cases.prepare(&target).await.unwrap();
        let mut v = Cases::prefill(&p.form, &biz);
        v.insert("contact_name".into(), "张伟".into());
        v.insert("contact_phone".into(), "13900139000".into());
        let d = w.cases.create_draft(&biz, &target, &ApplicationInput { values: v, ..Default::default() }, None).await.unwrap();
        for m in p.materials.iter().filter(|m| m.required) {
            w.cases.attach_material(&biz, &d.case_id, &m.name, "m.pdf", PDF).await.unwrap();
        }
        let case = w.cases.submit(&biz, &d.case_id).await.unwrap();
        assert_eq!(case.branches.len(), 2);
        let joint = &case.branches[1];
        assert_eq!(joint.department_code, "1136010059797114FH");
        assert!(joint.item_name.contains("联合审查") && joint.department_name.contains("市场监督管理局"), "{joint:?}");
        let window = w.staff("window1", "qs-spj", Role::Window);
        let mut case = w.cases.act(&window, &case.case_id, case.version, &Action::Accept { on_the_spot: false }).await.unwrap();
        // The inspection's own 3-day limit: Mon 23 Nov + 3 working days.
        assert_eq!(case.branches[1].step_due.as_deref(), Some("2026-11-26"));
        let spj = w.staff("spj-approver", "qs-spj", Role::Approver);
        for _ in 0..2 {
            case = w.cases.act(&spj, &case.case_id, case.version, &Action::Approve { branch: 1, note: String::new() }).await.unwrap();
        }
        assert_eq!(case.status, CaseStatus::InProgress, "waits for the inspection");
        let scjg = Staff {
            username: "scjg-approver".into(),
            display_name: "核查员".into(),
            department: Some("1136010059797114FH".into()),
            region: None,
            roles: vec![Role::Approver],
        };
        let case =
            w.cases.act(&scjg, &case.case_id, case.version, &Action::Approve { branch: 2, note: "场所符合要求".into() }).await.unwrap();
        assert_eq!(case.status, CaseStatus::Delivered);
        assert_eq!(case.outcome, Some(Outcome::Approved));
    }
}
