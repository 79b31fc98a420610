//! JSON API of the tamper-evident ledger: public log endpoints in the manner of Certificate
//! Transparency (heads, leaves without records, inclusion and consistency proofs) and, for an
//! applicant, the proof bundle of their case's history.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use yiwang_identity::AgentScope;
use yiwang_ledger::{ConsistencyProof, Envelope, InclusionProof, LogInfo, ProofBundle, SignedHead};

use crate::api_cases::applicant;
use crate::auth::PersonSession;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::AppState;

/// The log: hash, size, latest signed head and signing keys.
#[utoipa::path(get, path = "/api/v1/ledger", tag = "ledger", responses((status = 200, body = LogInfo)))]
pub async fn info(State(app): State<AppState>) -> ApiResult<Json<LogInfo>> {
    Ok(Json(app.ledger.info().await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HeadsQuery {
    /// Most recent first; default 100, at most 10,000.
    pub limit: Option<i64>,
}

/// Signed tree heads, newest first.
#[utoipa::path(get, path = "/api/v1/ledger/heads", tag = "ledger", params(HeadsQuery), responses((status = 200, body = Vec<SignedHead>)))]
pub async fn heads(State(app): State<AppState>, Query(q): Query<HeadsQuery>) -> ApiResult<Json<Vec<SignedHead>>> {
    Ok(Json(app.ledger.heads(q.limit.unwrap_or(100)).await?))
}

/// A fresh signed head on demand (at most one a second; the latest when the log has not grown).
#[utoipa::path(post, path = "/api/v1/ledger/heads", tag = "ledger", responses((status = 200, body = SignedHead), (status = 404, body = ErrorBody)))]
pub async fn publish(State(app): State<AppState>) -> ApiResult<Json<SignedHead>> {
    if let Err(e) = app.ledger.sequence_now().await {
        tracing::warn!(error = %e, "sequencing before an on-demand head failed");
    }
    let head = app.ledger.publish_on_demand().await?;
    Ok(Json(head.ok_or(yiwang_ledger::LedgerError::NotFound)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LeavesQuery {
    pub start: u64,
    /// Exclusive; at most 1,000 leaves per call.
    pub end: u64,
}

/// Leaves `[start, end)` without their records: what the leaf hashes cover, for monitors.
#[utoipa::path(get, path = "/api/v1/ledger/leaves", tag = "ledger", params(LeavesQuery), responses((status = 200, body = Vec<Envelope>)))]
pub async fn leaves(State(app): State<AppState>, Query(q): Query<LeavesQuery>) -> ApiResult<Json<Vec<Envelope>>> {
    Ok(Json(app.ledger.leaves(q.start, q.end).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct InclusionQuery {
    /// Leaf position.
    pub index: u64,
    pub tree_size: u64,
}

/// Audit path of one leaf in the tree of `tree_size` leaves.
#[utoipa::path(get, path = "/api/v1/ledger/proofs/inclusion", tag = "ledger", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 400, body = ErrorBody)))]
pub async fn inclusion(State(app): State<AppState>, Query(q): Query<InclusionQuery>) -> ApiResult<Json<InclusionProof>> {
    Ok(Json(app.ledger.inclusion(q.index, q.tree_size).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

/// Proof that the tree of `first` leaves is a prefix of the tree of `second` leaves.
#[utoipa::path(get, path = "/api/v1/ledger/proofs/consistency", tag = "ledger", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = ErrorBody)))]
pub async fn consistency(State(app): State<AppState>, Query(q): Query<ConsistencyQuery>) -> ApiResult<Json<ConsistencyProof>> {
    Ok(Json(app.ledger.consistency(q.first, q.second).await?))
}

/// The proof bundle of a case's history for its owner: every timeline event's ledger record
/// with its inclusion proof against a signed head, and the key that signed the head.
pub async fn case_bundle(app: &AppState, person: &PersonSession, id: &str) -> Result<ProofBundle, AppError> {
    let a = applicant(person, AgentScope::View)?;
    let case = app.cases.case_for_owner(&a, id).await?;
    let view = app.cases.view(case).await?;
    let keys: Vec<String> = view.timeline.iter().filter_map(|e| e.id).map(|i| i.to_string()).collect();
    Ok(app.ledger.prove("case_event", &keys).await?)
}

/// "Verify this history": the case's events with their inclusion proofs (check offline with
/// `tools/ledger_verify.py bundle FILE`).
#[utoipa::path(get, path = "/api/v1/cases/{id}/ledger", tag = "ledger",
    responses((status = 200, body = ProofBundle), (status = 404, body = ErrorBody)))]
pub async fn my_case_bundle(State(app): State<AppState>, person: PersonSession, Path(id): Path<String>) -> ApiResult<Json<ProofBundle>> {
    Ok(Json(case_bundle(&app, &person, &id).await?))
}
