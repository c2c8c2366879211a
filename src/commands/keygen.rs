//! `conductor keygen`: a new key pair, encrypted unless asked otherwise.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use evidence::keys::{EncryptionParams, SecretKey};

use crate::Exit;
use crate::cli::{KeyAlgorithm, KeygenArgs};
use crate::workspace::random;
use crate::{passphrase, workspace};

pub fn run(args: KeygenArgs) -> Result<Exit> {
    let key_path = with_suffix(&args.out, "key");
    let pub_path = with_suffix(&args.out, "pub");
    workspace::ensure_absent(&key_path, "--out")?;
    workspace::ensure_absent(&pub_path, "--out")?;
    let key = match args.algorithm {
        KeyAlgorithm::Ed25519 => SecretKey::ed25519_from_seed(&random()?)?,
        KeyAlgorithm::EcdsaP256 => SecretKey::generate_ecdsa_p256()?,
    };
    let pem = if args.no_encrypt {
        key.to_pem(None)?
    } else {
        let pass = passphrase::for_new_key()?;
        let params = EncryptionParams { salt: random()?, iv: random()? };
        key.to_pem(Some((&pass, params)))?
    };
    if let Some(dir) = key_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_private(&key_path, pem.as_bytes())?;
    workspace::write_atomic(&pub_path, key.public_key().to_pem().as_bytes())?;
    let state = if args.no_encrypt { "unencrypted" } else { "encrypted" };
    eprintln!("wrote {} ({state}) and {}", key_path.display(), pub_path.display());
    println!("{}", key.id());
    Ok(Exit::Success)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    PathBuf::from(name)
}

/// Creates the private key file readable by its owner only, refusing to follow
/// or replace anything already there.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).with_context(|| format!("cannot write {}", path.display()))
}
