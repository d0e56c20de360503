//! The text analyzer: NFKC-normalised text in (the caller applies NFKC; Node's
//! ICU does it far faster than a table port would), tokens out.
//!
//! Tokens are maximal runs of letters, digits and marks (Unicode L, N, M),
//! lowercased code point by code point; every other code point separates.
//! In `Standard` mode a run of Han / Hiragana / Katakana is emitted as
//! overlapping bigrams (a lone character as itself): the dictionary-free CJK
//! fallback. In `Segmented` mode the caller has already segmented the text
//! (jieba for Chinese) and separated the words with spaces or NULs, so CJK runs
//! stay whole. Tokens longer than `max_token_bytes` are dropped and counted.

use super::unicode_tables::{CJK, LOWER, LOWER_MULTI, WORD};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segmentation {
    Standard,
    Segmented,
}

impl Segmentation {
    pub fn parse(s: &str) -> Option<Segmentation> {
        match s {
            "standard" => Some(Segmentation::Standard),
            "segmented" => Some(Segmentation::Segmented),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Analyzer {
    pub seg: Segmentation,
    pub max_token_bytes: usize,
}

fn in_ranges(t: &[(u32, u32)], c: u32) -> bool {
    match t.binary_search_by(|&(a, _)| a.cmp(&c)) {
        Ok(_) => true,
        Err(0) => false,
        Err(i) => c <= t[i - 1].1,
    }
}

fn push_lower(buf: &mut Vec<u8>, c: char) {
    let cp = c as u32;
    let mapped = match LOWER.binary_search_by(|&(a, _)| a.cmp(&cp)) {
        Ok(i) => char::from_u32(LOWER[i].1).unwrap_or(c),
        Err(_) => {
            if let Ok(i) = LOWER_MULTI.binary_search_by(|&(a, _)| a.cmp(&cp)) {
                buf.extend_from_slice(LOWER_MULTI[i].1.as_bytes());
                return;
            }
            c
        }
    };
    let mut tmp = [0u8; 4];
    buf.extend_from_slice(mapped.encode_utf8(&mut tmp).as_bytes());
}

struct Sink<F: FnMut(&[u8])> {
    emit: F,
    max: usize,
    dropped: u64,
}

impl<F: FnMut(&[u8])> Sink<F> {
    /// Emit (or drop, if too long) a non-empty token and clear the buffer.
    fn put(&mut self, t: &mut Vec<u8>) {
        if !t.is_empty() {
            if t.len() > self.max {
                self.dropped += 1
            } else {
                (self.emit)(t)
            }
            t.clear();
        }
    }

    /// A CJK run ended: a lone character is a token of its own (longer runs gave bigrams).
    fn end_run(&mut self, prev: &mut Option<char>, run: &mut usize, buf: &mut Vec<u8>) {
        if let (1, Some(p)) = (*run, *prev) {
            push_lower(buf, p);
            self.put(buf);
        }
        *prev = None;
        *run = 0;
    }
}

impl Analyzer {
    pub fn new(seg: Segmentation, max_token_bytes: usize) -> Analyzer {
        Analyzer { seg, max_token_bytes }
    }

    /// Emit every token of `text`; returns how many were dropped as too long.
    pub fn tokens(&self, text: &str, emit: impl FnMut(&[u8])) -> u64 {
        let mut sink = Sink { emit, max: self.max_token_bytes, dropped: 0 };
        let bigrams = self.seg == Segmentation::Standard;
        let mut word: Vec<u8> = Vec::with_capacity(64);
        let mut pair: Vec<u8> = Vec::with_capacity(8);
        // The current CJK run: its previous character and its length.
        let mut prev: Option<char> = None;
        let mut run = 0usize;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let (is_word, c) = if b < 0x80 {
                i += 1;
                (b.is_ascii_alphanumeric(), b as char)
            } else {
                let c = text[i..].chars().next().unwrap();
                i += c.len_utf8();
                (in_ranges(WORD, c as u32), c)
            };
            if is_word && bigrams && b >= 0x80 && in_ranges(CJK, c as u32) {
                sink.put(&mut word);
                if let Some(p) = prev {
                    push_lower(&mut pair, p);
                    push_lower(&mut pair, c);
                    sink.put(&mut pair);
                }
                prev = Some(c);
                run += 1;
                continue;
            }
            if run > 0 {
                sink.end_run(&mut prev, &mut run, &mut pair);
            }
            if !is_word {
                sink.put(&mut word);
            } else if b < 0x80 {
                word.push(b.to_ascii_lowercase());
            } else {
                push_lower(&mut word, c);
            }
        }
        if run > 0 {
            sink.end_run(&mut prev, &mut run, &mut pair);
        }
        sink.put(&mut word);
        sink.dropped
    }

    /// All tokens as strings (tests, `query --explain`).
    pub fn token_strings(&self, text: &str) -> Vec<String> {
        let mut v = Vec::new();
        self.tokens(text, |t| v.push(String::from_utf8_lossy(t).into_owned()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_tokens(s: &str) -> Vec<String> {
        Analyzer::new(Segmentation::Standard, 255).token_strings(s)
    }

    #[test]
    fn splits_lowercases_and_keeps_marks() {
        assert_eq!(std_tokens("Hello, World! e-mail 3.14"), ["hello", "world", "e", "mail", "3", "14"]);
        assert_eq!(std_tokens("ÉCOLE Straße ΣΟΦΙΑ"), ["école", "straße", "σοφια"]);
        assert_eq!(std_tokens("  ...  "), Vec::<String>::new());
        assert_eq!(std_tokens("İ"), ["i\u{307}"]);
    }

    #[test]
    fn cjk_runs_become_bigrams_or_stay_whole() {
        assert_eq!(std_tokens("南京市长江大桥"), ["南京", "京市", "市长", "长江", "江大", "大桥"]);
        assert_eq!(std_tokens("我 love 中文abc"), ["我", "love", "中文", "abc"]);
        let seg = Analyzer::new(Segmentation::Segmented, 255);
        assert_eq!(seg.token_strings("南京市 长江大桥\0欢迎"), ["南京市", "长江大桥", "欢迎"]);
    }

    #[test]
    fn long_tokens_are_dropped_and_counted() {
        let a = Analyzer::new(Segmentation::Standard, 4);
        let mut got = Vec::new();
        let dropped = a.tokens("abcd abcde é", |t| got.push(t.to_vec()));
        assert_eq!(got, [b"abcd".to_vec(), "é".as_bytes().to_vec()]);
        assert_eq!(dropped, 1);
    }
}
