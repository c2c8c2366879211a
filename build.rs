//! Embeds the built-in data files, `phases/*.toml` and `policies/**/*.rego`,
//! so the binary carries them, listed from the folders rather than named in code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let mut code = String::new();
    for (folder, extension, constant) in [("phases", "toml", "BUILTIN_PHASES"), ("policies", "rego", "BUILTIN_POLICIES")] {
        let dir = root.join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        collect(&dir, extension, &mut files);
        files.sort();
        let _ = writeln!(code, "/// The built-in `{folder}` files: (path relative to `{folder}/`, contents).\npub const {constant}: &[(&str, &str)] = &[");
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let relative = path.strip_prefix(&dir).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = writeln!(code, "    ({relative:?}, include_str!({:?})),", path.display().to_string());
        }
        code.push_str("];\n");
    }
    if let Err(e) = std::fs::write(out.join("builtin.rs"), code) {
        panic!("cannot write the embedded data list: {e}");
    }
}

/// Every file under `dir` (recursively) whose extension is `extension`.
fn collect(dir: &Path, extension: &str, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, extension, into);
        } else if path.extension().is_some_and(|x| x == extension) {
            into.push(path);
        }
    }
}
