//! Ledger pages: the public transparency page (latest signed head, keys, how to check) and an
//! applicant's "verify this history" for a case, checked here and downloadable for checking
//! elsewhere.

use askama::Template;
use axum::extract::{Path, State};
use yiwang_ledger::{check_bundle, BundleCheck, LogInfo, ProofBundle};

use super::{render, Chrome, PageResult};
use crate::auth::PersonSession;
use crate::AppState;

#[derive(Template)]
#[template(path = "ledger/index.html")]
struct LogPage {
    c: Chrome,
    info: LogInfo,
}

pub async fn log(State(app): State<AppState>, c: Chrome) -> PageResult {
    let info = app.ledger.info().await?;
    render(LogPage { c, info })
}

/// One timeline event with its proof status.
pub struct EventRow {
    pub at: String,
    pub kind: String,
    pub step: String,
    pub index: Option<u64>,
    pub included: bool,
    pub unchanged: bool,
}

#[derive(Template)]
#[template(path = "cases/ledger.html")]
struct HistoryPage {
    c: Chrome,
    /// `verified`, `pending` (what is recorded verifies, the rest is being recorded) or `failed`.
    verdict: &'static str,
    case_id: String,
    bundle: ProofBundle,
    check: BundleCheck,
    rows: Vec<EventRow>,
}

pub async fn case_history(State(app): State<AppState>, c: Chrome, person: PersonSession, Path(id): Path<String>) -> PageResult {
    let bundle = crate::api_ledger::case_bundle(&app, &person, &id).await?;
    let check = check_bundle(&bundle, None);
    let rows = bundle
        .entries
        .iter()
        .zip(&check.entries)
        .map(|(p, ch)| {
            let field = |k: &str| p.entry.record.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let kind =
                yiwang_cases::EventKind::parse(&field("kind")).map(|k| k.label_for(&c.en).to_string()).unwrap_or_else(|| field("kind"));
            EventRow {
                at: field("at"),
                kind,
                step: field("step"),
                index: Some(ch.index),
                included: ch.content_matches && ch.included && check.head_signature_valid,
                unchanged: ch.matches_source,
            }
        })
        .chain(bundle.pending.iter().map(|k| EventRow {
            at: String::new(),
            kind: format!("#{k}"),
            step: String::new(),
            index: None,
            included: false,
            unchanged: true,
        }))
        .collect();
    let verdict = if !bundle.entries.is_empty() && !check.all_valid() {
        "failed"
    } else if !bundle.pending.is_empty() {
        "pending"
    } else {
        "verified"
    };
    render(HistoryPage { c, verdict, case_id: id, bundle, check, rows })
}
