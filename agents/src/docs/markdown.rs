//! Markdown as the docs kind reads it: the headings with the anchors GitHub
//! gives them, and every link and image with its line. Links inside code
//! spans and code blocks are not links, and the parser never reports them.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use pulldown_cmark::{BrokenLink, Event, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// One Markdown file's headings, anchors and links.
#[derive(Clone, Debug, Default)]
pub(crate) struct Document {
    /// Headings in document order.
    pub(crate) headings: Vec<Heading>,
    /// Inline, reference and autolinks, and images, in document order.
    pub(crate) links: Vec<Link>,
    /// Full (`[text][label]`) and collapsed (`[label][]`) reference links whose
    /// label has no definition. Shortcut ones (`[label]`) are left alone: in
    /// prose they are as often plain brackets as links.
    pub(crate) undefined: Vec<Undefined>,
    /// Heading slugs and the `id`/`name` attributes of inline HTML.
    anchors: HashSet<String>,
}

/// A heading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Heading {
    /// Its text, without markup.
    pub(crate) text: String,
    /// The anchor GitHub gives it.
    pub(crate) anchor: String,
    /// Its line, 1-based.
    pub(crate) line: usize,
}

/// A link or an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    /// The destination as written (reference links resolved).
    pub(crate) target: String,
    /// The line it starts on, 1-based.
    pub(crate) line: usize,
    /// Whether it is an image.
    pub(crate) image: bool,
    /// Whether it is an autolink (`<https://...>`, `<me@example.com>`).
    pub(crate) auto: bool,
}

/// A reference link without a definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Undefined {
    /// The label it uses.
    pub(crate) label: String,
    /// Its line, 1-based.
    pub(crate) line: usize,
}

impl Document {
    /// Whether `fragment` (percent-encoded, as it appears after `#`) names a
    /// place in this document. The empty fragment and `top` are the top of the
    /// page; other fragments match anchors ignoring ASCII case, as GitHub's
    /// pages do when they scroll to a heading.
    pub(crate) fn has_anchor(&self, fragment: &str) -> bool {
        let fragment = percent_decode(fragment);
        if fragment.is_empty() || fragment.eq_ignore_ascii_case("top") {
            return true;
        }
        self.anchors.contains(&fragment) || self.anchors.iter().any(|a| a.eq_ignore_ascii_case(&fragment))
    }

    /// Whether the document has a heading whose text is `name`, ignoring case
    /// and surrounding whitespace.
    pub(crate) fn has_heading(&self, name: &str) -> bool {
        let name = name.trim().to_lowercase();
        self.headings.iter().any(|h| h.text.trim().to_lowercase() == name)
    }
}

/// The extensions GitHub renders. Heading attributes (`{#id}`) are left out
/// because GitHub shows them as text and slugs them with the heading.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_GFM
}

/// Reads a Markdown text.
pub(crate) fn parse(text: &str) -> Document {
    let lines = LineIndex::new(text);
    let mut undefined = Vec::new();
    let mut doc = Document::default();
    {
        let callback = |broken: BrokenLink<'_>| {
            if matches!(broken.link_type, LinkType::Reference | LinkType::Collapsed) {
                undefined.push(Undefined { label: broken.reference.to_string(), line: lines.line(broken.span.start) });
            }
            None
        };
        let mut reader = Reader { doc: &mut doc, lines: &lines, slugger: Slugger::default(), heading: None, image_depth: 0 };
        for (event, range) in Parser::new_with_broken_link_callback(text, options(), Some(callback)).into_offset_iter() {
            reader.event(event, range.start);
        }
    }
    doc.undefined = undefined;
    doc
}

/// The state of one pass over the events.
struct Reader<'a> {
    doc: &'a mut Document,
    lines: &'a LineIndex,
    slugger: Slugger,
    /// The text and line of the heading being read.
    heading: Option<(String, usize)>,
    /// How many images the reader is inside; GitHub leaves alt text out of anchors.
    image_depth: usize,
}

impl Reader<'_> {
    fn event(&mut self, event: Event<'_>, offset: usize) {
        match event {
            Event::Start(Tag::Heading { .. }) => self.heading = Some((String::new(), self.lines.line(offset))),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((text, line)) = self.heading.take() {
                    let anchor = self.slugger.slug(&text);
                    self.doc.anchors.insert(anchor.clone());
                    self.doc.headings.push(Heading { text, anchor, line });
                }
            }
            Event::Start(Tag::Link { link_type, dest_url, .. }) => self.link(&dest_url, link_type, offset, false),
            Event::Start(Tag::Image { link_type, dest_url, .. }) => {
                self.image_depth += 1;
                self.link(&dest_url, link_type, offset, true);
            }
            Event::End(TagEnd::Image) => self.image_depth = self.image_depth.saturating_sub(1),
            Event::Text(text) | Event::Code(text) => {
                if let (Some((heading, _)), 0) = (self.heading.as_mut(), self.image_depth) {
                    heading.push_str(&text);
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => self.doc.anchors.extend(html_anchors(&html)),
            _ => {}
        }
    }

    fn link(&mut self, target: &str, link_type: LinkType, offset: usize, image: bool) {
        let auto = matches!(link_type, LinkType::Autolink | LinkType::Email);
        self.doc.links.push(Link { target: target.to_owned(), line: self.lines.line(offset), image, auto });
    }
}

/// The `id` and `name` attributes in a piece of HTML, which GitHub keeps as
/// anchors (`<a name="legacy"></a>`).
fn html_anchors(html: &str) -> Vec<String> {
    static ATTRIBUTE: OnceLock<Regex> = OnceLock::new();
    // A fixed pattern that is valid; it cannot fail to compile.
    let attribute = ATTRIBUTE.get_or_init(|| Regex::new(r#"(?i)\b(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("a valid pattern"));
    attribute.captures_iter(html).filter_map(|c| c.get(1).or_else(|| c.get(2))).map(|m| m.as_str().to_owned()).collect()
}

/// GitHub's heading anchors (the `github-slugger` rules): lowercase, spaces
/// to `-`, every character but letters, digits, `-` and `_` dropped, and a
/// heading whose anchor is taken gets `-1`, `-2`, ... appended.
#[derive(Debug, Default)]
pub(crate) struct Slugger {
    /// Each anchor given out, with how many times its base was repeated.
    seen: HashMap<String, usize>,
}

impl Slugger {
    /// The anchor for the next heading with this text.
    pub(crate) fn slug(&mut self, text: &str) -> String {
        let base = slug(text);
        let mut anchor = base.clone();
        while self.seen.contains_key(&anchor) {
            let repeats = self.seen.entry(base.clone()).or_default();
            *repeats += 1;
            anchor = format!("{base}-{repeats}");
        }
        self.seen.insert(anchor.clone(), 0);
        anchor
    }
}

/// A heading's anchor before duplicates are numbered.
pub(crate) fn slug(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// `%XX` escapes decoded; invalid escapes and invalid UTF-8 are kept as they are.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits make at most 255, so the cast is exact.
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Byte offsets to 1-based line numbers.
pub(crate) struct LineIndex {
    /// The offset each line starts at.
    starts: Vec<usize>,
}

impl LineIndex {
    /// The line starts of `text`.
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)).collect();
        Self { starts }
    }

    /// The line holding byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }

    /// How many lines the text has (a final newline starts no new line of text).
    pub(crate) fn count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_github() {
        let mut s = Slugger::default();
        assert_eq!(s.slug("Getting Started"), "getting-started");
        assert_eq!(s.slug("What's new in v1.0.0?"), "whats-new-in-v100");
        assert_eq!(s.slug("snake_case & kebab-case"), "snake_case--kebab-case");
        assert_eq!(s.slug("Ünïcode Straße"), "ünïcode-straße");
        assert_eq!(s.slug("Getting Started"), "getting-started-1");
        assert_eq!(s.slug("Getting Started"), "getting-started-2");
        assert_eq!(s.slug("getting-started-1"), "getting-started-1-1", "a literal heading that collides with a numbered one is numbered again");
    }

    #[test]
    fn headings_take_their_text_without_markup() {
        let doc = parse("# The `run` verb\n\nSetext *title*\n===\n\n## ![logo](logo.png) Logo\n");
        let anchors: Vec<_> = doc.headings.iter().map(|h| (h.anchor.as_str(), h.line)).collect();
        assert_eq!(anchors, [("the-run-verb", 1), ("setext-title", 3), ("-logo", 6)]);
        assert!(doc.has_heading("setext title"));
        assert!(!doc.has_heading("setext"));
    }

    #[test]
    fn links_have_lines_and_code_has_none() {
        let text = "Intro [a](a.md)\n\n```\n[not](a link.md)\n```\n\n`[nor](this.md)` ![img](i.png)\n\n[ref][r] and <https://example.com>\n\n[r]: docs/r.md#part\n";
        let doc = parse(text);
        let links: Vec<_> = doc.links.iter().map(|l| (l.target.as_str(), l.line, l.image, l.auto)).collect();
        assert_eq!(links, [("a.md", 1, false, false), ("i.png", 7, true, false), ("docs/r.md#part", 9, false, false), ("https://example.com", 9, false, true)]);
    }

    #[test]
    fn undefined_full_and_collapsed_references_are_reported() {
        let doc = parse("[a][missing] and [gone][] and [just brackets]\n\n[x][ok]\n\n[ok]: ok.md\n");
        let labels: Vec<_> = doc.undefined.iter().map(|u| (u.label.as_str(), u.line)).collect();
        assert_eq!(labels, [("missing", 1), ("gone", 1)]);
    }

    #[test]
    fn fragments_match_slugs_html_anchors_and_the_top() {
        let doc = parse("# Café Menu\n\n<a name=\"legacy-anchor\"></a>\n\n## Symptoms\n");
        assert!(doc.has_anchor("caf%C3%A9-menu"));
        assert!(doc.has_anchor("Symptoms"));
        assert!(doc.has_anchor("legacy-anchor"));
        assert!(doc.has_anchor(""));
        assert!(doc.has_anchor("top"));
        assert!(!doc.has_anchor("mitigation"));
    }

    #[test]
    fn percent_decoding_keeps_what_it_cannot_decode() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%ff"), "%ff");
    }

    #[test]
    fn lines_count_from_one() {
        let index = LineIndex::new("a\nb\n\nc");
        assert_eq!((index.line(0), index.line(2), index.line(4), index.line(5)), (1, 2, 3, 4));
        assert_eq!(index.count(), 4);
    }
}
