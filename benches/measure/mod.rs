//! Measuring a child process for the whole-process benchmarks: wall time,
//! CPU time and peak memory through a small helper process, plus the
//! machine's background load. Each benchmark uses the part it needs.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the benchmarks' steps return.
pub type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

/// SplitMix64: a deterministic, fast generator for generated trees, tokens
/// and histories, so a benchmark's input is the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// `len` characters drawn from `alphabet`.
    pub fn text(&mut self, alphabet: &str, len: usize) -> String {
        let a = alphabet.as_bytes();
        (0..len).map(|_| char::from(a[self.below(a.len())])).collect()
    }
}

/// A temporary folder for a benchmark's generated input, and the guard that
/// removes it when dropped; with `BENCH_KEEP` set it is kept and named.
pub fn work_dir(prefix: &str) -> AnyResult<(PathBuf, Option<tempfile::TempDir>)> {
    let work = tempfile::Builder::new().prefix(prefix).tempdir()?;
    let path = work.path().to_owned();
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("BENCH_KEEP: keeping {}", work.keep().display());
        return Ok((path, None));
    }
    Ok((path, Some(work)))
}

/// A whole number from the environment (underscores allowed), or `default`.
pub fn env_u64(name: &str, default: u64) -> AnyResult<u64> {
    match std::env::var(name) {
        Ok(v) => Ok(v.trim().replace('_', "").parse().map_err(|e| format!("{name}={v}: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// Cargo's target folder: `CARGO_TARGET_DIR` (relative to the workspace) or `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(dir) }
        }
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

/// The release-built conductor: `BENCH_CONDUCTOR` when set, else the binary
/// cargo built with the bench profile (which inherits `release`) for this
/// bench, else `target/release/conductor`.
pub fn conductor_binary() -> AnyResult<PathBuf> {
    if let Some(path) = std::env::var_os("BENCH_CONDUCTOR") {
        return Ok(PathBuf::from(path));
    }
    let built = PathBuf::from(env!("CARGO_BIN_EXE_conductor"));
    if built.exists() {
        return Ok(built);
    }
    let fallback = target_dir().join("release").join("conductor");
    if fallback.exists() {
        return Ok(fallback);
    }
    Err("no release conductor binary; run `cargo build --release` first".into())
}

pub struct Measured {
    pub wall: Duration,
    /// user + system CPU time of the child (and anything it waited for).
    pub cpu: Duration,
    /// Peak resident set size of the child, KiB (`ru_maxrss`).
    pub maxrss_kib: u64,
    pub success: bool,
    pub code: Option<i32>,
}

#[cfg(target_os = "linux")]
mod sys {
    /// `struct rusage` on 64-bit Linux: two timevals then 14 longs.
    #[repr(C)]
    #[derive(Default)]
    pub struct Rusage {
        pub utime: [i64; 2],
        pub stime: [i64; 2],
        pub maxrss: i64,
        pub rest: [i64; 13],
    }

    unsafe extern "C" {
        fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    }

    /// Reaps `pid`, returning its wait status and its resource usage (the
    /// kernel reports the child plus the descendants it reaped).
    pub fn wait_rusage(pid: u32) -> std::io::Result<(i32, Rusage)> {
        let mut status = 0i32;
        let mut usage = Rusage::default();
        loop {
            // SAFETY: both pointers are to live, properly sized locals.
            let r = unsafe { wait4(pid as i32, &mut status, 0, &mut usage) };
            if r == pid as i32 {
                return Ok((status, usage));
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// The first argument that turns this binary into the measuring helper.
pub const MEASURE_ARG: &str = "__measure-child";

/// Runs `cmd` through a fresh copy of this binary (the helper), which spawns
/// it, reaps it with `wait4` and reports its wall and CPU time. The wall time
/// runs from just before `spawn` in the small helper to the reap, so it
/// includes the fork and exec of the command but not the helper's own start.
#[cfg(target_os = "linux")]
pub fn run_measured(cmd: Command) -> AnyResult<Measured> {
    let mut helper = Command::new(std::env::current_exe()?);
    helper.arg(MEASURE_ARG).arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        helper.current_dir(dir);
    }
    // The helper's environment is the command's: pass on what `cmd` sets or removes.
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => helper.env(key, value),
            None => helper.env_remove(key),
        };
    }
    let out = helper.stdin(Stdio::null()).stderr(Stdio::inherit()).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<i64> = text.split_whitespace().map(str::parse).collect::<Result<_, _>>().map_err(|e| format!("measuring helper printed {text:?}: {e}"))?;
    let [wall_ns, cpu_us, maxrss_kib, exited, code] = fields[..] else { return Err(format!("measuring helper printed {text:?}").into()) };
    Ok(Measured {
        wall: Duration::from_nanos(wall_ns as u64),
        cpu: Duration::from_micros(cpu_us as u64),
        maxrss_kib: maxrss_kib as u64,
        success: exited == 1 && code == 0,
        code: (exited == 1).then_some(code as i32),
    })
}

/// The helper: spawn, time, reap with `wait4`, print
/// `wall_ns cpu_us maxrss_kib exited code`.
#[cfg(target_os = "linux")]
pub fn measure_helper(argv: &[std::ffi::OsString]) -> i32 {
    let Some((program, args)) = argv.split_first() else { return 2 };
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot run {program:?}: {e}");
            return 2;
        }
    };
    let (status, usage) = match sys::wait_rusage(child.id()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wait4: {e}");
            return 2;
        }
    };
    let wall = start.elapsed();
    // Already reaped; dropping a `Child` does not wait on it.
    drop(child);
    let us = |t: [i64; 2]| t[0] * 1_000_000 + t[1];
    let exited = status & 0x7f == 0;
    let code = (status >> 8) & 0xff;
    println!("{} {} {} {} {}", wall.as_nanos(), us(usage.utime) + us(usage.stime), usage.maxrss, u8::from(exited), code);
    0
}

#[cfg(not(target_os = "linux"))]
pub fn measure_helper(_: &[std::ffi::OsString]) -> i32 {
    2
}

#[cfg(not(target_os = "linux"))]
pub fn run_measured(mut cmd: Command) -> AnyResult<Measured> {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status()?;
    Ok(Measured { wall: start.elapsed(), cpu: Duration::ZERO, maxrss_kib: 0, success: status.success(), code: status.code() })
}

/// The fraction of all CPUs busy over `window` while this benchmark runs
/// nothing, from /proc/stat.
pub fn background_cpu(window: Duration) -> Option<f64> {
    fn sample() -> Option<(u64, u64)> {
        let stat = fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
        let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
        Some((fields.iter().sum(), idle))
    }
    let (total0, idle0) = sample()?;
    std::thread::sleep(window);
    let (total1, idle1) = sample()?;
    let total = total1.checked_sub(total0).filter(|t| *t > 0)?;
    Some(1.0 - idle1.saturating_sub(idle0) as f64 / total as f64)
}

pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "unknown".into())
}

/// Prints the load averages around the timings and the background CPU use
/// measured just before, warning (with `distorted`, what suffers) when other
/// processes were busy.
pub fn print_conditions(load_before: &str, load_after: &str, background: Option<f64>, distorted: &str) {
    println!("load average before: {load_before}");
    println!("load average after:  {load_after}");
    match background {
        Some(busy) => {
            println!("background CPU use just before timing: {:.0}% of all CPUs", busy * 100.0);
            if busy > 0.10 {
                println!("WARNING: other processes were using the CPUs; {distorted} (rerun on a quiet machine)");
            }
        }
        None => println!("background CPU use: unknown (no /proc/stat)"),
    }
}

/// A benchmark's `main`: the measuring helper when called as one, else `run`.
/// A benchmark that cannot run exits 2, unlike one that misses a limit.
pub fn bench_main(name: &str, run: fn() -> AnyResult<()>) {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == MEASURE_ARG) {
        std::process::exit(measure_helper(&args[2..]));
    }
    if let Err(e) = run() {
        eprintln!("{name} bench: {e}");
        std::process::exit(2);
    }
}
