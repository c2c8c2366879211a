//! The trust root (`trust.toml`): which keys the verifier trusts, for what and
//! when. It always comes from the verifier; a pack records only its digest.
//!
//! ```toml
//! version = 1
//!
//! [[keys]]
//! id = "<sha256 of the key's DER SubjectPublicKeyInfo>"
//! name = "notary"
//! public_key = """
//! -----BEGIN PUBLIC KEY-----
//! ...
//! -----END PUBLIC KEY-----
//! """
//! phases = ["*"]              # phases whose records it may sign
//! predicate_types = ["*"]     # predicate types it may sign
//! seal = true                 # may sign pack manifests and checkpoints
//! kinds = ["command"]         # agent kinds whose outcomes it may attest as a worker
//! valid_from = 2026-01-01T00:00:00Z   # optional
//! valid_until = 2027-01-01T00:00:00Z  # optional
//! identity = "release-bot@example.com" # optional
//!
//! [[revoked]]
//! id = "<key id>"
//! reason = "laptop lost"
//!
//! [roles.cab]
//! threshold = 2
//! keys = ["<key id>", "<key id>", "<key id>"]
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::digest::Sha256;
use crate::keys::{KeyId, PublicKey};
use crate::timestamp::Timestamp;

/// A problem in a trust root, naming the field and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {field}: {problem}")]
pub struct TrustError {
    /// The file the text came from.
    pub source_name: String,
    /// The offending field, such as `keys[1].public_key`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    version: u32,
    #[serde(default)]
    keys: Vec<RawKey>,
    #[serde(default)]
    revoked: Vec<RawRevoked>,
    #[serde(default)]
    roles: BTreeMap<String, RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    id: String,
    name: String,
    public_key: String,
    #[serde(default)]
    phases: Vec<String>,
    #[serde(default)]
    predicate_types: Vec<String>,
    #[serde(default)]
    seal: bool,
    #[serde(default)]
    kinds: Vec<String>,
    valid_from: Option<toml::value::Datetime>,
    valid_until: Option<toml::value::Datetime>,
    identity: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRevoked {
    id: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    threshold: usize,
    keys: Vec<String>,
}

/// A scope list: everything (`["*"]`) or the named items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `*`: any value.
    Any,
    /// Only these values.
    Only(BTreeSet<String>),
}

impl Scope {
    fn from_list(list: Vec<String>) -> Self {
        if list.iter().any(|s| s == "*") { Scope::Any } else { Scope::Only(list.into_iter().collect()) }
    }

    /// Whether `value` is in scope.
    pub fn allows(&self, value: &str) -> bool {
        match self {
            Scope::Any => true,
            Scope::Only(set) => set.contains(value),
        }
    }
}

/// One trusted key and what it may sign.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// A human name.
    pub name: String,
    /// The key.
    pub key: PublicKey,
    /// Phases whose records it may sign.
    pub phases: Scope,
    /// Predicate types it may sign.
    pub predicate_types: Scope,
    /// Whether it may sign pack manifests and checkpoints.
    pub seal: bool,
    /// Agent kinds whose outcomes it may attest as a worker on another host.
    pub kinds: Scope,
    /// Not valid before.
    pub valid_from: Option<Timestamp>,
    /// Not valid after.
    pub valid_until: Option<Timestamp>,
    /// The person or service behind the key.
    pub identity: Option<String>,
}

impl TrustedKey {
    /// Whether `at` falls in the key's validity window.
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.valid_from.is_none_or(|from| at >= from) && self.valid_until.is_none_or(|until| at <= until)
    }
}

/// A role with a k-of-n threshold.
#[derive(Clone, Debug)]
pub struct Role {
    /// How many distinct keys must sign.
    pub threshold: usize,
    /// The keys that may act in the role.
    pub keys: BTreeSet<KeyId>,
}

/// A validated trust root.
#[derive(Clone, Debug)]
pub struct TrustRoot {
    keys: BTreeMap<KeyId, TrustedKey>,
    revoked: BTreeMap<KeyId, String>,
    roles: BTreeMap<String, Role>,
    digest: Sha256,
}

impl TrustRoot {
    /// Parses and validates `text`; `source_name` (usually the file path) is
    /// used in error messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, TrustError> {
        let err = |field: &str, problem: String| TrustError { source_name: source_name.to_owned(), field: field.to_owned(), problem };
        let raw: RawTrust = toml::from_str(text).map_err(|e| err(&toml_location(text, &e), e.message().to_owned()))?;
        if raw.version != 1 {
            return Err(err("version", format!("version {} is not supported; write version = 1", raw.version)));
        }
        let mut keys = BTreeMap::new();
        for (i, raw_key) in raw.keys.into_iter().enumerate() {
            let (id, key) = parse_key(raw_key).map_err(|(field, problem)| err(&format!("keys[{i}].{field}"), problem))?;
            if keys.insert(id.clone(), key).is_some() {
                return Err(err(&format!("keys[{i}].id"), format!("key {id} is listed twice; keep one entry")));
            }
        }
        let mut revoked = BTreeMap::new();
        for (i, r) in raw.revoked.into_iter().enumerate() {
            let id = KeyId::parse(&r.id).map_err(|e| err(&format!("revoked[{i}].id"), e.to_string()))?;
            revoked.insert(id, r.reason);
        }
        let mut roles = BTreeMap::new();
        for (name, role) in raw.roles {
            let role = parse_role(role, &keys).map_err(|(field, problem)| err(&format!("roles.{name}.{field}"), problem))?;
            roles.insert(name, role);
        }
        Ok(Self { keys, revoked, roles, digest: Sha256::of(text.as_bytes()) })
    }

    /// SHA-256 of the trust root's bytes, as a pack records it.
    pub fn digest(&self) -> Sha256 {
        self.digest
    }

    /// The trusted key with `id`, if any (revoked keys included).
    pub fn key(&self, id: &str) -> Option<&TrustedKey> {
        KeyId::parse(id).ok().and_then(|id| self.keys.get(&id))
    }

    /// Why the key was revoked, if it was.
    pub fn revocation(&self, id: &str) -> Option<&str> {
        KeyId::parse(id).ok().and_then(|id| self.revoked.get(&id).map(String::as_str))
    }

    /// A role by name.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    /// Every trusted key.
    pub fn keys(&self) -> impl Iterator<Item = &TrustedKey> {
        self.keys.values()
    }
}

type FieldProblem = (&'static str, String);

fn parse_key(raw: RawKey) -> Result<(KeyId, TrustedKey), FieldProblem> {
    let id = KeyId::parse(&raw.id).map_err(|e| ("id", e.to_string()))?;
    let key = PublicKey::from_pem(&raw.public_key).map_err(|e| ("public_key", format!("{e}; paste the whole .pub file")))?;
    if key.as_ed25519().is_some_and(|vk| vk.is_weak()) {
        return Err(("public_key", "a small-order Ed25519 key verifies forged signatures; generate a new key".into()));
    }
    if key.id() != &id {
        return Err(("id", format!("the id does not match public_key, whose id is {}; copy the id `conductor keygen` printed", key.id())));
    }
    if raw.name.trim().is_empty() {
        return Err(("name", "give the key a name".into()));
    }
    let time = |field: &'static str, value: Option<toml::value::Datetime>| -> Result<Option<Timestamp>, FieldProblem> {
        value
            .map(|v| Timestamp::parse(&v.to_string()).map_err(|e| (field, format!("{e}; include the time and offset"))))
            .transpose()
    };
    let trusted = TrustedKey {
        name: raw.name,
        key,
        phases: Scope::from_list(raw.phases),
        predicate_types: Scope::from_list(raw.predicate_types),
        seal: raw.seal,
        kinds: Scope::from_list(raw.kinds),
        valid_from: time("valid_from", raw.valid_from)?,
        valid_until: time("valid_until", raw.valid_until)?,
        identity: raw.identity,
    };
    if let (Some(from), Some(until)) = (trusted.valid_from, trusted.valid_until)
        && from > until
    {
        return Err(("valid_until", format!("{until} is before valid_from {from}; swap them or fix the dates")));
    }
    Ok((id, trusted))
}

fn parse_role(raw: RawRole, keys: &BTreeMap<KeyId, TrustedKey>) -> Result<Role, FieldProblem> {
    let mut set = BTreeSet::new();
    for text in &raw.keys {
        let id = KeyId::parse(text).map_err(|e| ("keys", e.to_string()))?;
        if !keys.contains_key(&id) {
            return Err(("keys", format!("key {id} is not in [[keys]]; add it there first")));
        }
        set.insert(id);
    }
    if raw.threshold == 0 || raw.threshold > set.len() {
        return Err(("threshold", format!("threshold {} must be between 1 and the {} distinct keys of the role", raw.threshold, set.len())));
    }
    Ok(Role { threshold: raw.threshold, keys: set })
}

/// The line a TOML syntax or type error points at, since toml reports spans, not field paths.
fn toml_location(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => format!("line {}", text.as_bytes()[..span.start.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1),
        None => "document".to_owned(),
    }
}

/// Writes a starter trust root that trusts one key for everything.
pub fn starter(name: &str, key: &PublicKey, identity: Option<&str>) -> String {
    let identity = identity.map(|i| format!("identity = {}\n", toml_string(i))).unwrap_or_default();
    format!(
        "# Trust root for `conductor verify`. The verifier's copy is the authority;\n\
         # a pack records only this file's SHA-256.\nversion = 1\n\n\
         [[keys]]\nid = \"{id}\"\nname = {name}\npublic_key = \"\"\"\n{pem}\"\"\"\n\
         phases = [\"*\"]\npredicate_types = [\"*\"]\nseal = true\n{identity}",
        id = key.id(),
        name = toml_string(name),
        pem = key.to_pem(),
    )
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests;
