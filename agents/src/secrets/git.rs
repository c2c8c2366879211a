//! The git modes, through the real `git`: `diff` scans the lines added
//! since a ref; `history` scans every blob of every commit once.
//!
//! History maps each blob to the first path and commit that hold it, from
//! one `git log --all --topo-order --reverse --raw` (tree diffs only, no
//! patches), then streams the blobs through `git cat-file --batch`, one
//! process per worker thread, each with its share of the blobs. A secret
//! that stays in a file across many versions has one fingerprint (rule,
//! path, secret) and is reported once, at the earliest commit.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use super::ScanError;
use super::config::{Mode, ScanConfig};
use super::report::ScanReport;
use super::scan::Tally;

/// Runs `git -C dir args` to completion.
fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, ScanError> {
    crate::git::output(dir, args).map_err(|source| ScanError::GitSpawn { source })
}

/// The top folder of the repository holding `dir`.
fn toplevel(dir: &Path) -> Result<PathBuf, ScanError> {
    let out = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !out.status.success() {
        return Err(ScanError::NotARepository { dir: dir.to_owned() });
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The newest tag reachable from the parent of HEAD: the release before
/// the one being made when HEAD is itself tagged, the latest one otherwise.
fn previous_tag(repo: &Path) -> Result<String, ScanError> {
    let out = git(repo, &["describe", "--tags", "--abbrev=0", "HEAD^"])?;
    if !out.status.success() {
        return Err(ScanError::NoTag { dir: repo.to_owned() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Scans the lines added between `since` (default: the previous tag) and
/// the work tree, in files git tracks. Paths are relative to the
/// repository's top folder.
pub fn scan_diff(repo: &Path, since: Option<&str>, config: &ScanConfig) -> Result<ScanReport, ScanError> {
    let top = toplevel(repo)?;
    let since = match since {
        Some(rev) => rev.to_owned(),
        None => previous_tag(&top)?,
    };
    let commit = format!("{since}^{{commit}}");
    if !git(&top, &["rev-parse", "--verify", "--quiet", &commit])?.status.success() {
        return Err(ScanError::BadRef { dir: top, rev: since });
    }
    let out = git(&top, &["-c", "core.quotepath=off", "diff", "--no-color", "--no-ext-diff", "--unified=0", "-M", &since, "--"])?;
    if !out.status.success() {
        return Err(ScanError::Git { args: format!("diff {since}"), stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned() });
    }
    let mut tally = Tally::default();
    for file in added_lines(&out.stdout) {
        if config.cancel.is_cancelled() {
            return Err(ScanError::Cancelled);
        }
        if config.allowlist.path_allowed(&file.path) {
            tally.skipped.allowlisted_path += 1;
        } else if file.content.len() as u64 > config.max_file_bytes {
            tally.skipped.too_large += 1;
        } else {
            tally.scan(config, &file.path, &file.content, Some(&file.lines), None);
        }
    }
    let mut report = tally.into_report(Mode::Diff, config);
    report.since = Some(since);
    Ok(report)
}

/// The lines a diff adds to one file, joined by newlines, with each one's
/// line number in the new file.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct AddedLines {
    pub path: String,
    pub content: Vec<u8>,
    pub lines: Vec<u64>,
}

/// Parses `git diff --unified=0` output into added lines per file.
pub(crate) fn added_lines(diff: &[u8]) -> Vec<AddedLines> {
    let mut files = Vec::new();
    let mut current: Option<AddedLines> = None;
    let mut in_hunk = false;
    let mut next = 0u64;
    for line in diff.split(|&b| b == b'\n') {
        if line.starts_with(b"diff --git ") {
            files.extend(current.take().filter(|f| !f.lines.is_empty()));
            in_hunk = false;
        } else if !in_hunk && line.starts_with(b"+++ ") {
            current = new_path(&line[4..]).map(|path| AddedLines { path, ..AddedLines::default() });
        } else if line.starts_with(b"@@ ") {
            in_hunk = true;
            next = hunk_start(line).unwrap_or(1);
        } else if in_hunk && let Some(file) = current.as_mut() {
            match line.first() {
                Some(b'+') => {
                    if !file.content.is_empty() || !file.lines.is_empty() {
                        file.content.push(b'\n');
                    }
                    file.content.extend_from_slice(&line[1..]);
                    file.lines.push(next);
                    next += 1;
                }
                Some(b' ') => next += 1,
                _ => {}
            }
        }
    }
    files.extend(current.filter(|f| !f.lines.is_empty()));
    files
}

/// The path after `+++ `: `b/<path>`, possibly C-quoted; none for `/dev/null`.
fn new_path(text: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(text);
    let text = text.trim_end_matches('\r');
    if text == "/dev/null" {
        return None;
    }
    let unquoted = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => unquote(inner),
        None => text.to_owned(),
    };
    Some(unquoted.strip_prefix("b/").map_or_else(|| unquoted.clone(), str::to_owned))
}

/// Undoes git's C-style quoting of a path (`\"`, `\\`, `\t`, `\n`, octal bytes).
fn unquote(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut chars = text.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b't') => bytes.push(b'\t'),
            Some(b'n') => bytes.push(b'\n'),
            Some(d @ b'0'..=b'3') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(o @ b'0'..=b'7') = chars.peek().copied() {
                        value = value * 8 + u32::from(o - b'0');
                        chars.next();
                    }
                }
                bytes.push(u8::try_from(value).unwrap_or(b'?'));
            }
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The new-file start line of a hunk header `@@ -a,b +c,d @@`.
fn hunk_start(header: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(header).ok()?;
    let plus = text.split(' ').find(|part| part.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

/// A blob to scan: its id, the first path and commit (index into the
/// commit list) that hold it.
struct Blob {
    oid: String,
    path: String,
    commit: usize,
}

/// Scans every blob reachable from any ref, each once. Paths are relative
/// to the repository's top folder.
pub fn scan_history(repo: &Path, config: &ScanConfig) -> Result<ScanReport, ScanError> {
    let top = toplevel(repo)?;
    let args = ["log", "--all", "--topo-order", "--reverse", "--no-renames", "--raw", "--no-abbrev", "--diff-merges=first-parent", "--format=%x01%H", "-z"];
    let out = git(&top, &args)?;
    if !out.status.success() {
        return Err(ScanError::Git { args: args.join(" "), stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned() });
    }
    let (commits, blobs) = blobs(&out.stdout);
    let mut tally = Tally::default();
    let blobs: Vec<Blob> = blobs
        .into_iter()
        .filter(|b| {
            let allowed = config.allowlist.path_allowed(&b.path);
            tally.skipped.allowlisted_path += u64::from(allowed);
            !allowed
        })
        .collect();
    let shards = config.threads.max(1).min(blobs.len().max(1));
    let chunk = blobs.len().div_ceil(shards).max(1);
    let results: Vec<Result<(Tally, Vec<usize>), ScanError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = blobs.chunks(chunk).map(|part| scope.spawn(|| scan_blobs(&top, part, &commits, config))).collect();
        // A panicking shard is a defect; it reaches the caller as the panic it was.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    // Findings with the index of their commit, so that of one fingerprint
    // only the earliest is kept.
    let mut found = Vec::new();
    for result in results {
        let (mut part, order) = result?;
        found.extend(order.into_iter().zip(std::mem::take(&mut part.findings)));
        tally.merge(part);
    }
    found.sort_by_key(|(commit, _)| *commit);
    let mut seen = HashSet::new();
    tally.findings = found.into_iter().filter(|(_, f)| seen.insert(f.fingerprint.clone())).map(|(_, f)| f).collect();
    let mut report = tally.into_report(Mode::History, config);
    report.commits = Some(commits.len() as u64);
    Ok(report)
}

/// Commits in order and the blobs they introduce, each blob once, from
/// `git log --raw -z` output.
fn blobs(log: &[u8]) -> (Vec<String>, Vec<Blob>) {
    let mut commits: Vec<String> = Vec::new();
    let mut blobs = Vec::new();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut tokens = log.split(|&b| b == 0).map(|t| t.strip_prefix(b"\n").unwrap_or(t));
    while let Some(token) = tokens.next() {
        if let Some(id) = token.strip_prefix(b"\x01") {
            commits.push(String::from_utf8_lossy(id).into_owned());
        } else if token.starts_with(b":") {
            let Some(path) = tokens.next() else { break };
            let fields: Vec<&[u8]> = token[1..].split(|&b| b == b' ').collect();
            let [_, mode, _, oid, status] = fields[..] else { continue };
            // Only regular files: not deletions, symlinks or submodules.
            let regular = mode.starts_with(b"100");
            if regular && status != b"D" && !commits.is_empty() && seen.insert(oid) {
                blobs.push(Blob { oid: String::from_utf8_lossy(oid).into_owned(), path: String::from_utf8_lossy(path).into_owned(), commit: commits.len() - 1 });
            }
        }
    }
    (commits, blobs)
}

/// A child process killed and reaped when dropped, so a failed or
/// cancelled scan leaves no `git` behind.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Streams `blobs` through one `git cat-file --batch` and scans each;
/// returns the tally and, per finding, its commit index.
fn scan_blobs(top: &Path, blobs: &[Blob], commits: &[String], config: &ScanConfig) -> Result<(Tally, Vec<usize>), ScanError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| ScanError::GitSpawn { source })?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(ScanError::GitOutput { what: "git cat-file has no pipes" });
    };
    let child = Reaped(child);
    let ids: Vec<u8> = blobs.iter().flat_map(|b| b.oid.bytes().chain([b'\n'])).collect();
    // The writer runs beside the reader so neither pipe fills and blocks.
    let writer = std::thread::spawn(move || stdin.write_all(&ids));
    let result = read_blobs(BufReader::with_capacity(1 << 18, stdout), blobs, commits, config);
    drop(child);
    let _ = writer.join();
    result
}

fn read_blobs(mut out: BufReader<ChildStdout>, blobs: &[Blob], commits: &[String], config: &ScanConfig) -> Result<(Tally, Vec<usize>), ScanError> {
    let mut tally = Tally::default();
    let mut order = Vec::new();
    let mut header = Vec::new();
    let mut buf = Vec::new();
    for blob in blobs {
        if config.cancel.is_cancelled() {
            return Err(ScanError::Cancelled);
        }
        header.clear();
        out.read_until(b'\n', &mut header).map_err(|source| ScanError::GitRead { source })?;
        let Some(size) = blob_size(&header) else {
            tally.skipped.unreadable += 1;
            continue;
        };
        if size > config.max_file_bytes {
            std::io::copy(&mut (&mut out).take(size + 1), &mut std::io::sink()).map_err(|source| ScanError::GitRead { source })?;
            tally.skipped.too_large += 1;
            continue;
        }
        buf.clear();
        (&mut out).take(size + 1).read_to_end(&mut buf).map_err(|source| ScanError::GitRead { source })?;
        if buf.pop() != Some(b'\n') || buf.len() as u64 != size {
            return Err(ScanError::GitOutput { what: "git cat-file --batch ended in the middle of a blob" });
        }
        let before = tally.findings.len();
        tally.scan(config, &blob.path, &buf, None, Some(&commits[blob.commit]));
        order.extend(std::iter::repeat_n(blob.commit, tally.findings.len() - before));
    }
    Ok((tally, order))
}

/// The size in a `<oid> blob <size>` header; none for `<oid> missing`.
fn blob_size(header: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(header).ok()?.trim_end();
    let mut parts = text.split(' ');
    let (_, kind, size) = (parts.next()?, parts.next()?, parts.next()?);
    (kind == "blob").then(|| size.parse().ok()).flatten()
}
