//! What must never reach the repository: secrets, and the files that hold them.

use super::{Check, Options};
use crate::git::git;
use crate::secrets::{ScanConfig, scan_tree};

/// Paths a `.gitignore` must cover, one per kind of credential file: the
/// dotenv files, private keys and cloud credential exports.
const CREDENTIAL_PATHS: [&str; 8] = [".env", ".env.local", ".env.production", "id_rsa", "id_ed25519", "server.key", "server.pem", "credentials.json"];

pub(super) fn secrets(options: &Options) -> Check {
    const ID: &str = "secrets";
    let config = match ScanConfig::from_settings(&options.secrets, &options.repo) {
        Ok(config) => config,
        Err(e) => return Check::fail(ID, format!("the secret scan cannot be configured: {e}")),
    };
    match scan_tree(&options.repo, &config) {
        Ok(report) if report.findings.is_empty() => {
            Check::pass(ID, format!("no secrets in {} files ({} allowlisted, {} in the baseline)", report.files_scanned, report.allowlisted, report.baselined))
        }
        Ok(report) => {
            let named: Vec<String> = report.findings.iter().take(5).map(|f| format!("{} at {}:{}", f.rule, f.path, f.line)).collect();
            Check::fail(ID, format!("{} secret(s) found: {}; remove and rotate them, or allowlist or baseline false positives", report.findings.len(), named.join(", ")))
        }
        Err(e) => Check::fail(ID, format!("the secret scan failed: {e}")),
    }
}

pub(super) fn gitignore(options: &Options) -> Check {
    const ID: &str = "gitignore";
    let dir = &options.repo;
    let uncovered: Vec<&str> = CREDENTIAL_PATHS.iter().copied().filter(|p| git(dir, &["check-ignore", "--quiet", "--no-index", p]).is_err()).collect();
    let tracked: Vec<String> = match git(dir, &["ls-files", "-z"]) {
        Ok(files) => files
            .split('\0')
            .filter(|f| {
                let name = f.rsplit('/').next().unwrap_or(f);
                CREDENTIAL_PATHS.contains(&name)
            })
            .map(str::to_owned)
            .collect(),
        Err(e) => return Check::fail(ID, e),
    };
    if !tracked.is_empty() {
        return Check::fail(ID, format!("credential files are tracked: {}; `git rm --cached` them, rotate what they held, and ignore them", tracked.join(", ")));
    }
    if uncovered.is_empty() {
        Check::pass(ID, format!(".gitignore covers {}", CREDENTIAL_PATHS.join(", ")))
    } else {
        Check::fail(ID, format!(".gitignore does not cover {}; add patterns such as .env*, *.key, *.pem, id_rsa*, id_ed25519*, credentials.json", uncovered.join(", ")))
    }
}
