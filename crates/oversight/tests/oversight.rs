//! Evaluation against real storage on SQLite and PostgreSQL, with a simulated clock: every
//! supervision rule fires and clears as it should across holidays; alerts have a lifecycle and
//! cost departments points; bad reviews cannot be closed without a reply; ticket deadlines
//! escalate; statistics count what happened.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use yiwang_cases::*;
use yiwang_catalog::{demo, Catalog};
use yiwang_identity::{Role, Staff};
use yiwang_oversight::tickets::TicketAction;
use yiwang_oversight::*;
use yiwang_store::testing::TestDb;

struct World {
    cases: Cases,
    oversight: Oversight,
    catalog: Arc<Catalog>,
    clock: Arc<ManualClock>,
    keys: HashMap<String, String>,
    t: TestDb,
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF";
const GAJ: &str = "11360100104974650K";
const SPJ: &str = "11360100866661761G";

async fn worlds() -> Vec<World> {
    let mut out = Vec::new();
    for t in TestDb::each().await.unwrap() {
        let catalog = Arc::new(Catalog::open(t.db.clone()).await.unwrap());
        let p = demo::province().unwrap();
        catalog.load_demo(&p).await.unwrap();
        // Tuesday 29 Sep 2026, 09:00 China time: National Day (1–7 Oct) is ahead.
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 9, 29, 1, 0, 0).unwrap()));
        let watch = Arc::new(Watch::default());
        let cases = Cases::new(
            t.db.clone(),
            catalog.clone(),
            yiwang_cases::demo::builtin_calendar().unwrap(),
            clock.clone(),
            CaseSettings::default(),
        )
        .with_observer(watch.clone());
        yiwang_cases::demo::load(&cases, &p.item_keys).await.unwrap();
        let oversight = Oversight::new(t.db.clone(), cases.clone(), catalog.clone(), watch, OversightSettings::default());
        out.push(World { cases, oversight, catalog, clock, keys: p.item_keys, t });
    }
    out
}

fn staff(name: &str, dept: &str, role: Role) -> Staff {
    Staff { username: name.into(), display_name: name.into(), department: Some(dept.into()), region: None, roles: vec![role] }
}

fn supervisor() -> Staff {
    Staff { username: "jc".into(), display_name: "监察".into(), department: None, region: None, roles: vec![Role::Supervisor] }
}

fn zhang() -> Applicant {
    Applicant {
        account: Some("acct-zhang".into()),
        kind: ApplicantKind::Person,
        name: "张伟".into(),
        id_number: "360102199003071236".into(),
        person_name: "张伟".into(),
        person_id_number: "360102199003071236".into(),
        phone: Some("13800138000".into()),
        assurance: 2,
        address: None,
    }
}

fn china(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 1, 0, 0).unwrap()
}

impl World {
    /// An ID card renewal (公安局, 15 working days, step 审核 5 days) submitted online now.
    async fn submit_id_card(&self) -> Case {
        let a = zhang();
        let input = ApplicationInput {
            values: [
                ("applicant_name", "张伟"),
                ("id_number", "360102199003071236"),
                ("contact_phone", "13800138000"),
                ("reason", "有效期满换领"),
                ("address", "青山市"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ..Default::default()
        };
        let d = self.cases.create_draft(&a, &Target::Item(self.keys["sfz-hb"].clone()), &input, None).await.unwrap();
        self.cases.attach_material(&a, &d.case_id, "居民户口簿或原居民身份证", "a.pdf", PDF).await.unwrap();
        self.cases.submit(&a, &d.case_id).await.unwrap()
    }
    async fn alerts_of(&self, subject: &str) -> Vec<Alert> {
        self.oversight.alerts(&supervisor(), AlertFilter { subject: Some(subject.into()), ..Default::default() }).await.unwrap()
    }
    async fn alert(&self, subject: &str, rule: Rule) -> Option<Alert> {
        self.alerts_of(subject).await.into_iter().find(|a| a.rule == rule)
    }
    async fn act(&self, who: &Staff, case: &Case, action: Action) -> Case {
        let c = self.cases.act(who, &case.case_id, case.version, &action).await.unwrap();
        self.oversight.process_pending().await.unwrap();
        c
    }
}

#[tokio::test]
async fn deadline_alerts_fire_and_clear_across_national_day() {
    for w in worlds().await {
        let window = staff("gaj-window", GAJ, Role::Window);
        let approver = staff("gaj-approver", GAJ, Role::Approver);
        let case = w.submit_id_card().await;
        w.oversight.process_pending().await.unwrap();
        // Acceptance is due 8 Oct (30 Sep, then the holiday): two working days left, no alert.
        assert!(w.alert(&case.case_id, Rule::CaseDeadline).await.is_none());
        w.clock.set(china(2026, 9, 30));
        w.oversight.sweep().await.unwrap();
        let a = w.alert(&case.case_id, Rule::CaseDeadline).await.expect("yellow with one working day left");
        assert_eq!((a.level, a.status), (Level::Yellow, AlertStatus::Open), "{}", a.detail);
        let case = w.act(&window, &case, Action::Accept { on_the_spot: false }).await;
        // 审核 has 5 working days: 8, 9, 10 (adjusted Saturday), 12, 13 Oct; the case 15, to 27 Oct.
        assert_eq!(case.branches[0].step_due.as_deref(), Some("2026-10-13"));
        assert_eq!(case.due_date.as_deref(), Some("2026-10-27"));
        let a = w.alert(&case.case_id, Rule::CaseDeadline).await.unwrap();
        assert_eq!(a.status, AlertStatus::Cleared, "accepted in time: the warning clears");

        // 5 Oct is a holiday a week later: the step is not even yellow.
        w.clock.set(china(2026, 10, 5));
        w.oversight.sweep().await.unwrap();
        assert!(w.alert(&case.case_id, Rule::StepDeadline).await.is_none(), "holidays do not count");
        // Saturday 10 Oct is a working day, two left: still green. Monday 12 Oct: yellow.
        w.clock.set(china(2026, 10, 10));
        w.oversight.sweep().await.unwrap();
        assert!(w.alert(&case.case_id, Rule::StepDeadline).await.is_none());
        w.clock.set(china(2026, 10, 12));
        w.oversight.sweep().await.unwrap();
        let s = w.alert(&case.case_id, Rule::StepDeadline).await.expect("yellow before the step deadline");
        assert_eq!(s.level, Level::Yellow);
        assert_eq!(s.department_code, GAJ);
        // 14 Oct: overdue, the same alert turns red.
        w.clock.set(china(2026, 10, 14));
        let r = w.oversight.sweep().await.unwrap();
        assert!(r.turned_red >= 1, "{r:?}");
        let s2 = w.alert(&case.case_id, Rule::StepDeadline).await.unwrap();
        assert_eq!((s2.alert_id.clone(), s2.level), (s.alert_id.clone(), Level::Red));
        // Finishing the step late does not clear a red alert.
        let case = w.act(&approver, &case, Action::Approve { branch: 1, note: String::new() }).await;
        let s3 = w.alert(&case.case_id, Rule::StepDeadline).await.unwrap();
        assert_eq!((s3.level, s3.status), (Level::Red, AlertStatus::Open));

        // The case (due 27 Oct) warns on the 26th and finishes late on the 29th: red.
        w.clock.set(china(2026, 10, 26));
        w.oversight.sweep().await.unwrap();
        assert_eq!(w.alert(&case.case_id, Rule::CaseDeadline).await.unwrap().level, Level::Yellow, "reopened as the new limit nears");
        w.clock.set(china(2026, 10, 29));
        let case = w.act(&approver, &case, Action::Approve { branch: 1, note: String::new() }).await;
        assert!(matches!(case.status, CaseStatus::Concluded | CaseStatus::Delivered), "{:?}", case.status);
        let c = w.alert(&case.case_id, Rule::CaseDeadline).await.unwrap();
        assert_eq!(c.level, Level::Red, "{}", c.detail);
        assert!(c.detail.contains("超期2个工作日办结"), "{}", c.detail);
    }
}

#[tokio::test]
async fn a_step_finished_in_time_clears_its_warning_and_paused_cases_do_not_run() {
    for w in worlds().await {
        let window = staff("gaj-window", GAJ, Role::Window);
        let approver = staff("gaj-approver", GAJ, Role::Approver);
        let case = w.submit_id_card().await;
        let case = w.act(&window, &case, Action::Accept { on_the_spot: false }).await;
        w.clock.set(china(2026, 10, 10));
        w.oversight.sweep().await.unwrap();
        assert_eq!(w.alert(&case.case_id, Rule::StepDeadline).await.unwrap().level, Level::Yellow);
        // A correction stops the clock: the warning clears.
        let case = w.act(&approver, &case, Action::RequestCorrection { note: "补充近期照片回执".into() }).await;
        assert_eq!(w.alert(&case.case_id, Rule::StepDeadline).await.unwrap().status, AlertStatus::Cleared);
        w.clock.set(china(2026, 10, 20));
        w.oversight.sweep().await.unwrap();
        assert_eq!(w.alert(&case.case_id, Rule::StepDeadline).await.unwrap().status, AlertStatus::Cleared, "paused: no red");
        // Back from correction with the limit moved; finished in time, nothing red.
        let case = w.cases.resubmit(&zhang(), &case.case_id, case.version).await.unwrap();
        w.oversight.process_pending().await.unwrap();
        let case = w.act(&approver, &case, Action::Approve { branch: 1, note: String::new() }).await;
        assert!(w.alerts_of(&case.case_id).await.iter().all(|a| a.level == Level::Yellow), "{:?}", w.alerts_of(&case.case_id).await);
    }
}

#[tokio::test]
async fn process_rules_refusals_order_fees_corrections_unlisted_items() {
    for w in worlds().await {
        let window = staff("gaj-window", GAJ, Role::Window);
        let approver = staff("gaj-approver", GAJ, Role::Approver);

        // 不予受理 with a placeholder for a reason.
        let c1 = w.submit_id_card().await;
        w.act(&window, &c1, Action::NotAccept { reason: "不符合条件".into() }).await;
        let a = w.alert(&c1.case_id, Rule::RefusalReason).await.expect("refusal without reason");
        assert_eq!((a.level, a.department_code.as_str()), (Level::Red, GAJ));
        // A real reason raises nothing.
        let c2 = w.submit_id_card().await;
        w.act(&window, &c2, Action::NotAccept { reason: "申请人户籍不在本市，应向户籍地公安机关申请".into() }).await;
        assert!(w.alert(&c2.case_id, Rule::RefusalReason).await.is_none());

        // Fees: 20 元 (one published fee) is fine, 25 元 is not; 0 needs a published waiver.
        let c3 = w.submit_id_card().await;
        let c3 = w.act(&window, &c3, Action::Accept { on_the_spot: false }).await;
        let c3 = w.act(&window, &c3, Action::ChargeFee { amount_fen: 2000, note: String::new() }).await;
        assert!(w.alert(&c3.case_id, Rule::FeeMismatch).await.is_none());
        let c3 = w.act(&window, &c3, Action::ChargeFee { amount_fen: 2500, note: String::new() }).await;
        let f = w.alert(&c3.case_id, Rule::FeeMismatch).await.expect("fee off the standard");
        assert!(f.detail.contains("25.00元"), "{}", f.detail);

        // Corrections beyond the limit (2): the third raises an alert.
        let mut c4 = w.act(&window, &w.submit_id_card().await, Action::Accept { on_the_spot: false }).await;
        for i in 0..3 {
            assert!(w.alert(&c4.case_id, Rule::Corrections).await.is_none(), "not after {i}");
            c4 = w.act(&approver, &c4, Action::RequestCorrection { note: format!("第{}次补正", i + 1) }).await;
            c4 = w.cases.resubmit(&zhang(), &c4.case_id, c4.version).await.unwrap();
        }
        w.oversight.process_pending().await.unwrap();
        assert!(w.alert(&c4.case_id, Rule::Corrections).await.unwrap().detail.contains("3次"));

        // Steps out of order: a decision recorded by another system without the review step.
        let c5 = w.act(&window, &w.submit_id_card().await, Action::Accept { on_the_spot: false }).await;
        yiwang_store::sqlx::query(
            "INSERT INTO case_events (case_id, at, kind, step, department_code, department_name, branch_no, note, actor)
             VALUES ($1, '2026-09-29T02:00:00.000Z', 'branch_approved', '签发', $2, '青山市公安局', 1, '', 'legacy')",
        )
        .bind(&c5.case_id)
        .bind(GAJ)
        .execute(w.t.db.autocommit_writer())
        .await
        .unwrap();
        w.oversight.evaluate_case(&c5.case_id).await.unwrap();
        let o = w.alert(&c5.case_id, Rule::StepOrder).await.expect("skipped step");
        assert!(o.detail.contains("审核") || o.detail.contains("跳过"), "{}", o.detail);
        assert!(w.alert(&c3.case_id, Rule::StepOrder).await.is_none(), "normal cases are in order");

        // Accepting an item that was taken out of the catalog after submission.
        let c6 = w.submit_id_card().await;
        w.catalog
            .change_status(&yiwang_catalog::Editor::platform("admin"), &w.keys["sfz-hb"], yiwang_catalog::StatusAction::Suspend, "暂停")
            .await
            .unwrap();
        w.act(&window, &c6, Action::Accept { on_the_spot: false }).await;
        let u = w.alert(&c6.case_id, Rule::UnlistedItem).await.expect("unlisted item accepted");
        assert!(u.detail.contains("居民身份证"), "{}", u.detail);
    }
}

#[tokio::test]
async fn alert_lifecycle_and_department_scores() {
    for w in worlds().await {
        let window = staff("gaj-window", GAJ, Role::Window);
        let other = staff("spj-window", SPJ, Role::Window);
        let c = w.submit_id_card().await;
        w.act(&window, &c, Action::NotAccept { reason: "无".into() }).await;
        let a = w.alert(&c.case_id, Rule::RefusalReason).await.unwrap();
        let month = w.oversight.this_month();
        let before = w.oversight.scores(&month).await.unwrap();
        let gaj = before.iter().find(|s| s.department_code == GAJ).unwrap();
        assert_eq!((gaj.red, gaj.score), (1, 95));
        assert!(before.iter().filter(|s| s.department_code != GAJ).all(|s| s.score == 100));
        // Another department neither sees nor explains it; a supervisor cannot close it yet.
        assert!(w.oversight.alert(&other, &a.alert_id).await.is_err());
        assert!(w.oversight.act_on_alert(&supervisor(), "t", &a.alert_id, &AlertAction::Close { note: "x".into() }).await.is_err());
        let e = w
            .oversight
            .act_on_alert(&window, "t", &a.alert_id, &AlertAction::Explain { text: "窗口人员未填写具体理由，已重新告知申请人".into() })
            .await
            .unwrap();
        assert_eq!(e.status, AlertStatus::Explained);
        assert!(matches!(
            w.oversight.act_on_alert(&window, "t", &a.alert_id, &AlertAction::Close { note: "x".into() }).await,
            Err(OversightError::Forbidden)
        ));
        let r = w
            .oversight
            .act_on_alert(&window, "t", &a.alert_id, &AlertAction::Rectify { text: "全员培训，不予受理须写明依据".into() })
            .await
            .unwrap();
        assert_eq!(r.status, AlertStatus::Rectified);
        let closed =
            w.oversight.act_on_alert(&supervisor(), "t", &a.alert_id, &AlertAction::Close { note: "整改到位".into() }).await.unwrap();
        assert_eq!(closed.status, AlertStatus::Closed);
        // Closed alerts still count in the month's score: they happened.
        let after = w.oversight.scores(&month).await.unwrap();
        assert_eq!(after.iter().find(|s| s.department_code == GAJ).unwrap().score, 95);
        let audit: i64 =
            yiwang_store::sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'oversight.alert' AND target = $1")
                .bind(&a.alert_id)
                .fetch_one(w.t.db.reader())
                .await
                .unwrap();
        assert_eq!(audit, 3);
    }
}

#[tokio::test]
async fn ratings_follow_ups_appeals_and_public_results() {
    for w in worlds().await {
        let window = staff("gaj-window", GAJ, Role::Window);
        let c = w.submit_id_card().await;
        let good = RatingInput { level: 5, ..Default::default() };
        assert!(w.oversight.rate_case(&zhang(), &c.case_id, &good).await.is_err(), "not finished yet");
        w.act(&window, &c, Action::NotAccept { reason: "申请人户籍不在本市，应向户籍地申请".into() }).await;
        // Someone else cannot rate it; a bad review needs a reason.
        let mut li = zhang();
        li.person_id_number = "360103198512120023".into();
        li.id_number = li.person_id_number.clone();
        assert!(w.oversight.rate_case(&li, &c.case_id, &good).await.is_err());
        let bad = RatingInput { level: 1, comment: String::new(), ..Default::default() };
        assert!(matches!(w.oversight.rate_case(&zhang(), &c.case_id, &bad).await, Err(OversightError::Invalid { .. })));
        let bad = RatingInput { level: 1, comment: "窗口态度差，理由没讲清楚".into(), ..Default::default() };
        let r = w.oversight.rate_case(&zhang(), &c.case_id, &bad).await.unwrap();
        assert!(matches!(w.oversight.rate_case(&zhang(), &c.case_id, &good).await, Err(OversightError::Duplicate(_))), "一事一评");

        // The bad review opens a follow-up due in 5 working days (29 Sep → 12 Oct over the holiday).
        let fu = w.oversight.followups(&window, true).await.unwrap();
        assert_eq!(fu.len(), 1);
        assert_eq!((fu[0].status, fu[0].due_date.as_str()), (FollowupStatus::Open, "2026-10-12"));
        assert!(w.oversight.close_followup(&supervisor(), "t", &r.rating_id).await.is_err(), "no reply yet: cannot close");
        // Past its deadline it raises an alert against the department.
        w.clock.set(china(2026, 10, 14));
        w.oversight.sweep().await.unwrap();
        assert_eq!(w.alert(&r.rating_id, Rule::FollowupDeadline).await.unwrap().level, Level::Red);
        let replied = w
            .oversight
            .reply_followup(&window, "t", &r.rating_id, "经核实窗口说明不充分", "已对窗口人员批评教育", "已改进，欢迎再次评价")
            .await
            .unwrap();
        assert_eq!(replied.status, FollowupStatus::Replied);
        let inbox = yiwang_notify::inbox::list(&w.t.db, "acct-zhang", 20).await.unwrap();
        assert!(inbox.iter().any(|m| m.body.contains("已改进")), "the rater is told");
        assert_eq!(w.oversight.close_followup(&supervisor(), "t", &r.rating_id).await.unwrap().status, FollowupStatus::Closed);

        // A window visit rated badly, appealed as malicious and upheld: out of the results.
        let v = w.oversight.open_visit(&window, &w.keys["sfz-hb"]).await.unwrap();
        let vr =
            w.oversight.rate_visit(&v.visit_id, &RatingInput { level: 2, comment: "随便打的".into(), ..Default::default() }).await.unwrap();
        assert!(w.oversight.rate_visit(&v.visit_id, &good).await.is_err(), "一次一评");
        w.oversight.appeal_followup(&window, "t", &vr.rating_id, "评价内容与办事无关，系恶意差评").await.unwrap();
        assert!(w.oversight.decide_appeal(&window, "t", &vr.rating_id, true, "x").await.is_err(), "only supervisors decide");
        w.oversight.decide_appeal(&supervisor(), "t", &vr.rating_id, true, "核实为恶意差评").await.unwrap();
        // A second visit rated well.
        let v2 = w.oversight.open_visit(&window, &w.keys["sfz-hb"]).await.unwrap();
        w.oversight.rate_visit(&v2.visit_id, &good).await.unwrap();

        // September: the case's bad review, rectified. October: the visits, the malicious one left out.
        let sep = w.oversight.monthly_results("2026-09").await.unwrap();
        let gaj = sep.departments.iter().find(|d| d.code == GAJ).unwrap();
        assert_eq!((gaj.count, gaj.bad, gaj.satisfied, gaj.rectified), (1, 1, 0, 1));
        assert_eq!(gaj.satisfaction(), "0.0%");
        let oct = w.oversight.monthly_results("2026-10").await.unwrap();
        let gaj = oct.departments.iter().find(|d| d.code == GAJ).unwrap();
        assert_eq!((gaj.count, gaj.bad, gaj.satisfied), (1, 0, 1), "the upheld appeal is left out");
        assert_eq!((oct.total.count, oct.total.average()), (1, "5.00".to_string()));
        assert_eq!(oct.items[0].name, "居民身份证换领、补领");
        assert!(w.oversight.monthly_results("2026-13").await.is_err());
        assert_eq!(w.oversight.scores("2026-09").await.unwrap().iter().find(|s| s.department_code == GAJ).unwrap().bad_reviews, 1);
    }
}

#[tokio::test]
async fn tickets_dispatch_escalate_merge_and_follow_up() {
    for w in worlds().await {
        let op = supervisor();
        let gaj = staff("gaj-window", GAJ, Role::Window);
        let input = TicketInput {
            kind: "complaint".into(),
            title: "身份证换领排队太久".into(),
            content: "周一上午在公安局窗口排队三个小时".into(),
            item_code: Some(w.keys["sfz-hb"].clone()),
            ..Default::default()
        };
        // Only reports may be anonymous.
        assert!(w.oversight.submit_ticket(None, &input).await.is_err());
        let (t, code) = w.oversight.submit_ticket(Some(&zhang()), &input).await.unwrap();
        assert!(code.is_none());
        assert_eq!((t.status, t.department_code.as_deref()), (TicketStatus::Received, Some(GAJ)));
        assert!(w.oversight.ticket_for_staff(&gaj, &t.ticket_id).await.is_err(), "departments see it once dispatched");
        // A duplicate from the same person about the same item is found and merged.
        let (dup, _) = w.oversight.submit_ticket(Some(&zhang()), &TicketInput { title: "排队".into(), ..input.clone() }).await.unwrap();
        let similar = w.oversight.similar_tickets(&dup).await.unwrap();
        assert_eq!(similar.iter().map(|s| s.ticket_id.as_str()).collect::<Vec<_>>(), vec![t.ticket_id.as_str()]);
        w.oversight.act_on_ticket(&op, "t", &dup.ticket_id, &TicketAction::Merge { master: t.ticket_id.clone() }).await.unwrap();

        // General: 7 working days from 29 Sep → 14 Oct, end of day.
        let t = w
            .oversight
            .act_on_ticket(&op, "t", &t.ticket_id, &TicketAction::Dispatch { department_code: GAJ.into(), priority: "general".into() })
            .await
            .unwrap();
        assert_eq!(t.due_local(), "2026-10-14 23:59");
        w.oversight.act_on_ticket(&gaj, "t", &t.ticket_id, &TicketAction::Accept).await.unwrap();
        w.clock.set(china(2026, 10, 16));
        let r = w.oversight.sweep().await.unwrap();
        assert_eq!(r.tickets_escalated, 1);
        let t1 = w.oversight.ticket_for_staff(&op, &t.ticket_id).await.unwrap();
        assert_eq!(t1.escalation, 1);
        let a = w.alert(&t.ticket_id, Rule::TicketDeadline).await.unwrap();
        assert_eq!((a.level, a.department_code.as_str()), (Level::Red, GAJ));
        // Overdue by a whole second period: escalated to the next level.
        w.clock.set(china(2026, 11, 2));
        w.oversight.sweep().await.unwrap();
        assert_eq!(w.oversight.ticket_for_staff(&op, &t.ticket_id).await.unwrap().escalation, 2);

        // Closing needs a reply; the reply reaches the merged duplicate too.
        assert!(w.oversight.act_on_ticket(&op, "t", &t.ticket_id, &TicketAction::Close { note: String::new() }).await.is_err());
        w.oversight
            .act_on_ticket(&gaj, "t", &t.ticket_id, &TicketAction::Reply { reply: "已增开两个窗口并推行预约".into() })
            .await
            .unwrap();
        let d = w.oversight.ticket_for_owner(&zhang(), &dup.ticket_id).await.unwrap();
        assert_eq!((d.status, d.reply.as_deref()), (TicketStatus::Merged, Some("已增开两个窗口并推行预约")));
        // Unsatisfied follow-up: handled again with a fresh deadline.
        let again = w.oversight.follow_up_ticket(&zhang(), &t.ticket_id, 1, "还是要排很久").await.unwrap();
        assert_eq!((again.status, again.escalation), (TicketStatus::Handling, 0));
        w.oversight
            .act_on_ticket(&gaj, "t", &t.ticket_id, &TicketAction::Reply { reply: "已开通线上预约，到号即办".into() })
            .await
            .unwrap();
        let closed = w.oversight.act_on_ticket(&op, "t", &t.ticket_id, &TicketAction::Close { note: String::new() }).await.unwrap();
        assert_eq!(closed.status, TicketStatus::Closed);
        assert!(w.oversight.ticket_events(&t.ticket_id).await.unwrap().iter().any(|e| e.kind == "提级督办"));

        // An anonymous report is followed with its query code only.
        let report = TicketInput {
            kind: "report".into(),
            title: "窗口索要好处费".into(),
            content: "某窗口人员暗示加急需另付费".into(),
            anonymous: true,
            ..Default::default()
        };
        let (rt, code) = w.oversight.submit_ticket(None, &report).await.unwrap();
        let code = code.expect("query code");
        assert!(rt.anonymous);
        assert_eq!(w.oversight.ticket_by_code(&rt.number, &code).await.unwrap().ticket_id, rt.ticket_id);
        assert!(w.oversight.ticket_by_code(&rt.number, "000000000000").await.is_err());
    }
}

#[tokio::test]
async fn statistics_count_cases_ratings_and_hotspots() {
    for w in worlds().await {
        let window = staff("gaj-window", GAJ, Role::Window);
        let approver = staff("gaj-approver", GAJ, Role::Approver);
        let c1 = w.act(&window, &w.submit_id_card().await, Action::Accept { on_the_spot: false }).await;
        let c1 = w.act(&approver, &c1, Action::Approve { branch: 1, note: String::new() }).await;
        w.act(&approver, &c1, Action::Approve { branch: 1, note: String::new() }).await;
        let c2 = w.submit_id_card().await;
        w.act(&window, &c2, Action::NotAccept { reason: "申请人户籍不在本市，应向户籍地申请".into() }).await;
        w.submit_id_card().await;
        w.oversight.rate_case(&zhang(), &c1.case_id, &RatingInput { level: 4, ..Default::default() }).await.unwrap();
        w.oversight
            .submit_ticket(
                Some(&zhang()),
                &TicketInput {
                    kind: "consult".into(),
                    title: "问".into(),
                    content: "材料要几份".into(),
                    item_code: Some(w.keys["sfz-hb"].clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let s = w.oversight.statistics(stats::Period::parse("2026-09-01", "2026-09-30").unwrap()).await.unwrap();
        assert_eq!((s.total.total, s.total.finished, s.total.on_time, s.total.online), (3, 1, 1, 3));
        assert_eq!(s.total.on_time_rate(), "100.0%");
        assert_eq!(s.by_department[0].code, GAJ);
        assert_eq!(s.by_channel.len(), 1);
        assert_eq!(s.total.handled, 1, "the refusal at acceptance has no handling time");
        assert_eq!(s.satisfaction[0].rate(), "100.0%");
        assert_eq!(s.hotspots[0].total, 1);
        assert_eq!(s.cases_per_month, vec![3]);
        let csv = s.csv("department").unwrap();
        assert!(csv.contains("青山市公安局,3,1,1,100.0%"), "{csv}");
        assert!(stats::Period::parse("2026-09-30", "2026-09-01").is_err());
        assert!(s.csv("nope").is_none());
        // Nothing in October yet.
        let empty = w.oversight.statistics(stats::Period::parse("2026-10-01", "2026-10-31").unwrap()).await.unwrap();
        assert_eq!(empty.total.total, 0);
        assert_eq!(empty.total.on_time_rate(), "—");
    }
}

#[tokio::test]
async fn demo_history_replays_into_alerts_ratings_and_tickets() {
    for w in worlds().await {
        let p = demo::province().unwrap();
        // Loaded "today" (23 Nov 2026): the history runs from late September.
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
        w.clock.set(now);
        assert!(!yiwang_oversight::demo::loaded(&w.oversight).await.unwrap());
        let r = yiwang_oversight::demo::load(&w.oversight, &p, now).await.unwrap();
        assert!(yiwang_oversight::demo::loaded(&w.oversight).await.unwrap());
        assert_eq!((r.cases, r.ratings, r.tickets), (11, 6, 4));
        let red: Vec<Alert> =
            w.oversight.alerts(&supervisor(), AlertFilter { level: Some(Level::Red), ..Default::default() }).await.unwrap();
        let rules: std::collections::HashSet<Rule> = red.iter().map(|a| a.rule).collect();
        for rule in
            [Rule::StepDeadline, Rule::CaseDeadline, Rule::RefusalReason, Rule::FeeMismatch, Rule::TicketDeadline, Rule::FollowupDeadline]
        {
            assert!(rules.contains(&rule), "{rule:?} in {rules:?}");
        }
        // Cases decided in time raised nothing red (the replay's own clock, not today's).
        let on_time = w.cases.facts("2026-10-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z").await.unwrap();
        let delivered =
            on_time.iter().find(|f| f.title.contains("居民身份证") && f.status == CaseStatus::Delivered && f.corrections == 0).unwrap();
        assert!(
            w.alerts_of(&delivered.case_id).await.iter().all(|a| a.level == Level::Yellow || a.rule == Rule::FeeMismatch),
            "{:?}",
            w.alerts_of(&delivered.case_id).await
        );
        let gaj = w.oversight.scores("2026-11").await.unwrap().into_iter().find(|s| s.department_code == GAJ).unwrap();
        assert!(gaj.score < 100, "{gaj:?}");
        // Loading twice is refused by the caller's check; the statistics see the history.
        let s = w.oversight.statistics(stats::Period::parse("2026-09-01", "2026-11-30").unwrap()).await.unwrap();
        assert_eq!(s.total.total, 11);
        assert!(!s.satisfaction.is_empty() && !s.hotspots.is_empty());
    }
}
