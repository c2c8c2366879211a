use super::*;

fn params() -> EncryptionParams {
    EncryptionParams { salt: [7; 16], iv: [9; 16] }
}

#[test]
fn ed25519_round_trips_through_encrypted_pkcs8() {
    let key = SecretKey::ed25519_from_seed(&[1; 32]).unwrap();
    let pass = Passphrase::new("correct horse".into()).unwrap();
    let pem = key.to_pem(Some((&pass, params()))).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let back = SecretKey::from_pem(&pem, Some(&pass)).unwrap();
    assert_eq!(back.id(), key.id());
    let wrong = Passphrase::new("wrong".into()).unwrap();
    assert!(matches!(SecretKey::from_pem(&pem, Some(&wrong)), Err(KeyError::Decrypt)));
    assert!(matches!(SecretKey::from_pem(&pem, None), Err(KeyError::PassphraseRequired)));
}

#[test]
fn ed25519_signatures_verify_with_the_spki_key() {
    let key = SecretKey::ed25519_from_seed(&[2; 32]).unwrap();
    let public = PublicKey::from_pem(&key.public_key().to_pem()).unwrap();
    assert_eq!(public.id(), key.id());
    let sig = key.sign(b"message").unwrap();
    public.verify(b"message", &sig).unwrap();
    assert!(public.verify(b"messagf", &sig).is_err());
}

#[test]
fn ecdsa_round_trips_through_the_cosign_format() {
    let key = SecretKey::generate_ecdsa_p256().unwrap();
    let pass = Passphrase::new("pw".into()).unwrap();
    let pem = key.to_pem(Some((&pass, params()))).unwrap();
    assert!(pem.contains("ENCRYPTED SIGSTORE PRIVATE KEY"));
    let back = SecretKey::from_pem(&pem, Some(&pass)).unwrap();
    assert_eq!(back.id(), key.id());
    let sig = back.sign(b"blob").unwrap();
    let public = PublicKey::from_pem(&key.public_key().to_pem()).unwrap();
    assert_eq!(public.algorithm(), Algorithm::EcdsaP256);
    public.verify(b"blob", &sig).unwrap();
    assert!(public.verify(b"blob2", &sig).is_err());
}

#[test]
fn debug_output_never_shows_secrets() {
    let key = SecretKey::ed25519_from_seed(&[3; 32]).unwrap();
    let shown = format!("{key:?} {:?}", Passphrase::new("hunter2".into()).unwrap());
    assert!(shown.contains("redacted"));
    assert!(!shown.contains("hunter2"));
}
