//! The `yiwang` command line: migrate, demo load, export, import (all or nothing).

use std::process::Command;

fn yiwang(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .current_dir(dir)
        .env("YIWANG_DATABASE_URL", format!("sqlite://{}/cli.db", dir.display()))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run yiwang")
}

#[test]
fn migrate_demo_export_import_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = yiwang(d, &["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("schema version"));

    let out = yiwang(d, &["demo", "load"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("49 new items"), "{}", String::from_utf8_lossy(&out.stdout));

    for ext in ["csv", "xlsx", "json"] {
        let file = format!("catalog.{ext}");
        let out = yiwang(d, &["export", &file]);
        assert!(out.status.success(), "{ext}: {}", String::from_utf8_lossy(&out.stderr));
        let out = yiwang(d, &["import", &file]);
        assert!(out.status.success(), "{ext}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("更新 49"), "{}", String::from_utf8_lossy(&out.stdout));
    }

    // A broken file fails with the row named and a non-zero exit.
    let csv = std::fs::read_to_string(d.join("catalog.csv")).unwrap();
    std::fs::write(d.join("broken.csv"), csv.replacen("承诺件", "随便件", 1)).unwrap();
    let out = yiwang(d, &["import", "broken.csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("办件类型"));
    let out = yiwang(d, &["import", "catalog.txt"]);
    assert!(!out.status.success());
}
