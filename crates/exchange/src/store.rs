//! SQL for the exchange (portable: SQLite and PostgreSQL).

use yiwang_crypto::Sealer;
use yiwang_store::sqlx::{self, any::AnyRow, AnyConnection, Row as _};
use yiwang_store::{signing_keys, Dialect, Tx};

use crate::error::{ExchangeError, Result};
use crate::model::*;

/// Bump the generation every gateway compares its cached rules against.
pub(crate) async fn bump(tx: &mut Tx) -> Result<()> {
    sqlx::query("UPDATE exchange_state SET generation = generation + 1 WHERE id = 1").execute(&mut **tx).await?;
    Ok(())
}

pub(crate) async fn generation(c: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT generation FROM exchange_state WHERE id = 1").fetch_one(&mut *c).await?)
}

// ----- resources -----

pub(crate) async fn put_resource(tx: &mut Tx, r: &Resource, actor: &str, now: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO exchange_resources (code, provider_code, sharing_type, doc, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (code) DO UPDATE SET provider_code = excluded.provider_code, sharing_type = excluded.sharing_type,
           doc = excluded.doc, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(&r.code)
    .bind(&r.provider_code)
    .bind(r.sharing_type.number())
    .bind(serde_json::to_string(r)?)
    .bind(now)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    bump(tx).await
}

fn parse_resource(doc: &str) -> Result<Resource> {
    serde_json::from_str(doc).map_err(|e| ExchangeError::Config(format!("信息资源数据损坏：{e}")))
}

pub(crate) async fn resources(c: &mut AnyConnection) -> Result<Vec<Resource>> {
    let docs: Vec<String> = sqlx::query_scalar("SELECT doc FROM exchange_resources ORDER BY code").fetch_all(&mut *c).await?;
    docs.iter().map(|d| parse_resource(d)).collect()
}

// ----- members -----

const MEMBER_COLS: &str = "member_id, department_code, name, public_key, rate_per_sec, disabled_at, created_at, created_by";

fn member_row(r: &AnyRow) -> Result<Member> {
    Ok(Member {
        member_id: r.try_get("member_id")?,
        department_code: r.try_get("department_code")?,
        name: r.try_get("name")?,
        public_key: r.try_get("public_key")?,
        rate_per_sec: u32::try_from(r.try_get::<i64, _>("rate_per_sec")?).unwrap_or(u32::MAX),
        disabled_at: r.try_get("disabled_at")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

pub(crate) async fn insert_member(tx: &mut Tx, m: &Member) -> Result<()> {
    let exists: Option<String> = sqlx::query_scalar("SELECT member_id FROM exchange_members WHERE member_id = $1")
        .bind(&m.member_id)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Err(ExchangeError::Duplicate(m.member_id.clone()));
    }
    sqlx::query(
        "INSERT INTO exchange_members (member_id, department_code, name, public_key, rate_per_sec, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&m.member_id)
    .bind(&m.department_code)
    .bind(&m.name)
    .bind(&m.public_key)
    .bind(i64::from(m.rate_per_sec))
    .bind(&m.created_at)
    .bind(&m.created_by)
    .execute(&mut **tx)
    .await?;
    bump(tx).await
}

/// Replace a member's key or rate, or disable / re-enable it.
pub(crate) async fn update_member(tx: &mut Tx, m: &Member) -> Result<()> {
    sqlx::query("UPDATE exchange_members SET name = $2, public_key = $3, rate_per_sec = $4, disabled_at = $5 WHERE member_id = $1")
        .bind(&m.member_id)
        .bind(&m.name)
        .bind(&m.public_key)
        .bind(i64::from(m.rate_per_sec))
        .bind(&m.disabled_at)
        .execute(&mut **tx)
        .await?;
    bump(tx).await
}

pub(crate) async fn members(c: &mut AnyConnection) -> Result<Vec<Member>> {
    let sql = format!("SELECT {MEMBER_COLS} FROM exchange_members ORDER BY member_id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
    rows.iter().map(member_row).collect()
}

pub(crate) async fn member(c: &mut AnyConnection, id: &str) -> Result<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLS} FROM exchange_members WHERE member_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(member_row).transpose()
}

// ----- grants -----

const GRANT_COLS: &str = "grant_id, member_id, resource_code, purpose, legal_basis, fields, valid_to, rate_per_sec, status, \
                          requested_by, requested_at, decided_by, decided_at, decision_note";

fn grant_row(r: &AnyRow) -> Result<Grant> {
    let status: String = r.try_get("status")?;
    let fields: String = r.try_get("fields")?;
    Ok(Grant {
        grant_id: r.try_get("grant_id")?,
        member_id: r.try_get("member_id")?,
        resource_code: r.try_get("resource_code")?,
        purpose: r.try_get("purpose")?,
        legal_basis: r.try_get("legal_basis")?,
        fields: serde_json::from_str(&fields)?,
        valid_to: r.try_get("valid_to")?,
        rate_per_sec: u32::try_from(r.try_get::<i64, _>("rate_per_sec")?).unwrap_or(u32::MAX),
        status: GrantStatus::parse(&status).ok_or_else(|| ExchangeError::Config(format!("未知申请状态：{status}")))?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        decision_note: r.try_get("decision_note")?,
    })
}

pub(crate) async fn insert_grant(tx: &mut Tx, g: &Grant) -> Result<()> {
    sqlx::query(
        "INSERT INTO exchange_grants (grant_id, member_id, resource_code, purpose, legal_basis, fields, valid_to, rate_per_sec, status,
           requested_by, requested_at, decided_by, decided_at, decision_note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&g.grant_id)
    .bind(&g.member_id)
    .bind(&g.resource_code)
    .bind(&g.purpose)
    .bind(&g.legal_basis)
    .bind(serde_json::to_string(&g.fields)?)
    .bind(&g.valid_to)
    .bind(i64::from(g.rate_per_sec))
    .bind(g.status.key())
    .bind(&g.requested_by)
    .bind(&g.requested_at)
    .bind(&g.decided_by)
    .bind(&g.decided_at)
    .bind(&g.decision_note)
    .execute(&mut **tx)
    .await?;
    bump(tx).await
}

/// Move a grant from `from` to `g.status`; false when it was no longer in `from`.
pub(crate) async fn decide_grant(tx: &mut Tx, g: &Grant, from: GrantStatus) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE exchange_grants SET status = $2, decided_by = $3, decided_at = $4, decision_note = $5 WHERE grant_id = $1 AND status = $6",
    )
    .bind(&g.grant_id)
    .bind(g.status.key())
    .bind(&g.decided_by)
    .bind(&g.decided_at)
    .bind(&g.decision_note)
    .bind(from.key())
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 1 {
        bump(tx).await?;
    }
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn grant(c: &mut AnyConnection, id: &str) -> Result<Option<Grant>> {
    let sql = format!("SELECT {GRANT_COLS} FROM exchange_grants WHERE grant_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(grant_row).transpose()
}

pub(crate) async fn grants(c: &mut AnyConnection) -> Result<Vec<Grant>> {
    let sql = format!("SELECT {GRANT_COLS} FROM exchange_grants ORDER BY requested_at DESC, grant_id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
    rows.iter().map(grant_row).collect()
}

// ----- shared store -----

/// Subjects of the log and the shared store are kept as blind indexes, the numbers sealed
/// beside them (log) or the records sealed under them (shared store).
const SUBJECT: &str = "exchange.subject";
const SUBJECT_ENC: &str = "exchange_log.subject";
const RECORD: &str = "exchange_records.record";

/// The key a subject is stored under: its blind index when sealing, else itself.
fn subject_key(k: &Sealer, subject: &str) -> String {
    k.index(SUBJECT, subject).unwrap_or_else(|| subject.to_string())
}

pub(crate) async fn put_records(tx: &mut Tx, k: &Sealer, resource: &str, records: &[(String, String)], now: &str) -> Result<()> {
    for (subject, record) in records {
        let key = subject_key(k, subject);
        let record = k.seal(RECORD, &format!("{resource}:{key}"), record)?;
        sqlx::query(
            "INSERT INTO exchange_records (resource_code, subject, record, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (resource_code, subject) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at",
        )
        .bind(resource)
        .bind(&key)
        .bind(record)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(crate) async fn record(c: &mut AnyConnection, k: &Sealer, resource: &str, subject: &str) -> Result<Option<String>> {
    let key = subject_key(k, subject);
    let stored: Option<String> = sqlx::query_scalar("SELECT record FROM exchange_records WHERE resource_code = $1 AND subject = $2")
        .bind(resource)
        .bind(&key)
        .fetch_optional(&mut *c)
        .await?;
    Ok(stored.map(|r| k.open(RECORD, &format!("{resource}:{key}"), r)).transpose()?)
}

/// Seal shared-store records and log subjects stored before encryption at rest (start-up).
/// The log's batch digests and signatures cover the opened values, so they still verify.
pub(crate) async fn protect_rows(db: &yiwang_store::Db, k: &Sealer) -> Result<u64> {
    if !k.enabled() {
        return Ok(0);
    }
    let records = sqlx::query("SELECT resource_code, subject, record FROM exchange_records WHERE subject NOT LIKE 'bi1:%'")
        .fetch_all(db.reader())
        .await?;
    let logs = sqlx::query("SELECT exchange_id, subject FROM exchange_log WHERE subject_enc IS NULL").fetch_all(db.reader()).await?;
    if records.is_empty() && logs.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    for r in &records {
        let (resource, subject, record): (String, String, String) =
            (r.try_get("resource_code")?, r.try_get("subject")?, r.try_get("record")?);
        let key = subject_key(k, &subject);
        let sealed = k.seal(RECORD, &format!("{resource}:{key}"), &record)?;
        sqlx::query("UPDATE exchange_records SET subject = $1, record = $2 WHERE resource_code = $3 AND subject = $4")
            .bind(&key)
            .bind(sealed)
            .bind(&resource)
            .bind(&subject)
            .execute(&mut *tx)
            .await?;
    }
    for r in &logs {
        let (id, subject): (String, String) = (r.try_get("exchange_id")?, r.try_get("subject")?);
        let sealed = k.seal(SUBJECT_ENC, &id, &subject)?;
        sqlx::query("UPDATE exchange_log SET subject = $1, subject_enc = $2 WHERE exchange_id = $3 AND subject_enc IS NULL")
            .bind(subject_key(k, &subject))
            .bind(sealed)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((records.len() + logs.len()) as u64)
}

pub(crate) async fn record_count(c: &mut AnyConnection, resource: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM exchange_records WHERE resource_code = $1").bind(resource).fetch_one(&mut *c).await?)
}

// ----- keys -----

/// Every gateway key, oldest first, with its sealed private half.
pub(crate) async fn keys_sealed(c: &mut AnyConnection) -> Result<Vec<(GatewayKey, String)>> {
    Ok(signing_keys::all(c, "exchange_keys")
        .await?
        .into_iter()
        .map(|k| {
            let key = GatewayKey {
                key_id: k.key_id,
                algorithm: k.algorithm,
                public_key: k.public_key,
                created_at: k.created_at,
                retired_at: k.retired_at,
            };
            (key, k.private_key)
        })
        .collect())
}

/// The newest key in force, with its sealed private half.
pub(crate) async fn active_key(c: &mut AnyConnection) -> Result<Option<(GatewayKey, String)>> {
    Ok(keys_sealed(c).await?.into_iter().rev().find(|(k, _)| k.retired_at.is_none()))
}

pub(crate) async fn insert_key(tx: &mut Tx, k: &GatewayKey, sealed: &str) -> Result<()> {
    let row = signing_keys::StoredKey {
        key_id: k.key_id.clone(),
        algorithm: k.algorithm.clone(),
        public_key: k.public_key.clone(),
        private_key: sealed.to_string(),
        created_at: k.created_at.clone(),
        retired_at: None,
    };
    Ok(signing_keys::insert(tx, "exchange_keys", &row).await?)
}

pub(crate) async fn keys(c: &mut AnyConnection) -> Result<Vec<GatewayKey>> {
    Ok(keys_sealed(c).await?.into_iter().map(|(k, _)| k).collect())
}

// ----- log -----

pub(crate) const LOG_COLS: &str = "exchange_id, at, channel, consumer, consumer_department, resource_code, provider_department, subject, \
     subject_enc, purpose, case_number, grant_id, result, fields, bytes, body_hash, latency_us, request_id, key_id, signature";

/// Columns an insert writes (the batch first) and their SQL types, in order.
const LOG_TYPES: [(&str, &str); 21] = [
    ("batch_id", "text"),
    ("exchange_id", "text"),
    ("at", "text"),
    ("channel", "text"),
    ("consumer", "text"),
    ("consumer_department", "text"),
    ("resource_code", "text"),
    ("provider_department", "text"),
    ("subject", "text"),
    ("subject_enc", "text"),
    ("purpose", "text"),
    ("case_number", "text"),
    ("grant_id", "text"),
    ("result", "text"),
    ("fields", "text"),
    ("bytes", "bigint"),
    ("body_hash", "text"),
    ("latency_us", "bigint"),
    ("request_id", "text"),
    ("key_id", "text"),
    ("signature", "text"),
];

/// One statement for a whole batch, its own transaction: the batch row (which the ledger
/// records) and all its access rows, which arrive as one JSON array parameter. Binds: batch id,
/// time, count, digest, rows. One prepared statement and one round trip for any batch size.
pub(crate) fn insert_log_sql(dialect: Dialect) -> String {
    match dialect {
        // Through the view's INSTEAD OF trigger ([`intake_sql`]): SQLite has no DML in WITH.
        Dialect::Sqlite => "INSERT INTO exchange_log_intake (batch_id, at, records, digest, rows_json) VALUES ($1, $2, $3, $4, $5)".into(),
        Dialect::Postgres => {
            let cols: Vec<String> = LOG_TYPES.iter().map(|(c, t)| format!("{c} {t}")).collect();
            format!(
                "WITH b AS (INSERT INTO exchange_log_batches (batch_id, at, records, digest) VALUES ($1, $2, $3, $4)) \
                 INSERT INTO exchange_log (batch_id, {LOG_COLS}) SELECT batch_id, {LOG_COLS} FROM json_to_recordset($5::json) AS x({})",
                cols.join(", ")
            )
        }
    }
}

/// SQLite: the intake view and its trigger, replaced at every start (like the ledger's).
pub(crate) fn intake_sql() -> String {
    let cols: Vec<String> = LOG_TYPES.iter().map(|(c, _)| format!("value ->> '{c}'")).collect();
    // jsonb_each hands each row over as binary JSON, so the ->> lookups need no re-parsing.
    format!(
        "CREATE VIEW IF NOT EXISTS exchange_log_intake AS SELECT batch_id, at, records, digest, '' AS rows_json FROM exchange_log_batches WHERE 0;
         DROP TRIGGER IF EXISTS exchange_log_intake_insert;
         CREATE TRIGGER exchange_log_intake_insert INSTEAD OF INSERT ON exchange_log_intake BEGIN
           INSERT INTO exchange_log_batches (batch_id, at, records, digest) VALUES (NEW.batch_id, NEW.at, NEW.records, NEW.digest);
           INSERT INTO exchange_log (batch_id, {LOG_COLS}) SELECT {} FROM jsonb_each(NEW.rows_json);
         END;",
        cols.join(", ")
    )
}

/// The batch as the JSON array [`insert_log_sql`] reads.
pub(crate) fn log_rows_json(k: &Sealer, batch_id: &str, rows: &[AccessRecord]) -> Result<String> {
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            Ok(serde_json::json!({
                "batch_id": batch_id,
                "exchange_id": r.exchange_id,
                "at": r.at,
                "channel": r.channel.key(),
                "consumer": r.consumer,
                "consumer_department": r.consumer_department,
                "resource_code": r.resource_code,
                "provider_department": r.provider_department,
                "subject": subject_key(k, &r.subject),
                "subject_enc": if k.enabled() { Some(k.seal(SUBJECT_ENC, &r.exchange_id, &r.subject)?) } else { None },
                "purpose": r.purpose,
                "case_number": r.case_number,
                "grant_id": r.grant_id,
                "result": r.result.key(),
                "fields": serde_json::to_string(&r.fields)?,
                "bytes": r.bytes,
                "body_hash": r.body_hash,
                "latency_us": r.latency_us,
                "request_id": r.request_id,
                "key_id": r.key_id,
                "signature": r.signature,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(serde_json::to_string(&list)?)
}

/// Log batches in order: id, record count, digest.
pub(crate) async fn batches(c: &mut AnyConnection) -> Result<Vec<(String, i64, String)>> {
    let rows = sqlx::query("SELECT batch_id, records, digest FROM exchange_log_batches ORDER BY batch_id").fetch_all(&mut *c).await?;
    rows.iter().map(|r| Ok((r.try_get("batch_id")?, r.try_get("records")?, r.try_get("digest")?))).collect()
}

/// The rows of one batch in exchange_id order.
pub(crate) async fn batch_rows(c: &mut AnyConnection, k: &Sealer, batch_id: &str) -> Result<Vec<AccessRecord>> {
    let sql = format!("SELECT {LOG_COLS} FROM exchange_log WHERE batch_id = $1 ORDER BY exchange_id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(batch_id).fetch_all(&mut *c).await?;
    rows.iter().map(|r| log_row(r, k)).collect()
}

/// Rows whose batch is not recorded (inserted around the gateway), at most `limit`.
pub(crate) async fn unbatched(c: &mut AnyConnection, limit: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT exchange_id FROM exchange_log WHERE batch_id NOT IN (SELECT batch_id FROM exchange_log_batches) ORDER BY exchange_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *c)
    .await?)
}

fn log_row(r: &AnyRow, k: &Sealer) -> Result<AccessRecord> {
    let channel: String = r.try_get("channel")?;
    let exchange_id: String = r.try_get("exchange_id")?;
    let subject = match r.try_get::<Option<String>, _>("subject_enc")? {
        Some(sealed) => k.open(SUBJECT_ENC, &exchange_id, sealed)?,
        None => r.try_get("subject")?,
    };
    let result: String = r.try_get("result")?;
    let fields: String = r.try_get("fields")?;
    Ok(AccessRecord {
        exchange_id,
        at: r.try_get("at")?,
        channel: Channel::parse(&channel).ok_or_else(|| ExchangeError::Config(format!("未知渠道：{channel}")))?,
        consumer: r.try_get("consumer")?,
        consumer_department: r.try_get("consumer_department")?,
        resource_code: r.try_get("resource_code")?,
        provider_department: r.try_get("provider_department")?,
        subject,
        purpose: r.try_get("purpose")?,
        case_number: r.try_get("case_number")?,
        grant_id: r.try_get("grant_id")?,
        result: Outcome::parse(&result).ok_or_else(|| ExchangeError::Config(format!("未知结果：{result}")))?,
        fields: serde_json::from_str(&fields)?,
        bytes: r.try_get("bytes")?,
        body_hash: r.try_get("body_hash")?,
        latency_us: r.try_get("latency_us")?,
        request_id: r.try_get("request_id")?,
        key_id: r.try_get("key_id")?,
        signature: r.try_get("signature")?,
    })
}

pub(crate) async fn log_entry(c: &mut AnyConnection, k: &Sealer, id: &str) -> Result<Option<AccessRecord>> {
    let sql = format!("SELECT {LOG_COLS} FROM exchange_log WHERE exchange_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(|r| log_row(r, k)).transpose()
}

/// Exchanges about one subject, newest first.
pub(crate) async fn log_for_subject(c: &mut AnyConnection, k: &Sealer, subject: &str, limit: i64) -> Result<Vec<AccessRecord>> {
    let sql = format!("SELECT {LOG_COLS} FROM exchange_log WHERE subject = $1 ORDER BY at DESC, exchange_id DESC LIMIT $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(subject_key(k, subject)).bind(limit).fetch_all(&mut *c).await?;
    rows.iter().map(|r| log_row(r, k)).collect()
}

/// The newest exchanges, optionally of one department (as consumer or provider).
pub(crate) async fn recent_log(c: &mut AnyConnection, k: &Sealer, department: Option<&str>, limit: i64) -> Result<Vec<AccessRecord>> {
    let rows = match department {
        Some(d) => {
            let sql = format!(
                "SELECT {LOG_COLS} FROM exchange_log WHERE consumer_department = $1 OR provider_department = $1 ORDER BY at DESC LIMIT $2"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(d).bind(limit).fetch_all(&mut *c).await?
        }
        None => {
            let sql = format!("SELECT {LOG_COLS} FROM exchange_log ORDER BY at DESC LIMIT $1");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&mut *c).await?
        }
    };
    rows.iter().map(|r| log_row(r, k)).collect()
}

pub(crate) async fn stats(c: &mut AnyConnection) -> Result<Vec<Stat>> {
    let rows = sqlx::query(
        "SELECT resource_code, consumer, COUNT(*) AS calls,
                SUM(CASE WHEN result IN ('denied', 'provider_error') THEN 1 ELSE 0 END) AS errors,
                SUM(CASE WHEN result = 'denied' THEN 1 ELSE 0 END) AS denied,
                CAST(AVG(latency_us) AS BIGINT) AS avg_latency, MAX(latency_us) AS max_latency, CAST(SUM(bytes) AS BIGINT) AS bytes
         FROM exchange_log WHERE channel <> 'workbench' GROUP BY resource_code, consumer ORDER BY resource_code, consumer",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Stat {
                resource_code: r.try_get("resource_code")?,
                consumer: r.try_get("consumer")?,
                calls: r.try_get("calls")?,
                errors: r.try_get("errors")?,
                denied: r.try_get("denied")?,
                avg_latency_us: r.try_get("avg_latency")?,
                max_latency_us: r.try_get("max_latency")?,
                bytes: r.try_get("bytes")?,
            })
        })
        .collect()
}
