//! The `flags` kind: the release's feature flags from OpenFeature flagd flag
//! files (`{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags":
//! {...}}`), recorded per release as an inventory: each flag's state,
//! variants, default variant, whether it has targeting rules, and its
//! removal date (`metadata.expires` or `metadata.removal_date`, an RFC 3339
//! time or a `YYYY-MM-DD` date, which means 00:00 UTC that day).
//!
//! A flag is invalid when its state is not `ENABLED` or `DISABLED`, when it
//! has no variants, or when its `defaultVariant` is not one of them. A flag is
//! expired when the release commit's time (from git, so a replay judges the
//! same way; `as_of` overrides it) is at or past its removal date. The check
//! fails on an invalid flag, on an expired one unless `allow_expired` is
//! set, on a flag of `require_enabled` that is missing or not enabled (a GA
//! flag), and on a flag of `require_present` that no file defines (a kill
//! switch the runbooks rely on).
//! Flags added and removed since the previous release's inventory are listed.
//! A file that is not flagd JSON is a missing input naming it.

use std::collections::{BTreeMap, BTreeSet};

use evidence::timestamp::Timestamp;
use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// Reads the flag files named by `flag_files`.
pub struct FlagsAgent;

#[async_trait::async_trait]
impl Agent for FlagsAgent {
    fn kind(&self) -> &'static str {
        "flags"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match inventory(task) {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// One flag as a flag file defines it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Flag {
    /// Its key.
    pub(crate) name: String,
    /// The file that defines it (the last one, when several do).
    pub(crate) file: String,
    /// `ENABLED` or `DISABLED` when valid.
    pub(crate) state: String,
    /// Variant names, sorted.
    pub(crate) variants: Vec<String>,
    /// The default variant's name.
    pub(crate) default_variant: Option<String>,
    /// Whether it has targeting rules.
    pub(crate) targeting: bool,
    /// Its removal date as written.
    pub(crate) expires: Option<String>,
    /// Whether the release is at or past that date.
    pub(crate) expired: bool,
    /// What makes it invalid.
    pub(crate) problems: Vec<String>,
}

/// The flags of one flagd file, each with its structural problems.
pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<Vec<Flag>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let flags = doc.get("flags").and_then(Value::as_object).ok_or("no \"flags\" object")?;
    Ok(flags.iter().map(|(name, spec)| flag(name, spec, file)).collect())
}

fn flag(name: &str, spec: &Value, file: &str) -> Flag {
    let mut problems = Vec::new();
    let state = spec.get("state").and_then(Value::as_str).unwrap_or("").to_owned();
    if state != "ENABLED" && state != "DISABLED" {
        problems.push(format!("state {} is neither ENABLED nor DISABLED", shown(spec.get("state"))));
    }
    let variants: Vec<String> = spec.get("variants").and_then(Value::as_object).map(|v| v.keys().cloned().collect()).unwrap_or_default();
    if variants.is_empty() {
        problems.push("it has no variants".to_owned());
    }
    let default_variant = spec.get("defaultVariant").and_then(Value::as_str).map(str::to_owned);
    match &default_variant {
        Some(d) if !variants.contains(d) && !variants.is_empty() => problems.push(format!("defaultVariant '{d}' is not one of its variants ({})", variants.join(", "))),
        None => problems.push(format!("defaultVariant {} is not a variant name", shown(spec.get("defaultVariant")))),
        _ => {}
    }
    let targeting = spec.get("targeting").is_some_and(|t| t.as_object().is_some_and(|o| !o.is_empty()));
    let metadata = spec.get("metadata");
    let expires = ["expires", "removal_date"].iter().find_map(|k| metadata.and_then(|m| m.get(*k))).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
    Flag { name: name.to_owned(), file: file.to_owned(), state, variants, default_variant, targeting, expires, expired: false, problems }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "(missing)".to_owned(), Value::to_string)
}

/// A removal date: RFC 3339, or `YYYY-MM-DD` for 00:00 UTC that day.
pub(crate) fn removal_time(text: &str) -> Option<Timestamp> {
    Timestamp::parse(text).ok().or_else(|| (text.len() == 10).then(|| Timestamp::parse(&format!("{text}T00:00:00Z")).ok()).flatten())
}

fn inventory(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let allow_expired = task.settings.get("allow_expired").and_then(toml::Value::as_bool).unwrap_or(false);
    let required = list_setting(task, "require_enabled")?;
    let present = list_setting(task, "require_present")?;
    let reports = task.read_reports("flag_files")?;
    let mut by_name: BTreeMap<String, Flag> = BTreeMap::new();
    for (path, bytes) in &reports {
        let flags = parse(bytes, path).map_err(|e| AgentOutcome::missing_input(format!("{path} is not a flagd flag file: {e}")))?;
        by_name.extend(flags.into_iter().map(|f| (f.name.clone(), f)));
    }
    let (as_of, as_of_source) = as_of(task)?;
    for f in by_name.values_mut() {
        match f.expires.as_deref().map(|e| (e, removal_time(e))) {
            Some((_, Some(at))) => f.expired = as_of >= at,
            Some((text, None)) => f.problems.push(format!("removal date '{text}' is neither an RFC 3339 time nor a YYYY-MM-DD date")),
            None => {}
        }
    }
    let flags: Vec<&Flag> = by_name.values().collect();
    let invalid: Vec<Value> = flags.iter().filter(|f| !f.problems.is_empty()).map(|f| json!({ "name": f.name, "file": f.file, "problems": f.problems })).collect();
    let expired: Vec<Value> = flags.iter().filter(|f| f.expired).map(|f| json!({ "name": f.name, "file": f.file, "expires": f.expires })).collect();
    let not_enabled: Vec<String> = required.iter().filter(|r| by_name.get(*r).is_none_or(|f| f.state != "ENABLED")).cloned().collect();
    let absent: Vec<String> = present.iter().filter(|r| !by_name.contains_key(*r)).cloned().collect();
    let previous = task.release.as_ref().and_then(|r| r.previous.as_ref());
    let before: Option<BTreeSet<&str>> = previous.and_then(|p| p.facts.get("flags")).and_then(Value::as_array).map(|a| a.iter().filter_map(|f| f["name"].as_str()).collect());
    let now: BTreeSet<&str> = by_name.keys().map(String::as_str).collect();
    let added: Option<Vec<&str>> = before.as_ref().map(|b| now.difference(b).copied().collect());
    let removed: Option<Vec<&str>> = before.as_ref().map(|b| b.difference(&now).copied().collect());
    let (verdict, reason) = judge(flags.len(), &invalid, &expired, allow_expired, (&not_enabled, &absent), &as_of);
    let facts = json!({
        "flags": flags,
        "total": flags.len(),
        "enabled": flags.iter().filter(|f| f.state == "ENABLED").count(),
        "invalid": invalid,
        "expired": expired,
        "allowExpired": allow_expired,
        "requireEnabled": required,
        "notEnabled": not_enabled,
        "requirePresent": present,
        "absent": absent,
        "asOf": as_of,
        "asOfSource": as_of_source,
        "previousVersion": previous.map(|p| p.version.clone()),
        "added": added,
        "removed": removed,
    });
    Ok(AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) })
}

fn judge(total: usize, invalid: &[Value], expired: &[Value], allow_expired: bool, (not_enabled, absent): (&[String], &[String]), as_of: &Timestamp) -> (Verdict, String) {
    let names = |items: &[Value]| items.iter().filter_map(|i| i["name"].as_str()).collect::<Vec<_>>().join(", ");
    if let Some(first) = invalid.first() {
        let why = first["problems"][0].as_str().unwrap_or("");
        return (Verdict::Fail, format!("{} of {total} flags are invalid: {} ({}: {why})", invalid.len(), names(invalid), first["name"].as_str().unwrap_or("")));
    }
    if !expired.is_empty() && !allow_expired {
        return (Verdict::Fail, format!("{} of {total} flags are past their removal date as of {as_of}: {}", expired.len(), names(expired)));
    }
    if !not_enabled.is_empty() {
        return (Verdict::Fail, format!("required flags are missing or not ENABLED: {}", not_enabled.join(", ")));
    }
    if !absent.is_empty() {
        return (Verdict::Fail, format!("required flags are not defined in any flag file: {}", absent.join(", ")));
    }
    (Verdict::Pass, format!("{total} flags valid, {} past their removal date", expired.len()))
}

fn list_setting(task: &AgentTask, key: &str) -> Result<Vec<String>, AgentOutcome> {
    match task.settings.get(key) {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| AgentOutcome::missing_input(format!("'{key}' of [agents.\"{}\"] must list flag names as strings", task.agent))),
        Some(_) => Err(AgentOutcome::missing_input(format!("'{key}' of [agents.\"{}\"] must be a list of flag names", task.agent))),
    }
}

/// The time removal dates are compared with: `as_of` when set, else the
/// committer time of the release commit (or HEAD outside a release).
fn as_of(task: &AgentTask) -> Result<(Timestamp, &'static str), AgentOutcome> {
    if let Some(v) = task.settings.get("as_of") {
        let at = v.as_str().and_then(removal_time).ok_or_else(|| {
            AgentOutcome::missing_input(format!("'as_of' of [agents.\"{}\"] must be an RFC 3339 time or a YYYY-MM-DD date", task.agent))
        })?;
        return Ok((at, "setting"));
    }
    let commit = task.release.as_ref().map_or_else(|| "HEAD".to_owned(), |r| r.binding.commit.clone());
    let text = crate::git::git(&task.workdir, &["show", "-s", "--format=%cI", &commit]).map_err(|e| {
        AgentOutcome::missing_input(format!("cannot tell the release commit's time to compare removal dates with ({e}); set 'as_of' under [agents.\"{}\"]", task.agent))
    })?;
    let at = Timestamp::parse(text.trim()).map_err(|e| AgentOutcome::error(format!("git gave the commit time '{}': {e}", text.trim())))?;
    Ok((at, "commit"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &str = include_str!("flags/testdata/flags.json");

    fn task(dir: &std::path::Path, body: &str, extra: &[(&str, toml::Value)]) -> AgentTask {
        std::fs::write(dir.join("flags.json"), body).unwrap();
        let mut settings = toml::Table::new();
        settings.insert("flag_files".into(), "flags.json".into());
        for (k, v) in extra {
            settings.insert((*k).into(), v.clone());
        }
        AgentTask::new("Feature Flag Butler", "flags", "P8", dir, dir, settings)
    }

    #[test]
    fn reads_the_inventory_and_finds_structural_problems() {
        let flags = parse(FLAGS.as_bytes(), "flags.json").unwrap();
        let by = |n: &str| flags.iter().find(|f| f.name == n).unwrap();
        let checkout = by("new-checkout");
        assert_eq!((checkout.state.as_str(), checkout.default_variant.as_deref(), checkout.targeting), ("ENABLED", Some("off"), true));
        assert_eq!(checkout.variants, ["off", "on"]);
        assert!(checkout.problems.is_empty());
        assert_eq!(by("legacy-search").expires.as_deref(), Some("2026-10-01"));
        assert!(by("header-color").problems.is_empty(), "{:?}", by("header-color").problems);
        assert!(parse(b"{\"flags\": []}", "x.json").is_err());
        let broken = parse(br#"{"flags":{"a":{"state":"ON","variants":{"x":1},"defaultVariant":"y"}}}"#, "x.json").unwrap();
        assert_eq!(broken[0].problems.len(), 2, "{:?}", broken[0].problems);
        assert_eq!(removal_time("2026-12-01"), Timestamp::parse("2026-12-01T00:00:00Z").ok());
        assert_eq!(removal_time("soon"), None);
    }

    #[tokio::test]
    async fn an_expired_flag_fails_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let outcome = FlagsAgent.run(&task(dir.path(), FLAGS, &[("as_of", "2026-11-30T12:00:00Z".into())])).await;
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert!(outcome.reason.contains("1 of 3 flags are past their removal date as of 2026-11-30T12:00:00Z: legacy-search"), "{}", outcome.reason);
        assert_eq!(outcome.facts["expired"][0]["expires"], "2026-10-01");
        assert_eq!(outcome.facts["total"], 3);
        let allowed = FlagsAgent.run(&task(dir.path(), FLAGS, &[("as_of", "2026-11-30".into()), ("allow_expired", true.into())])).await;
        assert_eq!(allowed.verdict, Verdict::Pass, "{}", allowed.reason);
        let earlier = FlagsAgent.run(&task(dir.path(), FLAGS, &[("as_of", "2026-09-30".into())])).await;
        assert_eq!(earlier.verdict, Verdict::Pass, "{}", earlier.reason);
    }

    #[tokio::test]
    async fn invalid_flags_and_unreadable_files_say_which() {
        let dir = tempfile::tempdir().unwrap();
        let bad = r#"{"$schema":"https://flagd.dev/schema/v0/flags.json","flags":{"dark-mode":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"dark"}}}"#;
        let outcome = FlagsAgent.run(&task(dir.path(), bad, &[("as_of", "2026-11-30".into())])).await;
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert!(outcome.reason.contains("dark-mode: defaultVariant 'dark' is not one of its variants (off, on)"), "{}", outcome.reason);
        let malformed = FlagsAgent.run(&task(dir.path(), "{\"flags\": {", &[])).await;
        assert_eq!(malformed.verdict, Verdict::MissingInput);
        assert!(malformed.reason.starts_with("flags.json is not a flagd flag file"), "{}", malformed.reason);
    }

    #[tokio::test]
    async fn compares_with_the_previous_inventory_and_requires_enabled_flags() {
        let dir = tempfile::tempdir().unwrap();
        let binding = evidence::record::ReleaseBinding { version: "v1.1.0".into(), commit: "0".repeat(40), environment: "prod".into(), id: "r".into() };
        let previous = crate::PreviousOutcome { version: "v1.0.0".into(), verdict: Verdict::Pass, facts: json!({ "flags": [{ "name": "legacy-search" }, { "name": "old-banner" }] }) };
        let required = toml::Value::Array(vec!["new-checkout".into(), "header-color".into()]);
        let t = task(dir.path(), FLAGS, &[("as_of", "2026-09-01".into()), ("require_enabled", required)]);
        let t = t.with_release(crate::ReleaseContext { previous: Some(previous), ..crate::ReleaseContext::new(binding) });
        let outcome = FlagsAgent.run(&t).await;
        assert_eq!(outcome.facts["added"], json!(["header-color", "new-checkout"]));
        assert_eq!(outcome.facts["removed"], json!(["old-banner"]));
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert!(outcome.reason.contains("not ENABLED: header-color"), "{}", outcome.reason);
        let kill_switch = toml::Value::Array(vec!["legacy-search".into(), "kill-orders-writes".into()]);
        let missing = FlagsAgent.run(&task(dir.path(), FLAGS, &[("as_of", "2026-09-01".into()), ("require_present", kill_switch)])).await;
        assert_eq!(missing.facts["absent"], json!(["kill-orders-writes"]));
        assert!(missing.reason.contains("not defined in any flag file: kill-orders-writes"), "{}", missing.reason);
    }

    #[tokio::test]
    async fn the_commit_time_is_the_default_date() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git").current_dir(dir.path()).args(args).env("GIT_COMMITTER_DATE", "2026-11-30T09:00:00Z").env("GIT_AUTHOR_DATE", "2026-11-30T09:00:00Z").status().unwrap();
            assert!(ok.success());
        };
        let t = task(dir.path(), FLAGS, &[]);
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "flags"]);
        let outcome = FlagsAgent.run(&t).await;
        assert_eq!(outcome.facts["asOf"], "2026-11-30T09:00:00Z");
        assert_eq!(outcome.facts["asOfSource"], "commit");
        assert_eq!(outcome.verdict, Verdict::Fail);
    }
}
