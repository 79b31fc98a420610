//! How cases and licences meet: approval of an item with a licence result issues the licence
//! in the conclusion's own transaction (so an approved case never lacks its licence), and
//! materials that a held licence can replace are filled from the wallet (免提交).

use std::collections::BTreeMap;

use yiwang_cases::{BranchStatus, Case, ConclusionHook, HeldLicence, LicenceUsage, LicenceWallet};
use yiwang_store::{Tx, TxFuture};

use crate::model::HolderKind;
use crate::{store, IssueRequest, Licences};

fn to_case_error(e: crate::LicenceError) -> yiwang_cases::CaseError {
    match e {
        crate::LicenceError::Store(s) => yiwang_cases::CaseError::Store(s),
        other => yiwang_cases::CaseError::Refused(format!("电子证照签发失败：{other}")),
    }
}

/// The value of a licence field on automatic issuance: a form field, or one of the case's own
/// facts (`case_number`, `applicant_name`, `applicant_id_number`, `concluded_date`).
fn field_value(case: &Case, branch_form: &yiwang_cases::Values, source: &str) -> String {
    match source {
        "case_number" => case.case_number.clone().unwrap_or_default(),
        "applicant_name" => case.applicant_name.clone(),
        "applicant_id_number" => case.applicant_id_number.clone(),
        "concluded_date" => case.concluded_at.as_deref().unwrap_or_default().chars().take(10).collect(),
        key => branch_form.get(key).or_else(|| case.form.get(key)).cloned().unwrap_or_default(),
    }
}

impl Licences {
    async fn issue_for_case(&self, tx: &mut Tx, case: &Case) -> crate::Result<usize> {
        let mut issued = 0;
        for b in case.branches.iter().filter(|b| b.status == BranchStatus::Approved) {
            for t in self.types_for_item(tx, &b.item_code).await? {
                let kind_matches = match t.holder {
                    HolderKind::Person => case.applicant_kind == yiwang_cases::ApplicantKind::Person,
                    HolderKind::Business => case.applicant_kind == yiwang_cases::ApplicantKind::Business,
                };
                if !kind_matches {
                    tracing::warn!(case = %case.case_id, licence_type = %t.code, "applicant kind differs from the licence holder kind; not issued");
                    continue;
                }
                let data: BTreeMap<String, String> =
                    t.fields.iter().map(|f| (f.key.clone(), field_value(case, &b.form, f.from.as_deref().unwrap_or(&f.key)))).collect();
                let req = IssueRequest {
                    type_code: t.code.clone(),
                    issuer_code: b.department_code.clone(),
                    issuer_name: b.department_name.clone(),
                    holder_name: case.applicant_name.clone(),
                    holder_id: case.applicant_id_number.clone(),
                    data,
                    item_code: Some(b.item_code.clone()),
                    case_id: Some(case.case_id.clone()),
                    case_number: case.case_number.clone(),
                    valid_from: None,
                    valid_to: None,
                };
                // 换领: a valid licence of the same type from the same issuer gets a new version.
                let previous = store::current_of(tx, &self.sealer, &req.holder_id, &t.code, &req.issuer_code).await?;
                let l = self.issue_in(tx, &req, previous.as_ref().map(|p| &p.document)).await?;
                yiwang_identity::audit_in(tx, "system", "licence.issue", &l.document.identifier, "办件办结自动签发", &case.case_id).await?;
                issued += 1;
            }
        }
        Ok(issued)
    }

    async fn use_held_in(&self, tx: &mut Tx, holder_id: &str, types: &[String], usage: &LicenceUsage) -> crate::Result<Vec<HeldLicence>> {
        let today = self.today().to_string();
        let mut out: Vec<HeldLicence> = Vec::new();
        for (l, seal) in store::held_of_types(tx, &self.sealer, holder_id, types, &today).await? {
            if out.iter().any(|h| h.type_code == l.document.type_code) {
                continue; // the newest of each type only
            }
            let file = self.file_with(&l, &seal)?;
            store::record_use(tx, &self.sealer, &l.document.identifier, holder_id, usage, &self.now_text()).await?;
            out.push(HeldLicence {
                type_code: l.document.type_code.clone(),
                identifier: l.document.identifier.clone(),
                title: l.document.type_name.clone(),
                file: serde_json::to_vec_pretty(&file)?,
            });
        }
        Ok(out)
    }
}

impl ConclusionHook for Licences {
    fn on_concluded<'a>(&'a self, tx: &'a mut Tx, case: &'a Case) -> TxFuture<'a, yiwang_cases::Result<()>> {
        Box::pin(async move {
            let n = self.issue_for_case(tx, case).await.map_err(to_case_error)?;
            if n > 0 {
                tracing::info!(case = %case.case_id, licences = n, "e-licences issued on conclusion");
            }
            Ok(())
        })
    }
}

impl LicenceWallet for Licences {
    fn use_held<'a>(
        &'a self,
        tx: &'a mut Tx,
        holder_id: &'a str,
        type_codes: &'a [String],
        usage: &'a LicenceUsage,
    ) -> TxFuture<'a, yiwang_cases::Result<Vec<HeldLicence>>> {
        Box::pin(async move { self.use_held_in(tx, holder_id, type_codes, usage).await.map_err(to_case_error) })
    }
}
