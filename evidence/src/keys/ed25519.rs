//! Ed25519 keys in PKCS#8 and SPKI, optionally encrypted with PBES2.

use pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, LineEnding};

use super::{KeyError, Passphrase, PublicInner, PublicKey, SecretInner, SecretKey, malformed};

/// The random inputs of private-key encryption, supplied by the caller so the
/// crate draws no randomness of its own.
#[derive(Clone, Copy)]
pub struct EncryptionParams {
    /// scrypt salt.
    pub salt: [u8; 16],
    /// AES-256-CBC initialisation vector.
    pub iv: [u8; 16],
}

impl std::fmt::Debug for EncryptionParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionParams(<redacted>)")
    }
}

/// scrypt cost log2(N) = 14, r = 8, p = 1: the setting OpenSSL 3 accepts
/// within its default memory limit, so `openssl pkey` can open the key.
const SCRYPT_LOG_N: u8 = 14;

pub(super) fn verifying_key_from_spki(der: &[u8]) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|e| malformed("Ed25519 public key", &e.to_string()))
}

pub(super) fn from_signing_key(key: ed25519_dalek::SigningKey) -> Result<SecretKey, KeyError> {
    use pkcs8::EncodePublicKey as _;
    let verifying = key.verifying_key();
    let spki = verifying.to_public_key_der().map_err(|e| crypto("encoding the public key", e))?;
    let public = PublicKey {
        id: super::KeyId::of_spki(spki.as_bytes()),
        spki_der: spki.as_bytes().to_vec(),
        inner: PublicInner::Ed25519(verifying),
    };
    Ok(SecretKey { public, inner: SecretInner::Ed25519(key) })
}

pub(super) fn from_pkcs8_der(der: &[u8]) -> Result<SecretKey, KeyError> {
    let key = ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|e| malformed("Ed25519 private key", &e.to_string()))?;
    from_signing_key(key)
}

pub(super) fn decrypt_pkcs8(der: &[u8], pass: &Passphrase) -> Result<Vec<u8>, KeyError> {
    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der).map_err(|e| malformed("encrypted private key", &e.to_string()))?;
    let doc = info.decrypt(pass.bytes()).map_err(|_| KeyError::Decrypt)?;
    Ok(doc.as_bytes().to_vec())
}

/// RFC 8410 `OneAsymmetricKey` version 1 holding only the 32-byte seed. The
/// version 2 form with the public key, which ed25519-dalek writes, is refused
/// by OpenSSL 3.0, so the plain form is written for interoperability.
fn pkcs8_v1_der(key: &ed25519_dalek::SigningKey) -> Vec<u8> {
    const PREFIX: [u8; 16] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    der
}

pub(super) fn to_pkcs8_pem(key: &ed25519_dalek::SigningKey) -> Result<String, KeyError> {
    let mut der = pkcs8_v1_der(key);
    let pem = super::pem_encode("PRIVATE KEY", &der);
    der.iter_mut().for_each(|b| *b = 0);
    Ok(pem)
}

pub(super) fn to_encrypted_pem(
    key: &ed25519_dalek::SigningKey,
    pass: &Passphrase,
    params: EncryptionParams,
) -> Result<String, KeyError> {
    let mut der = pkcs8_v1_der(key);
    let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice()).map_err(|e| crypto("encoding the private key", e))?;
    let scrypt = pkcs8::pkcs5::scrypt::Params::new(SCRYPT_LOG_N, 8, 1).map_err(|e| crypto("scrypt parameters", e))?;
    let pbes2 = pkcs8::pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(scrypt, &params.salt, params.iv)
        .map_err(|e| crypto("PBES2 parameters", e))?;
    let encrypted = info.encrypt_with_params(pbes2, pass.bytes()).map_err(|e| crypto("encrypting the private key", e));
    der.iter_mut().for_each(|b| *b = 0);
    let encrypted = encrypted?;
    let pem = encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map_err(|e| crypto("encoding the private key", e))?;
    Ok(pem.as_str().to_owned())
}

fn crypto(operation: &'static str, err: impl std::fmt::Display) -> KeyError {
    KeyError::Crypto { operation, detail: err.to_string() }
}
