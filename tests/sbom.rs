//! `conductor sbom` checked by independent implementations: PyPI's
//! cyclonedx-python-lib validates the CycloneDX document against the 1.6
//! schema, spdx-tools validates the SPDX 2.3 document, and packageurl-python
//! reads every purl back.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::crosscheck::python;
use crate::fixture::{conductor, git};

const CARGO_LOCK: &str = r#"version = 4

[[package]]
name = "itoa"
version = "1.0.11"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"

[[package]]
name = "service"
version = "0.1.0"
dependencies = [
 "itoa",
]
"#;

const PACKAGE_LOCK: &str = r#"{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "web", "version": "1.0.0", "dependencies": { "@babel/runtime": "^7.24.0" }, "devDependencies": { "ms": "^2.1.3" } },
    "node_modules/@babel/runtime": {
      "version": "7.24.4",
      "resolved": "https://registry.npmjs.org/@babel/runtime/-/runtime-7.24.4.tgz",
      "integrity": "sha512-dkxf7+hn8mFBwKjs9bvBlArzLVxVbS8usaPUDd5p2a9JCL9tB8OaOVN1isD4+Xyk4ns89/xeOmbQvgdK7IIVdA==",
      "dependencies": { "regenerator-runtime": "^0.14.0" }
    },
    "node_modules/regenerator-runtime": {
      "version": "0.14.1",
      "resolved": "https://registry.npmjs.org/regenerator-runtime/-/regenerator-runtime-0.14.1.tgz",
      "integrity": "sha512-dYnhHh0nJoMfnkZs6GmmhFknAGRrLznOu5nc9ML+EJxGvrx6H7teuevqVqCuPcPK//3eDrrjQhehXVx9cnkGdw=="
    },
    "node_modules/ms": {
      "version": "2.1.3",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
      "dev": true
    }
  }
}
"#;

const POETRY_LOCK: &str = r#"[[package]]
name = "certifi"
version = "2024.7.4"
description = "Python package for providing Mozilla's CA Bundle."
optional = false
python-versions = ">=3.6"
files = [
    {file = "certifi-2024.7.4-py3-none-any.whl", hash = "sha256:c198e21b1289c2ab85ee4e67bb4b4ef3ead0892059901a8d5b622f24a1101e90"},
    {file = "certifi-2024.7.4.tar.gz", hash = "sha256:5a1e7645bc0ec61a09e26c36f6106dd4cf40c6db3a1fb6352b0244e7fb057c7b"},
]

[[package]]
name = "requests"
version = "2.32.3"
description = "Python HTTP for Humans."
optional = false
python-versions = ">=3.8"
files = [
    {file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"},
]

[package.dependencies]
certifi = ">=2017.4.17"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "0e4d5b1a"
"#;

const REQUIREMENTS: &str = r#"flask==3.0.3 \
    --hash=sha256:34e815dfaa43340d1d15a5c3a02b8476004037eb4840b34910c6e21679d288f3
    # via -r requirements.in
"#;

const GO_MOD: &str = "module example.com/service\n\ngo 1.22\n\nrequire (\n\tgithub.com/gorilla/mux v1.8.1\n\tgithub.com/BurntSushi/toml v1.4.0 // indirect\n)\n";

const GO_SUM: &str = "github.com/BurntSushi/toml v1.4.0 h1:kuoIxZQy2WRRk1pttg9asf+WVv6tWQuBNVmK8+nqPr0=
github.com/BurntSushi/toml v1.4.0/go.mod h1:ukJfTF/6rtPPRCnwkur4qwRxa8vTRFBF0uk2lLoLwho=
github.com/gorilla/mux v1.8.1 h1:TuBL49tXwgrFYWhqrNgrUNEY92u81SPhu7sTdzQEiWY=
github.com/gorilla/mux v1.8.1/go.mod h1:AKf9I4AEqPTmMytcMc0KkNouC66V3BtZ4qD5fmWSiMQ=
";

/// A committed, tagged repository holding one lock file per ecosystem.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "feat: lock files"]);
    git(dir.path(), &["tag", "v2.0.0"]);
    dir
}

fn every_ecosystem() -> tempfile::TempDir {
    repo(&[
        ("Cargo.lock", CARGO_LOCK),
        ("package-lock.json", PACKAGE_LOCK),
        ("poetry.lock", POETRY_LOCK),
        ("requirements.txt", REQUIREMENTS),
        ("go.mod", GO_MOD),
        ("go.sum", GO_SUM),
    ])
}

fn sbom(dir: &Path, args: &[&str], epoch: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir).arg("sbom").args(args).env("SOURCE_DATE_EPOCH", epoch).output().unwrap()
}

fn run_python(dir: &Path, script: &str, args: &[&str]) -> String {
    std::fs::write(dir.join("check.py"), script).unwrap();
    let out = Command::new(python()).current_dir(dir).arg("check.py").args(args).output().unwrap();
    assert!(out.status.success(), "python check failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CYCLONEDX_CHECK: &str = r#"
import copy, json, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

text = open(sys.argv[1]).read()
validator = JsonStrictValidator(SchemaVersion.V1_6)
error = validator.validate_str(text)
if error is not None:
    raise SystemExit(f"not valid CycloneDX 1.6: {error}")
doc = json.loads(text)
# The validator must refuse a broken copy, or its silence proves nothing.
broken = copy.deepcopy(doc)
broken["components"][0]["hashes"] = [{"alg": "SHA-999", "content": "00"}]
if validator.validate_str(json.dumps(broken)) is None:
    raise SystemExit("the validator accepted a hash algorithm that does not exist")
refs = {c["bom-ref"] for c in doc["components"]} | {doc["metadata"]["component"]["bom-ref"]}
for d in doc["dependencies"]:
    assert d["ref"] in refs, d["ref"]
    for target in d.get("dependsOn", []):
        assert target in refs, target
found = {}
for c in doc["components"]:
    purl = PackageURL.from_string(c["purl"])
    assert purl.to_string() == c["purl"], (purl.to_string(), c["purl"])
    found[c["purl"]] = {
        "type": purl.type, "namespace": purl.namespace, "name": purl.name, "version": purl.version,
        "hashes": sorted(h["alg"] for h in c.get("hashes", [])), "scope": c.get("scope"),
    }
print(json.dumps(found))
"#;

const SPDX_CHECK: &str = r#"
import json, sys
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

doc = parse_file(sys.argv[1])
messages = validate_full_spdx_document(doc)
if messages:
    raise SystemExit("not valid SPDX 2.3:\n" + "\n".join(m.validation_message for m in messages))
purls = sorted(ref.locator for p in doc.packages for ref in p.external_references if ref.reference_type == "purl")
checksums = sum(len(p.checksums) for p in doc.packages)
print(json.dumps({"purls": purls, "checksums": checksums, "relationships": len(doc.relationships)}))
"#;

#[test]
fn cyclonedx_python_lib_accepts_the_cyclonedx_document() {
    let dir = every_ecosystem();
    let out = sbom(dir.path(), &["--out", "sbom.cdx.json"], "1700000000");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found: Value = serde_json::from_str(&run_python(dir.path(), CYCLONEDX_CHECK, &["sbom.cdx.json"])).unwrap();
    let expect = |purl: &str, fields: Value| {
        let got = &found[purl];
        for (key, value) in fields.as_object().unwrap() {
            assert_eq!(&got[key], value, "{purl} {key}: {got}");
        }
    };
    expect("pkg:cargo/itoa@1.0.11", serde_json::json!({"type": "cargo", "name": "itoa", "hashes": ["SHA-256"]}));
    expect("pkg:npm/%40babel/runtime@7.24.4", serde_json::json!({"namespace": "@babel", "name": "runtime", "hashes": ["SHA-512"], "scope": "required"}));
    expect("pkg:npm/ms@2.1.3", serde_json::json!({"scope": "optional"}));
    expect("pkg:pypi/certifi@2024.7.4", serde_json::json!({"hashes": ["SHA-256", "SHA-256"]}));
    expect("pkg:pypi/flask@3.0.3", serde_json::json!({"name": "flask", "hashes": ["SHA-256"]}));
    expect("pkg:golang/github.com/gorilla/mux@v1.8.1", serde_json::json!({"namespace": "github.com/gorilla", "name": "mux", "version": "v1.8.1", "hashes": []}));
    assert_eq!(found.as_object().unwrap().len(), 10, "{found}");

    let doc: Value = serde_json::from_slice(&std::fs::read(dir.path().join("sbom.cdx.json")).unwrap()).unwrap();
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z", "SOURCE_DATE_EPOCH sets the time");
    assert_eq!(doc["metadata"]["component"]["version"], "v2.0.0");
    let graph = doc["dependencies"].as_array().unwrap();
    let depends = |r: &str| graph.iter().find(|d| d["ref"] == r).map(|d| d["dependsOn"].clone());
    assert_eq!(depends("pkg:npm/%40babel/runtime@7.24.4").unwrap(), serde_json::json!(["pkg:npm/regenerator-runtime@0.14.1"]));
    assert_eq!(depends("pkg:pypi/requests@2.32.3").unwrap(), serde_json::json!(["pkg:pypi/certifi@2024.7.4"]));
    let root = depends(doc["metadata"]["component"]["bom-ref"].as_str().unwrap()).unwrap();
    for direct in ["pkg:cargo/service@0.1.0", "pkg:npm/%40babel/runtime@7.24.4", "pkg:golang/github.com/gorilla/mux@v1.8.1", "pkg:pypi/flask@3.0.3"] {
        assert!(root.as_array().unwrap().iter().any(|r| r == direct), "{direct} is not a direct dependency: {root}");
    }

    // Stdout carries the same bytes: the document depends on the input only.
    let again = sbom(dir.path(), &[], "1700000000");
    assert_eq!(again.stdout, std::fs::read(dir.path().join("sbom.cdx.json")).unwrap());
}

#[test]
fn spdx_tools_accepts_the_spdx_document() {
    let dir = every_ecosystem();
    let out = sbom(dir.path(), &["--format", "spdx", "--out", "sbom.spdx.json"], "1700000000");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_str(&run_python(dir.path(), SPDX_CHECK, &["sbom.spdx.json"])).unwrap();
    let purls = summary["purls"].as_array().unwrap();
    assert_eq!(purls.len(), 10);
    assert!(purls.iter().any(|p| p == "pkg:npm/%40babel/runtime@7.24.4"));
    assert_eq!(summary["checksums"], 8, "cargo 1, npm 3, poetry 3 and flask 1; go.sum's h1 is not a checksum");
    assert!(summary["relationships"].as_u64().unwrap() > 5);
}

#[test]
fn a_chosen_lock_file_is_the_only_one_read() {
    let dir = every_ecosystem();
    let out = sbom(dir.path(), &["--lockfile", "go.sum"], "0");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let components = doc["components"].as_array().unwrap();
    assert_eq!(components.len(), 2);
    assert!(components.iter().all(|c| c["purl"].as_str().unwrap().starts_with("pkg:golang/")));
}

#[test]
fn a_malformed_lock_file_exits_2_naming_it_and_writes_nothing() {
    let broken = PACKAGE_LOCK.replace("sha512-6Flz", "sha512-!!!!");
    let dir = repo(&[("Cargo.lock", CARGO_LOCK), ("package-lock.json", &broken)]);
    let out = sbom(dir.path(), &["--out", "sbom.cdx.json"], "0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(r#"package-lock.json at packages["node_modules/ms"].integrity"#), "{stderr}");
    assert!(stderr.contains("regenerate the lock file"), "{stderr}");
    assert!(!dir.path().join("sbom.cdx.json").exists(), "a failed run left a file behind");
}

#[test]
fn unpinned_requirements_and_missing_lock_files_exit_2() {
    let dir = repo(&[("requirements.txt", "flask==3.0.3\nrequests>=2.31\n")]);
    let out = sbom(dir.path(), &[], "0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("requirements.txt: 1 requirement is not pinned to one version (line 2 'requests>=2.31')"), "{stderr}");
    let empty = repo(&[("README.md", "no lock files here\n")]);
    let out = conductor(empty.path(), &["sbom"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no lock file") && stderr.contains("--lockfile"), "{stderr}");
}
