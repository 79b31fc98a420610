//! Import and export of the catalog: JSON (full fidelity) and CSV/Excel with Chinese column
//! headers, as staff keep lists in spreadsheets. An import is all or nothing: every row is
//! checked, errors are reported row by row, and only a clean file is written, in one
//! transaction.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{CatalogError, Result};
use crate::model::*;
use crate::service::{create_in, publish_in, update_in, Catalog, Editor};
use crate::{repo, validate};

/// One item as exchanged in files.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ItemRecord {
    pub impl_code: String,
    pub doc: ItemDoc,
}

/// A problem in one row (1-based; the header is row 1 in CSV/Excel, items count from 1 in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub total: usize,
    pub created: usize,
    pub updated: usize,
    pub published: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xlsx" | "excel" => Some(Format::Xlsx),
            _ => None,
        }
    }
    /// Guess from a file name's extension.
    pub fn from_filename(name: &str) -> Option<Format> {
        name.rsplit('.').next().and_then(Format::parse)
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// Spreadsheet columns, in order.
pub const COLUMNS: &[&str] = &[
    "实施编码",
    "事项名称",
    "英文名称",
    "基本编码",
    "事项类型",
    "实施主体编码",
    "行政区划代码",
    "服务对象",
    "主题",
    "关键词",
    "事项概述",
    "设定依据",
    "受理条件",
    "申请材料",
    "办理流程",
    "办件类型",
    "法定办结时限",
    "承诺办结时限",
    "办理渠道",
    "到现场次数",
    "收费",
    "办理地点",
    "办理时间",
    "咨询电话",
    "监督投诉电话",
    "办理结果类型",
    "办理结果名称",
    "网办深度",
    "网办地址",
];

fn split_list(s: &str) -> Vec<String> {
    s.split(['\n', '；', ';']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

/// Parse an amount in yuan ("12.5", "¥12.50", "0") into fen without floating point.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
    let (int_part, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yuan: i64 = int_part.parse().ok()?;
    let fen: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    yuan.checked_mul(100)?.checked_add(fen)
}

pub fn format_yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

fn material_line(m: &Material) -> String {
    let line = format!("{}|{}|{}|{}|{}", m.name, m.form.label_zh(), m.count, m.format, m.licence_type.clone().unwrap_or_default());
    match &m.shared_resource {
        Some(r) => format!("{line}|{r}"),
        None => line,
    }
}

fn parse_material(line: &str) -> std::result::Result<Material, String> {
    let p: Vec<&str> = line.split('|').map(str::trim).collect();
    let name = p[0].to_string();
    if name.is_empty() {
        return Err("材料名称不能为空".into());
    }
    let form = match p.get(1).filter(|s| !s.is_empty()) {
        Some(f) => MaterialForm::parse(f).ok_or_else(|| format!("材料形式“{f}”无效，应为原件、复印件、原件和复印件或电子材料"))?,
        None => MaterialForm::Original,
    };
    let count = match p.get(2).filter(|s| !s.is_empty()) {
        Some(c) => c.parse::<u32>().map_err(|_| format!("材料份数“{c}”不是整数"))?,
        None => 1,
    };
    Ok(Material {
        name,
        required: true,
        form,
        count,
        format: p.get(3).map(|s| s.to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| "纸质或电子".into()),
        basis: String::new(),
        source: "申请人自备".into(),
        licence_type: p.get(4).map(|s| s.to_string()).filter(|s| !s.is_empty()),
        shared_resource: p.get(5).map(|s| s.to_string()).filter(|s| !s.is_empty()),
        note: String::new(),
    })
}

fn parse_fee(line: &str) -> std::result::Result<Fee, String> {
    let p: Vec<&str> = line.split('|').map(str::trim).collect();
    let amount = p.get(1).copied().unwrap_or("");
    let amount_fen = parse_yuan(amount).ok_or_else(|| format!("收费金额“{amount}”无效，应为元，最多两位小数"))?;
    Ok(Fee {
        name: p[0].to_string(),
        amount_fen,
        basis: p.get(2).map(|s| s.to_string()).unwrap_or_default(),
        note: String::new(),
        waivers: vec![],
    })
}

fn parse_step(line: &str) -> std::result::Result<Step, String> {
    let p: Vec<&str> = line.split('|').map(str::trim).collect();
    let days = match p.get(2).filter(|s| !s.is_empty()) {
        Some(d) => Some(d.parse::<u32>().map_err(|_| format!("环节时限“{d}”不是整数"))?),
        None => None,
    };
    Ok(Step { name: p[0].to_string(), description: p.get(1).map(|s| s.to_string()).unwrap_or_default(), days })
}

/// One spreadsheet row (already split into cells) to a record; every bad cell is reported.
pub fn row_to_record(row_no: usize, cells: &[String], errors: &mut Vec<RowError>) -> Option<ItemRecord> {
    let before = errors.len();
    let cell = |i: usize| cells.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut err = |col: usize, msg: String| errors.push(RowError { row: row_no, column: COLUMNS[col].to_string(), message: msg });
    let required = |col: usize, err: &mut dyn FnMut(usize, String)| {
        let v = cell(col);
        if v.is_empty() {
            err(col, "不能为空".into());
        }
        v
    };
    let impl_code = required(0, &mut err);
    let name = required(1, &mut err);
    let basic_code = required(3, &mut err);
    let item_type = match ItemType::parse(&cell(4)) {
        Some(t) => t,
        None => {
            err(4, format!("事项类型“{}”无效", cell(4)));
            ItemType::PublicService
        }
    };
    let department_code = required(5, &mut err);
    let region_code = required(6, &mut err);
    let audience = match Audience::parse(&cell(7)) {
        Some(a) => a,
        None => {
            err(7, format!("服务对象“{}”无效，应为自然人、法人或自然人、法人", cell(7)));
            Audience::Both
        }
    };
    fn list_of<T>(text: &str, f: fn(&str) -> std::result::Result<T, String>, col: usize, err: &mut dyn FnMut(usize, String)) -> Vec<T> {
        split_list(text).iter().filter_map(|l| f(l).map_err(|m| err(col, m)).ok()).collect()
    }
    let materials = list_of(&cell(13), parse_material, 13, &mut err);
    let procedure = list_of(&cell(14), parse_step, 14, &mut err);
    let fees = list_of(&cell(20), parse_fee, 20, &mut err);
    let case_kind = CaseKind::parse(&cell(15)).unwrap_or_else(|| {
        err(15, format!("办件类型“{}”无效，应为即办件或承诺件", cell(15)));
        CaseKind::Promised
    });
    let number = |col: usize, err: &mut dyn FnMut(usize, String)| -> u32 {
        let v = cell(col);
        if v.is_empty() {
            return 0;
        }
        v.parse::<u32>().unwrap_or_else(|_| {
            err(col, format!("“{v}”不是非负整数"));
            0
        })
    };
    let statutory_days = number(16, &mut err);
    let promised_days = number(17, &mut err);
    let visits = number(19, &mut err);
    let online_depth = number(27, &mut err);
    let result_type = ResultType::parse(&cell(25)).unwrap_or_else(|| {
        err(25, format!("办理结果类型“{}”无效，应为证照、批文、其他或无", cell(25)));
        ResultType::Other
    });
    let record = ItemRecord {
        impl_code,
        doc: ItemDoc {
            name,
            name_en: Some(cell(2)).filter(|s| !s.is_empty()),
            basic_code,
            item_type,
            power_source: "法定本级行使".into(),
            department_code,
            region_code,
            audience,
            themes: split_list(&cell(8)),
            keywords: split_list(&cell(9)),
            summary: cell(10),
            legal_basis: split_list(&cell(11)),
            conditions: split_list(&cell(12)),
            materials,
            procedure,
            case_kind,
            statutory_days,
            promised_days,
            channels: split_list(&cell(18)),
            visits,
            fees,
            place: cell(21),
            hours: cell(22),
            enquiry_phone: cell(23),
            complaint_phone: cell(24),
            result_type,
            result_name: cell(26),
            online_depth: u8::try_from(online_depth).unwrap_or(0),
            online_url: Some(cell(28)).filter(|s| !s.is_empty()),
        },
    };
    (errors.len() == before).then_some(record)
}

pub fn record_to_row(r: &ItemRecord) -> Vec<String> {
    let d = &r.doc;
    let lines = |v: &[String]| v.join("\n");
    vec![
        r.impl_code.clone(),
        d.name.clone(),
        d.name_en.clone().unwrap_or_default(),
        d.basic_code.clone(),
        d.item_type.label_zh().into(),
        d.department_code.clone(),
        d.region_code.clone(),
        d.audience.label_zh().into(),
        lines(&d.themes),
        lines(&d.keywords),
        d.summary.clone(),
        lines(&d.legal_basis),
        lines(&d.conditions),
        d.materials.iter().map(material_line).collect::<Vec<_>>().join("\n"),
        d.procedure
            .iter()
            .map(|s| format!("{}|{}|{}", s.name, s.description, s.days.map(|x| x.to_string()).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n"),
        d.case_kind.label_zh().into(),
        d.statutory_days.to_string(),
        d.promised_days.to_string(),
        lines(&d.channels),
        d.visits.to_string(),
        d.fees.iter().map(|f| format!("{}|{}|{}", f.name, format_yuan(f.amount_fen), f.basis)).collect::<Vec<_>>().join("\n"),
        d.place.clone(),
        d.hours.clone(),
        d.enquiry_phone.clone(),
        d.complaint_phone.clone(),
        d.result_type.label_zh().into(),
        d.result_name.clone(),
        d.online_depth.to_string(),
        d.online_url.clone().unwrap_or_default(),
    ]
}

fn header_errors(header: &[String]) -> Vec<RowError> {
    COLUMNS
        .iter()
        .enumerate()
        .filter(|(i, c)| header.get(*i).map(|h| h.trim().trim_start_matches('\u{feff}')) != Some(**c))
        .map(|(i, c)| RowError { row: 1, column: c.to_string(), message: format!("第{}列表头应为“{c}”", i + 1) })
        .collect()
}

fn rows_to_records(rows: Vec<Vec<String>>) -> std::result::Result<Vec<ItemRecord>, Vec<RowError>> {
    let mut it = rows.into_iter();
    let header = it.next().unwrap_or_default();
    let mut errors = header_errors(&header);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::new();
    for (i, row) in it.enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if let Some(r) = row_to_record(i + 2, &row, &mut errors) {
            out.push(r);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parse a file into records, or every problem found.
pub fn parse(format: Format, bytes: &[u8]) -> std::result::Result<Vec<ItemRecord>, Vec<RowError>> {
    let whole = |msg: String| vec![RowError { row: 0, column: String::new(), message: msg }];
    match format {
        Format::Json => {
            let values: Vec<serde_json::Value> = serde_json::from_slice(bytes)
                .map_err(|e| whole(format!("JSON格式错误（第{}行第{}列）：应为事项数组", e.line(), e.column())))?;
            let mut errors = Vec::new();
            let mut out = Vec::new();
            for (i, v) in values.into_iter().enumerate() {
                match serde_json::from_value::<ItemRecord>(v) {
                    Ok(r) => out.push(r),
                    Err(e) => errors.push(RowError { row: i + 1, column: String::new(), message: format!("字段错误：{e}") }),
                }
            }
            if errors.is_empty() {
                Ok(out)
            } else {
                Err(errors)
            }
        }
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
            let mut rows = Vec::new();
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| whole(format!("CSV第{}行无法读取：{e}", i + 1)))?;
                rows.push(rec.iter().map(str::to_string).collect());
            }
            rows_to_records(rows)
        }
        Format::Xlsx => {
            use calamine::Reader;
            let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
                .map_err(|e| whole(format!("无法读取Excel文件：{e}")))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| whole("Excel文件没有工作表".into()))?
                .map_err(|e| whole(format!("无法读取工作表：{e}")))?;
            let rows = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
            rows_to_records(rows)
        }
    }
}

/// Write records in a format.
pub fn write(format: Format, records: &[ItemRecord]) -> Result<Vec<u8>> {
    let fail = |e: String| CatalogError::Invalid(format!("导出失败：{e}"));
    match format {
        Format::Json => serde_json::to_vec_pretty(records).map_err(|e| fail(e.to_string())),
        Format::Csv => {
            // BOM so Excel opens UTF-8 Chinese correctly.
            let mut out = "\u{feff}".as_bytes().to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(COLUMNS).map_err(|e| fail(e.to_string()))?;
                for r in records {
                    w.write_record(record_to_row(r)).map_err(|e| fail(e.to_string()))?;
                }
                w.flush().map_err(|e| fail(e.to_string()))?;
            }
            Ok(out)
        }
        Format::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.set_name("实施清单").map_err(|e| fail(e.to_string()))?;
            for (c, h) in COLUMNS.iter().enumerate() {
                sheet.write_string(0, c as u16, *h).map_err(|e| fail(e.to_string()))?;
            }
            for (r, rec) in records.iter().enumerate() {
                for (c, v) in record_to_row(rec).into_iter().enumerate() {
                    sheet.write_string(r as u32 + 1, c as u16, v).map_err(|e| fail(e.to_string()))?;
                }
            }
            book.save_to_buffer().map_err(|e| fail(e.to_string()))
        }
    }
}

impl Catalog {
    /// All items in the editor's scope, latest version of each.
    pub async fn export_records(&self, editor: &Editor) -> Result<Vec<ItemRecord>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p = self.list_staff(editor, &ItemFilter::default(), None, page, 100).await?;
            for s in &p.items {
                let item = self.item_latest(editor, &s.impl_code).await?;
                out.push(ItemRecord { impl_code: item.impl_code, doc: item.doc });
            }
            if (page as u64) * 100 >= p.total {
                break;
            }
            page += 1;
        }
        out.sort_by(|a, b| a.impl_code.cmp(&b.impl_code));
        Ok(out)
    }

    /// Import records: new codes are created, existing ones get a new draft; with `publish`
    /// each is published too. `progress(done, total)` is called as rows are processed.
    /// All or nothing: on any error nothing is written and every error is returned.
    pub async fn import(
        &self,
        editor: &Editor,
        records: &[ItemRecord],
        publish: bool,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<ImportReport> {
        let total = records.len();
        let mut errors = Vec::new();
        // First pass without the database: codes and completeness.
        for (i, r) in records.iter().enumerate() {
            if let Err(e) = validate::check_codes(&r.impl_code, &r.doc) {
                errors.push(RowError { row: i + 1, column: "实施编码".into(), message: e.to_string() });
            }
            if publish {
                for p in validate::publish_problems(&r.doc) {
                    errors.push(RowError { row: i + 1, column: String::new(), message: p });
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, r) in records.iter().enumerate() {
            if !seen.insert(r.impl_code.trim().to_ascii_uppercase()) {
                errors.push(RowError {
                    row: i + 1, column: "实施编码".into(), message: format!("实施编码{}在文件中重复", r.impl_code)
                });
            }
        }
        if !errors.is_empty() {
            return Err(CatalogError::ImportRejected(errors));
        }
        let mut report = ImportReport { total, ..Default::default() };
        let mut tx = self.db().begin().await?;
        for (i, r) in records.iter().enumerate() {
            let exists = repo::item_row(&mut tx, r.impl_code.trim()).await?.is_some();
            let result = if exists {
                update_in(&mut tx, editor, &r.impl_code, &r.doc, "import").await.map(|_| report.updated += 1)
            } else {
                create_in(&mut tx, editor, &r.impl_code, &r.doc, "import").await.map(|_| report.created += 1)
            };
            let result = match result {
                Ok(()) if publish => publish_in(&mut tx, editor, r.impl_code.trim()).await.map(|_| report.published += 1),
                other => other,
            };
            match result {
                Ok(()) => {}
                Err(CatalogError::Store(e)) => return Err(CatalogError::Store(e)),
                Err(e) => errors.push(RowError { row: i + 1, column: String::new(), message: e.to_string() }),
            }
            progress(i + 1, total);
        }
        if !errors.is_empty() {
            tx.rollback().await?;
            return Err(CatalogError::ImportRejected(errors));
        }
        tx.commit().await?;
        self.reindex().await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yuan_to_fen() {
        assert_eq!(parse_yuan("12.5"), Some(1250));
        assert_eq!(parse_yuan("￥0.05"), Some(5));
        assert_eq!(parse_yuan("100元"), Some(10000));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(parse_yuan(""), None);
    }

    proptest! {
        #[test]
        fn fen_round_trips_through_yuan(fen in 0i64..10_000_000_000) {
            prop_assert_eq!(parse_yuan(&format_yuan(fen)), Some(fen));
        }

        #[test]
        fn csv_parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse(Format::Csv, s.as_bytes());
            let _ = parse(Format::Json, s.as_bytes());
        }
    }

    #[test]
    fn bad_rows_are_reported_by_row_and_column() {
        let mut rows = vec![COLUMNS.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
        let mut row = vec![String::new(); COLUMNS.len()];
        row[1] = "测试事项".into();
        row[4] = "不存在的类型".into();
        row[7] = "自然人".into();
        row[15] = "承诺件".into();
        row[16] = "十".into();
        row[25] = "证照".into();
        rows.push(row);
        let errs = rows_to_records(rows).unwrap_err();
        let cols: Vec<&str> = errs.iter().map(|e| e.column.as_str()).collect();
        assert!(cols.contains(&"实施编码") && cols.contains(&"事项类型") && cols.contains(&"法定办结时限"), "{errs:?}");
        assert!(errs.iter().all(|e| e.row == 2));
    }
}
