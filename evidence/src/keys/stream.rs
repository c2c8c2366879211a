//! Signing and verifying messages read piece by piece, for release artifacts
//! too large to hold in memory. The signatures are the ordinary ones: pure
//! Ed25519 over the whole message, and ECDSA P-256 (DER) over its SHA-256, so
//! `openssl pkeyutl -rawin`, `openssl dgst -sha256` and `cosign verify-blob`
//! check them as they would any other.

use std::cell::RefCell;
use std::io::{self, Read, Seek, SeekFrom};

use aws_lc_rs::digest::{Context, SHA256};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, UnparsedPublicKey};
use sigstore::crypto::signing_key::SigStoreKeyPair;

use super::{KeyError, PublicInner, PublicKey, SecretInner, SecretKey, SignatureError};

/// Bytes read at a time.
const CHUNK: usize = 64 * 1024;

impl SecretKey {
    /// Signs every byte `message` holds from its start, the same signature
    /// [`SecretKey::sign`] makes over those bytes in memory. Ed25519 reads the
    /// message twice (RFC 8032 hashes it once for the nonce and once for the
    /// challenge); a message that changes between the two reads gives a
    /// signature that does not verify.
    pub fn sign_reader(&self, message: &mut (impl Read + Seek)) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            SecretInner::Ed25519(key) => sign_ed25519(key, message),
            SecretInner::EcdsaP256(pair) => sign_ecdsa(pair, message),
        }
    }
}

fn sign_ed25519(key: &ed25519_dalek::SigningKey, message: &mut (impl Read + Seek)) -> Result<Vec<u8>, KeyError> {
    use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};
    use sha2::Digest as _;
    // Expanded from the seed exactly as `SigningKey::sign` does, so both give
    // the same deterministic signature.
    let expanded = ExpandedSecretKey::from(&key.to_bytes());
    let message = RefCell::new(message);
    let failure = RefCell::new(None);
    let update = |digest: &mut sha2::Sha512| {
        let mut reader = message.borrow_mut();
        let read = reader.seek(SeekFrom::Start(0)).and_then(|_| feed(&mut **reader, |chunk| digest.update(chunk)));
        read.map_err(|error| {
            *failure.borrow_mut() = Some(error);
            ed25519_dalek::SignatureError::new()
        })
    };
    match raw_sign_byupdate::<sha2::Sha512, _>(&expanded, update, &key.verifying_key()) {
        Ok(signature) => Ok(signature.to_bytes().to_vec()),
        Err(e) => Err(match failure.into_inner() {
            Some(error) => KeyError::Read { error },
            None => KeyError::Crypto { operation: "Ed25519 signing", detail: e.to_string() },
        }),
    }
}

fn sign_ecdsa(pair: &SigStoreKeyPair, message: &mut impl Read) -> Result<Vec<u8>, KeyError> {
    let crypto = |operation, detail: String| KeyError::Crypto { operation, detail };
    let der = pair.private_key_to_der().map_err(|e| crypto("exporting the ECDSA key", e.to_string()))?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der).map_err(|e| crypto("loading the ECDSA key", e.to_string()))?;
    let mut context = Context::new(&SHA256);
    feed(message, |chunk| context.update(chunk)).map_err(|error| KeyError::Read { error })?;
    let signature = key.sign_digest(&context.finish()).map_err(|e| crypto("ECDSA signing", e.to_string()))?;
    Ok(signature.as_ref().to_vec())
}

/// Reads `reader` to its end, handing each chunk to `each`.
fn feed(reader: &mut impl Read, mut each: impl FnMut(&[u8])) -> io::Result<()> {
    let mut buffer = vec![0; CHUNK];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => each(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Checks one signature over a message written to it piece by piece (it is an
/// [`io::Write`]), holding only a hash state.
pub struct StreamVerifier {
    key_id: super::KeyId,
    inner: StreamInner,
}

enum StreamInner {
    Ed25519(Box<ed25519_dalek::StreamVerifier>),
    EcdsaP256 { context: Context, point: Vec<u8>, signature: Vec<u8> },
}

impl std::fmt::Debug for StreamVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamVerifier({})", self.key_id)
    }
}

impl PublicKey {
    /// A verifier for `signature` over the bytes then written to it: raw
    /// 64-byte Ed25519 or DER ECDSA over SHA-256, as [`PublicKey::verify`]
    /// takes them. Ed25519 gets the same strict check: a signature with a
    /// non-canonical `S` or a small-order `R` is refused here.
    pub fn stream_verifier(&self, signature: &[u8]) -> Result<StreamVerifier, SignatureError> {
        let bad = || SignatureError { key_id: self.id.clone() };
        let inner = match &self.inner {
            PublicInner::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
                // The streaming check is the plain equation; the strict one
                // also refuses small-order points, which `is_weak` detects on
                // R read as a point exactly as on a key.
                let r = ed25519_dalek::VerifyingKey::from_bytes(sig.r_bytes()).map_err(|_| bad())?;
                if r.is_weak() || key.is_weak() {
                    return Err(bad());
                }
                // `verify_stream` refuses a non-canonical S.
                StreamInner::Ed25519(Box::new(key.verify_stream(&sig).map_err(|_| bad())?))
            }
            PublicInner::EcdsaP256(_) => {
                use pkcs8::der::Decode as _;
                let spki = pkcs8::SubjectPublicKeyInfoRef::from_der(&self.spki_der).map_err(|_| bad())?;
                let point = spki.subject_public_key.raw_bytes().to_vec();
                StreamInner::EcdsaP256 { context: Context::new(&SHA256), point, signature: signature.to_vec() }
            }
        };
        Ok(StreamVerifier { key_id: self.id.clone(), inner })
    }
}

impl StreamVerifier {
    /// Whether the signature holds over everything written.
    pub fn finish(self) -> Result<(), SignatureError> {
        let bad = SignatureError { key_id: self.key_id };
        match self.inner {
            StreamInner::Ed25519(verifier) => verifier.finalize_and_verify().map_err(|_| bad),
            StreamInner::EcdsaP256 { context, point, signature } => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point).verify_digest(&context.finish(), &signature).map_err(|_| bad)
            }
        }
    }
}

impl io::Write for StreamVerifier {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            StreamInner::Ed25519(verifier) => verifier.update(buf),
            StreamInner::EcdsaP256 { context, .. } => context.update(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write as _};

    use super::*;

    fn streamed(key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let mut verifier = key.stream_verifier(signature)?;
        // Uneven pieces, so chunk boundaries cannot matter.
        for piece in message.chunks(7777) {
            verifier.write_all(piece).unwrap();
        }
        verifier.finish()
    }

    fn message() -> Vec<u8> {
        (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn ed25519_streamed_signatures_equal_the_in_memory_ones() {
        let key = SecretKey::ed25519_from_seed(&[3; 32]).unwrap();
        let message = message();
        let streamed_sig = key.sign_reader(&mut Cursor::new(&message)).unwrap();
        assert_eq!(streamed_sig, key.sign(&message).unwrap());
        streamed(key.public_key(), &message, &streamed_sig).unwrap();
        let mut changed = message.clone();
        changed[150_000] ^= 1;
        assert!(streamed(key.public_key(), &changed, &streamed_sig).is_err());
    }

    #[test]
    fn ecdsa_streamed_and_in_memory_signatures_verify_both_ways() {
        let key = SecretKey::generate_ecdsa_p256().unwrap();
        let message = message();
        let streamed_sig = key.sign_reader(&mut Cursor::new(&message)).unwrap();
        key.public_key().verify(&message, &streamed_sig).unwrap();
        streamed(key.public_key(), &message, &key.sign(&message).unwrap()).unwrap();
        assert!(streamed(key.public_key(), &message[1..], &streamed_sig).is_err());
    }

    #[test]
    fn a_small_order_r_is_refused_as_the_strict_check_does() {
        let key = SecretKey::ed25519_from_seed(&[4; 32]).unwrap();
        let mut signature = key.sign(b"m").unwrap();
        // The identity point, the simplest small-order R.
        signature[..32].copy_from_slice(&{
            let mut r = [0u8; 32];
            r[0] = 1;
            r
        });
        assert!(key.public_key().stream_verifier(&signature).is_err());
        assert!(key.public_key().verify(b"m", &signature).is_err());
    }

    #[test]
    fn a_read_error_is_reported_as_one() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        impl Seek for Failing {
            fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
                Ok(0)
            }
        }
        let key = SecretKey::ed25519_from_seed(&[5; 32]).unwrap();
        assert!(matches!(key.sign_reader(&mut Failing), Err(KeyError::Read { .. })));
    }
}
