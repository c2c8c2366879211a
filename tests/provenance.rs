//! SLSA provenance from the `provenance` kind, read by PyPI's
//! in-toto-attestation (the Statement and the SLSA v1 predicate protobuf)
//! and checked by securesystemslib, as an auditor's tooling would.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::crosscheck::python;
use crate::fixture::{Release, conductor, git};

/// The artifact the release ships, built into a git-ignored `dist/`.
pub(crate) const ARTIFACT: &str = "dist/orders-1.0.0.tar.gz";

/// A release whose P0 ran Provenance Sheriff and Artifactory Steward over a
/// freshly built artifact. `setup` runs in the repository first;
/// `steward` adds settings to the steward's section.
pub(crate) fn artifact_release(setup: impl Fn(&Path), steward: &str) -> Release {
    let release = Release::new();
    let p = release.path();
    std::fs::write(p.join(".gitignore"), "dist/\n").unwrap();
    std::fs::create_dir_all(p.join("dist")).unwrap();
    // Bytes that differ from one position to the next, so a flipped byte anywhere matters.
    let tarball: Vec<u8> = (0..150_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(p.join(ARTIFACT), tarball).unwrap();
    setup(p);
    let config = format!(
        "[agents.\"Provenance Sheriff\"]\nartifacts = [\"dist/*.tar.gz\"]\nbuild_command = \"./build.sh\"\n\n\
         [agents.\"Artifactory Steward\"]\nartifacts = [\"dist/*.tar.gz\"]\n{steward}\n"
    );
    std::fs::write(p.join("conductor.toml"), config).unwrap();
    let out = conductor(p, &["run", "--json", "--phase", "P0"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    for agent in ["Provenance Sheriff", "Artifactory Steward"] {
        let outcome = report[0]["agents"].as_array().unwrap().iter().find(|a| a["agent"] == agent).unwrap_or_else(|| panic!("{agent} did not run: {report:#}"));
        assert_eq!(outcome["verdict"], "pass", "{agent}: {outcome:#}");
    }
    release
}

/// The latest outcome of `agent`: its predicate and its files (name, stored copy).
pub(crate) fn outcome(release: &Release, agent: &str) -> (Value, Vec<(String, PathBuf)>) {
    let folder = release.path().join(".conductor/releases/v1.0.0");
    let ledger = std::fs::read(folder.join("ledger.intoto.jsonl")).unwrap();
    let record = ledger
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| evidence::record::Record::parse_line(l).unwrap())
        .rfind(|r| r.statement.predicate["agent"] == agent)
        .unwrap_or_else(|| panic!("no outcome of {agent}"));
    let files = record.link.evidence.iter().map(|e| (e.name.clone(), folder.join("objects/sha256").join(e.sha256.to_hex()))).collect();
    (record.statement.predicate, files)
}

/// The commit HEAD names.
fn head(dir: &Path) -> String {
    let out = Command::new("git").current_dir(dir).args(["rev-parse", "HEAD"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

const PY_PROVENANCE: &str = r#"
import hashlib, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

provenance, pem, keyid, artifact, name, commit = sys.argv[1:7]
key = SSlibKey.from_crypto(load_pem_public_key(open(pem, "rb").read()), keyid=keyid)
lines = open(provenance, "rb").read().splitlines()
assert len(lines) == 1, lines
env = Envelope.from_dict(json.loads(lines[0]))
assert keyid in env.verify([key], 1)

statement = json_format.Parse(env.payload, statement_pb2.Statement())
Statement.copy_from_pb(statement).validate()
assert statement.predicate_type == "https://slsa.dev/provenance/v1", statement.predicate_type
[subject] = statement.subject
assert subject.name == name, subject.name
assert subject.digest["sha256"] == hashlib.sha256(open(artifact, "rb").read()).hexdigest()

predicate = json.loads(env.payload)["predicate"]
slsa = json_format.ParseDict(predicate, provenance_pb2.Provenance())
definition = slsa.build_definition
assert definition.build_type == "https://conductor.dev/build-types/release/v1", definition.build_type
source = definition.external_parameters["source"]
assert source["commit"] == commit and source["ref"] == "refs/heads/main", source
assert definition.external_parameters["buildCommand"] == "./build.sh"
[dependency] = definition.resolved_dependencies
ResourceDescriptor.copy_from_pb(dependency).validate()
assert dependency.digest["gitCommit"] == commit
assert dependency.uri == "git+%s@refs/heads/main" % source["repository"], dependency.uri
assert slsa.run_details.builder.id == "https://conductor.dev/builders/local@v1"
assert len(slsa.run_details.metadata.invocation_id) == 32

# A changed statement must be refused.
env.payload = env.payload.replace(commit.encode(), b"0" * len(commit))
try:
    env.verify([key], 1)
    raise SystemExit("a changed provenance statement verified")
except SystemExit:
    raise
except Exception:
    pass
print("ok")
"#;

#[test]
fn slsa_provenance_parses_with_in_toto_attestation_and_verifies_with_securesystemslib() {
    let python = python();
    let release = artifact_release(|_| {}, "");
    let (predicate, files) = outcome(&release, "Provenance Sheriff");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "provenance.intoto.jsonl");
    let facts = &predicate["facts"];
    assert_eq!(facts["subjects"][0]["name"], ARTIFACT);
    assert_eq!(facts["ref"], "refs/heads/main");
    let commit = head(release.path());
    assert_eq!(facts["commit"], commit.as_str());
    let pem = release.path().join("keys/notary.pub");
    let key_id = evidence::keys::PublicKey::from_pem(&std::fs::read_to_string(&pem).unwrap()).unwrap().id().to_string();
    assert_eq!(facts["keyId"], key_id.as_str());
    let script = release.path().join("check_provenance.py");
    std::fs::write(&script, PY_PROVENANCE).unwrap();
    let args = [script.as_path(), &files[0].1, &pem, Path::new(&key_id), &release.path().join(ARTIFACT), Path::new(ARTIFACT), Path::new(&commit)];
    let out = Command::new(python).args(args).output().unwrap();
    assert!(out.status.success(), "python cross-check failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    let (code, report) = release.verify(&release.pack(), &release.trust());
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_release_tag_on_another_commit_fails_provenance() {
    let release = artifact_release(|_| {}, "");
    let p = release.path();
    git(p, &["commit", "-q", "--allow-empty", "-m", "chore: after the release commit"]);
    git(p, &["tag", "v1.0.0"]);
    let out = conductor(p, &["run", "--json", "--phase", "P0"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sheriff = report[0]["agents"].as_array().unwrap().iter().find(|a| a["agent"] == "Provenance Sheriff").unwrap();
    assert_eq!(sheriff["verdict"], "fail", "{sheriff:#}");
    assert!(sheriff["reason"].as_str().unwrap().contains("tag v1.0.0 names commit"), "{sheriff:#}");
}
