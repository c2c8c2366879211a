//! package-lock.json and npm-shrinkwrap.json: the `packages` map of lock
//! files version 2 and 3 (keys are install folders such as
//! `node_modules/a/node_modules/b`), or the nested `dependencies` tree of
//! version 1. `integrity` (Subresource Integrity, base64) becomes hex.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::{Ecosystem, Hash, HashAlg, Location, Package, Problem, SbomError, Scope, Source, json_document};

const NODE_MODULES: &str = "node_modules/";

/// The packages of an npm lock file.
pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<Package>, SbomError> {
    let doc = json_document(path, text)?;
    let lock = doc.as_object().ok_or_else(|| SbomError::invalid(path, Location::File, Problem::WrongType { expected: "a JSON object" }))?;
    match lock.get("lockfileVersion") {
        Some(Value::Number(n)) if matches!(n.as_u64(), Some(1..=3)) => {}
        Some(other) => return Err(SbomError::invalid(path, Location::Field("lockfileVersion".into()), Problem::UnsupportedVersion { found: other.to_string() })),
        None => return Err(SbomError::invalid(path, Location::Field("lockfileVersion".into()), Problem::Missing { field: "lockfileVersion" })),
    }
    if let Some(packages) = lock.get("packages") {
        let packages = packages.as_object().ok_or_else(|| SbomError::invalid(path, Location::Field("packages".into()), Problem::WrongType { expected: "an object" }))?;
        return from_packages(path, packages);
    }
    match lock.get("dependencies") {
        Some(Value::Object(tree)) => {
            let mut out = Vec::new();
            walk_tree(path, tree, &mut vec![tree], "dependencies", &mut out)?;
            mark_roots(&mut out);
            Ok(out)
        }
        Some(_) => Err(SbomError::invalid(path, Location::Field("dependencies".into()), Problem::WrongType { expected: "an object" })),
        None => Ok(Vec::new()),
    }
}

/// Version 2 and 3: one entry per install folder.
fn from_packages(path: &Path, packages: &Map<String, Value>) -> Result<Vec<Package>, SbomError> {
    let mut out = Vec::new();
    for (key, entry) in packages {
        if key.is_empty() || entry.get("link").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let at = |field: &str| Location::Field(format!("packages[\"{key}\"]{field}"));
        let entry = entry.as_object().ok_or_else(|| SbomError::invalid(path, at(""), Problem::WrongType { expected: "an object" }))?;
        let installed = key.starts_with(NODE_MODULES) || key.contains("/node_modules/");
        let name = match entry.get("name") {
            Some(Value::String(n)) => n.clone(),
            Some(_) => return Err(SbomError::invalid(path, at(".name"), Problem::WrongType { expected: "a string" })),
            None => name_of(key).to_owned(),
        };
        let version = match entry.get("version") {
            Some(Value::String(v)) => v.clone(),
            Some(_) => return Err(SbomError::invalid(path, at(".version"), Problem::WrongType { expected: "a string" })),
            // A workspace folder without a version is the repository's own
            // code and names nothing to pin.
            None if !installed => continue,
            None => return Err(SbomError::invalid(path, at(".version"), Problem::Missing { field: "version" })),
        };
        let source = if installed { source_of(entry.get("resolved").and_then(Value::as_str)) } else { Source::Local(key.clone()) };
        let mut package = Package::new(Ecosystem::Npm, &name, &version, source);
        package.direct = package.is_local();
        flags(entry, &mut package);
        package.hashes = integrity(entry.get("integrity")).map_err(|value| SbomError::invalid(path, at(".integrity"), Problem::Hash { value }))?;
        package.dependencies = Some(dependency_names(entry).filter_map(|dep| resolve(packages, key, dep)).collect());
        out.push(package);
    }
    if let Some(root) = packages.get("").and_then(Value::as_object) {
        let direct: Vec<String> = dependency_names(root).filter_map(|dep| resolve(packages, "", dep)).collect();
        for package in out.iter_mut().filter(|p| direct.contains(&p.purl)) {
            package.direct = true;
        }
    }
    Ok(out)
}

/// The package name an install folder holds: what follows its last
/// `node_modules/`, or the folder's own name for a workspace member.
fn name_of(key: &str) -> &str {
    match key.rfind(NODE_MODULES) {
        Some(i) => &key[i + NODE_MODULES.len()..],
        None => key.rsplit('/').next().unwrap_or(key),
    }
}

/// The purl of the package `name` as Node resolves it from folder `from`:
/// `from/node_modules/name`, then each enclosing `node_modules`, then the
/// root's, following workspace links.
fn resolve(packages: &Map<String, Value>, from: &str, name: &str) -> Option<String> {
    let mut base = from.to_owned();
    loop {
        let key = if base.is_empty() { format!("{NODE_MODULES}{name}") } else { format!("{base}/{NODE_MODULES}{name}") };
        if let Some(entry) = packages.get(&key) {
            return purl_at(packages, &key, entry);
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind(NODE_MODULES) {
            Some(i) => base[..i].trim_end_matches('/').to_owned(),
            None => String::new(),
        };
    }
}

fn purl_at(packages: &Map<String, Value>, key: &str, entry: &Value) -> Option<String> {
    let entry = if entry.get("link").and_then(Value::as_bool) == Some(true) { packages.get(entry.get("resolved")?.as_str()?)? } else { entry };
    let name = entry.get("name").and_then(Value::as_str).unwrap_or_else(|| name_of(key));
    Some(super::purl(Ecosystem::Npm, name, entry.get("version")?.as_str()?))
}

/// The names an entry depends on, run-time and development alike: the lock
/// says which are installed, and scopes say which are development-only.
fn dependency_names(entry: &Map<String, Value>) -> impl Iterator<Item = &str> {
    ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]
        .into_iter()
        .filter_map(|field| entry.get(field)?.as_object())
        .flat_map(|deps| deps.keys().map(String::as_str))
}

fn source_of(resolved: Option<&str>) -> Source {
    match resolved {
        None => Source::Unstated,
        Some(r) if r.starts_with("git") || r.starts_with("github:") => Source::Vcs(r.to_owned()),
        Some(r) if r.starts_with("file:") => Source::Local(r.trim_start_matches("file:").to_owned()),
        Some(r) => Source::Registry(r.to_owned()),
    }
}

/// Development and optional packages are not needed to run; the property
/// says which it is.
fn flags(entry: &Map<String, Value>, package: &mut Package) {
    for (flag, property) in [("dev", "conductor:npm:dev"), ("optional", "conductor:npm:optional"), ("devOptional", "conductor:npm:devOptional")] {
        if entry.get(flag).and_then(Value::as_bool) == Some(true) {
            package.scope = Scope::Optional;
            package.properties.push((property.to_owned(), "true".to_owned()));
        }
    }
}

/// The hashes of an `integrity` value: space-separated `alg-base64`
/// entries, each possibly followed by `?options`.
fn integrity(value: Option<&Value>) -> Result<Vec<Hash>, String> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let text = value.as_str().ok_or_else(|| value.to_string())?;
    text.split_whitespace()
        .map(|sri| {
            let (alg, b64) = sri.split_once('-').ok_or_else(|| sri.to_owned())?;
            let b64 = b64.split('?').next().unwrap_or(b64);
            let alg = HashAlg::from_name(alg).ok_or_else(|| sri.to_owned())?;
            let bytes = STANDARD.decode(b64).map_err(|_| sri.to_owned())?;
            if bytes.len() != alg.digest_len() {
                return Err(sri.to_owned());
            }
            Ok(Hash { alg, hex: hex::encode(bytes) })
        })
        .collect()
}

/// Version 1: a tree of `dependencies`, each with `requires` resolved in its
/// own nested `dependencies` first, then in each enclosing level's.
fn walk_tree<'a>(path: &Path, level: &'a Map<String, Value>, scopes: &mut Vec<&'a Map<String, Value>>, at: &str, out: &mut Vec<Package>) -> Result<(), SbomError> {
    for (name, entry) in level {
        let field = format!("{at}[\"{name}\"]");
        let wrong = |f: &str, expected| SbomError::invalid(path, Location::Field(format!("{field}{f}")), Problem::WrongType { expected });
        let entry_map = entry.as_object().ok_or_else(|| wrong("", "an object"))?;
        let version = match entry.get("version") {
            Some(Value::String(v)) => v.as_str(),
            Some(_) => return Err(wrong(".version", "a string")),
            None => return Err(SbomError::invalid(path, Location::Field(format!("{field}.version")), Problem::Missing { field: "version" })),
        };
        let mut package = v1_package(name, version, entry.get("resolved").and_then(Value::as_str));
        flags(entry_map, &mut package);
        package.hashes = integrity(entry.get("integrity")).map_err(|value| SbomError::invalid(path, Location::Field(format!("{field}.integrity")), Problem::Hash { value }))?;
        let nested = match entry.get("dependencies") {
            Some(Value::Object(nested)) => Some(nested),
            Some(_) => return Err(wrong(".dependencies", "an object")),
            None => None,
        };
        scopes.extend(nested);
        let requires = entry.get("requires").and_then(Value::as_object).into_iter().flat_map(|r| r.keys());
        let deps = requires.filter_map(|dep| {
            let found = scopes.iter().rev().find_map(|scope| scope.get(dep))?;
            Some(v1_package(dep, found.get("version")?.as_str()?, None).purl)
        });
        package.dependencies = Some(deps.collect());
        if let Some(nested) = nested {
            walk_tree(path, nested, scopes, &format!("{field}.dependencies"), out)?;
            scopes.pop();
        }
        out.push(package);
    }
    Ok(())
}

/// A version 1 entry, whose version may be an alias (`npm:real@1.0.0`) or a
/// git URL with the commit after `#`.
fn v1_package(name: &str, version: &str, resolved: Option<&str>) -> Package {
    if let Some((real, v)) = version.strip_prefix("npm:").and_then(|a| a.rsplit_once('@')) {
        return Package::new(Ecosystem::Npm, real, v, source_of(resolved));
    }
    if version.contains(':') {
        let commit = version.rsplit_once('#').map_or(version, |(_, c)| c);
        return Package::new(Ecosystem::Npm, name, commit, Source::Vcs(version.to_owned()));
    }
    Package::new(Ecosystem::Npm, name, version, source_of(resolved))
}

/// Version 1 does not say which packages the root requires: those no other
/// package requires are taken as direct.
fn mark_roots(packages: &mut [Package]) {
    let required: std::collections::BTreeSet<String> = packages.iter().flat_map(|p| p.dependencies.iter().flatten().cloned()).collect();
    for package in packages {
        package.direct = !required.contains(&package.purl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock file as npm 10 writes it, with a scoped package, a nested
    /// second version, a dev dependency and a workspace link.
    const V3: &str = r#"{
  "name": "web",
  "version": "1.2.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "web",
      "version": "1.2.0",
      "workspaces": ["packages/ui"],
      "dependencies": { "@babel/runtime": "^7.24.0", "ms": "^2.1.3", "ui": "*" },
      "devDependencies": { "debug": "^4.3.4" }
    },
    "node_modules/@babel/runtime": {
      "version": "7.24.4",
      "resolved": "https://registry.npmjs.org/@babel/runtime/-/runtime-7.24.4.tgz",
      "integrity": "sha512-dkxf7+hn8mFBwKjs9bvBlArzLVxVbS8usaPUDd5p2a9JCL9tB8OaOVN1isD4+Xyk4ns89/xeOmbQvgdK7IIVdA==",
      "license": "MIT",
      "dependencies": { "regenerator-runtime": "^0.14.0" },
      "engines": { "node": ">=6.9.0" }
    },
    "node_modules/debug": {
      "version": "4.3.4",
      "resolved": "https://registry.npmjs.org/debug/-/debug-4.3.4.tgz",
      "integrity": "sha512-PRWFHuSU3eDtQJPvnNY7Jcket1j0t5OuOsFzPPzsekD52Zl8qUfFIPEiswXqIvHWGVHOgX+7G/vCNNhehwxfkQ==",
      "dev": true,
      "dependencies": { "ms": "2.1.2" }
    },
    "node_modules/debug/node_modules/ms": {
      "version": "2.1.2",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.2.tgz",
      "integrity": "sha512-sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w==",
      "dev": true
    },
    "node_modules/ms": {
      "version": "2.1.3",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
    },
    "node_modules/regenerator-runtime": {
      "version": "0.14.1",
      "resolved": "https://registry.npmjs.org/regenerator-runtime/-/regenerator-runtime-0.14.1.tgz",
      "integrity": "sha1-NWreECY/aF3aElEAzYYsHbiVMn8="
    },
    "node_modules/ui": { "resolved": "packages/ui", "link": true },
    "packages/ui": { "name": "ui", "version": "0.3.0", "dependencies": { "ms": "^2.1.3" } }
  }
}"#;

    #[test]
    fn reads_a_version_3_lock() {
        let packages = parse(Path::new("package-lock.json"), V3).unwrap();
        let by = |purl: &str| packages.iter().find(|p| p.purl == purl).unwrap_or_else(|| panic!("{purl} missing"));
        let babel = by("pkg:npm/%40babel/runtime@7.24.4");
        assert_eq!(babel.name, "@babel/runtime");
        assert_eq!(babel.hashes[0].alg, HashAlg::Sha512);
        assert_eq!(&babel.hashes[0].hex[..16], "764c5fefe867f261");
        assert_eq!(babel.dependencies.as_deref().unwrap(), ["pkg:npm/regenerator-runtime@0.14.1"]);
        assert!(babel.direct && babel.scope == Scope::Required);
        assert_eq!(by("pkg:npm/regenerator-runtime@0.14.1").hashes[0], Hash { alg: HashAlg::Sha1, hex: "356ade10263f685dda125100cd862c1db895327f".into() });
        let debug = by("pkg:npm/debug@4.3.4");
        assert_eq!(debug.scope, Scope::Optional);
        assert!(debug.direct);
        assert_eq!(debug.dependencies.as_deref().unwrap(), ["pkg:npm/ms@2.1.2"], "the nested copy wins");
        assert!(!by("pkg:npm/ms@2.1.2").direct);
        let ui = by("pkg:npm/ui@0.3.0");
        assert!(ui.is_local() && ui.direct);
        assert_eq!(ui.dependencies.as_deref().unwrap(), ["pkg:npm/ms@2.1.3"]);
        assert_eq!(packages.len(), 6, "the link is not a package of its own");
    }

    #[test]
    fn reads_a_version_1_tree() {
        let lock = r#"{"name":"old","lockfileVersion":1,"dependencies":{
            "a":{"version":"1.0.0","integrity":"sha1-NWreECY/aF3aElEAzYYsHbiVMn8=","requires":{"b":"^2"},
                 "dependencies":{"b":{"version":"2.0.0"}}},
            "b":{"version":"1.0.0","dev":true},
            "c":{"version":"github:user/c#0123abc","requires":{"b":"1"}}}}"#;
        let packages = parse(Path::new("package-lock.json"), lock).unwrap();
        let a = packages.iter().find(|p| p.name == "a").unwrap();
        assert_eq!(a.dependencies.as_deref().unwrap(), ["pkg:npm/b@2.0.0"]);
        assert!(a.direct);
        let c = packages.iter().find(|p| p.name == "c").unwrap();
        assert_eq!((c.version.as_str(), c.dependencies.as_deref().unwrap()), ("0123abc", &["pkg:npm/b@1.0.0".to_owned()][..]));
        assert!(!packages.iter().find(|p| p.purl == "pkg:npm/b@2.0.0").unwrap().direct);
    }

    #[test]
    fn malformed_locks_name_the_field() {
        let err = |text: &str| parse(Path::new("package-lock.json"), text).unwrap_err().to_string();
        assert!(err("{\"lockfileVersion\": 3,\n \"packages\": {").starts_with("package-lock.json:2: not valid JSON"));
        assert!(err(r#"{"lockfileVersion": 7}"#).contains("lock file version 7 is not supported"));
        assert!(err(r#"{"packages": {}}"#).contains("no 'lockfileVersion'"));
        let bad = r#"{"lockfileVersion":3,"packages":{"node_modules/x":{"version":"1.0.0","integrity":"sha512-not base64!"}}}"#;
        assert!(err(bad).contains(r#"packages["node_modules/x"].integrity: 'sha512-not' is not a hash"#), "{}", err(bad));
        let short = r#"{"lockfileVersion":3,"packages":{"node_modules/x":{"version":"1.0.0","integrity":"sha256-AAAA"}}}"#;
        assert!(err(short).contains("'sha256-AAAA' is not a hash"));
        let unversioned = r#"{"lockfileVersion":3,"packages":{"node_modules/x":{}}}"#;
        assert!(err(unversioned).contains(r#"packages["node_modules/x"].version: no 'version'"#));
    }
}
