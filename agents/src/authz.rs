//! The `authz` kind (roster agent "AuthZ Author"): the released repository's
//! own Rego authorization policies and their unit tests, run with regorus as
//! `opa test` would run them, each test's result recorded. It passes when at
//! least one test ran and every test passed; a policy that does not compile
//! or a folder with no `test_` rules is a failure with the reason, never a pass.
//!
//! Settings under `[agents."<name>"]`: `policies` (required: folders or
//! `.rego` files, relative to the repository).

use serde_json::json;

use crate::rego_tests::{self, RegoTest};
use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// How many test names the facts list; the counts cover them all.
const TESTS_KEPT: usize = 200;

/// Runs the repository's authorization tests.
pub struct AuthzAgent;

#[async_trait::async_trait]
impl Agent for AuthzAgent {
    fn kind(&self) -> &'static str {
        "authz"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let entries = match task.paths_setting("policies") {
            Ok(entries) => entries,
            Err(outcome) => return outcome,
        };
        let mut files = Vec::new();
        for entry in &entries {
            let path = task.resolve(entry);
            if path.is_dir() {
                files.extend(rego_tests::rego_files(&path));
            } else if path.is_file() {
                files.push(path);
            } else {
                return AgentOutcome::missing_input(format!("{entry} (policies of [agents.\"{}\"]) does not exist", task.agent));
            }
        }
        let mut sources = Vec::new();
        for file in &files {
            let shown = file.strip_prefix(&task.workdir).unwrap_or(file).display().to_string();
            match std::fs::read_to_string(file) {
                Ok(text) => sources.push((shown, text)),
                Err(e) => return AgentOutcome::missing_input(format!("{shown} cannot be read: {e}")),
            }
        }
        let produced = files.iter().zip(&sources).map(|(path, (name, _))| ProducedFile { name: name.clone(), path: path.clone() }).collect();
        outcome(&sources, produced)
    }
}

fn outcome(sources: &[(String, String)], files: Vec<ProducedFile>) -> AgentOutcome {
    let mut engine = regorus::Engine::new();
    for (name, text) in sources {
        if let Err(e) = engine.add_policy(name.clone(), text.clone()) {
            return AgentOutcome { verdict: Verdict::Fail, reason: format!("{name} does not compile: {e}"), facts: json!({ "compileError": { "file": name, "message": e.to_string() } }), files };
        }
    }
    let tests = match rego_tests::run(&mut engine, sources.iter().map(|(n, t)| (n.as_str(), t.as_str()))) {
        Ok(tests) => tests,
        Err(e) => return AgentOutcome { verdict: Verdict::Fail, reason: e.to_string(), facts: json!({ "error": e.to_string() }), files },
    };
    let failed: Vec<&RegoTest> = tests.iter().filter(|t| !t.passed).collect();
    let (verdict, reason) = if tests.is_empty() {
        (Verdict::Fail, format!("the {} policy files hold no test_ rules, so nothing shows the access rules hold", sources.len()))
    } else if failed.is_empty() {
        (Verdict::Pass, format!("all {} authorization tests passed", tests.len()))
    } else {
        let named: Vec<&str> = failed.iter().take(5).map(|t| t.name.as_str()).collect();
        (Verdict::Fail, format!("{} of {} authorization tests failed: {}", failed.len(), tests.len(), named.join(", ")))
    };
    let facts = json!({
        "policies": sources.len(), "tests": tests.len(), "passed": tests.len() - failed.len(), "failed": failed.len(),
        "results": tests.iter().take(TESTS_KEPT).collect::<Vec<_>>(),
    });
    AgentOutcome { verdict, reason, facts, files }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "package orders.authz\n\nimport rego.v1\n\ndefault allow := false\n\nallow if {\n\tinput.user.role == \"admin\"\n}\n\nallow if {\n\tinput.action == \"read\"\n\tinput.order.tenant == input.user.tenant\n}\n";

    const TESTS: &str = "package orders.authz_test\n\nimport rego.v1\n\nimport data.orders.authz\n\ntest_admin_may_write if {\n\tauthz.allow with input as {\"user\": {\"role\": \"admin\"}, \"action\": \"write\"}\n}\n\ntest_reader_sees_own_tenant if {\n\tauthz.allow with input as {\"user\": {\"role\": \"clerk\", \"tenant\": \"a\"}, \"action\": \"read\", \"order\": {\"tenant\": \"a\"}}\n}\n\ntest_no_cross_tenant_read if {\n\tnot authz.allow with input as {\"user\": {\"role\": \"clerk\", \"tenant\": \"a\"}, \"action\": \"read\", \"order\": {\"tenant\": \"b\"}}\n}\n";

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn task(dir: &std::path::Path) -> AgentTask {
        AgentTask::new("AuthZ Author", "authz", "P3", dir, dir, toml::from_str("policies = [\"authz\"]").unwrap())
    }

    #[tokio::test]
    async fn the_repositorys_tests_run_and_each_result_is_recorded() {
        let dir = repo(&[("authz/orders.rego", POLICY), ("authz/orders_test.rego", TESTS)]);
        let outcome = AuthzAgent.run(&task(dir.path())).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        assert_eq!((outcome.facts["tests"].as_u64(), outcome.facts["passed"].as_u64()), (Some(3), Some(3)));
        assert_eq!(outcome.facts["results"][2], json!({ "name": "data.orders.authz_test.test_no_cross_tenant_read", "file": "authz/orders_test.rego", "passed": true }));
        assert_eq!(outcome.files.len(), 2, "the policies are evidence");
    }

    #[tokio::test]
    async fn a_policy_that_lets_another_tenant_read_fails_the_test_that_says_so() {
        let leaky = POLICY.replace("\tinput.order.tenant == input.user.tenant\n", "");
        let dir = repo(&[("authz/orders.rego", &leaky), ("authz/orders_test.rego", TESTS)]);
        let outcome = AuthzAgent.run(&task(dir.path())).await;
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert_eq!(outcome.reason, "1 of 3 authorization tests failed: data.orders.authz_test.test_no_cross_tenant_read");
    }

    #[tokio::test]
    async fn no_tests_a_broken_policy_or_a_missing_folder_never_pass() {
        let untested = repo(&[("authz/orders.rego", POLICY)]);
        let outcome = AuthzAgent.run(&task(untested.path())).await;
        assert!(outcome.verdict == Verdict::Fail && outcome.reason.contains("hold no test_ rules"), "{}", outcome.reason);
        let broken = repo(&[("authz/orders.rego", "package orders.authz\n\nallow if {\n")]);
        let outcome = AuthzAgent.run(&task(broken.path())).await;
        assert!(outcome.verdict == Verdict::Fail && outcome.reason.starts_with("authz/orders.rego does not compile"), "{}", outcome.reason);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(AuthzAgent.run(&task(empty.path())).await.verdict, Verdict::MissingInput);
    }
}
