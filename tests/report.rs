//! The reports people read: `reports/release-<version>.md` after every run
//! (BLOCKED while a gate fails), and the pack's self-contained `index.html`,
//! loaded in headless Chromium from the unzipped pack, its key content read
//! back from the rendered page and a screenshot saved.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{conductor, git, ok, repo};

const CHROMIUM_INSTALL: &str = "install Debian's chromium (apt-get install chromium); scripts/test.sh does";

/// Besides the Checker of every phase (`promote::ROSTER`), the SLO Librarian in P1 and the Comms Bard in P7.
const MORE_AGENTS: &str = r#"
[[agent]]
name = "SLO Librarian"
kind = "slo"
phases = ["P1"]
record_type = "slo-snapshot"
inputs = ["objectives"]
summary = "the SLO baseline"

[[agent]]
name = "Comms Bard"
kind = "changelog"
phases = ["P7"]
record_type = "release-notes"
inputs = []
summary = "the release notes"
"#;

fn phase(id: &str, gate: &str, policy: &str, agents: &[&str], needs: &[&str]) -> String {
    let list = |items: &[&str]| items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ");
    format!("id = \"{id}\"\nname = \"{id} checks\"\nrequires = []\n\n[[gate]]\nid = \"{gate}\"\npolicy = \"{policy}\"\nagents = [{}]\nneeds = [{}]\n", list(agents), list(needs))
}

/// A release of a repository with its own roster and phases, whose SLO
/// Librarian replays the example service's recording.
fn release(check: &str) -> tempfile::TempDir {
    let dir = repo();
    let p = dir.path();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service");
    crate::gates::copy_tree(&example.join("slo"), &{
        std::fs::create_dir_all(p.join("slo")).unwrap();
        p.join("slo")
    });
    std::fs::create_dir_all(p.join("agents")).unwrap();
    std::fs::create_dir_all(p.join("phases")).unwrap();
    std::fs::write(p.join("agents/roster.toml"), format!("{}{MORE_AGENTS}", crate::promote::ROSTER)).unwrap();
    for id in ["P0", "P2", "P3", "P4", "P5", "P6", "P8"] {
        std::fs::write(p.join(format!("phases/{id}.toml")), phase(id, "checked", "identity", &["Checker"], &["check"])).unwrap();
    }
    std::fs::write(p.join("phases/P1.toml"), phase("P1", "slo", "slo", &["SLO Librarian"], &["slo-snapshot"])).unwrap();
    std::fs::write(p.join("phases/P7.toml"), phase("P7", "notes", "identity", &["Comms Bard", "Checker"], &["release-notes", "check"])).unwrap();
    let objectives = std::fs::read_to_string(example.join("conductor.toml")).unwrap();
    let librarian = objectives.split("[agents.\"SLO Librarian\"]").nth(1).unwrap().split("\n# P8").next().unwrap();
    let config = format!("[agents.\"Checker\"]\ncommand = \"{check}\"\n\n[agents.\"Comms Bard\"]\nname = \"release-notes.md\"\n\n[agents.\"SLO Librarian\"]{librarian}");
    std::fs::write(p.join("conductor.toml"), config).unwrap();
    std::fs::write(p.join(".gitignore"), "/keys/\n/trust.toml\n/*.zip\n/*.html\n/unzipped/\n").unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "feat: order status page <b>bold</b> & more"]);
    ok(p, &["keygen", "--out", "keys/notary", "--no-encrypt"]);
    ok(p, &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    dir
}

fn chromium() -> PathBuf {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file())))
        .unwrap_or_else(|| panic!("no chromium on PATH; {CHROMIUM_INSTALL}"))
}

/// Runs headless Chromium on `page` with `args`, without network or profile.
fn headless(page: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("chromium cannot start ({e}); {CHROMIUM_INSTALL}"));
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn every_run_leaves_a_markdown_report_blocked_while_a_gate_fails() {
    let dir = release("false");
    let p = dir.path();
    let out = conductor(p, &["run", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("report: reports/release-v1.0.0.md"));
    let md = std::fs::read_to_string(p.join("reports/release-v1.0.0.md")).unwrap();
    assert!(md.starts_with("# Release v1.0.0 (prod): BLOCKED\n"), "{md}");
    assert!(md.contains("| P0 P0 checks | checked | failed | Checker: fail: "), "{md}");
    assert!(md.contains("| P1 P1 checks | slo | passed |  |"), "{md}");
    assert!(md.contains("## Where the evidence is"), "{md}");
    assert!(md.contains("slo/slo-snapshot/orders-availability.svg"), "the charts' places in the pack: {md}");
    // The report is kept out of git status, so the next run's tree stays clean.
    let status = Command::new("git").current_dir(p).args(["status", "--porcelain"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&status.stdout).contains("reports/"), "{}", String::from_utf8_lossy(&status.stdout));
}

#[test]
fn the_packs_index_html_opens_in_a_browser_with_gates_charts_approvals_and_notes() {
    let dir = release("true");
    let p = dir.path();
    ok(p, &["run", "--all"]);
    ok(p, &["pack"]);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(p.join("evidence-v1.0.0.zip")).unwrap()).unwrap();
    let unzipped = p.join("unzipped");
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let target = unzipped.join(entry.name().unwrap().as_ref());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let page = unzipped.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for forbidden in ["<script", "<link", "src=\"http", "href=\"http", "url(http"] {
        assert!(!html.contains(forbidden), "the page must be self-contained, found {forbidden}");
    }
    assert!(!html.contains("<b>bold</b>") && html.contains("bold\\&lt;/b\\&gt; &amp; more"), "ledger text is escaped");
    ok(p, &["verify", "evidence-v1.0.0.zip", "--trust", "trust.toml"]);

    let profile = tempfile::tempdir().unwrap();
    let dom = String::from_utf8(headless(&page, profile.path(), &["--dump-dom"]).stdout).unwrap();
    // Every gate passed, but the trust root defines no CAB to approve the release.
    assert!(dom.contains("Release v1.0.0") && dom.contains("id=\"status\">AWAITING APPROVAL</span>"), "{dom}");
    for gate in ["checked", "slo", "notes"] {
        assert!(dom.contains(&format!("<td>{gate}</td><td class=\"passed\">passed</td>")), "gate {gate}: {dom}");
    }
    assert_eq!(dom.matches("<img alt=\"slo/slo-snapshot/").count(), 3, "one chart per objective");
    assert!(dom.contains("id=\"approvals\""));
    assert!(dom.contains("id=\"notes\"") && dom.contains("order status page"), "the release notes");
    assert!(dom.contains("signature verified: notary"), "each record's verification state");

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-index.png");
    headless(&page, profile.path(), &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2400", "--hide-scrollbars"]);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000, "a rendered screenshot at {}", shot.display());

    // `conductor report --html` writes the same page outside a pack.
    ok(p, &["report", "--html"]);
    let outside = std::fs::read_to_string(p.join("release-v1.0.0.html")).unwrap();
    assert!(outside.contains("id=\"gates\"") && outside.contains("id=\"status\">AWAITING APPROVAL</span>"));
}
