//! Where a link leads, and whether it gets there. Local targets must exist
//! inside the repository; an anchor must be a heading (or HTML anchor) of the
//! Markdown file it points into. URLs with a scheme are counted, never fetched.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::diags::{Code, Problem};
use super::markdown::{self, Document};

/// What a link destination names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// A URL with a scheme (`https:`, `mailto:`, ...) or a network path (`//host/...`).
    External,
    /// An empty destination.
    Empty,
    /// A place in the same file: `#fragment`.
    Anchor(&'a str),
    /// A file, relative to the linking file or, with a leading `/`, to the
    /// repository; with the fragment after `#`, if any.
    Local { path: &'a str, fragment: Option<&'a str> },
}

impl<'a> Target<'a> {
    /// Classifies a destination as written.
    pub(crate) fn of(dest: &'a str) -> Self {
        let dest = dest.trim();
        if dest.is_empty() {
            return Target::Empty;
        }
        if has_scheme(dest) || dest.starts_with("//") {
            return Target::External;
        }
        if let Some(fragment) = dest.strip_prefix('#') {
            return Target::Anchor(fragment);
        }
        let (rest, fragment) = match dest.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (dest, None),
        };
        let path = rest.split_once('?').map_or(rest, |(path, _)| path);
        if path.is_empty() { Target::Anchor(fragment.unwrap_or("")) } else { Target::Local { path, fragment } }
    }
}

/// `scheme:` as RFC 3986 spells it: a letter, then letters, digits, `+`, `-` or `.`.
fn has_scheme(dest: &str) -> bool {
    let Some((scheme, _)) = dest.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Whether a file is Markdown, by its extension.
pub(crate) fn is_markdown(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// A repository path with `/` separators, for messages and facts.
pub(crate) fn display(path: &Path) -> String {
    path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// `base` joined with `path` and normalised without touching the disk, or
/// `None` when `..` climbs out of the repository.
pub(crate) fn join_inside(base: &Path, path: &str) -> Option<PathBuf> {
    let mut out = Vec::new();
    for component in base.join(path).components() {
        match component {
            Component::Normal(part) => out.push(part.to_owned()),
            Component::ParentDir => {
                out.pop()?;
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Some(out.iter().collect())
}

/// Checks link targets against the repository, reading each Markdown file it
/// needs anchors from once.
pub(crate) struct Checker<'a> {
    root: &'a Path,
    /// Parsed Markdown files by repository path; `None` for one that cannot be read.
    documents: HashMap<PathBuf, Option<Document>>,
    /// Local targets checked.
    pub(crate) local: usize,
    /// External targets counted.
    pub(crate) external: usize,
    /// What was found wrong.
    pub(crate) problems: Vec<Problem>,
}

/// Where a link was found and how to name it in a problem.
pub(crate) struct Origin<'a> {
    /// The file holding it, relative to the repository.
    pub(crate) file: &'a Path,
    /// Its line.
    pub(crate) line: usize,
    /// Relative targets start from here (a repository path).
    pub(crate) base: &'a Path,
    /// How a problem names it: `link`, `image`, `runbook_url of alert X`.
    pub(crate) what: &'a str,
}

impl<'a> Checker<'a> {
    /// A checker for the repository at `root`.
    pub(crate) fn new(root: &'a Path) -> Self {
        Self { root, documents: HashMap::new(), local: 0, external: 0, problems: Vec::new() }
    }

    /// The parsed Markdown file at a repository path, read on first use.
    pub(crate) fn document(&mut self, path: &Path) -> Option<&Document> {
        let root = self.root;
        self.documents
            .entry(path.to_owned())
            .or_insert_with(|| std::fs::read(root.join(path)).ok().map(|bytes| markdown::parse(&String::from_utf8_lossy(&bytes))))
            .as_ref()
    }

    /// Checks every link and reference of the Markdown file at `file`.
    pub(crate) fn check_file(&mut self, file: &Path) {
        let Some(doc) = self.document(file).cloned() else { return };
        let base = file.parent().unwrap_or(Path::new(""));
        let shown = display(file);
        for link in &doc.links {
            let what = if link.image { "image" } else { "link" };
            self.check(&Origin { file, line: link.line, base, what }, &link.target);
        }
        for undefined in &doc.undefined {
            self.problems.push(Problem::at(&shown, undefined.line, Code::UndefinedReference, format!("reference link [{}] has no definition", undefined.label)));
        }
    }

    /// Checks one target; returns the local file it resolves to, if it does.
    pub(crate) fn check(&mut self, origin: &Origin<'_>, dest: &str) -> Option<PathBuf> {
        let (path, fragment) = match Target::of(dest) {
            Target::External => {
                self.external += 1;
                return None;
            }
            Target::Empty => {
                self.local += 1;
                self.problem(origin, Code::BrokenLink, format!("{} has an empty target", origin.what));
                return None;
            }
            Target::Anchor(fragment) => (origin.file.to_owned(), Some(fragment)),
            Target::Local { path, fragment } => {
                let decoded = markdown::percent_decode(path);
                let (base, relative) = match decoded.strip_prefix('/') {
                    Some(from_root) => (Path::new(""), from_root.to_owned()),
                    None => (origin.base, decoded.clone()),
                };
                let Some(resolved) = join_inside(base, &relative) else {
                    self.local += 1;
                    self.problem(origin, Code::BrokenLink, format!("{} to {dest} points outside the repository", origin.what));
                    return None;
                };
                if !self.root.join(&resolved).exists() {
                    self.local += 1;
                    self.problem(origin, Code::BrokenLink, format!("{} to {dest}: {} does not exist", origin.what, display(&resolved)));
                    return None;
                }
                (resolved, fragment)
            }
        };
        self.local += 1;
        if let Some(fragment) = fragment.filter(|_| is_markdown(&path)) {
            let found = self.document(&path).is_some_and(|doc| doc.has_anchor(fragment));
            if !found {
                self.problem(origin, Code::MissingAnchor, format!("{} to {dest}: {} has no heading with the anchor '{fragment}'", origin.what, display(&path)));
            }
        }
        Some(path)
    }

    fn problem(&mut self, origin: &Origin<'_>, code: Code, message: String) {
        self.problems.push(Problem::at(&display(origin.file), origin.line, code, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_classified() {
        assert_eq!(Target::of("https://example.com/a#b"), Target::External);
        assert_eq!(Target::of("mailto:ops@example.com"), Target::External);
        assert_eq!(Target::of("//cdn.example.com/x.png"), Target::External);
        assert_eq!(Target::of(""), Target::Empty);
        assert_eq!(Target::of("#usage"), Target::Anchor("usage"));
        assert_eq!(Target::of("?plain=1#usage"), Target::Anchor("usage"));
        assert_eq!(Target::of("docs/a.md#b"), Target::Local { path: "docs/a.md", fragment: Some("b") });
        assert_eq!(Target::of("a.py?plain=1"), Target::Local { path: "a.py", fragment: None });
        assert_eq!(Target::of("c:d.md"), Target::External, "a single-letter scheme is still a scheme");
        assert_eq!(Target::of("3:4.md"), Target::Local { path: "3:4.md", fragment: None });
    }

    #[test]
    fn joins_stay_inside_the_repository() {
        assert_eq!(join_inside(Path::new("docs"), "../README.md"), Some(PathBuf::from("README.md")));
        assert_eq!(join_inside(Path::new("docs/a"), "./b/../c.md"), Some(PathBuf::from("docs/a/c.md")));
        assert_eq!(join_inside(Path::new("docs"), "../../etc/passwd"), None);
    }

    #[test]
    fn local_links_anchors_and_escapes_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::write(dir.path().join("docs/guide.md"), "# Guide\n\n## Install steps\n\n[here](#install-steps) [gone](#removed)\n").unwrap();
        std::fs::write(dir.path().join("README.md"), "[ok](docs/guide.md#install-steps)\n[bad](docs/guide.md#nope)\n[root](/docs/guide.md)\n[missing](docs/none.md)\n[out](../outside.md)\n[code](src/main.rs#L3)\n[x](https://example.com)\n[y][nowhere]\n").unwrap();
        let mut checker = Checker::new(dir.path());
        checker.check_file(Path::new("README.md"));
        checker.check_file(Path::new("docs/guide.md"));
        let found: Vec<_> = checker.problems.iter().map(|p| (p.file.as_str(), p.line, p.code)).collect();
        assert_eq!(
            found,
            [
                ("README.md", Some(2), Code::MissingAnchor),
                ("README.md", Some(4), Code::BrokenLink),
                ("README.md", Some(5), Code::BrokenLink),
                ("README.md", Some(8), Code::UndefinedReference),
                ("docs/guide.md", Some(5), Code::MissingAnchor),
            ]
        );
        assert_eq!((checker.local, checker.external), (8, 1));
        assert!(checker.problems[2].message.contains("outside the repository"), "{}", checker.problems[2].message);
    }
}
