//! `conductor scan-secrets`: plaintext credentials in a work tree, a diff
//! or git history. The allowlist and baseline of the repository's secrets
//! agent in conductor.toml apply unless a flag overrides them.

use std::path::{Path, PathBuf};

use agents::Roster;
use agents::secrets::{self, Baseline, Finding, ScanConfig, ScanReport};
use anyhow::{Context, Result, anyhow, bail};

use crate::Exit;
use crate::cli::{ScanSecretsArgs, SecretsMode};
use crate::config::{self, Config};

/// How many hex digits of a fingerprint the human output shows.
const FINGERPRINT_SHOWN: usize = 12;

pub fn run(args: ScanSecretsArgs) -> Result<Exit> {
    if args.since.is_some() && args.mode != SecretsMode::Diff {
        bail!("--since applies to --mode diff only; add --mode diff or drop --since");
    }
    let config = scan_config(&args)?;
    let mut report = match args.mode {
        SecretsMode::Tree => secrets::scan_tree(&args.path, &config),
        SecretsMode::Diff => secrets::scan_diff(&args.path, args.since.as_deref(), &config),
        SecretsMode::History => secrets::scan_history(&args.path, &config),
    }?;
    if let Some(file) = &args.write_baseline {
        Baseline::write(&report.findings, file).map_err(|e| anyhow!("--write-baseline: {e}"))?;
        eprintln!("wrote {} finding(s) to the baseline {}", report.findings.len(), file.display());
        report.apply_baseline(&Baseline::of(&report.findings));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.sarif {
        println!("{}", serde_json::to_string_pretty(&report.to_sarif())?);
    } else {
        print_human(&report);
    }
    Ok(if report.findings.is_empty() { Exit::Success } else { Exit::Failed })
}

/// The repository's settings for its secrets agent, then the flags over them.
fn scan_config(args: &ScanSecretsArgs) -> Result<ScanConfig> {
    let (mut settings, base, source) = match repository_settings(&args.path)? {
        Some(found) => found,
        None => (toml::Table::new(), args.path.clone(), String::new()),
    };
    // A baseline flag replaces the configured one; writing a baseline starts from none.
    if args.baseline.is_some() || args.write_baseline.is_some() {
        settings.remove("baseline");
    }
    let mut config = ScanConfig::from_settings(&settings, &base).map_err(|e| anyhow!("{source}{e}"))?;
    if let Some(path) = &args.baseline {
        config.baseline = Some(Baseline::load(path).map_err(|e| anyhow!("--baseline: {e}"))?);
    }
    Ok(config)
}

/// The settings of the roster agent of kind `secrets` from the conductor.toml
/// in `path` or at the top of its repository, with the folder that holds the
/// file and a prefix naming file and table for messages.
fn repository_settings(path: &Path) -> Result<Option<(toml::Table, PathBuf, String)>> {
    let Some(file) = config_file(path) else { return Ok(None) };
    let folder = file.parent().map_or_else(|| PathBuf::from("."), Path::to_owned);
    let roster = Roster::load(&folder)?;
    let Some(agent) = roster.agents().iter().find(|a| a.kind == "secrets") else { return Ok(None) };
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed: Config = toml::from_str(&text).map_err(|e| anyhow!("{}: {}", file.display(), e.message()))?;
    let settings = parsed.agents.get(&agent.name).cloned().unwrap_or_default();
    Ok(Some((settings, folder, format!("{}: [agents.\"{}\"] ", file.display(), agent.name))))
}

/// `path/conductor.toml`, else the one at the top of the repository holding `path`.
fn config_file(path: &Path) -> Option<PathBuf> {
    let here = path.join(config::FILE);
    if here.is_file() {
        return Some(here);
    }
    let top = crate::git::toplevel(path).ok()?.join(config::FILE);
    top.is_file().then_some(top)
}

fn print_human(report: &ScanReport) {
    for f in &report.findings {
        println!("{}", finding_line(f));
    }
    let scope = format!("{} files ({:.1} MiB) in {} mode", report.files_scanned, report.bytes_scanned as f64 / (1024.0 * 1024.0), report.mode.as_str());
    let history = report.commits.map(|c| format!(", {c} commits")).unwrap_or_default();
    let since = report.since.as_ref().map(|s| format!(" since {s}")).unwrap_or_default();
    let accepted = format!("{} allowlisted, {} baselined", report.allowlisted, report.baselined);
    match report.findings.len() {
        0 => println!("no secrets found in {scope}{since}{history}; {accepted}"),
        n => println!("{n} secret(s) found in {scope}{since}{history}; {accepted}"),
    }
}

/// `rule-id  path:line:col  fingerprint[..12]`, and the commit in history mode.
fn finding_line(f: &Finding) -> String {
    let short = &f.fingerprint[..FINGERPRINT_SHOWN.min(f.fingerprint.len())];
    let commit = f.commit.as_ref().map(|c| format!("  commit {}", &c[..FINGERPRINT_SHOWN.min(c.len())])).unwrap_or_default();
    format!("{}  {}:{}:{}  {short}{commit}", f.rule, f.path, f.line, f.column)
}
