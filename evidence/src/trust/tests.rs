use super::*;
use crate::keys::SecretKey;

fn key(seed: u8) -> SecretKey {
    SecretKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

#[test]
fn starter_parses_and_trusts_its_key() {
    let k = key(1);
    let root = TrustRoot::parse(&starter("notary", k.public_key(), None), "trust.toml").unwrap();
    let trusted = root.key(k.id().as_str()).unwrap();
    assert!(trusted.seal && trusted.phases.allows("P3"));
}

#[test]
fn mismatched_id_names_the_field() {
    let text = starter("notary", key(1).public_key(), None).replace(key(1).id().as_str(), key(2).id().as_str());
    let err = TrustRoot::parse(&text, "trust.toml").unwrap_err();
    assert_eq!(err.field, "keys[0].id");
}

#[test]
fn roles_need_known_keys_and_sane_thresholds() {
    let k = key(1);
    let base = starter("notary", k.public_key(), None);
    let bad = format!("{base}\n[roles.cab]\nthreshold = 2\nkeys = [\"{}\"]\n", k.id());
    assert_eq!(TrustRoot::parse(&bad, "t").unwrap_err().field, "roles.cab.threshold");
    let good = format!("{base}\n[roles.cab]\nthreshold = 1\nkeys = [\"{}\"]\n", k.id());
    assert_eq!(TrustRoot::parse(&good, "t").unwrap().role("cab").unwrap().threshold, 1);
}

#[test]
fn unknown_fields_are_refused() {
    let text = format!("{}typo = 1\n", starter("notary", key(1).public_key(), None));
    assert!(TrustRoot::parse(&text, "t").is_err());
}

#[test]
fn validity_windows_are_inclusive() {
    let base = starter("notary", key(1).public_key(), None);
    let text = base.replace("seal = true", "seal = true\nvalid_from = 2026-01-01T00:00:00Z\nvalid_until = 2026-12-31T23:59:59Z");
    let root = TrustRoot::parse(&text, "t").unwrap();
    let k = root.key(key(1).id().as_str()).unwrap();
    assert!(k.valid_at(Timestamp::parse("2026-06-01T00:00:00Z").unwrap()));
    assert!(!k.valid_at(Timestamp::parse("2027-01-01T00:00:00Z").unwrap()));
}

#[test]
fn an_inverted_validity_window_is_refused() {
    let base = starter("notary", key(1).public_key(), None);
    let text = base.replace("seal = true", "seal = true\nvalid_from = 2027-01-01T00:00:00Z\nvalid_until = 2026-01-01T00:00:00Z");
    assert_eq!(TrustRoot::parse(&text, "t").unwrap_err().field, "keys[0].valid_until");
}

#[test]
fn a_small_order_key_is_refused() {
    // The identity point: a public key of order one, which "verifies" forged signatures.
    let der = [&hex::decode("302a300506032b6570032100").unwrap()[..], &[1u8], &[0u8; 31]].concat();
    let weak = PublicKey::from_spki_der(&der).unwrap();
    let text = format!("version = 1\n[[keys]]\nid = \"{}\"\nname = \"w\"\npublic_key = \"\"\"\n{}\"\"\"\n", weak.id(), weak.to_pem());
    assert_eq!(TrustRoot::parse(&text, "t").unwrap_err().field, "keys[0].public_key");
}
