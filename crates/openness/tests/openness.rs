//! Openness against real storage on SQLite and PostgreSQL: documents published now and later,
//! withdrawn with history kept, found by Chinese search with their interpretations; disclosure
//! requests answered within 20 working days (extendable once); the demo open data searched,
//! filtered, faceted, queried row by row, downloaded and rated.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use yiwang_cases::*;
use yiwang_catalog::{demo, Catalog};
use yiwang_identity::{Role, Staff};
use yiwang_openness::documents::DocFilter;
use yiwang_openness::opendata::SearchParams;
use yiwang_openness::*;
use yiwang_store::testing::TestDb;

const SPJ: &str = "11360100866661761G";

struct World {
    o: Openness,
    clock: Arc<ManualClock>,
    _t: TestDb,
}

async fn worlds() -> Vec<World> {
    let mut out = Vec::new();
    for t in TestDb::each().await.unwrap() {
        let catalog = Arc::new(Catalog::open(t.db.clone()).await.unwrap());
        catalog.load_demo(&demo::province().unwrap()).await.unwrap();
        // Tuesday 29 Sep 2026, before National Day.
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 9, 29, 2, 0, 0).unwrap()));
        let cases = Cases::new(
            t.db.clone(),
            catalog.clone(),
            yiwang_cases::demo::builtin_calendar().unwrap(),
            clock.clone(),
            CaseSettings::default(),
        );
        let o = Openness::open(t.db.clone(), catalog, cases, "http://127.0.0.1:8080").await.unwrap();
        out.push(World { o, clock, _t: t });
    }
    out
}

fn admin(dept: &str) -> Staff {
    Staff {
        username: "spj-admin".into(),
        display_name: "管理员".into(),
        department: Some(dept.into()),
        region: None,
        roles: vec![Role::DeptAdmin],
    }
}

fn citizen(id: &str) -> Applicant {
    Applicant {
        account: Some(format!("acct-{id}")),
        kind: ApplicantKind::Person,
        name: "张三".into(),
        id_number: id.into(),
        person_name: "张三".into(),
        person_id_number: id.into(),
        phone: None,
        assurance: 2,
        address: None,
    }
}

fn input(title: &str) -> DocumentInput {
    DocumentInput {
        kind: "notice".into(),
        title: title.into(),
        doc_number: "青审批通〔2026〕99号".into(),
        issued_on: "2026-09-28".into(),
        topic: "企业开办".into(),
        body: "自即日起，企业开办全程网上办理，营业执照和公章免费邮寄。".into(),
        interpretation: Some(Interpretation {
            title: "解读".into(), body: "开公司不用跑腿，证照寄到家。".into(), qa: vec![]
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn documents_are_scheduled_withdrawn_searched_and_fed() {
    for w in worlds().await {
        let s = admin(SPJ);
        assert!(matches!(w.o.save_document(&admin("11360100104974650K"), "t", None, SPJ, &input("x")).await, Err(OpenError::Forbidden)));
        let bad = DocumentInput { issued_on: "2026-13-01".into(), ..input("x") };
        assert!(matches!(w.o.save_document(&s, "t", None, SPJ, &bad).await, Err(OpenError::Invalid { .. })));
        let d = w.o.save_document(&s, "t", None, SPJ, &input("关于企业开办全程网办的通知")).await.unwrap();
        assert_eq!(d.status, DocStatus::Draft);
        assert!(w.o.public_document(&d.doc_id).await.is_err(), "drafts are not public");
        // Scheduled for tomorrow 09:00: not yet visible.
        let d = w.o.publish(&s, "t", &d.doc_id, Some("2026-09-30T09:00")).await.unwrap();
        assert!(w.o.public_document(&d.doc_id).await.is_err());
        assert!(w.o.public_documents(&DocFilter { q: Some("企业开办".into()), ..Default::default() }, 1, 10).await.unwrap().0.is_empty());
        w.clock.set(Utc.with_ymd_and_hms(2026, 9, 30, 1, 30, 0).unwrap());
        assert!(w.o.public_document(&d.doc_id).await.is_ok(), "visible once its time comes");
        // Found by words of the body and of the interpretation.
        for q in ["企业开办", "证照寄到家", "跑腿"] {
            let (found, _) = w.o.public_documents(&DocFilter { q: Some(q.into()), ..Default::default() }, 1, 10).await.unwrap();
            assert_eq!(found.first().map(|x| x.doc_id.as_str()), Some(d.doc_id.as_str()), "{q}");
        }
        let feed = w.o.atom_feed(20).await.unwrap();
        assert!(feed.contains("关于企业开办全程网办的通知") && feed.starts_with("<?xml"));
        // Edited (a new version), then withdrawn with a reason: gone from the public, history kept.
        w.o.save_document(&s, "t", Some(&d.doc_id), SPJ, &input("关于企业开办全程网办的通知（修订）")).await.unwrap();
        let wd = w.o.withdraw(&s, "t", &d.doc_id, "已被新文件替代", None).await.unwrap();
        assert_eq!(wd.withdraw_reason.as_deref(), Some("已被新文件替代"));
        assert!(w.o.public_document(&d.doc_id).await.is_err());
        let h = w.o.document_history(&s, &d.doc_id).await.unwrap();
        assert_eq!(h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), vec!["创建", "定时发布", "修改", "撤回"]);
        assert!(w.o.withdraw(&s, "t", &d.doc_id, " ", None).await.is_err());
        let a = w.o.attach(&s, &d.doc_id, "附件.pdf", "application/pdf", b"%PDF-1.4").await.unwrap();
        assert_eq!(a.attachments.len(), 1);
        assert!(w.o.attach(&s, &d.doc_id, "../x", "application/pdf", b"x").await.is_err());
    }
}

#[tokio::test]
async fn disclosure_requests_run_on_working_days() {
    for w in worlds().await {
        let zhang = citizen("360102199003071236");
        let r =
            w.o.request_disclosure(
                &zhang,
                &disclosure::RequestInput {
                    department_code: SPJ.into(),
                    description: "2025年企业开办办件量统计".into(),
                    purpose: "研究".into(),
                },
            )
            .await
            .unwrap();
        // 20 working days from 29 Sep across National Day (1–7 Oct off, 10 Oct worked).
        assert_eq!(r.due_date, "2026-11-02");
        assert!(w.o.my_request(&citizen("360103198512120034"), &r.request_id).await.is_err(), "only the requester");
        let window = Staff { roles: vec![Role::Window], ..admin(SPJ) };
        let other = admin("11360100104974650K");
        assert!(matches!(w.o.extend_request(&other, "t", &r.request_id, "x").await, Err(OpenError::Forbidden)));
        let e = w.o.extend_request(&window, "t", &r.request_id, "需要会同统计部门核对").await.unwrap();
        assert_eq!((e.status, e.due_date.as_str()), (RequestStatus::Extended, "2026-11-30"));
        assert!(w.o.extend_request(&window, "t", &r.request_id, "再延").await.is_err(), "once only");
        w.clock.set(Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap());
        assert!(w.o.overdue(&w.o.my_request(&zhang, &r.request_id).await.unwrap()));
        assert!(w.o.answer_request(&window, "t", &r.request_id, "maybe", "x").await.is_err());
        let a = w.o.answer_request(&window, "t", &r.request_id, "disclosed", "2025年共办理企业开办12,345件。").await.unwrap();
        assert_eq!((a.status, a.decision), (RequestStatus::Answered, Some(Decision::Disclosed)));
        assert!(!w.o.overdue(&a));
        assert_eq!(w.o.my_requests(&zhang).await.unwrap().len(), 1);
        assert!(w.o.department_requests(&window).await.unwrap().iter().any(|x| x.request_id == r.request_id));
    }
}

#[tokio::test]
async fn open_data_search_facets_rows_downloads_and_ratings() {
    for w in worlds().await {
        let (docs, sets) = yiwang_openness::demo::load(&w.o).await.unwrap();
        assert!(docs >= 30 && sets >= 20, "{docs} documents, {sets} datasets");
        assert!(yiwang_openness::demo::loaded(&w.o).await.unwrap());
        assert_eq!(w.o.package_list().len(), sets);

        let all =
            w.o.package_search(&SearchParams {
                rows: Some(5),
                facet_field: Some(r#"["organization","groups","res_format"]"#.into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!((all.count, all.results.len()), (sets, 5));
        assert_eq!(all.facets["res_format"]["CSV"], sets);
        let bus = w.o.package_search(&SearchParams { q: Some("公交线路".into()), ..Default::default() }).unwrap();
        assert_eq!(bus.results[0].name, "qingshan-bus-lines");
        let transport =
            w.o.package_search(&SearchParams { fq: Some("groups:transport".into()), rows: Some(100), ..Default::default() }).unwrap();
        assert!(transport.count >= 3 && transport.results.iter().all(|p| p.groups.iter().any(|g| g.name == "transport")));
        let page2 =
            w.o.package_search(&SearchParams { rows: Some(10), start: Some(10), sort: Some("name asc".into()), ..Default::default() })
                .unwrap();
        assert_eq!(page2.results.len(), 10);
        assert!(page2.results.windows(2).all(|p| p[0].name < p[1].name));
        assert!(
            w.o.package_search(&SearchParams { facet_field: Some("organization".into()), ..Default::default() }).is_err(),
            "facet.field is JSON"
        );

        let p = w.o.package("qingshan-bus-lines").unwrap();
        assert_eq!(p.organization.title, "江川省交通运输厅");
        let rid = p.resources[0].id.clone();
        let rows = w.o.datastore_search(&rid, &serde_json::Map::new(), None, 5, 0, None).await.unwrap();
        assert_eq!((rows.total, rows.records.len()), (15, 5));
        assert_eq!(rows.fields.iter().find(|f| f.id == "站数").unwrap().r#type, "numeric");
        let mut f = serde_json::Map::new();
        f.insert("线路".into(), serde_json::json!("3路"));
        let one = w.o.datastore_search(&rid, &f, None, 10, 0, None).await.unwrap();
        assert_eq!(one.total, 1);
        let sorted = w.o.datastore_search(&rid, &serde_json::Map::new(), None, 100, 0, Some("站数 desc")).await.unwrap();
        let stops: Vec<f64> = sorted.records.iter().map(|r| r["站数"].as_f64().unwrap()).collect();
        assert!(stops.windows(2).all(|x| x[0] >= x[1]));
        let text = w.o.datastore_search(&rid, &serde_json::Map::new(), Some("江川大学"), 100, 0, None).await.unwrap();
        assert!(text.total >= 1 && text.records.iter().all(|r| r.values().any(|v| v.as_str() == Some("江川大学"))));
        let mut bad = serde_json::Map::new();
        bad.insert("nope".into(), serde_json::json!(1));
        assert!(w.o.datastore_search(&rid, &bad, None, 10, 0, None).await.is_err());

        let (res, bytes) = w.o.download(&rid).await.unwrap();
        assert!(String::from_utf8(bytes).unwrap().starts_with("线路,起点"));
        assert_eq!(res.format, "CSV");
        assert_eq!(w.o.package("qingshan-bus-lines").unwrap().downloads, 1);
        let rated = w.o.rate_dataset(&citizen("360102199003071236"), "qingshan-bus-lines", 4).await.unwrap();
        assert_eq!((rated.ratings, rated.rating_text()), (1, "4.0".to_string()));
        w.o.rate_dataset(&citizen("360102199003071236"), "qingshan-bus-lines", 2).await.unwrap();
        assert_eq!(w.o.package("qingshan-bus-lines").unwrap().ratings, 1, "one rating per person");
        assert!(w.o.rate_dataset(&citizen("360102199003071236"), "qingshan-bus-lines", 9).await.is_err());
        let req =
            w.o.request_dataset(
                &citizen("360102199003071236"),
                &opendata::DatasetRequestInput {
                    title: "公交实时到站数据".into(),
                    description: "希望开放实时到站API".into(),
                    organization: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(w.o.dataset_requests().await.unwrap()[0].request_id, req.request_id);

        // Documents from the demo are public and searchable, interpretations included.
        let (found, _) = w.o.public_documents(&DocFilter { q: Some("低保".into()), ..Default::default() }, 1, 10).await.unwrap();
        assert!(found.iter().any(|d| d.interpretation.is_some()), "{:?}", found.iter().map(|d| &d.title).collect::<Vec<_>>());
        // Another node sees the same after syncing from the database; a quiet sync does nothing.
        w.o.reload().await.unwrap();
        assert!(w.o.sync().await.unwrap(), "the first sync records the fingerprint");
        assert!(!w.o.sync().await.unwrap());
        assert_eq!(w.o.package_list().len(), sets);
        let dcat = w.o.dcat_catalog();
        assert_eq!(dcat["dcat:dataset"].as_array().unwrap().len(), sets);
        // A broken table is refused with the line.
        let e = w.o.add_resource(None, "qingshan-bus-lines", "坏表", "", "CSV", "a,b\n1,2,3\n".as_bytes()).await;
        assert!(matches!(e, Err(OpenError::Invalid { .. })));
        let _ = &w.clock;
    }
}
