//! The `sbom` kind: a software bill of materials built from the repository's
//! lock files, as CycloneDX 1.6 JSON or SPDX 2.3 JSON.
//!
//! Each lock file (Cargo.lock, package-lock.json, poetry.lock, pinned
//! requirements.txt, go.sum with go.mod) is read into the same [`Package`]
//! model; the writers turn a list of packages and the [`Subject`] they belong
//! to into one document. Output is deterministic: components are sorted, the
//! serial number is a UUID derived from the content, and the only time in it
//! is the one the subject carries.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let lock = dir.path().join("requirements.txt");
//! std::fs::write(&lock, "requests==2.32.3 \\\n    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6\n").unwrap();
//! let packages = agents::sbom::read_lockfile(&lock).unwrap();
//! assert_eq!(packages[0].purl, "pkg:pypi/requests@2.32.3");
//! let subject = agents::sbom::Subject {
//!     name: "service".into(),
//!     version: "v1.0.0".into(),
//!     commit: None,
//!     created: evidence::timestamp::Timestamp::from_unix(1_700_000_000).unwrap(),
//! };
//! let json = agents::sbom::cyclonedx_json(&packages, &subject).unwrap();
//! assert!(String::from_utf8(json).unwrap().contains("\"specVersion\": \"1.6\""));
//! ```

mod cargo;
mod cyclonedx;
mod error;
mod go;
mod npm;
mod purl;
mod python;
mod spdx;
mod subject;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

pub use cyclonedx::{CYCLONEDX_SPEC_VERSION, cyclonedx_json};
pub use error::{Location, Problem, SbomError, Unpinned};
pub use purl::{pep503, purl};
pub use spdx::{SPDX_VERSION, spdx_json};
pub use subject::{Subject, source_date_epoch};

/// The lock files [`discover`] looks for at a repository's root, in the order
/// it lists them. go.mod counts only when there is no go.sum, which reads it.
const KNOWN: [&str; 7] = ["Cargo.lock", "package-lock.json", "npm-shrinkwrap.json", "poetry.lock", "requirements.txt", "go.sum", "go.mod"];

/// A package manager whose lock files this module reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    /// Rust crates from Cargo.lock.
    Cargo,
    /// npm packages from package-lock.json.
    Npm,
    /// Python distributions from poetry.lock or requirements.txt.
    PyPI,
    /// Go modules from go.sum and go.mod.
    Go,
}

impl Ecosystem {
    /// The purl type, which is also the name facts use.
    pub fn purl_type(self) -> &'static str {
        match self {
            Self::Cargo => "cargo",
            Self::Npm => "npm",
            Self::PyPI => "pypi",
            Self::Go => "golang",
        }
    }
}

/// A hash algorithm a lock file records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlg {
    /// SHA-1 (old npm lock files).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The algorithm for a lowercase name such as `sha512`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The name CycloneDX gives it.
    pub fn cyclonedx(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// The name SPDX gives it.
    pub fn spdx(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha384 => "SHA384",
            Self::Sha512 => "SHA512",
        }
    }
}

/// A digest of a package's artifact, in lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash {
    /// The algorithm.
    pub alg: HashAlg,
    /// The digest, lowercase hex of exactly `alg.digest_len()` bytes.
    pub hex: String,
}

impl Hash {
    /// A hash from hex text, or `None` when it is not `alg.digest_len()` bytes of hex.
    pub fn from_hex(alg: HashAlg, hex: &str) -> Option<Self> {
        let ok = hex.len() == alg.digest_len() * 2 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self { alg, hex: hex.to_ascii_lowercase() })
    }
}

/// Whether a package is needed to run what the repository ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Needed at run time.
    Required,
    /// Only for development or optional features (npm dev and optional
    /// packages, Poetry packages outside the main group).
    Optional,
}

/// Where a package comes from, as its lock file says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A package registry, or the URL an artifact is fetched from.
    Registry(String),
    /// A version-control repository, such as `git+https://…#<commit>`.
    Vcs(String),
    /// The repository itself: a workspace member or a path dependency.
    Local(String),
    /// The lock file does not say.
    Unstated,
}

/// One package a lock file pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Its package manager.
    pub ecosystem: Ecosystem,
    /// Its name as the ecosystem writes it (PEP 503-normalised for Python).
    pub name: String,
    /// The exact version.
    pub version: String,
    /// Its package URL; also its reference in the dependency graph.
    pub purl: String,
    /// Digests of its artifacts. A Python package lists one per
    /// distribution file the lock allows.
    pub hashes: Vec<Hash>,
    /// The purls of the packages it depends on, or `None` when the lock file
    /// does not record them (go.sum, requirements.txt without `# via`).
    pub dependencies: Option<Vec<String>>,
    /// Where it comes from.
    pub source: Source,
    /// Whether it is needed at run time.
    pub scope: Scope,
    /// Whether the repository depends on it directly (or it is the
    /// repository's own, such as a workspace member).
    pub direct: bool,
    /// Facts that have no field of their own, such as go.sum's `h1:` hash,
    /// which is a hash of a file tree and not of an artifact.
    pub properties: Vec<(String, String)>,
}

impl Package {
    /// A required, indirect package with no hashes and unknown dependencies.
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str, source: Source) -> Self {
        Self {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            purl: purl::purl(ecosystem, name, version),
            hashes: Vec::new(),
            dependencies: None,
            source,
            scope: Scope::Required,
            direct: false,
            properties: Vec::new(),
        }
    }

    /// Whether it is the repository's own code rather than a third party's.
    pub fn is_local(&self) -> bool {
        matches!(self.source, Source::Local(_))
    }

    /// Folds another record of the same package into this one.
    fn absorb(&mut self, other: Package) {
        self.hashes.extend(other.hashes);
        self.hashes.sort();
        self.hashes.dedup();
        self.dependencies = match (self.dependencies.take(), other.dependencies) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            (a, b) => a.or(b),
        };
        if other.scope == Scope::Required {
            self.scope = Scope::Required;
        }
        self.direct |= other.direct;
        self.properties.extend(other.properties);
        self.properties.sort();
        self.properties.dedup();
    }
}

/// The packages sorted by purl, each purl once: records of the same package
/// (from nested npm folders or from two lock files) are merged, and
/// dependencies on packages not in the list are dropped so the graph only
/// names components the document has.
pub fn normalise(packages: &[Package]) -> Vec<Package> {
    let mut by_purl: BTreeMap<String, Package> = BTreeMap::new();
    for package in packages.iter().cloned() {
        match by_purl.get_mut(&package.purl) {
            Some(existing) => existing.absorb(package),
            None => {
                by_purl.insert(package.purl.clone(), package);
            }
        }
    }
    let known: std::collections::BTreeSet<String> = by_purl.keys().cloned().collect();
    let mut out: Vec<Package> = by_purl.into_values().collect();
    for package in &mut out {
        if let Some(deps) = &mut package.dependencies {
            deps.retain(|d| known.contains(d) && *d != package.purl);
            deps.sort();
            deps.dedup();
        }
        package.hashes.sort();
        package.hashes.dedup();
    }
    out
}

/// The lock files at the root of `root` that this module reads, in a fixed
/// order. Only the root is searched: a lock file deeper down belongs to
/// another project and is named with the `lockfiles` setting when wanted.
pub fn discover(root: &Path) -> Vec<PathBuf> {
    let found: Vec<PathBuf> = KNOWN.iter().map(|name| root.join(name)).filter(|p| p.is_file()).collect();
    let has_sum = found.iter().any(|p| p.ends_with("go.sum"));
    found.into_iter().filter(|p| !(has_sum && p.ends_with("go.mod"))).collect()
}

/// The packages one lock file pins. go.sum is read with the go.mod beside it
/// when there is one.
pub fn read_lockfile(path: &Path) -> Result<Vec<Package>, SbomError> {
    let text = read_text(path)?;
    match kind_of(path) {
        Some(Kind::Go) if path.file_name().is_some_and(|n| n == "go.sum") => {
            let go_mod = path.with_file_name("go.mod");
            let module = if go_mod.is_file() { Some(read_text(&go_mod)?) } else { None };
            go::parse(path, Some(&text), module.as_deref().map(|m| (go_mod.as_path(), m)))
        }
        Some(Kind::Go) => go::parse(path, None, Some((path, &text))),
        Some(kind) => parse_as(kind, path, &text),
        None => Err(SbomError::UnknownFormat { path: path.to_owned() }),
    }
}

/// The packages of several lock files, merged as [`normalise`] does.
pub fn read_lockfiles(paths: &[PathBuf]) -> Result<Vec<Package>, SbomError> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(read_lockfile(path)?);
    }
    Ok(normalise(&all))
}

fn read_text(path: &Path) -> Result<String, SbomError> {
    let bytes = std::fs::read(path).map_err(|source| SbomError::Read { path: path.to_owned(), source })?;
    String::from_utf8(bytes).map_err(|e| SbomError::invalid(path, Location::File, Problem::Syntax { format: "UTF-8", detail: e.utf8_error().to_string() }))
}

/// The namespace of the name-based UUIDs that number documents.
const DOCUMENT_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c1f_2e0a_93d4_5b7e_8a61_0f3c_d2b9_4e75);

/// A version 5 (name-based, RFC 4122) UUID of a document's bytes, so a
/// document's number changes exactly when its content does.
fn content_uuid(document: &[u8]) -> uuid::Uuid {
    let digest = evidence::digest::Sha256::of(document).to_hex();
    uuid::Uuid::new_v5(&DOCUMENT_NAMESPACE, digest.as_bytes())
}

/// A TOML lock file as a table, or an error naming the line where it stops
/// parsing.
fn toml_document(path: &Path, text: &str) -> Result<toml::Table, SbomError> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let at = e.span().map_or(Location::File, |span| Location::Line(line_of(text, span.start)));
        SbomError::invalid(path, at, Problem::Syntax { format: "TOML", detail: e.message().trim().to_owned() })
    })
}

/// A JSON lock file, or an error naming the line where it stops parsing.
fn json_document(path: &Path, text: &str) -> Result<Value, SbomError> {
    serde_json::from_str(text).map_err(|e| {
        let detail = e.to_string();
        // serde_json appends " at line L column C"; the location says it already.
        let detail = detail.split(" at line ").next().unwrap_or(&detail).to_owned();
        SbomError::invalid(path, Location::Line(e.line()), Problem::Syntax { format: "JSON", detail })
    })
}

/// The line, counted from 1, of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|b| **b == b'\n').count() + 1
}

/// The lock file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cargo,
    Npm,
    Poetry,
    Requirements,
    Go,
}

fn kind_of(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    match name {
        "Cargo.lock" => Some(Kind::Cargo),
        "package-lock.json" | "npm-shrinkwrap.json" => Some(Kind::Npm),
        "poetry.lock" => Some(Kind::Poetry),
        "go.sum" | "go.mod" => Some(Kind::Go),
        _ if name.ends_with(".txt") && name.contains("requirements") => Some(Kind::Requirements),
        _ => None,
    }
}

fn parse_as(kind: Kind, path: &Path, text: &str) -> Result<Vec<Package>, SbomError> {
    match kind {
        Kind::Cargo => cargo::parse(path, text),
        Kind::Npm => npm::parse(path, text),
        Kind::Poetry => python::parse_poetry(path, text, pyproject_beside(path).as_deref()),
        Kind::Requirements => python::parse_requirements(path, text),
        Kind::Go => go::parse(path, Some(text), None),
    }
}

/// The pyproject.toml next to a poetry.lock, which names the direct
/// dependencies; without it they are guessed from the lock's graph.
fn pyproject_beside(lock: &Path) -> Option<String> {
    std::fs::read_to_string(lock.with_file_name("pyproject.toml")).ok()
}

/// The document formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CycloneDX 1.6 JSON.
    CycloneDx,
    /// SPDX 2.3 JSON.
    Spdx,
}

impl Format {
    /// The name settings and flags use.
    pub fn name(self) -> &'static str {
        match self {
            Self::CycloneDx => "cyclonedx",
            Self::Spdx => "spdx",
        }
    }

    /// The file name an agent writes.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::CycloneDx => "sbom.cdx.json",
            Self::Spdx => "sbom.spdx.json",
        }
    }

    /// The specification version written.
    pub fn spec_version(self) -> &'static str {
        match self {
            Self::CycloneDx => CYCLONEDX_SPEC_VERSION,
            Self::Spdx => SPDX_VERSION,
        }
    }

    /// The in-toto predicate type of the document: the vetted CycloneDX and
    /// SPDX 2 predicates of the in-toto attestation framework.
    pub fn predicate_type(self) -> &'static str {
        match self {
            Self::CycloneDx => "https://cyclonedx.org/bom",
            Self::Spdx => "https://spdx.dev/Document/v2.3",
        }
    }

    /// The document for `packages` describing `subject`.
    pub fn render(self, packages: &[Package], subject: &Subject) -> Result<Vec<u8>, SbomError> {
        match self {
            Self::CycloneDx => cyclonedx_json(packages, subject),
            Self::Spdx => spdx_json(packages, subject),
        }
    }
}

/// Counts for gate policies: components per ecosystem, with and without
/// hashes, and how many are the repository's own.
pub fn counts(packages: &[Package]) -> Value {
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for p in packages {
        *per.entry(p.ecosystem.purl_type()).or_default() += 1;
    }
    let hashed = packages.iter().filter(|p| !p.hashes.is_empty()).count();
    let local = packages.iter().filter(|p| p.is_local()).count();
    json!({ "components": packages.len(), "perEcosystem": per, "withHashes": hashed, "withoutHashes": packages.len() - hashed, "local": local })
}

/// Builds an SBOM from the lock files named by `lockfiles` (default: those
/// [`discover`] finds at the repository root) in the format named by
/// `format` (`cyclonedx` by default, or `spdx`). A missing lock file is a
/// missing input; one that does not parse is an error naming it; an unpinned
/// requirement fails the check, since an SBOM is only worth its pins.
pub(crate) struct SbomAgent;

#[async_trait::async_trait]
impl Agent for SbomAgent {
    fn kind(&self) -> &'static str {
        "sbom"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let format = match task.choice_setting("format", &["cyclonedx", "spdx"], "cyclonedx") {
            Ok("spdx") => Format::Spdx,
            Ok(_) => Format::CycloneDx,
            Err(outcome) => return outcome,
        };
        let lockfiles = match lockfiles(task) {
            Ok(paths) => paths,
            Err(outcome) => return outcome,
        };
        let task = task.clone();
        // Parsing and writing are blocking file work; a panic inside is
        // re-raised so `run_with` reports it like any agent's.
        match tokio::task::spawn_blocking(move || build(&task, format, &lockfiles)).await {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => AgentOutcome::error(format!("the SBOM build was cancelled: {e}")),
        }
    }
}

/// The configured lock files, each of which must exist, or those found at
/// the root.
fn lockfiles(task: &AgentTask) -> Result<Vec<PathBuf>, AgentOutcome> {
    if task.settings.contains_key("lockfiles") {
        let paths = task.paths_setting("lockfiles")?;
        return paths
            .iter()
            .map(|p| {
                let path = task.resolve(p);
                if path.is_file() { Ok(path) } else { Err(AgentOutcome::missing_input(format!("lock file {p} is configured but not there; fix 'lockfiles' of [agents.\"{}\"]", task.agent))) }
            })
            .collect();
    }
    let found = discover(&task.workdir);
    if found.is_empty() {
        return Err(AgentOutcome::missing_input(format!(
            "no lock file ({}) at the repository root; commit one or set 'lockfiles' of [agents.\"{}\"]",
            KNOWN.join(", "),
            task.agent
        )));
    }
    Ok(found)
}

fn build(task: &AgentTask, format: Format, lockfiles: &[PathBuf]) -> AgentOutcome {
    let shown: Vec<String> = lockfiles.iter().map(|p| p.strip_prefix(&task.workdir).unwrap_or(p).display().to_string()).collect();
    let packages = match read_lockfiles(lockfiles) {
        Ok(packages) => packages,
        Err(SbomError::Unpinned { path, requirements }) => return unpinned(&task.workdir, &path, &requirements, &shown),
        Err(e) => return AgentOutcome::error(e.to_string()),
    };
    let mut subject = match Subject::from_git(&task.workdir) {
        Ok(subject) => subject,
        Err(e) => return AgentOutcome::missing_input(e.to_string()),
    };
    // Inside a release the document describes the release being cut, not
    // whatever `git describe` makes of the checkout.
    if let Some(release) = &task.release {
        subject.version = release.binding.version.clone();
        subject.commit = Some(release.binding.commit.clone());
    }
    let path = task.scratch.join(format.file_name());
    let statement_path = task.scratch.join(SBOM_STATEMENT);
    let written = format.render(&packages, &subject).and_then(|bytes| {
        let statement = statement(format, &bytes, &subject)?;
        let write = |to: &Path, what: &[u8]| std::fs::write(to, what).map_err(|source| SbomError::Write { path: to.to_owned(), source });
        std::fs::create_dir_all(&task.scratch).map_err(|source| SbomError::Write { path: task.scratch.clone(), source })?;
        write(&path, &bytes)?;
        write(&statement_path, &statement)
    });
    if let Err(e) = written {
        return AgentOutcome::error(e.to_string());
    }
    let mut facts = counts(&packages);
    facts["format"] = format.name().into();
    facts["specVersion"] = format.spec_version().into();
    facts["lockfiles"] = json!(shown);
    facts["unpinned"] = json!([]);
    let reason = format!("{} components from {} in {} {}", packages.len(), shown.join(", "), format.name(), format.spec_version());
    let files = vec![ProducedFile { name: format.file_name().to_owned(), path }, ProducedFile { name: SBOM_STATEMENT.into(), path: statement_path }];
    AgentOutcome { verdict: Verdict::Pass, reason, facts, files }
}

/// The name of the in-toto statement that carries the SBOM as its predicate.
pub const SBOM_STATEMENT: &str = "sbom.intoto.json";

/// An in-toto Statement v1 about the release commit (or the repository's
/// `HEAD`) whose predicate is the SBOM document, as in-toto's vetted
/// CycloneDX and SPDX predicates define it.
fn statement(format: Format, document: &[u8], subject: &Subject) -> Result<Vec<u8>, SbomError> {
    let predicate: Value = serde_json::from_slice(document).map_err(|e| SbomError::Document { detail: e.to_string() })?;
    let digest = match &subject.commit {
        Some(commit) => json!({ "gitCommit": commit }),
        None => json!({ "sha256": evidence::digest::Sha256::of(document).to_hex() }),
    };
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": format!("{}@{}", subject.name, subject.version), "digest": digest }],
        "predicateType": format.predicate_type(),
        "predicate": predicate,
    });
    serde_json::to_vec_pretty(&statement).map_err(|e| SbomError::Document { detail: e.to_string() })
}

fn unpinned(root: &Path, path: &Path, requirements: &[Unpinned], shown: &[String]) -> AgentOutcome {
    let file = path.strip_prefix(root).unwrap_or(path).display().to_string();
    let listed: Vec<Value> = requirements.iter().map(|u| json!({ "file": file, "line": u.line, "requirement": u.requirement })).collect();
    let facts = json!({ "lockfiles": shown, "unpinned": listed });
    let reason = SbomError::Unpinned { path: PathBuf::from(&file), requirements: requirements.to_vec() }.to_string();
    AgentOutcome { verdict: Verdict::Fail, reason, facts, files: Vec::new() }
}

/// The lock file names [`fuzz_any_lockfile`] chooses from.
pub const FUZZ_NAMES: [&str; 6] = ["Cargo.lock", "package-lock.json", "poetry.lock", "requirements.txt", "go.sum", "go.mod"];

/// Fuzz harness over every format: the first byte picks the lock file name
/// from [`FUZZ_NAMES`] and the rest is its content.
pub fn fuzz_any_lockfile(data: &[u8]) {
    if let Some((pick, rest)) = data.split_first() {
        fuzz_lockfile(FUZZ_NAMES[usize::from(*pick) % FUZZ_NAMES.len()], rest);
    }
}

/// Fuzz harness: parses `bytes` as the lock file called `name` and, when it
/// parses, writes both documents and checks they are JSON that lists every
/// package, and that writing is deterministic. Must never panic.
pub fn fuzz_lockfile(name: &str, bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let path = Path::new(name);
    let parsed = match kind_of(path) {
        Some(Kind::Go) if name == "go.mod" => go::parse(path, None, Some((path, text))),
        Some(kind) => parse_as(kind, path, text),
        None => return,
    };
    let Ok(packages) = parsed else { return };
    let subject = Subject { name: "fuzz".into(), version: "v0.0.0".into(), commit: None, created: evidence::timestamp::Timestamp::from_unix(0).expect("0 is a valid time") };
    let unique = normalise(&packages).len();
    for format in [Format::CycloneDx, Format::Spdx] {
        let first = format.render(&packages, &subject).expect("parsed packages always make a document");
        assert_eq!(first, format.render(&packages, &subject).expect("a second render"), "rendering is not deterministic");
        let doc: Value = serde_json::from_slice(&first).expect("the document is JSON");
        let listed = match format {
            Format::CycloneDx => doc["components"].as_array().map_or(0, Vec::len),
            Format::Spdx => doc["packages"].as_array().map_or(0, Vec::len) - 1,
        };
        assert_eq!(listed, unique, "{} lost packages", format.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A git repository with one commit and the given files.
    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .current_dir(dir.path())
                .args(args)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?} failed");
        };
        git(&["init", "-q"]);
        git(&["commit", "-q", "--allow-empty", "-m", "first"]);
        dir
    }

    fn task(dir: &Path, settings: &[(&str, toml::Value)]) -> AgentTask {
        let settings = settings.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        AgentTask::new("Supply-Chain Lead", "sbom", "P0", dir, &dir.join(".scratch/sbom"), settings)
    }

    const CARGO: &str = "version = 4\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"itoa\"]\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.11\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b\"\n";
    const REQUIREMENTS: &str = "flask==3.0.3 \\\n    --hash=sha256:34e815dfaa43340d1d15a5c3a02b8476004037eb4840b34910c6e21679d288f3\n";

    #[tokio::test]
    async fn inside_a_release_the_sbom_describes_the_release_version_and_commit() {
        let dir = repo(&[("Cargo.lock", CARGO)]);
        let binding = evidence::record::ReleaseBinding { version: "v2.0.0".into(), commit: "c".repeat(40), environment: "prod".into(), id: "r1".into() };
        let task = task(dir.path(), &[]).with_release(crate::ReleaseContext::new(binding));
        let outcome = SbomAgent.run(&task).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        let doc: Value = serde_json::from_slice(&std::fs::read(&outcome.files[0].path).unwrap()).unwrap();
        assert_eq!(doc["metadata"]["component"]["version"], "v2.0.0", "not what git describe says");
        let commit = doc["metadata"]["component"]["properties"].as_array().unwrap().iter().find(|p| p["name"] == "conductor:git:commit").unwrap()["value"].clone();
        assert_eq!(commit, json!("c".repeat(40)));
        let statement: Value = serde_json::from_slice(&std::fs::read(&outcome.files[1].path).unwrap()).unwrap();
        assert_eq!((outcome.files[1].name.as_str(), statement["predicateType"].as_str()), (SBOM_STATEMENT, Some("https://cyclonedx.org/bom")));
        assert_eq!(statement["subject"][0]["digest"]["gitCommit"], json!("c".repeat(40)));
        assert_eq!(statement["predicate"], doc, "the predicate is the document itself");
    }

    #[tokio::test]
    async fn writes_the_sbom_into_scratch_and_counts_components() {
        let dir = repo(&[("Cargo.lock", CARGO), ("requirements.txt", REQUIREMENTS)]);
        let outcome = SbomAgent.run(&task(dir.path(), &[])).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        assert_eq!(outcome.files.len(), 2, "the document and its in-toto statement");
        assert_eq!(outcome.files[0].name, "sbom.cdx.json");
        let doc: Value = serde_json::from_slice(&std::fs::read(&outcome.files[0].path).unwrap()).unwrap();
        assert_eq!(doc["components"].as_array().unwrap().len(), 3);
        let facts = &outcome.facts;
        assert_eq!((facts["format"].as_str(), facts["specVersion"].as_str()), (Some("cyclonedx"), Some("1.6")));
        assert_eq!(facts["perEcosystem"], json!({ "cargo": 2, "pypi": 1 }));
        assert_eq!((facts["withHashes"].as_u64(), facts["withoutHashes"].as_u64(), facts["local"].as_u64()), (Some(2), Some(1), Some(1)));
        assert_eq!(facts["lockfiles"], json!(["Cargo.lock", "requirements.txt"]));
        assert!(facts.get("components").is_some() && facts["unpinned"] == json!([]));
        assert!(!facts.to_string().contains("bomFormat"), "the document is a file, never inlined");
    }

    #[tokio::test]
    async fn spdx_is_a_setting_and_a_bad_format_is_named() {
        let dir = repo(&[("Cargo.lock", CARGO)]);
        let outcome = SbomAgent.run(&task(dir.path(), &[("format", "spdx".into())])).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        assert_eq!(outcome.files[0].name, "sbom.spdx.json");
        assert_eq!(outcome.facts["specVersion"], "SPDX-2.3");
        let outcome = SbomAgent.run(&task(dir.path(), &[("format", "swid".into())])).await;
        assert_eq!(outcome.verdict, Verdict::MissingInput);
        assert!(outcome.reason.contains("format 'swid'"), "{}", outcome.reason);
    }

    #[tokio::test]
    async fn missing_lock_files_are_missing_input() {
        let dir = repo(&[]);
        let outcome = SbomAgent.run(&task(dir.path(), &[])).await;
        assert_eq!(outcome.verdict, Verdict::MissingInput);
        assert!(outcome.reason.contains("no lock file"), "{}", outcome.reason);
        let outcome = SbomAgent.run(&task(dir.path(), &[("lockfiles", toml::Value::Array(vec!["web/package-lock.json".into()]))])).await;
        assert_eq!(outcome.verdict, Verdict::MissingInput);
        assert!(outcome.reason.contains("web/package-lock.json is configured but not there"), "{}", outcome.reason);
    }

    #[tokio::test]
    async fn a_broken_lock_file_is_an_error_naming_it() {
        let dir = repo(&[("go.sum", "github.com/a/b v1.0.0\n")]);
        let outcome = SbomAgent.run(&task(dir.path(), &[])).await;
        assert_eq!(outcome.verdict, Verdict::Error);
        assert!(outcome.reason.contains("go.sum:1: expected module version h1:hash"), "{}", outcome.reason);
    }

    #[tokio::test]
    async fn an_unpinned_requirement_fails_and_is_listed() {
        let dir = repo(&[("requirements.txt", "flask==3.0.3\nrequests>=2\n")]);
        let outcome = SbomAgent.run(&task(dir.path(), &[])).await;
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert_eq!(outcome.facts["unpinned"], json!([{ "file": "requirements.txt", "line": 2, "requirement": "requests>=2" }]));
        assert!(outcome.files.is_empty());
        assert!(outcome.reason.contains("pin each as name==version"), "{}", outcome.reason);
    }

    #[test]
    fn discover_prefers_go_sum_over_go_mod_and_ignores_others() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["go.mod", "go.sum", "poetry.lock", "yarn.lock"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let found: Vec<_> = discover(dir.path()).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(found, ["poetry.lock", "go.sum"]);
        assert!(matches!(read_lockfile(&dir.path().join("yarn.lock")), Err(SbomError::UnknownFormat { .. })));
    }

    #[test]
    fn fuzz_harness_survives_its_seeds_and_junk() {
        let seeds: [(&str, &[u8]); 7] = [
            ("Cargo.lock", CARGO.as_bytes()),
            ("requirements.txt", REQUIREMENTS.as_bytes()),
            ("package-lock.json", br#"{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1"}},"node_modules/a":{"version":"1.0.0","integrity":"sha1-NWreECY/aF3aElEAzYYsHbiVMn8="}}}"#),
            ("poetry.lock", b"[[package]]\nname = \"a\"\nversion = \"1\"\n"),
            ("go.sum", b"github.com/a/b v1.0.0 h1:abc=\n"),
            ("go.mod", b"module m\nrequire x v1.0.0\n"),
            ("Cargo.lock", b"\xff\xfe"),
        ];
        for (name, bytes) in seeds {
            fuzz_lockfile(name, bytes);
            for cut in 0..bytes.len() {
                fuzz_lockfile(name, &bytes[..cut]);
            }
            let pick = FUZZ_NAMES.iter().position(|n| *n == name).unwrap_or(0);
            fuzz_any_lockfile(&[&[u8::try_from(pick).unwrap()], bytes].concat());
        }
        fuzz_any_lockfile(&[]);
    }
}
