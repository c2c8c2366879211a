//! The incident record a rolled-back promotion leaves:
//! `incidents/INC-YYYY-MM-DD-NN.md`, numbered per day, naming the release,
//! the step and the reason, the rollback and whether the metrics recovered,
//! and the commits since the previous release tag as suspects.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use evidence::record::ReleaseBinding;
use evidence::timestamp::Timestamp;

use super::rollout::Abort;

/// What goes into an incident record.
pub struct Incident<'a> {
    /// The release that was rolled back.
    pub release: &'a ReleaseBinding,
    /// The service.
    pub service: &'a str,
    /// When it was rolled back.
    pub at: Timestamp,
    /// What happened.
    pub abort: &'a Abort,
    /// The previous release tag, when there is one.
    pub previous: Option<&'a str>,
    /// The commits since it.
    pub suspects: &'a [String],
    /// The ledger records of the rollout, as `#12 promotion-analysis`.
    pub records: &'a [String],
}

/// Writes the record under `repo/incidents/` with the next free number of
/// the day and returns its path. An existing record is never overwritten.
pub fn write(repo: &Path, incident: &Incident<'_>) -> Result<PathBuf> {
    let dir = repo.join("incidents");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let day = incident.at.to_string().get(..10).unwrap_or("0000-00-00").to_owned();
    let text = render(incident, &day);
    for n in 1..100 {
        let path = dir.join(format!("INC-{day}-{n:02}.md"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                use std::io::Write as _;
                file.write_all(text.replace("{id}", &format!("INC-{day}-{n:02}")).as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }
    anyhow::bail!("{} already holds 99 incident records for {day}; move old ones away", dir.display())
}

fn render(i: &Incident<'_>, day: &str) -> String {
    let r = i.release;
    let a = i.abort;
    let mut out = format!("# {{id}}: {} {} rolled back at {}%\n\n", i.service, r.version, a.weight);
    let _ = writeln!(out, "- Date: {day}; rolled back at {}", i.at);
    let _ = writeln!(out, "- Release: {} ({}), commit {}, release id {}", r.version, r.environment, r.commit, r.id);
    let _ = writeln!(out, "- Step: {} at {}% of traffic", a.step + 1, a.weight);
    let _ = writeln!(out, "- Status: ABORTED");
    let _ = writeln!(out, "\n## What happened\n\n{}\n", a.reason);
    let rollback = if a.rollback.succeeded() { format!("`{}` succeeded", a.rollback.command) } else { a.rollback.failure() };
    let _ = writeln!(out, "## Rollback\n\n{rollback}.\n");
    let recovered = if a.recovered { "The metrics recovered" } else { "The metrics did NOT recover" };
    let _ = writeln!(out, "{recovered}: {}\n", a.recovery);
    let since = i.previous.map_or_else(|| "in the release's history (no earlier release tag)".to_owned(), |p| format!("since {p}"));
    let _ = writeln!(out, "## Suspects\n\nCommits {since}:\n");
    if i.suspects.is_empty() {
        let _ = writeln!(out, "- none found");
    }
    for s in i.suspects {
        let _ = writeln!(out, "- {s}");
    }
    let _ = writeln!(out, "\n## Evidence\n\nLedger records of the rollout: {}.", i.records.join(", "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::driver::Action;

    #[test]
    fn records_are_numbered_per_day_and_name_the_suspects() {
        let dir = tempfile::tempdir().unwrap();
        let release = ReleaseBinding { version: "v1.1.0".into(), commit: "a".repeat(40), environment: "prod".into(), id: "b".repeat(32) };
        let rollback = Action { action: "rollback", command: "./rollback.sh orders".into(), exit_code: Some(0), duration_ms: 3, stdout: String::new(), stderr: String::new() };
        let abort = Abort { step: 0, weight: 10, reason: "step 1 (10%): error-rate = 0.2 does not meet the success condition <= 0.01".into(), rollback, recovered: true, recovery: "2 measurements: 2 successful".into() };
        let suspects = vec!["1a2b3c4 Dana feat: retry payments".to_owned()];
        let incident = Incident { release: &release, service: "orders", at: Timestamp::parse("2026-12-01T10:00:00Z").unwrap(), abort: &abort, previous: Some("v1.0.0"), suspects: &suspects, records: &["#41 promotion-rollback".into()] };
        let first = write(dir.path(), &incident).unwrap();
        let second = write(dir.path(), &incident).unwrap();
        assert_eq!(first.file_name().unwrap(), "INC-2026-12-01-01.md");
        assert_eq!(second.file_name().unwrap(), "INC-2026-12-01-02.md");
        let text = std::fs::read_to_string(&second).unwrap();
        assert!(text.starts_with("# INC-2026-12-01-02: orders v1.1.0 rolled back at 10%\n"), "{text}");
        assert!(text.contains("Commits since v1.0.0:\n\n- 1a2b3c4 Dana feat: retry payments\n"), "{text}");
        assert!(text.contains("error-rate = 0.2 does not meet the success condition <= 0.01"));
        assert!(text.contains("- Status: ABORTED"));
    }
}
