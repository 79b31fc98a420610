//! `yiwang backup` / `yiwang restore`, on SQLite and PostgreSQL: a backup of the demo province,
//! a change after it, a restore, and the catalog is back as it was at the backup with the
//! ledger verifying; a damaged backup is refused without touching the database.

mod common;

use std::process::{Command, Output};

use common::yiwang_command;
use yiwang_store::testing::TestDb;

fn yiwang(db: &TestDb, dir: &std::path::Path, args: &[&str]) -> Output {
    yiwang_command(db, dir).args(args).output().expect("run yiwang")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn pg_tools() -> bool {
    Command::new("pg_dump").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn backup_change_restore_round_trip() {
    for db in TestDb::each().await.expect("test database") {
        let backend = if db.options.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        if backend == "postgres" && !pg_tools() {
            assert!(std::env::var("YIWANG_REQUIRE_PG_TOOLS").is_err(), "pg_dump is required");
            eprintln!("pg_dump not installed: PostgreSQL backup not tested");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(&yiwang(&db, d, &["demo", "load"]), "demo load");
        ok(&yiwang(&db, d, &["export", "before.json"]), "export");

        let out = ok(&yiwang(&db, d, &["backup", "snapshot.bak"]), "backup");
        assert!(out.contains("backup written"), "{backend}: {out}");
        let again = yiwang(&db, d, &["backup", "snapshot.bak"]);
        assert!(!again.status.success(), "{backend}: an existing backup is never overwritten");

        // A change after the backup: one item renamed through an import.
        let mut items: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("before.json")).unwrap()).unwrap();
        let first = items.as_array_mut().and_then(|a| a.first_mut()).expect("exported items");
        let name = first["doc"]["name"].as_str().unwrap().to_string();
        first["doc"]["name"] = serde_json::json!(format!("{name}（备份后修改）"));
        std::fs::write(d.join("changed.json"), serde_json::to_vec(&items).unwrap()).unwrap();
        ok(&yiwang(&db, d, &["import", "changed.json"]), "import");
        ok(&yiwang(&db, d, &["export", "changed-export.json"]), "export");
        assert!(std::fs::read_to_string(d.join("changed-export.json")).unwrap().contains("备份后修改"));

        // A damaged backup is refused and the database stays as it is.
        std::fs::write(d.join("damaged.bak"), b"this is not a backup").unwrap();
        assert!(!yiwang(&db, d, &["restore", "damaged.bak"]).status.success(), "{backend}: damaged backup restored");
        ok(&yiwang(&db, d, &["export", "still.json"]), "export");
        assert!(std::fs::read_to_string(d.join("still.json")).unwrap().contains("备份后修改"));

        let out = ok(&yiwang(&db, d, &["restore", "snapshot.bak"]), "restore");
        assert!(out.contains("restored from"), "{backend}: {out}");
        ok(&yiwang(&db, d, &["export", "after.json"]), "export");
        assert_eq!(
            std::fs::read_to_string(d.join("after.json")).unwrap(),
            std::fs::read_to_string(d.join("before.json")).unwrap(),
            "{backend}: the catalog is back as it was at the backup"
        );
        ok(&yiwang(&db, d, &["ledger", "verify"]), "ledger verify after restore");
        eprintln!("{backend}: backup and restore round trip");
    }
}
