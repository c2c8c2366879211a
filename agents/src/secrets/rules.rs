//! The detection rules, as one table: a stable id, what it finds, how bad a
//! leak is, the keywords that must occur before its regex is tried, the
//! regex (whose first participating capture group is the secret), where the
//! regex looks around a keyword, an optional entropy floor for the secret
//! and the documented placeholder values it never reports.

use regex::bytes::Regex;
use serde::Serialize;

/// How bad a leak of this kind of secret is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Test-mode credentials: worth removing, not a breach.
    Low,
    /// Credentials whose reach is usually narrow or short-lived.
    Medium,
    /// Live credentials to a service.
    High,
    /// Keys that open a cloud account or sign as someone.
    Critical,
}

impl Severity {
    /// The SARIF level a finding of this severity gets.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Self::Critical | Self::High => "error",
            Self::Medium => "warning",
            Self::Low => "note",
        }
    }

    /// The name as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// Where a rule's regex looks once one of its keywords occurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// The line holding the keyword.
    Line,
    /// From the start of the keyword's line up to this many bytes on, for
    /// secrets that span lines (PEM blocks).
    Forward(usize),
    /// This many bytes either side of the keyword, widened to whole lines,
    /// for secrets whose marker may sit on another line (JSON key files).
    Around(usize),
}

/// One row of the rule table, as written.
pub struct RuleSpec {
    /// Stable kebab-case id, used in reports, fingerprints and baselines.
    pub id: &'static str,
    /// What the rule finds, in a sentence fragment.
    pub description: &'static str,
    /// How bad a leak is.
    pub severity: Severity,
    /// Words (matched ignoring ASCII case) one of which must occur near a
    /// secret of this kind; the regex runs only where one does.
    pub keywords: &'static [&'static str],
    /// The regex; its first capture group that took part in the match is the secret.
    pub pattern: &'static str,
    /// Where the regex looks.
    pub region: Region,
    /// The least Shannon entropy, in bits per byte, the secret must have.
    pub min_entropy: Option<f64>,
    /// Documented placeholder values (a regex over the secret) that are
    /// counted as allowlisted instead of reported.
    pub placeholder: Option<&'static str>,
    /// Whether the secret must hold a digit: random tokens of this length
    /// nearly always do, identifiers and prose seldom.
    pub needs_digit: bool,
}

/// The rules, most specific first: where two rules match the same bytes,
/// the earlier one reports and the later one stays silent.
///
/// AWS's documentation uses `AKIAIOSFODNN7EXAMPLE` and
/// `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` as example credentials; they
/// appear in countless READMEs and SDK tests and open nothing, so any AWS
/// value ending in `EXAMPLE` or `EXAMPLEKEY` is a placeholder: counted as
/// allowlisted, never reported.
pub const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "gcp-service-account-key",
        description: "Google Cloud service-account key file with a private key",
        severity: Severity::Critical,
        keywords: &["_account\""],
        pattern: r#""private_key"\s*:\s*"(-----BEGIN[A-Z ]{0,20} PRIVATE KEY-----[^"]{64,}?-----END[A-Z ]{0,20} PRIVATE KEY-----(?:\\n)?)""#,
        region: Region::Around(8192),
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "private-key",
        description: "PEM-encoded private key",
        severity: Severity::Critical,
        keywords: &["key-----", "key block-----"],
        // The body is base64 with line breaks (real or `\n`-escaped) and
        // PEM headers (`Proc-Type: 4,ENCRYPTED`), so code that formats a
        // key from variables is not a key.
        pattern: r"(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,.-]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)",
        region: Region::Forward(32768),
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "aws-access-key-id",
        description: "AWS access key id",
        severity: Severity::High,
        keywords: &["akia", "asia", "abia", "acca"],
        pattern: r"(?:^|[^A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: Some("EXAMPLE$"),
        needs_digit: false,
    },
    RuleSpec {
        id: "aws-secret-access-key",
        description: "AWS secret access key assigned to an AWS-named setting",
        severity: Severity::Critical,
        keywords: &["secret"],
        pattern: r#"(?i)(?:secret[_.-]?access[_.-]?key|aws[_.-]?secret(?:[_.-]?key)?)["']?\s*(?::=|=>|=|:)\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        region: Region::Line,
        min_entropy: Some(3.5),
        placeholder: Some("EXAMPLEKEY$"),
        needs_digit: false,
    },
    RuleSpec {
        id: "gcp-api-key",
        description: "Google Cloud API key",
        severity: Severity::High,
        keywords: &["aiza"],
        pattern: r"(?:^|[^A-Za-z0-9_-])(AIza[A-Za-z0-9_-]{35})(?:[^A-Za-z0-9_-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "github-pat",
        description: "GitHub personal access token (classic)",
        severity: Severity::High,
        keywords: &["ghp_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(ghp_[A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "github-fine-grained-pat",
        description: "GitHub fine-grained personal access token",
        severity: Severity::High,
        keywords: &["hub_pat_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{82})(?:[^A-Za-z0-9_]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "github-oauth-token",
        description: "GitHub OAuth access token",
        severity: Severity::High,
        keywords: &["gho_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(gho_[A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "github-user-token",
        description: "GitHub App user-to-server token",
        severity: Severity::High,
        keywords: &["ghu_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(ghu_[A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "github-app-token",
        description: "GitHub App server-to-server token",
        severity: Severity::High,
        keywords: &["ghs_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(ghs_[A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "github-refresh-token",
        description: "GitHub refresh token",
        severity: Severity::High,
        keywords: &["ghr_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(ghr_[A-Za-z0-9]{36,76})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "gitlab-pat",
        description: "GitLab personal, project or group access token",
        severity: Severity::High,
        keywords: &["glpat-"],
        pattern: r"(?:^|[^A-Za-z0-9_-])(glpat-[A-Za-z0-9_-]{20,}(?:\.[0-9a-z]{2}\.[0-9a-z]{9})?)(?:[^A-Za-z0-9_.-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "gitlab-deploy-token",
        description: "GitLab deploy token",
        severity: Severity::High,
        keywords: &["gldt-"],
        pattern: r"(?:^|[^A-Za-z0-9_-])(gldt-[A-Za-z0-9_-]{20,})(?:[^A-Za-z0-9_-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "gitlab-runner-token",
        description: "GitLab runner authentication or registration token",
        severity: Severity::High,
        keywords: &["glrt-", "gr1348941"],
        pattern: r"(?:^|[^A-Za-z0-9_-])((?:glrt-|GR1348941)[A-Za-z0-9_-]{20,})(?:[^A-Za-z0-9_-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "gitlab-pipeline-trigger-token",
        description: "GitLab pipeline trigger token",
        severity: Severity::High,
        keywords: &["glptt-"],
        pattern: r"(?:^|[^A-Za-z0-9_-])(glptt-[0-9a-f]{40})(?:[^A-Za-z0-9_-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "gitlab-token",
        description: "GitLab CI job, feed, SCIM, OAuth, mail, agent or feature-flag token",
        severity: Severity::High,
        keywords: &["glcbt-", "glft-", "glsoat-", "oas-", "imt-", "lagent-", "glffct-"],
        pattern: r"(?:^|[^A-Za-z0-9_-])((?:glcbt-|glft-|glsoat-|gloas-|glimt-|glagent-|glffct-)[A-Za-z0-9_-]{20,})(?:[^A-Za-z0-9_-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "slack-token",
        description: "Slack bot, user, app, refresh or legacy token",
        severity: Severity::High,
        keywords: &["xox"],
        pattern: r"(?:^|[^A-Za-z0-9_-])(xox[baprs]-[0-9A-Za-z]{6,}(?:-[0-9A-Za-z]{4,}){1,4})(?:[^A-Za-z0-9_-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "slack-webhook",
        description: "Slack incoming-webhook URL",
        severity: Severity::Medium,
        keywords: &["slack.com/"],
        pattern: r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{40,})",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "stripe-secret-key",
        description: "Stripe live secret key",
        severity: Severity::Critical,
        keywords: &["sk_live_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(sk_live_[0-9A-Za-z]{24,99})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "stripe-restricted-key",
        description: "Stripe live restricted key",
        severity: Severity::High,
        keywords: &["rk_live_"],
        pattern: r"(?:^|[^A-Za-z0-9_])(rk_live_[0-9A-Za-z]{24,99})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "stripe-test-key",
        description: "Stripe test-mode secret or restricted key",
        severity: Severity::Low,
        keywords: &["k_test_"],
        pattern: r"(?:^|[^A-Za-z0-9_])((?:sk|rk)_test_[0-9A-Za-z]{24,99})(?:[^A-Za-z0-9]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "jwt",
        description: "signed JSON Web Token",
        severity: Severity::Medium,
        keywords: &["eyj"],
        pattern: r"(?:^|[^A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{15,}\.eyJ[A-Za-z0-9_-]{15,}\.[A-Za-z0-9_-]{20,})(?:[^A-Za-z0-9_.-]|$)",
        region: Region::Line,
        min_entropy: None,
        placeholder: None,
        needs_digit: false,
    },
    RuleSpec {
        id: "generic-secret",
        description: "high-entropy value assigned to a key, secret, token or password setting",
        // The setting's name ends in one of the words (or a short suffix
        // naming a secret), so `private_key_id = ...` is not a secret.
        severity: Severity::Medium,
        keywords: &["key", "secret", "token", "passw", "pwd", "credential"],
        pattern: r#"(?i)(?:key|secret|token|passw(?:or)?d|pwd|credential)(?:[\w.-]{0,20}?(?:key|secret|token|password|pass|value|string|base))?s?["']?\s{0,3}(?::=|=>|=|:)\s{0,3}(?:["'`]([^\s"'`$<>{}()\[\],;]{12,200})["'`]|([A-Za-z0-9+/=_.~-]{16,200})\s*$)"#,
        region: Region::Line,
        min_entropy: Some(3.5),
        placeholder: None,
        needs_digit: true,
    },
];

/// A rule ready to run.
pub struct Rule {
    /// The row it was built from.
    pub spec: &'static RuleSpec,
    /// The compiled pattern.
    pub regex: Regex,
    /// The compiled placeholder pattern.
    pub placeholder: Option<Regex>,
}

/// Compiles the table. The patterns are constants checked by the tests, so
/// a failure here is a defect in this file, not in anyone's input.
pub fn compile() -> Vec<Rule> {
    RULES
        .iter()
        .map(|spec| Rule {
            spec,
            regex: Regex::new(spec.pattern).unwrap_or_else(|e| panic!("rule {}: {e}", spec.id)),
            placeholder: spec.placeholder.map(|p| Regex::new(p).unwrap_or_else(|e| panic!("rule {} placeholder: {e}", spec.id))),
        })
        .collect()
}

/// Shannon entropy of `bytes`, in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}
