//! Gates: Rego policies evaluated with regorus. The built-in policies
//! (`policies/**/*.rego`, embedded) and a repository's own `policies/` are
//! loaded together; a repository file at the same relative path replaces the
//! built-in one. A gate's `deny` set gives the reasons it fails; an empty set
//! passes. Every policy has a `*_test.rego` beside it.

use std::collections::BTreeMap;
use std::path::Path;

use evidence::digest::Sha256;
use serde_json::Value;

use crate::builtin::BUILTIN_POLICIES;

/// A problem loading or evaluating policies, naming the file or rule.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A policy file cannot be read.
    #[error("{path}: {detail}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's explanation.
        detail: String,
    },
    /// A policy does not compile.
    #[error("{path}: {detail}")]
    Compile {
        /// The file.
        path: String,
        /// regorus's explanation.
        detail: String,
    },
    /// A gate names a policy that does not exist.
    #[error("no policy '{policy}': add policies/{policy}.rego with package conductor.gates.{policy}")]
    Missing {
        /// The policy id.
        policy: String,
    },
    /// Evaluation failed.
    #[error("evaluating {rule}: {detail}")]
    Eval {
        /// The rule.
        rule: String,
        /// regorus's explanation.
        detail: String,
    },
}

/// Every policy source, built-in ones overridden by the repository's.
#[derive(Clone, Debug)]
pub struct PolicySet {
    sources: BTreeMap<String, String>,
}

/// A gate decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the `deny` set was empty.
    pub passed: bool,
    /// The `deny` messages, sorted.
    pub reasons: Vec<String>,
    /// SHA-256 over every policy source the decision was made with.
    pub policy_sha256: Sha256,
    /// SHA-256 of the input document as evaluated.
    pub input_sha256: Sha256,
}

/// One Rego test's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestResult {
    /// `data.<package>.<rule>`.
    pub name: String,
    /// Whether it evaluated to `true`.
    pub passed: bool,
}

impl PolicySet {
    /// The built-in policies and `<repo>/policies/**/*.rego`.
    pub fn load(repo: &Path) -> Result<Self, PolicyError> {
        let mut sources: BTreeMap<String, String> =
            BUILTIN_POLICIES.iter().map(|(path, text)| ((*path).to_owned(), (*text).to_owned())).collect();
        let dir = repo.join("policies");
        for path in agents::rego_tests::rego_files(&dir) {
            let relative = path.strip_prefix(&dir).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| PolicyError::Read { path: path.display().to_string(), detail: e.to_string() })?;
            sources.insert(relative, text);
        }
        Ok(Self { sources })
    }

    /// The policy bundle: every source as a JSON object of path to text, keys
    /// sorted. It is stored as evidence with each gate decision, so a pack
    /// carries exactly the policies its decisions were made with.
    pub fn bundle(&self) -> Vec<u8> {
        serde_json::to_vec(&self.sources).unwrap_or_default()
    }

    /// A policy set read back from a bundle.
    pub fn from_bundle(bytes: &[u8]) -> Result<Self, PolicyError> {
        let sources = serde_json::from_slice(bytes).map_err(|e| PolicyError::Read { path: "policy bundle".into(), detail: e.to_string() })?;
        Ok(Self { sources })
    }

    /// SHA-256 of the bundle, which names exactly the policies a decision was made with.
    pub fn digest(&self) -> Sha256 {
        Sha256::of(&self.bundle())
    }

    /// A regorus engine with every policy compiled in.
    pub fn engine(&self) -> Result<regorus::Engine, PolicyError> {
        let mut engine = regorus::Engine::new();
        for (path, text) in &self.sources {
            engine
                .add_policy(format!("policies/{path}"), text.clone())
                .map_err(|e| PolicyError::Compile { path: format!("policies/{path}"), detail: e.to_string() })?;
        }
        Ok(engine)
    }

    /// Whether a gate policy with this id exists.
    pub fn has_gate(&self, policy: &str) -> bool {
        self.sources.contains_key(&format!("{policy}.rego"))
    }

    /// Decides a gate: evaluates `data.conductor.gates.<policy>.deny` over `input`.
    pub fn decide(&self, engine: &mut regorus::Engine, policy: &str, input: &Value) -> Result<Decision, PolicyError> {
        if !self.has_gate(policy) {
            return Err(PolicyError::Missing { policy: policy.to_owned() });
        }
        let rule = format!("data.conductor.gates.{policy}.deny");
        let input_json = serde_json::to_string(input).unwrap_or_default();
        engine.set_input_json(&input_json).map_err(|e| PolicyError::Eval { rule: rule.clone(), detail: e.to_string() })?;
        let denied = engine.eval_rule(rule.clone()).map_err(|e| PolicyError::Eval { rule: rule.clone(), detail: e.to_string() })?;
        let mut reasons = deny_messages(&denied).map_err(|detail| PolicyError::Eval { rule, detail })?;
        reasons.sort();
        Ok(Decision { passed: reasons.is_empty(), reasons, policy_sha256: self.digest(), input_sha256: Sha256::of(input_json.as_bytes()) })
    }

    /// Runs every `test_*` rule of every `*_test` package.
    pub fn run_tests(&self) -> Result<Vec<TestResult>, PolicyError> {
        let mut engine = self.engine()?;
        let results = agents::rego_tests::run(&mut engine, self.sources.iter().map(|(p, t)| (p.as_str(), t.as_str()))).map_err(|e| match e {
            agents::rego_tests::RegoTestError::NoPackage { file } => PolicyError::Compile { path: format!("policies/{file}"), detail: "no package line".into() },
            agents::rego_tests::RegoTestError::Eval { rule, detail } => PolicyError::Eval { rule, detail },
        })?;
        Ok(results.into_iter().map(|t| TestResult { passed: t.passed, name: t.name }).collect())
    }
}

/// The strings of a `deny` set; undefined counts as empty.
fn deny_messages(value: &regorus::Value) -> Result<Vec<String>, String> {
    if *value == regorus::Value::Undefined {
        return Ok(Vec::new());
    }
    let json = value.to_json_str().map_err(|e| e.to_string())?;
    match serde_json::from_str::<Value>(&json).map_err(|e| e.to_string())? {
        Value::Array(items) => Ok(items.into_iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect()),
        other => Err(format!("deny must be a set of strings, not {other}")),
    }
}

mod recheck;

pub use recheck::{Recheck, recheck_pack};

#[cfg(test)]
mod tests;
