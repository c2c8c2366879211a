//! The append-only ledger file: one DSSE envelope per line, one writer at a time.
//!
//! A record is written with a single `write` of the line and its newline,
//! followed by `fsync`, so a process killed at any moment leaves either the
//! whole record or a torn tail without a newline. A torn tail is reported,
//! never silently dropped, and [`repair`] moves it aside on request.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::digest::Sha256;
use crate::keys::SecretKey;
use crate::record::{Record, RecordDraft, RecordError, ReleaseBinding};
use crate::timestamp::Timestamp;

/// Why the ledger cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A file operation failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// Another process holds the writer lock.
    #[error("{path} is locked by another conductor process; wait for it to finish (a second writer on one release is refused)")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The last line has no newline: a writer was killed mid-record.
    #[error("{path} ends in a torn record at byte {offset} ({len} bytes without a newline), left by a writer that was killed; run `conductor repair` to move the fragment aside")]
    TornTail {
        /// The ledger file.
        path: PathBuf,
        /// Where the torn fragment starts.
        offset: u64,
        /// How long it is.
        len: u64,
    },
    /// A complete line is not a record.
    #[error("{path}:{line}: {error}")]
    Malformed {
        /// The ledger file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        error: RecordError,
    },
    /// A line's sequence number is not its position.
    #[error("{path}:{line}: sequence {found} where {expected} was expected; the ledger was edited by hand")]
    Sequence {
        /// The ledger file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The position.
        expected: u64,
        /// The number in the record.
        found: u64,
    },
    /// A line's previous-hash does not match the line before it.
    #[error("{path}:{line}: the record does not chain to the line before it; the ledger was edited by hand")]
    Chain {
        /// The ledger file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// Sealing a record failed.
    #[error(transparent)]
    Record(#[from] RecordError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |error| LedgerError::Io { path: path.to_owned(), error }
}

/// The ledger of one release, open for appending, with the writer lock held.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    file: File,
    _lock: File,
    records: Vec<Record>,
}

/// The lock file beside a ledger: `<ledger file name>.lock`.
pub fn lock_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "lock")
}

/// `<ledger file name>.<suffix>` in the ledger's folder.
fn sibling(ledger: &Path, suffix: &str) -> PathBuf {
    let mut name = ledger.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{suffix}"));
    ledger.with_file_name(name)
}

fn acquire_lock(ledger: &Path) -> Result<File, LedgerError> {
    let path = lock_path(ledger);
    let lock = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io(&path))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(LedgerError::Locked { path }),
        Err(std::fs::TryLockError::Error(error)) => Err(LedgerError::Io { path, error }),
    }
}

impl Ledger {
    /// Opens (creating if absent) the ledger at `path`, takes the writer lock
    /// and reads every record, refusing a torn or edited ledger.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let lock = acquire_lock(path)?;
        let file = OpenOptions::new().create(true).append(true).read(true).open(path).map_err(io(path))?;
        let records = read_records(path)?;
        Ok(Self { path: path.to_owned(), file, _lock: lock, records })
    }

    /// The records so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The path of the ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Signs `draft` as the next record and appends it durably.
    pub fn append(
        &mut self,
        draft: RecordDraft,
        release: &ReleaseBinding,
        recorded_at: Timestamp,
        key: &SecretKey,
    ) -> Result<&Record, LedgerError> {
        let (sequence, previous) = match self.records.last() {
            Some(last) => (last.link.sequence + 1, last.line_hash),
            None => (0, Sha256([0; 32])),
        };
        let record = Record::seal(draft, sequence, previous, release, recorded_at, key)?;
        let mut bytes = record.line.clone();
        bytes.push(b'\n');
        self.file.write_all(&bytes).map_err(io(&self.path))?;
        self.file.sync_data().map_err(io(&self.path))?;
        self.records.push(record);
        Ok(self.records.last().unwrap_or_else(|| unreachable!("a record was just pushed")))
    }
}

/// Reads and parses every line of a ledger without taking the lock.
pub fn read_records(path: &Path) -> Result<Vec<Record>, LedgerError> {
    let mut bytes = Vec::new();
    File::open(path).map_err(io(path))?.read_to_end(&mut bytes).map_err(io(path))?;
    let complete = match bytes.iter().rposition(|b| *b == b'\n') {
        Some(i) => i + 1,
        None => 0,
    };
    if complete < bytes.len() {
        let (offset, len) = (complete as u64, (bytes.len() - complete) as u64);
        return Err(LedgerError::TornTail { path: path.to_owned(), offset, len });
    }
    let mut records: Vec<Record> = Vec::new();
    for (index, line) in bytes[..complete].split_inclusive(|b| *b == b'\n').enumerate() {
        let line = &line[..line.len() - 1];
        let record = Record::parse_line(line).map_err(|error| LedgerError::Malformed { path: path.to_owned(), line: index + 1, error })?;
        check_position(path, index, &record, records.last())?;
        records.push(record);
    }
    Ok(records)
}

fn check_position(path: &Path, index: usize, record: &Record, before: Option<&Record>) -> Result<(), LedgerError> {
    if record.link.sequence != index as u64 {
        return Err(LedgerError::Sequence { path: path.to_owned(), line: index + 1, expected: index as u64, found: record.link.sequence });
    }
    let expected_previous = before.map(|r| r.line_hash).unwrap_or(Sha256([0; 32]));
    if record.link.previous != expected_previous {
        return Err(LedgerError::Chain { path: path.to_owned(), line: index + 1 });
    }
    Ok(())
}

/// Creates `<ledger>.torn-<offset>`, or `...-2`, `-3` and so on when an
/// earlier repair left a fragment at the same offset, never overwriting one.
fn create_aside(path: &Path, offset: u64) -> Result<(PathBuf, File), LedgerError> {
    for n in 1u32.. {
        let suffix = if n == 1 { format!("torn-{offset}") } else { format!("torn-{offset}-{n}") };
        let aside = sibling(path, &suffix);
        match OpenOptions::new().write(true).create_new(true).open(&aside) {
            Ok(file) => return Ok((aside, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(LedgerError::Io { path: aside, error }),
        }
    }
    unreachable!("u32 suffixes run out only after four billion repairs at one offset")
}

/// Moves a torn tail into `<ledger>.torn-<offset>` and truncates the ledger
/// to its last whole record. Returns the fragment's path, or `None` when the
/// ledger was whole. Takes the writer lock.
pub fn repair(path: &Path) -> Result<Option<PathBuf>, LedgerError> {
    let _lock = acquire_lock(path)?;
    let offset = match read_records(path) {
        Err(LedgerError::TornTail { offset, .. }) => offset,
        Err(other) => return Err(other),
        Ok(_) => return Ok(None),
    };
    let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(io(path))?;
    let mut fragment = Vec::new();
    file.seek(SeekFrom::Start(offset)).map_err(io(path))?;
    file.read_to_end(&mut fragment).map_err(io(path))?;
    let (aside, mut out) = create_aside(path, offset)?;
    out.write_all(&fragment).map_err(io(&aside))?;
    out.sync_all().map_err(io(&aside))?;
    file.set_len(offset).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok(Some(aside))
}
