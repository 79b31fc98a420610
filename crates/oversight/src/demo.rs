//! The evaluation demo (`demo/oversight.yaml`): history replayed through the real workflow on a
//! clock set back in time, then one sweep at the present, so every alert, score, rating and
//! figure the demo shows was produced by the same code as in production.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use yiwang_cases::{Action, Applicant, ApplicantKind, ApplicationInput, Case, Cases, ManualClock, Target};
use yiwang_catalog::demo::DemoProvince;
use yiwang_identity::{Role, Staff};
use yiwang_store::sqlx;

use crate::error::{OversightError, Result};
use crate::tickets::TicketAction;
use crate::{Oversight, RatingInput, TicketInput, Watch};

const DEMO: &str = include_str!("../../../demo/oversight.yaml");

#[derive(Deserialize)]
struct DemoApplicant {
    name: String,
    id_number: String,
    phone: String,
    #[serde(default)]
    business: Option<String>,
    #[serde(default)]
    credit_code: Option<String>,
}

#[derive(Deserialize)]
struct DemoStep {
    day: i64,
    by: String,
    act: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    fen: i64,
}

#[derive(Deserialize)]
struct DemoRating {
    day: i64,
    level: i64,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
struct DemoCase {
    item: String,
    applicant: String,
    day: i64,
    window: String,
    #[serde(default)]
    form: BTreeMap<String, String>,
    #[serde(default)]
    steps: Vec<DemoStep>,
    #[serde(default)]
    rating: Option<DemoRating>,
}

#[derive(Deserialize)]
struct Dispatch {
    day: i64,
    to: String,
    priority: String,
}

#[derive(Deserialize)]
struct Reply {
    day: i64,
    by: String,
    text: String,
}

#[derive(Deserialize)]
struct Close {
    day: i64,
}

#[derive(Deserialize)]
struct DemoTicket {
    kind: String,
    #[serde(default)]
    applicant: Option<String>,
    day: i64,
    #[serde(default)]
    item: Option<String>,
    title: String,
    content: String,
    #[serde(default)]
    dispatch: Option<Dispatch>,
    #[serde(default)]
    reply: Option<Reply>,
    #[serde(default)]
    close: Option<Close>,
}

#[derive(Deserialize)]
struct DemoFile {
    applicants: HashMap<String, DemoApplicant>,
    cases: Vec<DemoCase>,
    tickets: Vec<DemoTicket>,
}

/// What the demo loaded.
#[derive(Debug, Default, Clone, Copy)]
pub struct DemoReport {
    pub cases: usize,
    pub ratings: usize,
    pub tickets: usize,
    pub alerts: usize,
}

fn bad(what: impl std::fmt::Display) -> OversightError {
    OversightError::Config(format!("demo/oversight.yaml：{what}"))
}

/// Whether the demo history was loaded already.
pub async fn loaded(o: &Oversight) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, String>("SELECT value FROM oversight_state WHERE name = 'demo_loaded'")
        .fetch_optional(o.db().reader())
        .await?
        .is_some())
}

/// Replay the demo history ending at `now`.
pub async fn load(o: &Oversight, p: &DemoProvince, now: DateTime<Utc>) -> Result<DemoReport> {
    let file: DemoFile = serde_yaml::from_str(DEMO).map_err(bad)?;
    // 10:00 China time on the day `day` days from now.
    let at = |day: i64| {
        let d = crate::china_date(now) + Duration::days(day);
        d.and_hms_opt(2, 0, 0).map(|t| t.and_utc()).unwrap_or(now)
    };
    let clock = Arc::new(ManualClock::new(at(-400)));
    // The replay writes through the same case service (and its observers) on the old clock;
    // its own oversight service rates and files tickets at those old moments too.
    let cases: Cases = o.cases().clone().with_clock(clock.clone());
    let replay = Oversight::new(o.db().clone(), cases.clone(), o.catalog.clone(), Arc::new(Watch::default()), (*o.settings).clone());
    let staff = |name: &str| -> Result<Staff> {
        let s = p.staff.iter().find(|s| s.username == name).ok_or_else(|| bad(format!("工作人员{name}不存在")))?;
        Ok(Staff {
            username: s.username.clone(),
            display_name: s.display_name.clone(),
            department: s.department.clone(),
            region: None,
            roles: s.roles.iter().filter_map(|r| Role::parse(r)).collect(),
        })
    };
    let applicant = |key: &str| -> Result<Applicant> {
        let a = file.applicants.get(key).ok_or_else(|| bad(format!("申请人{key}不存在")))?;
        Ok(match (&a.business, &a.credit_code) {
            (Some(b), Some(code)) => Applicant {
                account: None,
                kind: ApplicantKind::Business,
                name: b.clone(),
                id_number: code.clone(),
                person_name: a.name.clone(),
                person_id_number: a.id_number.clone(),
                phone: Some(a.phone.clone()),
                assurance: 2,
                address: None,
            },
            _ => Applicant {
                account: None,
                kind: ApplicantKind::Person,
                name: a.name.clone(),
                id_number: a.id_number.clone(),
                person_name: a.name.clone(),
                person_id_number: a.id_number.clone(),
                phone: Some(a.phone.clone()),
                assurance: 2,
                address: None,
            },
        })
    };
    let item = |key: &str| p.item_keys.get(key).cloned().ok_or_else(|| bad(format!("事项{key}不存在")));

    let mut report = DemoReport::default();
    for c in &file.cases {
        clock.set(at(c.day));
        let a = applicant(&c.applicant)?;
        let target = Target::Item(item(&c.item)?);
        let prepared = cases.prepare(&target).await?;
        let mut values = Cases::prefill(&prepared.form, &a);
        values.extend(c.form.clone());
        let input = ApplicationInput { values, ..Default::default() };
        let mut case: Case = cases.window_apply(&staff(&c.window)?, &a, &target, &input, false, "demo").await?;
        for s in &c.steps {
            clock.set(at(s.day) + Duration::hours(1));
            let action = match s.act.as_str() {
                "approve" => Action::Approve { branch: 1, note: s.text.clone() },
                "reject" => Action::Reject { branch: 1, reason: s.text.clone() },
                "deliver" => Action::Deliver { note: s.text.clone() },
                "fee" => Action::ChargeFee { amount_fen: s.fen, note: s.text.clone() },
                other => return Err(bad(format!("未知操作{other}"))),
            };
            case = cases.act(&staff(&s.by)?, &case.case_id, case.version, &action).await?;
        }
        if let Some(r) = &c.rating {
            clock.set(at(r.day) + Duration::hours(2));
            replay.rate_case(&a, &case.case_id, &RatingInput { level: r.level, comment: r.comment.clone(), ..Default::default() }).await?;
            report.ratings += 1;
        }
        report.cases += 1;
    }
    let operator = p
        .staff
        .iter()
        .find(|s| s.roles.iter().any(|r| r == Role::Supervisor.key()))
        .map(|s| staff(&s.username))
        .transpose()?
        .ok_or_else(|| bad("没有监察人员"))?;
    for t in &file.tickets {
        clock.set(at(t.day));
        let who = t.applicant.as_deref().map(applicant).transpose()?;
        let input = TicketInput {
            kind: t.kind.clone(),
            title: t.title.clone(),
            content: t.content.clone(),
            item_code: t.item.as_deref().map(item).transpose()?,
            anonymous: who.is_none(),
            ..Default::default()
        };
        let (ticket, _) = replay.submit_ticket(who.as_ref(), &input).await?;
        if let Some(d) = &t.dispatch {
            clock.set(at(d.day) + Duration::hours(1));
            let code = p
                .departments
                .iter()
                .find(|x| x.credit_code == d.to || x.name == d.to)
                .map(|x| x.credit_code.clone())
                .ok_or_else(|| bad(format!("部门{}不存在", d.to)))?;
            replay
                .act_on_ticket(
                    &operator,
                    "demo",
                    &ticket.ticket_id,
                    &TicketAction::Dispatch { department_code: code, priority: d.priority.clone() },
                )
                .await?;
        }
        if let Some(r) = &t.reply {
            clock.set(at(r.day) + Duration::hours(2));
            let by = staff(&r.by)?;
            replay.act_on_ticket(&by, "demo", &ticket.ticket_id, &TicketAction::Accept).await?;
            replay.act_on_ticket(&by, "demo", &ticket.ticket_id, &TicketAction::Reply { reply: r.text.clone() }).await?;
        }
        if let Some(c) = &t.close {
            clock.set(at(c.day) + Duration::hours(3));
            replay.act_on_ticket(&operator, "demo", &ticket.ticket_id, &TicketAction::Close { note: String::new() }).await?;
        }
        report.tickets += 1;
    }
    // Evaluate the replayed changes as they happened, then everything as of now.
    o.process_pending().await?;
    o.sweep().await?;
    report.alerts = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM oversight_alerts").fetch_one(o.db().reader()).await? as usize;
    let mut tx = o.db().begin().await?;
    sqlx::query(
        "INSERT INTO oversight_state (name, value) VALUES ('demo_loaded', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(yiwang_store::timestamp_text(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(report)
}
