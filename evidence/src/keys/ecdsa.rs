//! ECDSA P-256 keys through the sigstore crate, so a cosign user's
//! `cosign.key` works as is and our keys work with `cosign verify-blob`.

use sigstore::crypto::SigningScheme;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::signing_key::ecdsa::{ECDSAKeys, EllipticCurve};

use super::{KeyError, Passphrase, PublicInner, PublicKey, SecretInner, SecretKey};

pub(super) fn verification_key(der: &[u8]) -> Result<sigstore::crypto::CosignVerificationKey, KeyError> {
    sigstore::crypto::CosignVerificationKey::from_der(der, &SigningScheme::ECDSA_P256_SHA256_ASN1)
        .map_err(|e| KeyError::Malformed { what: "ECDSA P-256 public key", detail: e.to_string() })
}

pub(super) fn generate() -> Result<SecretKey, KeyError> {
    let keys = ECDSAKeys::new(EllipticCurve::P256).map_err(|e| crypto("generating an ECDSA key", e))?;
    from_pair(SigStoreKeyPair::ECDSA(keys))
}

pub(super) fn from_pkcs8_der(der: &[u8]) -> Result<SecretKey, KeyError> {
    let keys = ECDSAKeys::from_der(der).map_err(|e| KeyError::Malformed {
        what: "ECDSA private key",
        detail: format!("{e}; only P-256 keys are supported"),
    })?;
    from_pair(SigStoreKeyPair::ECDSA(keys))
}

pub(super) fn from_cosign_pem(pem: &str, pass: &Passphrase) -> Result<SecretKey, KeyError> {
    let pair = SigStoreKeyPair::from_encrypted_pem(pem.as_bytes(), pass.bytes()).map_err(|_| KeyError::Decrypt)?;
    match pair {
        SigStoreKeyPair::ECDSA(ECDSAKeys::P256(_)) => from_pair(pair),
        _ => Err(KeyError::UnsupportedAlgorithm { oid: "cosign key other than ECDSA P-256".into() }),
    }
}

fn from_pair(pair: SigStoreKeyPair) -> Result<SecretKey, KeyError> {
    let spki = pair.public_key_to_der().map_err(|e| crypto("encoding the public key", e))?;
    let public = PublicKey {
        id: super::KeyId::of_spki(&spki),
        inner: PublicInner::EcdsaP256(std::sync::Arc::new(verification_key(&spki)?)),
        spki_der: spki,
    };
    Ok(SecretKey { public, inner: SecretInner::EcdsaP256(pair) })
}

pub(super) fn to_pkcs8_pem(pair: &SigStoreKeyPair) -> Result<String, KeyError> {
    let pem = pair.private_key_to_pem().map_err(|e| crypto("encoding the private key", e))?;
    Ok(pem.as_str().to_owned())
}

pub(super) fn to_cosign_pem(pair: &SigStoreKeyPair, pass: &Passphrase) -> Result<String, KeyError> {
    let pem = pair.private_key_to_encrypted_pem(pass.bytes()).map_err(|e| crypto("encrypting the private key", e))?;
    Ok(pem.as_str().to_owned())
}

pub(super) fn sign(pair: &SigStoreKeyPair, message: &[u8]) -> Result<Vec<u8>, KeyError> {
    let signer = pair
        .to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1)
        .map_err(|e| crypto("preparing the ECDSA signer", e))?;
    signer.sign(message).map_err(|e| crypto("ECDSA signing", e))
}

fn crypto(operation: &'static str, err: impl std::fmt::Display) -> KeyError {
    KeyError::Crypto { operation, detail: err.to_string() }
}
