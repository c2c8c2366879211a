//! `conductor verify`: offline verification with a verdict per phase and per check.


use anyhow::Result;
use evidence::manifest::Manifest;
use evidence::trust::TrustRoot;
use evidence::verify::{Extension, Options, Outcome, Report, VerifiedPack, check_extends, verify};
use serde_json::json;

use crate::Exit;
use crate::cli::VerifyArgs;
use crate::gates::{Recheck, recheck_pack};

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
    let trust = crate::workspace::load_trust(&args.trust, "--trust")?;
    for phase in &args.only {
        evidence::record::validate_phase(phase).map_err(|e| anyhow::anyhow!("--only: {e}"))?;
    }
    let options = Options { only: args.only.clone(), ..Options::default() };
    let outcome = verify(&args.pack, &trust, &options)?;
    let extension = match (&args.extends, &outcome) {
        (Some(earlier), Outcome::Verified(pack)) => Some(extension(earlier, &trust, pack)?),
        _ => None,
    };
    // Gates are re-decided only from a pack whose evidence verified.
    let gates = match &outcome {
        Outcome::Verified(_) => Some(recheck_pack(&args.pack)?),
        Outcome::Failed(..) => None,
    };
    let (report, manifest, mut exit) = match &outcome {
        Outcome::Verified(pack) => (pack.report(), Some(pack.manifest()), Exit::Success),
        Outcome::Failed(report, manifest) => (report, manifest.as_ref(), Exit::Failed),
    };
    if extension.as_ref().is_some_and(|e| e.is_err()) || gates.as_ref().is_some_and(|g| !g.mismatches.is_empty()) {
        exit = Exit::Failed;
    }
    let access = match (&args.reason, &args.key) {
        (Some(reason), Some(key)) => {
            let key = crate::workspace::load_secret_key(key)?;
            let verdict = if exit == Exit::Success { "verified" } else { "failed" };
            Some(crate::access_log::append(&args.pack, reason, &key, &trust, verdict, crate::workspace::now()?)?)
        }
        _ => None,
    };
    if args.json {
        let mut out = to_json(args, report, manifest);
        if let Some(entry) = &access {
            out["accessLog"] = json!({"file": crate::access_log::path_for(&args.pack).display().to_string(), "entry": entry});
        }
        out["gates"] = gates_json(gates.as_ref());
        if gates.as_ref().is_some_and(|g| !g.mismatches.is_empty()) {
            out["verdict"] = "failed".into();
        }
        if let Some(earlier) = &args.extends {
            out["extends"] = extension_json(earlier, extension.as_ref());
            if exit == Exit::Failed {
                out["verdict"] = "failed".into();
            }
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_human(args, report, manifest, extension.as_ref(), gates.as_ref());
        if let Some(entry) = &access {
            println!("access by {} recorded in {}: {}", entry.who, crate::access_log::path_for(&args.pack).display(), entry.reason);
        }
    }
    Ok(exit)
}

/// Verifies the earlier pack too, then proves the later one extends it.
fn extension(earlier: &std::path::Path, trust: &TrustRoot, later: &VerifiedPack) -> Result<Result<Extension, String>> {
    Ok(match verify(earlier, trust, &Options::default())? {
        Outcome::Verified(old) => check_extends(&old, later).map_err(|e| e.to_string()),
        Outcome::Failed(report, _) => Err(format!("the earlier pack {} does not verify ({} problems); run verify on it for details", earlier.display(), report.findings.len())),
    })
}

fn extension_json(earlier: &std::path::Path, extension: Option<&Result<Extension, String>>) -> serde_json::Value {
    let pack = earlier.display().to_string();
    match extension {
        None => json!({ "pack": pack, "verdict": "skipped" }),
        Some(Ok(e)) => json!({ "pack": pack, "verdict": "pass", "oldSize": e.old_size, "newSize": e.new_size, "proof": e.proof }),
        Some(Err(why)) => json!({ "pack": pack, "verdict": "fail", "code": "pack-does-not-extend", "message": why }),
    }
}

fn print_extension(args: &VerifyArgs, extension: Option<&Result<Extension, String>>) {
    let Some(earlier) = &args.extends else { return };
    match extension {
        None => println!("  extends          skipped (this pack does not verify)"),
        Some(Ok(e)) => println!("  extends          pass — the first {} of {} records are those of {}", e.old_size, e.new_size, earlier.display()),
        Some(Err(why)) => println!("error[pack-does-not-extend] {}: {why}", earlier.display()),
    }
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

fn gates_json(gates: Option<&Recheck>) -> serde_json::Value {
    match gates {
        None => json!({ "verdict": "skipped" }),
        Some(g) => json!({ "verdict": if g.mismatches.is_empty() { "pass" } else { "fail" }, "decisions": g.decisions, "findings": g.mismatches }),
    }
}

fn print_gates(gates: Option<&Recheck>) {
    let Some(g) = gates else { return };
    if g.mismatches.is_empty() {
        println!("  {:<16} pass — {} gate decisions re-decided from the packed inputs and policies", "gates", g.decisions);
    }
    for m in &g.mismatches {
        println!("error[{}] record {} ({} gate {}): {}", m.code, m.sequence, m.phase, m.gate, m.message);
    }
}

fn print_human(args: &VerifyArgs, report: &Report, manifest: Option<&Manifest>, extension: Option<&Result<Extension, String>>, gates: Option<&Recheck>) {
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
    print_extension(args, extension);
    print_gates(gates);
    for note in &report.notes {
        println!("note: {note}");
    }
    let problems = report.findings.len() + usize::from(extension.is_some_and(|e| e.is_err())) + gates.map_or(0, |g| g.mismatches.len());
    if problems == 0 {
        println!("verified");
    } else {
        println!("verification FAILED: {problems} problem(s)");
    }
}
