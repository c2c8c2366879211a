//! C2SP tlog-checkpoint bodies carried in C2SP signed notes, signed with Ed25519.
//!
//! A checkpoint names a log (its origin), a tree size and the RFC 9162 root for
//! that size. The signed-note layer wraps any text ending in a newline with one
//! or more signature lines of the form `— <key name> base64(key id || sig)`.
//! Parsing here is deliberately strict: anything the specifications leave
//! ambiguous is rejected, because an auditor that accepts two spellings of one
//! checkpoint can be shown two different logs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::merkle::Hash;

/// The signed-note signature type byte for plain Ed25519 (C2SP signed-note).
const ED25519_TYPE: u8 = 0x01;

/// The prefix of every signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The most signature lines [`open_note`] accepts. The signed-note spec asks
/// verifiers to cap the count and to accept at least 16; 100 matches the Go
/// reference implementation and bounds the work an untrusted note can cause.
pub const MAX_SIGNATURES: usize = 100;

/// Why a checkpoint body could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    /// The body does not end in a newline.
    #[error(
        "checkpoint body does not end in a newline: end every line, including the last, with \\n"
    )]
    MissingFinalNewline,
    /// The body has fewer than the three mandatory lines.
    #[error(
        "checkpoint body has {lines} lines but needs origin, size and root lines: use the full checkpoint text"
    )]
    TooFewLines {
        /// How many lines the body had.
        lines: usize,
    },
    /// The body contains a control character other than newline.
    #[error(
        "checkpoint line {line} contains control character {code:#04x}: remove it, only newlines may separate lines"
    )]
    ControlCharacter {
        /// The 1-based line number.
        line: usize,
        /// The offending character's code point.
        code: u32,
    },
    /// The origin line is empty.
    #[error(
        "checkpoint origin line is empty: put the log's origin, such as example.com/log, on the first line"
    )]
    EmptyOrigin,
    /// The size line is not a canonical decimal number.
    #[error(
        "checkpoint size {found:?} is not a decimal number without sign or leading zeros: write the tree size like 42"
    )]
    InvalidSize {
        /// The size line as found.
        found: String,
    },
    /// The root line is not standard, padded base64.
    #[error(
        "checkpoint root {found:?} is not standard padded base64: encode the 32-byte root with the standard alphabet"
    )]
    RootNotBase64 {
        /// The root line as found.
        found: String,
    },
    /// The root line decodes to the wrong number of bytes.
    #[error(
        "checkpoint root decodes to {len} bytes but a sha-256 root has 32: put the tree's root hash on the third line"
    )]
    RootWrongLength {
        /// The decoded length.
        len: usize,
    },
    /// The origin or an extension line contains a newline.
    #[error(
        "checkpoint field {field:?} contains a newline: put each extension on its own entry and keep the origin on one line"
    )]
    NewlineInField {
        /// The offending field.
        field: String,
    },
    /// An extension line is empty.
    #[error(
        "checkpoint extension line {line} is empty: drop empty lines, the spec requires extension lines to be non-empty"
    )]
    EmptyExtensionLine {
        /// The 1-based line number.
        line: usize,
    },
}

/// Why a signed note or verifier key could not be produced, parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoteError {
    /// A key name is empty or contains whitespace, a plus or a control character.
    #[error(
        "key name {name:?} is not allowed: use a non-empty name without spaces, '+' or control characters"
    )]
    InvalidKeyName {
        /// The rejected name.
        name: String,
    },
    /// The note text to sign does not end in a newline.
    #[error("note text does not end in a newline: append \\n to the text before signing")]
    TextMissingFinalNewline,
    /// The note contains a control character other than newline.
    #[error(
        "note contains control character {code:#04x} at byte {offset}: remove it, signed notes allow only newlines"
    )]
    ControlCharacter {
        /// Byte offset of the character in the note.
        offset: usize,
        /// The offending character's code point.
        code: u32,
    },
    /// The note has no blank line separating text from signatures.
    #[error(
        "note has no blank line before its signatures: pass the complete signed note, text, blank line and signature lines"
    )]
    MissingSignatureBlock,
    /// The signature block does not end in a newline.
    #[error(
        "note does not end in a newline after its last signature: pass the complete signed note"
    )]
    SignaturesMissingFinalNewline,
    /// A line after the blank line is not a signature line.
    #[error(
        "note line {line:?} is not a signature line of the form \"\u{2014} name base64\": pass the note unmodified"
    )]
    MalformedSignatureLine {
        /// The offending line.
        line: String,
    },
    /// A signature is not standard base64 or is too short to hold a key id.
    #[error(
        "signature by {name:?} is not standard base64 of a key id and a signature: pass the note unmodified"
    )]
    MalformedSignature {
        /// The signer's key name.
        name: String,
    },
    /// The note has more signature lines than [`MAX_SIGNATURES`].
    #[error(
        "note has {count} signature lines, more than the limit of {max}: drop unneeded cosignatures"
    )]
    TooManySignatures {
        /// How many signature lines the note had.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Two different trusted keys share a name and key id.
    #[error(
        "trusted keys contain two different keys named {name:?} with key id {key_id}: remove one of them from the trusted keys"
    )]
    AmbiguousKey {
        /// The shared name.
        name: String,
        /// The shared key id, hex encoded.
        key_id: String,
    },
    /// A trusted key's signature has the wrong length for Ed25519.
    #[error(
        "signature by trusted key {name:?} is {len} bytes but ed25519 signatures are 64: the signature was altered, fetch the note again"
    )]
    SignatureWrongLength {
        /// The signer's key name.
        name: String,
        /// The signature length in bytes, without the key id.
        len: usize,
    },
    /// A trusted key's signature does not verify over the note text.
    #[error(
        "signature by trusted key {name:?} ({key_id}) does not verify: the note text or signature was altered, do not trust this note"
    )]
    SignatureInvalid {
        /// The signer's key name.
        name: String,
        /// The key id, hex encoded.
        key_id: String,
    },
    /// A signature names a trusted key but carries another key id.
    #[error(
        "note is signed by {name:?} with key id {found} but the trusted key {name:?} has id {expected}: check whether the key was rotated and update the trusted key only if the rotation is genuine"
    )]
    KeyIdMismatch {
        /// The signer's key name.
        name: String,
        /// The key id on the signature, hex encoded.
        found: String,
        /// The trusted key's id, hex encoded.
        expected: String,
    },
    /// No signature came from a trusted key.
    #[error(
        "note has no signature from a trusted key (signed by {signers:?}): add the signer's verifier key to the trusted keys if you trust it"
    )]
    NoTrustedSignature {
        /// The key names that did sign, none of them trusted.
        signers: Vec<String>,
    },
    /// A verifier key string is not `name+hexid+base64key`.
    #[error(
        "verifier key {vkey:?} is not of the form name+8 lowercase hex digits+base64 key: copy the whole key string"
    )]
    MalformedVerifierKey {
        /// The rejected key string.
        vkey: String,
    },
    /// A verifier key is for a signature type other than Ed25519.
    #[error(
        "verifier key {name:?} has signature type {found:#04x} but only ed25519 (0x01) is supported: use an ed25519 key"
    )]
    UnsupportedKeyType {
        /// The key name.
        name: String,
        /// The type byte found.
        found: u8,
    },
    /// A verifier key is not a usable Ed25519 public key.
    #[error(
        "verifier key {name:?} is not a valid ed25519 public key: copy the key again from a trusted source"
    )]
    InvalidPublicKey {
        /// The key name.
        name: String,
    },
    /// A verifier key string's key id does not match its name and key.
    #[error(
        "verifier key {name:?} states key id {stated} but its name and key give {computed}: copy the key again from a trusted source"
    )]
    VerifierKeyIdMismatch {
        /// The key name.
        name: String,
        /// The key id written in the string.
        stated: String,
        /// The key id computed from name and key.
        computed: String,
    },
    /// The Ed25519 signer reported a failure.
    #[error("ed25519 signing failed: check that the signing key is intact")]
    SigningFailed,
}

/// A C2SP tlog-checkpoint: the note text a log signs to commit to a tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique identity, such as `example.com/log`.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 9162 root of the tree at `size`.
    pub root: Hash,
    /// Optional opaque extension lines, each non-empty and without newline.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Formats the note text: origin, decimal size, standard base64 root and
    /// any extension lines, each ending in a newline.
    pub fn body(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Checks that [`Checkpoint::body`] would produce text that
    /// [`Checkpoint::parse_body`] accepts, so a log never signs a body its
    /// auditors must reject.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        // A newline inside a field would shift the lines after it instead of
        // failing to parse, so it has to be caught before formatting.
        let mut fields = std::iter::once(&self.origin).chain(&self.extensions);
        if let Some(field) = fields.find(|field| field.contains('\n')) {
            return Err(CheckpointError::NewlineInField {
                field: field.clone(),
            });
        }
        Self::parse_body(&self.body()).map(|_| ())
    }

    /// Parses note text as a checkpoint, rejecting every non-canonical form.
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let content = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = content.split('\n').collect();
        check_line_characters(&lines)?;
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { lines: lines.len() });
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if let Some(index) = extensions.iter().position(|line| line.is_empty()) {
            return Err(CheckpointError::EmptyExtensionLine { line: index + 4 });
        }
        Ok(Checkpoint {
            origin: (*origin).to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
            extensions: extensions.iter().map(|line| (*line).to_owned()).collect(),
        })
    }
}

/// Rejects every control character, DEL and the C1 range included: the note
/// layer only bans ASCII controls, but none of them has a place in an origin,
/// a size, a root or an extension, and they can hide text from a reader.
fn check_line_characters(lines: &[&str]) -> Result<(), CheckpointError> {
    for (index, line) in lines.iter().enumerate() {
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            return Err(CheckpointError::ControlCharacter {
                line: index + 1,
                code: u32::from(c),
            });
        }
    }
    Ok(())
}

/// Accepts only the one canonical spelling of a size, so that a checkpoint's
/// text and its meaning correspond one to one.
fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    let invalid = || CheckpointError::InvalidSize {
        found: line.to_owned(),
    };
    let digits_only = !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (line.len() > 1 && line.starts_with('0')) {
        return Err(invalid());
    }
    line.parse().map_err(|_| invalid())
}

fn parse_root(line: &str) -> Result<Hash, CheckpointError> {
    let bytes = STANDARD
        .decode(line)
        .map_err(|_| CheckpointError::RootNotBase64 {
            found: line.to_owned(),
        })?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| CheckpointError::RootWrongLength { len })
}

/// Returns the C2SP signed-note key id of an Ed25519 key: the first four bytes
/// of SHA-256(name || "\n" || 0x01 || public key).
pub fn note_key_id(name: &str, public_key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519_TYPE]);
    hasher.update(public_key.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Returns the verifier key string `name+hexid+base64(0x01 || key)` that
/// [`NoteVerifier::from_vkey`] reads. The name is not checked here; build a
/// [`NoteVerifier`] with [`NoteVerifier::new`] to validate it.
pub fn verifier_key_string(name: &str, public_key: &VerifyingKey) -> String {
    let mut typed_key = Vec::with_capacity(33);
    typed_key.push(ED25519_TYPE);
    typed_key.extend_from_slice(public_key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(note_key_id(name, public_key)),
        STANDARD.encode(typed_key)
    )
}

/// A trusted Ed25519 note key: the name, key id and public key that signature
/// lines are matched and checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Builds a verifier for `key` under `name`, checking the name and
    /// rejecting weak (small-order) keys that would let forged signatures pass.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        if key.is_weak() {
            return Err(NoteError::InvalidPublicKey {
                name: name.to_owned(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: note_key_id(name, &key),
            key,
        })
    }

    /// Parses a `name+hexid+base64(0x01 || key)` verifier key string and checks
    /// that the stated key id matches the name and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let malformed = || NoteError::MalformedVerifierKey {
            vkey: vkey.to_owned(),
        };
        // The name cannot hold '+' but the base64 key can, so split only twice.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(stated), Some(key64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        check_key_name(name)?;
        let lowercase_hex = stated.len() == 8
            && stated
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !lowercase_hex {
            return Err(malformed());
        }
        let typed_key = STANDARD.decode(key64).map_err(|_| malformed())?;
        let verifier = Self::new(name, decode_typed_key(name, &typed_key)?)?;
        let computed = hex::encode(verifier.key_id);
        if computed != stated {
            return Err(NoteError::VerifierKeyIdMismatch {
                name: name.to_owned(),
                stated: stated.to_owned(),
                computed,
            });
        }
        Ok(verifier)
    }

    /// Returns the key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the four-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// Returns the Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Returns the verifier key string for this key.
    pub fn vkey(&self) -> String {
        verifier_key_string(&self.name, &self.key)
    }
}

fn decode_typed_key(name: &str, typed_key: &[u8]) -> Result<VerifyingKey, NoteError> {
    let invalid = || NoteError::InvalidPublicKey {
        name: name.to_owned(),
    };
    match typed_key.split_first() {
        Some((&ED25519_TYPE, key)) => {
            let bytes: &[u8; 32] = key.try_into().map_err(|_| invalid())?;
            VerifyingKey::from_bytes(bytes).map_err(|_| invalid())
        }
        Some((&found, _)) => Err(NoteError::UnsupportedKeyType {
            name: name.to_owned(),
            found,
        }),
        None => Err(invalid()),
    }
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '+';
    if name.is_empty() || name.chars().any(bad_char) {
        return Err(NoteError::InvalidKeyName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Rejects ASCII control characters other than newline, as the signed-note
/// spec requires of the whole note; UTF-8 validity is already given by `&str`.
fn check_note_characters(text: &str) -> Result<(), NoteError> {
    match text.char_indices().find(|&(_, c)| c < ' ' && c != '\n') {
        Some((offset, c)) => Err(NoteError::ControlCharacter {
            offset,
            code: u32::from(c),
        }),
        None => Ok(()),
    }
}

/// Signs `body` as a C2SP signed note with the Ed25519 key `key` under `name`
/// and returns the body, a blank line and the signature line.
pub fn sign_note(body: &str, name: &str, key: &SigningKey) -> Result<String, NoteError> {
    check_key_name(name)?;
    if !body.ends_with('\n') {
        return Err(NoteError::TextMissingFinalNewline);
    }
    check_note_characters(body)?;
    let signature = key
        .try_sign(body.as_bytes())
        .map_err(|_| NoteError::SigningFailed)?;
    let mut blob = note_key_id(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{body}\n{SIGNATURE_PREFIX}{name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// A note whose signatures were checked by [`open_note`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNote {
    /// The note text, including its final newline.
    pub body: String,
    /// Names of the trusted keys whose signatures verified, in note order,
    /// each listed once.
    pub signed_by: Vec<String>,
}

/// One parsed signature line.
struct SignatureLine<'a> {
    name: &'a str,
    key_id: [u8; 4],
    signature: Vec<u8>,
}

/// Opens a signed note: splits the text from the signatures at the last blank
/// line, checks every signature line's syntax, verifies with `verify_strict`
/// every signature whose name and key id match a trusted verifier, and ignores
/// the rest. Fails if no trusted key signed or any trusted key's signature is
/// bad.
pub fn open_note(note: &str, verifiers: &[NoteVerifier]) -> Result<OpenedNote, NoteError> {
    check_note_characters(note)?;
    // The text keeps its final newline; only the blank line's newline goes.
    let (text, block) = note
        .rsplit_once("\n\n")
        .ok_or(NoteError::MissingSignatureBlock)?;
    let body = format!("{text}\n");
    let lines = parse_signature_block(block)?;
    let mut signed_by: Vec<String> = Vec::new();
    for line in &lines {
        if let Some(verifier) = matching_verifier(line, verifiers)? {
            verify_line(line, verifier, &body)?;
            if !signed_by.iter().any(|name| name == verifier.name()) {
                signed_by.push(verifier.name.clone());
            }
        }
    }
    if signed_by.is_empty() {
        return Err(untrusted_error(&lines, verifiers));
    }
    Ok(OpenedNote { body, signed_by })
}

fn parse_signature_block(block: &str) -> Result<Vec<SignatureLine<'_>>, NoteError> {
    let content = block
        .strip_suffix('\n')
        .ok_or(NoteError::SignaturesMissingFinalNewline)?;
    let count = content.split('\n').count();
    if count > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            count,
            max: MAX_SIGNATURES,
        });
    }
    content.split('\n').map(parse_signature_line).collect()
}

fn parse_signature_line(line: &str) -> Result<SignatureLine<'_>, NoteError> {
    let malformed = || NoteError::MalformedSignatureLine {
        line: line.to_owned(),
    };
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(malformed)?;
    let (name, encoded) = rest.split_once(' ').ok_or_else(malformed)?;
    check_key_name(name)?;
    let bad_signature = || NoteError::MalformedSignature {
        name: name.to_owned(),
    };
    let blob = STANDARD.decode(encoded).map_err(|_| bad_signature())?;
    match blob.split_first_chunk::<4>() {
        Some((key_id, signature)) if !signature.is_empty() => Ok(SignatureLine {
            name,
            key_id: *key_id,
            signature: signature.to_vec(),
        }),
        _ => Err(bad_signature()),
    }
}

/// Finds the trusted verifier a signature line names. Identical duplicates in
/// the trusted list are harmless, but two different keys under the same name
/// and id make the match ambiguous.
fn matching_verifier<'v>(
    line: &SignatureLine<'_>,
    verifiers: &'v [NoteVerifier],
) -> Result<Option<&'v NoteVerifier>, NoteError> {
    let mut matches = verifiers
        .iter()
        .filter(|v| v.name == line.name && v.key_id == line.key_id);
    let first = matches.next();
    if let Some(found) = first
        && matches.any(|other| other.key != found.key) {
            return Err(NoteError::AmbiguousKey {
                name: line.name.to_owned(),
                key_id: hex::encode(line.key_id),
            });
        }
    Ok(first)
}

fn verify_line(
    line: &SignatureLine<'_>,
    verifier: &NoteVerifier,
    body: &str,
) -> Result<(), NoteError> {
    let bytes: &[u8; 64] =
        line.signature
            .as_slice()
            .try_into()
            .map_err(|_| NoteError::SignatureWrongLength {
                name: line.name.to_owned(),
                len: line.signature.len(),
            })?;
    verifier
        .key
        .verify_strict(body.as_bytes(), &Signature::from_bytes(bytes))
        .map_err(|_| NoteError::SignatureInvalid {
            name: line.name.to_owned(),
            key_id: hex::encode(line.key_id),
        })
}

/// Explains why no trusted key signed: a signature under a trusted name but
/// another key id is still ignored, as the spec demands, yet it usually means a
/// key rotation, which deserves its own message.
fn untrusted_error(lines: &[SignatureLine<'_>], verifiers: &[NoteVerifier]) -> NoteError {
    for line in lines {
        if let Some(known) = verifiers.iter().find(|v| v.name == line.name) {
            return NoteError::KeyIdMismatch {
                name: line.name.to_owned(),
                found: hex::encode(line.key_id),
                expected: hex::encode(known.key_id),
            };
        }
    }
    NoteError::NoTrustedSignature {
        signers: lines.iter().map(|line| line.name.to_owned()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    /// golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestOpen).
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    /// golang.org/x/mod sumdb/note/note_test.go (TestNewSigner, TestSign): the
    /// private key string, whose payload is 0x01 || 32-byte Ed25519 seed.
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    /// golang.org/x/mod sumdb/note/note_test.go (TestVerifierList, TestOpen).
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    /// The note text signed in golang.org/x/mod sumdb/note/note_test.go.
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    /// TestSign's expected signature line and TestOpen's `peterSig`.
    const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    /// TestOpen's `enochSig`.
    const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
    /// golang.org/x/mod sumdb/tlog/note_test.go TestFormatTree: a tree of size
    /// 123456789012 whose root is the RFC 6962 leaf hash of "hello world".
    const GO_TREE: &str =
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";

    fn peter() -> NoteVerifier {
        NoteVerifier::from_vkey(PETER_VKEY).expect("published key parses")
    }

    fn enoch() -> NoteVerifier {
        NoteVerifier::from_vkey(ENOCH_VKEY).expect("published key parses")
    }

    fn peter_signing_key() -> SigningKey {
        // The layout is PRIVATE+KEY+name+hexid+base64, and the base64 may itself hold '+'.
        let encoded = PETER_SKEY
            .splitn(5, '+')
            .nth(4)
            .expect("key string has five fields");
        let typed = STANDARD.decode(encoded).expect("published key is base64");
        let (kind, seed) = typed.split_first().expect("key is not empty");
        assert_eq!(*kind, ED25519_TYPE);
        SigningKey::from_bytes(seed.try_into().expect("seed is 32 bytes"))
    }

    fn golden_note() -> String {
        format!("{TEXT}\n{PETER_SIG}")
    }

    fn test_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn published_verifier_key_parses_and_round_trips() {
        let verifier = peter();
        assert_eq!(verifier.name(), "PeterNeumann");
        assert_eq!(hex::encode(verifier.key_id()), "c74f20a3");
        assert_eq!(verifier.vkey(), PETER_VKEY);
        assert_eq!(
            verifier_key_string("PeterNeumann", verifier.verifying_key()),
            PETER_VKEY
        );
        assert_eq!(
            note_key_id("PeterNeumann", verifier.verifying_key()),
            [0xc7, 0x4f, 0x20, 0xa3]
        );
        assert_eq!(hex::encode(enoch().key_id()), "af0cfe78");
    }

    #[test]
    fn published_private_key_matches_public_key() {
        assert_eq!(
            peter_signing_key().verifying_key(),
            *peter().verifying_key()
        );
    }

    #[test]
    fn signing_reproduces_the_published_note_byte_for_byte() {
        // Ed25519 is deterministic, so our signature must equal Go's.
        let note = sign_note(TEXT, "PeterNeumann", &peter_signing_key()).expect("signs");
        assert_eq!(note, golden_note());
    }

    #[test]
    fn published_note_opens() {
        let opened = open_note(&golden_note(), &[peter()]).expect("golden note verifies");
        assert_eq!(opened.body, TEXT);
        assert_eq!(opened.signed_by, vec!["PeterNeumann".to_owned()]);
    }

    #[test]
    fn unknown_signers_are_ignored_and_known_ones_all_verified() {
        let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        let opened = open_note(&both, &[peter()]).expect("peter verifies");
        assert_eq!(opened.signed_by, vec!["PeterNeumann".to_owned()]);
        let opened = open_note(&both, &[enoch(), peter()]).expect("both verify");
        assert_eq!(
            opened.signed_by,
            vec!["PeterNeumann".to_owned(), "EnochRoot".to_owned()]
        );
        // Repeated signatures and repeated identical verifiers are harmless.
        let twice = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}");
        let opened = open_note(&twice, &[peter(), peter()]).expect("verifies");
        assert_eq!(opened.signed_by, vec!["PeterNeumann".to_owned()]);
    }

    #[test]
    fn tampered_body_fails() {
        let note = golden_note().replacen("cryptography", "cryptographY", 1);
        assert_eq!(
            open_note(&note, &[peter()]),
            Err(NoteError::SignatureInvalid {
                name: "PeterNeumann".into(),
                key_id: "c74f20a3".into()
            })
        );
    }

    #[test]
    fn tampered_signature_fails() {
        // Go's TestOpen inserts "ABCD" into the base64, adding three bytes.
        let (head, tail) = PETER_SIG.split_at(60);
        let note = format!("{TEXT}\n{head}ABCD{tail}");
        assert_eq!(
            open_note(&note, &[peter()]),
            Err(NoteError::SignatureWrongLength {
                name: "PeterNeumann".into(),
                len: 67
            })
        );
        // A same-length change to the signature cannot be told apart from a
        // changed body: both simply fail to verify.
        let note = golden_note().replacen("RyyBwJnAM=", "RyyBwJnAA=", 1);
        assert!(matches!(
            open_note(&note, &[peter()]),
            Err(NoteError::SignatureInvalid { .. })
        ));
    }

    #[test]
    fn wrong_key_id_fails() {
        // "x08g" encodes the key id's first bytes; Go's test swaps it the same way.
        let note = golden_note().replacen("x08g", "xxxx", 1);
        let err =
            open_note(&note, &[peter()]).expect_err("wrong id is ignored, so nothing verifies");
        assert!(
            matches!(err, NoteError::KeyIdMismatch { ref name, ref expected, .. }
            if name == "PeterNeumann" && expected == "c74f20a3")
        );
    }

    #[test]
    fn unknown_signer_fails() {
        assert_eq!(
            open_note(&format!("{TEXT}\n{ENOCH_SIG}"), &[peter()]),
            Err(NoteError::NoTrustedSignature {
                signers: vec!["EnochRoot".into()]
            })
        );
        let renamed = golden_note().replace("PeterNeumann", "CarmenSandiego");
        assert_eq!(
            open_note(&renamed, &[peter()]),
            Err(NoteError::NoTrustedSignature {
                signers: vec!["CarmenSandiego".into()]
            })
        );
        assert!(matches!(
            open_note(&golden_note(), &[]),
            Err(NoteError::NoTrustedSignature { .. })
        ));
    }

    #[test]
    fn bad_signature_from_a_known_key_rejects_the_whole_note() {
        // Enoch's signature is altered but Peter's is good: still rejected.
        let (head, tail) = ENOCH_SIG.split_at(60);
        let note = format!("{TEXT}\n{PETER_SIG}{head}ABCD{tail}");
        assert!(matches!(
            open_note(&note, &[peter(), enoch()]),
            Err(NoteError::SignatureWrongLength { .. })
        ));
        // Unless that key is not trusted, in which case it is ignored.
        assert!(open_note(&note, &[peter()]).is_ok());
    }

    #[test]
    fn malformed_notes_are_rejected() {
        let cases: Vec<(String, NoteError)> = vec![
            (TEXT.to_owned(), NoteError::MissingSignatureBlock),
            (
                format!("{TEXT}\n"),
                NoteError::SignaturesMissingFinalNewline,
            ),
            (
                format!("{TEXT}\n{}", PETER_SIG.trim_end_matches('\n')),
                NoteError::SignaturesMissingFinalNewline,
            ),
            (
                format!("\x01{TEXT}\n{PETER_SIG}"),
                NoteError::ControlCharacter { offset: 0, code: 1 },
            ),
            (
                format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
                NoteError::MalformedSignatureLine {
                    line: "Unexpected line.".into(),
                },
            ),
            (
                format!("{TEXT}\n\u{2014} Bad Name x08go/ZJku\n"),
                NoteError::MalformedSignature { name: "Bad".into() },
            ),
            (
                format!("{TEXT}\n\u{2014} a+b x08go/ZJku\n"),
                NoteError::InvalidKeyName { name: "a+b".into() },
            ),
            (
                format!("{TEXT}\n\u{2014} PeterNeumann x08g\n"),
                NoteError::MalformedSignature {
                    name: "PeterNeumann".into(),
                },
            ),
            (
                format!("{TEXT}\n- PeterNeumann x08go/ZJku\n"),
                NoteError::MalformedSignatureLine {
                    line: "- PeterNeumann x08go/ZJku".into(),
                },
            ),
            (
                format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1)),
                NoteError::TooManySignatures {
                    count: 101,
                    max: 100,
                },
            ),
        ];
        for (note, want) in cases {
            assert_eq!(open_note(&note, &[peter()]), Err(want), "note {note:?}");
        }
        // Exactly the limit is accepted.
        let at_limit = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES));
        assert!(open_note(&at_limit, &[peter()]).is_ok());
    }

    #[test]
    fn body_with_blank_lines_splits_at_the_last_one() {
        let key = test_key(7);
        let verifier = NoteVerifier::new("example.com/log", key.verifying_key()).expect("valid");
        let body = "first\n\nthird\n";
        let note = sign_note(body, "example.com/log", &key).expect("signs");
        assert_eq!(
            open_note(&note, &[verifier]).map(|n| n.body),
            Ok(body.to_owned())
        );
    }

    #[test]
    fn ambiguous_trusted_keys_are_reported() {
        // Two different keys cannot share a name and id by accident; forge the
        // collision by hand to exercise the check.
        let mut impostor =
            NoteVerifier::new("PeterNeumann", test_key(9).verifying_key()).expect("valid");
        impostor.key_id = peter().key_id();
        assert_eq!(
            open_note(&golden_note(), &[peter(), impostor]),
            Err(NoteError::AmbiguousKey {
                name: "PeterNeumann".into(),
                key_id: "c74f20a3".into()
            })
        );
    }

    #[test]
    fn sign_open_round_trip_with_a_checkpoint() {
        let key = test_key(42);
        let name = "example.com/evidence";
        let vkey = verifier_key_string(name, &key.verifying_key());
        let verifier = NoteVerifier::from_vkey(&vkey).expect("own key string parses");
        let checkpoint = Checkpoint {
            origin: name.to_owned(),
            size: 3,
            root: leaf_hash(b"root"),
            extensions: vec!["note: ext".to_owned()],
        };
        checkpoint.validate().expect("well formed");
        let note = sign_note(&checkpoint.body(), name, &key).expect("signs");
        let opened = open_note(&note, &[verifier]).expect("verifies");
        assert_eq!(opened.signed_by, vec![name.to_owned()]);
        assert_eq!(Checkpoint::parse_body(&opened.body), Ok(checkpoint));
    }

    #[test]
    fn sign_rejects_bad_input() {
        let key = test_key(1);
        assert_eq!(
            sign_note("abc", "name", &key),
            Err(NoteError::TextMissingFinalNewline)
        );
        assert_eq!(
            sign_note("a\tb\n", "name", &key),
            Err(NoteError::ControlCharacter { offset: 1, code: 9 })
        );
        for name in ["", "a b", "a+b", "a\u{00a0}b", "a\nb"] {
            assert_eq!(
                sign_note("text\n", name, &key),
                Err(NoteError::InvalidKeyName {
                    name: name.to_owned()
                })
            );
        }
    }

    #[test]
    fn verifier_key_strings_are_checked() {
        assert!(matches!(
            NoteVerifier::from_vkey(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(NoteError::VerifierKeyIdMismatch { .. })
        ));
        // Go's wrong-length key: its base64 ends in stray low bits, which the
        // strict decoder here already refuses.
        assert!(matches!(
            NoteVerifier::from_vkey(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            ),
            Err(NoteError::MalformedVerifierKey { .. })
        ));
        let short_key = STANDARD.encode([[ED25519_TYPE].as_slice(), &[7u8; 31]].concat());
        assert_eq!(
            NoteVerifier::from_vkey(&format!("PeterNeumann+c74f20a3+{short_key}")),
            Err(NoteError::InvalidPublicKey {
                name: "PeterNeumann".into()
            })
        );
        // Go's unknown signature type, with a key id adjusted to match.
        assert!(matches!(
            NoteVerifier::from_vkey(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(NoteError::UnsupportedKeyType { found: 0x65, .. })
        ));
        assert!(matches!(
            NoteVerifier::from_vkey(
                "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(NoteError::MalformedVerifierKey { .. })
        ));
        // As in Go's TestNewVerifier: every proper substring and every
        // single-byte increment of the key string is rejected.
        let bytes = PETER_VKEY.as_bytes();
        for i in 0..=bytes.len() {
            for j in i + 1..=bytes.len() {
                if (i, j) != (0, bytes.len()) {
                    let part = std::str::from_utf8(&bytes[i..j]).expect("ascii");
                    assert!(NoteVerifier::from_vkey(part).is_err(), "{part}");
                }
            }
        }
        for i in 0..bytes.len() {
            let mut changed = bytes.to_vec();
            changed[i] += 1;
            let text = String::from_utf8(changed).expect("ascii");
            assert!(NoteVerifier::from_vkey(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point is a small-order key that verifies forged signatures.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).expect("decodes as a point");
        assert_eq!(
            NoteVerifier::new("weak", weak),
            Err(NoteError::InvalidPublicKey {
                name: "weak".into()
            })
        );
    }

    #[test]
    fn checkpoint_golden_body_from_go_sumdb() {
        let checkpoint = Checkpoint::parse_body(GO_TREE).expect("golden body parses");
        assert_eq!(checkpoint.origin, "go.sum database tree");
        assert_eq!(checkpoint.size, 123_456_789_012);
        assert_eq!(checkpoint.root, leaf_hash(b"hello world"));
        assert!(checkpoint.extensions.is_empty());
        assert_eq!(checkpoint.body(), GO_TREE);
    }

    #[test]
    fn checkpoint_round_trips() {
        let bodies = [
            "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
            "o\n18446744073709551615\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\nextension one\n\u{2014} two\n",
        ];
        for body in bodies {
            let parsed = Checkpoint::parse_body(body).expect("valid body");
            assert_eq!(parsed.body(), body);
            parsed.validate().expect("valid");
        }
    }

    #[test]
    fn malformed_checkpoints_are_rejected() {
        let root = "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=";
        let cases: Vec<(String, CheckpointError)> = vec![
            (
                format!("o\n1\n{root}"),
                CheckpointError::MissingFinalNewline,
            ),
            (
                "o\n1\n".to_owned(),
                CheckpointError::TooFewLines { lines: 2 },
            ),
            (format!("\n1\n{root}\n"), CheckpointError::EmptyOrigin),
            (
                format!("o\n01\n{root}\n"),
                CheckpointError::InvalidSize { found: "01".into() },
            ),
            (
                format!("o\n+1\n{root}\n"),
                CheckpointError::InvalidSize { found: "+1".into() },
            ),
            (
                format!("o\n-1\n{root}\n"),
                CheckpointError::InvalidSize { found: "-1".into() },
            ),
            (
                format!("o\n\n{root}\n"),
                CheckpointError::InvalidSize {
                    found: String::new(),
                },
            ),
            (
                format!("o\n0xabcdef\n{root}\n"),
                CheckpointError::InvalidSize {
                    found: "0xabcdef".into(),
                },
            ),
            (
                format!("o\n18446744073709551616\n{root}\n"),
                CheckpointError::InvalidSize {
                    found: "18446744073709551616".into(),
                },
            ),
            (
                // Go's bad tree: its last symbol has stray low bits, which
                // standard base64 as used here treats as not canonical.
                "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n".to_owned(),
                CheckpointError::RootNotBase64 {
                    found: "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=".into(),
                },
            ),
            (
                "o\n1\nTszzRgjTG6xce-z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n".to_owned(),
                CheckpointError::RootNotBase64 {
                    found: "TszzRgjTG6xce-z2AG31kAXYKBgQVtCSCE40HmuwBb0=".into(),
                },
            ),
            (
                "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0\n".to_owned(),
                CheckpointError::RootNotBase64 {
                    found: "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0".into(),
                },
            ),
            (
                "o\n1\nAAAA\n".to_owned(),
                CheckpointError::RootWrongLength { len: 3 },
            ),
            (
                format!("o\n1\n{root}\n\n"),
                CheckpointError::EmptyExtensionLine { line: 4 },
            ),
            (
                format!("o\n1\n{root}\next\n\nmore\n"),
                CheckpointError::EmptyExtensionLine { line: 5 },
            ),
            (
                format!("o\r\n1\n{root}\n"),
                CheckpointError::ControlCharacter { line: 1, code: 13 },
            ),
        ];
        for (body, want) in cases {
            assert_eq!(Checkpoint::parse_body(&body), Err(want), "body {body:?}");
        }
    }

    #[test]
    fn validate_catches_fields_that_would_not_round_trip() {
        let good = Checkpoint::parse_body(GO_TREE).expect("valid");
        let mut split_origin = good.clone();
        split_origin.origin = "a\nb".to_owned();
        assert_eq!(
            split_origin.validate(),
            Err(CheckpointError::NewlineInField {
                field: "a\nb".into()
            })
        );
        let mut empty_extension = good.clone();
        empty_extension.extensions = vec![String::new()];
        assert_eq!(
            empty_extension.validate(),
            Err(CheckpointError::EmptyExtensionLine { line: 4 })
        );
        let mut newline_extension = good;
        newline_extension.extensions = vec!["a\nb".to_owned()];
        assert!(newline_extension.validate().is_err());
    }

    #[test]
    fn error_messages_are_lowercase_and_say_what_to_do() {
        let samples: Vec<String> = vec![
            CheckpointError::MissingFinalNewline.to_string(),
            CheckpointError::InvalidSize { found: "01".into() }.to_string(),
            NoteError::MissingSignatureBlock.to_string(),
            NoteError::NoTrustedSignature {
                signers: vec!["x".into()],
            }
            .to_string(),
            NoteError::KeyIdMismatch {
                name: "n".into(),
                found: "00".into(),
                expected: "11".into(),
            }
            .to_string(),
        ];
        for text in samples {
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
            assert!(text.contains(':'), "{text}");
        }
    }
}
