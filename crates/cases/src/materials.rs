//! 申请材料 uploaded materials: checked by content (not by the name or the type the browser
//! claims), stored once by SHA-256 in the database (transactional, backed up with everything
//! else) and shared by every department of the case. Files are only ever served back as
//! downloads with their sniffed type, so an upload can never run as a page on our origin.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use yiwang_store::sqlx::{self, AnyConnection, Row as _};
use yiwang_store::{now_text, Tx};

use crate::error::{CaseError, Result};

/// Largest accepted file.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// What a material slot holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialInfo {
    pub name: String,
    pub sha256: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: String,
    /// Set when the slot is filled by a held e-licence (the file is its signed JSON).
    pub licence_id: Option<String>,
}

/// Decide the type from the bytes. PDF, JPEG and PNG only; PDFs with active content refused.
pub fn sniff(bytes: &[u8]) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(CaseError::BadMaterial("文件为空".into()));
    }
    if bytes.len() > MAX_BYTES {
        return Err(CaseError::BadMaterial(format!("文件不能超过{}MB", MAX_BYTES / 1024 / 1024)));
    }
    if bytes.starts_with(b"%PDF-") {
        // Scripts and launch actions have no place in an application material.
        let active: [&[u8]; 4] = [b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile"];
        if active.iter().any(|needle| bytes.windows(needle.len()).any(|w| w == *needle)) {
            return Err(CaseError::BadMaterial("PDF 含有脚本或嵌入文件，请另存为普通 PDF 后上传".into()));
        }
        return Ok("application/pdf");
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok("image/jpeg");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok("image/png");
    }
    Err(CaseError::BadMaterial("仅支持 PDF、JPG、PNG 格式".into()))
}

/// A safe file name for display and download (no paths, no control characters, bounded).
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*')).take(100).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "材料".into()
    } else {
        cleaned
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Store the blob (once) and put it in the case's slot, replacing what was there.
pub(crate) async fn attach(
    tx: &mut Tx,
    case_id: &str,
    name: &str,
    file_name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<MaterialInfo> {
    put(tx, case_id, name, file_name, content_type, bytes, None).await
}

/// Fill a slot with a held e-licence (免提交): its signed file is stored like an upload.
pub(crate) async fn attach_licence(tx: &mut Tx, case_id: &str, name: &str, held: &crate::HeldLicence) -> Result<MaterialInfo> {
    let file_name = format!("{}（电子证照）.json", held.title);
    put(tx, case_id, name, &file_name, "application/json", &held.file, Some(&held.identifier)).await
}

/// Fill a slot with facts fetched through the data exchange (数据共享核验): the signed gateway
/// answer is stored like an upload.
pub(crate) async fn attach_shared(tx: &mut Tx, case_id: &str, name: &str, shared: &crate::SharedRecord) -> Result<MaterialInfo> {
    let file_name = format!("{}（数据共享核验）.json", shared.title);
    put(tx, case_id, name, &file_name, "application/json", &shared.file, None).await
}

async fn put(
    tx: &mut Tx,
    case_id: &str,
    name: &str,
    file_name: &str,
    content_type: &str,
    bytes: &[u8],
    licence_id: Option<&str>,
) -> Result<MaterialInfo> {
    let sha = sha256_hex(bytes);
    let now = now_text();
    // Concurrent uploads of the same file race here: whoever is second just shares the row.
    sqlx::query(
        "INSERT INTO blobs (sha256, content_type, size, data, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&sha)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(bytes.to_vec())
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM case_materials WHERE case_id = $1 AND name = $2").bind(case_id).bind(name).execute(&mut **tx).await?;
    sqlx::query(
        "INSERT INTO case_materials (case_id, name, sha256, file_name, content_type, size, uploaded_at, licence_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(case_id)
    .bind(name)
    .bind(&sha)
    .bind(file_name)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(&now)
    .bind(licence_id)
    .execute(&mut **tx)
    .await?;
    Ok(MaterialInfo {
        name: name.into(),
        sha256: sha,
        file_name: file_name.into(),
        content_type: content_type.into(),
        size: bytes.len() as i64,
        uploaded_at: now,
        licence_id: licence_id.map(String::from),
    })
}

pub(crate) async fn list(c: &mut AnyConnection, case_id: &str) -> Result<Vec<MaterialInfo>> {
    let rows = sqlx::query(
        "SELECT name, sha256, file_name, content_type, size, uploaded_at, licence_id FROM case_materials WHERE case_id = $1 ORDER BY uploaded_at, name",
    )
    .bind(case_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MaterialInfo {
                name: r.try_get("name")?,
                sha256: r.try_get("sha256")?,
                file_name: r.try_get("file_name")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get("size")?,
                uploaded_at: r.try_get("uploaded_at")?,
                licence_id: r.try_get("licence_id")?,
            })
        })
        .collect()
}

pub(crate) async fn content(c: &mut AnyConnection, case_id: &str, name: &str) -> Result<Option<(MaterialInfo, Vec<u8>)>> {
    let row = sqlx::query(
        "SELECT m.name, m.sha256, m.file_name, m.content_type, m.size, m.uploaded_at, m.licence_id, b.data
         FROM case_materials m JOIN blobs b ON b.sha256 = m.sha256 WHERE m.case_id = $1 AND m.name = $2",
    )
    .bind(case_id)
    .bind(name)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let info = MaterialInfo {
        name: r.try_get("name")?,
        sha256: r.try_get("sha256")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        uploaded_at: r.try_get("uploaded_at")?,
        licence_id: r.try_get("licence_id")?,
    };
    Ok(Some((info, r.try_get("data")?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn types_come_from_content() {
        assert_eq!(sniff(b"%PDF-1.7\n...").unwrap(), "application/pdf");
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap(), "image/jpeg");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").unwrap(), "image/png");
        assert!(sniff(b"<html><script>alert(1)</script>").is_err());
        assert!(sniff(b"MZ\x90\x00").is_err(), "executables refused");
        assert!(sniff(b"%PDF-1.4 /OpenAction << /S /JavaScript >>").is_err());
        assert!(sniff(b"").is_err());
        assert!(sniff(&vec![0xFF; MAX_BYTES + 1]).is_err());
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\证件\\身份证.pdf"), "身份证.pdf");
        assert_eq!(clean_file_name("\"><script>.pdf"), "script.pdf");
        assert_eq!(clean_file_name(".."), "材料");
    }

    proptest! {
        #[test]
        fn sniff_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = sniff(&bytes);
        }
        #[test]
        fn clean_names_have_no_separators(name in "\\PC{0,80}") {
            let c = clean_file_name(&name);
            prop_assert!(!c.contains('/') && !c.contains('\\') && !c.is_empty());
        }
    }
}
