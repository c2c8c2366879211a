//! DSSE envelopes (Dead Simple Signing Envelope, v1): the signature wrapper of
//! every ledger record and of the pack manifest.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, SecretKey};

/// The payload type of an in-toto Statement.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The pre-authentication encoding that signatures cover:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).as_bytes());
    out.extend_from_slice(payload);
    out
}

/// One signature in an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signing key's id (see [`crate::keys::KeyId`]); optional in DSSE,
    /// always written by this crate.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Base64 signature over the PAE.
    pub sig: String,
}

/// A DSSE JSON envelope. Field order on output is fixed, so the same envelope
/// always serialises to the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Base64 of the serialised body.
    pub payload: String,
    /// How to interpret the body.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// One or more signatures.
    pub signatures: Vec<Signature>,
}

/// Why an envelope could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DsseError {
    /// Not an envelope in JSON.
    #[error("not a DSSE envelope: {detail}")]
    Json {
        /// The JSON parser's explanation.
        detail: String,
    },
    /// A base64 field does not decode.
    #[error("field '{field}' is not base64")]
    Base64 {
        /// `payload` or `signatures[i].sig`.
        field: String,
    },
    /// The envelope carries no signature.
    #[error("the envelope has no signatures")]
    Unsigned,
}

impl Envelope {
    /// Signs `payload` with `key` and wraps it.
    pub fn sign(payload_type: &str, payload: &[u8], key: &SecretKey) -> Result<Self, KeyError> {
        let sig = key.sign(&pae(payload_type, payload))?;
        Ok(Self {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_owned(),
            signatures: vec![Signature { keyid: key.id().to_string(), sig: STANDARD.encode(sig) }],
        })
    }

    /// Parses an envelope from JSON.
    pub fn parse(json: &[u8]) -> Result<Self, DsseError> {
        let env: Envelope = serde_json::from_slice(json).map_err(|e| DsseError::Json { detail: e.to_string() })?;
        if env.signatures.is_empty() {
            return Err(DsseError::Unsigned);
        }
        Ok(env)
    }

    /// The compact JSON form, one line.
    pub fn to_json(&self) -> String {
        // Serialising plain strings into JSON cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The decoded body.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, DsseError> {
        decode_b64(&self.payload).ok_or_else(|| DsseError::Base64 { field: "payload".into() })
    }

    /// The decoded signature bytes of signature `index`.
    pub fn signature_bytes(&self, index: usize) -> Result<Vec<u8>, DsseError> {
        let field = || DsseError::Base64 { field: format!("signatures[{index}].sig") };
        let sig = self.signatures.get(index).ok_or_else(field)?;
        decode_b64(&sig.sig).ok_or_else(field)
    }
}

/// DSSE verifiers must accept standard and URL-safe base64, padded or not.
fn decode_b64(text: &str) -> Option<Vec<u8>> {
    [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text.as_bytes()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PublicKey;

    #[test]
    fn pae_matches_the_spec_vector() {
        let got = pae("http://example.com/HelloWorld", b"hello world");
        assert_eq!(got, b"DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    }

    /// The DSSE specification's test vector (protocol.md): an ECDSA P-256
    /// signature, raw r||s, over the PAE of "hello world".
    #[test]
    fn spec_envelope_verifies() {
        let json = br#"{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#;
        let env = Envelope::parse(json).unwrap();
        let body = env.payload_bytes().unwrap();
        assert_eq!(body, b"hello world");
        let key = spec_public_key();
        let raw = env.signature_bytes(0).unwrap();
        let message = pae(&env.payload_type, &body);
        key.verify(&message, &raw_to_der(&raw)).unwrap();
        assert!(key.verify(&pae(&env.payload_type, b"hello worle"), &raw_to_der(&raw)).is_err());
    }

    fn spec_public_key() -> PublicKey {
        // X and Y of the spec's key, converted from decimal to 32-byte hex.
        let x = "67cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d238";
        let y = "0c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74";
        // DER SubjectPublicKeyInfo prefix for an uncompressed P-256 point.
        let prefix = "3059301306072a8648ce3d020106082a8648ce3d03010703420004";
        PublicKey::from_spki_der(&hex::decode(format!("{prefix}{x}{y}")).unwrap()).unwrap()
    }

    fn raw_to_der(raw: &[u8]) -> Vec<u8> {
        let int = |bytes: &[u8]| {
            let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
            let mut v = if trimmed.first().is_some_and(|b| b & 0x80 != 0) { vec![0] } else { vec![] };
            v.extend(trimmed);
            let mut out = vec![0x02, v.len() as u8];
            out.extend(v);
            out
        };
        let body = [int(&raw[..32]), int(&raw[32..])].concat();
        [vec![0x30, body.len() as u8], body].concat()
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let key = crate::keys::SecretKey::ed25519_from_seed(&[5; 32]).unwrap();
        let env = Envelope::sign(INTOTO_PAYLOAD_TYPE, b"{}", &key).unwrap();
        let back = Envelope::parse(env.to_json().as_bytes()).unwrap();
        assert_eq!(back, env);
        let sig = back.signature_bytes(0).unwrap();
        key.public_key().verify(&pae(INTOTO_PAYLOAD_TYPE, b"{}"), &sig).unwrap();
    }

    #[test]
    fn unsigned_envelopes_are_refused() {
        assert!(matches!(
            Envelope::parse(br#"{"payload":"","payloadType":"x","signatures":[]}"#),
            Err(DsseError::Unsigned)
        ));
    }
}
