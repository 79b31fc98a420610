//! Payment and delivery against real storage on SQLite and PostgreSQL, with a simulated clock:
//! a double notification charges once, a forged or stale one is refused, a payment whose
//! notification never came is found by querying and reconciles, a refused case is refunded,
//! money paid twice goes back, and a courier's tracking moves the case to delivered.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use yiwang_cases::*;
use yiwang_catalog::{demo, Catalog};
use yiwang_identity::{Role, Staff};
use yiwang_payments::*;
use yiwang_store::testing::TestDb;

const GAJ: &str = "11360100104974650K";

struct World {
    cases: Cases,
    pay: Payments,
    sandbox: Arc<SandboxPay>,
    clock: Arc<ManualClock>,
    item: String,
    _t: TestDb,
}

async fn worlds() -> Vec<World> {
    let mut out = Vec::new();
    for t in TestDb::each().await.unwrap() {
        let catalog = Arc::new(Catalog::open(t.db.clone()).await.unwrap());
        let p = demo::province().unwrap();
        catalog.load_demo(&p).await.unwrap();
        // Monday 23 Nov 2026, 10:00 China time.
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()));
        let desk = Arc::new(Desk::new(catalog.clone(), "sandbox", "sandbox", PaymentSettings::default()));
        let cases =
            Cases::new(t.db.clone(), catalog, yiwang_cases::demo::builtin_calendar().unwrap(), clock.clone(), CaseSettings::default())
                .with_payment_desk(desk.clone())
                .with_hook(desk);
        yiwang_cases::demo::load(&cases, &p.item_keys).await.unwrap();
        let sandbox = Arc::new(SandboxPay::new(t.db.clone(), b"sandbox payment key for tests", "http://127.0.0.1:8080"));
        let courier = Arc::new(SandboxCourier::new(b"sandbox courier key for tests"));
        let pay = Payments::new(t.db.clone(), cases.clone(), sandbox.clone(), courier.clone(), PaymentSettings::default())
            .with_sandboxes(sandbox.clone(), courier);
        out.push(World { cases, pay, sandbox, clock, item: p.item_keys["sfz-sl"].clone(), _t: t });
    }
    out
}

fn staff(name: &str, role: Role) -> Staff {
    Staff { username: name.into(), display_name: name.into(), department: Some(GAJ.into()), region: None, roles: vec![role] }
}

fn zhang() -> Applicant {
    Applicant {
        account: None,
        kind: ApplicantKind::Person,
        name: "张三".into(),
        id_number: "360102199003071236".into(),
        person_name: "张三".into(),
        person_id_number: "360102199003071236".into(),
        phone: Some("13800138000".into()),
        assurance: 2,
        address: None,
    }
}

impl World {
    /// A first ID card (居民身份证申领, 20 元 paid online) accepted at the window.
    async fn accepted(&self, delivery: Delivery, address: Option<&str>) -> Case {
        let a = zhang();
        let target = Target::Item(self.item.clone());
        let p = self.cases.prepare(&target).await.unwrap();
        let input =
            ApplicationInput { values: Cases::prefill(&p.form, &a), delivery: Some(delivery), delivery_address: address.map(String::from) };
        self.cases.window_apply(&staff("gaj-window", Role::Window), &a, &target, &input, false, "t").await.unwrap()
    }
    async fn order(&self, case: &Case) -> Order {
        self.pay.order_of_case(&case.case_id).await.unwrap().expect("order")
    }
    async fn case(&self, id: &str) -> Case {
        self.cases.case_for_platform(id).await.unwrap()
    }
}

#[tokio::test]
async fn a_double_notification_charges_once_and_forgeries_are_refused() {
    for w in worlds().await {
        let case = w.accepted(Delivery::Electronic, None).await;
        assert_eq!(case.status, CaseStatus::AwaitingPayment);
        assert!(case.paused_since.is_some(), "the clock stands until the fee is paid");
        let order = w.order(&case).await;
        assert_eq!((order.amount_fen, order.status), (2000, OrderStatus::Pending));
        assert_eq!(order.items[0].name, "居民身份证工本费");
        assert!(w.pay.checkout(&case.owner, &order.order_no).await.unwrap().ends_with(&format!("/sandbox/pay/{}", order.order_no)));
        assert!(w.pay.checkout("person:360103198512120034", &order.order_no).await.is_err(), "only the payer");

        let (body, sig) = w.sandbox.pay(&order, SandboxOutcome::Succeed, w.clock.now()).await.unwrap().unwrap();
        // Forged: another key, or the amount changed after signing.
        let forged = SandboxPay::new(w._t.db.clone(), b"not the sandbox key", "http://x").sign(&body);
        assert!(matches!(w.pay.notify("sandbox", &body, &forged).await, Err(PaymentError::BadNotification(_))));
        let tampered = String::from_utf8(body.clone()).unwrap().replace("\"amount_fen\":2000", "\"amount_fen\":1");
        assert!(w.pay.notify("sandbox", tampered.as_bytes(), &sig).await.is_err());
        assert!(w.pay.notify("unknown", &body, &sig).await.is_err());

        assert_eq!(w.pay.notify("sandbox", &body, &sig).await.unwrap(), Applied::Paid);
        assert_eq!(w.pay.notify("sandbox", &body, &sig).await.unwrap(), Applied::Duplicate, "replayed");
        // A second genuine notification for the same order (another id) changes nothing either.
        let mut second: Notification = serde_json::from_slice(&body).unwrap();
        second.notify_id = "another".into();
        let b2 = serde_json::to_vec(&second).unwrap();
        assert_eq!(w.pay.notify("sandbox", &b2, &w.sandbox.sign(&b2)).await.unwrap(), Applied::Duplicate);
        let events = w.pay.order_events(&order.order_no).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.kind == "paid").count(), 1, "charged once");

        let case = w.case(&case.case_id).await;
        assert_eq!((case.status, case.fee_fen), (CaseStatus::InProgress, Some(2000)));
        let view = w.cases.view(case).await.unwrap();
        assert!(view.timeline.iter().any(|e| e.kind == EventKind::PaymentReceived && e.note.contains(&order.order_no)));

        // A stale notification (a replay days later) is refused before anything is read.
        w.clock.advance_days(2);
        let mut old: Notification = serde_json::from_slice(&body).unwrap();
        old.notify_id = "late".into();
        let b3 = serde_json::to_vec(&old).unwrap();
        assert!(matches!(w.pay.notify("sandbox", &b3, &w.sandbox.sign(&b3)).await, Err(PaymentError::BadNotification(_))));
    }
}

#[tokio::test]
async fn a_timed_out_payment_is_found_by_querying_and_reconciles() {
    for w in worlds().await {
        let case = w.accepted(Delivery::Electronic, None).await;
        let order = w.order(&case).await;
        assert_eq!(w.pay.sandbox_pay(Some(&case.owner), &order.order_no, SandboxOutcome::TimeOut).await.unwrap(), None);
        assert_eq!(w.order(&case).await.status, OrderStatus::Pending, "no notification came");
        let admin =
            Staff { username: "fin".into(), display_name: "财务".into(), department: None, region: None, roles: vec![Role::Supervisor] };
        let day = china_date(w.clock.now());
        let r = w.pay.reconcile(&admin, "t", day).await.unwrap();
        assert_eq!(r.mismatches.len(), 1);
        assert_eq!((r.mismatches[0].kind, r.mismatches[0].provider_fen), (MismatchKind::ProviderOnly, 2000));
        // Too early to ask: nothing happens.
        assert_eq!(w.pay.sweep().await.unwrap().confirmed_by_query, 0);
        w.clock.set(w.clock.now() + chrono::Duration::minutes(2));
        assert_eq!(w.pay.sweep().await.unwrap().confirmed_by_query, 1);
        assert_eq!(w.order(&case).await.status, OrderStatus::Paid);
        assert_eq!(w.case(&case.case_id).await.status, CaseStatus::InProgress);
        let r = w.pay.reconcile(&admin, "t", day).await.unwrap();
        assert!(r.mismatches.is_empty(), "{:?}", r.mismatches);
        assert_eq!((r.matched, r.local_fen, r.provider_fen), (1, 2000, 2000));
        let window = staff("gaj-window", Role::Window);
        assert!(matches!(w.pay.reconcile(&window, "t", day).await, Err(PaymentError::Forbidden)));
        // A failed attempt leaves the order open for another try.
        let c2 = w.accepted(Delivery::Electronic, None).await;
        let o2 = w.order(&c2).await;
        assert_eq!(w.pay.sandbox_pay(None, &o2.order_no, SandboxOutcome::Fail).await.unwrap(), Some(Applied::Failed));
        assert_eq!(w.order(&c2).await.status, OrderStatus::Pending);
    }
}

#[tokio::test]
async fn a_refused_case_is_refunded_and_revenue_nets_it_out() {
    for w in worlds().await {
        let case = w.accepted(Delivery::Electronic, None).await;
        let order = w.order(&case).await;
        w.pay.sandbox_pay(None, &order.order_no, SandboxOutcome::Succeed).await.unwrap();
        let case = w.case(&case.case_id).await;
        let approver = staff("gaj-approver", Role::Approver);
        let case = w
            .cases
            .act(
                &approver,
                &case.case_id,
                case.version,
                &Action::Reject { branch: 1, reason: "户籍信息与人口库不符，需先办理户籍更正".into() },
            )
            .await
            .unwrap();
        assert_eq!(case.outcome, Some(Outcome::Rejected));
        assert_eq!(w.order(&case).await.status, OrderStatus::Refunding);
        assert_eq!(w.pay.sweep().await.unwrap().refunded, 1);
        let o = w.order(&case).await;
        assert_eq!((o.status, o.refunded_fen), (OrderStatus::Refunded, 2000));
        let rev = w.pay.revenue("2026-11").await.unwrap();
        let gaj = rev.iter().find(|r| r.department_code == GAJ).unwrap();
        assert_eq!((gaj.orders, gaj.paid_fen, gaj.refunded_fen, gaj.net_fen()), (1, 2000, 2000, 0));
        let admin =
            Staff {
                username: "fin".into(), display_name: "财务".into(), department: None, region: None, roles: vec![Role::PlatformAdmin]
            };
        let r = w.pay.reconcile(&admin, "t", china_date(w.clock.now())).await.unwrap();
        assert!(r.mismatches.is_empty(), "the provider refunded too: {:?}", r.mismatches);
        assert!(w.pay.revenue("2026-13").await.is_err());
        // Each day's sweep reconciles the day before by itself, once, and keeps the report.
        let today = china_date(w.clock.now());
        assert!(w.pay.reconciliation(today - chrono::Duration::days(1)).await.unwrap().is_some(), "the first sweep did yesterday");
        w.clock.advance_days(2);
        assert_eq!(w.pay.sweep().await.unwrap().reconciled, 1);
        assert_eq!(w.pay.sweep().await.unwrap().reconciled, 0, "once a day");
        let kept = w.pay.reconciliation(today + chrono::Duration::days(1)).await.unwrap().unwrap();
        assert_eq!((kept.matched, kept.mismatches.len()), (0, 0));
        assert_eq!(w.pay.reconciliation(today).await.unwrap().unwrap().matched, 1, "the run by hand is kept too");
    }
}

#[tokio::test]
async fn paid_at_the_window_closes_the_order_and_money_paid_twice_goes_back() {
    for w in worlds().await {
        let window = staff("gaj-window", Role::Window);
        let case = w.accepted(Delivery::Electronic, None).await;
        let order = w.order(&case).await;
        let wrong =
            w.cases.act(&window, &case.case_id, case.version, &Action::ConfirmPayment { amount_fen: 100, reference: String::new() }).await;
        assert!(matches!(wrong, Err(CaseError::InvalidField { .. })), "only what is due");
        let case = w
            .cases
            .act(&window, &case.case_id, case.version, &Action::ConfirmPayment { amount_fen: 2000, reference: "现金".into() })
            .await
            .unwrap();
        assert_eq!(case.status, CaseStatus::InProgress);
        // The online order is closed; paying it anyway (a race) is refunded.
        let (body, sig) = w.sandbox.pay(&order, SandboxOutcome::Succeed, w.clock.now()).await.unwrap().unwrap();
        assert_eq!(w.pay.notify("sandbox", &body, &sig).await.unwrap(), Applied::Paid);
        assert_eq!(w.order(&case).await.status, OrderStatus::Refunding);
        w.pay.sweep().await.unwrap();
        assert_eq!(w.order(&case).await.status, OrderStatus::Refunded);

        // Waived with a basis; the order closes at the next sweep.
        let c2 = w.accepted(Delivery::Electronic, None).await;
        assert!(w.cases.act(&window, &c2.case_id, c2.version, &Action::WaiveFee { reason: " ".into() }).await.is_err());
        let c2 =
            w.cases.act(&window, &c2.case_id, c2.version, &Action::WaiveFee { reason: "低保对象，依规免收工本费".into() }).await.unwrap();
        assert_eq!((c2.status, c2.fee_fen), (CaseStatus::InProgress, Some(0)));
        w.pay.sweep().await.unwrap();
        let o2 = w.order(&c2).await;
        assert_eq!(o2.status, OrderStatus::Closed);
        assert!(w.pay.sandbox_pay(None, &o2.order_no, SandboxOutcome::Succeed).await.is_err());
    }
}

#[tokio::test]
async fn courier_tracking_moves_the_case_to_delivered() {
    for w in worlds().await {
        let a = zhang();
        let target = Target::Item(w.item.clone());
        let p = w.cases.prepare(&target).await.unwrap();
        let bad = ApplicationInput {
            values: Cases::prefill(&p.form, &a),
            delivery: Some(Delivery::Courier),
            delivery_address: Some("我家".into()),
        };
        let r = w.cases.window_apply(&staff("gaj-window", Role::Window), &a, &target, &bad, false, "t").await;
        assert!(matches!(r, Err(CaseError::InvalidField { .. })), "an address a courier cannot find");

        let case = w.accepted(Delivery::Courier, Some("江川省青山市东城区人民路1号3栋201室")).await;
        let order = w.order(&case).await;
        w.pay.sandbox_pay(None, &order.order_no, SandboxOutcome::Succeed).await.unwrap();
        let approver = staff("gaj-approver", Role::Approver);
        let mut case = w.case(&case.case_id).await;
        for _ in 0..2 {
            case = w.cases.act(&approver, &case.case_id, case.version, &Action::Approve { branch: 1, note: String::new() }).await.unwrap();
        }
        assert_eq!(case.status, CaseStatus::Concluded);
        assert!(w.pay.sandbox_advance(&case.case_id).await.is_err(), "not handed to the courier yet");
        assert_eq!(w.pay.sweep().await.unwrap().shipments, 1);
        let s = w.pay.shipment_of_case(&case.case_id).await.unwrap().unwrap();
        let waybill = s.waybill.clone().unwrap();
        assert!(waybill.starts_with("SB") && waybill.len() == 12, "{waybill}");
        assert_eq!(s.address, "江川省青山市东城区人民路1号3栋201室");
        for expected in [ShipmentStatus::PickedUp, ShipmentStatus::InTransit, ShipmentStatus::OutForDelivery] {
            assert_eq!(w.pay.sandbox_advance(&case.case_id).await.unwrap().status, expected);
            assert_eq!(w.case(&case.case_id).await.status, CaseStatus::Concluded);
        }
        let done = w.pay.sandbox_advance(&case.case_id).await.unwrap();
        assert_eq!((done.status, done.signer.as_deref()), (ShipmentStatus::Delivered, Some("本人")));
        let case = w.case(&case.case_id).await;
        assert_eq!(case.status, CaseStatus::Delivered, "proof of delivery closes the case");
        let view = w.cases.view(case).await.unwrap();
        assert_eq!(view.timeline.iter().filter(|e| e.kind == EventKind::DeliveryUpdate).count(), 4, "交寄 and three tracking updates");
        assert!(view.timeline.last().unwrap().note.contains(&waybill));
        // A forged tracking event is refused.
        let fake = serde_json::to_vec(&TrackingEvent {
            event_id: "x".into(),
            waybill: waybill.clone(),
            status: ShipmentStatus::Delivered,
            note: "伪造".into(),
            at: "2026-11-23T02:00:00.000Z".into(),
            signer: None,
            timestamp: w.clock.now().timestamp(),
        })
        .unwrap();
        assert!(matches!(w.pay.courier_notify("sandbox", &fake, "00").await, Err(PaymentError::BadNotification(_))));
        assert!(w.pay.sandbox_advance(&view.case.case_id).await.is_err(), "delivered is the last state");
    }
}

#[tokio::test]
async fn a_payment_committed_before_a_crash_starts_its_case_once() {
    for w in worlds().await {
        let case = w.accepted(Delivery::Electronic, None).await;
        let order = w.order(&case).await;
        // The order's payment committed, then the process died before the case started.
        yiwang_store::sqlx::query(
            "UPDATE payment_orders SET status = 'paid', paid_at = '2026-11-23T02:00:00.000Z', paid_day = '2026-11-23' WHERE order_no = $1",
        )
        .bind(&order.order_no)
        .execute(w._t.db.autocommit_writer())
        .await
        .unwrap();
        assert_eq!(w.pay.sweep().await.unwrap().resumed, 1);
        assert_eq!(w.case(&case.case_id).await.status, CaseStatus::InProgress);
        assert_eq!(w.pay.sweep().await.unwrap().resumed, 0, "settled orders are not looked at again");
    }
}
