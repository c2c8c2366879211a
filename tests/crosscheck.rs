//! Independent implementations accept our formats: openssl checks Ed25519
//! signatures over the DSSE PAE and opens our encrypted keys, coreutils checks
//! SHA256SUMS, and PyPI's securesystemslib and in-toto-attestation verify the
//! envelopes and statements.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::fixture::{Release, ok};

pub(crate) fn tool(name: &str, hint: &str) -> PathBuf {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().unwrap();
    assert!(found.status.success(), "{name} is missing; {hint}");
    PathBuf::from(String::from_utf8_lossy(&found.stdout).trim())
}

/// The Python with the cross-check packages, made by scripts/test.sh.
pub(crate) fn python() -> PathBuf {
    let path = std::env::var_os("CONDUCTOR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python"));
    assert!(
        path.is_file(),
        "{} is missing; run scripts/test.sh (it creates target/pyenv with securesystemslib and in-toto-attestation) or set CONDUCTOR_TEST_PYTHON",
        path.display()
    );
    path
}

fn unzip(pack: &Path, into: &Path) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(pack).unwrap()).unwrap();
    archive.extract(into).unwrap();
}

#[test]
fn openssl_verifies_a_record_signature_over_the_pae() {
    let openssl = tool("openssl", "install it with `apt-get install openssl`");
    let release = Release::new();
    let ledger = std::fs::read(release.path().join(".conductor/releases/v1.0.0/ledger.intoto.jsonl")).unwrap();
    let line = ledger.split(|b| *b == b'\n').nth(1).unwrap();
    let record = evidence::record::Record::parse_line(line).unwrap();
    let work = release.path();
    std::fs::write(work.join("pae.bin"), record.pae()).unwrap();
    std::fs::write(work.join("sig.bin"), record.signature().unwrap()).unwrap();
    let verify = |pae: &str| {
        Command::new(&openssl)
            .current_dir(work)
            .args(["pkeyutl", "-verify", "-pubin", "-inkey", "keys/notary.pub", "-rawin", "-in", pae, "-sigfile", "sig.bin"])
            .output()
            .unwrap()
    };
    let good = verify("pae.bin");
    assert!(good.status.success(), "openssl refused: {}", String::from_utf8_lossy(&good.stderr));
    let mut forged = record.pae();
    forged[20] ^= 1;
    std::fs::write(work.join("forged.bin"), forged).unwrap();
    assert!(!verify("forged.bin").status.success(), "openssl accepted a changed PAE");
}

#[test]
fn openssl_opens_an_encrypted_key_and_the_key_id_is_the_spki_digest() {
    let openssl = tool("openssl", "install it with `apt-get install openssl`");
    let dir = tempfile::tempdir().unwrap();
    let id = ok(dir.path(), &["keygen", "--out", "k"]);
    let out = Command::new(&openssl)
        .current_dir(dir.path())
        .args(["pkey", "-in", "k.key", "-passin", "pass:test passphrase", "-pubout", "-outform", "DER"])
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl cannot open the key: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(evidence::digest::Sha256::of(&out.stdout).to_hex(), id.trim());
}

#[test]
fn openssl_verifies_an_ecdsa_dsse_signature() {
    let openssl = tool("openssl", "install it with `apt-get install openssl`");
    let key = evidence::keys::SecretKey::generate_ecdsa_p256().unwrap();
    let env = evidence::dsse::Envelope::sign(evidence::dsse::INTOTO_PAYLOAD_TYPE, b"{\"a\":1}", &key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pub.pem"), key.public_key().to_pem()).unwrap();
    std::fs::write(dir.path().join("pae.bin"), evidence::dsse::pae(&env.payload_type, &env.payload_bytes().unwrap())).unwrap();
    std::fs::write(dir.path().join("sig.der"), env.signature_bytes(0).unwrap()).unwrap();
    let out = Command::new(&openssl)
        .current_dir(dir.path())
        .args(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "pae.bin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn sha256sum_checks_an_unzipped_pack() {
    let sha256sum = tool("sha256sum", "install coreutils");
    let release = Release::new();
    let pack = release.pack();
    let dir = tempfile::tempdir().unwrap();
    unzip(&pack, dir.path());
    let out = Command::new(sha256sum).current_dir(dir.path()).args(["-c", "--strict", "SHA256SUMS"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let listed = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(listed + 1, zip::ZipArchive::new(std::fs::File::open(&pack).unwrap()).unwrap().len());
}

const PY_CHECK: &str = r#"
import json, sys
from securesystemslib.signer import SSlibKey
from securesystemslib.dsse import Envelope
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from in_toto_attestation.v1.statement import Statement
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2

pem = open(sys.argv[2], "rb").read()
key = SSlibKey.from_crypto(load_pem_public_key(pem), keyid=sys.argv[3])
checked = 0
for line in open(sys.argv[1], "rb"):
    env = Envelope.from_dict(json.loads(line))
    verified = env.verify([key], 1)
    assert key.keyid in verified, "signature not accepted"
    pb = json_format.Parse(env.payload, statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()
    checked += 1
# A changed payload must be refused.
env = Envelope.from_dict(json.loads(open(sys.argv[1], "rb").readline()))
env.payload = env.payload.replace(b"P0", b"P9")
try:
    env.verify([key], 1)
    raise SystemExit("a changed envelope verified")
except Exception as e:
    if isinstance(e, SystemExit):
        raise
print(checked)
"#;

#[test]
fn securesystemslib_and_in_toto_attestation_accept_the_ledger() {
    let python = python();
    let release = Release::new();
    let pack = release.pack();
    let dir = tempfile::tempdir().unwrap();
    unzip(&pack, dir.path());
    let key_id = ok(release.path(), &["log", "--json"]);
    let key_id = serde_json::from_str::<serde_json::Value>(&key_id).unwrap()[0]["keyId"].as_str().unwrap().to_owned();
    let pub_path = dir.path().join(format!("keys/{key_id}.pub"));
    std::fs::write(dir.path().join("check.py"), PY_CHECK).unwrap();
    let out = Command::new(python)
        .current_dir(dir.path())
        .args(["check.py", "ledger/ledger.intoto.jsonl", pub_path.to_str().unwrap(), &key_id])
        .output()
        .unwrap();
    assert!(out.status.success(), "python cross-check failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "4");
    // The manifest is a standard envelope too.
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("manifest.intoto.json")).unwrap()).unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&STANDARD.decode(manifest["payload"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
}
