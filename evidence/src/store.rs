//! Evidence files stored by their SHA-256, copied and hashed in one streaming pass.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::digest::{HashingWriter, Sha256};

/// A folder of files named `sha256/<hex>`.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ObjectStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Where the object with `digest` lives.
    pub fn path_of(&self, digest: &Sha256) -> PathBuf {
        self.root.join("sha256").join(digest.to_hex())
    }

    /// Copies `reader` into the store, returning its digest and size. The data
    /// goes to a temporary file first and is renamed into place after `fsync`,
    /// so a crash never leaves a partial object under a digest name.
    pub fn put(&self, mut reader: impl Read) -> io::Result<(Sha256, u64)> {
        let dir = self.root.join("sha256");
        fs::create_dir_all(&dir)?;
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".incoming-{}-{n}", std::process::id()));
        let result = self.copy_into(&mut reader, &temp);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        let (digest, size) = result?;
        fs::rename(&temp, self.path_of(&digest))?;
        Ok((digest, size))
    }

    fn copy_into(&self, reader: &mut impl Read, temp: &Path) -> io::Result<(Sha256, u64)> {
        let mut writer = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, File::create(temp)?));
        io::copy(reader, &mut writer)?;
        let (digest, size, buffered) = writer.into_parts();
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((digest, size))
    }

    /// Stores bytes already in memory; when an object with their digest is
    /// already there (the same policy bundle for every gate, say) nothing is written.
    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<(Sha256, u64)> {
        let digest = Sha256::of(bytes);
        if self.path_of(&digest).is_file() {
            return Ok((digest, bytes.len() as u64));
        }
        self.put(bytes)
    }

    /// Opens a stored object.
    pub fn open(&self, digest: &Sha256) -> io::Result<File> {
        File::open(self.path_of(digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_digest_and_deduplicates() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::new(dir.path());
        let (a, size) = store.put(&b"evidence"[..]).unwrap();
        let (b, _) = store.put(&b"evidence"[..]).unwrap();
        assert_eq!((a, size), (b, 8));
        let mut back = String::new();
        store.open(&a).unwrap().read_to_string(&mut back).unwrap();
        assert_eq!(back, "evidence");
        assert_eq!(fs::read_dir(dir.path().join("sha256")).unwrap().count(), 1);
    }
}
