//! The `provenance` kind: SLSA provenance v1 for the release artifacts,
//! binding each artifact's SHA-256 to the source repository, ref and commit
//! of the release and to the builder that made it. The statement is an
//! in-toto Statement v1 in a DSSE envelope signed with the release's key,
//! written as `provenance.intoto.jsonl` (one envelope per line, the SLSA
//! convention), so `slsa-verifier`-style tools and in-toto libraries read it.
//!
//! Conductor does not run the build, so the provenance records no build start
//! or finish time; `invocationId` is the release id.

use std::path::Path;

use evidence::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use evidence::record::ReleaseBinding;
use evidence::statement::{ResourceDescriptor, Statement};
use serde_json::{Value, json};

use crate::artifacts;
use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict, signing_key};

/// The SLSA provenance v1 predicate type.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// The builder id recorded when `builder_id` is not set: a build on the
/// release machine, outside any hosted build service.
pub const DEFAULT_BUILDER_ID: &str = "https://conductor.dev/builders/local@v1";

/// The build type recorded when `build_type` is not set (see
/// docs/evidence-format.md): the artifacts were built from the release's
/// source by the command in `externalParameters.buildCommand`, if given.
pub const DEFAULT_BUILD_TYPE: &str = "https://conductor.dev/build-types/release/v1";

/// The file the signed statement is written to.
pub const PROVENANCE_FILE: &str = "provenance.intoto.jsonl";

/// Writes signed SLSA provenance for the files `artifacts` matches.
pub struct ProvenanceAgent;

#[async_trait::async_trait]
impl Agent for ProvenanceAgent {
    fn kind(&self) -> &'static str {
        "provenance"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        // Hashing artifacts, opening the key and asking git all block.
        let task = task.clone();
        tokio::task::spawn_blocking(move || provenance(&task).unwrap_or_else(|outcome| outcome))
            .await
            .unwrap_or_else(|e| AgentOutcome::error(format!("the provenance check stopped: {e}")))
    }
}

/// Where the artifacts came from, as git tells it.
#[derive(Debug)]
struct Source {
    repository: String,
    git_ref: String,
    commit: String,
}

fn provenance(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let release = task.release()?;
    let globs = artifacts::globs(task)?;
    let builder_id = optional_text(task, "builder_id", DEFAULT_BUILDER_ID)?;
    let build_type = optional_text(task, "build_type", DEFAULT_BUILD_TYPE)?;
    let build_command = task.settings.contains_key("build_command").then(|| task.text_setting("build_command")).transpose()?;
    let repository = task.settings.contains_key("repository").then(|| task.text_setting("repository")).transpose()?;
    let found = artifacts::matching(task, &globs)?;
    let key = signing_key::open(&signing_key::path(task, None)?)?;
    let source = match source(&task.workdir, &release.binding, repository)? {
        Ok(source) => source,
        Err(mismatch) => return Ok(AgentOutcome { verdict: Verdict::Fail, reason: mismatch, facts: Value::Null, files: vec![] }),
    };
    let subjects = found.iter().map(|a| artifacts::digest(&a.path).map(|(sha256, size)| (a, sha256, size))).collect::<Result<Vec<_>, _>>()?;
    let statement = Statement::new(
        subjects.iter().map(|(a, sha256, _)| ResourceDescriptor::new(a.name.clone(), *sha256)).collect(),
        SLSA_PROVENANCE_V1,
        predicate(&source, &release.binding, builder_id, build_type, build_command, &globs),
    );
    let envelope = Envelope::sign(INTOTO_PAYLOAD_TYPE, &statement.to_bytes(), &key).map_err(|e| AgentOutcome::error(format!("cannot sign the provenance: {e}")))?;
    let file = task.scratch.join(PROVENANCE_FILE);
    std::fs::create_dir_all(&task.scratch)
        .and_then(|()| std::fs::write(&file, format!("{}\n", envelope.to_json())))
        .map_err(|e| AgentOutcome::error(format!("cannot write {}: {e}", file.display())))?;
    let facts = json!({
        "subjects": subjects.iter().map(|(a, sha256, size)| json!({ "name": a.name, "sha256": sha256, "size": size })).collect::<Vec<_>>(),
        "builderId": builder_id, "buildType": build_type, "buildCommand": build_command,
        "commit": source.commit, "ref": source.git_ref, "repository": source.repository, "keyId": key.id(),
    });
    Ok(AgentOutcome {
        verdict: Verdict::Pass,
        reason: format!("signed SLSA provenance for {} artifact(s) built from {} at {}", subjects.len(), source.git_ref, short(&source.commit)),
        facts,
        files: vec![ProducedFile { name: PROVENANCE_FILE.into(), path: file }],
    })
}

/// The SLSA v1 predicate.
fn predicate(source: &Source, binding: &ReleaseBinding, builder_id: &str, build_type: &str, build_command: Option<&str>, globs: &[String]) -> Value {
    let mut external = json!({
        "source": { "repository": source.repository, "ref": source.git_ref, "commit": source.commit },
        "artifacts": globs,
    });
    if let Some(command) = build_command {
        external["buildCommand"] = command.into();
    }
    json!({
        "buildDefinition": {
            "buildType": build_type,
            "externalParameters": external,
            "internalParameters": { "version": binding.version, "environment": binding.environment },
            "resolvedDependencies": [{
                "uri": format!("git+{}@{}", source.repository, source.git_ref),
                "digest": { "gitCommit": source.commit },
            }],
        },
        "runDetails": {
            "builder": { "id": builder_id },
            "metadata": { "invocationId": binding.id },
        },
    })
}

/// A text setting, `default` when absent.
fn optional_text<'a>(task: &'a AgentTask, key: &str, default: &'static str) -> Result<&'a str, AgentOutcome> {
    if task.settings.contains_key(key) { task.text_setting(key) } else { Ok(default) }
}

/// The repository (the `repository` setting, else `origin`'s URL, else the
/// work tree as a file URL) and the ref: the release's tag when it exists,
/// else the checked-out branch, else the commit itself. `Ok(Err(_))` when the
/// tag names another commit than the release: the provenance would be false.
fn source(workdir: &Path, binding: &ReleaseBinding, repository: Option<&str>) -> Result<Result<Source, String>, AgentOutcome> {
    let Some(top) = git(workdir, &["rev-parse", "--show-toplevel"])? else {
        return Err(AgentOutcome::error(format!("{} is not in a git repository; provenance names the source the artifacts were built from", workdir.display())));
    };
    if git(workdir, &["rev-parse", "--verify", "--quiet", &format!("{}^{{commit}}", binding.commit)])?.is_none() {
        return Err(AgentOutcome::error(format!("the release commit {} is not in the repository at {top}; fetch it first", binding.commit)));
    }
    let repository = match repository {
        Some(url) => url.to_owned(),
        None => git(workdir, &["remote", "get-url", "origin"])?.filter(|u| !u.is_empty()).unwrap_or_else(|| file_url(Path::new(&top))),
    };
    let tag = format!("refs/tags/{}", binding.version);
    let git_ref = match git(workdir, &["rev-parse", "--verify", "--quiet", &format!("{tag}^{{commit}}")])? {
        Some(commit) if commit == binding.commit => tag,
        Some(commit) => return Ok(Err(format!("tag {} names commit {}, but release {} is of commit {}", binding.version, short(&commit), binding.version, short(&binding.commit)))),
        None => git(workdir, &["symbolic-ref", "--quiet", "HEAD"])?.unwrap_or_else(|| binding.commit.clone()),
    };
    Ok(Ok(Source { repository, git_ref, commit: binding.commit.clone() }))
}

/// Runs git in `dir`: its trimmed output when it succeeds, `None` when it
/// exits non-zero, an error outcome when it cannot run.
fn git(dir: &Path, args: &[&str]) -> Result<Option<String>, AgentOutcome> {
    let out = crate::git::output(dir, args).map_err(|e| AgentOutcome::error(format!("cannot run git: {e}; install git")))?;
    Ok(out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
}

/// `file://` and the path, with bytes other than unreserved ones and `/`
/// percent-encoded (RFC 3986).
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    use evidence::digest::Sha256;
    use evidence::keys::SecretKey;

    use super::*;
    use crate::ReleaseContext;

    fn run_git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "Bot")
            .env("GIT_AUTHOR_EMAIL", "bot@example.com")
            .env("GIT_COMMITTER_NAME", "Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A repository with one commit, a built artifact, and a key.
    fn repo() -> (tempfile::TempDir, String, SecretKey) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("app.py"), "print('hi')\n").unwrap();
        std::fs::write(p.join(".gitignore"), "dist/\n").unwrap();
        run_git(p, &["init", "-q", "-b", "main"]);
        run_git(p, &["add", "."]);
        run_git(p, &["commit", "-qm", "first"]);
        let commit = run_git(p, &["rev-parse", "HEAD"]);
        std::fs::create_dir_all(p.join("dist")).unwrap();
        std::fs::write(p.join("dist/app-1.0.tar.gz"), b"tarball").unwrap();
        let key = SecretKey::ed25519_from_seed(&[6; 32]).unwrap();
        std::fs::write(p.join("notary.key"), key.to_pem(None).unwrap()).unwrap();
        (dir, commit, key)
    }

    fn task(dir: &Path, commit: &str, settings: &str) -> AgentTask {
        let settings: toml::Table = toml::from_str(settings).unwrap();
        let binding = ReleaseBinding { version: "v1.0.0".into(), commit: commit.into(), environment: "prod".into(), id: "0f".repeat(16) };
        AgentTask::new("Provenance Sheriff", "provenance", "P0", dir, &dir.join("scratch"), settings)
            .with_release(ReleaseContext { key: Some(PathBuf::from("notary.key")), ..ReleaseContext::new(binding) })
    }

    fn subjects_of(statement: &Value) -> Vec<(String, String)> {
        statement["subject"].as_array().unwrap().iter().map(|s| (s["name"].as_str().unwrap().to_owned(), s["digest"]["sha256"].as_str().unwrap().to_owned())).collect()
    }

    fn statement(outcome: &AgentOutcome, key: &SecretKey) -> Value {
        let text = std::fs::read_to_string(&outcome.files[0].path).unwrap();
        assert_eq!(text.lines().count(), 1);
        let envelope = Envelope::parse(text.trim_end().as_bytes()).unwrap();
        let payload = envelope.payload_bytes().unwrap();
        key.public_key().verify(&evidence::dsse::pae(&envelope.payload_type, &payload), &envelope.signature_bytes(0).unwrap()).unwrap();
        serde_json::from_slice(&payload).unwrap()
    }

    #[tokio::test]
    async fn provenance_binds_each_artifact_to_the_branch_and_commit() {
        let (dir, commit, key) = repo();
        let outcome = ProvenanceAgent.run(&task(dir.path(), &commit, "artifacts = \"dist/*.tar.gz\"\nbuild_command = \"./build.sh\"")).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        let s = statement(&outcome, &key);
        assert_eq!(s["predicateType"], SLSA_PROVENANCE_V1);
        assert_eq!(subjects_of(&s), [("dist/app-1.0.tar.gz".to_owned(), Sha256::of(b"tarball").to_hex())]);
        let definition = &s["predicate"]["buildDefinition"];
        assert_eq!(definition["buildType"], DEFAULT_BUILD_TYPE);
        assert_eq!(definition["externalParameters"]["source"]["ref"], "refs/heads/main");
        assert_eq!(definition["externalParameters"]["buildCommand"], "./build.sh");
        let repository = definition["externalParameters"]["source"]["repository"].as_str().unwrap();
        assert!(repository.starts_with("file:///"), "{repository}");
        assert_eq!(definition["resolvedDependencies"][0]["uri"], format!("git+{repository}@refs/heads/main"));
        assert_eq!(definition["resolvedDependencies"][0]["digest"]["gitCommit"], commit);
        assert_eq!(s["predicate"]["runDetails"]["builder"]["id"], DEFAULT_BUILDER_ID);
        assert_eq!(s["predicate"]["runDetails"]["metadata"]["invocationId"], "0f".repeat(16));
        assert_eq!(outcome.facts["subjects"][0]["size"], 7);
        assert_eq!(outcome.facts["keyId"], key.id().as_str());
    }

    #[tokio::test]
    async fn the_release_tag_and_origin_are_preferred_and_a_tag_elsewhere_fails() {
        let (dir, commit, key) = repo();
        run_git(dir.path(), &["tag", "v1.0.0"]);
        run_git(dir.path(), &["remote", "add", "origin", "https://example.com/shop/orders.git"]);
        let outcome = ProvenanceAgent.run(&task(dir.path(), &commit, "artifacts = [\"dist/*\"]\nbuilder_id = \"https://ci.example.com/runner@v2\"")).await;
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
        let s = statement(&outcome, &key);
        assert_eq!(s["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"], "git+https://example.com/shop/orders.git@refs/tags/v1.0.0");
        assert_eq!(outcome.facts["builderId"], "https://ci.example.com/runner@v2");
        run_git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "second"]);
        run_git(dir.path(), &["tag", "-f", "v1.0.0"]);
        let moved = ProvenanceAgent.run(&task(dir.path(), &commit, "artifacts = \"dist/*\"")).await;
        assert_eq!(moved.verdict, Verdict::Fail);
        assert!(moved.reason.contains("tag v1.0.0 names commit"), "{}", moved.reason);
    }

    #[tokio::test]
    async fn no_matching_artifact_or_no_repository_never_passes() {
        let (dir, commit, _) = repo();
        let none = ProvenanceAgent.run(&task(dir.path(), &commit, "artifacts = \"build/*.whl\"")).await;
        assert_eq!(none.verdict, Verdict::MissingInput);
        assert!(none.reason.contains("build/*.whl"));
        std::fs::remove_dir_all(dir.path().join(".git")).unwrap();
        let no_git = ProvenanceAgent.run(&task(dir.path(), &commit, "artifacts = \"dist/*\"")).await;
        assert_eq!(no_git.verdict, Verdict::Error, "{}", no_git.reason);
        let unbound = AgentTask::new("Provenance Sheriff", "provenance", "P0", dir.path(), dir.path(), toml::from_str("artifacts = \"dist/*\"").unwrap());
        assert_eq!(ProvenanceAgent.run(&unbound).await.verdict, Verdict::MissingInput);
    }

    #[test]
    fn file_urls_escape_what_a_url_cannot_hold() {
        assert_eq!(file_url(Path::new("/srv/my repo/ä")), "file:///srv/my%20repo/%C3%A4");
    }
}
