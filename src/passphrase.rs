//! Where key passphrases come from: `CONDUCTOR_KEY_PASSPHRASE`, or a prompt
//! when a person is at the terminal. Never from the command line, never logged.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use evidence::keys::Passphrase;

/// The environment variable holding the passphrase.
pub const ENV: &str = "CONDUCTOR_KEY_PASSPHRASE";

/// A passphrase for an existing key.
pub fn for_opening(key_path: &std::path::Path) -> Result<Passphrase> {
    if let Ok(text) = std::env::var(ENV) {
        return Ok(Passphrase::new(text)?);
    }
    if !std::io::stdin().is_terminal() {
        bail!("{} is encrypted; set {ENV} or run on a terminal to be asked", key_path.display());
    }
    let text = rpassword::prompt_password(format!("passphrase for {}: ", key_path.display()))?;
    Ok(Passphrase::new(text)?)
}

/// A passphrase for a new key, asked twice on a terminal.
pub fn for_new_key() -> Result<Passphrase> {
    if let Ok(text) = std::env::var(ENV) {
        return Ok(Passphrase::new(text)?);
    }
    if !std::io::stdin().is_terminal() {
        bail!("the new key would be encrypted but no passphrase is available; set {ENV}, run on a terminal, or pass --no-encrypt");
    }
    let first = rpassword::prompt_password("passphrase for the new key: ")?;
    let second = rpassword::prompt_password("again: ")?;
    if first != second {
        bail!("the two passphrases differ; run keygen again");
    }
    Ok(Passphrase::new(first)?)
}
