//! Reading a pack without trusting it: every entry is checked before any is
//! read, nothing is ever extracted to disk, and no read goes past a declared size.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zip::ZipArchive;

use crate::digest::{HashingWriter, Sha256};
use crate::verify::Code;

/// Bounds on what a pack may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most entries accepted.
    pub max_entries: usize,
    /// Most bytes (uncompressed, all entries together) accepted.
    pub max_total_bytes: u64,
    /// Most bytes of a file read whole into memory: the manifest, `SHA256SUMS`
    /// and the checkpoint. The ledger and the proofs are streamed line by line.
    pub max_metadata_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_entries: 1_000_000, max_total_bytes: 1 << 40, max_metadata_bytes: 64 << 20 }
    }
}

/// Why a pack cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The file cannot be opened or read.
    #[error("{path}: {error}")]
    Io {
        /// The pack.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// The file is not a zip archive.
    #[error("{path} is not a zip archive ({detail}); pass the evidence-<version>.zip that `conductor pack` wrote")]
    NotZip {
        /// The pack.
        path: PathBuf,
        /// The zip reader's explanation.
        detail: String,
    },
    /// An entry is unsafe or malformed; the pack is refused as a whole.
    #[error("entry '{entry}': {detail}")]
    Unsafe {
        /// The failure code verification reports.
        code: Code,
        /// The entry name, escaped for display.
        entry: String,
        /// What is wrong.
        detail: String,
    },
}

impl PackError {
    fn unsafe_entry(code: Code, entry: &str, detail: impl Into<String>) -> Self {
        Self::Unsafe { code, entry: entry.escape_debug().to_string(), detail: detail.into() }
    }
}

#[derive(Clone, Copy, Debug)]
struct EntryInfo {
    index: usize,
    size: u64,
}

/// An opened, structurally checked pack.
pub struct PackReader {
    path: PathBuf,
    archive: ZipArchive<PackFile>,
    entries: Arc<BTreeMap<String, EntryInfo>>,
    limits: Limits,
    /// Reused buffer for streaming entries (allocated on first use).
    scratch: Vec<u8>,
}

impl std::fmt::Debug for PackReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackReader({}, {} entries)", self.path.display(), self.entries.len())
    }
}

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;

impl PackReader {
    /// Opens the pack and checks every entry: names, types, methods, sizes, counts.
    pub fn open(path: &Path, limits: Limits) -> Result<Self, PackError> {
        let file = File::open(path).map_err(|error| PackError::Io { path: path.to_owned(), error })?;
        let archive = ZipArchive::new(PackFile::new(file)).map_err(|e| PackError::NotZip { path: path.to_owned(), detail: e.to_string() })?;
        let declared = central_directory_count(path).map_err(|error| PackError::Io { path: path.to_owned(), error })?;
        let mut reader = Self { path: path.to_owned(), archive, entries: Arc::default(), limits, scratch: Vec::new() };
        reader.index_entries()?;
        // The zip reader keeps one entry per name, so a name given twice shows
        // up only as a central directory holding more entries than it indexed.
        if declared.is_some_and(|n| n != reader.archive.len() as u64) {
            let detail = format!("the central directory lists {} entries but only {} distinct names", declared.unwrap_or(0), reader.archive.len());
            return Err(PackError::unsafe_entry(Code::PackEntryDuplicate, "*", detail));
        }
        Ok(reader)
    }

    fn index_entries(&mut self) -> Result<(), PackError> {
        let count = self.archive.len();
        if count > self.limits.max_entries {
            return Err(PackError::unsafe_entry(Code::PackLimitsExceeded, "*", format!("{count} entries exceed the limit of {}", self.limits.max_entries)));
        }
        let mut total: u64 = 0;
        let mut entries = BTreeMap::new();
        for index in 0..count {
            let entry = self.archive.by_index_raw(index).map_err(|e| PackError::unsafe_entry(Code::PackEntryCorrupt, &format!("#{index}"), e.to_string()))?;
            let name = String::from_utf8(entry.name_raw().to_vec())
                .map_err(|_| PackError::unsafe_entry(Code::PackEntryUnsafePath, &String::from_utf8_lossy(entry.name_raw()), "the name is not UTF-8"))?;
            check_name(&name)?;
            let mode = entry.unix_mode().unwrap_or(S_IFREG);
            if mode & S_IFMT == 0o120000 {
                return Err(PackError::unsafe_entry(Code::PackEntryLink, &name, "symbolic links are not allowed in a pack"));
            }
            if entry.is_dir() || (mode & S_IFMT != 0 && mode & S_IFMT != S_IFREG) {
                return Err(PackError::unsafe_entry(Code::PackEntryUnsupported, &name, "only regular files are allowed in a pack"));
            }
            if entry.encrypted() || !matches!(entry.compression(), zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated) {
                return Err(PackError::unsafe_entry(Code::PackEntryUnsupported, &name, "only stored or deflated, unencrypted entries are allowed"));
            }
            if entry.compression() == zip::CompressionMethod::Stored && entry.compressed_size() != entry.size() {
                let detail = format!("is stored with {} bytes of data but declares {} bytes", entry.compressed_size(), entry.size());
                return Err(PackError::unsafe_entry(Code::PackEntrySizeMismatch, &name, detail));
            }
            total = total.saturating_add(entry.size());
            if total > self.limits.max_total_bytes {
                return Err(PackError::unsafe_entry(Code::PackLimitsExceeded, &name, format!("the pack's contents exceed {} bytes", self.limits.max_total_bytes)));
            }
            let info = EntryInfo { index, size: entry.size() };
            drop(entry);
            if entries.insert(name.clone(), info).is_some() {
                return Err(PackError::unsafe_entry(Code::PackEntryDuplicate, &name, "the name appears twice in the archive"));
            }
        }
        self.entries = Arc::new(entries);
        Ok(())
    }

    /// The pack file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entry names with their declared sizes, sorted.
    pub fn entries(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|(name, info)| (name.as_str(), info.size))
    }

    /// Whether the pack has an entry named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Reads a metadata entry whole, up to the metadata limit.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, PackError> {
        let info = self.info(name)?;
        if info.size > self.limits.max_metadata_bytes {
            return Err(PackError::unsafe_entry(Code::PackLimitsExceeded, name, format!("{} bytes exceed the metadata limit", info.size)));
        }
        let mut out = Vec::with_capacity(info.size as usize);
        self.copy_entry(name, info, &mut out)?;
        Ok(out)
    }

    /// Streams an entry through SHA-256 without holding it in memory.
    pub fn hash(&mut self, name: &str) -> Result<(Sha256, u64), PackError> {
        let info = self.info(name)?;
        let mut sink = HashingWriter::new(io::sink());
        self.copy_entry(name, info, &mut sink)?;
        Ok(sink.finish())
    }

    /// Streams an entry into `out` without holding it in memory, with the
    /// same size and CRC checks as [`PackReader::hash`].
    pub fn stream(&mut self, name: &str, out: &mut impl io::Write) -> Result<(), PackError> {
        let info = self.info(name)?;
        self.copy_entry(name, info, out)
    }

    /// Streams a text entry line by line without holding it whole: `each`
    /// gets the 1-based line number, the line without its newline, and whether
    /// the newline was there. Lines longer than `max_line` are refused.
    pub fn read_lines(&mut self, name: &str, max_line: usize, mut each: impl FnMut(usize, &[u8], bool)) -> Result<(), PackError> {
        let info = self.info(name)?;
        let entry = self.archive.by_index(info.index).map_err(|e| PackError::unsafe_entry(Code::PackEntryCorrupt, name, e.to_string()))?;
        let mut reader = io::BufReader::with_capacity(1 << 16, entry.take(info.size.saturating_add(1)));
        let mut line = Vec::new();
        let (mut line_no, mut total) = (0usize, 0u64);
        loop {
            line.clear();
            let n = io::BufRead::read_until(&mut (&mut reader).take(max_line as u64 + 1), b'\n', &mut line)
                .map_err(|e| PackError::unsafe_entry(Code::PackEntryCorrupt, name, e.to_string()))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            line_no += 1;
            let complete = line.last() == Some(&b'\n');
            if !complete && n > max_line {
                return Err(PackError::unsafe_entry(Code::PackLimitsExceeded, name, format!("line {line_no} is longer than {max_line} bytes")));
            }
            each(line_no, if complete { &line[..n - 1] } else { &line }, complete);
        }
        if total != info.size {
            let held = if total > info.size { "more".to_owned() } else { total.to_string() };
            return Err(PackError::unsafe_entry(Code::PackEntrySizeMismatch, name, format!("declares {} bytes but holds {held}", info.size)));
        }
        Ok(())
    }

    /// A second handle on the pack for a parallel reader: its own position and
    /// buffers, the same open file and parsed central directory.
    pub fn reopen(&self) -> Self {
        // The archive's clone shares the parsed central directory and the open
        // file; only the position and buffers are new.
        Self { path: self.path.clone(), archive: self.archive.clone(), entries: Arc::clone(&self.entries), limits: self.limits, scratch: Vec::new() }
    }

    fn info(&self, name: &str) -> Result<EntryInfo, PackError> {
        self.entries.get(name).copied().ok_or_else(|| PackError::unsafe_entry(Code::FileMissing, name, "no such entry in the pack"))
    }

    /// Copies an entry to `out`, refusing it when the real data is longer or
    /// shorter than the declared size or fails its CRC.
    fn copy_entry(&mut self, name: &str, info: EntryInfo, out: &mut impl io::Write) -> Result<(), PackError> {
        let entry = self.archive.by_index(info.index).map_err(|e| PackError::unsafe_entry(Code::PackEntryCorrupt, name, e.to_string()))?;
        let mut limited = entry.take(info.size.saturating_add(1));
        // Like `io::copy`, reading until end of data (which is when the zip
        // reader checks the CRC), but through a large reused buffer so big
        // entries are read straight from the file in few system calls.
        if self.scratch.is_empty() {
            self.scratch = vec![0; COPY_BUFFER];
        }
        let corrupt = |e: io::Error| PackError::unsafe_entry(Code::PackEntryCorrupt, name, e.to_string());
        let mut copied: u64 = 0;
        loop {
            let n = match limited.read(&mut self.scratch) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(corrupt(e)),
            };
            out.write_all(&self.scratch[..n]).map_err(corrupt)?;
            copied += n as u64;
        }
        if copied != info.size {
            let held = if copied > info.size { "more".to_owned() } else { copied.to_string() };
            let detail = format!("declares {} bytes but holds {held}", info.size);
            return Err(PackError::unsafe_entry(Code::PackEntrySizeMismatch, name, detail));
        }
        Ok(())
    }
}

/// The entry count the end-of-central-directory record declares (zip64 aware),
/// or `None` when the record cannot be found (the zip reader then reports it).
fn central_directory_count(path: &Path) -> io::Result<Option<u64>> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let tail_len = len.min(65_557 + 20);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail)?;
    let Some(eocd) = (0..tail.len().saturating_sub(21)).rev().find(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06]) else {
        return Ok(None);
    };
    let count = u16::from_le_bytes([tail[eocd + 10], tail[eocd + 11]]);
    if count != u16::MAX {
        return Ok(Some(u64::from(count)));
    }
    // Zip64: the locator just before the record points at the zip64 end record.
    let Some(locator) = eocd.checked_sub(20).filter(|&l| tail[l..l + 4] == [0x50, 0x4b, 0x06, 0x07]) else { return Ok(None) };
    let offset = u64::from_le_bytes(tail[locator + 8..locator + 16].try_into().unwrap_or_default());
    let mut record = [0u8; 40];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut record)?;
    if record[..4] != [0x50, 0x4b, 0x06, 0x06] {
        return Ok(None);
    }
    Ok(Some(u64::from_le_bytes(record[32..40].try_into().unwrap_or_default())))
}

/// Bytes per read when streaming an entry.
const COPY_BUFFER: usize = 128 * 1024;
/// Reads shorter than this go through [`PackFile`]'s buffer; longer ones go
/// straight to the file.
const SMALL_READ: usize = 8 * 1024;

/// The pack file, buffered for random access. `std::io::BufReader` discards
/// its buffer on every seek and refills it whole on the next read, and the zip
/// reader seeks twice per entry (local header, then data), so with a large
/// buffer every entry cost two full buffers of copying however small it was.
/// This reader keeps its buffer across seeks that land inside it, buffers only
/// small reads (headers, the central directory), and serves large reads
/// straight from the file. The bytes returned are exactly the file's bytes at
/// the requested position.
struct PackFile {
    /// Shared by every clone; reads are positioned, so clones never disturb
    /// one another's place in the file.
    file: Arc<File>,
    /// Where the next read starts.
    pos: u64,
    buf: Box<[u8]>,
    /// File offset of `buf[0]`.
    buf_start: u64,
    /// Valid bytes in `buf`.
    buf_len: usize,
}

impl PackFile {
    fn new(file: File) -> Self {
        Self::sharing(Arc::new(file))
    }

    fn sharing(file: Arc<File>) -> Self {
        Self { file, pos: 0, buf: vec![0; SMALL_READ].into_boxed_slice(), buf_start: 0, buf_len: 0 }
    }
}

/// A second handle on the same open file with its own position and buffer,
/// so a cloned `ZipArchive` shares the parsed central directory.
impl Clone for PackFile {
    fn clone(&self) -> Self {
        Self::sharing(Arc::clone(&self.file))
    }
}

#[cfg(unix)]
fn read_at(file: &File, at: u64, out: &mut [u8]) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, out, at)
}

#[cfg(windows)]
fn read_at(file: &File, at: u64, out: &mut [u8]) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, out, at)
}

impl Read for PackFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let buffered = self.pos.checked_sub(self.buf_start).and_then(|off| usize::try_from(off).ok()).filter(|off| *off < self.buf_len);
        if let Some(off) = buffered {
            let n = out.len().min(self.buf_len - off);
            out[..n].copy_from_slice(&self.buf[off..off + n]);
            self.pos += n as u64;
            return Ok(n);
        }
        if out.len() >= SMALL_READ {
            let n = read_at(&self.file, self.pos, out)?;
            self.pos += n as u64;
            return Ok(n);
        }
        self.buf_len = 0;
        self.buf_start = self.pos;
        self.buf_len = read_at(&self.file, self.pos, &mut self.buf)?;
        let n = out.len().min(self.buf_len);
        out[..n].copy_from_slice(&self.buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PackFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
            SeekFrom::End(delta) => self.file.metadata()?.len().checked_add_signed(delta),
        };
        let at = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek to a negative or overflowing position"))?;
        self.pos = at;
        Ok(at)
    }
}

/// Accepts only relative paths of plain components: letters, digits, `.`, `_`, `-`.
fn check_name(name: &str) -> Result<(), PackError> {
    let reject = |why: &str| Err(PackError::unsafe_entry(Code::PackEntryUnsafePath, name, why));
    if name.is_empty() || name.len() > 512 {
        return reject("the name is empty or too long");
    }
    if name.starts_with('/') || name.contains('\\') || name.contains(':') {
        return reject("absolute or non-portable paths are not allowed");
    }
    for part in name.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return reject("'.', '..' and empty path components are not allowed");
        }
        if !part.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
            return reject("names may hold only letters, digits, '.', '_', '-' and '/'");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for bad in ["/etc/shadow", "../x", "a/../b", "a//b", "C:/x", "a\\b", "a b", ""] {
            assert!(check_name(bad).is_err(), "{bad} accepted");
        }
        for good in ["SHA256SUMS", "ledger/ledger.intoto.jsonl", "evidence/sha256/ab12"] {
            check_name(good).unwrap();
        }
    }

    #[test]
    fn pack_file_reads_exactly_the_bytes_at_each_position() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, &data).unwrap();
        let mut f = PackFile::new(File::open(&path).unwrap());
        let mut buf = vec![0u8; 70_000];
        // Small reads (buffered), large reads (direct), seeks inside and
        // outside the buffer, relative, from the end, and past the end.
        let steps: [(SeekFrom, usize); 10] = [
            (SeekFrom::Start(10), 30),
            (SeekFrom::Current(5), 100),
            (SeekFrom::Start(12), 20),
            (SeekFrom::Start(8_000), 70_000),
            (SeekFrom::Current(-70_500), 7),
            (SeekFrom::End(-22), 100),
            (SeekFrom::Start(150_000), 8 * 1024),
            (SeekFrom::Start(150_001), 3),
            (SeekFrom::Start(199_999), 10),
            (SeekFrom::Start(300_000), 10),
        ];
        for (to, len) in steps {
            let at = f.seek(to).unwrap() as usize;
            let mut got = Vec::new();
            loop {
                let want = len - got.len();
                let n = f.read(&mut buf[..want]).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if got.len() == len {
                    break;
                }
            }
            let end = (at + len).min(data.len());
            assert_eq!(got, data.get(at..end).unwrap_or_default(), "{len} bytes after {to:?} (at {at})");
            assert_eq!(f.stream_position().unwrap() as usize, at + got.len());
        }
        assert!(f.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
