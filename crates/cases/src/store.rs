//! SQL for cases: loading, and writing a [`Change`] under the optimistic lock.

use yiwang_store::sqlx::{self, AnyConnection, Row as _};
use yiwang_store::{Row, Tx};

use crate::engine::{Change, Notice};
use crate::error::{CaseError, Result};
use crate::form::Values;
use crate::model::*;

/// Personal data in case rows (ID numbers, phones, the form, the delivery address) is sealed
/// at rest, bound to the column and the case ([`Sealer`]).
pub(crate) use yiwang_crypto::Sealer;

pub(crate) const CASE_COLUMNS: &str = "case_id, case_number, target_kind, target_code, title, lead_department, lead_department_name, owner, account,
    applicant_kind, applicant_name, applicant_id_number, contact_phone, channel, status, outcome, form, delivery, delivery_address,
    submitted_at, accepted_at, concluded_at, due_date, paused_since, corrections, correction_note, decision_note, fee_fen, version, created_at, updated_at";

fn text(r: &Row, c: &str) -> Result<String> {
    r.try_get::<String, _>(c).map_err(CaseError::from)
}

fn opt(r: &Row, c: &str) -> Result<Option<String>> {
    r.try_get::<Option<String>, _>(c).map_err(CaseError::from)
}

/// A column holding one of a vocabulary's keys.
fn key_col<T>(r: &Row, c: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
    let v = text(r, c)?;
    parse(&v).ok_or_else(|| bad(c, &v))
}

fn bad(what: &str, v: &str) -> CaseError {
    CaseError::Config(format!("数据库中的{what}无效：{v}"))
}

pub(crate) fn case_from(r: &Row, k: &Sealer) -> Result<Case> {
    let s = |c: &str| text(r, c);
    let o = |c: &str| opt(r, c);
    let id = s("case_id")?;
    let form: Values = serde_json::from_str(&k.open("cases.form", &id, s("form")?)?)?;
    Ok(Case {
        case_id: s("case_id")?,
        case_number: o("case_number")?,
        target_kind: s("target_kind")?,
        target_code: s("target_code")?,
        title: s("title")?,
        lead_department: s("lead_department")?,
        lead_department_name: s("lead_department_name")?,
        applicant_kind: key_col(r, "applicant_kind", ApplicantKind::parse)?,
        applicant_name: s("applicant_name")?,
        applicant_id_number: k.open("cases.applicant_id_number", &id, s("applicant_id_number")?)?,
        contact_phone: k.open_opt("cases.contact_phone", &id, o("contact_phone")?)?,
        owner: s("owner")?,
        account: o("account")?,
        channel: key_col(r, "channel", Channel::parse)?,
        status: key_col(r, "status", CaseStatus::parse)?,
        outcome: o("outcome")?.as_deref().and_then(Outcome::parse),
        form,
        delivery: key_col(r, "delivery", Delivery::parse)?,
        delivery_address: k.open_opt("cases.delivery_address", &id, o("delivery_address")?)?,
        submitted_at: o("submitted_at")?,
        accepted_at: o("accepted_at")?,
        concluded_at: o("concluded_at")?,
        due_date: o("due_date")?,
        paused_since: o("paused_since")?,
        corrections: r.try_get("corrections")?,
        correction_note: o("correction_note")?,
        decision_note: o("decision_note")?,
        fee_fen: r.try_get("fee_fen")?,
        version: r.try_get("version")?,
        created_at: s("created_at")?,
        updated_at: s("updated_at")?,
        branches: vec![],
    })
}

pub(crate) fn fact_from(r: &Row) -> Result<CaseFact> {
    let s = |c: &str| text(r, c);
    let o = |c: &str| opt(r, c);
    Ok(CaseFact {
        case_id: s("case_id")?,
        target_kind: s("target_kind")?,
        target_code: s("target_code")?,
        title: s("title")?,
        lead_department: s("lead_department")?,
        lead_department_name: s("lead_department_name")?,
        channel: key_col(r, "channel", Channel::parse)?,
        status: key_col(r, "status", CaseStatus::parse)?,
        outcome: o("outcome")?.as_deref().and_then(Outcome::parse),
        delivery: key_col(r, "delivery", Delivery::parse)?,
        submitted_at: s("submitted_at")?,
        accepted_at: o("accepted_at")?,
        concluded_at: o("concluded_at")?,
        due_date: o("due_date")?,
        corrections: r.try_get("corrections")?,
    })
}

fn branch_from(r: &Row, case_id: &str, k: &Sealer) -> Result<Branch> {
    let s = |c: &str| text(r, c);
    let o = |c: &str| opt(r, c);
    Ok(Branch {
        branch_no: r.try_get("branch_no")?,
        item_code: s("item_code")?,
        item_name: s("item_name")?,
        department_code: s("department_code")?,
        department_name: s("department_name")?,
        steps: serde_json::from_str(&s("steps")?)?,
        step_index: r.try_get("step_index")?,
        status: key_col(r, "status", BranchStatus::parse)?,
        step_started: o("step_started")?,
        step_due: o("step_due")?,
        decided_at: o("decided_at")?,
        form: serde_json::from_str(&k.open("case_branches.form", case_id, s("form")?)?)?,
    })
}

/// A case with its branches.
pub(crate) async fn load(c: &mut AnyConnection, k: &Sealer, case_id: &str) -> Result<Option<Case>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1")))
        .bind(case_id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut case = case_from(&row, k)?;
    if case.status == CaseStatus::Draft {
        // Branches are created at submission: a draft has none, so skip the round trip.
        return Ok(Some(case));
    }
    let rows = sqlx::query(
        "SELECT branch_no, item_code, item_name, department_code, department_name, steps, step_index, status, step_started, step_due,
                decided_at, form FROM case_branches WHERE case_id = $1 ORDER BY branch_no",
    )
    .bind(case_id)
    .fetch_all(&mut *c)
    .await?;
    case.branches = rows.iter().map(|r| branch_from(r, case_id, k)).collect::<Result<_>>()?;
    Ok(Some(case))
}

/// A case row (without branches) and the names of its uploaded materials, in one query: the
/// submission path's read.
pub(crate) async fn load_with_material_names(
    c: &mut AnyConnection,
    k: &Sealer,
    case_id: &str,
) -> Result<Option<(Case, std::collections::BTreeSet<String>)>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let cols = CASE_COLUMNS.split(',').map(|c| format!("c.{}", c.trim())).collect::<Vec<_>>().join(", ");
        format!(
            "SELECT {cols}, m.name AS material_name FROM cases c LEFT JOIN case_materials m ON m.case_id = c.case_id WHERE c.case_id = $1"
        )
    });
    let rows = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str())).bind(case_id).fetch_all(&mut *c).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let case = case_from(first, k)?;
    let names = rows.iter().filter_map(|r| r.try_get::<Option<String>, _>("material_name").ok().flatten()).collect();
    Ok(Some((case, names)))
}

pub(crate) async fn events(c: &mut AnyConnection, case_id: &str) -> Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT id, at, kind, step, department_code, department_name, branch_no, note, actor FROM case_events WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Event {
                id: Some(r.try_get("id")?),
                at: r.try_get("at")?,
                kind: EventKind::parse(&kind).ok_or_else(|| bad("事件", &kind))?,
                step: r.try_get("step")?,
                department_code: r.try_get("department_code")?,
                department_name: r.try_get("department_name")?,
                branch_no: r.try_get("branch_no")?,
                note: r.try_get("note")?,
                actor: r.try_get("actor")?,
            })
        })
        .collect()
}

/// Insert a new draft row.
pub(crate) async fn insert_case(tx: &mut Tx, k: &Sealer, c: &Case, a: &Applicant, submit_key: Option<&str>) -> Result<()> {
    let id = &c.case_id;
    sqlx::query(
        "INSERT INTO cases (case_id, target_kind, target_code, title, lead_department, lead_department_name, owner, account,
            applicant_kind, applicant_name, applicant_id_number, agent_name, agent_id_number, assurance, contact_phone, channel, status,
            form, delivery, delivery_address, submit_key, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 0, $22, $22)",
    )
    .bind(&c.case_id)
    .bind(&c.target_kind)
    .bind(&c.target_code)
    .bind(&c.title)
    .bind(&c.lead_department)
    .bind(&c.lead_department_name)
    .bind(&c.owner)
    .bind(&c.account)
    .bind(c.applicant_kind.key())
    .bind(&c.applicant_name)
    .bind(k.seal("cases.applicant_id_number", id, &c.applicant_id_number)?)
    .bind(&a.person_name)
    .bind(k.seal("cases.agent_id_number", id, &a.person_id_number)?)
    .bind(a.assurance as i64)
    .bind(k.seal_opt("cases.contact_phone", id, &c.contact_phone)?)
    .bind(c.channel.key())
    .bind(c.status.key())
    .bind(k.seal("cases.form", id, &serde_json::to_string(&c.form)?)?)
    .bind(c.delivery.key())
    .bind(k.seal_opt("cases.delivery_address", id, &c.delivery_address)?)
    .bind(submit_key)
    .bind(&c.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Write a transition: the case row (only if nobody else changed it since `expected_version`),
/// touched branches (`insert_branches` on submission), events and the applicant's notice.
pub(crate) async fn write_change(tx: &mut Tx, k: &Sealer, ch: &Change, expected_version: i64, insert_branches: bool) -> Result<i64> {
    let c = &ch.case;
    let id = &c.case_id;
    let n = sqlx::query(
        "UPDATE cases SET case_number = $1, status = $2, outcome = $3, form = $4, delivery = $5, delivery_address = $6, submitted_at = $7,
            accepted_at = $8, concluded_at = $9, due_date = $10, paused_since = $11, corrections = $12, correction_note = $13,
            decision_note = $14, contact_phone = $15, version = version + 1, updated_at = $16, fee_fen = $19
         WHERE case_id = $17 AND version = $18",
    )
    .bind(&c.case_number)
    .bind(c.status.key())
    .bind(c.outcome.map(|o| o.key()))
    .bind(k.seal("cases.form", id, &serde_json::to_string(&c.form)?)?)
    .bind(c.delivery.key())
    .bind(k.seal_opt("cases.delivery_address", id, &c.delivery_address)?)
    .bind(&c.submitted_at)
    .bind(&c.accepted_at)
    .bind(&c.concluded_at)
    .bind(&c.due_date)
    .bind(&c.paused_since)
    .bind(c.corrections)
    .bind(&c.correction_note)
    .bind(&c.decision_note)
    .bind(k.seal_opt("cases.contact_phone", id, &c.contact_phone)?)
    .bind(&c.updated_at)
    .bind(&c.case_id)
    .bind(expected_version)
    .bind(c.fee_fen)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(CaseError::Stale);
    }
    let touched: Vec<&Branch> = ch.branches.iter().filter_map(|no| c.branch(*no)).collect();
    if insert_branches && !touched.is_empty() {
        // All of a submission's branches in one statement.
        let sql = format!(
            "INSERT INTO case_branches (case_id, branch_no, item_code, item_name, department_code, department_name, steps, step_index,
                status, step_started, step_due, decided_at, form) VALUES {}",
            yiwang_store::value_rows(yiwang_store::Dialect::of(tx), touched.len(), 13)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &touched {
            q = q
                .bind(&c.case_id)
                .bind(b.branch_no)
                .bind(&b.item_code)
                .bind(&b.item_name)
                .bind(&b.department_code)
                .bind(&b.department_name)
                .bind(serde_json::to_string(&b.steps)?)
                .bind(b.step_index)
                .bind(b.status.key())
                .bind(&b.step_started)
                .bind(&b.step_due)
                .bind(&b.decided_at)
                .bind(k.seal("case_branches.form", id, &serde_json::to_string(&b.form)?)?);
        }
        q.execute(&mut **tx).await?;
    } else {
        for b in touched {
            sqlx::query(
                "UPDATE case_branches SET step_index = $1, status = $2, step_started = $3, step_due = $4, decided_at = $5, form = $6
                 WHERE case_id = $7 AND branch_no = $8",
            )
            .bind(b.step_index)
            .bind(b.status.key())
            .bind(&b.step_started)
            .bind(&b.step_due)
            .bind(&b.decided_at)
            .bind(k.seal("case_branches.form", id, &serde_json::to_string(&b.form)?)?)
            .bind(&c.case_id)
            .bind(b.branch_no)
            .execute(&mut **tx)
            .await?;
        }
    }
    if !ch.events.is_empty() {
        // One statement for all of a transition's events.
        let rows: Vec<String> = (0..ch.events.len())
            .map(|i| {
                let b = i * 9;
                format!("(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9)
            })
            .collect();
        let sql = format!(
            "INSERT INTO case_events (case_id, at, kind, step, department_code, department_name, branch_no, note, actor) VALUES {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in &ch.events {
            q = q
                .bind(&c.case_id)
                .bind(&e.at)
                .bind(e.kind.key())
                .bind(&e.step)
                .bind(&e.department_code)
                .bind(&e.department_name)
                .bind(e.branch_no)
                .bind(&e.note)
                .bind(&e.actor);
        }
        q.execute(&mut **tx).await?;
    }
    if let Some(notice) = &ch.notice {
        send_notice(tx, k, c, notice).await?;
    }
    Ok(expected_version + 1)
}

/// Inbox for the applicant's account, SMS to the contact phone, email when one was given: one
/// statement, in this transaction.
async fn send_notice(tx: &mut Tx, k: &Sealer, c: &Case, n: &Notice) -> Result<()> {
    use yiwang_notify::{Channel, Message};
    let link = format!("/cases/{}", c.case_id);
    let mut out = Vec::new();
    if let Some(account) = &c.account {
        out.push(yiwang_notify::inbox::message(account, &n.title, &n.body, Some(&link)));
    }
    if let Some(phone) = &c.contact_phone {
        out.push(Message {
            channel: Channel::Sms,
            recipient: phone.clone(),
            subject: n.title.clone(),
            body: format!("【一网通办】{}", n.body),
            link: None,
        });
    }
    if let Some(email) = c.form.get("contact_email").filter(|e| e.contains('@')) {
        out.push(Message {
            channel: Channel::Email,
            recipient: email.clone(),
            subject: format!("【一网通办】{}", n.title),
            body: format!("{}\n\n办件：{}\n查看进度：{link}", n.body, c.case_number.as_deref().unwrap_or("")),
            link: Some(link.clone()),
        });
    }
    yiwang_notify::enqueue_all(tx, k, &out).await?;
    Ok(())
}

/// Rows for lists.
pub(crate) fn summary_from(r: &Row) -> Result<CaseSummary> {
    let s = |c: &str| text(r, c);
    let o = |c: &str| opt(r, c);
    Ok(CaseSummary {
        case_id: s("case_id")?,
        case_number: o("case_number")?,
        title: s("title")?,
        status: key_col(r, "status", CaseStatus::parse)?,
        outcome: o("outcome")?.as_deref().and_then(Outcome::parse),
        channel: key_col(r, "channel", Channel::parse)?,
        applicant_name: s("applicant_name")?,
        applicant_kind: key_col(r, "applicant_kind", ApplicantKind::parse)?,
        submitted_at: o("submitted_at")?,
        due_date: o("due_date")?,
        updated_at: s("updated_at")?,
        branch_no: r.try_get::<Option<i64>, _>("branch_no").unwrap_or(None),
        step_name: None,
        step_due: o("step_due").unwrap_or(None),
        version: r.try_get("version")?,
    })
}

/// Seal the personal data of rows stored before encryption (or without a key), in batches of
/// one transaction each. Returns how many case rows were converted.
pub(crate) async fn protect_rows(db: &yiwang_store::Db, k: &Sealer) -> Result<u64> {
    if !k.enabled() {
        return Ok(0);
    }
    let mut converted = 0;
    loop {
        let mut tx = db.begin().await?;
        let rows = sqlx::query(
            "SELECT case_id, applicant_id_number, agent_id_number, contact_phone, form, delivery_address FROM cases
             WHERE form NOT LIKE 'sm4gcm1:%' ORDER BY case_id LIMIT 200",
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(converted);
        }
        for r in &rows {
            let id = text(r, "case_id")?;
            let keep = |col: &str, v: String| if Sealer::is_sealed(&v) { Ok(v) } else { k.seal(col, &id, &v) };
            sqlx::query(
                "UPDATE cases SET applicant_id_number = $1, agent_id_number = $2, contact_phone = $3, form = $4, delivery_address = $5
                 WHERE case_id = $6",
            )
            .bind(keep("cases.applicant_id_number", text(r, "applicant_id_number")?)?)
            .bind(keep("cases.agent_id_number", text(r, "agent_id_number")?)?)
            .bind(opt(r, "contact_phone")?.map(|v| keep("cases.contact_phone", v)).transpose()?)
            .bind(keep("cases.form", text(r, "form")?)?)
            .bind(opt(r, "delivery_address")?.map(|v| keep("cases.delivery_address", v)).transpose()?)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            let branches =
                sqlx::query("SELECT branch_no, form FROM case_branches WHERE case_id = $1").bind(&id).fetch_all(&mut *tx).await?;
            for b in &branches {
                let form = text(b, "form")?;
                if Sealer::is_sealed(&form) {
                    continue;
                }
                sqlx::query("UPDATE case_branches SET form = $1 WHERE case_id = $2 AND branch_no = $3")
                    .bind(k.seal("case_branches.form", &id, &form)?)
                    .bind(&id)
                    .bind(b.try_get::<i64, _>("branch_no")?)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        converted += rows.len() as u64;
    }
}
