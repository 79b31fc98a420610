//! 主动公开: documents, their versions, attachments, scheduled publication and withdrawal,
//! search and the Atom feed.

use sha2::{Digest, Sha256};
use yiwang_identity::Staff;
use yiwang_store::sqlx::{self, Row as _};
use yiwang_store::{Db, Row, Tx};

use crate::error::{invalid, text, OpenError, Result};
use crate::model::*;
use crate::{may_publish, search, Openness};

const COLUMNS: &str = "doc_id, department_code, department_name, kind, title, doc_number, issued_on, valid_from, valid_until, topic, body,
    interpretation, status, publish_at, withdraw_at, withdraw_reason, version, created_at, updated_at";

fn from_row(r: &Row) -> Result<Document> {
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    let interp: Option<String> = r.try_get("interpretation")?;
    Ok(Document {
        doc_id: r.try_get("doc_id")?,
        department_code: r.try_get("department_code")?,
        department_name: r.try_get("department_name")?,
        kind: DocKind::parse(&kind).ok_or_else(|| OpenError::Config(format!("文件类别无效：{kind}")))?,
        title: r.try_get("title")?,
        doc_number: r.try_get("doc_number")?,
        issued_on: r.try_get("issued_on")?,
        valid_from: r.try_get("valid_from")?,
        valid_until: r.try_get("valid_until")?,
        topic: r.try_get("topic")?,
        body: r.try_get("body")?,
        interpretation: interp.map(|t| serde_json::from_str(&t)).transpose()?,
        status: DocStatus::parse(&status).ok_or_else(|| OpenError::Config(format!("发布状态无效：{status}")))?,
        publish_at: r.try_get("publish_at")?,
        withdraw_at: r.try_get("withdraw_at")?,
        withdraw_reason: r.try_get("withdraw_reason")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        attachments: vec![],
    })
}

fn date(s: &Option<String>, field: &str) -> Result<Option<String>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|_| Some(d.to_string()))
            .map_err(|_| invalid(field, "日期格式应为 YYYY-MM-DD")),
    }
}

/// A schedule moment: `YYYY-MM-DDTHH:MM` China time (form) or RFC 3339 (API), as a timestamp.
pub fn parse_moment(s: &str) -> Result<String> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(yiwang_store::timestamp_text(t.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .map(|t| yiwang_store::timestamp_text(yiwang_cases::from_china(t)))
        .map_err(|_| invalid("at", "时间格式应为 YYYY-MM-DDTHH:MM（北京时间）"))
}

fn check(input: &DocumentInput) -> Result<(DocKind, DocumentInput)> {
    let kind = DocKind::parse(&input.kind).ok_or_else(|| invalid("kind", "文件类别无效"))?;
    let issued = date(&Some(input.issued_on.clone()), "issued_on")?.ok_or_else(|| invalid("issued_on", "必须填写成文日期"))?;
    let valid_from = date(&input.valid_from, "valid_from")?;
    let valid_until = date(&input.valid_until, "valid_until")?;
    if let (Some(f), Some(u)) = (&valid_from, &valid_until) {
        if u < f {
            return Err(invalid("valid_until", "失效日期不能早于施行日期"));
        }
    }
    let interpretation = match &input.interpretation {
        Some(i) if !i.body.trim().is_empty() => Some(Interpretation {
            title: text(&i.title, "interpretation.title", 200, false)?,
            body: text(&i.body, "interpretation.body", 20_000, false)?,
            qa: i.qa.iter().filter(|q| !q.q.trim().is_empty()).map(|q| Qa { q: q.q.trim().into(), a: q.a.trim().into() }).collect(),
        }),
        _ => None,
    };
    Ok((
        kind,
        DocumentInput {
            kind: kind.key().into(),
            title: text(&input.title, "title", 200, false)?,
            doc_number: text(&input.doc_number, "doc_number", 100, true)?,
            issued_on: issued,
            valid_from,
            valid_until,
            topic: text(&input.topic, "topic", 50, true)?,
            body: text(&input.body, "body", 200_000, false)?,
            interpretation,
        },
    ))
}

async fn snapshot(tx: &mut Tx, doc_id: &str, at: &str, actor: &str, action: &str) -> Result<()> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM documents WHERE doc_id = $1")))
        .bind(doc_id)
        .fetch_one(&mut **tx)
        .await?;
    let d = from_row(&row)?;
    sqlx::query("INSERT INTO document_history (doc_id, version, at, actor, action, snapshot) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(doc_id)
        .bind(d.version)
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(serde_json::to_string(&d)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Index entries: (id, title, body with the interpretation).
pub(crate) async fn all_for_index(db: &Db) -> Result<Vec<(String, String, String)>> {
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM documents WHERE status <> 'draft'"))).fetch_all(db.reader()).await?;
    rows.iter().map(|r| from_row(r).map(|d| index_entry(&d))).collect()
}

fn index_entry(d: &Document) -> (String, String, String) {
    let mut body = format!("{} {} {} {}", d.doc_number, d.department_name, d.topic, d.body);
    if let Some(i) = &d.interpretation {
        body.push(' ');
        body.push_str(&i.title);
        body.push(' ');
        body.push_str(&i.body);
    }
    (d.doc_id.clone(), d.title.clone(), body)
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct DocFilter {
    pub q: Option<String>,
    pub kind: Option<DocKind>,
    pub department: Option<String>,
}

impl Openness {
    async fn load_document(&self, id: &str) -> Result<Document> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM documents WHERE doc_id = $1")))
            .bind(id)
            .fetch_optional(self.db().reader())
            .await?
            .ok_or_else(|| OpenError::NotFound("公开文件".into()))?;
        let mut d = from_row(&row)?;
        let rows = sqlx::query("SELECT name, content_type, sha256, size FROM document_files WHERE doc_id = $1 ORDER BY name")
            .bind(id)
            .fetch_all(self.db().reader())
            .await?;
        for r in rows {
            d.attachments.push(Attachment {
                name: r.try_get("name")?,
                content_type: r.try_get("content_type")?,
                sha256: r.try_get("sha256")?,
                size: r.try_get("size")?,
            });
        }
        Ok(d)
    }

    /// Create (`id` none) or edit a document of `department`; a new version is kept.
    pub async fn save_document(
        &self,
        staff: &Staff,
        source: &str,
        id: Option<&str>,
        department: &str,
        input: &DocumentInput,
    ) -> Result<Document> {
        if !may_publish(staff, department) {
            return Err(OpenError::Forbidden);
        }
        let (kind, v) = check(input)?;
        let dept = self.catalog.department(department).await.map_err(|_| invalid("department", "部门不存在"))?;
        let now = self.now_text();
        let interp = v.interpretation.as_ref().map(serde_json::to_string).transpose()?;
        let mut tx = self.db().begin().await?;
        let doc_id = match id {
            None => {
                let doc_id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO documents (doc_id, department_code, department_name, kind, title, doc_number, issued_on, valid_from, valid_until,
                        topic, body, interpretation, status, version, created_at, updated_at, updated_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', 1, $13, $13, $14)",
                )
                .bind(&doc_id)
                .bind(&dept.credit_code)
                .bind(&dept.name)
                .bind(kind.key())
                .bind(&v.title)
                .bind(&v.doc_number)
                .bind(&v.issued_on)
                .bind(&v.valid_from)
                .bind(&v.valid_until)
                .bind(&v.topic)
                .bind(&v.body)
                .bind(&interp)
                .bind(&now)
                .bind(&staff.username)
                .execute(&mut *tx)
                .await?;
                doc_id
            }
            Some(id) => {
                let n = sqlx::query(
                    "UPDATE documents SET kind = $1, title = $2, doc_number = $3, issued_on = $4, valid_from = $5, valid_until = $6, topic = $7,
                        body = $8, interpretation = $9, version = version + 1, updated_at = $10, updated_by = $11
                     WHERE doc_id = $12 AND department_code = $13",
                )
                .bind(kind.key())
                .bind(&v.title)
                .bind(&v.doc_number)
                .bind(&v.issued_on)
                .bind(&v.valid_from)
                .bind(&v.valid_until)
                .bind(&v.topic)
                .bind(&v.body)
                .bind(&interp)
                .bind(&now)
                .bind(&staff.username)
                .bind(id)
                .bind(department)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(OpenError::NotFound("公开文件".into()));
                }
                id.to_string()
            }
        };
        snapshot(&mut tx, &doc_id, &now, &staff.username, if id.is_none() { "创建" } else { "修改" }).await?;
        yiwang_identity::audit_in(&mut tx, &staff.username, "openness.document", &doc_id, "保存", source).await?;
        tx.commit().await?;
        let d = self.load_document(&doc_id).await?;
        if d.status != DocStatus::Draft {
            self.index_upsert(search::Kind::Document, &[index_entry(&d)])?;
        }
        Ok(d)
    }

    async fn change_status(
        &self,
        staff: &Staff,
        source: &str,
        id: &str,
        sets: &str,
        binds: &[Option<String>],
        action: &str,
    ) -> Result<Document> {
        let d = self.load_document(id).await?;
        if !may_publish(staff, &d.department_code) {
            return Err(OpenError::Forbidden);
        }
        let now = self.now_text();
        let mut tx = self.db().begin().await?;
        let n = binds.len();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE documents SET {sets}, version = version + 1, updated_at = ${}, updated_by = ${} WHERE doc_id = ${}",
            n + 1,
            n + 2,
            n + 3
        )));
        for b in binds {
            q = q.bind(b.clone());
        }
        q.bind(&now).bind(&staff.username).bind(id).execute(&mut *tx).await?;
        snapshot(&mut tx, id, &now, &staff.username, action).await?;
        yiwang_identity::audit_in(&mut tx, &staff.username, "openness.document", id, action, source).await?;
        tx.commit().await?;
        let d = self.load_document(id).await?;
        self.index_upsert(search::Kind::Document, &[index_entry(&d)])?;
        Ok(d)
    }

    /// 发布, now or at `at` (定时发布).
    pub async fn publish(&self, staff: &Staff, source: &str, id: &str, at: Option<&str>) -> Result<Document> {
        let at = match at.filter(|s| !s.trim().is_empty()) {
            Some(a) => parse_moment(a)?,
            None => self.now_text(),
        };
        let action = if at > self.now_text() { "定时发布" } else { "发布" };
        self.change_status(
            staff,
            source,
            id,
            "status = 'published', publish_at = $1, withdraw_at = NULL, withdraw_reason = NULL",
            &[Some(at)],
            action,
        )
        .await
    }

    /// 撤回, now or at `at`, with the reason; the document and its history stay.
    pub async fn withdraw(&self, staff: &Staff, source: &str, id: &str, reason: &str, at: Option<&str>) -> Result<Document> {
        let reason = text(reason, "reason", 500, false)?;
        let d = self.load_document(id).await?;
        if d.status != DocStatus::Published {
            return Err(OpenError::WrongState(d.status.label_zh()));
        }
        let at = match at.filter(|s| !s.trim().is_empty()) {
            Some(a) => parse_moment(a)?,
            None => self.now_text(),
        };
        self.change_status(staff, source, id, "withdraw_at = $1, withdraw_reason = $2", &[Some(at), Some(reason)], "撤回").await
    }

    /// Attach a file (PDF, image, spreadsheet, at most 10 MB).
    pub async fn attach(&self, staff: &Staff, id: &str, name: &str, content_type: &str, bytes: &[u8]) -> Result<Document> {
        let d = self.load_document(id).await?;
        if !may_publish(staff, &d.department_code) {
            return Err(OpenError::Forbidden);
        }
        let name = text(name, "name", 100, false)?;
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(invalid("name", "文件名无效"));
        }
        if bytes.is_empty() || bytes.len() > 10 * 1024 * 1024 {
            return Err(invalid("file", "附件应为1字节至10MB"));
        }
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "INSERT INTO document_files (doc_id, name, content_type, sha256, size, data) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (doc_id, name) DO UPDATE SET content_type = excluded.content_type, sha256 = excluded.sha256, size = excluded.size, data = excluded.data",
        )
        .bind(id)
        .bind(&name)
        .bind(content_type)
        .bind(hex::encode(Sha256::digest(bytes)))
        .bind(bytes.len() as i64)
        .bind(bytes)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.load_document(id).await
    }

    /// A document as the public sees it (drafts, scheduled and withdrawn ones are not found).
    pub async fn public_document(&self, id: &str) -> Result<Document> {
        let d = self.load_document(id).await?;
        if !d.is_public(&self.now_text()) {
            return Err(OpenError::NotFound("公开文件".into()));
        }
        Ok(d)
    }

    /// A document for staff of its department (any state).
    pub async fn staff_document(&self, staff: &Staff, id: &str) -> Result<Document> {
        let d = self.load_document(id).await?;
        if !may_publish(staff, &d.department_code) {
            return Err(OpenError::NotFound("公开文件".into()));
        }
        Ok(d)
    }

    /// A public document's attachment.
    pub async fn attachment(&self, id: &str, name: &str) -> Result<(Attachment, Vec<u8>)> {
        self.public_document(id).await?;
        let r = sqlx::query("SELECT name, content_type, sha256, size, data FROM document_files WHERE doc_id = $1 AND name = $2")
            .bind(id)
            .bind(name)
            .fetch_optional(self.db().reader())
            .await?
            .ok_or_else(|| OpenError::NotFound("附件".into()))?;
        Ok((
            Attachment {
                name: r.try_get("name")?,
                content_type: r.try_get("content_type")?,
                sha256: r.try_get("sha256")?,
                size: r.try_get("size")?,
            },
            r.try_get("data")?,
        ))
    }

    /// Published documents, newest first (or by relevance with `q`), one page, and the total.
    pub async fn public_documents(&self, f: &DocFilter, page: usize, per_page: usize) -> Result<(Vec<Document>, usize)> {
        let now = self.now_text();
        let per_page = per_page.clamp(1, 100);
        let mut docs: Vec<Document> = match f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => {
                // One read for every hit, kept in relevance order.
                let ids = self.index.search(search::Kind::Document, q, 500)?;
                if ids.is_empty() {
                    return Ok((vec![], 0));
                }
                let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
                let mut query =
                    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM documents WHERE doc_id IN ({})", marks.join(", "))));
                for id in &ids {
                    query = query.bind(id);
                }
                let mut found: Vec<Document> = query.fetch_all(self.db().reader()).await?.iter().map(from_row).collect::<Result<_>>()?;
                found.sort_by_key(|d| ids.iter().position(|i| *i == d.doc_id));
                found
            }
            None => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM documents WHERE status = 'published' ORDER BY issued_on DESC, created_at DESC LIMIT 5000"
                )))
                .fetch_all(self.db().reader())
                .await?;
                rows.iter().map(from_row).collect::<Result<_>>()?
            }
        };
        docs.retain(|d| {
            d.is_public(&now) && f.kind.is_none_or(|k| d.kind == k) && f.department.as_ref().is_none_or(|x| &d.department_code == x)
        });
        let total = docs.len();
        let start = page.saturating_sub(1) * per_page;
        let mut page_docs: Vec<Document> = docs.into_iter().skip(start).take(per_page).collect();
        // Attachments of the page's documents, in one read.
        if !page_docs.is_empty() {
            let marks: Vec<String> = (1..=page_docs.len()).map(|i| format!("${i}")).collect();
            let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT doc_id, name, content_type, sha256, size FROM document_files WHERE doc_id IN ({}) ORDER BY name",
                marks.join(", ")
            )));
            for d in &page_docs {
                query = query.bind(&d.doc_id);
            }
            for r in query.fetch_all(self.db().reader()).await? {
                let id: String = r.try_get("doc_id")?;
                if let Some(d) = page_docs.iter_mut().find(|d| d.doc_id == id) {
                    d.attachments.push(Attachment {
                        name: r.try_get("name")?,
                        content_type: r.try_get("content_type")?,
                        sha256: r.try_get("sha256")?,
                        size: r.try_get("size")?,
                    });
                }
            }
        }
        Ok((page_docs, total))
    }

    /// The department's documents for its staff (every state).
    pub async fn department_documents(&self, staff: &Staff) -> Result<Vec<Document>> {
        let rows = if staff.roles.contains(&yiwang_identity::Role::PlatformAdmin) {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM documents ORDER BY updated_at DESC LIMIT 500")))
                .fetch_all(self.db().reader())
                .await?
        } else {
            let d = staff.department.clone().ok_or(OpenError::Forbidden)?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM documents WHERE department_code = $1 ORDER BY updated_at DESC LIMIT 500"
            )))
            .bind(d)
            .fetch_all(self.db().reader())
            .await?
        };
        rows.iter().map(from_row).collect()
    }

    pub async fn document_history(&self, staff: &Staff, id: &str) -> Result<Vec<HistoryEntry>> {
        self.staff_document(staff, id).await?;
        let rows = sqlx::query("SELECT version, at, actor, action FROM document_history WHERE doc_id = $1 ORDER BY version")
            .bind(id)
            .fetch_all(self.db().reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    version: r.try_get("version")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                })
            })
            .collect()
    }

    /// Atom feed of the latest published documents.
    pub async fn atom_feed(&self, limit: usize) -> Result<String> {
        let (docs, _) = self.public_documents(&DocFilter::default(), 1, limit.min(100)).await?;
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let base = self.public_url();
        let updated =
            docs.iter().map(|d| d.publish_at.clone().unwrap_or_else(|| d.updated_at.clone())).max().unwrap_or_else(|| self.now_text());
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>政务公开</title><id>{base}/gk</id><link rel=\"self\" href=\"{base}/gk/feed.atom\"/><link href=\"{base}/gk\"/><updated>{}</updated>",
            esc(&updated)
        );
        for d in docs {
            let at = d.publish_at.clone().unwrap_or_else(|| d.updated_at.clone());
            out.push_str(&format!(
                "<entry><title>{}</title><id>{base}/gk/{}</id><link href=\"{base}/gk/{}\"/><updated>{}</updated><author><name>{}</name></author><category term=\"{}\"/><summary>{}</summary></entry>",
                esc(&d.title),
                d.doc_id,
                d.doc_id,
                esc(&at),
                esc(&d.department_name),
                d.kind.label_zh(),
                esc(&d.summary())
            ));
        }
        out.push_str("</feed>");
        Ok(out)
    }
}
