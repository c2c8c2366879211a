//! The ledger survives kills and refuses a second writer.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::fixture::{Release, conductor, ok};

fn ledger_path(release: &Release) -> std::path::PathBuf {
    release.path().join(".conductor/releases/v1.0.0/ledger.intoto.jsonl")
}

#[test]
fn a_torn_tail_is_reported_then_repaired() {
    let release = Release::new();
    let path = ledger_path(&release);
    let whole = std::fs::read(&path).unwrap();
    // Simulate a writer killed half-way through its line.
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&whole[..200]).unwrap();
    drop(file);
    let refused = conductor(release.path(), &["attest", "--phase", "P1", "--type", "junit", "--file", "junit.xml"]);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("torn record") && message.contains("conductor repair"), "{message}");
    let log = conductor(release.path(), &["log"]);
    assert_eq!(log.status.code(), Some(2), "a torn ledger is never silently listed");
    let repaired = ok(release.path(), &["repair"]);
    assert!(repaired.contains("torn-"));
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    ok(release.path(), &["attest", "--phase", "P1", "--type", "junit", "--file", "junit.xml"]);
    let (code, _) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0);
}

#[test]
fn a_second_writer_is_refused() {
    let release = Release::new();
    let held = evidence::ledger::Ledger::open(&ledger_path(&release)).unwrap();
    let out = conductor(release.path(), &["attest", "--phase", "P1", "--type", "junit", "--file", "junit.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked by another conductor process"));
    drop(held);
    ok(release.path(), &["attest", "--phase", "P1", "--type", "junit", "--file", "junit.xml"]);
}

#[test]
fn kill_9_during_attests_leaves_a_whole_or_repairable_ledger() {
    let release = Release::new();
    let big = release.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 32 << 20]).unwrap();
    for delay_ms in [5u64, 20, 60, 120] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conductor"))
            .current_dir(release.path())
            .args(["attest", "--phase", "P4", "--type", "blob", "--file", "big.bin"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let out = conductor(release.path(), &["log", "--json"]);
        if !out.status.success() {
            assert!(String::from_utf8_lossy(&out.stderr).contains("torn record"));
            ok(release.path(), &["repair"]);
        }
    }
    ok(release.path(), &["attest", "--phase", "P4", "--type", "blob", "--file", "junit.xml"]);
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");
}
