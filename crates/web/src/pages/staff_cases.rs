//! Staff case pages: the queue with deadline colours and filters, a case with the actions the
//! viewer may take, and window intake (一窗受理) for applicants who come in person.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use yiwang_cases::{Action, ApplicationInput, CaseStatus, Problem, Target, Urgency};
use yiwang_identity::Permission;

use super::cases::{delivery_options, field_views, posted_delivery, posted_values, DeliveryOption, FieldView};
use super::{field, render, Chrome, PageResult};
use crate::api_cases::{offline_applicant, staff_view, OfflineApplicant, QueueQuery, QueueRow, StaffCaseView};
use crate::auth::{CsrfForm, StaffSession};
use crate::error::AppError;
use crate::AppState;

#[derive(Template)]
#[template(path = "staff/cases.html")]
struct QueuePage {
    c: Chrome,
    rows: Vec<QueueRow>,
    statuses: Vec<(&'static str, &'static str)>,
    status: String,
    q: String,
    urgent: bool,
    red: usize,
    yellow: usize,
}

pub async fn queue(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<QueueQuery>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let rows: Vec<QueueRow> = app
        .cases
        .queue(&staff.staff, &q.filter())
        .await?
        .into_iter()
        .map(|(case, urgency)| QueueRow { applicant_name_masked: case.applicant_name_masked(), case, urgency })
        .collect();
    let en = c.en;
    render(QueuePage {
        red: rows.iter().filter(|r| r.urgency == Urgency::Red).count(),
        yellow: rows.iter().filter(|r| r.urgency == Urgency::Yellow).count(),
        rows,
        statuses: CaseStatus::ALL.iter().filter(|s| **s != CaseStatus::Draft).map(|s| (s.key(), s.label(en))).collect(),
        status: q.status.clone().unwrap_or_default(),
        q: q.q.clone().unwrap_or_default(),
        urgent: q.urgent.unwrap_or(false),
        c,
    })
}

/// An action form the viewer may submit.
pub struct ActionForm {
    pub action: &'static str,
    pub label: &'static str,
    pub branch: Option<i64>,
    /// Needs a reason or note the applicant sees.
    pub needs_text: bool,
    pub danger: bool,
    /// Asks for an amount in yuan (收费登记).
    pub amount: bool,
}

#[derive(Template)]
#[template(path = "staff/case.html")]
struct CasePage {
    c: Chrome,
    s: StaffCaseView,
    v: yiwang_cases::CaseView,
    actions: Vec<ActionForm>,
    fields: Vec<FieldView>,
    editable: bool,
    error: Option<String>,
}

/// The actions the viewer may take, as the workflow engine decides who may act.
fn actions_for(staff: &yiwang_identity::Staff, v: &StaffCaseView, promised_days: u32, en: bool) -> Vec<ActionForm> {
    use yiwang_cases::engine::{can_finish_on_the_spot, is_lead_window, may_act_on_branch};
    let case = &v.view.case;
    let window = is_lead_window(staff, case);
    let t = |zh: &'static str, en_s: &'static str| if en { en_s } else { zh };
    let mut out = Vec::new();
    let mut push =
        |action, label, branch, needs_text, danger| out.push(ActionForm { action, label, branch, needs_text, danger, amount: false });
    match case.status {
        CaseStatus::Submitted if window => {
            push("accept", t("受理", "Accept"), None, false, false);
            if can_finish_on_the_spot(case, promised_days) {
                push("accept_spot", t("受理并当场办结", "Accept and finish now"), None, false, false);
            }
            push("request_correction", t("一次性告知补正", "Request corrections"), None, true, false);
            push("not_accept", t("不予受理", "Refuse to accept"), None, true, true);
        }
        CaseStatus::InProgress => {
            for b in case.branches.iter().filter(|b| may_act_on_branch(staff, case, b.branch_no)) {
                push("approve", t("通过本环节", "Approve this step"), Some(b.branch_no), false, false);
                if b.step_index > 0 {
                    push("return", t("退回上一环节", "Return to previous step"), Some(b.branch_no), true, false);
                }
                push("request_correction", t("一次性告知补正", "Request corrections"), Some(b.branch_no), true, false);
                push("reject", t("不予许可", "Refuse"), Some(b.branch_no), true, true);
            }
        }
        CaseStatus::Concluded if window => push("deliver", t("确认送达", "Mark delivered"), None, false, false),
        CaseStatus::AwaitingPayment if window => {
            push("waive_fee", t("免收费用（写明依据）", "Waive the fee (state the basis)"), None, true, false);
        }
        _ => {}
    }
    if window && case.status == CaseStatus::AwaitingPayment {
        out.push(ActionForm {
            action: "confirm_payment",
            label: t("确认现场缴费", "Confirm payment at the window"),
            branch: None,
            needs_text: false,
            danger: false,
            amount: true,
        });
    }
    if window && matches!(case.status, CaseStatus::InProgress | CaseStatus::Concluded) {
        out.push(ActionForm {
            action: "charge_fee",
            label: t("收费登记", "Record fee"),
            branch: None,
            needs_text: false,
            danger: false,
            amount: true,
        });
    }
    out
}

async fn case_page(app: &AppState, c: Chrome, staff: &StaffSession, id: &str, error: Option<String>) -> PageResult {
    let s = staff_view(app, staff, id).await?;
    let target = Target::parse(&s.view.case.target_kind, &s.view.case.target_code).ok_or_else(AppError::not_found)?;
    let p = app.cases.prepare(&target).await?;
    let actions = actions_for(&staff.staff, &s, p.promised_days, c.en);
    let en = c.en;
    let mut res = render(CasePage {
        fields: field_views(&p.form, &s.view.case.form, &[], en),
        editable: false,
        v: s.view.clone(),
        actions,
        s,
        error: error.clone(),
        c,
    })?;
    if error.is_some() {
        *res.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(res)
}

pub async fn case(State(app): State<AppState>, c: Chrome, staff: StaffSession, Path(id): Path<String>) -> PageResult {
    staff.require(Permission::Workbench)?;
    case_page(&app, c, &staff, &id, None).await
}

pub async fn act(
    State(app): State<AppState>,
    c: Chrome,
    Path(id): Path<String>,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(Permission::Workbench)?;
    let version: i64 = field(&form, "version").parse().map_err(|_| AppError::bad_request("BAD_FORM", "缺少版本号，请刷新页面后重试"))?;
    let text = field(&form, "text").to_string();
    let branch = field(&form, "branch").parse::<i64>().ok();
    let need_branch = || branch.ok_or_else(|| AppError::bad_request("BAD_FORM", "缺少部门分支"));
    let action = match field(&form, "action") {
        "accept" => Action::Accept { on_the_spot: false },
        "accept_spot" => Action::Accept { on_the_spot: true },
        "not_accept" => Action::NotAccept { reason: text },
        "request_correction" => Action::RequestCorrection { note: text },
        "approve" => Action::Approve { branch: need_branch()?, note: text },
        "reject" => Action::Reject { branch: need_branch()?, reason: text },
        "return" => Action::Return { branch: need_branch()?, reason: text },
        "deliver" => Action::Deliver { note: text },
        "waive_fee" => Action::WaiveFee { reason: text },
        "confirm_payment" => Action::ConfirmPayment {
            amount_fen: yiwang_catalog::transfer::parse_yuan(field(&form, "amount"))
                .ok_or_else(|| AppError::bad_request("BAD_FORM", "收费金额无效，请填写以元为单位的金额，如 25.00"))?,
            reference: if text.is_empty() { "窗口现场缴费".into() } else { text },
        },
        "charge_fee" => Action::ChargeFee {
            amount_fen: yiwang_catalog::transfer::parse_yuan(field(&form, "amount"))
                .ok_or_else(|| AppError::bad_request("BAD_FORM", "收费金额无效，请填写以元为单位的金额，如 25.00"))?,
            note: text,
        },
        _ => return Err(AppError::bad_request("BAD_ACTION", "未知的操作").into()),
    };
    match app.cases.act_from(&staff.staff, &staff.source, &id, version, &action).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/cases/{id}")).into_response()),
        Err(
            e @ (yiwang_cases::CaseError::Stale
            | yiwang_cases::CaseError::WrongState(_)
            | yiwang_cases::CaseError::InvalidField { .. }
            | yiwang_cases::CaseError::Refused(_)),
        ) => case_page(&app, c, &staff, &id, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn decision(State(app): State<AppState>, c: Chrome, staff: StaffSession, Path(id): Path<String>) -> PageResult {
    staff.require(Permission::Workbench)?;
    let case = app.cases.case_for_staff(&staff.staff, &id).await?;
    let name = case.applicant_name_masked();
    super::cases::decision_page(c, app.cases.view(case).await?, name)
}

pub async fn material(State(app): State<AppState>, staff: StaffSession, Path((id, name)): Path<(String, String)>) -> PageResult {
    Ok(crate::api_cases::staff_material_download(&app, &staff, &id, &name).await?)
}

// ---------- window intake ----------

#[derive(Template)]
#[template(path = "staff/window.html")]
struct WindowPage {
    c: Chrome,
    item: String,
    title: Option<String>,
    instant: bool,
    fields: Vec<FieldView>,
    deliveries: Vec<DeliveryOption>,
    editable: bool,
    problems: Vec<Problem>,
    error: Option<String>,
    kind: String,
    name: String,
    id_number: String,
    agent_name: String,
    agent_id_number: String,
    phone: String,
}

#[derive(serde::Deserialize)]
pub struct WindowQuery {
    item: Option<String>,
}

fn window_page(c: Chrome, item: String) -> WindowPage {
    WindowPage {
        c,
        item,
        title: None,
        instant: false,
        fields: vec![],
        deliveries: vec![],
        editable: true,
        problems: vec![],
        error: None,
        kind: "person".into(),
        name: String::new(),
        id_number: String::new(),
        agent_name: String::new(),
        agent_id_number: String::new(),
        phone: String::new(),
    }
}

pub async fn window_form(State(app): State<AppState>, c: Chrome, staff: StaffSession, Query(q): Query<WindowQuery>) -> PageResult {
    staff.require(Permission::VerifyInPerson)?;
    let item = q.item.unwrap_or_default().trim().to_string();
    let en = c.en;
    let mut page = window_page(c, item.clone());
    if !item.is_empty() {
        match app.cases.prepare(&Target::Item(item)).await {
            Ok(p) => {
                page.title = Some(p.title.clone());
                page.instant = p.instant;
                page.fields = field_views(&p.form, &Default::default(), &[], en);
                page.deliveries = delivery_options(yiwang_cases::Delivery::Window, en);
            }
            Err(e) => page.error = Some(e.to_string()),
        }
    }
    render(page)
}

pub async fn window_submit(
    State(app): State<AppState>,
    c: Chrome,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(Permission::VerifyInPerson)?;
    let item = field(&form, "item").trim().to_string();
    let o = OfflineApplicant {
        kind: field(&form, "kind").into(),
        name: field(&form, "name").into(),
        id_number: field(&form, "id_number").into(),
        agent_name: Some(field(&form, "agent_name").into()),
        agent_id_number: Some(field(&form, "agent_id_number").into()),
        phone: Some(field(&form, "phone").into()),
    };
    let (delivery, delivery_address) = posted_delivery(&form);
    let values = posted_values(&form);
    let on_the_spot = field(&form, "on_the_spot") == "true";
    // Keep the one-time notice's problems beside the error, to show them on the form.
    let result = match offline_applicant(&o) {
        Ok(a) => {
            let input = ApplicationInput { values: values.clone(), delivery, delivery_address };
            app.cases.window_apply(&staff.staff, &a, &Target::Item(item.clone()), &input, on_the_spot, &staff.source).await.map_err(|e| {
                let problems = match &e {
                    yiwang_cases::CaseError::PrecheckFailed(p) => p.clone(),
                    _ => vec![],
                };
                (AppError::from(e), problems)
            })
        }
        Err(e) => Err((e, vec![])),
    };
    match result {
        Ok(case) => Ok(Redirect::to(&format!("/staff/cases/{}", case.case_id)).into_response()),
        Err((e, problems)) if e.status.is_client_error() => {
            let en = c.en;
            let p = app.cases.prepare(&Target::Item(item.clone())).await?;
            let mut page = window_page(c, item);
            page.title = Some(p.title.clone());
            page.instant = p.instant;
            page.fields = field_views(&p.form, &values, &problems, en);
            page.deliveries = delivery_options(delivery.unwrap_or(yiwang_cases::Delivery::Window), en);
            page.error = Some(e.body.message.clone());
            page.problems = problems;
            page.kind = o.kind;
            page.name = o.name;
            page.id_number = o.id_number;
            page.agent_name = o.agent_name.unwrap_or_default();
            page.agent_id_number = o.agent_id_number.unwrap_or_default();
            page.phone = o.phone.unwrap_or_default();
            let mut res = render(page)?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err((e, _)) => Err(e.into()),
    }
}
