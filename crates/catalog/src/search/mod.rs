//! Chinese full-text search over published items (tantivy + jieba).
//!
//! The index is derived data: built in memory from the database at start and kept current by
//! the catalog service after each change, so every node can rebuild its own.
//!
//! Queries are segmented with the same jieba instance as the index (tantivy's query parser
//! would treat 提取公积金 as one phrase). Each query word becomes a group of alternatives
//! (itself and its synonyms) searched across fields with boosts; all groups must match, and if
//! nothing does, any group may. Latin words also match pinyin initials (yyzz → 营业执照),
//! with one typo allowed for longer ones, and English item names.

pub mod tokenizer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use jieba_rs::Jieba;
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED, STRING, TEXT};
use tantivy::tokenizer::{LowerCaser, TextAnalyzer, WhitespaceTokenizer};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Score, TantivyDocument, Term};
use utoipa::ToSchema;

pub use tokenizer::{build_jieba, is_meaningful, pinyin_initials, JiebaTokenizer};

use crate::error::Result;
use crate::model::{Audience, ItemDoc, ItemFilter, ItemStatus, ItemType};

const SYNONYMS: &str = include_str!("synonyms.txt");

/// What the index knows about one published item.
#[derive(Debug, Clone)]
pub struct IndexedItem {
    pub impl_code: String,
    pub status: ItemStatus,
    pub department_name: String,
    pub views: i64,
    pub doc: ItemDoc,
}

/// Display data kept beside the index so hits need no database round trip.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    name_en: Option<String>,
    department_code: String,
    department_name: String,
    body: String,
    status: ItemStatus,
    item_type: ItemType,
    audience: Audience,
    promised_days: u32,
    visits: u32,
    online_depth: u8,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    pub impl_code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// The name with matched words in `<em>`; the rest HTML-escaped.
    pub name_html: String,
    /// A passage of the guide around the first match, highlighted the same way.
    pub snippet_html: String,
    pub department_code: String,
    pub department_name: String,
    pub status: ItemStatus,
    pub item_type: ItemType,
    pub audience: Audience,
    pub promised_days: u32,
    pub visits: u32,
    pub online_depth: u8,
    pub score: f32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub total: usize,
    /// The words the query was understood as, after segmentation.
    pub terms: Vec<String>,
    pub hits: Vec<SearchHit>,
}

struct Fields {
    code: Field,
    name: Field,
    name_en: Field,
    keywords: Field,
    dept: Field,
    body: Field,
    initials: Field,
    department_code: Field,
    region: Field,
    item_type: Field,
    audience: Field,
    theme: Field,
    views: Field,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    jieba: Arc<Jieba>,
    synonyms: HashMap<String, Vec<String>>,
    entries: RwLock<HashMap<String, Entry>>,
}

/// The region and its ancestors by GB/T 2260 structure, so a city filter finds county items.
pub fn region_ancestors(code: &str) -> Vec<String> {
    let mut v = vec![code.to_string()];
    if code.len() >= 6 && code.is_ascii() {
        let c6 = &code[..6];
        for anc in [c6.to_string(), format!("{}00", &c6[..4]), format!("{}0000", &c6[..2])] {
            if !v.contains(&anc) {
                v.push(anc);
            }
        }
    }
    v
}

fn parse_synonyms() -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for line in SYNONYMS.lines().filter(|l| !l.starts_with('#')) {
        let group: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        for w in &group {
            map.entry(w.clone()).or_default().extend(group.iter().filter(|o| *o != w).cloned());
        }
    }
    map
}

impl SearchIndex {
    pub fn new() -> Result<SearchIndex> {
        let synonyms = parse_synonyms();
        let synonym_words: Vec<&str> = synonyms.keys().map(String::as_str).collect();
        let jieba = Arc::new(build_jieba(&synonym_words));

        let mut sb = Schema::builder();
        let zh = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer("jieba").set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let ws = TextOptions::default()
            .set_indexing_options(TextFieldIndexing::default().set_tokenizer("initials").set_index_option(IndexRecordOption::Basic));
        let f = Fields {
            code: sb.add_text_field("code", STRING | STORED),
            name: sb.add_text_field("name", zh.clone()),
            name_en: sb.add_text_field("name_en", TEXT),
            keywords: sb.add_text_field("keywords", zh.clone()),
            dept: sb.add_text_field("dept", zh.clone()),
            body: sb.add_text_field("body", zh),
            initials: sb.add_text_field("initials", ws),
            department_code: sb.add_text_field("department_code", STRING),
            region: sb.add_text_field("region", STRING),
            item_type: sb.add_text_field("item_type", STRING),
            audience: sb.add_text_field("audience", STRING),
            theme: sb.add_text_field("theme", STRING),
            views: sb.add_u64_field("views", FAST | INDEXED),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register("jieba", TextAnalyzer::from(JiebaTokenizer::new(jieba.clone())));
        index.tokenizers().register("initials", TextAnalyzer::builder(WhitespaceTokenizer::default()).filter(LowerCaser).build());
        let writer = index.writer_with_num_threads(1, 30_000_000)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex { index, reader, writer: Mutex::new(writer), f, jieba, synonyms, entries: RwLock::new(HashMap::new()) })
    }

    pub fn jieba(&self) -> &Jieba {
        &self.jieba
    }

    /// The same segmenter for other indexes (building one costs a few hundred milliseconds).
    pub fn shared_jieba(&self) -> Arc<Jieba> {
        self.jieba.clone()
    }

    fn document(&self, it: &IndexedItem) -> TantivyDocument {
        let d = &it.doc;
        let mut doc = TantivyDocument::default();
        doc.add_text(self.f.code, &it.impl_code);
        doc.add_text(self.f.name, &d.name);
        if let Some(en) = &d.name_en {
            doc.add_text(self.f.name_en, en);
        }
        doc.add_text(self.f.keywords, d.keywords.join(" "));
        doc.add_text(self.f.dept, &it.department_name);
        doc.add_text(self.f.body, d.body_text());
        doc.add_text(self.f.initials, pinyin_initials(&self.jieba, &d.name).join(" "));
        doc.add_text(self.f.department_code, &d.department_code);
        for r in region_ancestors(&d.region_code) {
            doc.add_text(self.f.region, r);
        }
        doc.add_text(self.f.item_type, d.item_type.key());
        match d.audience {
            Audience::Both => {
                doc.add_text(self.f.audience, "person");
                doc.add_text(self.f.audience, "business");
            }
            a => doc.add_text(self.f.audience, a.key()),
        }
        for t in &d.themes {
            doc.add_text(self.f.theme, t);
        }
        doc.add_u64(self.f.views, u64::try_from(it.views).unwrap_or(0));
        doc
    }

    fn entry(it: &IndexedItem) -> Entry {
        let d = &it.doc;
        Entry {
            name: d.name.clone(),
            name_en: d.name_en.clone(),
            department_code: d.department_code.clone(),
            department_name: it.department_name.clone(),
            body: d.body_text(),
            status: it.status,
            item_type: d.item_type,
            audience: d.audience,
            promised_days: d.promised_days,
            visits: d.visits,
            online_depth: d.online_depth,
        }
    }

    /// Add or replace items (by implementation code), then make them searchable.
    pub fn upsert(&self, items: &[IndexedItem]) -> Result<()> {
        {
            let mut w = self.writer.lock().map_err(|_| crate::CatalogError::Search("index writer poisoned".into()))?;
            for it in items {
                w.delete_term(Term::from_field_text(self.f.code, &it.impl_code));
                w.add_document(self.document(it))?;
            }
            w.commit()?;
        }
        {
            let mut e = self.entries.write().map_err(|_| crate::CatalogError::Search("entries poisoned".into()))?;
            for it in items {
                e.insert(it.impl_code.clone(), Self::entry(it));
            }
        }
        self.reader.reload()?;
        Ok(())
    }

    pub fn remove(&self, impl_code: &str) -> Result<()> {
        {
            let mut w = self.writer.lock().map_err(|_| crate::CatalogError::Search("index writer poisoned".into()))?;
            w.delete_term(Term::from_field_text(self.f.code, impl_code));
            w.commit()?;
        }
        if let Ok(mut e) = self.entries.write() {
            e.remove(impl_code);
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Replace the whole index.
    pub fn rebuild(&self, items: &[IndexedItem]) -> Result<()> {
        {
            let mut w = self.writer.lock().map_err(|_| crate::CatalogError::Search("index writer poisoned".into()))?;
            w.delete_all_documents()?;
            for it in items {
                w.add_document(self.document(it))?;
            }
            w.commit()?;
        }
        {
            let mut e = self.entries.write().map_err(|_| crate::CatalogError::Search("entries poisoned".into()))?;
            e.clear();
            for it in items {
                e.insert(it.impl_code.clone(), Self::entry(it));
            }
        }
        self.reader.reload()?;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Split a query into words the index knows, most specific first, dropping punctuation.
    pub fn segment(&self, q: &str) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for t in self.jieba.cut(q, true) {
            let w = t.word.trim().to_lowercase();
            if is_meaningful(&w) && !words.contains(&w) {
                words.push(w);
            }
        }
        // A lone character among longer words (的, 办) adds noise; keep it only if alone.
        if words.iter().any(|w| w.chars().count() > 1) {
            words.retain(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_alphanumeric()));
        }
        words
    }

    fn word_query(&self, word: &str) -> Box<dyn Query> {
        let mut alternatives = vec![word.to_string()];
        if let Some(syn) = self.synonyms.get(word) {
            alternatives.extend(syn.iter().cloned());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let term = |f: Field, w: &str, boost: Score| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(Term::from_field_text(f, w), IndexRecordOption::WithFreqs);
            (Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost)))
        };
        for (i, alt) in alternatives.iter().enumerate() {
            // Synonyms count a little less than the word the user typed.
            let k = if i == 0 { 1.0 } else { 0.8 };
            clauses.push(term(self.f.name, alt, 4.0 * k));
            clauses.push(term(self.f.keywords, alt, 3.0 * k));
            clauses.push(term(self.f.dept, alt, 1.5 * k));
            clauses.push(term(self.f.body, alt, 1.0 * k));
        }
        if word.chars().all(|c| c.is_ascii_alphanumeric()) {
            clauses.push(term(self.f.name_en, word, 3.0));
            if word.chars().all(|c| c.is_ascii_alphabetic()) && word.len() >= 2 {
                clauses.push(term(self.f.initials, word, 3.0));
                if word.len() >= 4 {
                    let fuzzy = FuzzyTermQuery::new(Term::from_field_text(self.f.initials, word), 1, true);
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), 1.5))));
                }
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn filter_clauses(&self, filter: &ItemFilter) -> Vec<(Occur, Box<dyn Query>)> {
        let mut v: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut must = |f: Field, s: &str| {
            v.push((Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f, s), IndexRecordOption::Basic))));
        };
        if let Some(d) = &filter.department {
            must(self.f.department_code, d);
        }
        if let Some(r) = &filter.region {
            must(self.f.region, r);
        }
        if let Some(t) = filter.item_type {
            must(self.f.item_type, t.key());
        }
        if let Some(a) = filter.audience {
            if a != Audience::Both {
                must(self.f.audience, a.key());
            }
        }
        if let Some(t) = &filter.theme {
            must(self.f.theme, t);
        }
        v
    }

    /// Ranked search. `offset`/`limit` page through hits.
    pub fn search(&self, q: &str, filter: &ItemFilter, offset: usize, limit: usize) -> Result<SearchResults> {
        let words = self.segment(q);
        if words.is_empty() {
            return Ok(SearchResults { total: 0, terms: words, hits: vec![] });
        }
        let searcher = self.reader.searcher();
        let views = self.f.views;
        let run = |occur: Occur| -> Result<(usize, Vec<(Score, DocAddress)>)> {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = words.iter().map(|w| (occur, self.word_query(w))).collect();
            clauses.extend(self.filter_clauses(filter));
            let query = BooleanQuery::new(clauses);
            let top = TopDocs::with_limit(limit.max(1)).and_offset(offset).tweak_score(move |seg: &tantivy::SegmentReader| {
                let col = seg.fast_fields().u64("views").ok().map(|c| c.first_or_default_col(0));
                let _ = views;
                move |doc: tantivy::DocId, score: Score| {
                    // Popular items win ties; relevance still dominates.
                    let v = col.as_ref().map(|c| c.get_val(doc)).unwrap_or(0) as f32;
                    score * (1.0 + (1.0 + v).ln() / 20.0)
                }
            });
            Ok(searcher.search(&query, &(Count, top))?)
        };
        let (mut total, mut top) = run(Occur::Must)?;
        if total == 0 && words.len() > 1 {
            (total, top) = run(Occur::Should)?;
        }
        let highlight_words = self.highlight_words(&words);
        let entries = self.entries.read().map_err(|_| crate::CatalogError::Search("entries poisoned".into()))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(code) = doc.get_first(self.f.code).and_then(|v| v.as_str()) else { continue };
            let Some(e) = entries.get(code) else { continue };
            hits.push(SearchHit {
                impl_code: code.to_string(),
                name: e.name.clone(),
                name_en: e.name_en.clone(),
                name_html: highlight(&e.name, &highlight_words, usize::MAX),
                snippet_html: highlight(&e.body, &highlight_words, 80),
                department_code: e.department_code.clone(),
                department_name: e.department_name.clone(),
                status: e.status,
                item_type: e.item_type,
                audience: e.audience,
                promised_days: e.promised_days,
                visits: e.visits,
                online_depth: e.online_depth,
                score,
            });
        }
        Ok(SearchResults { total, terms: words, hits })
    }

    /// Words to mark in results: the query words and their synonyms, longest first.
    fn highlight_words(&self, words: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in words {
            out.push(w.clone());
            if let Some(s) = self.synonyms.get(w) {
                out.extend(s.iter().cloned());
            }
        }
        out.retain(|w| !w.is_empty());
        out.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        out.dedup();
        out
    }

    /// Search-mode words of a text, as the index sees them (for tests and diagnostics).
    pub fn analyse(&self, text: &str) -> Vec<String> {
        let mut t = JiebaTokenizer::new(self.jieba.clone());
        let mut ts = tantivy::tokenizer::Tokenizer::token_stream(&mut t, text);
        let mut out = vec![];
        while tantivy::tokenizer::TokenStream::advance(&mut ts) {
            out.push(tantivy::tokenizer::TokenStream::token(&ts).text.clone());
        }
        out
    }

    #[doc(hidden)]
    pub fn index(&self) -> &Index {
        &self.index
    }
}

/// Minimal HTML escaping for text placed in element content or quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escape `text` and wrap occurrences of `words` (longest first) in `<em>`. With a finite
/// `window`, cut to about that many characters around the first match.
pub fn highlight(text: &str, words: &[String], window: usize) -> String {
    let lower = text.to_lowercase();
    // Byte ranges of matches; `lower` keeps byte offsets for CJK and ASCII alike.
    let same_len = lower.len() == text.len();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    if same_len {
        for w in words {
            let mut from = 0;
            while let Some(pos) = lower[from..].find(w.as_str()) {
                let (s, e) = (from + pos, from + pos + w.len());
                if !ranges.iter().any(|&(a, b)| s < b && a < e) {
                    ranges.push((s, e));
                }
                from = e;
            }
        }
    }
    ranges.sort();
    let (start, end) = if window == usize::MAX {
        (0, text.len())
    } else {
        let first = ranges.first().map(|r| r.0).unwrap_or(0);
        let chars_before: Vec<usize> = text[..first].char_indices().map(|(i, _)| i).collect();
        let s = if chars_before.len() > 10 { chars_before[chars_before.len() - 10] } else { 0 };
        let e = text[s..].char_indices().nth(window).map(|(i, _)| s + i).unwrap_or(text.len());
        (s, e)
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut pos = start;
    for &(s, e) in ranges.iter().filter(|&&(s, e)| s >= start && e <= end) {
        out.push_str(&escape(&text[pos..s]));
        out.push_str("<em>");
        out.push_str(&escape(&text[s..e]));
        out.push_str("</em>");
        pos = e;
    }
    out.push_str(&escape(&text[pos..end]));
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_escapes_and_marks() {
        let h = highlight("<b>营业执照</b>办理", &["营业执照".to_string()], usize::MAX);
        assert_eq!(h, "&lt;b&gt;<em>营业执照</em>&lt;/b&gt;办理");
        let long = format!("{}公积金{}", "甲".repeat(50), "乙".repeat(200));
        let h = highlight(&long, &["公积金".to_string()], 30);
        assert!(h.starts_with('…') && h.contains("<em>公积金</em>") && h.ends_with('…'));
    }

    #[test]
    fn ancestors() {
        assert_eq!(region_ancestors("360102001"), vec!["360102001", "360102", "360100", "360000"]);
        assert_eq!(region_ancestors("360000"), vec!["360000"]);
    }
}
