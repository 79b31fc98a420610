//! Full-text Chinese search over disclosed documents and datasets: a tantivy index in memory
//! (derived data, rebuilt from the database at start), segmented by the catalog's jieba.
//! Every word of the query must match (title or body); if none match that way, any word may.

use std::sync::{Arc, Mutex};

use jieba_rs::Jieba;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use yiwang_catalog::search::tokenizer::{is_meaningful, JiebaTokenizer};

use crate::error::Result;

/// What is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Document,
    Dataset,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Document => "doc",
            Kind::Dataset => "dataset",
        }
    }
}

pub struct OpenIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    jieba: Arc<Jieba>,
    kind: Field,
    id: Field,
    key: Field,
    title: Field,
    body: Field,
}

impl OpenIndex {
    pub fn new(jieba: Arc<Jieba>) -> Result<OpenIndex> {
        let mut sb = Schema::builder();
        let zh = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer("jieba").set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let kind = sb.add_text_field("kind", STRING);
        let id = sb.add_text_field("id", STRING | STORED);
        let key = sb.add_text_field("key", STRING);
        let title = sb.add_text_field("title", zh.clone());
        let body = sb.add_text_field("body", zh);
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register("jieba", TextAnalyzer::from(JiebaTokenizer::new(jieba.clone())));
        let writer = index.writer_with_num_threads(1, 50_000_000)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(OpenIndex { index, reader, writer: Mutex::new(writer), jieba, kind, id, key, title, body })
    }

    /// Add or replace entries (kind, id, title, body) and make them searchable.
    pub fn upsert(&self, kind: Kind, entries: &[(String, String, String)]) -> Result<()> {
        let mut w = self.writer.lock().map_err(|_| crate::OpenError::Index("索引写锁损坏".into()))?;
        for (id, title, body) in entries {
            let key = format!("{}:{id}", kind.key());
            w.delete_term(Term::from_field_text(self.key, &key));
            w.add_document(doc!(self.kind => kind.key(), self.id => id.as_str(), self.key => key, self.title => title.as_str(), self.body => body.as_str()))?;
        }
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    pub fn remove(&self, kind: Kind, id: &str) -> Result<()> {
        let mut w = self.writer.lock().map_err(|_| crate::OpenError::Index("索引写锁损坏".into()))?;
        w.delete_term(Term::from_field_text(self.key, &format!("{}:{id}", kind.key())));
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// The query's words the index knows.
    pub fn words(&self, q: &str) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for t in self.jieba.cut(q, true) {
            let w = t.word.trim().to_lowercase();
            if is_meaningful(&w) && !words.contains(&w) {
                words.push(w);
            }
        }
        if words.iter().any(|w| w.chars().count() > 1) {
            words.retain(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_alphanumeric()));
        }
        words
    }

    fn word_query(&self, w: &str) -> Box<dyn Query> {
        let term = |f: Field, boost: f32| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(Term::from_field_text(f, w), IndexRecordOption::WithFreqs);
            (Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost)))
        };
        Box::new(BooleanQuery::new(vec![term(self.title, 3.0), term(self.body, 1.0)]))
    }

    /// Ids of `kind` matching `q`, best first (at most `limit`).
    pub fn search(&self, kind: Kind, q: &str, limit: usize) -> Result<Vec<String>> {
        let words = self.words(q);
        if words.is_empty() {
            return Ok(vec![]);
        }
        let searcher = self.reader.searcher();
        let kind_q: Box<dyn Query> = Box::new(TermQuery::new(Term::from_field_text(self.kind, kind.key()), IndexRecordOption::Basic));
        for occur in [Occur::Must, Occur::Should] {
            let words_q: Vec<(Occur, Box<dyn Query>)> = words.iter().map(|w| (occur, self.word_query(w))).collect();
            let query = BooleanQuery::new(vec![(Occur::Must, kind_q.box_clone()), (Occur::Must, Box::new(BooleanQuery::new(words_q)))]);
            let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
            if !top.is_empty() {
                let mut out = Vec::with_capacity(top.len());
                for (_, addr) in top {
                    let d: TantivyDocument = searcher.doc(addr)?;
                    if let Some(id) = d.get_first(self.id).and_then(|v| v.as_str()) {
                        out.push(id.to_string());
                    }
                }
                return Ok(out);
            }
        }
        Ok(vec![])
    }

    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn index(&self) -> &Index {
        &self.index
    }
}
