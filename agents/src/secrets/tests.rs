//! The scanner against planted secrets: every rule fires on a realistic
//! one and stays silent on near-misses; allowlists, baselines and the git
//! modes do what they say; no output ever holds a secret.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::Verdict;

/// Deterministic pseudo-random text over `alphabet`, so planted secrets
/// are realistic without any real credential in this file.
fn random(alphabet: &str, len: usize, seed: u64) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            chars[(state >> 33) as usize % chars.len()]
        })
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &str = "0123456789abcdef";

fn pem_body(seed: u64) -> String {
    (0..6).map(|i| random(B64, 64, seed + i)).collect::<Vec<_>>().join("\n")
}

fn jwt(seed: u64) -> String {
    let url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    format!("eyJ{}.eyJ{}.{}", random(url, 30, seed), random(url, 60, seed + 1), random(url, 43, seed + 2))
}

/// For every rule, a file's text holding one secret of its kind, the secret
/// and the line it is on.
fn planted() -> Vec<(&'static str, String, String, u64)> {
    let key_body = pem_body(7);
    let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{key_body}\n-----END RSA PRIVATE KEY-----");
    let sa_key = format!("-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n", key_body.replace('\n', "\\n"));
    let sa = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"billing-prod\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{sa_key}\",\n  \"client_email\": \"ci@billing-prod.iam.gserviceaccount.com\"\n}}\n",
        random(HEX, 40, 8)
    );
    let one = |rule: &'static str, text: String, secret: String| (rule, text, secret, 1);
    let aws_id = format!("AKIA{}", random(UPPER32, 16, 1));
    let aws_secret = random(B64, 40, 2);
    let gcp = format!("AIza{}", random(ALNUM, 35, 3));
    let gh = |prefix: &str, seed| format!("{prefix}{}", random(ALNUM, 36, seed));
    let fine = format!("github_pat_{}_{}", random(ALNUM, 22, 9), random(ALNUM, 59, 10));
    let slack = format!("xoxb-{}-{}-{}", random("0123456789", 12, 11), random("0123456789", 13, 12), random(ALNUM, 24, 13));
    let hook = format!("https://hooks.slack.com/services/T{}/B{}/{}", random(UPPER32, 8, 14), random(UPPER32, 10, 15), random(ALNUM, 24, 16));
    let generic = random(ALNUM, 24, 17);
    vec![
        ("gcp-service-account-key", sa, sa_key, 5),
        ("private-key", format!("# deploy key\n{pem}\n"), pem, 2),
        one("aws-access-key-id", format!("AWS_ACCESS_KEY_ID={aws_id}\n"), aws_id),
        one("aws-secret-access-key", format!("aws_secret_access_key = {aws_secret}\n"), aws_secret),
        one("gcp-api-key", format!("const MAPS_KEY = \"{gcp}\";\n"), gcp),
        one("github-pat", format!("token: {}\n", gh("ghp_", 20)), gh("ghp_", 20)),
        one("github-fine-grained-pat", format!("GH={fine}\n"), fine),
        one("github-oauth-token", format!("oauth = '{}'\n", gh("gho_", 21)), gh("gho_", 21)),
        one("github-user-token", format!("u={}\n", gh("ghu_", 22)), gh("ghu_", 22)),
        one("github-app-token", format!("installation {}\n", gh("ghs_", 23)), gh("ghs_", 23)),
        one("github-refresh-token", format!("refresh: {}\n", gh("ghr_", 24)), gh("ghr_", 24)),
        one("gitlab-pat", format!("CI_TOKEN=glpat-{}\n", random(ALNUM, 20, 25)), format!("glpat-{}", random(ALNUM, 20, 25))),
        one("gitlab-deploy-token", format!("deploy gldt-{}\n", random(ALNUM, 20, 26)), format!("gldt-{}", random(ALNUM, 20, 26))),
        one("gitlab-runner-token", format!("token = \"glrt-{}\"\n", random(ALNUM, 20, 27)), format!("glrt-{}", random(ALNUM, 20, 27))),
        one("gitlab-pipeline-trigger-token", format!("curl -F token=glptt-{} x\n", random(HEX, 40, 28)), format!("glptt-{}", random(HEX, 40, 28))),
        one("gitlab-token", format!("feed: glft-{}\n", random(ALNUM, 20, 29)), format!("glft-{}", random(ALNUM, 20, 29))),
        one("slack-token", format!("SLACK_BOT={slack}\n"), slack),
        one("slack-webhook", format!("webhook_url: {hook}\n"), hook),
        one("stripe-secret-key", format!("stripe.api_key = \"sk_live_{}\"\n", random(ALNUM, 24, 30)), format!("sk_live_{}", random(ALNUM, 24, 30))),
        one("stripe-restricted-key", format!("STRIPE=rk_live_{}\n", random(ALNUM, 24, 31)), format!("rk_live_{}", random(ALNUM, 24, 31))),
        one("stripe-test-key", format!("STRIPE_TEST=sk_test_{}\n", random(ALNUM, 24, 32)), format!("sk_test_{}", random(ALNUM, 24, 32))),
        one("jwt", format!("Authorization: Bearer {}\n", jwt(33)), jwt(33)),
        one("generic-secret", format!("client_secret = \"{generic}\"\n"), generic),
    ]
}

fn scan_text(name: &str, text: &str, config: &ScanConfig) -> ScanReport {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    scan_tree(dir.path(), config).unwrap()
}

#[test]
fn every_rule_fires_on_a_planted_secret_at_its_line() {
    let planted = planted();
    let mut covered: Vec<&str> = planted.iter().map(|p| p.0).collect();
    covered.sort_unstable();
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    assert_eq!(covered, ids, "every rule has a planted secret");
    for (rule, text, secret, line) in planted {
        let report = scan_text("planted.txt", &text, &ScanConfig::default());
        let found: Vec<_> = report.findings.iter().map(|f| (f.rule, f.line)).collect();
        assert_eq!(found, [(rule, line)], "{rule} in {text:?}");
        assert_eq!(report.findings[0].fingerprint, fingerprint(rule, "planted.txt", secret.as_bytes()), "{rule}: the fingerprint is over the secret itself");
    }
}

#[test]
fn rule_ids_are_unique_kebab_case_and_described() {
    for (i, rule) in RULES.iter().enumerate() {
        assert!(rule.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{}", rule.id);
        assert!(!rule.description.is_empty() && !rule.keywords.is_empty(), "{}", rule.id);
        assert!(RULES[..i].iter().all(|r| r.id != rule.id), "{} twice", rule.id);
    }
}

#[test]
fn near_misses_are_not_findings() {
    let near = [
        "The AKIA prefix marks long-term AWS keys, as in AKIA1234 (too short).",
        "key id AKIAABCDEFGHIJKLMNOPQRSTU has too many characters",
        "if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):\n    return parse(line)\n",
        "let pem = format!(\"-----BEGIN RSA PRIVATE KEY-----\\n{body}\\n-----END RSA PRIVATE KEY-----\");\nlet marker = \"-----END PRIVATE KEY----- follows a body of at least sixty-four characters\";\n",
        "token = ghp_shortandnotatoken\n",
        "password = \"changeme-changeme\"\n",
        "api_key = \"${API_KEY}\"\n",
        "secret_key = os.environ[\"SECRET_KEY\"]\n",
        "session = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0\n",
        "stripe sk_live_short\n",
        "primary_key: user_account_identifier_value\n",
        "See https://hooks.slack.com/services for webhooks.\n",
        "// the type is \"service_account\" but this file holds no key\n",
    ];
    for text in near {
        let report = scan_text("notes.md", text, &ScanConfig::default());
        assert!(report.findings.is_empty(), "{text:?} gave {:?}", report.findings);
    }
}

#[test]
fn aws_documentation_examples_are_allowlisted_not_reported() {
    let text = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let report = scan_text("README.md", text, &ScanConfig::default());
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.allowlisted, 2);
}

#[test]
fn a_specific_rule_silences_the_generic_one_on_the_same_bytes() {
    let text = format!("github_token = \"ghp_{}\"\n", random(ALNUM, 36, 40));
    let report = scan_text("ci.env", &text, &ScanConfig::default());
    let rules: Vec<_> = report.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["github-pat"]);
}

#[test]
fn columns_count_characters_and_crlf_lines_work() {
    let token = format!("ghp_{}", random(ALNUM, 36, 41));
    let report = scan_text("x.txt", &format!("first\r\nprénom = {token}\r\n"), &ScanConfig::default());
    assert_eq!((report.findings[0].line, report.findings[0].column), (2, 10));
}

#[test]
fn gitignored_binary_and_oversized_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let token = format!("ghp_{}", random(ALNUM, 36, 42));
    std::fs::write(p.join(".gitignore"), "build/\n*.log\n").unwrap();
    std::fs::create_dir(p.join("build")).unwrap();
    std::fs::write(p.join("build/out.txt"), &token).unwrap();
    std::fs::write(p.join("debug.log"), &token).unwrap();
    std::fs::write(p.join("image.bin"), [b"\0\x01PNG".as_slice(), token.as_bytes()].concat()).unwrap();
    std::fs::write(p.join("big.txt"), format!("{}{token}", "x".repeat(2000))).unwrap();
    std::fs::write(p.join(".env"), format!("GH={token}\n")).unwrap();
    let config = ScanConfig { max_file_bytes: 1000, ..ScanConfig::default() };
    let report = scan_tree(p, &config).unwrap();
    let paths: Vec<_> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".env"], "dotfiles are scanned; ignored, binary and big files are not");
    assert_eq!((report.skipped.binary, report.skipped.too_large), (1, 1));
    assert_eq!(report.files_scanned, 2, ".env and .gitignore");
}

#[test]
fn allowlists_by_path_pattern_and_inline_comment() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let token = |seed| format!("ghp_{}", random(ALNUM, 36, seed));
    std::fs::create_dir_all(p.join("fixtures/deep")).unwrap();
    std::fs::write(p.join("fixtures/deep/fake.txt"), token(50)).unwrap();
    std::fs::write(p.join("a.txt"), format!("t = {}\n", token(51))).unwrap();
    std::fs::write(p.join("b.txt"), format!("t = {}  # conductor:allow-secret\nu = {} // gitleaks:allow\n", token(52), token(53))).unwrap();
    std::fs::write(p.join("c.txt"), format!("FAKE_TOKEN = {}\nreal = {}\n", token(54), token(55))).unwrap();
    let allowlist = Allowlist::new(&["fixtures/**".into()], &[format!("^{}$", token(51)), "FAKE_".into()]).unwrap();
    let report = scan_tree(p, &ScanConfig { allowlist, ..ScanConfig::default() }).unwrap();
    let found: Vec<_> = report.findings.iter().map(|f| (f.path.as_str(), f.line)).collect();
    assert_eq!(found, [("c.txt", 2)]);
    assert_eq!(report.allowlisted, 4, "pattern on the value, pattern on the line, two inline markers");
    assert_eq!(report.skipped.allowlisted_path, 1);
}

#[test]
fn bad_allowlist_entries_name_the_setting() {
    let err = Allowlist::new(&["src/{a".into()], &[]).unwrap_err();
    assert!(err.to_string().starts_with("allow_paths glob 'src/{a' is invalid"), "{err}");
    let err = Allowlist::new(&[], &["(unclosed".into()]).unwrap_err();
    assert!(err.to_string().contains("allow_patterns"), "{err}");
}

#[test]
fn a_baseline_accepts_known_findings_and_survives_moved_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let (old, new) = (format!("ghp_{}", random(ALNUM, 36, 60)), format!("ghp_{}", random(ALNUM, 36, 61)));
    std::fs::write(p.join("ci.sh"), format!("A={old}\n")).unwrap();
    let first = scan_tree(p, &ScanConfig::default()).unwrap();
    let baseline_file = p.join("baseline.json");
    Baseline::write(&first.findings, &baseline_file).unwrap();
    std::fs::write(p.join("ci.sh"), format!("# moved down\n\nA={old}\nB={new}\n")).unwrap();
    let mut settings = toml::Table::new();
    settings.insert("baseline".into(), "baseline.json".into());
    let config = ScanConfig::from_settings(&settings, p).unwrap();
    let report = scan_tree(p, &config).unwrap();
    let found: Vec<_> = report.findings.iter().map(|f| f.line).collect();
    assert_eq!(found, [4], "only the new secret remains");
    assert_eq!(report.baselined, 1);
    let text = std::fs::read_to_string(&baseline_file).unwrap();
    assert!(!text.contains(&old) && text.contains(&first.findings[0].fingerprint));
}

#[test]
fn baseline_files_that_are_missing_or_wrong_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Baseline::load(&dir.path().join("nope.json")).unwrap_err();
    assert!(matches!(missing, ConfigError::BaselineMissing { .. }) && missing.to_string().contains("nope.json"), "{missing}");
    std::fs::write(dir.path().join("bad.json"), "{\"fingerprint\": 1}").unwrap();
    let invalid = Baseline::load(&dir.path().join("bad.json")).unwrap_err();
    assert!(matches!(invalid, ConfigError::BaselineInvalid { .. }), "{invalid}");
    std::fs::write(dir.path().join("short.json"), "[{\"fingerprint\": \"abc\"}]").unwrap();
    let short = Baseline::load(&dir.path().join("short.json")).unwrap_err();
    assert!(short.to_string().contains("entry 0"), "{short}");
}

#[test]
fn settings_of_the_wrong_type_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = toml::Table::new();
    settings.insert("max_file_bytes".into(), "big".into());
    let err = ScanConfig::from_settings(&settings, dir.path()).unwrap_err();
    assert_eq!(err.to_string(), "setting 'max_file_bytes' must be a positive integer (bytes)");
    let mut settings = toml::Table::new();
    settings.insert("allow_paths".into(), 3.into());
    assert!(ScanConfig::from_settings(&settings, dir.path()).is_err());
}

#[test]
fn no_output_holds_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let planted = planted();
    for (i, (_, text, _, _)) in planted.iter().enumerate() {
        std::fs::write(dir.path().join(format!("f{i}.txt")), text).unwrap();
    }
    let report = scan_tree(dir.path(), &ScanConfig::default()).unwrap();
    assert_eq!(report.findings.len(), planted.len());
    let json = serde_json::to_string(&report).unwrap();
    let sarif = report.to_sarif().to_string();
    let debug = format!("{report:?}");
    let facts = facts(&report).to_string();
    for (rule, _, secret, _) in &planted {
        // A distinctive middle part, so JSON escaping of the whole cannot hide it.
        let probe = &secret[secret.len() / 2 - 6..secret.len() / 2 + 6];
        for (what, text) in [("json", &json), ("sarif", &sarif), ("debug", &debug), ("facts", &facts)] {
            assert!(!text.contains(probe), "{rule}'s secret is in the {what} output");
        }
    }
}

#[test]
fn sarif_has_rules_locations_and_fingerprints() {
    let report = scan_text("k.env", &format!("X=sk_test_{}\n", random(ALNUM, 24, 70)), &ScanConfig::default());
    let sarif = report.to_sarif();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "stripe-test-key");
    assert_eq!(result["level"], "note", "test keys are low severity");
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "k.env");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert_eq!(result["partialFingerprints"][SARIF_FINGERPRINT_KEY], report.findings[0].fingerprint.as_str());
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"][index]["id"], "stripe-test-key");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").current_dir(dir).args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]).args(args).output().expect("git runs; install git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", message]);
    git(dir, &["rev-parse", "HEAD"])
}

#[test]
fn history_finds_a_secret_committed_then_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    git(p, &["init", "-q"]);
    std::fs::write(p.join("app.py"), "print('hi')\n").unwrap();
    commit_all(p, "first");
    let token = format!("glpat-{}", random(ALNUM, 20, 80));
    std::fs::create_dir(p.join("conf")).unwrap();
    std::fs::write(p.join("conf/ci.env"), format!("# ci\nGITLAB={token}\n")).unwrap();
    let leaked = commit_all(p, "add ci config");
    std::fs::write(p.join("conf/ci.env"), format!("# ci, edited\nGITLAB={token}\nOTHER=1\n")).unwrap();
    commit_all(p, "edit ci config");
    std::fs::remove_file(p.join("conf/ci.env")).unwrap();
    commit_all(p, "remove the token");
    assert!(scan_tree(p, &ScanConfig::default()).unwrap().findings.is_empty(), "the work tree is clean");
    let report = scan_history(p, &ScanConfig { threads: 2, ..ScanConfig::default() }).unwrap();
    let found: Vec<_> = report.findings.iter().map(|f| (f.rule, f.path.as_str(), f.line, f.commit.as_deref())).collect();
    assert_eq!(found, [("gitlab-pat", "conf/ci.env", 2, Some(leaked.as_str()))], "reported once, at the commit that leaked it");
    assert_eq!(report.commits, Some(4));
    assert_eq!(report.files_scanned, 3, "app.py and two versions of ci.env");
}

#[test]
fn history_and_diff_need_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(scan_history(dir.path(), &ScanConfig::default()), Err(ScanError::NotARepository { .. })));
    assert!(matches!(scan_diff(dir.path(), None, &ScanConfig::default()), Err(ScanError::NotARepository { .. })));
}

#[test]
fn diff_sees_only_lines_added_since_the_tag() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    git(p, &["init", "-q"]);
    let token = |seed| format!("sk_live_{}", random(ALNUM, 24, seed));
    std::fs::write(p.join("settings.py"), format!("OLD = '{}'\n", token(90))).unwrap();
    commit_all(p, "first");
    assert!(matches!(scan_diff(p, None, &ScanConfig::default()), Err(ScanError::NoTag { .. })), "one commit, no tag");
    git(p, &["tag", "v1.0.0"]);
    std::fs::write(p.join("settings.py"), format!("OLD = '{}'\nDEBUG = False\nNEW = '{}'\n", token(90), token(91))).unwrap();
    commit_all(p, "second");
    std::fs::write(p.join("local.py"), format!("\n\nUNCOMMITTED = '{}'\n", token(92))).unwrap();
    git(p, &["add", "local.py"]);
    let report = scan_diff(p, None, &ScanConfig::default()).unwrap();
    assert_eq!(report.since.as_deref(), Some("v1.0.0"));
    let found: Vec<_> = report.findings.iter().map(|f| (f.path.as_str(), f.line)).collect();
    assert_eq!(found, [("local.py", 3), ("settings.py", 3)], "the old secret is not in the diff");
    let bad = scan_diff(p, Some("v9.9.9"), &ScanConfig::default()).unwrap_err();
    assert!(bad.to_string().contains("'v9.9.9' does not name a commit"), "{bad}");
}

#[test]
fn unified_diff_parsing_maps_added_lines_to_file_lines() {
    let diff = b"diff --git a/x.txt b/x.txt\n--- a/x.txt\n+++ b/x.txt\n@@ -2,0 +3,2 @@\n+one\n++two\n@@ -9 +11 @@\n-old\n+new\ndiff --git a/gone b/gone\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\ndiff --git \"a/t\\tab\" \"b/t\\tab\"\n+++ \"b/t\\tab\"\n@@ -0,0 +1 @@\n+x\n";
    let files = git::added_lines(diff);
    assert_eq!(files.len(), 2);
    assert_eq!((files[0].path.as_str(), files[0].content.as_slice(), files[0].lines.as_slice()), ("x.txt", b"one\n+two\nnew".as_slice(), [3, 4, 11].as_slice()));
    assert_eq!(files[1].path, "t\tab");
}

fn task(dir: &Path, settings: &[(&str, toml::Value)]) -> AgentTask {
    let settings: toml::Table = settings.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    AgentTask::new("Secrets Escrow", "secrets", "P0", dir, &dir.join(".scratch"), settings)
}

#[tokio::test]
async fn the_agent_fails_naming_findings_and_writes_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("xoxp-{}-{}", random("0123456789", 12, 100), random(ALNUM, 32, 101));
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/notify.py"), format!("\nSLACK = '{token}'\n")).unwrap();
    let outcome = SecretsAgent.run(&task(dir.path(), &[("paths", toml::Value::Array(vec!["src".into()]))])).await;
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(outcome.reason.contains("slack-token src/notify.py:2"), "{}", outcome.reason);
    assert_eq!(outcome.facts["counts"]["slack-token"], 1);
    assert_eq!(outcome.facts["findings"][0]["file"], "src/notify.py");
    assert_eq!(outcome.facts["mode"], "tree");
    assert_eq!(outcome.files[0].name, "secrets.sarif");
    let sarif = std::fs::read_to_string(&outcome.files[0].path).unwrap();
    assert!(sarif.contains("\"ruleId\":\"slack-token\"") && !sarif.contains(&token));
}

#[tokio::test]
async fn the_agent_passes_with_counts_when_everything_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.txt"), format!("T=ghp_{} # conductor:allow-secret\n", random(ALNUM, 36, 110))).unwrap();
    let outcome = SecretsAgent.run(&task(dir.path(), &[])).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["allowlisted"], 1);
    assert!(outcome.reason.contains("1 allowlisted"), "{}", outcome.reason);
}

#[tokio::test]
async fn the_agent_reports_missing_baselines_bad_modes_and_unrunnable_scans() {
    let dir = tempfile::tempdir().unwrap();
    let missing = SecretsAgent.run(&task(dir.path(), &[("baseline", "accepted.json".into())])).await;
    assert_eq!(missing.verdict, Verdict::MissingInput);
    assert!(missing.reason.contains("accepted.json") && missing.reason.contains("Secrets Escrow"), "{}", missing.reason);
    let bad = SecretsAgent.run(&task(dir.path(), &[("mode", "everything".into())])).await;
    assert_eq!(bad.verdict, Verdict::MissingInput);
    let no_repo = SecretsAgent.run(&task(dir.path(), &[("mode", "history".into())])).await;
    assert_eq!(no_repo.verdict, Verdict::Error);
    assert!(no_repo.reason.contains("not inside a git repository"), "{}", no_repo.reason);
}

#[test]
fn cancelling_stops_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "nothing").unwrap();
    let config = ScanConfig::default();
    config.cancel.cancel();
    assert!(matches!(scan_tree(dir.path(), &config), Err(ScanError::Cancelled)));
}

#[test]
fn entropy_is_in_bits_per_byte() {
    assert_eq!(entropy(b"aaaa"), 0.0);
    assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
}
