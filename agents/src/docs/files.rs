//! The files the settings name: paths, folders walked for files of a kind,
//! and globs. Everything is a repository path (relative, `/`-joined); a
//! setting that climbs out of the repository names nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::links::{display, join_inside};

/// What a setting's entries name.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// Files, in order, each once.
    pub(crate) files: Vec<PathBuf>,
    /// Entries that name nothing.
    pub(crate) missing: Vec<String>,
}

/// Why an entry cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("'{pattern}' is not a valid glob: {source}; escape a literal character with [ ]")]
pub(crate) struct BadGlob {
    pattern: String,
    #[source]
    source: globset::Error,
}

/// Whether an entry is a glob rather than a path.
pub(crate) fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '[', '{'])
}

/// The files each entry names: a file as it is, a folder as the files under
/// it that `wanted` accepts (hidden and git-ignored ones left out), a glob as
/// the files it matches.
pub(crate) fn find(root: &Path, entries: &[String], wanted: fn(&Path) -> bool) -> Result<Found, BadGlob> {
    let mut found = Found::default();
    let mut seen = BTreeSet::new();
    for entry in entries {
        let (files, exists) = if is_glob(entry) {
            let files = glob(root, entry)?;
            let exists = !files.is_empty();
            (files, exists)
        } else {
            // An existing folder with nothing of the kind in it still exists.
            match join_inside(Path::new(""), entry) {
                Some(path) if root.join(&path).is_dir() => (walk(root, &path, wanted), true),
                Some(path) if root.join(&path).is_file() => (vec![path], true),
                _ => (Vec::new(), false),
            }
        };
        if !exists {
            found.missing.push(entry.clone());
        }
        found.files.extend(files.into_iter().filter(|f| seen.insert(f.clone())));
    }
    Ok(found)
}

/// The files under a folder that `wanted` accepts, sorted.
fn walk(root: &Path, folder: &Path, wanted: fn(&Path) -> bool) -> Vec<PathBuf> {
    ignore::WalkBuilder::new(root.join(folder))
        .sort_by_file_name(Ord::cmp)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && wanted(e.path()))
        .filter_map(|e| e.path().strip_prefix(root).ok().map(Path::to_path_buf))
        .collect()
}

/// The files a glob matches, walking only below its literal leading folders.
fn glob(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, BadGlob> {
    let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
    let matcher = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|source| BadGlob { pattern: pattern.to_owned(), source })?
        .compile_matcher();
    let literal: PathBuf = pattern.split('/').take_while(|part| !is_glob(part)).collect();
    // The last literal part may be the file name itself, not a folder.
    let start = if root.join(&literal).is_dir() { literal } else { literal.parent().map(Path::to_path_buf).unwrap_or_default() };
    let Some(start) = join_inside(Path::new(""), &display(&start)) else { return Ok(Vec::new()) };
    Ok(walk(root, &start, |_| true).into_iter().filter(|f| matcher.is_match(display(f))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::links::is_markdown;

    fn tree(dir: &Path, files: &[&str]) {
        for file in files {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x\n").unwrap();
        }
    }

    fn entries(items: &[&str]) -> Vec<String> {
        items.iter().map(|&i| i.to_owned()).collect()
    }

    #[test]
    fn files_folders_and_globs_are_found_once() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path(), &["README.md", "docs/a.md", "docs/b.markdown", "docs/c.txt", "docs/deep/d.md", "docs/migrations/v2.md", "empty/.keep"]);
        let found = find(dir.path(), &entries(&["README.md", "docs", "docs/a.md", "gone.md", "empty", "../outside"]), is_markdown).unwrap();
        let files: Vec<_> = found.files.iter().map(|f| display(f)).collect();
        assert_eq!(files, ["README.md", "docs/a.md", "docs/b.markdown", "docs/deep/d.md", "docs/migrations/v2.md"]);
        assert_eq!(found.missing, ["gone.md", "../outside"]);
        let found = find(dir.path(), &entries(&["docs/migrations/*.md", "docs/*.txt", "nothing/*.md"]), is_markdown).unwrap();
        let files: Vec<_> = found.files.iter().map(|f| display(f)).collect();
        assert_eq!(files, ["docs/migrations/v2.md", "docs/c.txt"]);
        assert_eq!(found.missing, ["nothing/*.md"]);
    }

    #[test]
    fn a_bad_glob_says_how_to_escape() {
        let dir = tempfile::tempdir().unwrap();
        let err = find(dir.path(), &entries(&["docs/{a"]), is_markdown).unwrap_err();
        assert!(err.to_string().contains("not a valid glob"), "{err}");
    }
}
