//! The release artifacts an `artifacts` setting names: globs relative to the
//! repository (`dist/*.tar.gz`, `target/release/**/app`), matched against the
//! files on disk. Build output is usually git-ignored, so ignore files play no
//! part; only `.git` and conductor's own `.conductor` folder are never entered.
//! `*` and `?` stay within one path component; `**` crosses components.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use evidence::digest::Sha256;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::{AgentOutcome, AgentTask};

/// Folders no artifact glob looks into.
const SKIPPED: [&str; 2] = [".git", ".conductor"];

/// One matched file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Artifact {
    /// The path relative to the repository, with `/` separators.
    pub(crate) name: String,
    /// Where it is.
    pub(crate) path: PathBuf,
}

/// The globs of the `artifacts` setting.
pub(crate) fn globs(task: &AgentTask) -> Result<Vec<String>, AgentOutcome> {
    task.paths_setting("artifacts")
}

/// Every file the globs match, sorted by name; a missing-input outcome when
/// a glob is not valid or nothing matches, an error when the tree cannot be read.
pub(crate) fn matching(task: &AgentTask, globs: &[String]) -> Result<Vec<Artifact>, AgentOutcome> {
    let set = glob_set(task, globs)?;
    let mut found = BTreeMap::new();
    for base in bases(globs) {
        walk(&task.workdir, &task.workdir.join(&base), &set, &mut found)
            .map_err(|e| AgentOutcome::error(format!("cannot list the files under {}: {e}", task.workdir.join(&base).display())))?;
    }
    if found.is_empty() {
        return Err(AgentOutcome::missing_input(format!(
            "no file matches artifacts {}; build the release artifacts before {} runs",
            globs.join(", "),
            task.agent
        )));
    }
    Ok(found.into_iter().map(|(name, path)| Artifact { name, path }).collect())
}

/// The SHA-256 and size of a file, read as a stream.
pub(crate) fn digest(path: &Path) -> Result<(Sha256, u64), AgentOutcome> {
    std::fs::File::open(path)
        .and_then(|f| Sha256::of_reader(std::io::BufReader::new(f)))
        .map_err(|e| AgentOutcome::error(format!("cannot read {}: {e}", path.display())))
}

fn glob_set(task: &AgentTask, globs: &[String]) -> Result<GlobSet, AgentOutcome> {
    let mut set = GlobSetBuilder::new();
    for pattern in globs {
        if pattern.starts_with('/') || pattern.split('/').any(|c| c == "..") {
            return Err(AgentOutcome::missing_input(format!(
                "artifact glob '{pattern}' of [agents.\"{}\"] leaves the repository; write it relative to the repository",
                task.agent
            )));
        }
        let glob = GlobBuilder::new(pattern.trim_start_matches("./")).literal_separator(true).build().map_err(|e| {
            AgentOutcome::missing_input(format!("artifact glob '{pattern}' of [agents.\"{}\"] is not a glob: {e}", task.agent))
        })?;
        set.add(glob);
    }
    set.build().map_err(|e| AgentOutcome::missing_input(format!("the artifact globs of [agents.\"{}\"] do not combine: {e}", task.agent)))
}

/// The folder each glob can match under: its leading components without
/// glob syntax. Folders inside others are walked once.
fn bases(globs: &[String]) -> Vec<PathBuf> {
    let mut bases: Vec<PathBuf> = globs
        .iter()
        .map(|g| {
            let components: Vec<&str> = g.trim_start_matches("./").split('/').collect();
            let literal = components[..components.len() - 1].iter().take_while(|c| !c.contains(['*', '?', '[', '{', '\\']));
            literal.collect::<PathBuf>()
        })
        .collect();
    bases.sort();
    bases.dedup_by(|later, earlier| later.starts_with(earlier.as_path()));
    bases
}

/// Adds every file under `dir` whose path relative to `root` is in `set`.
/// Symbolic links to files count; links to folders are not followed, so a
/// link cycle cannot trap the walk.
fn walk(root: &Path, dir: &Path, set: &GlobSet, found: &mut BTreeMap<String, PathBuf>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let (kind, path) = (entry.file_type()?, entry.path());
        if kind.is_dir() {
            if !SKIPPED.iter().any(|s| entry.file_name() == *s) {
                walk(root, &path, set, found)?;
            }
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            if set.is_match(&name) {
                found.insert(name, path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(dir: &Path, globs: &[&str]) -> AgentTask {
        let mut settings = toml::Table::new();
        settings.insert("artifacts".into(), toml::Value::Array(globs.iter().map(|g| toml::Value::from(*g)).collect()));
        AgentTask::new("Provenance Sheriff", "provenance", "P0", dir, dir, settings)
    }

    fn names(dir: &Path, patterns: &[&str]) -> Result<Vec<String>, AgentOutcome> {
        let task = task(dir, patterns);
        matching(&task, &globs(&task)?).map(|found| found.into_iter().map(|a| a.name).collect())
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in ["dist/app-1.0.tar.gz", "dist/app-1.0.tar.gz.sha256", "dist/nested/lib.tar.gz", "src/main.rs", ".git/objects/x.tar.gz"] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        // Build output is git-ignored; the glob must still see it.
        std::fs::write(dir.path().join(".gitignore"), "dist/\n").unwrap();
        dir
    }

    #[test]
    fn a_star_stays_in_its_folder_and_ignore_files_do_not_hide_artifacts() {
        let dir = tree();
        assert_eq!(names(dir.path(), &["dist/*.tar.gz"]).unwrap(), ["dist/app-1.0.tar.gz"]);
        assert_eq!(names(dir.path(), &["dist/**/*.tar.gz"]).unwrap(), ["dist/app-1.0.tar.gz", "dist/nested/lib.tar.gz"]);
    }

    #[test]
    fn double_star_from_the_top_skips_git_and_several_globs_merge() {
        let dir = tree();
        assert_eq!(names(dir.path(), &["**/*.tar.gz"]).unwrap(), ["dist/app-1.0.tar.gz", "dist/nested/lib.tar.gz"]);
        assert_eq!(names(dir.path(), &["./src/main.rs", "dist/*.tar.gz", "dist/app-*"]).unwrap(), ["dist/app-1.0.tar.gz", "dist/app-1.0.tar.gz.sha256", "src/main.rs"]);
    }

    #[test]
    fn nothing_matched_names_the_globs() {
        let dir = tree();
        let outcome = names(dir.path(), &["build/*.zip"]).unwrap_err();
        assert_eq!(outcome.verdict, crate::Verdict::MissingInput);
        assert!(outcome.reason.contains("build/*.zip"), "{}", outcome.reason);
    }

    #[test]
    fn globs_outside_the_repository_and_broken_globs_are_refused() {
        let dir = tree();
        for bad in ["../elsewhere/*.tar.gz", "/etc/*", "dist/[a.tar.gz"] {
            let outcome = names(dir.path(), &[bad]).unwrap_err();
            assert_eq!(outcome.verdict, crate::Verdict::MissingInput, "{bad}");
            assert!(outcome.reason.contains(bad), "{}", outcome.reason);
        }
    }

    #[test]
    fn bases_are_the_literal_leading_folders() {
        let globs: Vec<String> = ["dist/*.tar.gz", "dist/sub/x", "target/*/app", "*.zip"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(bases(&globs), [PathBuf::new()]);
        let globs: Vec<String> = ["dist/*.tar.gz", "dist/sub/x", "target/*/app"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(bases(&globs), [PathBuf::from("dist"), PathBuf::from("target")]);
    }
}
