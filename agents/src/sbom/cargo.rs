//! Cargo.lock, format versions 1 to 4: every `[[package]]` with its
//! `checksum` (SHA-256 of the `.crate` file) and `dependencies`, written as
//! `name`, `name version` or `name version (source)`. Packages without a
//! `source` are the workspace's own members and path dependencies.

use std::path::Path;

use super::{Ecosystem, Hash, HashAlg, Location, Package, Problem, SbomError, Source, toml_document};

struct Entry {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    dependencies: Vec<String>,
}

/// The packages of a Cargo.lock.
pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<Package>, SbomError> {
    let doc = toml_document(path, text)?;
    match doc.get("version") {
        None => {}
        Some(toml::Value::Integer(1..=4)) => {}
        Some(other) => return Err(SbomError::invalid(path, Location::Field("version".into()), Problem::UnsupportedVersion { found: other.to_string() })),
    }
    let entries = match doc.get("package") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items.iter().enumerate().map(|(i, item)| entry(path, i, item)).collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(SbomError::invalid(path, Location::Field("package".into()), Problem::WrongType { expected: "an array of [[package]] tables" })),
    };
    let metadata = doc.get("metadata").and_then(toml::Value::as_table);
    entries.iter().map(|e| package(path, e, &entries, metadata)).collect()
}

fn entry(path: &Path, index: usize, item: &toml::Value) -> Result<Entry, SbomError> {
    let at = |field: &str| Location::Field(format!("package[{index}].{field}"));
    let table = item.as_table().ok_or_else(|| SbomError::invalid(path, Location::Field(format!("package[{index}]")), Problem::WrongType { expected: "a table" }))?;
    let text = |field: &'static str, required: bool| -> Result<Option<String>, SbomError> {
        match table.get(field) {
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(SbomError::invalid(path, at(field), Problem::WrongType { expected: "a string" })),
            None if required => Err(SbomError::invalid(path, at(field), Problem::Missing { field })),
            None => Ok(None),
        }
    };
    let (name, version) = (text("name", true)?.unwrap_or_default(), text("version", true)?.unwrap_or_default());
    let dependencies = match table.get("dependencies") {
        None => Vec::new(),
        Some(toml::Value::Array(deps)) => deps
            .iter()
            .map(|d| d.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| SbomError::invalid(path, at("dependencies"), Problem::WrongType { expected: "an array of strings" }))?,
        Some(_) => return Err(SbomError::invalid(path, at("dependencies"), Problem::WrongType { expected: "an array of strings" })),
    };
    Ok(Entry { name, version, source: text("source", false)?, checksum: text("checksum", false)?, dependencies })
}

fn package(path: &Path, e: &Entry, all: &[Entry], metadata: Option<&toml::Table>) -> Result<Package, SbomError> {
    let field = |f: &str| Location::Field(format!("package \"{} {}\".{f}", e.name, e.version));
    let source = match e.source.as_deref() {
        None => Source::Local(String::new()),
        Some(s) if s.starts_with("git+") => Source::Vcs(s.to_owned()),
        Some(s) => Source::Registry(s.strip_prefix("registry+").or_else(|| s.strip_prefix("sparse+")).unwrap_or(s).to_owned()),
    };
    let mut package = Package::new(Ecosystem::Cargo, &e.name, &e.version, source);
    package.direct = package.is_local();
    // Format 1 keeps checksums in [metadata] under "checksum <name> <version> (<source>)".
    let legacy = e.source.as_ref().and_then(|s| metadata?.get(&format!("checksum {} {} ({s})", e.name, e.version))?.as_str().map(str::to_owned));
    if let Some(checksum) = e.checksum.clone().or(legacy).filter(|c| c != "<none>") {
        let hash = Hash::from_hex(HashAlg::Sha256, &checksum).ok_or_else(|| SbomError::invalid(path, field("checksum"), Problem::Hash { value: checksum.clone() }))?;
        package.hashes.push(hash);
    }
    let deps = e
        .dependencies
        .iter()
        .map(|d| resolve(d, all).map(|t| super::purl(Ecosystem::Cargo, &t.name, &t.version)).ok_or_else(|| SbomError::invalid(path, field("dependencies"), Problem::UnknownDependency { name: d.clone() })))
        .collect::<Result<Vec<_>, _>>()?;
    package.dependencies = Some(deps);
    Ok(package)
}

/// The entry a dependency string names: `name` when only one version is
/// locked, else `name version`, and `name version (source)` when the same
/// version comes from two sources.
fn resolve<'a>(dependency: &str, all: &'a [Entry]) -> Option<&'a Entry> {
    let mut parts = dependency.splitn(3, ' ');
    let name = parts.next()?;
    let version = parts.next();
    let source = parts.next().and_then(|s| s.strip_prefix('(')?.strip_suffix(')'));
    let mut matching = all.iter().filter(|e| e.name == name && version.is_none_or(|v| e.version == v) && source.is_none_or(|s| e.source.as_deref() == Some(s)));
    let first = matching.next()?;
    // A bare name is only valid when it is unambiguous.
    (version.is_some() || matching.next().is_none()).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "autocfg"
version = "1.4.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ace50bade8e6234aa140d9a2f552bbee1db4d353f69b8217bc503490fc1a9f26"

[[package]]
name = "num-traits"
version = "0.2.19"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "071dfc062690e90b734c0b2273ce72ad0ffa95f0c74596bc250dcfd960262841"
dependencies = [
 "autocfg",
]

[[package]]
name = "service"
version = "0.1.0"
dependencies = [
 "num-traits",
 "rand 0.8.5",
 "service-macros",
]

[[package]]
name = "service-macros"
version = "0.1.0"

[[package]]
name = "rand"
version = "0.8.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "34af8d1a0e25924bc5b7c43c079c942339d8f0a8b57c39049bef581b46327404"

[[package]]
name = "rand"
version = "0.9.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "9fbfd9d094a40bf3ae768db9361049ace4c0e04a4fd6b359518bd7b73a73dd97"

[[package]]
name = "tokio-macros"
version = "2.5.0"
source = "git+https://github.com/tokio-rs/tokio?rev=1a2b3c#1a2b3c4d5e6f"
"#;

    #[test]
    fn reads_checksums_dependencies_and_workspace_members() {
        let packages = parse(Path::new("Cargo.lock"), LOCK).unwrap();
        assert_eq!(packages.len(), 7);
        let num = packages.iter().find(|p| p.name == "num-traits").unwrap();
        assert_eq!(num.purl, "pkg:cargo/num-traits@0.2.19");
        assert_eq!(num.hashes, vec![Hash { alg: HashAlg::Sha256, hex: "071dfc062690e90b734c0b2273ce72ad0ffa95f0c74596bc250dcfd960262841".into() }]);
        assert_eq!(num.dependencies.as_deref(), Some(&["pkg:cargo/autocfg@1.4.0".to_owned()][..]));
        assert_eq!(num.source, Source::Registry("https://github.com/rust-lang/crates.io-index".into()));
        assert!(!num.direct);
        let service = packages.iter().find(|p| p.name == "service").unwrap();
        assert!(service.is_local() && service.direct && service.hashes.is_empty());
        assert_eq!(
            service.dependencies.as_deref().unwrap(),
            ["pkg:cargo/num-traits@0.2.19", "pkg:cargo/rand@0.8.5", "pkg:cargo/service-macros@0.1.0"]
        );
        let git = packages.iter().find(|p| p.name == "tokio-macros").unwrap();
        assert!(matches!(&git.source, Source::Vcs(url) if url.ends_with("#1a2b3c4d5e6f")));
    }

    #[test]
    fn format_one_checksums_come_from_metadata() {
        let lock = r#"
[[package]]
name = "libc"
version = "0.2.20"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.20 (registry+https://github.com/rust-lang/crates.io-index)" = "684f330624d8c3784fb9558ca46c4ce488073a8d22450415c5eb4f4cfb0d11b5"
"#;
        let packages = parse(Path::new("Cargo.lock"), lock).unwrap();
        assert_eq!(packages[0].hashes[0].hex, "684f330624d8c3784fb9558ca46c4ce488073a8d22450415c5eb4f4cfb0d11b5");
    }

    #[test]
    fn malformed_locks_name_the_place() {
        let err = |text: &str| parse(Path::new("Cargo.lock"), text).unwrap_err().to_string();
        assert!(err("version = 4\n[[package]\nname = 1").starts_with("Cargo.lock:2: not valid TOML"), "{}", err("version = 4\n[[package]\nname = 1"));
        assert!(err("version = 9").contains("lock file version 9 is not supported"));
        assert!(err("[[package]]\nname = \"a\"\n").contains("package[0].version: no 'version'"));
        let bad_sum = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\nchecksum = \"abc\"\n";
        assert!(err(bad_sum).contains("package \"a 1.0.0\".checksum: 'abc' is not a hash"));
        let dangling = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b\"]\n";
        assert!(err(dangling).contains("depends on 'b', which the lock file does not list"));
        let ambiguous = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b\"]\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n";
        assert!(err(ambiguous).contains("depends on 'b'"));
    }
}
