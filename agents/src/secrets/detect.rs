//! The detector: one Aho-Corasick pass over a file's bytes for every rule's
//! keywords, then each triggered rule's regex over the region around the
//! keyword only. Files and lines without a keyword cost one automaton pass
//! and nothing else, which is what makes the scan fast.

use std::cell::RefCell;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use memchr::{memchr, memmem, memrchr};
use sha2::{Digest, Sha256};

use super::allow::{Allowlist, INLINE_MARKERS};
use super::rules::{self, Region, Rule};

/// The compiled rules and their keyword automaton.
pub(crate) struct Detector {
    rules: Vec<Rule>,
    keywords: AhoCorasick,
    /// For each keyword (automaton pattern id), the rules it triggers.
    triggers: Vec<u64>,
}

/// A secret found and not allowlisted. It holds where the secret is and its
/// fingerprint, never the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Index into [`rules::RULES`].
    pub rule: usize,
    /// 1-based line of the secret's first byte.
    pub line: u64,
    /// 1-based column of the secret's first byte, in Unicode scalar values.
    pub column: u64,
    /// See [`fingerprint`].
    pub fingerprint: String,
}

/// A match before allowlisting: the rule and the secret's byte range.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    rule: usize,
    start: usize,
    end: usize,
}

/// What one content scan yielded.
#[derive(Debug, Default)]
pub(crate) struct Detected {
    /// Findings in content order.
    pub hits: Vec<Hit>,
    /// Matches silenced by a placeholder, an allowlist pattern or an inline comment.
    pub allowlisted: u64,
}

thread_local! {
    /// Each thread's lowercased copy of the content it scans, reused.
    static LOWERCASE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The detector, compiled once per process.
pub(crate) fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(Detector::new)
}

impl Detector {
    fn new() -> Self {
        let rules = rules::compile();
        assert!(rules.len() <= 64, "rule sets are u64 bitmasks");
        let mut words: Vec<String> = Vec::new();
        let mut triggers: Vec<u64> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            for word in rule.spec.keywords {
                let word = word.to_ascii_lowercase();
                match words.iter().position(|w| *w == word) {
                    Some(at) => triggers[at] |= 1 << i,
                    None => {
                        words.push(word);
                        triggers.push(1 << i);
                    }
                }
            }
        }
        // Leftmost-longest matching reports the longest keyword at an
        // offset and hides those it contains, so a keyword triggers the
        // rules of every keyword inside it too.
        let triggers: Vec<u64> = words.iter().map(|w| words.iter().zip(&triggers).filter(|(v, _)| w.contains(v.as_str())).fold(0, |all, (_, t)| all | t)).collect();
        // The keywords are constants, so building cannot fail on input.
        let keywords = AhoCorasickBuilder::new().match_kind(MatchKind::LeftmostLongest).build(&words).unwrap_or_else(|e| panic!("secret keywords: {e}"));
        Self { rules, keywords, triggers }
    }

    /// Every secret in `content`, with fingerprints over `path`.
    pub fn scan(&self, path: &str, content: &[u8], allow: &Allowlist) -> Detected {
        let candidates = self.candidates(content);
        let mut detected = Detected::default();
        let mut lines = LineCounter::default();
        for c in suppress_overlaps(candidates) {
            let rule = &self.rules[c.rule];
            let secret = &content[c.start..c.end];
            let (line_start, line_end) = line_bounds(content, c.start);
            let line = &content[line_start..line_end];
            if rule.placeholder.as_ref().is_some_and(|p| p.is_match(secret)) || allow.value_allowed(secret, line) || has_inline_marker(line) {
                detected.allowlisted += 1;
                continue;
            }
            detected.hits.push(Hit {
                rule: c.rule,
                line: lines.line_of(content, c.start),
                column: column(&content[line_start..c.start]),
                fingerprint: fingerprint(rule.spec.id, path, secret),
            });
        }
        detected
    }

    /// Rule matches in `content` that pass each rule's own checks.
    fn candidates(&self, content: &[u8]) -> Vec<Candidate> {
        // Keywords are searched in an ASCII-lowercased copy (same offsets):
        // a case-sensitive automaton with leftmost semantics runs on SIMD
        // packed searchers, several times faster than a case-insensitive
        // overlapping one.
        LOWERCASE.with_borrow_mut(|lower| {
            lower.clear();
            lower.extend(content.iter().map(u8::to_ascii_lowercase));
            self.candidates_in(content, lower)
        })
    }

    fn candidates_in(&self, content: &[u8], lower: &[u8]) -> Vec<Candidate> {
        let mut out = Vec::new();
        // Rules already run for the current line, so a line full of
        // keywords runs each regex once.
        let mut line = (0usize, 0usize);
        let mut done: u64 = 0;
        let mut from = 0;
        while let Some(m) = self.keywords.find(Input::new(lower).range(from..)) {
            // Restarting one byte on finds keywords that overlap this one.
            from = m.start() + 1;
            if m.start() >= line.1 || line.1 == 0 {
                line = line_bounds(content, m.start());
                done = 0;
            }
            let mut todo = self.triggers[m.pattern().as_usize()] & !done;
            done |= todo;
            while todo != 0 {
                let rule = todo.trailing_zeros() as usize;
                todo &= todo - 1;
                self.run_rule(rule, content, line, m.start(), &mut out);
            }
        }
        out
    }

    /// Runs one rule's regex over its region around a keyword at `at`.
    fn run_rule(&self, index: usize, content: &[u8], line: (usize, usize), at: usize, out: &mut Vec<Candidate>) {
        let rule = &self.rules[index];
        let (start, end, must_start_before) = match rule.spec.region {
            Region::Line => (line.0, trim_cr(content, line.0, line.1), line.1),
            Region::Forward(n) => (line.0, (line.0 + n).min(content.len()), line.1),
            Region::Around(n) => {
                let from = line_bounds(content, at.saturating_sub(n)).0;
                let to = line_bounds(content, (at + n).min(content.len().saturating_sub(1))).1;
                (from, to, to)
            }
        };
        let region = &content[start..end];
        for caps in rule.regex.captures_iter(region) {
            let Some(secret) = caps.iter().skip(1).flatten().next() else { continue };
            if start + secret.start() >= must_start_before {
                break;
            }
            let bytes = secret.as_bytes();
            if rule.spec.min_entropy.is_some_and(|min| rules::entropy(bytes) < min) || (rule.spec.needs_digit && !bytes.iter().any(u8::is_ascii_digit)) {
                continue;
            }
            out.push(Candidate { rule: index, start: start + secret.start(), end: start + secret.end() });
        }
    }
}

/// Where two matches share bytes, only the more specific rule (earlier in
/// the table) reports; the same match found twice reports once.
fn suppress_overlaps(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by_key(|c| (c.start, c.rule));
    let mut kept = Vec::with_capacity(candidates.len());
    let mut cluster: Vec<Candidate> = Vec::new();
    let mut cluster_end = 0;
    for c in candidates {
        if c.start >= cluster_end {
            keep_most_specific(&mut cluster, &mut kept);
        }
        cluster_end = cluster_end.max(c.end);
        cluster.push(c);
    }
    keep_most_specific(&mut cluster, &mut kept);
    kept.sort_by_key(|c| c.start);
    kept
}

/// Drains a cluster of chained overlaps (small: a few matches on one
/// secret), keeping, rule by rule, each match that overlaps none kept.
fn keep_most_specific(cluster: &mut Vec<Candidate>, kept: &mut Vec<Candidate>) {
    cluster.sort_by_key(|c| (c.rule, c.start));
    let first = kept.len();
    for c in cluster.drain(..) {
        if !kept[first..].iter().any(|k| k.start < c.end && c.start < k.end) {
            kept.push(c);
        }
    }
}

/// Hex SHA-256 of `rule id NUL path NUL secret`. The line is not part of
/// it, so a finding keeps its fingerprint when lines above it move; the
/// path is, so the same secret in two files is two findings.
pub(crate) fn fingerprint(rule: &str, path: &str, secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(secret);
    hex::encode(hasher.finalize())
}

/// The `[start, end)` of the line holding byte `at`, without its newline.
fn line_bounds(content: &[u8], at: usize) -> (usize, usize) {
    let start = memrchr(b'\n', &content[..at]).map_or(0, |i| i + 1);
    let end = memchr(b'\n', &content[at..]).map_or(content.len(), |i| at + i);
    (start, end)
}

/// `end`, less a carriage return that ends the line.
fn trim_cr(content: &[u8], start: usize, end: usize) -> usize {
    if end > start && content[end - 1] == b'\r' { end - 1 } else { end }
}

fn has_inline_marker(line: &[u8]) -> bool {
    INLINE_MARKERS.iter().any(|m| memmem::find(line, m.as_bytes()).is_some())
}

/// 1-based column after `prefix`, counting Unicode scalar values (bytes
/// that do not continue a UTF-8 sequence).
fn column(prefix: &[u8]) -> u64 {
    prefix.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64 + 1
}

/// Line numbers for offsets that mostly increase, counting newlines only
/// once in that case.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: u64,
}

impl LineCounter {
    fn line_of(&mut self, content: &[u8], at: usize) -> u64 {
        if at < self.offset {
            *self = Self::default();
        }
        self.line += memchr::memchr_iter(b'\n', &content[self.offset..at]).count() as u64;
        self.offset = at;
        self.line + 1
    }
}
