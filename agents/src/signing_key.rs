//! The private key a signing kind uses: the release's notary key unless the
//! agent names its own. An encrypted key is opened with the passphrase in
//! `CONDUCTOR_KEY_PASSPHRASE`, the variable the `conductor` binary reads; an
//! agent never prompts.

use std::path::{Path, PathBuf};

use evidence::keys::{Passphrase, SecretKey};

use crate::{AgentOutcome, AgentTask};

/// The environment variable holding the passphrase of an encrypted key.
pub(crate) const PASSPHRASE_ENV: &str = "CONDUCTOR_KEY_PASSPHRASE";

/// The key file: `setting` when the agent configures it (relative to the
/// repository), else the release's notary key.
pub(crate) fn path(task: &AgentTask, setting: Option<&str>) -> Result<PathBuf, AgentOutcome> {
    if let Some(key) = setting.filter(|k| task.settings.contains_key(*k)) {
        return task.text_setting(key).map(|p| task.resolve(p));
    }
    match &task.release()?.key {
        Some(key) => Ok(task.workdir.join(key)),
        None => Err(AgentOutcome::missing_input(format!("the release names no signing key for {}; run it through `conductor run`", task.agent))),
    }
}

/// Reads and opens the key at `path` with the passphrase from the environment.
pub(crate) fn open(path: &Path) -> Result<SecretKey, AgentOutcome> {
    open_with(path, std::env::var(PASSPHRASE_ENV).ok())
}

/// Reads and opens the key at `path`: a missing-input outcome when the file
/// is absent or is encrypted and `passphrase` is not given, an error when it
/// does not open.
fn open_with(path: &Path, passphrase: Option<String>) -> Result<SecretKey, AgentOutcome> {
    let pem = std::fs::read_to_string(path).map_err(|e| AgentOutcome::missing_input(format!("the signing key {} cannot be read: {e}", path.display())))?;
    let passphrase = if SecretKey::pem_is_encrypted(&pem) {
        let text = passphrase
            .ok_or_else(|| AgentOutcome::missing_input(format!("the signing key {} is encrypted; set {PASSPHRASE_ENV} to its passphrase", path.display())))?;
        Some(Passphrase::new(text).map_err(|e| AgentOutcome::missing_input(format!("{PASSPHRASE_ENV}: {e}")))?)
    } else {
        None
    };
    SecretKey::from_pem(&pem, passphrase.as_ref()).map_err(|e| AgentOutcome::error(format!("cannot open the signing key {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    #[test]
    fn an_unencrypted_key_opens_and_a_missing_file_is_a_missing_input() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::ed25519_from_seed(&[1; 32]).unwrap();
        std::fs::write(dir.path().join("k.key"), key.to_pem(None).unwrap()).unwrap();
        assert_eq!(open(&dir.path().join("k.key")).unwrap().id(), key.id());
        let missing = open(&dir.path().join("absent.key")).unwrap_err();
        assert_eq!(missing.verdict, Verdict::MissingInput);
        assert!(missing.reason.contains("absent.key"), "{}", missing.reason);
    }

    #[test]
    fn an_encrypted_key_needs_the_passphrase_variable() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::ed25519_from_seed(&[2; 32]).unwrap();
        let pass = Passphrase::new("s3cret".into()).unwrap();
        let params = evidence::keys::EncryptionParams { salt: [3; 16], iv: [4; 16] };
        let file = dir.path().join("k.key");
        std::fs::write(&file, key.to_pem(Some((&pass, params))).unwrap()).unwrap();
        let without = open_with(&file, None).unwrap_err();
        assert_eq!(without.verdict, Verdict::MissingInput);
        assert!(without.reason.contains(PASSPHRASE_ENV), "{}", without.reason);
        assert_eq!(open_with(&file, Some("wrong".into())).unwrap_err().verdict, Verdict::Error);
        assert_eq!(open_with(&file, Some("s3cret".into())).unwrap().id(), key.id());
    }

    #[test]
    fn without_a_release_or_setting_the_key_is_a_missing_input() {
        let dir = tempfile::tempdir().unwrap();
        let task = AgentTask::new("Artifactory Steward", "sign", "P0", dir.path(), dir.path(), toml::Table::new());
        assert_eq!(path(&task, Some("signing_key")).unwrap_err().verdict, Verdict::MissingInput);
        let mut settings = toml::Table::new();
        settings.insert("signing_key".into(), "keys/builder.key".into());
        let task = AgentTask::new("Artifactory Steward", "sign", "P0", dir.path(), dir.path(), settings);
        assert_eq!(path(&task, Some("signing_key")).unwrap(), dir.path().join("keys/builder.key"));
    }
}
