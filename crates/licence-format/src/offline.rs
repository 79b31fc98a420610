//! Offline verification: a licence file (signed document + seal key) checked against a
//! published key set, with no call to yiwang. Used by the CLI `yiwang licence verify FILE`
//! and by the server itself, so both agree.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::canonical;
use crate::crypto::PublicKey;
use crate::model::{Document, KeySet, LicenceFile, LicenceStatus, Seal, VerifyReport, DOCUMENT_FORMAT};

/// Check a licence file. `keys` anchors the embedded public key (without it the signature is
/// checked but the seal cannot be trusted); `today` is the date (YYYY-MM-DD) expiry is judged
/// on. Revocation is only known online (the report says so).
pub fn verify_file(file: &LicenceFile, keys: Option<&KeySet>, today: &str) -> VerifyReport {
    let mut problems = Vec::new();
    let doc: Option<Document> = serde_json::from_value(file.document.clone()).ok();
    let Some(doc) = doc else {
        return broken(file, "证照文件格式不正确（document 字段缺失或类型不符）");
    };
    if file.format != DOCUMENT_FORMAT || doc.format != DOCUMENT_FORMAT {
        problems.push(format!("不支持的证照文件格式：{}", file.format));
    }
    let signature_valid =
        match (canonical::to_string(&file.document), hex::decode(&file.signature.public_key), B64.decode(&file.signature.value)) {
            (Ok(text), Ok(pk), Ok(sig)) => match PublicKey::parse(file.signature.algorithm, &pk) {
                Ok(key) => key.verify(text.as_bytes(), &sig),
                Err(_) => false,
            },
            _ => false,
        };
    if !signature_valid {
        problems.push("签名验证失败：证照内容被改动或签名无效".into());
    }
    if doc.seal_id != file.signature.seal_id || doc.algorithm != file.signature.algorithm {
        problems.push("签名块与证照中的印章信息不一致".into());
    }
    let seal_valid = match keys {
        None => {
            problems.push("未提供公钥集，无法确认印章可信".into());
            false
        }
        Some(ks) => match ks.keys.iter().find(|k| k.seal_id == file.signature.seal_id) {
            None => {
                problems.push(format!("公钥集中没有印章 {}", file.signature.seal_id));
                false
            }
            Some(seal) => seal_checks(seal, &doc, &file.signature.public_key, &mut problems),
        },
    };
    let in_validity = doc.valid_to.is_empty() || today <= doc.valid_to.as_str();
    if !in_validity {
        problems.push(format!("证照已于{}过期", doc.valid_to));
    }
    let status = if in_validity { LicenceStatus::Valid } else { LicenceStatus::Expired };
    report(&doc, signature_valid, seal_valid, status, in_validity, None, problems)
}

/// The seal must be the one the key set publishes and in force when the licence was signed.
pub fn seal_checks(seal: &Seal, doc: &Document, public_key_hex: &str, problems: &mut Vec<String>) -> bool {
    let mut ok = true;
    if !seal.public_key.eq_ignore_ascii_case(public_key_hex) {
        problems.push("证照所附公钥与公布的印章公钥不一致".into());
        ok = false;
    }
    if seal.algorithm != doc.algorithm {
        problems.push("印章算法与证照不一致".into());
        ok = false;
    }
    if !seal.valid_at(&doc.issued_at) {
        problems.push(format!("签发时间{}不在印章有效期内", doc.issued_at));
        ok = false;
    }
    ok
}

/// The verification report from the individual checks (shared by offline and online verification).
pub fn report(
    doc: &Document,
    signature_valid: bool,
    seal_valid: bool,
    status: LicenceStatus,
    in_validity: bool,
    superseded_by: Option<String>,
    problems: Vec<String>,
) -> VerifyReport {
    VerifyReport {
        identifier: doc.identifier.clone(),
        valid: signature_valid && seal_valid && in_validity && status == LicenceStatus::Valid && problems.is_empty(),
        signature_valid,
        seal_valid,
        status,
        in_validity,
        problems,
        type_name: doc.type_name.clone(),
        number: doc.number.clone(),
        issuer_name: doc.issuer_name.clone(),
        issue_date: doc.issue_date.clone(),
        valid_from: doc.valid_from.clone(),
        valid_to: doc.valid_to_label().to_string(),
        holder_name_masked: doc.holder_name_masked(),
        holder_id_masked: doc.holder_id_masked(),
        version: doc.version,
        seal_id: doc.seal_id.clone(),
        algorithm: doc.algorithm,
        superseded_by,
    }
}

fn broken(file: &LicenceFile, why: &str) -> VerifyReport {
    VerifyReport {
        identifier: file.document.get("identifier").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
        valid: false,
        signature_valid: false,
        seal_valid: false,
        status: LicenceStatus::Revoked,
        in_validity: false,
        problems: vec![why.to_string()],
        type_name: String::new(),
        number: String::new(),
        issuer_name: String::new(),
        issue_date: String::new(),
        valid_from: String::new(),
        valid_to: String::new(),
        holder_name_masked: String::new(),
        holder_id_masked: String::new(),
        version: 0,
        seal_id: file.signature.seal_id.clone(),
        algorithm: file.signature.algorithm,
        superseded_by: None,
    }
}
