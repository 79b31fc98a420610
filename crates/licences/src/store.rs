//! SQL for licences, seals, copies and uses (portable: SQLite and PostgreSQL).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use yiwang_crypto::Sealer;
use yiwang_store::sqlx::{self, any::AnyRow, AnyConnection, Row as _};
use yiwang_store::Tx;

use crate::crypto::Algorithm;
use crate::error::{LicenceError, Result};
use crate::model::*;

pub(crate) async fn put_type(tx: &mut Tx, t: &LicenceType, now: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO licence_types (code, doc, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
    )
    .bind(&t.code)
    .bind(serde_json::to_string(t)?)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn parse_type(doc: &str) -> Result<LicenceType> {
    serde_json::from_str(doc).map_err(|e| LicenceError::Config(format!("证照类型数据损坏：{e}")))
}

pub(crate) async fn types(c: &mut AnyConnection) -> Result<Vec<LicenceType>> {
    let docs: Vec<String> = sqlx::query_scalar("SELECT doc FROM licence_types ORDER BY code").fetch_all(&mut *c).await?;
    docs.iter().map(|d| parse_type(d)).collect()
}

pub(crate) async fn licence_type(c: &mut AnyConnection, code: &str) -> Result<Option<LicenceType>> {
    let doc: Option<String> =
        sqlx::query_scalar("SELECT doc FROM licence_types WHERE code = $1").bind(code).fetch_optional(&mut *c).await?;
    doc.as_deref().map(parse_type).transpose()
}

// ----- seals -----

const SEAL_COLS: &str = "seal_id, department_code, department_name, name, algorithm, public_key, valid_from, retired_at, revoked_at";

fn seal_row(r: &AnyRow) -> Result<Seal> {
    let alg: String = r.try_get("algorithm")?;
    Ok(Seal {
        seal_id: r.try_get("seal_id")?,
        department_code: r.try_get("department_code")?,
        department_name: r.try_get("department_name")?,
        name: r.try_get("name")?,
        algorithm: Algorithm::parse(&alg).ok_or_else(|| LicenceError::Config(format!("未知印章算法：{alg}")))?,
        public_key: r.try_get("public_key")?,
        valid_from: r.try_get("valid_from")?,
        retired_at: r.try_get("retired_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub(crate) async fn active_seal(tx: &mut Tx, department: &str, alg: Algorithm) -> Result<Option<(Seal, String)>> {
    let sql = format!(
        "SELECT {SEAL_COLS}, private_key FROM seals WHERE department_code = $1 AND algorithm = $2 AND retired_at IS NULL AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(department).bind(alg.key()).fetch_optional(&mut **tx).await?;
    row.map(|r| Ok((seal_row(&r)?, r.try_get("private_key")?))).transpose()
}

pub(crate) async fn seal_count(tx: &mut Tx, department: &str, alg: Algorithm) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM seals WHERE department_code = $1 AND algorithm = $2")
        .bind(department)
        .bind(alg.key())
        .fetch_one(&mut **tx)
        .await?)
}

pub(crate) async fn insert_seal(tx: &mut Tx, s: &Seal, sealed_private_key: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO seals (seal_id, department_code, department_name, name, algorithm, public_key, private_key, valid_from, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&s.seal_id)
    .bind(&s.department_code)
    .bind(&s.department_name)
    .bind(&s.name)
    .bind(s.algorithm.key())
    .bind(&s.public_key)
    .bind(sealed_private_key)
    .bind(&s.valid_from)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn retire_seals(tx: &mut Tx, department: &str, alg: Algorithm, now: &str) -> Result<()> {
    sqlx::query(
        "UPDATE seals SET retired_at = $1 WHERE department_code = $2 AND algorithm = $3 AND retired_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(department)
    .bind(alg.key())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn revoke_seal(tx: &mut Tx, department: &str, seal_id: &str, now: &str) -> Result<bool> {
    let r = sqlx::query("UPDATE seals SET revoked_at = $1 WHERE seal_id = $2 AND department_code = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(seal_id)
        .bind(department)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn seals(c: &mut AnyConnection, department: Option<&str>) -> Result<Vec<Seal>> {
    let rows = match department {
        Some(d) => {
            let sql = format!("SELECT {SEAL_COLS} FROM seals WHERE department_code = $1 ORDER BY created_at");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(d).fetch_all(&mut *c).await?
        }
        None => {
            let sql = format!("SELECT {SEAL_COLS} FROM seals ORDER BY department_code, created_at");
            sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?
        }
    };
    rows.iter().map(seal_row).collect()
}

pub(crate) async fn seal(c: &mut AnyConnection, seal_id: &str) -> Result<Option<Seal>> {
    let sql = format!("SELECT {SEAL_COLS} FROM seals WHERE seal_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(seal_id).fetch_optional(&mut *c).await?;
    row.as_ref().map(seal_row).transpose()
}

// ----- licences -----

pub(crate) async fn next_serial(tx: &mut Tx, type_code: &str, issuer: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO licence_serials (type_code, issuer_code, last_no) VALUES ($1, $2, 1)
         ON CONFLICT (type_code, issuer_code) DO UPDATE SET last_no = licence_serials.last_no + 1 RETURNING last_no",
    )
    .bind(type_code)
    .bind(issuer)
    .fetch_one(&mut **tx)
    .await?)
}

/// Holders are filed under the blind index of their ID number or credit code, and the signed
/// document (which names the holder) is sealed under the licence's identifier. Verification
/// opens it and checks the signature over the document as signed.
const HOLDER: &str = "licence.holder";
const DOCUMENT: &str = "licences.document";

/// The key a holder's rows are filed under: the blind index when sealing, else the number.
pub(crate) fn holder_key(k: &Sealer, holder_id: &str) -> String {
    k.index(HOLDER, holder_id).unwrap_or_else(|| holder_id.to_string())
}

/// Seal licences and copies stored before encryption at rest (start-up). Licence uses keep
/// their rows: the ledger records that table as insert-only.
pub(crate) async fn protect_rows(db: &yiwang_store::Db, k: &Sealer) -> Result<u64> {
    if !k.enabled() {
        return Ok(0);
    }
    let rows = sqlx::query("SELECT identifier, holder_id, document FROM licences WHERE document NOT LIKE 'sm4gcm1:%'")
        .fetch_all(db.reader())
        .await?;
    let copies: Vec<(String, String)> =
        sqlx::query_as("SELECT token, holder_id FROM licence_copies WHERE holder_id NOT LIKE 'bi1:%'").fetch_all(db.reader()).await?;
    if rows.is_empty() && copies.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    for r in &rows {
        let (id, holder, document): (String, String, String) = (r.try_get("identifier")?, r.try_get("holder_id")?, r.try_get("document")?);
        sqlx::query("UPDATE licences SET holder_id = $1, document = $2 WHERE identifier = $3 AND document = $4")
            .bind(holder_key(k, &holder))
            .bind(k.seal(DOCUMENT, &id, &document)?)
            .bind(&id)
            .bind(&document)
            .execute(&mut *tx)
            .await?;
    }
    for (token, holder) in &copies {
        sqlx::query("UPDATE licence_copies SET holder_id = $1 WHERE token = $2")
            .bind(holder_key(k, holder))
            .bind(token)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((rows.len() + copies.len()) as u64)
}

pub(crate) async fn insert_licence(tx: &mut Tx, k: &Sealer, l: &Licence, serial: &str) -> Result<()> {
    let d = &l.document;
    sqlx::query(
        "INSERT INTO licences (identifier, type_code, issuer_code, serial, version, holder_id, holder_name, type_name, number, issuer_name,
             issue_date, valid_to, status, case_id, document, signature, seal_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'valid', $13, $14, $15, $16, $17)",
    )
    .bind(&d.identifier)
    .bind(&d.type_code)
    .bind(&d.issuer_code)
    .bind(serial)
    .bind(d.version as i64)
    .bind(holder_key(k, &d.holder_id))
    .bind(&d.holder_name)
    .bind(&d.type_name)
    .bind(&d.number)
    .bind(&d.issuer_name)
    .bind(&d.issue_date)
    .bind(Some(d.valid_to.clone()).filter(|s| !s.is_empty()))
    .bind(&l.case_id)
    .bind(k.seal(DOCUMENT, &d.identifier, &l.canonical)?)
    .bind(B64.encode(&l.signature))
    .bind(&d.seal_id)
    .bind(&d.issued_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn mark_superseded(tx: &mut Tx, old: &str, new: &str, now: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE licences SET status = 'superseded', superseded_by = $1, status_at = $2, status_reason = '换发' WHERE identifier = $3 AND status = 'valid'",
    )
    .bind(new)
    .bind(now)
    .bind(old)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn revoke(tx: &mut Tx, identifier: &str, reason: &str, now: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE licences SET status = 'revoked', status_reason = $1, status_at = $2 WHERE identifier = $3 AND status = 'valid'",
    )
    .bind(reason)
    .bind(now)
    .bind(identifier)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

fn licence_row(r: &AnyRow, k: &Sealer) -> Result<Licence> {
    let identifier: String = r.try_get("identifier")?;
    let canonical = k.open(DOCUMENT, &identifier, r.try_get("document")?)?;
    let document: Document = serde_json::from_str(&canonical).map_err(|e| LicenceError::Config(format!("证照数据损坏：{e}")))?;
    let status: String = r.try_get("status")?;
    let sig: String = r.try_get("signature")?;
    Ok(Licence {
        document,
        status: LicenceStatus::parse(&status).unwrap_or(LicenceStatus::Revoked),
        status_reason: r.try_get("status_reason")?,
        superseded_by: r.try_get("superseded_by")?,
        case_id: r.try_get("case_id")?,
        canonical,
        // A signature column that is not base64 simply fails verification.
        signature: B64.decode(sig).unwrap_or_default(),
    })
}

const LICENCE_COLS: &str = "identifier, document, signature, status, status_reason, superseded_by, case_id";

pub(crate) async fn licence(c: &mut AnyConnection, k: &Sealer, identifier: &str) -> Result<Option<Licence>> {
    let sql = format!("SELECT {LICENCE_COLS} FROM licences WHERE identifier = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(identifier).fetch_optional(&mut *c).await?;
    row.as_ref().map(|r| licence_row(r, k)).transpose()
}

/// The holder's valid licence of a type from an issuer (replaced by a new version on 换领).
pub(crate) async fn current_of(tx: &mut Tx, k: &Sealer, holder_id: &str, type_code: &str, issuer: &str) -> Result<Option<Licence>> {
    let sql = format!(
        "SELECT {LICENCE_COLS} FROM licences WHERE holder_id = $1 AND type_code = $2 AND issuer_code = $3 AND status = 'valid' ORDER BY created_at DESC LIMIT 1"
    );
    let row =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(holder_key(k, holder_id)).bind(type_code).bind(issuer).fetch_optional(&mut **tx).await?;
    row.as_ref().map(|r| licence_row(r, k)).transpose()
}

/// Current valid licences of a holder of the given types, newest first, with their seal.
pub(crate) async fn held_of_types(tx: &mut Tx, k: &Sealer, holder_id: &str, types: &[String], today: &str) -> Result<Vec<(Licence, Seal)>> {
    if types.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT l.identifier, l.document, l.signature, l.status, l.status_reason, l.superseded_by, l.case_id, s.{} FROM licences l JOIN seals s ON s.seal_id = l.seal_id
         WHERE l.holder_id = $1 AND l.status = 'valid' AND (l.valid_to IS NULL OR l.valid_to >= $2) AND l.type_code IN ({})
         ORDER BY l.created_at DESC",
        SEAL_COLS.replace(", ", ", s."),
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(holder_key(k, holder_id)).bind(today);
    for t in types {
        q = q.bind(t);
    }
    let rows = q.fetch_all(&mut **tx).await?;
    rows.iter().map(|r| Ok((licence_row(r, k)?, seal_row(r)?))).collect()
}

pub(crate) async fn summaries(c: &mut AnyConnection, by: &'static str, value: &str, limit: i64) -> Result<Vec<LicenceSummary>> {
    let sql = format!(
        "SELECT identifier, type_code, type_name, number, issuer_name, issue_date, valid_to, holder_name, status, version
         FROM licences WHERE {by} = $1 ORDER BY created_at DESC LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value).bind(limit).fetch_all(&mut *c).await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            let version: i64 = r.try_get("version")?;
            Ok(LicenceSummary {
                identifier: r.try_get("identifier")?,
                type_code: r.try_get("type_code")?,
                type_name: r.try_get("type_name")?,
                number: r.try_get("number")?,
                issuer_name: r.try_get("issuer_name")?,
                issue_date: r.try_get("issue_date")?,
                valid_to: r.try_get("valid_to")?,
                holder_name: r.try_get("holder_name")?,
                status: LicenceStatus::parse(&status).unwrap_or(LicenceStatus::Revoked),
                version: version as u32,
            })
        })
        .collect()
}

// ----- copies and uses -----

pub(crate) async fn insert_copy(tx: &mut Tx, k: &Sealer, c: &AnnotatedCopy, holder_id: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO licence_copies (token, identifier, holder_id, purpose, recipient, made_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.token)
    .bind(&c.identifier)
    .bind(holder_key(k, holder_id))
    .bind(&c.purpose)
    .bind(&c.recipient)
    .bind(&c.made_by)
    .bind(&c.created_at)
    .bind(&c.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const COPY_COLS: &str = "c.token, c.identifier, l.type_name, c.purpose, c.recipient, c.made_by, c.created_at, c.expires_at, c.used_at";

fn copy_row(r: &AnyRow) -> Result<AnnotatedCopy> {
    Ok(AnnotatedCopy {
        token: r.try_get("token")?,
        identifier: r.try_get("identifier")?,
        type_name: r.try_get("type_name")?,
        purpose: r.try_get("purpose")?,
        recipient: r.try_get("recipient")?,
        made_by: r.try_get("made_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
    })
}

pub(crate) async fn copy(c: &mut AnyConnection, token: &str) -> Result<Option<AnnotatedCopy>> {
    let sql = format!("SELECT {COPY_COLS} FROM licence_copies c JOIN licences l ON l.identifier = c.identifier WHERE c.token = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token).fetch_optional(&mut *c).await?;
    row.as_ref().map(copy_row).transpose()
}

pub(crate) async fn copies_of(c: &mut AnyConnection, identifier: &str) -> Result<Vec<AnnotatedCopy>> {
    let sql = format!(
        "SELECT {COPY_COLS} FROM licence_copies c JOIN licences l ON l.identifier = c.identifier WHERE c.identifier = $1 ORDER BY c.created_at DESC LIMIT 100"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(identifier).fetch_all(&mut *c).await?;
    rows.iter().map(copy_row).collect()
}

/// Mark a copy used; false when someone else used it first.
pub(crate) async fn consume_copy(tx: &mut Tx, token: &str, now: &str) -> Result<bool> {
    let r = sqlx::query("UPDATE licence_copies SET used_at = $1 WHERE token = $2 AND used_at IS NULL AND expires_at > $1")
        .bind(now)
        .bind(token)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn record_use(
    tx: &mut Tx,
    k: &Sealer,
    identifier: &str,
    holder_id: &str,
    u: &yiwang_cases::LicenceUsage,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO licence_uses (identifier, holder_id, case_id, used_by, department_code, purpose, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(identifier)
    .bind(holder_key(k, holder_id))
    .bind(Some(u.case_id.clone()).filter(|s| !s.is_empty()))
    .bind(&u.used_by)
    .bind(Some(u.department_code.clone()).filter(|s| !s.is_empty()))
    .bind(&u.purpose)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn uses(c: &mut AnyConnection, identifier: &str) -> Result<Vec<LicenceUse>> {
    let rows = sqlx::query(
        "SELECT at, used_by, department_code, case_id, purpose FROM licence_uses WHERE identifier = $1 ORDER BY id DESC LIMIT 200",
    )
    .bind(identifier)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LicenceUse {
                at: r.try_get("at")?,
                used_by: r.try_get("used_by")?,
                department_code: r.try_get("department_code")?,
                case_id: r.try_get("case_id")?,
                purpose: r.try_get("purpose")?,
            })
        })
        .collect()
}
