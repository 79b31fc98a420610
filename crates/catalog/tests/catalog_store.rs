//! Catalog storage and search behaviour, run on SQLite and on PostgreSQL.

use yiwang_catalog::demo;
use yiwang_catalog::model::*;
use yiwang_catalog::transfer::{self, Format};
use yiwang_catalog::{Catalog, CatalogError, Editor, StatusAction};
use yiwang_store::testing::TestDb;

async fn demo_catalogs() -> Vec<(TestDb, Catalog)> {
    let mut out = Vec::new();
    for t in TestDb::each().await.expect("test databases") {
        let cat = Catalog::open(t.db.clone()).await.expect("open");
        cat.load_demo(&demo::province().expect("demo")).await.expect("load demo");
        out.push((t, cat));
    }
    out
}

fn first_names(r: &yiwang_catalog::search::SearchResults) -> Vec<String> {
    r.hits.iter().map(|h| h.name.clone()).collect()
}

#[tokio::test]
async fn demo_load_is_idempotent_and_searchable() {
    for (_t, cat) in demo_catalogs().await {
        let p = demo::province().unwrap();
        let again = cat.load_demo(&p).await.unwrap();
        assert_eq!(again.items_created, 0, "second load creates nothing");
        assert!(cat.demo_loaded().await.unwrap());
        let all = cat.list_public(&ItemFilter::default(), 1, 100).await.unwrap();
        assert_eq!(all.total as usize, p.items.len());
        assert_eq!(cat.search_index().len(), p.items.len());

        // A one-piece query finds the item whose name has the words in another order.
        let r = cat.search("提取公积金", &ItemFilter::default(), 1, 10).unwrap();
        assert!(first_names(&r)[0].starts_with("住房公积金提取"), "{:?}", first_names(&r));
        assert!(r.hits[0].name_html.contains("<em>"));

        let r = cat.search("营业执照", &ItemFilter::default(), 1, 10).unwrap();
        assert!(first_names(&r).iter().any(|n| n.contains("企业设立登记")), "{:?}", first_names(&r));

        // Synonyms: 身份证 finds 居民身份证; 驾照 finds 驾驶证.
        let r = cat.search("身份证丢了怎么办", &ItemFilter::default(), 1, 10).unwrap();
        assert!(first_names(&r)[0].contains("身份证"), "{:?}", first_names(&r));
        let r = cat.search("驾照", &ItemFilter::default(), 1, 10).unwrap();
        assert!(first_names(&r)[0].contains("驾驶证"), "{:?}", first_names(&r));

        // Pinyin initials, with one typo tolerated for longer ones.
        let r = cat.search("jhdj", &ItemFilter::default(), 1, 10).unwrap();
        assert!(first_names(&r)[0].contains("结婚登记"), "{:?}", first_names(&r));

        // Filters: audience and region (a city filter includes its districts).
        let biz = cat.search("登记", &ItemFilter { audience: Some(Audience::Business), ..Default::default() }, 1, 50).unwrap();
        assert!(biz.hits.iter().all(|h| h.audience != Audience::Person));
        let city = cat.search("登记", &ItemFilter { region: Some("360100".into()), ..Default::default() }, 1, 50).unwrap();
        assert!(city.hits.iter().any(|h| h.name.contains("结婚登记")), "district item in city filter");
        let prov = cat.list_public(&ItemFilter { region: Some("360100".into()), ..Default::default() }, 1, 100).await.unwrap();
        assert!(prov.items.iter().all(|i| i.region_code.starts_with("3601")));

        // Themes and bundles.
        let births = cat.list_public(&ItemFilter { theme: Some("shengyu".into()), ..Default::default() }, 1, 100).await.unwrap();
        assert!(births.total >= 5);
        let b = cat.bundle("kaiban-qiye").await.unwrap();
        assert_eq!(b.items.len(), 5);
        assert!(matches!(cat.bundle("nope").await, Err(CatalogError::BundleNotFound(_))));
        assert!(cat.search("", &ItemFilter::default(), 1, 10).unwrap().hits.is_empty());
    }
}

fn sample_doc(dept: &str) -> ItemDoc {
    let p = demo::province().unwrap();
    let mut doc = p.items.iter().find(|i| i.doc.department_code == dept).unwrap().doc.clone();
    doc.basic_code = "360199000777".into();
    doc.name = "测试事项：宠物登记".into();
    doc
}

#[tokio::test]
async fn item_lifecycle_versions_and_scope() {
    for (_t, cat) in demo_catalogs().await {
        let dept = "11360100866661761G";
        let code = format!("{dept}3360199000777");
        let editor = Editor::department("spj-admin", dept);
        let mut doc = sample_doc(dept);
        doc.legal_basis.clear();
        doc.enquiry_phone.clear();

        let created = cat.create(&editor, &code, doc.clone()).await.unwrap();
        assert_eq!(created.status, ItemStatus::Draft);
        assert!(matches!(cat.item_public(&code).await, Err(CatalogError::ItemNotFound(_))), "drafts are not public");
        assert!(matches!(cat.create(&editor, &code, doc.clone()).await, Err(CatalogError::AlreadyExists(_))));

        // Publishing lists every missing element at once.
        match cat.publish(&editor, &code).await {
            Err(CatalogError::Incomplete(p)) => {
                assert!(p.iter().any(|m| m.contains("设定依据")) && p.iter().any(|m| m.contains("咨询电话")), "{p:?}")
            }
            other => panic!("expected Incomplete, got {other:?}"),
        }
        doc.legal_basis = vec!["《测试条例》第一条".into()];
        doc.enquiry_phone = "0791-88100000".into();
        cat.update(&editor, &code, doc.clone()).await.unwrap();
        let published = cat.publish(&editor, &code).await.unwrap();
        assert_eq!((published.status, published.published_version), (ItemStatus::Published, Some(1)));
        let hits = cat.search("宠物登记", &ItemFilter::default(), 1, 5).unwrap();
        assert_eq!(hits.hits[0].impl_code, code);

        // Editing a published item opens version 2; the public still sees version 1.
        let mut v2 = doc.clone();
        v2.name = "测试事项：犬只登记".into();
        let draft = cat.update(&editor, &code, v2).await.unwrap();
        assert_eq!(draft.version, 2);
        assert_eq!(cat.item_public(&code).await.unwrap().doc.name, "测试事项：宠物登记");
        cat.publish(&editor, &code).await.unwrap();
        assert_eq!(cat.item_public(&code).await.unwrap().doc.name, "测试事项：犬只登记");
        assert!(matches!(cat.publish(&editor, &code).await, Err(CatalogError::WrongStatus { .. })));

        // Another department's staff may not touch it.
        let other = Editor::department("gaj-admin", "11360100104974650K");
        assert!(matches!(cat.update(&other, &code, doc.clone()).await, Err(CatalogError::Forbidden)));
        assert!(matches!(cat.item_latest(&other, &code).await, Err(CatalogError::Forbidden)));

        // Suspend keeps it visible (marked), cancel removes it.
        cat.change_status(&editor, &code, StatusAction::Suspend, "系统升级").await.unwrap();
        assert_eq!(cat.item_public(&code).await.unwrap().status, ItemStatus::Suspended);
        assert!(matches!(cat.change_status(&editor, &code, StatusAction::Suspend, "").await, Err(CatalogError::WrongStatus { .. })));
        cat.change_status(&editor, &code, StatusAction::Cancel, "事项取消").await.unwrap();
        assert!(cat.item_public(&code).await.is_err());
        assert!(cat.search("犬只登记", &ItemFilter::default(), 1, 5).unwrap().hits.iter().all(|h| h.impl_code != code));
        let hist: Vec<String> = cat.history(&editor, &code).await.unwrap().into_iter().map(|h| h.action).collect();
        assert_eq!(hist, ["create", "edit", "publish", "edit", "publish", "suspend", "cancel"]);

        // Codes must agree with each other; the type must match the catalog item (三级四同).
        let mut bad = sample_doc(dept);
        bad.basic_code = "360199000778".into();
        assert!(matches!(cat.create(&editor, &code, bad).await, Err(CatalogError::Invalid(_))));
        let mut wrong_type = sample_doc(dept);
        wrong_type.item_type = ItemType::Penalty;
        let code2 = format!("{dept}4360199000777");
        assert!(
            matches!(cat.create(&editor, &code2, wrong_type).await, Err(CatalogError::Invalid(m)) if m.contains("三级") || m.contains("目录清单"))
        );
        let broken = format!("{dept}3360199000");
        assert!(matches!(cat.create(&editor, &broken, sample_doc(dept)).await, Err(CatalogError::InvalidCode { .. })));
    }
}

#[tokio::test]
async fn import_is_all_or_nothing_and_export_round_trips() {
    for (_t, cat) in demo_catalogs().await {
        let admin = Editor::platform("admin");
        let records = cat.export_records(&admin).await.unwrap();
        assert!(records.len() >= 40);

        for format in [Format::Csv, Format::Xlsx, Format::Json] {
            let bytes = transfer::write(format, &records).unwrap();
            let parsed = transfer::parse(format, &bytes).unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
            assert_eq!(parsed.len(), records.len());
            for (a, b) in parsed.iter().zip(&records) {
                assert_eq!(a.impl_code, b.impl_code);
                assert_eq!(a.doc.materials.len(), b.doc.materials.len(), "{}", a.doc.name);
                assert_eq!(a.doc.total_fee_fen(), b.doc.total_fee_fen());
                assert_eq!(a.doc.promised_days, b.doc.promised_days);
            }
        }

        // Two new items, the second broken: nothing is written, both problems named.
        let dept = "11360100866661761G";
        let good = transfer::ItemRecord {
            impl_code: format!("{dept}3360199000801"),
            doc: {
                let mut d = sample_doc(dept);
                d.basic_code = "360199000801".into();
                d
            },
        };
        let mut broken = good.clone();
        broken.impl_code = format!("{dept}3360199000802");
        broken.doc.basic_code = "360199000802".into();
        broken.doc.materials.clear();
        let before = cat.list_staff(&admin, &ItemFilter::default(), None, 1, 1).await.unwrap().total;
        let progress = |_: usize, _: usize| {};
        match cat.import(&admin, &[good.clone(), broken.clone()], true, &progress).await {
            Err(CatalogError::ImportRejected(errs)) => assert!(errs.iter().any(|e| e.row == 2 && e.message.contains("材料"))),
            other => panic!("expected rejection, got {other:?}"),
        }
        assert_eq!(cat.list_staff(&admin, &ItemFilter::default(), None, 1, 1).await.unwrap().total, before);

        // A department admin cannot import another department's items; rows say so.
        let other = Editor::department("gaj-admin", "11360100104974650K");
        assert!(matches!(cat.import(&other, std::slice::from_ref(&good), false, &progress).await, Err(CatalogError::ImportRejected(_))));

        let seen = std::sync::atomic::AtomicUsize::new(0);
        let progress = |done: usize, _: usize| seen.store(done, std::sync::atomic::Ordering::SeqCst);
        let report = cat.import(&admin, &[good], true, &progress).await.unwrap();
        assert_eq!((report.created, report.published), (1, 1));
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(cat.item_public(&format!("{dept}3360199000801")).await.is_ok());
    }
}

#[tokio::test]
async fn a_second_node_picks_up_changes_through_index_sync() {
    for (t, node_a) in demo_catalogs().await {
        let node_b = Catalog::open(t.db.clone()).await.unwrap();
        let since = yiwang_store::now_text();
        let dept = "11360100866661761G";
        let code = format!("{dept}3360199000901");
        let editor = Editor::department("spj-admin", dept);
        let mut doc = sample_doc(dept);
        doc.basic_code = "360199000901".into();
        doc.name = "测试：网络预约出租汽车经营许可".into();
        node_a.create(&editor, &code, doc).await.unwrap();
        node_a.publish(&editor, &code).await.unwrap();
        assert!(node_b.search("网络预约出租汽车", &ItemFilter::default(), 1, 5).unwrap().hits.iter().all(|h| h.impl_code != code));
        assert!(node_b.sync_index(&since).await.unwrap() >= 1);
        assert_eq!(node_b.search("网络预约出租汽车", &ItemFilter::default(), 1, 5).unwrap().hits[0].impl_code, code);
    }
}
