//! The ledger on SQLite and PostgreSQL: capture, sequencing, proofs, heads, and the verifier
//! catching rows edited, deleted and reordered directly in the database.

use rand::Rng;
use yiwang_crypto::{HashAlg, Vault};
use yiwang_ledger::merkle::{self, verify_consistency, verify_inclusion};
use yiwang_ledger::{audit, check_bundle, FindingKind, Ledger, LedgerSettings};
use yiwang_store::testing::TestDb;
use yiwang_store::{sqlx, Db};

async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// `n` staff actions written the way any code (or a console) writes them.
async fn staff_actions(db: &Db, from: usize, n: usize) {
    let mut tx = db.begin().await.unwrap();
    for i in from..from + n {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, result, source) VALUES ($1, $2, 'case.accept', $3, 'success', '127.0.0.1')",
        )
        .bind(format!("2026-11-23T08:00:{:02}.000Z", i % 60))
        .bind(format!("staff-{}", i % 7))
        .bind(format!("case-{i}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn open(db: &Db, hash: HashAlg) -> Ledger {
    Ledger::open(db.clone(), Vault::new(b"ledger test master key 32 bytes.").unwrap(), LedgerSettings { hash, ..Default::default() })
        .await
        .unwrap()
}

/// A log of 600 staff actions (two full tiles and a partial one) with two heads.
async fn log_of_600(t: &TestDb) -> Ledger {
    let ledger = open(&t.db, HashAlg::Sm3).await;
    staff_actions(&t.db, 0, 300).await;
    assert_eq!(ledger.sequence_now().await.unwrap(), 300);
    ledger.sign_head().await.unwrap();
    staff_actions(&t.db, 300, 300).await;
    assert_eq!(ledger.sequence_now().await.unwrap(), 300);
    ledger.sign_head().await.unwrap();
    ledger
}

async fn findings(db: &Db) -> Vec<(FindingKind, Option<u64>)> {
    audit::run(db, Default::default()).await.unwrap().findings.into_iter().map(|f| (f.kind, f.position)).collect()
}

#[tokio::test]
async fn proofs_verify_for_random_entries_and_heads_are_consistent() {
    for hash in [HashAlg::Sm3, HashAlg::Sha256] {
        for t in TestDb::each().await.unwrap() {
            let ledger = open(&t.db, hash).await;
            assert_eq!(ledger.hash(), hash);
            staff_actions(&t.db, 0, 700).await;
            // Small batches: several transactions, tiles completed across them.
            let n = ledger.sequence_now().await.unwrap();
            assert_eq!(n, 700);
            let h1 = ledger.sign_head().await.unwrap();
            staff_actions(&t.db, 700, 45).await;
            ledger.sequence_now().await.unwrap();
            let h2 = ledger.sign_head().await.unwrap();
            assert_eq!((h1.tree_size, h2.tree_size), (700, 745));
            let key = ledger.keys().await.unwrap().remove(0);
            assert!(yiwang_ledger::head_signed_by(&h1, &key) && yiwang_ledger::head_signed_by(&h2, &key));

            let hex32 = |s: &str| -> [u8; 32] { hex::decode(s).unwrap().try_into().unwrap() };
            let mut rng = rand::thread_rng();
            for _ in 0..40 {
                let size = if rng.gen_bool(0.5) { h1.tree_size } else { h2.tree_size };
                let root = hex32(if size == h1.tree_size { &h1.root } else { &h2.root });
                let i = rng.gen_range(0..size);
                let p = ledger.inclusion(i, size).await.unwrap();
                let path: Vec<[u8; 32]> = p.path.iter().map(|h| hex32(h)).collect();
                assert!(verify_inclusion(hash, i, size, &hex32(&p.leaf_hash), &path, &root), "{i} in {size}");
                // Every other size up to the head is consistent with it.
                let first = rng.gen_range(1..=size);
                let c = ledger.consistency(first, h2.tree_size).await.unwrap();
                let first_root = hex32(&ledger.root_at(first).await.unwrap());
                let cpath: Vec<[u8; 32]> = c.path.iter().map(|h| hex32(h)).collect();
                assert!(verify_consistency(hash, first, h2.tree_size, &first_root, &hex32(&h2.root), &cpath));
            }
            assert!(ledger.inclusion(745, 745).await.is_err());
            assert!(ledger.consistency(1, 746).await.is_err());

            // A fresh process reloads the same tree from storage.
            let again = open(&t.db, hash).await;
            assert_eq!(again.root_at(745).await.unwrap(), h2.root);
            assert!(audit::run(&t.db, Default::default()).await.unwrap().ok());
        }
    }
}

#[tokio::test]
async fn verifier_reports_edits_deletions_and_reordering_with_positions() {
    for backend in 0..2 {
        let fresh = || async move {
            if backend == 0 {
                TestDb::sqlite().await.unwrap()
            } else {
                TestDb::postgres().await.unwrap()
            }
        };
        if backend == 1 && yiwang_store::testing::pg_disabled() {
            continue;
        }
        // Untouched: clean.
        let t = fresh().await;
        log_of_600(&t).await;
        let r = audit::run(&t.db, Default::default()).await.unwrap();
        assert!(r.ok(), "{:?}", r.findings);
        assert_eq!((r.entries_checked, r.heads_checked, r.source_rows_checked >= 600), (600, 2, true));

        // A record edited in place.
        let t = fresh().await;
        log_of_600(&t).await;
        exec(&t.db, "UPDATE ledger_entries SET record = REPLACE(record, 'success', 'failure') WHERE leaf_index = 5").await;
        let f = findings(&t.db).await;
        assert!(f.contains(&(FindingKind::EntryEdited, Some(5))), "{f:?}");
        assert!(f.contains(&(FindingKind::HeadMismatch, Some(300))), "{f:?}");

        // A row deleted.
        let t = fresh().await;
        log_of_600(&t).await;
        exec(&t.db, "DELETE FROM ledger_entries WHERE leaf_index = 7").await;
        let f = findings(&t.db).await;
        assert!(f.contains(&(FindingKind::EntryDeleted, Some(7))), "{f:?}");

        // The last rows deleted.
        let t = fresh().await;
        log_of_600(&t).await;
        exec(&t.db, "DELETE FROM ledger_entries WHERE leaf_index >= 590").await;
        let f = findings(&t.db).await;
        assert!(f.contains(&(FindingKind::EntryDeleted, Some(590))), "{f:?}");

        // Two rows swapped (every column but the position).
        let t = fresh().await;
        log_of_600(&t).await;
        exec(&t.db, "UPDATE ledger_entries SET leaf_index = -1 WHERE leaf_index = 10").await;
        exec(&t.db, "UPDATE ledger_entries SET leaf_index = 10 WHERE leaf_index = 11").await;
        exec(&t.db, "UPDATE ledger_entries SET leaf_index = 11 WHERE leaf_index = -1").await;
        let f = findings(&t.db).await;
        assert!(f.contains(&(FindingKind::EntryMoved, Some(10))) && f.contains(&(FindingKind::EntryMoved, Some(11))), "{f:?}");

        // A forged entry made self-consistent (content and leaf hash recomputed).
        let t = fresh().await;
        let ledger = log_of_600(&t).await;
        let e = ledger.entries_for("staff_action", "20").await.unwrap().remove(0);
        let mut record = e.record.clone();
        record["result"] = "failure".into();
        let canon = yiwang_crypto::canonical::to_string(&record).unwrap();
        let content = hex::encode(HashAlg::Sm3.digest(&[canon.as_bytes()]));
        let leaf = hex::encode(yiwang_ledger::leaf_of(
            HashAlg::Sm3,
            e.envelope.index,
            &e.envelope.source,
            &e.envelope.key,
            &content,
            &e.envelope.prev,
        ));
        let mut tx = t.db.begin().await.unwrap();
        sqlx::query("UPDATE ledger_entries SET record = $1, content_hash = $2, leaf_hash = $3 WHERE leaf_index = $4")
            .bind(&canon)
            .bind(&content)
            .bind(&leaf)
            .bind(e.envelope.index as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let f = findings(&t.db).await;
        let at = e.envelope.index;
        assert!(f.contains(&(FindingKind::ChainBroken, Some(at))), "{f:?}");
        assert!(f.contains(&(FindingKind::HeadMismatch, Some(300))), "{f:?}");
        // ... and the recorded row no longer matches the log.
        assert!(f.contains(&(FindingKind::SourceEdited, Some(at))), "{f:?}");

        // Recorded rows changed or deleted behind the log's back.
        let t = fresh().await;
        let ledger = log_of_600(&t).await;
        // As an intruder would: without the trigger, nothing is captured (rows that change).
        if backend == 0 {
            exec(&t.db, "DROP TRIGGER IF EXISTS ledger_licence_type_insert").await;
        } else {
            exec(&t.db, "DROP TRIGGER IF EXISTS ledger_licence_type_insert ON licence_types").await;
        }
        exec(&t.db, "INSERT INTO licence_types (code, doc, updated_at) VALUES ('T9', '{}', '2026-12-04T00:00:00.000Z')").await;
        exec(&t.db, "UPDATE audit_log SET result = 'failure' WHERE id = 3").await;
        exec(&t.db, "DELETE FROM audit_log WHERE id = 4").await;
        // A tailed table has no trigger to drop: a row slipped in below the last id read is
        // never read, and verify names it.
        exec(&t.db, "INSERT INTO audit_log (id, at, actor, action, target, result, source) VALUES (-5, '2026-11-23T09:00:00.000Z', 'x', 'y', 'z', 'success', '')")
            .await;
        // A row written the ordinary way is read later, not missing.
        staff_actions(&t.db, 600, 1).await;
        let r = audit::run(&t.db, Default::default()).await.unwrap();
        let kinds: Vec<(FindingKind, Option<String>)> = r.findings.iter().map(|f| (f.kind, f.key.clone())).collect();
        assert_eq!(
            kinds,
            [
                (FindingKind::SourceEdited, Some("3".into())),
                (FindingKind::SourceDeleted, Some("4".into())),
                (FindingKind::SourceUnrecorded, Some("-5".into())),
                (FindingKind::SourceUnrecorded, Some("T9".into())),
            ]
        );
        assert_eq!(ledger.info().await.unwrap().pending, 1);
        assert_eq!(ledger.sequence_now().await.unwrap(), 1);
        assert_eq!(ledger.entries_for("staff_action", "601").await.unwrap().len(), 1);

        // A forged head.
        let t = fresh().await;
        let ledger = log_of_600(&t).await;
        let mut forged = ledger.latest_head().await.unwrap().unwrap();
        forged.root = hex::encode([7u8; 32]);
        let r = audit::run(&t.db, audit::AuditOptions { extra_heads: vec![forged], trusted_keys: None }).await.unwrap();
        assert!(r.findings.iter().any(|f| f.kind == FindingKind::HeadSignature), "{:?}", r.findings);
    }
}

#[tokio::test]
async fn bundles_prove_records_and_expose_changes() {
    for t in TestDb::each().await.unwrap() {
        let ledger = open(&t.db, HashAlg::Sm3).await;
        staff_actions(&t.db, 0, 30).await;
        // Not sequenced yet: `prove` sequences and signs a head on demand.
        let keys: Vec<String> = ["2", "9", "30"].iter().map(|s| s.to_string()).collect();
        let b = ledger.prove("staff_action", &keys).await.unwrap();
        assert_eq!(b.entries.len(), 3);
        assert!(b.pending.is_empty());
        let check = check_bundle(&b, None);
        assert!(check.all_valid(), "{check:?}");
        // Through JSON, as a citizen downloads it.
        let b2: yiwang_ledger::ProofBundle = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        assert!(check_bundle(&b2, None).all_valid());
        // A record changed in the bundle fails.
        let mut bad = b.clone();
        bad.entries[1].entry.record["result"] = "failure".into();
        let c = check_bundle(&bad, None);
        assert!(!c.all_valid() && !c.entries[1].content_matches && c.entries[0].included);
        // Another key does not sign it.
        let mut other = b.key.clone().unwrap();
        other.public_key = hex::encode(yiwang_crypto::generate(yiwang_crypto::Algorithm::Sm2).unwrap().1);
        assert!(!check_bundle(&b, Some(&other)).head_signature_valid);
        // The row changed in the database: the bundle says so.
        exec(&t.db, "UPDATE audit_log SET target = 'changed' WHERE id = 9").await;
        let b3 = ledger.prove("staff_action", &keys).await.unwrap();
        assert!(!b3.entries[1].matches_source && b3.entries[0].matches_source);
        let unknown = ledger.prove("staff_action", &["999".to_string()]).await.unwrap();
        assert_eq!(unknown.pending, ["999"]);
    }
}

#[tokio::test]
async fn a_damaged_store_stops_appends_but_keeps_capturing() {
    let t = TestDb::sqlite().await.unwrap();
    let ledger = open(&t.db, HashAlg::Sm3).await;
    staff_actions(&t.db, 0, 10).await;
    ledger.sequence_now().await.unwrap();
    exec(&t.db, "DELETE FROM ledger_entries WHERE leaf_index = 9").await;
    let again = open(&t.db, HashAlg::Sm3).await;
    assert!(again.is_damaged());
    staff_actions(&t.db, 10, 5).await;
    assert!(again.sequence_now().await.is_err());
    assert!(again.sign_head().await.is_err(), "no head over damaged storage");
    assert_eq!(again.info().await.unwrap().pending, 5);
    // Turning capture off removes the triggers: a new licence type is not captured.
    again.set_capture(false).await.unwrap();
    exec(&t.db, "INSERT INTO licence_types (code, doc, updated_at) VALUES ('T1', '{}', '2026-12-04T00:00:00.000Z')").await;
    assert_eq!(again.info().await.unwrap().pending, 5);
    let _ = merkle::empty_root(HashAlg::Sm3);
}

/// Insert-only rows keyed by a growing id are read from their table when appended (no trigger,
/// no queue row); one deleted before that leaves no entry. Rows that change are captured as
/// they read at the moment of writing. Capture off pauses the reading; it resumes where it
/// stopped.
#[tokio::test]
async fn insert_only_rows_are_read_when_appended() {
    for t in TestDb::each().await.unwrap() {
        let ledger = open(&t.db, HashAlg::Sm3).await;
        staff_actions(&t.db, 0, 3).await;
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_queue").fetch_one(t.db.reader()).await.unwrap();
        assert_eq!(queued, 0, "tailed: nothing queued");
        assert_eq!(ledger.info().await.unwrap().pending, 3);
        exec(&t.db, "DELETE FROM audit_log WHERE id = 2").await;
        // A recorded row that changes: both states are captured, the first before it changed.
        exec(&t.db, "INSERT INTO licence_types (code, doc, updated_at) VALUES ('T1', '{\"v\":1}', '2026-12-04T00:00:00.000Z')").await;
        exec(&t.db, "UPDATE licence_types SET doc = '{\"v\":2}' WHERE code = 'T1'").await;
        assert_eq!(ledger.sequence_now().await.unwrap(), 4);

        let b = ledger.prove("staff_action", &["1".to_string(), "2".to_string(), "3".to_string()]).await.unwrap();
        assert_eq!(b.entries.iter().map(|e| e.entry.record["target"].as_str().unwrap()).collect::<Vec<_>>(), ["case-0", "case-2"]);
        assert_eq!(b.pending, ["2"], "deleted before it was read");
        let c = check_bundle(&b, None);
        assert!(c.all_valid(), "{c:?}");
        let docs: Vec<String> = ledger
            .prove("licence_type", &["T1".to_string()])
            .await
            .unwrap()
            .entries
            .iter()
            .map(|e| e.entry.record["doc"].to_string())
            .collect();
        assert_eq!(docs.len(), 2);
        assert!(docs[0].contains("1") && docs[1].contains("2"), "{docs:?}");
        assert_eq!(findings(&t.db).await, []);

        // Capture off: nothing is read; on again (as at the next start): read from where it stopped.
        ledger.set_capture(false).await.unwrap();
        staff_actions(&t.db, 3, 2).await;
        assert_eq!(ledger.sequence_now().await.unwrap(), 0);
        let again = open(&t.db, HashAlg::Sm3).await;
        assert_eq!(again.sequence_now().await.unwrap(), 2);
        assert_eq!(again.entries_for("staff_action", "5").await.unwrap().len(), 1);
        assert_eq!(findings(&t.db).await, []);
    }
}

/// On PostgreSQL a row committed while a transaction that drew a lower id is still open is not
/// passed: the lower id would be skipped for good. It waits for that transaction.
#[tokio::test]
async fn a_tail_waits_for_open_transactions_below_it() {
    let Some(t) = TestDb::each().await.unwrap().into_iter().find(|t| !t.options.url.starts_with("sqlite")) else { return };
    let ledger = open(&t.db, HashAlg::Sm3).await;
    // The open transaction draws id 1 and stays open.
    let mut open_tx = t.db.begin().await.unwrap();
    sqlx::query("INSERT INTO audit_log (at, actor, action, target, result, source) VALUES ('2026-12-04T00:00:00.000Z', 'a', 'b', 'first', 'success', '')")
        .execute(&mut *open_tx)
        .await
        .unwrap();
    // Id 2 commits.
    staff_actions(&t.db, 1, 1).await;
    let waiting = ledger.clone();
    let run = tokio::spawn(async move { waiting.sequence_now().await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!run.is_finished(), "2 must wait while 1 may still commit");
    open_tx.commit().await.unwrap();
    assert_eq!(run.await.unwrap(), 2);
    let b = ledger.prove("staff_action", &["1".to_string(), "2".to_string()]).await.unwrap();
    assert!(b.pending.is_empty() && check_bundle(&b, None).all_valid());
    assert_eq!(findings(&t.db).await, []);
}

/// A database from before tailing: staff actions were captured by a trigger that queued their
/// keys. On start the trigger goes, the queued keys are still appended, and the tail starts
/// after them: every row exactly once.
#[tokio::test]
async fn a_log_captured_by_triggers_moves_to_tails() {
    for t in TestDb::each().await.unwrap() {
        let sqlite = t.options.url.starts_with("sqlite");
        let ledger = open(&t.db, HashAlg::Sm3).await;
        staff_actions(&t.db, 0, 3).await;
        assert_eq!(ledger.sequence_now().await.unwrap(), 3);
        // Back to the old capture: the trigger of before, no tail.
        let old = if sqlite {
            "CREATE TRIGGER ledger_staff_action_insert AFTER INSERT ON audit_log BEGIN \
             INSERT INTO ledger_queue (source, source_key, record) VALUES ('staff_action', CAST(NEW.id AS TEXT), ''); END"
                .to_string()
        } else {
            "CREATE FUNCTION ledger_capture_staff_action() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN \
             INSERT INTO ledger_queue (source, source_key, record) VALUES ('staff_action', CAST(NEW.id AS TEXT), ''); \
             RETURN NULL; END $f$; CREATE TRIGGER ledger_staff_action_insert AFTER INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION ledger_capture_staff_action()"
                .to_string()
        };
        exec(&t.db, &old).await;
        exec(&t.db, "DELETE FROM ledger_tails").await;
        staff_actions(&t.db, 3, 4).await;
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_queue").fetch_one(t.db.reader()).await.unwrap();
        assert_eq!(queued, 4);

        // The new version starts: queued keys and new rows, each once.
        let again = open(&t.db, HashAlg::Sm3).await;
        staff_actions(&t.db, 7, 2).await;
        assert_eq!(again.sequence_now().await.unwrap(), 6);
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_queue").fetch_one(t.db.reader()).await.unwrap();
        assert_eq!(queued, 0, "no trigger left");
        for id in 1..=9 {
            assert_eq!(again.entries_for("staff_action", &id.to_string()).await.unwrap().len(), 1, "row {id}");
        }
        assert_eq!(findings(&t.db).await, []);
    }
}
