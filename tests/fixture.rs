//! A real release in a temporary git repository, driven through the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A temporary repository with a started release.
pub struct Release {
    pub dir: tempfile::TempDir,
}

pub fn conductor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conductor"))
        .current_dir(dir)
        .args(args)
        .env("CONDUCTOR_KEY_PASSPHRASE", "test passphrase")
        .output()
        .expect("the conductor binary runs")
}

/// Runs conductor and insists on exit 0.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = conductor(dir, args);
    assert!(out.status.success(), "conductor {args:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Release Bot")
        .env("GIT_AUTHOR_EMAIL", "bot@example.com")
        .env("GIT_COMMITTER_NAME", "Release Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@example.com")
        .status()
        .expect("git runs; install git");
    assert!(status.success(), "git {args:?} failed");
}

/// A git repository with one commit of a small service.
pub fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("service.py"), "print('hello')\n").unwrap();
    std::fs::write(dir.path().join("junit.xml"), "<testsuite tests=\"1\" failures=\"0\"><testcase name=\"t\"/></testsuite>\n").unwrap();
    std::fs::write(dir.path().join("sbom.json"), "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\"}\n").unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "feat: first"]);
    dir
}

impl Release {
    /// keygen, init v1.0.0, and records in P1 and P3.
    pub fn new() -> Self {
        Self::with_version("v1.0.0")
    }

    pub fn with_version(version: &str) -> Self {
        let dir = repo();
        let p = dir.path();
        ok(p, &["keygen", "--out", "keys/notary", "--no-encrypt"]);
        ok(p, &["init", "--version", version, "--key", "keys/notary.key"]);
        ok(p, &["attest", "--phase", "P1", "--type", "junit", "--file", "junit.xml", "--subject", "service.py"]);
        ok(p, &["attest", "--phase", "P3", "--type", "sbom", "--file", "sbom.json"]);
        ok(p, &["attest", "--phase", "P3", "--type", "notes", "--file", "service.py"]);
        Release { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn pack(&self) -> PathBuf {
        ok(self.path(), &["pack", "--out", "pack.zip"]);
        self.path().join("pack.zip")
    }

    pub fn trust(&self) -> PathBuf {
        self.path().join("trust.toml")
    }

    pub fn key(&self) -> evidence::keys::SecretKey {
        let pem = std::fs::read_to_string(self.path().join("keys/notary.key")).unwrap();
        evidence::keys::SecretKey::from_pem(&pem, None).unwrap()
    }

    /// `verify --json` on `pack` with `trust`: exit code and parsed report.
    pub fn verify(&self, pack: &Path, trust: &Path) -> (i32, Value) {
        let out = conductor(self.path(), &["verify", pack.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--json"]);
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("verify printed no JSON: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap_or(-1), json)
    }
}

/// The codes of a report's findings.
pub fn codes(report: &Value) -> Vec<String> {
    report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect()
}

/// Copies a pack, letting `edit` change, drop (None) or keep each entry, then appending `extra` entries.
pub fn rewrite(src: &Path, dst: &Path, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>, extra: &[(&str, &[u8])]) {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if let Some(bytes) = edit(&name, bytes) {
            out.start_file(name, options).unwrap();
            out.write_all(&bytes).unwrap();
        }
    }
    for (name, bytes) in extra {
        out.start_file(*name, options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap();
}

/// The ledger lines of a pack's ledger bytes.
pub fn lines(ledger: &[u8]) -> Vec<Vec<u8>> {
    ledger.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

pub fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect()
}
