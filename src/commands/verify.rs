//! `conductor verify`: offline verification with a verdict per phase and per check.

use std::fs;

use anyhow::{Context, Result};
use evidence::manifest::Manifest;
use evidence::trust::TrustRoot;
use evidence::verify::{Options, Outcome, Report, verify};
use serde_json::json;

use crate::Exit;
use crate::cli::VerifyArgs;

pub fn run(args: VerifyArgs) -> Result<Exit> {
    match check(&args) {
        // CI parsing --json output gets a verdict even when the input is unusable.
        Err(err) if args.json => {
            eprintln!("error: {err:#}");
            println!("{}", serde_json::to_string_pretty(&json!({ "pack": args.pack.display().to_string(), "verdict": "unusable", "error": format!("{err:#}") }))?);
            Ok(Exit::Usage)
        }
        other => other,
    }
}

fn check(args: &VerifyArgs) -> Result<Exit> {
    let text = fs::read_to_string(&args.trust).with_context(|| format!("--trust: cannot read {}", args.trust.display()))?;
    let trust = TrustRoot::parse(&text, &args.trust.display().to_string())?;
    for phase in &args.only {
        evidence::record::validate_phase(phase).map_err(|e| anyhow::anyhow!("--only: {e}"))?;
    }
    let options = Options { only: args.only.clone(), ..Options::default() };
    let outcome = verify(&args.pack, &trust, &options)?;
    let (report, manifest, exit) = match &outcome {
        Outcome::Verified(pack) => (pack.report(), Some(pack.manifest()), Exit::Success),
        Outcome::Failed(report, manifest) => (report, manifest.as_ref(), Exit::Failed),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&to_json(args, report, manifest))?);
    } else {
        print_human(args, report, manifest);
    }
    Ok(exit)
}

fn to_json(args: &VerifyArgs, report: &Report, manifest: Option<&Manifest>) -> serde_json::Value {
    json!({
        "pack": args.pack.display().to_string(),
        "verdict": if report.passed() { "verified" } else { "failed" },
        "release": manifest.map(|m| &m.release),
        "records": manifest.map(|m| m.ledger.records),
        "checks": report.pack_checks(),
        "phases": report.phases(),
        "findings": report.findings,
        "notes": report.notes,
    })
}

fn print_human(args: &VerifyArgs, report: &Report, manifest: Option<&Manifest>) {
    match manifest {
        Some(m) => println!(
            "pack {}: release {} ({}) commit {}, {} records",
            args.pack.display(), m.release.version, m.release.environment, m.release.commit, m.ledger.records
        ),
        None => println!("pack {}", args.pack.display()),
    }
    for check in report.pack_checks() {
        println!("  {:<16} {}", check.check, check.verdict);
    }
    for phase in report.phases() {
        let failed: Vec<&str> = phase.checks.iter().filter(|c| c.verdict == "fail").map(|c| c.check).collect();
        let detail = if failed.is_empty() { String::new() } else { format!(" ({})", failed.join(", ")) };
        println!("  {:<16} {} — {} records{detail}", phase.phase, phase.verdict, phase.records);
    }
    for f in &report.findings {
        let place = match (&f.record, &f.file) {
            (Some(r), _) => format!("record {} ({} {}, line {})", r.sequence, r.phase, r.record_type, r.line),
            (None, Some(file)) => file.clone(),
            (None, None) => "pack".into(),
        };
        println!("error[{}] {place}: {}", f.code.as_str(), f.message);
    }
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.passed() {
        println!("verified");
    } else {
        println!("verification FAILED: {} problem(s)", report.findings.len());
    }
}
