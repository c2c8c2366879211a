//! Rego unit tests as OPA runs them: every rule whose name starts with
//! `test_` in a `*_test.rego` file passes when it evaluates to `true`. The
//! gate policies' tests (`conductor policy test`) and a released repository's
//! own authorization tests (the `authz` kind) both run here.

/// One test's result.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegoTest {
    /// `data.<package>.<rule>`.
    pub name: String,
    /// The test file it is in, as the caller named it.
    pub file: String,
    /// Whether it evaluated to `true`.
    pub passed: bool,
}

/// Why the tests could not run.
#[derive(Debug, thiserror::Error)]
pub enum RegoTestError {
    /// A test file has no `package` line.
    #[error("{file} has no package line")]
    NoPackage {
        /// The file.
        file: String,
    },
    /// A test rule could not be evaluated.
    #[error("{rule} cannot be evaluated: {detail}")]
    Eval {
        /// The rule.
        rule: String,
        /// The engine's message.
        detail: String,
    },
}

/// Runs the tests of the `*_test.rego` files among `sources` (file name and
/// text) on `engine`, which already holds every policy.
pub fn run<'a>(engine: &mut regorus::Engine, sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Vec<RegoTest>, RegoTestError> {
    let mut results = Vec::new();
    for (file, text) in sources.into_iter().filter(|(f, _)| f.ends_with("_test.rego")) {
        let package = package_of(text).ok_or_else(|| RegoTestError::NoPackage { file: file.to_owned() })?;
        for rule in test_rules(text) {
            let name = format!("data.{package}.{rule}");
            let value = engine.eval_rule(name.clone()).map_err(|e| RegoTestError::Eval { rule: name.clone(), detail: e.to_string() })?;
            results.push(RegoTest { passed: value == regorus::Value::from(true), name, file: file.to_owned() });
        }
    }
    Ok(results)
}

/// The package a Rego file declares.
pub fn package_of(text: &str) -> Option<String> {
    text.lines().find_map(|l| l.trim().strip_prefix("package ").map(|p| p.trim().to_owned()))
}

/// Test rule names: rule heads at the start of a line beginning with `test_`.
fn test_rules(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text.lines().filter(|l| l.starts_with("test_")).map(|l| l.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()).collect();
    names.dedup();
    names
}

/// The `.rego` files under `dir`, at any depth, sorted.
pub fn rego_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            out.extend(rego_files(&path));
        } else if path.extension().is_some_and(|x| x == "rego") {
            out.push(path);
        }
    }
    out.sort();
    out
}
