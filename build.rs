//! Embeds the built-in phase files (phases/*.toml) so the binary carries
//! them, listed from the folder rather than named in code.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    let mut code = String::new();
    for (folder, extension, constant) in [("phases", "toml", "BUILTIN_PHASES")] {
        let dir = Path::new(&root).join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == extension)).collect())
            .unwrap_or_default();
        files.sort();
        let _ = writeln!(code, "/// The built-in `{folder}/*.{extension}` files: (file name, contents).\npub const {constant}: &[(&str, &str)] = &[");
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string());
        }
        code.push_str("];\n");
    }
    if let Err(e) = std::fs::write(Path::new(&out).join("builtin.rs"), code) {
        panic!("cannot write the embedded data list: {e}");
    }
}
