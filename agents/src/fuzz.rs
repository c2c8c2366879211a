//! Fuzz harnesses for the parsers agents run on untrusted input: the
//! reports they read (JUnit XML, Cobertura and LCOV, SARIF, OSV-Scanner,
//! cargo-audit, npm audit and pip-audit JSON), Markdown, Prometheus rule
//! files, readiness release data, the manifests whose version `conductor version`
//! edits, the `git log -z` records the changelog reads, drill output (JSON lines),
//! performance results (k6, hyperfine, wrk), flagd flag files, Prometheus
//! API responses and migration file names.
//!
//! Each function takes arbitrary bytes, must never panic, and checks a
//! property of whatever parses. The cargo-fuzz project in `fuzz/` wraps each
//! in a `fuzz_target!`; the unit tests below run them over [`seeds`] and
//! damaged copies so `cargo test` keeps them compiling and passing. Run one
//! with `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run <name>`.

use std::path::Path;

use crate::docs::{alert_rules, links, markdown, version};

/// Fuzzes the manifest version edit: the first byte picks the file kind,
/// the rest is its text; setting the same version again changes nothing.
pub fn version_manifest(data: &[u8]) {
    const NAMES: [&str; 6] = ["Cargo.toml", "package.json", "pyproject.toml", "setup.cfg", "setup.py", "VERSION"];
    let Some((first, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let name = NAMES[usize::from(*first) % NAMES.len()];
    let Ok(Some(changed)) = crate::changelog::version_files::set_in_text(name, text, "9.8.7") else { return };
    let again = crate::changelog::version_files::set_in_text(name, &changed, "9.8.7");
    assert!(matches!(&again, Ok(Some(t)) if *t == changed), "{name}: a second edit gave {again:?}");
}

/// Fuzzes the `git log -z` record reader: every commit it yields has an id
/// and no field holds a NUL.
pub fn git_log(data: &[u8]) {
    let mut reader = data;
    while let Ok(Some(commit)) = crate::changelog::commits::next_commit(&mut reader) {
        assert!(!commit.id.is_empty() && !commit.id.contains('\0') && !commit.author.contains('\0'), "{commit:?}");
    }
}

/// A target's name and one valid input for it.
pub type Seed = (&'static str, Vec<u8>);

/// Fuzzes the JUnit XML reader: no report yields more test cases than it
/// has `testcase` elements.
pub fn junit_report(data: &[u8]) {
    let Ok(cases) = crate::junit::cases(data) else { return };
    let elements = memchr::memmem::find_iter(data, b"testcase").count();
    assert!(cases.len() <= elements, "{} cases from {elements} testcase elements", cases.len());
}

/// Fuzzes the Cobertura and LCOV readers: covered lines never exceed valid lines.
pub fn coverage_report(data: &[u8]) {
    if let Ok((covered, valid)) = crate::coverage::lines(data) {
        assert!(covered <= valid, "{covered} covered of {valid} lines");
    }
}

/// Fuzzes the SARIF reader: every finding has a level from the SARIF set or
/// the one the log gave.
pub fn sarif_log(data: &[u8]) {
    let Ok(findings) = crate::sarif::results(data) else { return };
    for finding in findings {
        assert!(finding["level"].is_string(), "a finding without a level: {finding}");
    }
}

/// Fuzzes the vulnerability report reader: every vulnerability is rated on
/// the kind's scale, `unknown` included.
pub fn vulnerability_report(data: &[u8]) {
    let Ok(report) = crate::vulnerabilities::parse(data) else { return };
    for vulnerability in report.vulnerabilities {
        let severity = vulnerability["severity"].as_str().unwrap_or("");
        assert!(["none", "low", "medium", "high", "critical", "unknown"].contains(&severity), "severity '{severity}'");
    }
}

/// Fuzzes the Markdown reader and what the docs kind does with its links:
/// lines lie inside the text, every heading's anchor is unique and found,
/// and classifying, joining and version matching never panic.
pub fn markdown_links(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let doc = markdown::parse(&text);
    let lines = markdown::LineIndex::new(&text).count();
    for heading in &doc.headings {
        assert!((1..=lines).contains(&heading.line), "heading line {} of {lines}", heading.line);
        assert!(doc.has_anchor(&heading.anchor), "heading anchor '{}' is not found", heading.anchor);
    }
    let mut anchors: Vec<&str> = doc.headings.iter().map(|h| h.anchor.as_str()).collect();
    anchors.sort_unstable();
    assert!(anchors.windows(2).all(|w| w[0] != w[1]), "two headings share an anchor: {anchors:?}");
    for link in &doc.links {
        assert!((1..=lines).contains(&link.line), "link line {} of {lines}", link.line);
        if let links::Target::Local { path, .. } = links::Target::of(&link.target) {
            let _ = links::join_inside(Path::new("docs"), &markdown::percent_decode(path));
        }
    }
    assert!(doc.undefined.iter().all(|u| (1..=lines).contains(&u.line)));
    let _ = version::mention(&text, "v1.0.0");
}

/// Fuzzes the Prometheus rule file reader: every alert's line lies inside
/// the file.
pub fn alert_rule_file(data: &[u8]) {
    let Ok(alerts) = alert_rules(data) else { return };
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    for alert in alerts {
        assert!((1..=lines).contains(&alert.line), "alert {} at line {} of {lines}", alert.name, alert.line);
    }
}

/// Fuzzes the release data reader and the scorer: whatever parses writes
/// back to JSON that parses to the same data, and its assessment keeps the
/// score within 0 to 100 and never says GO with a blocker.
pub fn release_data(data: &[u8]) {
    use crate::readiness::{data::ReleaseData, score};
    let Ok(parsed) = ReleaseData::parse(data, Path::new("release_data.json")) else { return };
    let written = serde_json::to_vec(&parsed).expect("release data always serializes");
    assert_eq!(ReleaseData::parse(&written, Path::new("written.json")).ok().as_ref(), Some(&parsed), "the round trip changed the data");
    let assessment = score::assess(&parsed);
    assert!(assessment.score.0 <= 10_000, "score {}", assessment.score);
    assert!(assessment.decision != score::Decision::Go || assessment.blockers.is_empty(), "GO with blockers");
}

/// Fuzzes the drill output reader: every line is an event, an invalid
/// event or ignored, and measured RTO and RPO are finite and not negative.
pub fn drill_events(data: &[u8]) {
    let report = crate::drill::Report::parse(data);
    let lines = String::from_utf8_lossy(data).lines().count();
    assert_eq!(report.events + report.ignored + report.invalid.len(), lines, "lines unaccounted for");
    for figure in [report.rto(), report.rpo()].into_iter().flatten() {
        assert!(figure.is_finite() && figure >= 0.0, "figure {figure}");
    }
}

/// Fuzzes the k6, hyperfine and wrk readers: every metric is finite and not
/// negative, an error rate is a fraction, and a scenario survives a JSON
/// round trip (the next release reads it back as its baseline).
pub fn perf_results(data: &[u8]) {
    for format in crate::perf::report::FORMATS {
        let Ok(scenarios) = crate::perf::report::parse(data, format) else { continue };
        for s in &scenarios {
            assert!(s.metrics.values().all(|v| v.is_finite() && *v >= 0.0), "{:?}", s.metrics);
            assert!(s.metrics.get("error_rate").is_none_or(|r| *r <= 1.0), "{:?}", s.metrics);
        }
        let written = serde_json::to_value(&scenarios).expect("scenarios serialize");
        let read: Vec<crate::perf::report::Scenario> = serde_json::from_value(written).expect("scenarios read back");
        assert_eq!(read.len(), scenarios.len());
    }
}

/// Fuzzes the flagd flag file reader: a flag with no problems has a valid
/// state and a default variant among its variants.
pub fn flag_file(data: &[u8]) {
    let Ok(flags) = crate::flags::parse(data, "flags.json") else { return };
    for flag in flags.iter().filter(|f| f.problems.is_empty()) {
        assert!(flag.state == "ENABLED" || flag.state == "DISABLED", "state {}", flag.state);
        assert!(flag.default_variant.as_ref().is_some_and(|d| flag.variants.contains(d)), "{flag:?}");
    }
    if let Some(expires) = flags.iter().find_map(|f| f.expires.as_deref()) {
        let _ = crate::flags::removal_time(expires);
    }
}

/// Fuzzes the Prometheus API response reader: whatever parses yields
/// sample times that are numbers, and a value written back reads again.
pub fn prometheus_response(data: &[u8]) {
    use crate::slo::response::{self, Data};
    let Ok(parsed) = response::parse(data) else { return };
    let points: Vec<response::Point> = match parsed {
        Data::Vector(series) | Data::Matrix(series) => series.into_iter().flat_map(|s| s.points).collect(),
        Data::Scalar(point) => vec![point],
        Data::String(_) => Vec::new(),
    };
    for (time, value) in points {
        assert!(!time.is_nan(), "a sample time of NaN");
        let again = response::number(&response::text(value));
        assert!(again.is_some_and(|a| a == value || (a.is_nan() && value.is_nan())), "{value} read back as {again:?}");
    }
}

/// Fuzzes the migration file name reader, one name a line, in every
/// layout: each migration's files are among the names, ids are unique, and
/// the order of the names does not change the plan.
pub fn migration_names(data: &[u8]) {
    use crate::migrations::layout::{LAYOUTS, Layout, plan};
    let names: Vec<String> = String::from_utf8_lossy(data).lines().map(str::to_owned).collect();
    let mut reversed = names.clone();
    reversed.reverse();
    for choice in LAYOUTS {
        let layout = Layout::from_setting(choice);
        let planned = plan(&names, layout);
        for m in &planned.migrations {
            assert!(names.contains(&m.up) && m.down.as_ref().is_none_or(|d| names.contains(d)), "{m:?}");
        }
        let ids: std::collections::BTreeSet<&str> = planned.migrations.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), planned.migrations.len(), "duplicate ids in {:?}", planned.migrations);
        assert_eq!(plan(&reversed, layout).migrations, planned.migrations, "the order of the names changed the plan");
    }
}

/// Valid inputs for every target, for the fuzzer's starting corpus.
pub fn seeds() -> Vec<Seed> {
    let seeds: [(&str, &str); 26] = [
        ("prometheus_response", include_str!("slo/testdata/matrix.json")),
        ("prometheus_response", include_str!("slo/testdata/vector-many.json")),
        ("prometheus_response", include_str!("slo/testdata/scalar.json")),
        ("migration_names", "001_users.up.sql\n001_users.down.sql\n002_orders.up.sql\n20261130_seed.sql\nREADME.md\n"),
        ("migration_names", "V1__init.sql\nU1__init.sql\nV2__add_email.sql\n2026-11-30-101500_create_users/up.sql\n2026-11-30-101500_create_users/down.sql\n"),
        ("version_manifest", "\u{0}[package]\nname = \"a\"\nversion = \"0.1.0\" # here\n"),
        ("version_manifest", "\u{1}{\"name\": \"a\", \"version\": \"1.2.3\", \"x\": {\"version\": \"0\"}}"),
        ("git_log", "0123456789abcdef\u{0}Ann\u{0}2026-01-01T00:00:00+00:00\u{0}feat(api)!: x\n\nBREAKING CHANGE: y\n\u{0}\nfedcba\u{0}Bo\u{0}2026-01-02T00:00:00+00:00\u{0}oops\n"),
        ("drill_events", "{\"event\":\"start\",\"at\":\"2026-11-30T10:00:00Z\"}\nfailing over\n{\"event\":\"outage\",\"at\":\"2026-11-30T10:00:05Z\"}\n{\"event\":\"recovered\",\"at\":\"2026-11-30T10:04:05Z\"}\n{\"event\":\"data_loss_window\",\"seconds\":12}\n{\"event\":\"metric\",\"name\":\"time_to_acknowledge_seconds\",\"value\":120}\n{\"event\":\"check\",\"name\":\"steady-state\",\"ok\":true}\n"),
        ("perf_results", include_str!("perf/testdata/k6-summary.json")),
        ("perf_results", include_str!("perf/testdata/hyperfine.json")),
        ("perf_results", include_str!("perf/testdata/wrk.txt")),
        ("flag_file", include_str!("flags/testdata/flags.json")),
        ("junit_report", r#"<?xml version="1.0"?><testsuites><testsuite name="s" tests="3"><testcase classname="a" name="ok"/><testcase name="flaky"><flakyFailure message="x"/></testcase><testcase name="bad"><failure>boom</failure></testcase><testcase name="skip"><skipped/></testcase></testsuite></testsuites>"#),
        ("coverage_report", r#"<?xml version="1.0" ?><coverage line-rate="0.86" lines-valid="22" lines-covered="19"><packages/></coverage>"#),
        ("coverage_report", "TN:\nSF:a.rs\nDA:1,1\nLF:10\nLH:7\nend_of_record\n"),
        ("sarif_log", r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"r1","defaultConfiguration":{"level":"error"}}]}},"results":[{"ruleId":"r1","message":{"text":"bad"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.py"},"region":{"startLine":3}}}]},{"ruleId":"r2","level":"note"}]}]}"#),
        ("vulnerability_report", r#"{"results":[{"packages":[{"package":{"name":"requests","version":"2.19.0"},"groups":[{"ids":["GHSA-x"],"max_severity":"7.5"}],"vulnerabilities":[{"id":"GHSA-x","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]}]}]}]}"#),
        ("vulnerability_report", r#"{"vulnerabilities":{"lodash":{"name":"lodash","severity":"moderate"}}}"#),
        ("vulnerability_report", r#"{"dependencies":[{"name":"flask","version":"0.5","vulns":[{"id":"PYSEC-1"}]}]}"#),
        ("vulnerability_report", r#"{"vulnerabilities":{"list":[{"advisory":{"id":"RUSTSEC-1","package":"smallvec","cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},"package":{"name":"smallvec","version":"1.0.0"}}]},"warnings":{"yanked":[{"package":{"name":"x","version":"1"}}]}}"#),
        ("markdown_links", "# Orders\n\nSee [the guide](docs/guide.md#install) and [ref][r], ![img](a%20b.png), <https://example.com>.\n\n## Install\n## Install\n\nSetext *title*\n===\n\n<a name=\"old\"></a>\n\n```\n[in code](x.md)\n```\n\n| a | [b](#install-1) |\n|---|---|\n\n[r]: ../README.md#top\n[^1]: note\n\n## [1.0.0] - 2026-11-18\n"),
        ("markdown_links", "[a][missing] [b][] [c]\n\n> quote [d](/root.md)\n\n- [ ] task [e](mailto:x@y)\n"),
        ("alert_rule_file", "groups:\n  - name: orders\n    rules:\n      - record: job:rate5m\n        expr: sum(rate(x[5m]))\n      - alert: OrdersHighErrorRate\n        expr: errors > 0.01\n        for: 5m\n        labels: {severity: page}\n        annotations:\n          summary: errors\n          runbook_url: docs/runbook.md#ordershigherrorrate\n"),
        ("release_data", r#"{"schema":"conductor/release-data/v1","version":"v1.0.0","tests":{"total":3,"passed":3,"failed":0,"flaky":0,"line_coverage":0.8},"security":{"secrets":0},"breaking_changes":{"count":0},"rollback":{"plan":true,"tested":null}}"#),
        ("alert_rule_file", "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n    - name: a\n      rules:\n        - alert: &name A\n          annotations: {runbook_url: *name}\n---\ngroups: []\n"),
    ];
    seeds.into_iter().map(|(target, text)| (target, text.as_bytes().to_vec())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Harness = fn(&[u8]);

    const HARNESSES: [(&str, Harness); 14] = [
        ("prometheus_response", prometheus_response),
        ("migration_names", migration_names),
        ("version_manifest", version_manifest),
        ("git_log", git_log),
        ("drill_events", drill_events),
        ("perf_results", perf_results),
        ("flag_file", flag_file),
        ("junit_report", junit_report),
        ("coverage_report", coverage_report),
        ("sarif_log", sarif_log),
        ("vulnerability_report", vulnerability_report),
        ("markdown_links", markdown_links),
        ("alert_rule_file", alert_rule_file),
        ("release_data", release_data),
    ];

    /// Every seed, truncated at several points, with a byte flipped, and garbage.
    fn damaged() -> Vec<Vec<u8>> {
        let mut inputs = Vec::new();
        for (_, bytes) in seeds() {
            for cut in [1, 2, 3, 5, 7] {
                inputs.push(bytes[..bytes.len() * cut / 8].to_vec());
            }
            let mut flipped = bytes.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x80;
            inputs.push(flipped);
            inputs.push(bytes);
        }
        inputs.push(Vec::new());
        inputs.push(evidence::fuzz::random_bytes(0x9e37_79b9_7f4a_7c15, 64));
        inputs.push(evidence::fuzz::random_bytes(0x2545_f491_4f6c_dd1d, 4096));
        inputs.push(b"LF:18446744073709551615\nLH:18446744073709551615\nLF:18446744073709551615\nLH:1\nend_of_record\n".to_vec());
        inputs.push("[".repeat(10_000).into_bytes());
        inputs.push("a: &a [*a, *a]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\ngroups: [*c]\n".as_bytes().to_vec());
        inputs
    }

    #[test]
    fn every_harness_survives_every_input() {
        let inputs = damaged();
        for (name, harness) in HARNESSES {
            assert!(seeds().iter().any(|(target, _)| *target == name), "no seed for {name}");
            for input in &inputs {
                harness(input);
            }
        }
    }

    /// Random names built from the pieces migration names are made of, so
    /// the parser meets near-misses as well as real names.
    #[test]
    fn migration_names_survive_random_names() {
        const PIECES: [&str; 16] = ["0", "12", "_", "__", "V", "U", "-", ".up", ".down", ".sql", "/", "up.sql", "down.sql", "name", ".", "\u{e9}"];
        for seed in 1..400u64 {
            let bytes = evidence::fuzz::random_bytes(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 48);
            let text: String = bytes.iter().map(|b| if b % 9 == 0 { "\n" } else { PIECES[usize::from(*b) % PIECES.len()] }).collect();
            migration_names(text.as_bytes());
        }
    }

    #[test]
    fn every_seed_parses() {
        for (target, bytes) in seeds() {
            let parsed = match target {
                "junit_report" => crate::junit::cases(&bytes).map(|c| c.len()),
                "coverage_report" => crate::coverage::lines(&bytes).map(|(_, valid)| usize::try_from(valid).unwrap_or(0)),
                "sarif_log" => crate::sarif::results(&bytes).map(|r| r.len()),
                "vulnerability_report" => crate::vulnerabilities::parse(&bytes).map(|r| r.vulnerabilities.len()),
                "markdown_links" => Ok(markdown::parse(&String::from_utf8_lossy(&bytes)).links.len()),
                "alert_rule_file" => alert_rules(&bytes).map(|a| a.len()).map_err(|e| e.to_string()),
                "release_data" => crate::readiness::data::ReleaseData::parse(&bytes, Path::new("seed.json")).map(|d| usize::from(d.tests.is_some())).map_err(|e| e.to_string()),
                "version_manifest" => {
                    let names = ["Cargo.toml", "package.json"];
                    let text = std::str::from_utf8(&bytes[1..]).unwrap();
                    crate::changelog::version_files::set_in_text(names[usize::from(bytes[0])], text, "9.8.7").map(|t| usize::from(t.is_some_and(|t| t.contains("9.8.7")))).map_err(|e| e.to_string())
                }
                "git_log" => {
                    let mut reader = &bytes[..];
                    Ok(std::iter::from_fn(|| crate::changelog::commits::next_commit(&mut reader).ok().flatten()).count())
                }
                "drill_events" => Ok(crate::drill::Report::parse(&bytes).events),
                "perf_results" => crate::perf::report::parse(&bytes, "auto").map(|s| s.len()),
                "flag_file" => crate::flags::parse(&bytes, "flags.json").map(|f| f.len()),
                "prometheus_response" => crate::slo::response::parse(&bytes).map(|d| match d {
                    crate::slo::response::Data::Vector(s) | crate::slo::response::Data::Matrix(s) => s.len(),
                    _ => 1,
                }).map_err(|e| e.to_string()),
                "migration_names" => Ok::<usize, String>(crate::migrations::layout::plan(&String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect::<Vec<_>>(), None).migrations.len()),
                other => panic!("a seed for no harness: {other}"),
            };
            assert!(parsed.as_ref().is_ok_and(|&n| n > 0), "{target} seed: {parsed:?}");
        }
    }
}
