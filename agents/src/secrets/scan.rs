//! The work-tree scan: a parallel walk that honours `.gitignore`, `.ignore`
//! and `.git/info/exclude` (not the user's global excludes, so a scan gives
//! the same result on every machine), reads each file once into a buffer
//! its thread reuses, and skips binary and oversized files.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use super::config::{Mode, ScanConfig};
use super::detect::detector;
use super::report::{Finding, ScanReport, Skipped};
use super::{ScanError, rules};

/// How much of a file's start is searched for a NUL byte, as git and ripgrep do.
const BINARY_PROBE: usize = 8192;

/// Findings and counts gathered by one thread, merged at the end.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub findings: Vec<Finding>,
    pub allowlisted: u64,
    pub files: u64,
    pub bytes: u64,
    pub skipped: Skipped,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.findings.extend(other.findings);
        self.allowlisted += other.allowlisted;
        self.files += other.files;
        self.bytes += other.bytes;
        self.skipped.binary += other.skipped.binary;
        self.skipped.too_large += other.skipped.too_large;
        self.skipped.allowlisted_path += other.skipped.allowlisted_path;
        self.skipped.unreadable += other.skipped.unreadable;
    }

    /// Scans one file's bytes. `lines` maps the content's lines to the
    /// file's (diff mode scans only added lines); `commit` is the history
    /// commit the content comes from.
    pub fn scan(&mut self, config: &ScanConfig, path: &str, content: &[u8], lines: Option<&[u64]>, commit: Option<&str>) {
        if is_binary(content) {
            self.skipped.binary += 1;
            return;
        }
        self.files += 1;
        self.bytes += content.len() as u64;
        let detected = detector().scan(path, content, &config.allowlist);
        self.allowlisted += detected.allowlisted;
        for hit in detected.hits {
            let spec = &rules::RULES[hit.rule];
            let line = lines.and_then(|l| l.get(usize::try_from(hit.line - 1).ok()?).copied()).unwrap_or(hit.line);
            self.findings.push(Finding {
                rule: spec.id,
                severity: spec.severity,
                path: path.to_owned(),
                line,
                column: hit.column,
                fingerprint: hit.fingerprint,
                commit: commit.map(str::to_owned),
            });
        }
    }

    /// The report, baseline applied and findings in order.
    pub fn into_report(self, mode: Mode, config: &ScanConfig) -> ScanReport {
        let mut report = ScanReport {
            mode,
            findings: self.findings,
            allowlisted: self.allowlisted,
            files_scanned: self.files,
            bytes_scanned: self.bytes,
            skipped: self.skipped,
            ..ScanReport::default()
        };
        if let Some(baseline) = &config.baseline {
            report.apply_baseline(baseline);
        }
        report.sort();
        report
    }
}

/// Whether content looks binary: a NUL byte near its start.
pub(crate) fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(BINARY_PROBE)]).is_some()
}

/// Scans the work tree under `root`; paths in the report are relative to it.
pub fn scan_tree(root: &Path, config: &ScanConfig) -> Result<ScanReport, ScanError> {
    scan_paths(root, &[root.to_owned()], config)
}

/// Scans each of `paths` (folders or files); paths in the report are
/// relative to `base`.
pub fn scan_paths(base: &Path, paths: &[PathBuf], config: &ScanConfig) -> Result<ScanReport, ScanError> {
    let Some((first, rest)) = paths.split_first() else { return Ok(Tally::default().into_report(Mode::Tree, config)) };
    for path in paths {
        if let Err(source) = std::fs::metadata(path) {
            return Err(ScanError::Io { path: path.clone(), source });
        }
    }
    let mut walk = WalkBuilder::new(first);
    for path in rest {
        walk.add(path);
    }
    walk.hidden(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .threads(config.threads.max(1))
        .filter_entry(|e| e.file_name() != ".git");
    let shared = Shared { tally: Mutex::new(Tally::default()) };
    let mut builder = Builder { base, config, shared: &shared };
    walk.build_parallel().visit(&mut builder);
    if config.cancel.is_cancelled() {
        return Err(ScanError::Cancelled);
    }
    let tally = shared.tally.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(tally.into_report(Mode::Tree, config))
}

struct Shared {
    tally: Mutex<Tally>,
}

struct Builder<'a> {
    base: &'a Path,
    config: &'a ScanConfig,
    shared: &'a Shared,
}

impl<'s> ParallelVisitorBuilder<'s> for Builder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Worker { base: self.base, config: self.config, shared: self.shared, buf: Vec::new(), tally: Tally::default() })
    }
}

/// One walker thread: its own buffer and tally, merged when the walk drops it.
struct Worker<'a> {
    base: &'a Path,
    config: &'a ScanConfig,
    shared: &'a Shared,
    buf: Vec<u8>,
    tally: Tally,
}

impl ParallelVisitor for Worker<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        if self.config.cancel.is_cancelled() {
            return WalkState::Quit;
        }
        match entry {
            Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => self.file(entry.path()),
            Ok(_) => {}
            Err(_) => self.tally.skipped.unreadable += 1,
        }
        WalkState::Continue
    }
}

impl Worker<'_> {
    fn file(&mut self, path: &Path) {
        let rel = relative(self.base, path);
        if self.config.allowlist.path_allowed(&rel) {
            self.tally.skipped.allowlisted_path += 1;
            return;
        }
        match read_bounded(path, self.config.max_file_bytes, &mut self.buf) {
            Ok(true) => self.tally.scan(self.config, &rel, &self.buf, None, None),
            Ok(false) => self.tally.skipped.too_large += 1,
            Err(_) => self.tally.skipped.unreadable += 1,
        }
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.merge(std::mem::take(&mut self.tally));
    }
}

/// Reads `path` into `buf` unless it is larger than `max` bytes (`Ok(false)`).
fn read_bounded(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Ok(false);
    }
    buf.clear();
    buf.reserve(usize::try_from(len).unwrap_or(0));
    // A file that grew since the stat is read up to the limit and judged by what was read.
    (&mut file).take(max + 1).read_to_end(buf)?;
    Ok(buf.len() as u64 <= max)
}

/// `path` relative to `base`, `/`-separated; the file name when `path` is `base`.
fn relative(base: &Path, path: &Path) -> String {
    let rel = match path.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel,
        Ok(_) => path.file_name().map_or(path, Path::new),
        Err(_) => return path.to_string_lossy().into_owned(),
    };
    let parts: Vec<_> = rel.components().filter(|c| !matches!(c, std::path::Component::CurDir)).map(|c| c.as_os_str().to_string_lossy()).collect();
    parts.join("/")
}
