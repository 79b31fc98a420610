//! 12345-style tickets (工单): intake → dispatch → handling → reply → supervision → closure →
//! follow-up → rating. Deadlines by priority are configurable; overdue tickets escalate
//! (督办, then 提级督办) and raise alerts against the handling department; duplicates merge
//! into one master whose reply reaches every submitter; reports may be anonymous and are
//! followed with a query code.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use yiwang_cases::Applicant;
use yiwang_identity::Staff;
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{timestamp_text, Row, Tx};

use crate::alerts::{self, Subject};
use crate::error::{invalid, text_field, OversightError, Result};
use crate::model::*;
use crate::rules::Finding;
use crate::{china_date, is_supervisor, month_of, works_in, Oversight};

/// 办理时限 per priority (configurable; e.g. urgent 2 h, general 7 days, complex 15 days).
#[derive(Debug, Clone)]
pub struct TicketDeadlines {
    pub urgent_hours: i64,
    /// Working days.
    pub general_days: u32,
    /// Working days.
    pub complex_days: u32,
}

impl Default for TicketDeadlines {
    fn default() -> Self {
        TicketDeadlines { urgent_hours: 2, general_days: 7, complex_days: 15 }
    }
}

/// Who handles tickets nobody has dispatched yet.
pub const HOTLINE_CODE: &str = "12345";
pub const HOTLINE_NAME: &str = "12345热线工作机构";

const TICKET_COLUMNS: &str =
    "ticket_id, number, kind, priority, status, title, content, item_code, item_name, department_code, department_name,
    submitter, account, contact_name, contact_phone, query_hash, master_id, due_at, escalation, reply, replied_at, follow_up, satisfaction,
    created_at, updated_at, closed_at";

fn ticket_from(r: &Row, seal: &yiwang_crypto::Sealer) -> Result<Ticket> {
    let s = |c: &str| r.try_get::<String, _>(c).map_err(OversightError::from);
    let o = |c: &str| r.try_get::<Option<String>, _>(c).map_err(OversightError::from);
    let bad = |what: &str, v: &str| OversightError::Config(format!("数据库中的{what}无效：{v}"));
    let (kind, priority, status) = (s("kind")?, s("priority")?, s("status")?);
    let id = s("ticket_id")?;
    Ok(Ticket {
        ticket_id: id.clone(),
        number: s("number")?,
        kind: TicketKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        priority: Priority::parse(&priority).ok_or_else(|| bad("priority", &priority))?,
        status: TicketStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        title: s("title")?,
        content: s("content")?,
        item_code: o("item_code")?,
        item_name: o("item_name")?,
        department_code: o("department_code")?,
        department_name: o("department_name")?,
        anonymous: o("submitter")?.is_none(),
        submitter: o("submitter")?,
        account: o("account")?,
        contact_name: seal.open_opt("tickets.contact_name", &id, o("contact_name")?)?,
        contact_phone: seal.open_opt("tickets.contact_phone", &id, o("contact_phone")?)?,
        master_id: o("master_id")?,
        due_at: s("due_at")?,
        escalation: r.try_get("escalation")?,
        reply: o("reply")?,
        replied_at: o("replied_at")?,
        follow_up: o("follow_up")?,
        satisfaction: r.try_get("satisfaction")?,
        created_at: s("created_at")?,
        updated_at: s("updated_at")?,
        closed_at: o("closed_at")?,
    })
}

fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().as_bytes()))
}

/// Text compared for duplicates: no spaces or punctuation.
fn normalized(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Staff actions on a ticket.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TicketAction {
    /// 派单 (hotline operators: supervisors).
    Dispatch { department_code: String, priority: String },
    /// 签收 by the department.
    Accept,
    /// 退回 a wrongly dispatched ticket.
    Return { reason: String },
    /// 答复 the submitter.
    Reply { reply: String },
    /// 办结 (hotline operators), only after a reply.
    Close { note: String },
    /// 合并 a duplicate into `master`.
    Merge { master: String },
}

impl TicketAction {
    fn label(&self) -> &'static str {
        match self {
            TicketAction::Dispatch { .. } => "派单",
            TicketAction::Accept => "签收",
            TicketAction::Return { .. } => "退回",
            TicketAction::Reply { .. } => "答复",
            TicketAction::Close { .. } => "办结",
            TicketAction::Merge { .. } => "合并重复工单",
        }
    }
}

impl Oversight {
    /// The deadline of a ticket of `priority` opened at `from`.
    pub fn ticket_due(&self, priority: Priority, from: DateTime<Utc>) -> DateTime<Utc> {
        let d = &self.settings().tickets;
        let days = match priority {
            Priority::Urgent => return from + Duration::hours(d.urgent_hours.max(1)),
            Priority::General => d.general_days,
            Priority::Complex => d.complex_days,
        };
        // The end (23:59:59 China time) of the last working day.
        let last = self.cases().calendar().add_working_days(china_date(from), days);
        let end = last.and_hms_opt(23, 59, 59).map(yiwang_cases::from_china);
        end.unwrap_or(from + Duration::days(days as i64))
    }

    async fn event(&self, tx: &mut Tx, id: &str, kind: &str, actor: Option<&str>, note: &str) -> Result<()> {
        sqlx::query("INSERT INTO ticket_events (ticket_id, at, kind, actor, note) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(self.now_text())
            .bind(kind)
            .bind(actor)
            .bind(note)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// 诉求登记. Reports (举报) may be anonymous: the answer then carries a query code, the
    /// only way to follow the ticket, shown once.
    pub async fn submit_ticket(&self, who: Option<&Applicant>, input: &TicketInput) -> Result<(Ticket, Option<String>)> {
        let kind = TicketKind::parse(&input.kind).ok_or_else(|| invalid("kind", "诉求类型应为咨询、投诉、建议、举报或求助"))?;
        let anonymous = input.anonymous || who.is_none();
        if anonymous && kind != TicketKind::Report {
            return Err(invalid("anonymous", "只有举报可以匿名提交，其他诉求请先登录"));
        }
        let title = text_field(&input.title, "title", 100, false)?;
        let content = text_field(&input.content, "content", 4000, false)?;
        let mut item = None;
        let mut department = None;
        if let Some(code) = input.item_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let i = self.catalog().item_public(code).await.map_err(|_| invalid("item_code", "事项不存在"))?;
            department = Some((i.doc.department_code.clone(), i.department_name.clone()));
            item = Some((code.to_string(), i.doc.name.clone()));
        }
        if let Some(code) = input.department_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let d = self.catalog().department(code).await.map_err(|_| invalid("department_code", "部门不存在"))?;
            department = Some((d.credit_code, d.name));
        }
        let phone = input.contact_phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
        if let Some(p) = phone {
            if p.len() != 11 || !p.starts_with('1') || !p.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid("contact_phone", "手机号码应为11位数字"));
            }
        }
        let (submitter, account, contact_name, contact_phone) = match (anonymous, who) {
            (false, Some(a)) => (
                Some(self.cases().owner_of(a)),
                a.account.clone(),
                Some(input.contact_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| a.person_name.clone())),
                phone.map(String::from).or_else(|| a.phone.clone()),
            ),
            _ => (None, None, None, None),
        };
        let query_code = anonymous.then(|| {
            let mut b = [0u8; 6];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
            hex::encode(b).to_uppercase()
        });
        let now = self.now();
        let now_text = timestamp_text(now);
        let day = china_date(now);
        let due = timestamp_text(self.ticket_due(Priority::General, now));
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.db().begin().await?;
        let prefix = day.format("%Y%m%d").to_string();
        let serial = yiwang_store::sequences::next_daily(&mut tx, "ticket", &prefix).await?;
        let number = format!("{prefix}{serial:05}");
        sqlx::query(
            "INSERT INTO tickets (ticket_id, number, kind, priority, status, title, content, item_code, item_name, department_code,
                department_name, submitter, account, contact_name, contact_phone, query_hash, due_at, escalation, created_at, updated_at, month)
             VALUES ($1, $2, $3, 'general', 'received', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, $16, $16, $17)",
        )
        .bind(&id)
        .bind(&number)
        .bind(kind.key())
        .bind(&title)
        .bind(&content)
        .bind(item.as_ref().map(|i| i.0.clone()))
        .bind(item.as_ref().map(|i| i.1.clone()))
        .bind(department.as_ref().map(|d| d.0.clone()))
        .bind(department.as_ref().map(|d| d.1.clone()))
        .bind(&submitter)
        .bind(&account)
        .bind(self.settings.personal_data.seal_opt("tickets.contact_name", &id, &contact_name)?)
        .bind(self.settings.personal_data.seal_opt("tickets.contact_phone", &id, &contact_phone)?)
        .bind(query_code.as_deref().map(hash_code))
        .bind(&due)
        .bind(&now_text)
        .bind(month_of(day))
        .execute(&mut *tx)
        .await?;
        self.event(&mut tx, &id, "登记", None, kind.label_zh()).await?;
        tx.commit().await?;
        Ok((self.load_ticket(&id).await?, query_code))
    }

    async fn load_ticket(&self, id: &str) -> Result<Ticket> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE ticket_id = $1")))
            .bind(id)
            .fetch_optional(self.db().reader())
            .await?
            .ok_or_else(|| OversightError::NotFound("工单".into()))?;
        ticket_from(&row, &self.settings.personal_data)
    }

    pub async fn ticket_events(&self, id: &str) -> Result<Vec<TicketEvent>> {
        let rows = sqlx::query("SELECT at, kind, note FROM ticket_events WHERE ticket_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.db().reader())
            .await?;
        rows.iter().map(|r| Ok(TicketEvent { at: r.try_get("at")?, kind: r.try_get("kind")?, note: r.try_get("note")? })).collect()
    }

    /// The submitter's tickets, newest first.
    pub async fn my_tickets(&self, a: &Applicant) -> Result<Vec<Ticket>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE submitter = $1 ORDER BY created_at DESC LIMIT 200"
        )))
        .bind(self.cases().owner_of(a))
        .fetch_all(self.db().reader())
        .await?;
        rows.iter().map(|r| ticket_from(r, &self.settings.personal_data)).collect()
    }

    /// A ticket its submitter may read (others' are "not found").
    pub async fn ticket_for_owner(&self, a: &Applicant, id: &str) -> Result<Ticket> {
        let t = self.load_ticket(id).await?;
        if t.submitter.as_deref() != Some(self.cases().owner_of(a).as_str()) {
            return Err(OversightError::NotFound("工单".into()));
        }
        Ok(t)
    }

    /// An anonymous report followed by its number and query code.
    pub async fn ticket_by_code(&self, number: &str, code: &str) -> Result<Ticket> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE number = $1 AND query_hash = $2")))
            .bind(number.trim())
            .bind(hash_code(&code.to_uppercase()))
            .fetch_optional(self.db().reader())
            .await?
            .ok_or_else(|| OversightError::NotFound("工单（编号或查询码不正确）".into()))?;
        ticket_from(&row, &self.settings.personal_data)
    }

    /// Tickets for staff: all for hotline operators (supervisors), the department's otherwise.
    pub async fn tickets(&self, viewer: &Staff, active_only: bool) -> Result<Vec<Ticket>> {
        let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE 1 = 1");
        if active_only {
            sql.push_str(" AND status IN ('received', 'dispatched', 'handling', 'replied')");
        }
        let dept = if is_supervisor(viewer) { None } else { Some(viewer.department.clone().ok_or(OversightError::Forbidden)?) };
        if dept.is_some() {
            sql.push_str(" AND department_code = $1 AND status <> 'received'");
        }
        sql.push_str(" ORDER BY due_at LIMIT 500");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(d) = &dept {
            q = q.bind(d);
        }
        q.fetch_all(self.db().reader()).await?.iter().map(|r| ticket_from(r, &self.settings.personal_data)).collect()
    }

    /// A ticket staff may read.
    pub async fn ticket_for_staff(&self, viewer: &Staff, id: &str) -> Result<Ticket> {
        let t = self.load_ticket(id).await?;
        let visible = is_supervisor(viewer)
            || (t.status != TicketStatus::Received && viewer.department.is_some() && viewer.department == t.department_code);
        if !visible {
            return Err(OversightError::NotFound("工单".into()));
        }
        Ok(t)
    }

    /// Open tickets that look like the same matter (same submitter and subject, or the same
    /// words), for the operator to merge.
    pub async fn similar_tickets(&self, t: &Ticket) -> Result<Vec<Ticket>> {
        let since = timestamp_text(self.now() - Duration::days(30));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE ticket_id <> $1 AND status NOT IN ('merged', 'closed') AND created_at >= $2
             AND master_id IS NULL ORDER BY created_at LIMIT 500"
        )))
        .bind(&t.ticket_id)
        .bind(since)
        .fetch_all(self.db().reader())
        .await?;
        let words = normalized(&t.content);
        let mut out = Vec::new();
        for r in &rows {
            let o = ticket_from(r, &self.settings.personal_data)?;
            let same_person = t.submitter.is_some() && o.submitter == t.submitter;
            let same_subject = o.item_code == t.item_code && o.department_code == t.department_code;
            if (same_person && same_subject) || normalized(&o.content) == words || (o.title == t.title && same_subject) {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Staff handling, audited.
    pub async fn act_on_ticket(&self, staff: &Staff, source: &str, id: &str, action: &TicketAction) -> Result<Ticket> {
        let t = self.ticket_for_staff(staff, id).await?;
        let operator = is_supervisor(staff);
        let dept_staff = t.department_code.as_deref().is_some_and(|d| works_in(staff, d));
        let wrong = || OversightError::WrongState(t.status.label_zh());
        let now = self.now();
        let now_text = timestamp_text(now);
        let mut tx = self.db().begin().await?;
        let mut notify: Vec<(String, String)> = Vec::new();
        let (sets, binds, note): (&str, Vec<Option<String>>, String) = match action {
            TicketAction::Dispatch { department_code, priority } => {
                if !operator {
                    return Err(OversightError::Forbidden);
                }
                if t.status != TicketStatus::Received {
                    return Err(wrong());
                }
                let p = Priority::parse(priority).ok_or_else(|| invalid("priority", "时限类别应为紧急、一般或复杂"))?;
                let d = self.catalog().department(department_code.trim()).await.map_err(|_| invalid("department_code", "部门不存在"))?;
                let created = chrono::DateTime::parse_from_rfc3339(&t.created_at).map(|x| x.with_timezone(&Utc)).unwrap_or(now);
                let due = timestamp_text(self.ticket_due(p, created));
                let note = format!("派至{}（{}，时限{}）", d.name, p.label_zh(), crate::local_minutes(&due));
                (
                    "status = 'dispatched', department_code = $1, department_name = $2, priority = $3, due_at = $4",
                    vec![Some(d.credit_code), Some(d.name), Some(p.key().into()), Some(due)],
                    note,
                )
            }
            TicketAction::Accept => {
                if !dept_staff {
                    return Err(OversightError::Forbidden);
                }
                if t.status != TicketStatus::Dispatched {
                    return Err(wrong());
                }
                ("status = 'handling'", vec![], String::new())
            }
            TicketAction::Return { reason } => {
                if !dept_staff {
                    return Err(OversightError::Forbidden);
                }
                if !matches!(t.status, TicketStatus::Dispatched | TicketStatus::Handling) {
                    return Err(wrong());
                }
                let reason = text_field(reason, "reason", 1000, false)?;
                ("status = 'received', department_code = NULL, department_name = NULL", vec![], reason)
            }
            TicketAction::Reply { reply } => {
                if !dept_staff {
                    return Err(OversightError::Forbidden);
                }
                if !matches!(t.status, TicketStatus::Dispatched | TicketStatus::Handling) {
                    return Err(wrong());
                }
                let reply = text_field(reply, "reply", 4000, false)?;
                notify.push(("您的诉求已答复".into(), format!("工单{}：{reply}", t.number)));
                ("status = 'replied', reply = $1, replied_at = $2", vec![Some(reply.clone()), Some(now_text.clone())], reply)
            }
            TicketAction::Close { note } => {
                if !operator {
                    return Err(OversightError::Forbidden);
                }
                if t.status != TicketStatus::Replied || t.reply.is_none() {
                    return Err(invalid("status", "工单尚未答复，不能办结"));
                }
                let note = text_field(note, "note", 1000, true)?;
                ("status = 'closed', closed_at = $1", vec![Some(now_text.clone())], note)
            }
            TicketAction::Merge { master } => {
                if !operator {
                    return Err(OversightError::Forbidden);
                }
                if !matches!(t.status, TicketStatus::Received | TicketStatus::Dispatched | TicketStatus::Handling) {
                    return Err(wrong());
                }
                let m = self.load_ticket(master.trim()).await?;
                if m.ticket_id == t.ticket_id || m.status == TicketStatus::Merged || m.master_id.is_some() {
                    return Err(invalid("master", "不能合并到该工单"));
                }
                self.event(&mut tx, &m.ticket_id, "合并", Some(&staff.username), &format!("合并重复工单{}", t.number)).await?;
                ("status = 'merged', master_id = $1", vec![Some(m.ticket_id.clone())], format!("与工单{}重复，已合并办理", m.number))
            }
        };
        let n = binds.len();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE tickets SET {sets}, updated_at = ${} WHERE ticket_id = ${} AND status = ${}",
            n + 1,
            n + 2,
            n + 3
        )));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let changed = q.bind(&now_text).bind(id).bind(t.status.key()).execute(&mut *tx).await?.rows_affected();
        if changed != 1 {
            return Err(OversightError::WrongState("已被他人处理"));
        }
        self.event(&mut tx, id, action.label(), Some(&staff.username), &note).await?;
        // A master's reply and closure reach its merged duplicates.
        if matches!(action, TicketAction::Reply { .. } | TicketAction::Close { .. }) {
            let status = if matches!(action, TicketAction::Close { .. }) { "closed" } else { "replied" };
            let merged: Vec<(String, Option<String>, String)> =
                sqlx::query_as("SELECT ticket_id, account, number FROM tickets WHERE master_id = $1").bind(id).fetch_all(&mut *tx).await?;
            for (mid, account, number) in merged {
                if let TicketAction::Reply { .. } = action {
                    sqlx::query("UPDATE tickets SET reply = $1, replied_at = $2, updated_at = $2 WHERE ticket_id = $3")
                        .bind(&note)
                        .bind(&now_text)
                        .bind(&mid)
                        .execute(&mut *tx)
                        .await?;
                    if let Some(acct) = account {
                        yiwang_notify::inbox::post(
                            &mut tx,
                            &acct,
                            "您的诉求已答复",
                            &format!("工单{number}：{note}"),
                            Some(&format!("/tickets/{mid}")),
                        )
                        .await?;
                    }
                }
                self.event(&mut tx, &mid, action.label(), Some(&staff.username), &format!("随主工单{}{status}", t.number)).await?;
            }
        }
        if let Some(acct) = t.account.as_deref() {
            for (title, body) in &notify {
                yiwang_notify::inbox::post(&mut tx, acct, title, body, Some(&format!("/tickets/{id}"))).await?;
            }
        }
        yiwang_identity::audit_in(&mut tx, &staff.username, "oversight.ticket", id, action.label(), source).await?;
        tx.commit().await?;
        self.load_ticket(id).await
    }

    /// 回访评价: the submitter rates the answer; an unsatisfied submitter gets the ticket
    /// handled again once (重办), with a fresh deadline.
    pub async fn follow_up_ticket(&self, a: &Applicant, id: &str, satisfaction: i64, text: &str) -> Result<Ticket> {
        let t = self.ticket_for_owner(a, id).await?;
        if !matches!(t.status, TicketStatus::Replied | TicketStatus::Closed) || t.satisfaction.is_some() {
            return Err(OversightError::WrongState(t.status.label_zh()));
        }
        if !(1..=5).contains(&satisfaction) {
            return Err(invalid("satisfaction", "满意度应为1至5"));
        }
        let text = text_field(text, "text", 1000, satisfaction > 2)?;
        let now = self.now();
        let now_text = timestamp_text(now);
        let mut tx = self.db().begin().await?;
        let reopen = satisfaction <= 2 && t.status == TicketStatus::Replied && t.department_code.is_some();
        if reopen {
            let due = timestamp_text(self.ticket_due(t.priority, now));
            sqlx::query(
                "UPDATE tickets SET status = 'handling', follow_up = $1, satisfaction = $2, due_at = $3, escalation = 0, updated_at = $4
                 WHERE ticket_id = $5 AND status = 'replied'",
            )
            .bind(&text)
            .bind(satisfaction)
            .bind(&due)
            .bind(&now_text)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            self.event(&mut tx, id, "回访不满意，重新办理", None, &text).await?;
        } else {
            sqlx::query("UPDATE tickets SET follow_up = $1, satisfaction = $2, updated_at = $3 WHERE ticket_id = $4")
                .bind(&text)
                .bind(satisfaction)
                .bind(&now_text)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            self.event(&mut tx, id, "回访评价", None, &format!("满意度{satisfaction}")).await?;
        }
        tx.commit().await?;
        self.load_ticket(id).await
    }

    /// Escalate overdue tickets and keep their alerts in step. Returns how many escalated.
    pub(crate) async fn sweep_tickets(&self) -> Result<usize> {
        let since = timestamp_text(self.now() - Duration::days(7));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE status IN ('received', 'dispatched', 'handling') OR updated_at >= $1"
        )))
        .bind(since)
        .fetch_all(self.db().reader())
        .await?;
        let now = self.now();
        let now_text = timestamp_text(now);
        let month = month_of(china_date(now));
        let mut escalated = 0;
        for r in &rows {
            let t = ticket_from(r, &self.settings.personal_data)?;
            let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok().map(|x| x.with_timezone(&Utc));
            let (Some(due), Some(created)) = (parse(&t.due_at), parse(&t.created_at)) else { continue };
            let period = (due - created).max(Duration::hours(1));
            let running = t.status.is_running();
            let level = if !running {
                0
            } else if now > due + period {
                2
            } else if now > due {
                1
            } else {
                0
            };
            let (code, name) = match (&t.department_code, &t.department_name) {
                (Some(c), Some(n)) if t.status != TicketStatus::Received => (c.clone(), n.clone()),
                _ => (HOTLINE_CODE.to_string(), HOTLINE_NAME.to_string()),
            };
            let mut findings = Vec::new();
            if running && now > due {
                let what = if level == 2 { "已超期，提级督办" } else { "已超期，督办" };
                findings.push(Finding {
                    rule: Rule::TicketDeadline,
                    scope: String::new(),
                    level: Level::Red,
                    department_code: code,
                    department_name: name,
                    detail: format!("{}工单{}（时限{}）", what, t.number, crate::local_minutes(&t.due_at)),
                });
            } else if running && now > due - period / 4 {
                findings.push(Finding {
                    rule: Rule::TicketDeadline,
                    scope: String::new(),
                    level: Level::Yellow,
                    department_code: code,
                    department_name: name,
                    detail: format!("工单{}临近办理时限（{}）", t.number, crate::local_minutes(&t.due_at)),
                });
            }
            if level > t.escalation {
                let mut tx = self.db().begin().await?;
                let n = sqlx::query("UPDATE tickets SET escalation = $1, updated_at = $2 WHERE ticket_id = $3 AND escalation < $1")
                    .bind(level)
                    .bind(&now_text)
                    .bind(&t.ticket_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                // Another node may have escalated it first: one event per level.
                if n == 1 {
                    let what = if level == 2 { "提级督办" } else { "超期督办" };
                    let note = format!("办理时限{}已过", crate::local_minutes(&t.due_at));
                    self.event(&mut tx, &t.ticket_id, what, Some("system"), &note).await?;
                    escalated += 1;
                }
                tx.commit().await?;
            }
            let subject = Subject { id: &t.ticket_id, reference: &t.number, title: &t.title };
            alerts::reconcile(self.db(), &subject, findings, &now_text, &month).await?;
        }
        Ok(escalated)
    }
}
