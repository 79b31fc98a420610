//! A tantivy tokenizer over a shared jieba instance. It indexes the union of jieba's default
//! segmentation (which also finds unknown words by HMM) and its full mode (every dictionary
//! word inside the text, of any length), so 住房公积金提取 is found by 公积金 and by 提取, and
//! 营业执照注销 by 营业执照. Jieba's search mode is not enough: it only adds 2- and 3-character
//! sub-words.

use std::sync::Arc;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Government terms that jieba's general dictionary splits badly, plus every synonym.
const GOV_TERMS: &str = include_str!("gov_terms.txt");

/// Build the jieba instance with the government-terms dictionary loaded.
pub fn build_jieba(extra_words: &[&str]) -> Jieba {
    let mut jieba = Jieba::new();
    for line in GOV_TERMS.lines() {
        let word = line.split_whitespace().next().unwrap_or("");
        if !word.is_empty() && !word.starts_with('#') {
            jieba.add_word(word, Some(20_000), None);
        }
    }
    for w in extra_words {
        jieba.add_word(w, Some(20_000), None);
    }
    jieba
}

/// Whether a token carries meaning for search (not whitespace or punctuation).
pub fn is_meaningful(word: &str) -> bool {
    word.chars().any(|c| c.is_alphanumeric())
}

/// Every word of `text` the index keeps, in text order, without duplicates.
pub fn index_words<'a>(jieba: &Jieba, text: &'a str) -> Vec<jieba_rs::Token<'a>> {
    let mut seen = std::collections::HashSet::new();
    let mut words: Vec<jieba_rs::Token<'a>> = jieba
        .cut(text, true)
        .into_iter()
        .chain(jieba.cut_all(text))
        .filter(|t| is_meaningful(t.word) && seen.insert((t.byte_start, t.byte_end)))
        .collect();
    words.sort_by_key(|t| (t.byte_start, t.byte_end));
    words
}

#[derive(Clone)]
pub struct JiebaTokenizer {
    jieba: Arc<Jieba>,
}

impl JiebaTokenizer {
    pub fn new(jieba: Arc<Jieba>) -> Self {
        JiebaTokenizer { jieba }
    }
}

pub struct JiebaTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = JiebaTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JiebaTokenStream {
        let tokens = index_words(&self.jieba, text)
            .into_iter()
            .enumerate()
            .map(|(position, t)| Token {
                offset_from: t.byte_start,
                offset_to: t.byte_end,
                position,
                text: t.word.to_lowercase(),
                position_length: 1,
            })
            .collect();
        JiebaTokenStream { tokens, index: 0 }
    }
}

impl TokenStream for JiebaTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

/// Pinyin initials of each word and of the whole text: 营业执照注销 → ["yyzz", "zx", "yyzzzx"].
pub fn pinyin_initials(jieba: &Jieba, text: &str) -> Vec<String> {
    use pinyin::ToPinyin;
    let initials = |s: &str| -> String { s.to_pinyin().flatten().map(|p| p.first_letter()).collect::<String>() };
    let mut out: Vec<String> = Vec::new();
    let words = index_words(jieba, text).into_iter().map(|t| initials(t.word));
    for w in words.chain(std::iter::once(initials(text))) {
        if w.len() >= 2 && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(j: &JiebaTokenizer, s: &str) -> Vec<String> {
        let mut j = j.clone();
        let mut ts = j.token_stream(s);
        let mut out = vec![];
        while ts.advance() {
            out.push(ts.token().text.clone());
        }
        out
    }

    #[test]
    fn search_mode_yields_sub_words() {
        let t = JiebaTokenizer::new(Arc::new(build_jieba(&[])));
        let w = words(&t, "住房公积金提取，营业执照注销 Registration");
        for expected in ["住房公积金", "公积金", "提取", "营业执照", "营业执照注销", "注销", "registration"] {
            assert!(w.contains(&expected.to_string()), "{expected} missing from {w:?}");
        }
        assert!(!w.iter().any(|x| x == "，"));
    }

    #[test]
    fn initials() {
        let j = build_jieba(&[]);
        let i = pinyin_initials(&j, "营业执照注销");
        assert!(i.contains(&"yyzz".to_string()), "{i:?}");
        assert!(i.contains(&"yyzzzx".to_string()), "{i:?}");
    }
}
