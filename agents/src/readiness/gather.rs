//! Release data built from the release's own evidence: the latest outcome of
//! each agent in the ledger, mapped by kind and record type to the fields of
//! [`ReleaseData`]. Only outcomes whose check ran (a pass or a fail verdict)
//! carry facts; any other outcome leaves its fields without data and says so
//! in a note, so nothing is ever assumed.

use serde_json::Value;

use super::data::{BreakingChanges, CodeQuality, Dependencies, Documentation, Fraction, ReleaseData, Rollback, SchemaVersion, Security, Tests};
use crate::{ReleaseEvidence, Verdict};

/// Breaking commits read from git, for when no docs outcome reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitBreaking {
    /// The previous tag, if any.
    pub since: Option<String>,
    /// Breaking commits since then.
    pub count: u64,
}

/// Release data with a note per source and per gap.
#[derive(Clone, Debug, PartialEq)]
pub struct Gathered {
    /// The data.
    pub data: ReleaseData,
    /// Where each category came from, and why some have no data.
    pub notes: Vec<String>,
}

/// Record types whose SARIF findings count as code quality.
const LINT_TYPES: [&str; 1] = ["lint"];
/// Record types whose SARIF findings count as security analysis.
const SAST_TYPES: [&str; 2] = ["sast", "iac-scan"];
/// Record types of recovery drills that exercise the rollback procedure.
const DRILL_TYPES: [&str; 1] = ["dr-drill"];
/// Docs problem codes that are broken links.
const LINK_CODES: [&str; 3] = ["broken-link", "missing-anchor", "undefined-reference"];

struct Sources<'a> {
    evidence: &'a [ReleaseEvidence],
    notes: Vec<String>,
}

impl<'a> Sources<'a> {
    /// The outcomes that match and whose check ran; notes the others.
    fn ran(&mut self, what: &str, matches: impl Fn(&ReleaseEvidence) -> bool) -> Vec<&'a ReleaseEvidence> {
        let mut ran = Vec::new();
        for e in self.evidence.iter().filter(|e| matches(e)) {
            if matches!(e.verdict, Verdict::Pass | Verdict::Fail) && e.facts.is_object() {
                self.notes.push(format!("{what}: from {} ({} {}, {})", e.agent, e.phase, e.record_type, verdict(e.verdict)));
                ran.push(e);
            } else {
                self.notes.push(format!("{what}: {} ({} {}) gave no data: {}: {}", e.agent, e.phase, e.record_type, verdict(e.verdict), e.reason));
            }
        }
        ran
    }

    fn none(&mut self, what: &str, why: &str) {
        self.notes.push(format!("{what}: no data: {why}"));
    }
}

fn verdict(v: Verdict) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn n(facts: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(facts, |v, key| v.get(key)).and_then(Value::as_u64)
}

fn len(facts: &Value, key: &str) -> Option<u64> {
    facts.get(key).and_then(Value::as_array).map(|a| a.len() as u64)
}

fn sum(outcomes: &[&ReleaseEvidence], get: impl Fn(&Value) -> Option<u64>) -> Option<u64> {
    outcomes.iter().map(|e| get(&e.facts)).sum()
}

fn is(e: &ReleaseEvidence, kind: &str, types: &[&str]) -> bool {
    e.kind == kind && (types.is_empty() || types.contains(&e.record_type.as_str()))
}

/// Builds the release data of `version` from `evidence`; `git` is the
/// breaking-change count read from the repository, used when no docs
/// outcome reports one.
pub fn gather(evidence: &[ReleaseEvidence], version: &str, git: Option<&GitBreaking>) -> Gathered {
    let mut s = Sources { evidence, notes: Vec::new() };
    let docs = s.ran("documentation", |e| is(e, "docs", &[]));
    if docs.is_empty() {
        s.none("documentation", "no docs outcome in this release yet (the docs agents run in P7, after P6); give the readiness agent a `docs` table of docs settings to check them here");
    }
    let data = ReleaseData {
        schema: SchemaVersion::V1,
        version: Some(version.to_owned()),
        tests: tests(&mut s),
        code_quality: code_quality(&mut s),
        documentation: documentation(&docs),
        security: security(&mut s),
        breaking_changes: breaking_changes(&mut s, &docs, git),
        dependencies: dependencies(&mut s),
        rollback: rollback(&mut s, &docs),
    };
    Gathered { data, notes: s.notes }
}

fn tests(s: &mut Sources) -> Option<Tests> {
    let junit = s.ran("tests", |e| is(e, "junit", &[]));
    let coverage = s.ran("tests (coverage)", |e| is(e, "coverage", &[]));
    if junit.is_empty() && coverage.is_empty() {
        s.none("tests", "no junit or coverage outcome in this release");
        return None;
    }
    let lines: Vec<(u64, u64)> = junit
        .iter()
        .filter_map(|e| e.facts.get("coverage"))
        .chain(coverage.iter().map(|e| &e.facts))
        .filter_map(|c| Some((n(c, &["linesCovered"])?, n(c, &["linesValid"])?)))
        .collect();
    let (covered, valid) = lines.iter().fold((0, 0), |(c, v), (a, b)| (c + a, v + b));
    // Counts add up over reports; coverage is lines covered over lines measured in all of them.
    let line_coverage = (valid > 0).then(|| covered as f64 / valid as f64).and_then(|r| Fraction::try_from(r).ok());
    let has_junit = !junit.is_empty();
    let count = |get: &dyn Fn(&Value) -> Option<u64>| if has_junit { sum(&junit, get) } else { None };
    Some(Tests {
        total: count(&|f| n(f, &["tests"])),
        passed: count(&|f| n(f, &["passed"])),
        failed: count(&|f| Some(n(f, &["failures"])? + n(f, &["errors"])?)),
        flaky: count(&|f| n(f, &["flaky"])),
        line_coverage,
    })
}

fn code_quality(s: &mut Sources) -> Option<CodeQuality> {
    let lint = s.ran("code quality", |e| is(e, "sarif", &LINT_TYPES));
    if lint.is_empty() {
        s.none("code quality", "no SARIF lint outcome (record type lint) in this release");
        return None;
    }
    Some(CodeQuality { lint_errors: sum(&lint, |f| n(f, &["counts", "error"])), lint_warnings: sum(&lint, |f| n(f, &["counts", "warning"])) })
}

fn security(s: &mut Sources) -> Option<Security> {
    let secrets = s.ran("security (secrets)", |e| is(e, "secrets", &[]));
    let vulns = s.ran("security (vulnerabilities)", |e| is(e, "vulnerabilities", &[]));
    let sast = s.ran("security (SAST)", |e| is(e, "sarif", &SAST_TYPES));
    if secrets.is_empty() && vulns.is_empty() && sast.is_empty() {
        s.none("security", "no secrets, vulnerabilities or SAST outcome in this release");
        return None;
    }
    let some = |list: &[&ReleaseEvidence], get: &dyn Fn(&Value) -> Option<u64>| if list.is_empty() { None } else { sum(list, get) };
    Some(Security {
        secrets: some(&secrets, &|f| n(f, &["total"])),
        // An unrated vulnerability counts as critical, as the vulnerabilities kind blocks on it.
        critical_vulnerabilities: some(&vulns, &|f| Some(n(f, &["counts", "critical"])? + n(f, &["counts", "unknown"]).unwrap_or(0))),
        high_vulnerabilities: some(&vulns, &|f| n(f, &["counts", "high"])),
        sast_errors: some(&sast, &|f| n(f, &["counts", "error"])),
    })
}

fn problems<'a>(facts: &'a Value) -> impl Iterator<Item = &'a Value> + 'a {
    facts.get("problems").and_then(Value::as_array).into_iter().flatten()
}

fn has_problem(facts: &Value, codes: &[&str], file: Option<&str>) -> bool {
    problems(facts).any(|p| codes.contains(&p["code"].as_str().unwrap_or("")) && file.is_none_or(|f| p["file"].as_str() == Some(f)))
}

/// Whether the docs outcome found the changelog mentioning the version;
/// `None` when it checks no changelog.
fn changelog_ok(facts: &Value) -> Option<bool> {
    let changelog = facts.get("changelog")?.as_str()?;
    Some(!has_problem(facts, &["missing-file", "empty-file", "version-not-documented"], Some(changelog)))
}

fn readme_ok(facts: &Value) -> Option<bool> {
    let required = facts.get("required")?.as_array()?;
    let readme = required.iter().filter_map(Value::as_str).find(|r| r.rsplit('/').next().is_some_and(|n| n.to_ascii_lowercase().starts_with("readme")))?;
    Some(!has_problem(facts, &["missing-file", "empty-file"], Some(readme)))
}

/// The first answer any outcome gives, with a `false` from one outweighing a `true` from another.
fn all_of(docs: &[&ReleaseEvidence], get: impl Fn(&Value) -> Option<bool>) -> Option<bool> {
    docs.iter().filter_map(|e| get(&e.facts)).reduce(|a, b| a && b)
}

fn documentation(docs: &[&ReleaseEvidence]) -> Option<Documentation> {
    if docs.is_empty() {
        return None;
    }
    Some(Documentation {
        readme: all_of(docs, readme_ok),
        changelog_mentions_version: all_of(docs, changelog_ok),
        broken_links: sum(docs, |f| LINK_CODES.iter().map(|c| n(f, &["counts", c])).sum()),
    })
}

fn breaking_changes(s: &mut Sources, docs: &[&ReleaseEvidence], git: Option<&GitBreaking>) -> Option<BreakingChanges> {
    let with_history: Vec<&&ReleaseEvidence> = docs.iter().filter(|e| e.facts.get("breakingChanges").is_some_and(Value::is_object)).collect();
    let count = match with_history.first() {
        Some(e) => len(&e.facts["breakingChanges"], "breaking"),
        None => match git {
            Some(g) => {
                s.notes.push(format!("breaking changes: {} breaking commit(s) since {}, read from git", g.count, g.since.as_deref().unwrap_or("the first commit")));
                Some(g.count)
            }
            None => {
                s.none("breaking changes", "no docs outcome with a migration_guide and no git history to read");
                return None;
            }
        },
    };
    let migration_guide = with_history.first().map(|e| {
        let changelog = e.facts.get("changelog").and_then(Value::as_str);
        let guide_unmentioned = problems(&e.facts).any(|p| p["code"] == "version-not-documented" && p["file"].as_str() != changelog);
        !has_problem(&e.facts, &["missing-migration-guide"], None) && !guide_unmentioned
    });
    Some(BreakingChanges { count, documented: all_of(docs, changelog_ok), migration_guide })
}

fn dependencies(s: &mut Sources) -> Option<Dependencies> {
    let preflight = s.ran("dependencies (lock files)", |e| is(e, "preflight", &[]));
    let vulns: Vec<&ReleaseEvidence> = s.evidence.iter().filter(|e| is(e, "vulnerabilities", &[]) && matches!(e.verdict, Verdict::Pass | Verdict::Fail)).collect();
    let sbom = s.ran("dependencies (pins)", |e| is(e, "sbom", &[]));
    if preflight.is_empty() && vulns.is_empty() && sbom.is_empty() {
        s.none("dependencies", "no preflight, vulnerabilities or sbom outcome in this release");
        return None;
    }
    let lockfiles = |f: &Value| f.get("checks")?.as_array()?.iter().find(|c| c["id"] == "lockfiles")?.get("passed")?.as_bool();
    Some(Dependencies {
        lockfiles_consistent: preflight.iter().filter_map(|e| lockfiles(&e.facts)).reduce(|a, b| a && b),
        // The vulnerabilities facts list at most their first few yanked packages.
        yanked: if vulns.is_empty() { None } else { sum(&vulns, |f| len(f, "yanked")) },
        unpinned: if sbom.is_empty() { None } else { sum(&sbom, |f| len(f, "unpinned")) },
    })
}

fn rollback(s: &mut Sources, docs: &[&ReleaseEvidence]) -> Option<Rollback> {
    let plan = all_of(docs, |f| {
        let sections = f.get("runbookSections")?.as_array()?;
        let section = sections.iter().filter_map(Value::as_str).find(|r| r.to_ascii_lowercase().contains("rollback"))?;
        // Every Markdown file the docs check reads is held to the sections, so
        // the plan exists when some file checked is not reported lacking it.
        let checked = n(f, &["runbooksChecked"]).unwrap_or(0);
        let lacking = problems(f).filter(|p| p["code"] == "runbook-missing-section" && p["message"].as_str().is_some_and(|m| m.contains(&format!("'{section}'")))).count();
        Some(checked > lacking as u64)
    });
    if plan.is_none() {
        s.none("rollback (plan)", "no docs outcome checks runbooks for a Rollback section (runbook_sections)");
    }
    let drills = s.ran("rollback (tested)", |e| DRILL_TYPES.contains(&e.record_type.as_str()));
    let tested = drills.iter().map(|e| e.verdict == Verdict::Pass).reduce(|a, b| a && b);
    if tested.is_none() {
        s.none("rollback (tested)", "no recovery drill (record type dr-drill) ran in this release");
    }
    (plan.is_some() || tested.is_some()).then_some(Rollback { plan, tested })
}
