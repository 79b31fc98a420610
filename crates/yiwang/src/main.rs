//! `yiwang`: integrated online government services (一网通办).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use yiwang::Settings;
use yiwang_catalog::transfer::{self, Format};
use yiwang_catalog::{Catalog, Editor};

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
        Command::Migrate => {
            let db = yiwang::open_db(&settings).await?;
            println!("schema version {}", yiwang_store::current_version(&db).await?);
            Ok(())
        }
        Command::Demo { action: DemoAction::Load } => {
            let db = yiwang::open_db(&settings).await?;
            let catalog = Catalog::open(db.clone()).await?;
            let identity = yiwang::identity(&settings, db)?;
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
