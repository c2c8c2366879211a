//! Hostile archives are refused before anything is read, and nothing is
//! ever written outside a temporary folder (verification extracts nothing).

use std::path::Path;

use crate::fixture::{Release, codes, rewrite};

fn verify_code(release: &Release, pack: &Path) -> Vec<String> {
    let (exit, report) = release.verify(pack, &release.trust());
    assert_eq!(exit, 1, "{report:#}");
    codes(&report)
}

fn with_entry(name: &str) -> Vec<String> {
    let release = Release::new();
    let bad = release.path().join("bad.zip");
    rewrite(&release.pack(), &bad, |_, b| Some(b), &[(name, b"owned")]);
    verify_code(&release, &bad)
}

#[test]
fn path_traversal_is_refused() {
    assert_eq!(with_entry("../../escape.txt"), ["pack-entry-unsafe-path"]);
    assert_eq!(with_entry("evidence/../../escape.txt"), ["pack-entry-unsafe-path"]);
}

#[test]
fn absolute_paths_are_refused() {
    assert_eq!(with_entry("/etc/cron.d/evil"), ["pack-entry-unsafe-path"]);
    assert_eq!(with_entry("C:\\evil.txt"), ["pack-entry-unsafe-path"]);
}

#[test]
fn links_are_refused() {
    let release = Release::new();
    let bad = release.path().join("bad.zip");
    rewrite(&release.pack(), &bad, |_, b| Some(b), &[]);
    // Append a symbolic link entry to the rewritten archive.
    let file = std::fs::OpenOptions::new().read(true).write(true).open(&bad).unwrap();
    let mut zip = zip::ZipWriter::new_append(file).unwrap();
    zip.add_symlink("evidence/link", "/etc/passwd", zip::write::SimpleFileOptions::default()).unwrap();
    zip.finish().unwrap();
    assert_eq!(verify_code(&release, &bad), ["pack-entry-link"]);
}

#[test]
fn duplicate_names_are_refused() {
    let release = Release::new();
    let bad = release.path().join("bad.zip");
    rewrite(&release.pack(), &bad, |_, b| Some(b), &[("SHA256SUMT", b"second copy")]);
    // Rename the extra entry onto SHA256SUMS in both of its headers; CRCs do not cover names.
    let bytes = std::fs::read(&bad).unwrap();
    let patched = replace_all(&bytes, b"SHA256SUMT", b"SHA256SUMS");
    std::fs::write(&bad, patched).unwrap();
    assert_eq!(verify_code(&release, &bad), ["pack-entry-duplicate"]);
}

#[test]
fn an_entry_longer_than_declared_is_refused() {
    let release = Release::new();
    let bad = release.path().join("bad.zip");
    rewrite(&release.pack(), &bad, |_, b| Some(b), &[]);
    let mut bytes = std::fs::read(&bad).unwrap();
    shrink_declared_size(&mut bytes, "ledger/checkpoint");
    std::fs::write(&bad, bytes).unwrap();
    let found = verify_code(&release, &bad);
    assert!(found.contains(&"pack-entry-size-mismatch".to_owned()), "{found:?}");
}

#[test]
fn archives_past_the_limits_are_refused() {
    let release = Release::new();
    let pack = release.pack();
    let trust = evidence::trust::TrustRoot::parse(&std::fs::read_to_string(release.trust()).unwrap(), "trust.toml").unwrap();
    let limits = evidence::pack::Limits { max_entries: 3, ..Default::default() };
    let options = evidence::verify::Options { only: vec![], limits };
    match evidence::verify::verify(&pack, &trust, &options).unwrap() {
        evidence::verify::Outcome::Failed(report, _) => assert_eq!(report.findings[0].code.as_str(), "pack-limits-exceeded"),
        other => panic!("accepted: {other:?}"),
    }
    let limits = evidence::pack::Limits { max_total_bytes: 100, ..Default::default() };
    let options = evidence::verify::Options { only: vec![], limits };
    assert!(matches!(evidence::verify::verify(&pack, &trust, &options).unwrap(), evidence::verify::Outcome::Failed(..)));
}

#[test]
fn verification_writes_nothing() {
    let release = Release::new();
    let pack = release.pack();
    let before = listing(release.path());
    let bad = release.path().join("bad.zip");
    rewrite(&pack, &bad, |_, b| Some(b), &[("../../escape.txt", b"owned")]);
    let before_bad = listing(release.path());
    verify_code(&release, &bad);
    assert_eq!(listing(release.path()), before_bad);
    assert!(!release.path().parent().unwrap().join("escape.txt").exists());
    assert!(before.len() < before_bad.len());
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    out.sort();
    out
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = haystack.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}

/// Lowers the declared uncompressed size of a stored entry by one byte in its
/// local header and its central directory header.
fn shrink_declared_size(bytes: &mut [u8], name: &str) {
    let name = name.as_bytes();
    let mut i = 0;
    while i + 46 < bytes.len() {
        let sig = u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        let (size_at, name_len_at, header) = match sig {
            0x04034b50 => (i + 22, i + 26, 30),
            0x02014b50 => (i + 24, i + 28, 46),
            _ => {
                i += 1;
                continue;
            }
        };
        let name_len = u16::from_le_bytes([bytes[name_len_at], bytes[name_len_at + 1]]) as usize;
        if bytes.get(i + header..i + header + name_len) == Some(name) {
            let size = u32::from_le_bytes(bytes[size_at..size_at + 4].try_into().unwrap());
            bytes[size_at..size_at + 4].copy_from_slice(&(size - 1).to_le_bytes());
        }
        i += 4;
    }
}
