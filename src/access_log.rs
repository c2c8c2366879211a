//! The access log kept beside the packs: `conductor verify --reason "..."`
//! appends who read which pack, when and why, as one DSSE envelope per line
//! signed by the reader's own key, each naming the SHA-256 of the line before
//! it, so a removed or edited entry breaks the chain.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use evidence::digest::Sha256;
use evidence::dsse::Envelope;
use evidence::keys::SecretKey;
use evidence::timestamp::Timestamp;
use evidence::trust::TrustRoot;
use serde::{Deserialize, Serialize};

/// The file's name in the folder of the pack.
pub const FILE: &str = "access-log.jsonl";

/// The payload type of an entry's envelope.
pub const PAYLOAD_TYPE: &str = "application/vnd.conductor.access-log.v1+json";

/// One access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry {
    /// The pack's file name.
    pub pack: String,
    /// Its SHA-256.
    pub pack_sha256: Sha256,
    /// Why it was read.
    pub reason: String,
    /// Who read it: the key's identity in the trust root, else its name, else its id.
    pub who: String,
    /// The reader's key id.
    pub key_id: String,
    /// When.
    pub at: Timestamp,
    /// `verified` or `failed`.
    pub verdict: String,
    /// The SHA-256 of the previous line of the log (all zeros for the first).
    pub previous: Sha256,
}

/// The log beside `pack`.
pub fn path_for(pack: &Path) -> PathBuf {
    pack.with_file_name(FILE)
}

/// Appends the access to the log beside `pack`, signed by `key`.
pub fn append(pack: &Path, reason: &str, key: &SecretKey, trust: &TrustRoot, verdict: &str, at: Timestamp) -> Result<Entry> {
    if reason.trim().is_empty() {
        bail!("--reason is empty; say why the pack is read, such as \"audit of change CHG-1234\"");
    }
    let log = path_for(pack);
    let previous = match std::fs::read(&log) {
        Ok(bytes) => last_line_hash(&bytes, &log)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Sha256([0; 32]),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", log.display())),
    };
    let id = key.id().to_string();
    let who = trust.key(&id).map_or_else(|| id.clone(), |k| k.identity.clone().unwrap_or_else(|| k.name.clone()));
    let pack_sha256 = Sha256::of(&std::fs::read(pack).with_context(|| format!("cannot read {}", pack.display()))?);
    let name = pack.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let entry = Entry { pack: name, pack_sha256, reason: reason.to_owned(), who, key_id: id, at, verdict: verdict.to_owned(), previous };
    let envelope = Envelope::sign(PAYLOAD_TYPE, &serde_json::to_vec(&entry)?, key)?;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&log).with_context(|| format!("cannot open {}", log.display()))?;
    file.write_all(format!("{}\n", envelope.to_json()).as_bytes()).and_then(|()| file.sync_all()).with_context(|| format!("cannot append to {}", log.display()))?;
    Ok(entry)
}

/// The hash of the log's last line, refusing a log whose last line is torn.
fn last_line_hash(bytes: &[u8], log: &Path) -> Result<Sha256> {
    if bytes.is_empty() {
        return Ok(Sha256([0; 32]));
    }
    if !bytes.ends_with(b"\n") {
        bail!("{} ends in a torn line; move it aside and keep it for the audit, then verify again", log.display());
    }
    let body = &bytes[..bytes.len() - 1];
    let start = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    Ok(Sha256::of(&body[start..]))
}

/// Reads a log back: each entry, checked against the line before it and
/// against its signer's key in `trust`. Returns the entries or the first
/// problem, naming the line.
pub fn read(log: &Path, trust: &TrustRoot) -> Result<Vec<Entry>> {
    let text = std::fs::read(log).with_context(|| format!("cannot read {}", log.display()))?;
    let mut previous = Sha256([0; 32]);
    let mut entries = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).enumerate() {
        let n = i + 1;
        let envelope = Envelope::parse(line).with_context(|| format!("{} line {n}: not a signed entry", log.display()))?;
        let payload = envelope.payload_bytes()?;
        let entry: Entry = serde_json::from_slice(&payload).with_context(|| format!("{} line {n}: not an access entry", log.display()))?;
        if entry.previous != previous {
            bail!("{} line {n}: names {} as the line before it, but that line hashes to {previous}: an entry was removed or changed", log.display(), entry.previous);
        }
        let Some(key) = trust.key(&entry.key_id) else { bail!("{} line {n}: signed by key {}, which the trust root does not list", log.display(), entry.key_id) };
        let signature = envelope.signature_bytes(0)?;
        if key.key.verify(&evidence::dsse::pae(&envelope.payload_type, &payload), &signature).is_err() || envelope.signatures[0].keyid != entry.key_id {
            bail!("{} line {n}: the signature does not verify with key {}", log.display(), entry.key_id);
        }
        previous = Sha256::of(line);
        entries.push(entry);
    }
    Ok(entries)
}
