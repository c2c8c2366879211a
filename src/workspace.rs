//! Where a release lives: `.conductor/` at the top of the repository, one
//! folder per release under `releases/<version>/`, and `current` naming the
//! release that commands act on.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use evidence::keys::SecretKey;
use evidence::record::ReleaseBinding;
use evidence::store::ObjectStore;
use evidence::trust::TrustRoot;
use evidence::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{git, passphrase};

/// The repository being released and its state folder.
pub struct Workspace {
    /// The repository's top folder.
    pub repo: PathBuf,
    /// `<repo>/.conductor`.
    pub state: PathBuf,
}

/// What `init` fixed about a release.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseState {
    /// Version, commit, environment and release id.
    pub binding: ReleaseBinding,
    /// The notary key file.
    pub key: PathBuf,
    /// Its key id.
    pub key_id: String,
}

/// An open release.
pub struct Release {
    /// `releases/<version>/`.
    pub dir: PathBuf,
    /// Its state.
    pub state: ReleaseState,
}

impl Workspace {
    /// The workspace of the repository holding the current folder.
    pub fn discover() -> Result<Self> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let repo = git::toplevel(&cwd)?;
        Ok(Self { state: repo.join(".conductor"), repo })
    }

    /// The folder of release `version`.
    pub fn release_dir(&self, version: &str) -> PathBuf {
        self.state.join("releases").join(version)
    }

    /// The default trust root, `<repo>/trust.toml`.
    pub fn trust_path(&self) -> PathBuf {
        self.repo.join("trust.toml")
    }

    /// The release `current` names.
    pub fn current(&self) -> Result<Release> {
        let pointer = self.state.join("current");
        let version = fs::read_to_string(&pointer)
            .with_context(|| format!("no release is started in {}; run `conductor init --version ... --key ...` first", self.repo.display()))?;
        let dir = self.release_dir(version.trim());
        let path = dir.join("release.json");
        let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let state: ReleaseState = serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))?;
        Ok(Release { dir, state })
    }

    /// Makes `version` the current release.
    pub fn set_current(&self, version: &str) -> Result<()> {
        write_atomic(&self.state.join("current"), format!("{version}\n").as_bytes())
    }
}

impl Release {
    /// The ledger file.
    pub fn ledger_path(&self) -> PathBuf {
        self.dir.join("ledger.intoto.jsonl")
    }

    /// The evidence object store.
    pub fn store(&self) -> ObjectStore {
        ObjectStore::new(self.dir.join("objects"))
    }

    /// The notary key, opened with the passphrase when it is encrypted.
    pub fn key(&self) -> Result<SecretKey> {
        load_secret_key(&self.state.key)
    }
}

/// Reads and validates a trust root; `what` names the flag or file it came
/// from in the error when it cannot be read.
pub fn load_trust(path: &Path, what: &str) -> Result<TrustRoot> {
    let text = fs::read_to_string(path).with_context(|| format!("{what}: cannot read {}", path.display()))?;
    Ok(TrustRoot::parse(&text, &path.display().to_string())?)
}

/// Reads a private key file, asking for its passphrase when it is encrypted.
pub fn load_secret_key(path: &Path) -> Result<SecretKey> {
    let pem = fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))?;
    let pass = if SecretKey::pem_is_encrypted(&pem) { Some(passphrase::for_opening(path)?) } else { None };
    SecretKey::from_pem(&pem, pass.as_ref()).with_context(|| format!("key {}", path.display()))
}

/// The wall clock, read here and nowhere in the libraries.
pub fn now() -> Result<Timestamp> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).context("the system clock is before 1970")?.as_secs();
    Ok(Timestamp::from_unix(i64::try_from(secs)?)?)
}

/// Secret random bytes from the operating system, read here and nowhere in the libraries.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the operating system gave no randomness: {e}"))?;
    Ok(bytes)
}

/// Writes a file through a temporary sibling and a rename, so readers never
/// see it half written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    fs::write(&temp, bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Refuses to overwrite an existing file.
pub fn ensure_absent(path: &Path, what: &str) -> Result<()> {
    if path.exists() {
        bail!("{} already exists; choose another {what} or remove it", path.display());
    }
    Ok(())
}
