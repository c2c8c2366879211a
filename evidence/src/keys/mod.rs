//! Signing keys and public keys: Ed25519 (PKCS#8 / SPKI PEM) and ECDSA P-256
//! in the cosign key format.
//!
//! A key is named by its [`KeyId`]: the SHA-256 of its DER SubjectPublicKeyInfo,
//! so anyone holding the `.pub` file can compute it with openssl and sha256sum.

mod ecdsa;
mod ed25519;
mod stream;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;

pub use ed25519::EncryptionParams;
pub use stream::StreamVerifier;

/// The signature algorithms the format accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), the default.
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256, DER signatures (cosign's scheme).
    EcdsaP256,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
        })
    }
}

/// The id of a key: lowercase hex SHA-256 of its DER SubjectPublicKeyInfo.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// The id of the key whose SubjectPublicKeyInfo DER is `spki_der`.
    pub fn of_spki(spki_der: &[u8]) -> Self {
        Self(Sha256::of(spki_der).to_hex())
    }

    /// Accepts 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        Sha256::from_hex(text).map_err(|_| KeyError::BadKeyId { value: text.chars().take(80).collect() })?;
        Ok(Self(text.to_owned()))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", &self.0)
    }
}

/// A passphrase for an encrypted private key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Passphrase(String);

impl Passphrase {
    /// Wraps `text`; an empty passphrase is refused because it protects nothing.
    pub fn new(text: String) -> Result<Self, KeyError> {
        if text.is_empty() {
            return Err(KeyError::EmptyPassphrase);
        }
        Ok(Self(text))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

impl Drop for Passphrase {
    fn drop(&mut self) {
        // Overwrite the bytes so the passphrase does not linger in freed memory.
        let bytes = std::mem::take(&mut self.0).into_bytes();
        let mut bytes = bytes;
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// Why a key could not be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM text has no block this format knows.
    #[error("no key found: expected a PEM block labelled {expected}, found {found}")]
    UnknownPem {
        /// The labels accepted here.
        expected: &'static str,
        /// What the text held instead.
        found: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted; set CONDUCTOR_KEY_PASSPHRASE or run on a terminal to be asked")]
    PassphraseRequired,
    /// Decryption failed: wrong passphrase or a damaged file.
    #[error("cannot decrypt the private key: wrong passphrase or damaged key file")]
    Decrypt,
    /// An empty passphrase was offered.
    #[error("the passphrase is empty; choose a non-empty passphrase or pass --no-encrypt")]
    EmptyPassphrase,
    /// The DER or PEM structure is malformed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which structure.
        what: &'static str,
        /// The parser's explanation.
        detail: String,
    },
    /// The key uses an algorithm other than Ed25519 or ECDSA P-256.
    #[error("unsupported key algorithm {oid}; use an Ed25519 or ECDSA P-256 key")]
    UnsupportedAlgorithm {
        /// The algorithm's object identifier.
        oid: String,
    },
    /// A key id is not 64 hex digits.
    #[error("'{value}' is not a key id; expected 64 lowercase hex digits (the SHA-256 of the public key's DER)")]
    BadKeyId {
        /// The rejected text.
        value: String,
    },
    /// The message to sign could not be read.
    #[error("cannot read the message to sign: {error}")]
    Read {
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The underlying crypto library failed.
    #[error("{operation} failed: {detail}")]
    Crypto {
        /// What was being done.
        operation: &'static str,
        /// The library's explanation.
        detail: String,
    },
}

/// A signature that does not verify.
#[derive(Debug, thiserror::Error)]
#[error("signature does not verify with key {key_id}")]
pub struct SignatureError {
    /// The key it was checked against.
    pub key_id: KeyId,
}

/// A public key able to verify signatures.
#[derive(Clone)]
pub struct PublicKey {
    id: KeyId,
    spki_der: Vec<u8>,
    inner: PublicInner,
}

#[derive(Clone)]
enum PublicInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(std::sync::Arc<sigstore::crypto::CosignVerificationKey>),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} {})", self.algorithm(), self.id)
    }
}

const ED25519_OID: &str = "1.3.101.112";
const EC_PUBLIC_KEY_OID: &str = "1.2.840.10045.2.1";

impl PublicKey {
    /// Reads an SPKI PEM (`-----BEGIN PUBLIC KEY-----`) of either algorithm.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_block(pem)?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::UnknownPem { expected: "PUBLIC KEY", found: label });
        }
        Self::from_spki_der(&der)
    }

    /// Reads a DER SubjectPublicKeyInfo of either algorithm.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let oid = spki_algorithm(der)?;
        let inner = match oid.as_str() {
            ED25519_OID => PublicInner::Ed25519(ed25519::verifying_key_from_spki(der)?),
            EC_PUBLIC_KEY_OID => PublicInner::EcdsaP256(std::sync::Arc::new(ecdsa::verification_key(der)?)),
            _ => return Err(KeyError::UnsupportedAlgorithm { oid }),
        };
        Ok(Self { id: KeyId::of_spki(der), spki_der: der.to_vec(), inner })
    }

    /// The key id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            PublicInner::Ed25519(_) => Algorithm::Ed25519,
            PublicInner::EcdsaP256(_) => Algorithm::EcdsaP256,
        }
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// SPKI PEM text, as openssl and cosign read it.
    pub fn to_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.spki_der)
    }

    /// The Ed25519 key, when this is one (checkpoints and batch verification need it).
    pub fn as_ed25519(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match &self.inner {
            PublicInner::Ed25519(key) => Some(key),
            PublicInner::EcdsaP256(_) => None,
        }
    }

    /// Checks `signature` over `message`. Ed25519 uses the strict check
    /// (no small-order keys, canonical `S`).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let bad = || SignatureError { key_id: self.id.clone() };
        match &self.inner {
            PublicInner::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
                key.verify_strict(message, &sig).map_err(|_| bad())
            }
            PublicInner::EcdsaP256(key) => key
                .verify_signature(sigstore::crypto::Signature::Raw(signature), message)
                .map_err(|_| bad()),
        }
    }
}

/// A private key able to sign. Its `Debug` shows only the key id.
pub struct SecretKey {
    public: PublicKey,
    inner: SecretInner,
}

enum SecretInner {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256(sigstore::crypto::signing_key::SigStoreKeyPair),
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({} {}, <redacted>)", self.public.algorithm(), self.public.id)
    }
}

impl SecretKey {
    /// An Ed25519 key from 32 secret random bytes supplied by the caller.
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        ed25519::from_signing_key(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// A fresh ECDSA P-256 key. The cosign implementation draws its own
    /// randomness from the operating system.
    pub fn generate_ecdsa_p256() -> Result<Self, KeyError> {
        ecdsa::generate()
    }

    /// Reads a private key PEM: PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`)
    /// or cosign (`ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN PRIVATE KEY`).
    pub fn from_pem(pem: &str, passphrase: Option<&Passphrase>) -> Result<Self, KeyError> {
        let (label, der) = pem_block(pem)?;
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "ENCRYPTED PRIVATE KEY" => {
                let pass = passphrase.ok_or(KeyError::PassphraseRequired)?;
                Self::from_pkcs8_der(&ed25519::decrypt_pkcs8(&der, pass)?)
            }
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => {
                let pass = passphrase.ok_or(KeyError::PassphraseRequired)?;
                ecdsa::from_cosign_pem(pem, pass)
            }
            _ => Err(KeyError::UnknownPem {
                expected: "PRIVATE KEY, ENCRYPTED PRIVATE KEY or ENCRYPTED SIGSTORE PRIVATE KEY",
                found: label,
            }),
        }
    }

    /// Whether a PEM private key needs a passphrase to open.
    pub fn pem_is_encrypted(pem: &str) -> bool {
        pem.contains("-----BEGIN ENCRYPTED")
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let oid = pkcs8_algorithm(der)?;
        match oid.as_str() {
            ED25519_OID => ed25519::from_pkcs8_der(der),
            EC_PUBLIC_KEY_OID => ecdsa::from_pkcs8_der(der),
            _ => Err(KeyError::UnsupportedAlgorithm { oid }),
        }
    }

    /// Writes the private key as PEM. Ed25519 keys are PKCS#8 (encrypted with
    /// PBES2 scrypt + AES-256-CBC when a passphrase is given); ECDSA keys use
    /// the cosign format when encrypted and PKCS#8 otherwise.
    pub fn to_pem(&self, encryption: Option<(&Passphrase, EncryptionParams)>) -> Result<String, KeyError> {
        match (&self.inner, encryption) {
            (SecretInner::Ed25519(key), None) => ed25519::to_pkcs8_pem(key),
            (SecretInner::Ed25519(key), Some((pass, params))) => ed25519::to_encrypted_pem(key, pass, params),
            (SecretInner::EcdsaP256(pair), None) => ecdsa::to_pkcs8_pem(pair),
            (SecretInner::EcdsaP256(pair), Some((pass, _))) => ecdsa::to_cosign_pem(pair, pass),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key id.
    pub fn id(&self) -> &KeyId {
        self.public.id()
    }

    /// The Ed25519 signing key, when this is one (checkpoint notes need it).
    pub fn as_ed25519(&self) -> Option<&ed25519_dalek::SigningKey> {
        match &self.inner {
            SecretInner::Ed25519(key) => Some(key),
            SecretInner::EcdsaP256(_) => None,
        }
    }

    /// Signs `message`: raw 64-byte Ed25519, or DER ECDSA over SHA-256.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            SecretInner::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                Ok(key.sign(message).to_bytes().to_vec())
            }
            SecretInner::EcdsaP256(pair) => ecdsa::sign(pair, message),
        }
    }
}

/// Splits one PEM block into its label and DER bytes.
fn pem_block(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    let begin = text.find("-----BEGIN ").ok_or_else(|| KeyError::UnknownPem {
        expected: "a PEM block",
        found: "no '-----BEGIN' line".into(),
    })?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or_else(|| malformed("PEM", "unterminated BEGIN line"))?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    // Look for the END line only after the BEGIN line: in `-----BEGIN X--------END X-----`
    // the END marker overlaps the BEGIN line's dashes and would end before the body starts.
    let after_begin = &rest[body_start..];
    let body_len = after_begin.find(&end_marker).ok_or_else(|| malformed("PEM", "missing END line"))?;
    let body: String = after_begin[..body_len].chars().filter(|c| !c.is_whitespace()).collect();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| malformed("PEM", &e.to_string()))?;
    Ok((label, der))
}

/// Encodes DER as a PEM block with 64-column lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so any chunk boundary is a char boundary.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn malformed(what: &'static str, detail: &str) -> KeyError {
    KeyError::Malformed { what, detail: detail.to_owned() }
}

fn spki_algorithm(der: &[u8]) -> Result<String, KeyError> {
    use pkcs8::der::Decode as _;
    let spki = pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| malformed("public key", &e.to_string()))?;
    Ok(spki.algorithm.oid.to_string())
}

fn pkcs8_algorithm(der: &[u8]) -> Result<String, KeyError> {
    let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|e| malformed("private key", &e.to_string()))?;
    Ok(info.algorithm.oid.to_string())
}

#[cfg(test)]
mod tests;
