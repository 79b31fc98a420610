//! `yiwang`: integrated online government services (一网通办).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use yiwang::Settings;
use yiwang_catalog::transfer::{self, Format};
use yiwang_catalog::{Catalog, Editor};

/// mimalloc: the server allocates per request on every worker thread, where glibc's allocator
/// spent an eighth of the gateway's CPU in locking and consolidation.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "yiwang", version, about = "一网通办: integrated online government services")]
struct Cli {
    /// Configuration file (TOML); default ./yiwang.toml if present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal, workbench and API (default).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Do not load the demo province on first start.
        #[arg(long)]
        no_demo: bool,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Demo province data.
    Demo {
        #[command(subcommand)]
        action: DemoAction,
    },
    /// Import items from a CSV, Excel or JSON file (all or nothing).
    Import {
        file: PathBuf,
        /// Publish the imported items too.
        #[arg(long)]
        publish: bool,
    },
    /// Export all items to a file (format from the extension: .csv, .xlsx, .json).
    Export { file: PathBuf },
    /// Electronic licences.
    Licence {
        #[command(subcommand)]
        action: LicenceAction,
    },
    /// Back the database up to a file: an online SQLite snapshot (the server may keep
    /// running), or pg_dump's custom format for PostgreSQL. Back up the master key too.
    Backup { file: PathBuf },
    /// Replace the database with a backup made by `yiwang backup`. Stop the server first; the
    /// SQLite database it replaces is kept as `*.before-restore`.
    Restore { file: PathBuf },
    /// The tamper-evident ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Recompute the log from storage and check it against the signed heads and the recorded
    /// tables; report every edited, deleted or moved row with its position (exit 1 if any).
    Verify {
        /// Signed heads kept elsewhere (JSON from /api/v1/ledger/heads) to check as well.
        #[arg(long)]
        heads: Option<PathBuf>,
        /// Trust only these signing keys (JSON from /api/v1/ledger, or a list of keys).
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum LicenceAction {
    /// Verify a licence file offline (exit code 0 when valid, 1 when not). Needs no server
    /// and no database: only the file and the published key set.
    Verify {
        /// The licence file (JSON, as downloaded from the wallet).
        file: PathBuf,
        /// The seal key set (JSON from /api/v1/licences/keys); without it the seal is not trusted.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Judge expiry on this date (YYYY-MM-DD); default today (China time).
        #[arg(long)]
        today: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DemoAction {
    /// Load (or top up) the demo province and its staff accounts.
    Load,
}

fn format_of(path: &std::path::Path) -> anyhow::Result<Format> {
    Format::from_filename(&path.to_string_lossy()).context("file must end in .csv, .xlsx or .json")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Licence { action: LicenceAction::Verify { file, keys, today, json } }) = &cli.command {
        // Offline: no configuration, database or logging needed.
        let valid = verify_licence_file(file, keys.as_deref(), today.as_deref(), *json)?;
        std::process::exit(if valid { 0 } else { 1 });
    }
    let mut settings = Settings::load(cli.config.as_deref())?;
    yiwang::init_tracing(&settings.log_format);
    match cli.command.unwrap_or(Command::Serve { listen: None, no_demo: false }) {
        Command::Serve { listen, no_demo } => {
            if let Some(l) = listen {
                settings.listen = l;
            }
            if no_demo {
                settings.demo = false;
            }
            yiwang::serve(&settings).await
        }
        Command::Ledger { action: LedgerAction::Verify { heads, keys, json } } => {
            let ok = verify_ledger(&settings, heads.as_deref(), keys.as_deref(), json).await?;
            std::process::exit(if ok { 0 } else { 1 });
        }
        Command::Backup { file } => {
            let db = yiwang::open_db(&settings).await?;
            let r = yiwang_store::backup::backup(&db, &settings.connect_options(), &file).await?;
            println!("backup written: {} ({} bytes, schema version {})", r.file.display(), r.bytes, r.schema_version);
            Ok(())
        }
        Command::Restore { file } => {
            let r = yiwang_store::backup::restore(&settings.connect_options(), &file).await?;
            println!("restored from {} (schema version {})", file.display(), r.schema_version);
            // Newer code may need newer tables: migrate the restored database now.
            let db = yiwang::open_db(&settings).await?;
            println!("schema version {}", yiwang_store::current_version(&db).await?);
            Ok(())
        }
        Command::Migrate => {
            let db = yiwang::open_db(&settings).await?;
            println!("schema version {}", yiwang_store::current_version(&db).await?);
            Ok(())
        }
        Command::Demo { action: DemoAction::Load } => {
            let db = yiwang::open_db(&settings).await?;
            let catalog = Catalog::open(db.clone()).await?;
            let identity = yiwang::identity(&settings, db).await?;
            let r = yiwang::load_demo(&catalog, &identity).await?;
            println!(
                "demo province: {} regions, {} departments, {} new items, {} bundles",
                r.regions, r.departments, r.items_created, r.bundles
            );
            Ok(())
        }
        Command::Import { file, publish } => {
            let format = format_of(&file)?;
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let records = match transfer::parse(format, &bytes) {
                Ok(r) => r,
                Err(rows) => {
                    for r in &rows {
                        eprintln!("第{}行 {}：{}", r.row, r.column, r.message);
                    }
                    anyhow::bail!("{} 处错误，未导入任何数据", rows.len());
                }
            };
            let db = yiwang::open_db(&settings).await?;
            let catalog = Catalog::open(db).await?;
            let total = records.len();
            let progress = move |done: usize, _: usize| {
                if done.is_multiple_of(100) || done == total {
                    eprintln!("{done}/{total}");
                }
            };
            match catalog.import(&Editor::platform("cli"), &records, publish, &progress).await {
                Ok(r) => {
                    println!("导入完成：{} 项，新建 {}，更新 {}，发布 {}", r.total, r.created, r.updated, r.published);
                    Ok(())
                }
                Err(yiwang_catalog::CatalogError::ImportRejected(rows)) => {
                    for r in &rows {
                        eprintln!("第{}行 {}：{}", r.row, r.column, r.message);
                    }
                    anyhow::bail!("{} 处错误，未导入任何数据", rows.len())
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Licence { .. } => unreachable!("handled before configuration is read"),
        Command::Export { file } => {
            let format = format_of(&file)?;
            let db = yiwang::open_db(&settings).await?;
            let catalog = Catalog::open(db).await?;
            let records = catalog.export_records(&Editor::platform("cli")).await?;
            std::fs::write(&file, transfer::write(format, &records)?).with_context(|| format!("writing {}", file.display()))?;
            println!("exported {} items to {}", records.len(), file.display());
            Ok(())
        }
    }
}

fn verify_licence_file(file: &std::path::Path, keys: Option<&std::path::Path>, today: Option<&str>, json: bool) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let licence: yiwang_licences::LicenceFile = serde_json::from_str(&text).context("not a licence file")?;
    let keys: Option<yiwang_licences::KeySet> = match keys {
        Some(p) => {
            let t = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(serde_json::from_str(&t).context("not a key set (expected {\"keys\": [...]})")?)
        }
        None => None,
    };
    let today = today.map(String::from).unwrap_or_else(|| yiwang_cases::china_date(chrono::Utc::now()).to_string());
    let report = yiwang_licences::offline::verify_file(&licence, keys.as_ref(), &today);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{} {}", if report.valid { "有效 VALID" } else { "无效 NOT VALID" }, report.identifier);
        println!("  证照 {} {} · 发证机关 {}", report.type_name, report.number, report.issuer_name);
        println!(
            "  持证主体 {}（{}）· 有效期 {} 至 {}",
            report.holder_name_masked, report.holder_id_masked, report.valid_from, report.valid_to
        );
        println!("  签名 {} · 印章 {} ({})", if report.signature_valid { "ok" } else { "FAILED" }, report.seal_id, report.algorithm.key());
        for p in &report.problems {
            println!("  - {p}");
        }
        println!("  （注销状态须在线查询：{}）", licence.keys_url.replace("/api/v1/licences/keys", "/verify/") + &report.identifier);
    }
    Ok(report.valid)
}

async fn verify_ledger(
    settings: &Settings,
    heads: Option<&std::path::Path>,
    keys: Option<&std::path::Path>,
    json: bool,
) -> anyhow::Result<bool> {
    let read =
        |p: &std::path::Path| -> anyhow::Result<String> { std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())) };
    let mut opts = yiwang_ledger::audit::AuditOptions::default();
    if let Some(p) = heads {
        opts.extra_heads = serde_json::from_str(&read(p)?).context("heads: expected the JSON of /api/v1/ledger/heads")?;
    }
    if let Some(p) = keys {
        let text = read(p)?;
        let keys: Vec<yiwang_ledger::LogKey> = match serde_json::from_str(&text) {
            Ok(k) => k,
            Err(_) => serde_json::from_str::<yiwang_ledger::LogInfo>(&text).context("keys: expected the JSON of /api/v1/ledger")?.keys,
        };
        opts.trusted_keys = Some(keys);
    }
    let db = yiwang::open_db(settings).await?;
    let report = yiwang_ledger::audit::run(&db, opts).await?;
    // The access log is recorded by batch: recompute each batch from its rows.
    let log = yiwang_exchange::verify_log(&db, &yiwang_crypto::Sealer::new(yiwang::personal_data(settings)?)).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "ledger": report, "exchange_log": log }))?);
    } else {
        println!(
            "账本（{}）：{} 条记录，{} 个签名树头，{} 行业务数据已核对",
            report.hash, report.entries_checked, report.heads_checked, report.source_rows_checked
        );
        if report.ok() {
            println!("✔ 未发现篡改");
        }
        for f in &report.findings {
            let at = f.position.map(|p| format!("第 {p} 条")).unwrap_or_else(|| "—".into());
            println!("✘ [{}] {at}：{}", serde_json::to_value(f.kind)?.as_str().unwrap_or_default(), f.detail);
        }
        println!("数据共享访问日志：{} 个批次，{} 条记录已核对", log.batches, log.records);
        for f in &log.findings {
            let at = f.exchange_id.as_deref().or(f.batch_id.as_deref()).unwrap_or("—");
            println!("✘ [{}] {at}：{}", f.kind, f.detail);
        }
    }
    Ok(report.ok() && log.ok())
}
