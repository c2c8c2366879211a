//! Whole-process benchmark of `conductor verify` against the physical floor,
//! `openssl dgst -sha256` over the same evidence files.
//!
//! Requirement measured: verifying a pack of 10,000 records and 1 GiB of
//! evidence takes no more than 1.25x the wall time of `openssl dgst -sha256`
//! over the same files, and the verifier's peak RSS stays under 100 MiB
//! whatever the pack size.
//!
//! ```text
//! cargo bench --bench verify_pack                               # 10,000 records, 1 GiB
//! BENCH_BYTES=4294967296 cargo bench --bench verify_pack        # 4 GiB: memory must stay flat
//! ```
//!
//! Environment:
//! - `BENCH_RECORDS` (default 10000): records in the ledger (record 0 is the
//!   release record; every other record attests one evidence file).
//! - `BENCH_BYTES` (default 1073741824): evidence bytes, spread over the files.
//! - `BENCH_REPS` (default 5): timed repetitions of each command.
//! - `BENCH_CONDUCTOR`: the conductor binary to time (default: the release
//!   build cargo made for this bench, `target/release/conductor`).
//!
//! The pack is generated once per (records, bytes) under
//! `target/bench-data/` and reused; a directory without its `complete`
//! marker is regenerated. Both commands run with a warm page cache (one
//! untimed warm-up run each, then the timed runs interleaved). Peak RSS is the
//! kernel's `ru_maxrss` for the verify process itself, read with `wait4` in a
//! small helper process (see [`run_measured`] for why not directly).
//!
//! This is a benchmark, not a test: it exits 0 when a limit is missed, but
//! says so in the table.

mod measure;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use measure::{AnyResult, background_cpu, conductor_binary, env_u64, loadavg, print_conditions, run_measured, target_dir};
use std::time::{Duration, Instant};

use evidence::digest::Sha256;
use evidence::keys::SecretKey;
use evidence::ledger::Ledger;
use evidence::pack::{SealInput, write_pack};
use evidence::record::{EVIDENCE_FILE_PREDICATE, EvidenceRef, RELEASE_PREDICATE, RecordDraft, ReleaseBinding};
use evidence::statement::ResourceDescriptor;
use evidence::store::ObjectStore;
use evidence::timestamp::Timestamp;
use evidence::trust::{TrustRoot, starter};
use serde_json::json;

/// Bump when the generator changes, so stale cached packs are not reused.
const GENERATOR_VERSION: u32 = 1;
const MIB: f64 = 1024.0 * 1024.0;
const RATIO_LIMIT: f64 = 1.25;
const RSS_LIMIT_MIB: f64 = 100.0;

fn main() {
    measure::bench_main("verify_pack", run);
}

struct Params {
    records: u64,
    bytes: u64,
    reps: usize,
}


fn run() -> AnyResult<()> {
    let params = Params {
        records: env_u64("BENCH_RECORDS", 10_000)?,
        bytes: env_u64("BENCH_BYTES", 1 << 30)?,
        reps: env_u64("BENCH_REPS", 5)?.max(1) as usize,
    };
    if params.records < 2 {
        return Err("BENCH_RECORDS must be at least 2 (a release record plus evidence)".into());
    }
    let conductor = conductor_binary()?;
    let data = data_dir(&params);
    let generated = generate(&data, &params)?;
    let pack = data.join("pack.zip");
    let trust = data.join("trust.toml");
    let files_dir = data.join("files");
    let index = read_index(&data)?;
    let pack_len = fs::metadata(&pack)?.len();
    println!(
        "conductor: {}\npack: {} ({:.1} MiB), {} evidence files ({:.1} MiB) in {}",
        conductor.display(), pack.display(), pack_len as f64 / MIB, index.len(),
        index.iter().map(|e| e.size).sum::<u64>() as f64 / MIB, files_dir.display()
    );

    let openssl = OpensslRun::new(&files_dir, &index);
    let verify = {
        let mut cmd = Command::new(&conductor);
        cmd.arg("verify").arg(&pack).arg("--trust").arg(&trust);
        cmd
    };

    // Warm-up: fills the page cache and checks both commands do real work.
    println!("warm-up (untimed) ...");
    openssl.check_output(&index)?;
    let mut warm = run_measured(verify_cmd(&verify))?;
    if !warm.success && !generated {
        // The cached pack was sealed by an older build; the format may have changed.
        println!("the cached pack does not verify with this build (exit {:?}); regenerating it", warm.code);
        fs::remove_file(data.join("complete"))?;
        generate(&data, &params)?;
        warm = run_measured(verify_cmd(&verify))?;
    }
    if !warm.success {
        return Err(format!("`conductor verify` failed on the generated pack (exit {:?}); run it by hand:\n  {} verify {} --trust {}",
            warm.code, conductor.display(), pack.display(), trust.display()).into());
    }

    // What the RSS measurement reports for a trivial process: the floor below
    // which a figure means nothing.
    let floor = run_measured(Command::new("true")).map(|m| m.maxrss_kib as f64 / 1024.0).unwrap_or(f64::NAN);
    println!("RSS measurement floor (peak RSS reported for `true`): {floor:.1} MiB");

    // Other processes competing for the CPUs distort the comparison: openssl
    // uses one core, the verifier all of them. Measure what else is running.
    let background = background_cpu(Duration::from_secs(1));
    let load_before = loadavg();
    let mut ossl = Vec::new();
    let mut cond = Vec::new();
    for rep in 0..params.reps {
        let o = run_measured(openssl.command())?;
        if !o.success {
            return Err(format!("openssl failed (exit {:?})", o.code).into());
        }
        let c = run_measured(verify_cmd(&verify))?;
        if !c.success {
            return Err(format!("`conductor verify` failed in repetition {rep} (exit {:?})", c.code).into());
        }
        println!(
            "  rep {}: openssl {:.3} s (cpu {:.3} s)   conductor {:.3} s (cpu {:.3} s, peak RSS {:.1} MiB)",
            rep + 1, o.wall.as_secs_f64(), o.cpu.as_secs_f64(), c.wall.as_secs_f64(), c.cpu.as_secs_f64(), c.maxrss_kib as f64 / 1024.0
        );
        ossl.push(o);
        cond.push(c);
    }
    let load_after = loadavg();

    let o_med = median(ossl.iter().map(|m| m.wall.as_secs_f64()));
    let o_min = min(ossl.iter().map(|m| m.wall.as_secs_f64()));
    let c_med = median(cond.iter().map(|m| m.wall.as_secs_f64()));
    let c_min = min(cond.iter().map(|m| m.wall.as_secs_f64()));
    let o_cpu = median(ossl.iter().map(|m| m.cpu.as_secs_f64()));
    let c_cpu = median(cond.iter().map(|m| m.cpu.as_secs_f64()));
    let ratio = c_med / o_med;
    let ratio_min = c_min / o_min;
    let rss = cond.iter().map(|m| m.maxrss_kib).max().unwrap_or(0) as f64 / 1024.0;
    let evidence_bytes: u64 = index.iter().map(|e| e.size).sum();
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };

    println!();
    println!("verify_pack: {} repetitions, warm page cache, {} CPUs", params.reps, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    print_conditions(&load_before, &load_after, background, "the wall-time ratio is distorted");
    println!();
    println!("| records | evidence bytes | files | openssl median s | openssl min s | conductor median s | conductor min s | ratio (median) | ratio (min) | peak RSS MiB | time <= {RATIO_LIMIT}x | RSS < {RSS_LIMIT_MIB} MiB |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} ({:.2} GiB) | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} | {} | {} |",
        params.records, evidence_bytes, evidence_bytes as f64 / (MIB * 1024.0), index.len(), o_med, o_min, c_med, c_min, ratio, ratio_min, rss,
        verdict(ratio <= RATIO_LIMIT), verdict(rss < RSS_LIMIT_MIB)
    );
    println!();
    println!("cpu time (user+sys, median): openssl {o_cpu:.3} s, conductor {c_cpu:.3} s");
    println!("throughput (median): openssl {:.0} MiB/s, conductor {:.0} MiB/s", evidence_bytes as f64 / MIB / o_med, evidence_bytes as f64 / MIB / c_med);
    let overall = ratio <= RATIO_LIMIT && rss < RSS_LIMIT_MIB;
    println!(
        "RESULT: {} (wall-time ratio {ratio:.3} vs limit {RATIO_LIMIT}; peak RSS {rss:.1} MiB vs limit {RSS_LIMIT_MIB} MiB)",
        if overall { "PASS" } else { "FAIL — requirement missed" }
    );
    Ok(())
}

fn verify_cmd(template: &Command) -> Command {
    let mut cmd = Command::new(template.get_program());
    cmd.args(template.get_args());
    cmd
}

// ---------------------------------------------------------------------------
// Locating things



fn data_dir(p: &Params) -> PathBuf {
    target_dir().join("bench-data").join(format!("verify_pack-v{GENERATOR_VERSION}-r{}-b{}", p.records, p.bytes))
}

// ---------------------------------------------------------------------------
// Pack generation

/// A fast, seeded, incompressible byte source (xoshiro256++).
struct Rng([u64; 4]);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            // splitmix64 to spread the seed
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        Self([next(), next(), next(), next()])
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }

    fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u64().to_le_bytes();
        let n = rest.len();
        rest.copy_from_slice(&last[..n]);
    }
}

/// File sizes for `files` files totalling exactly `bytes`: ~97% small
/// (0.5-64 KiB, log-uniform: test reports, logs), ~2.7% medium (0.25-4 MiB:
/// SBOMs, coverage), ~0.3% large (16-64 MiB before scaling: images,
/// bundles), then scaled to the requested total. With the defaults the
/// large files come out at roughly 10-40 MiB and hold about 70% of the bytes.
fn file_sizes(files: usize, bytes: u64, rng: &mut Rng) -> Vec<u64> {
    let kib = 1024.0;
    let large = ((files as f64 * 0.003).round() as usize).clamp(1, files);
    let medium = ((files as f64 * 0.027).round() as usize).min(files - large);
    let mut weights: Vec<f64> = (0..files)
        .map(|i| {
            if i < large {
                rng.log_uniform(16.0 * kib * kib, 64.0 * kib * kib)
            } else if i < large + medium {
                rng.log_uniform(256.0 * kib, 4.0 * kib * kib)
            } else {
                rng.log_uniform(512.0, 64.0 * kib)
            }
        })
        .collect();
    // Spread the large and medium files through the ledger.
    for i in (1..weights.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        weights.swap(i, j);
    }
    let total: f64 = weights.iter().sum();
    let mut sizes: Vec<u64> = weights.iter().map(|w| ((w / total) * bytes as f64).floor().max(1.0) as u64).collect();
    let sum: u64 = sizes.iter().sum();
    let biggest = (0..sizes.len()).max_by_key(|&i| sizes[i]).unwrap_or(0);
    if sum <= bytes {
        sizes[biggest] += bytes - sum;
    } else {
        sizes[biggest] = sizes[biggest].saturating_sub(sum - bytes).max(1);
    }
    sizes
}

const PHASES: [(&str, &str, &str); 6] = [
    ("P1", "build-log", "log"),
    ("P2", "junit", "xml"),
    ("P3", "coverage", "json"),
    ("P4", "sbom", "spdx.json"),
    ("P5", "sast", "sarif"),
    ("P6", "image", "tar"),
];

struct IndexEntry {
    name: String,
    size: u64,
    sha256: Sha256,
}

fn read_index(data: &Path) -> AnyResult<Vec<IndexEntry>> {
    let mut out = Vec::new();
    for line in BufReader::new(File::open(data.join("files.tsv"))?).lines() {
        let line = line?;
        let mut parts = line.split('\t');
        let (Some(name), Some(size), Some(sha)) = (parts.next(), parts.next(), parts.next()) else { return Err("bad files.tsv".into()) };
        out.push(IndexEntry { name: name.to_owned(), size: size.parse()?, sha256: Sha256::from_hex(sha)? });
    }
    Ok(out)
}

fn generate(data: &Path, params: &Params) -> AnyResult<bool> {
    let t = Instant::now();
    let generated = ensure_pack(data, params)?;
    if generated {
        println!("generated pack in {:.1} s: {}", t.elapsed().as_secs_f64(), data.display());
    } else {
        println!("reusing cached pack: {}", data.display());
    }
    Ok(generated)
}

/// Generates the pack unless a complete one is cached. Returns whether it generated.
fn ensure_pack(data: &Path, p: &Params) -> AnyResult<bool> {
    if data.join("complete").exists() {
        return Ok(false);
    }
    if data.exists() {
        fs::remove_dir_all(data)?;
    }
    let files_dir = data.join("files");
    fs::create_dir_all(&files_dir)?;
    println!("generating {} records with {} bytes of evidence in {} ...", p.records, p.bytes, data.display());

    let key = SecretKey::ed25519_from_seed(&[0x42; 32])?;
    let trust_text = starter("bench-notary", key.public_key(), Some("bench@example.com"));
    let trust = TrustRoot::parse(&trust_text, "trust.toml")?;
    fs::write(data.join("trust.toml"), &trust_text)?;
    let release = ReleaseBinding {
        version: "v1.2.3".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        environment: "prod".into(),
        id: "fedcba9876543210fedcba9876543210".into(),
    };
    let store = ObjectStore::new(data.join("store"));
    let mut ledger = Ledger::open(&data.join("ledger.intoto.jsonl"))?;
    let base = 1_800_000_000i64;
    let at = |i: u64| Timestamp::from_unix(base + i as i64);

    let release_draft = RecordDraft {
        phase: "P0".into(),
        record_type: "release".into(),
        predicate_type: RELEASE_PREDICATE.into(),
        predicate: json!({
            "version": release.version, "commit": release.commit, "environment": release.environment, "releaseId": release.id,
            "notaryKeyId": key.id().as_str(), "trustRoot": { "sha256": trust.digest() },
            "tool": { "name": "conductor", "version": env!("CARGO_PKG_VERSION") },
        }),
        subjects: vec![ResourceDescriptor::new(format!("git+commit:{}", release.commit), Sha256::of(release.commit.as_bytes()))],
        evidence: vec![],
    };
    ledger.append(release_draft, &release, at(0)?, &key)?;

    let files = (p.records - 1) as usize;
    let mut rng = Rng::new(0x5eed_0000 ^ p.records ^ p.bytes.rotate_left(17));
    let sizes = file_sizes(files, p.bytes, &mut rng);
    let mut index = BufWriter::new(File::create(data.join("files.tsv"))?);
    let mut buf = vec![0u8; 1 << 20];
    let started = Instant::now();
    let mut written = 0u64;
    for (i, &size) in sizes.iter().enumerate() {
        let seq = i as u64 + 1;
        let (phase, record_type, ext) = PHASES[i % PHASES.len()];
        let name = format!("{record_type}-{seq:06}.{ext}");
        let path = files_dir.join(&name);
        {
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
            let mut left = size;
            while left > 0 {
                let n = left.min(buf.len() as u64) as usize;
                rng.fill(&mut buf[..n]);
                out.write_all(&buf[..n])?;
                left -= n as u64;
            }
            out.flush()?;
        }
        let (sha256, stored) = store.put(BufReader::with_capacity(1 << 20, File::open(&path)?))?;
        assert_eq!(stored, size);
        writeln!(index, "{name}\t{size}\t{sha256}")?;
        // Some records also name a subject, as `conductor attest --subject` does.
        let subjects = if i % 4 == 0 { vec![ResourceDescriptor::new(format!("dist/app-{seq}.tar.gz"), Sha256::of(name.as_bytes()))] } else { vec![] };
        let draft = RecordDraft {
            phase: phase.into(),
            record_type: record_type.into(),
            predicate_type: EVIDENCE_FILE_PREDICATE.into(),
            predicate: json!({ "name": name, "sha256": sha256, "size": size }),
            subjects,
            evidence: vec![EvidenceRef { name: name.clone(), sha256, size }],
        };
        ledger.append(draft, &release, at(seq)?, &key)?;
        written += size;
        if seq.is_multiple_of(1000) {
            println!("  {seq}/{files} files, {:.0} MiB, {:.1} s", written as f64 / MIB, started.elapsed().as_secs_f64());
        }
    }
    index.flush()?;
    drop(index);

    let public_keys = [key.public_key().clone()];
    let input = SealInput {
        records: ledger.records(),
        release: &release,
        store: &store,
        public_keys: &public_keys,
        trust_root: trust.digest(),
        seal_key: &key,
        approvals: &evidence::approval::ApprovalsMatrix::of(ledger.records(), &trust, &release),
        index_html: None,
    };
    let summary = write_pack(&data.join("pack.zip"), &input)?;
    println!("  sealed {} records, {} files, root {}", summary.records, summary.files, summary.root);
    drop(ledger);
    // The object store only fed the pack; the files/ copy is what openssl reads.
    fs::remove_dir_all(data.join("store"))?;
    fs::write(data.join("complete"), format!("records={} bytes={} generator=v{GENERATOR_VERSION}\n", p.records, p.bytes))?;
    Ok(true)
}

// ---------------------------------------------------------------------------
// The openssl baseline

struct OpensslRun {
    dir: PathBuf,
    names: Vec<String>,
}

/// Linux allows 2 MiB of arguments plus environment; stay well below.
const DIRECT_ARGS_LIMIT: usize = 1 << 20;

impl OpensslRun {
    fn new(dir: &Path, index: &[IndexEntry]) -> Self {
        Self { dir: dir.to_owned(), names: index.iter().map(|e| e.name.clone()).collect() }
    }

    /// `openssl dgst -sha256 FILE...`, all files in one invocation when the
    /// command line allows, else through `xargs` (a few invocations).
    fn command(&self) -> Command {
        let arg_bytes: usize = self.names.iter().map(|n| n.len() + 1).sum();
        let mut cmd;
        if arg_bytes < DIRECT_ARGS_LIMIT {
            cmd = Command::new("openssl");
            cmd.args(["dgst", "-sha256"]).args(&self.names);
        } else {
            let list = self.dir.join("..").join("files.list0");
            if !list.exists() {
                let mut bytes = Vec::with_capacity(arg_bytes);
                for n in &self.names {
                    bytes.extend_from_slice(n.as_bytes());
                    bytes.push(0);
                }
                let _ = fs::write(&list, bytes);
            }
            cmd = Command::new("xargs");
            cmd.args(["-0", "-s", "1048576", "-a"]).arg(&list).args(["openssl", "dgst", "-sha256"]);
        }
        cmd.current_dir(&self.dir);
        cmd
    }

    /// Runs once and checks openssl printed the digests the ledger records.
    fn check_output(&self, index: &[IndexEntry]) -> AnyResult<()> {
        let out = self.command().stderr(Stdio::inherit()).output()?;
        if !out.status.success() {
            return Err(format!("openssl dgst failed: {}", out.status).into());
        }
        let expected: BTreeMap<&str, String> = index.iter().map(|e| (e.name.as_str(), e.sha256.to_hex())).collect();
        let mut matched = 0usize;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // "SHA2-256(name)= hex" (OpenSSL 3) or "SHA256(name)= hex" (1.1)
            let (Some(open), Some(close)) = (line.find('('), line.rfind(")= ")) else { continue };
            let name = &line[open + 1..close];
            let hex = &line[close + 3..];
            if expected.get(name).is_some_and(|h| h == hex) {
                matched += 1;
            }
        }
        if matched != index.len() {
            return Err(format!("openssl printed {matched} matching digests for {} files", index.len()).into());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Statistics

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(f64::INFINITY, f64::min)
}
