//! Lock files agree with their manifests: every dependency a manifest
//! declares is locked. Checked at the repository's top level for Cargo,
//! npm (package-lock, shrinkwrap, yarn, pnpm), Poetry, pip-tools and Go.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::{Check, Options};

const ID: &str = "lockfiles";

/// One manifest's verdict: `Ok(summary)` or `Err(problem)`.
type Verdict = Result<String, String>;

/// The check of one manifest against its lock file.
type Compare = fn(&Path) -> Verdict;

pub(super) fn consistent(options: &Options) -> Check {
    let dir = &options.repo;
    let checks: [(&str, Compare); 5] =
        [("Cargo.toml", cargo), ("package.json", npm), ("pyproject.toml", poetry), ("requirements.in", pip_tools), ("go.mod", go)];
    let mut passed = Vec::new();
    let mut problems = Vec::new();
    for (manifest, check) in checks {
        if !dir.join(manifest).is_file() {
            continue;
        }
        match check(dir) {
            Ok(summary) => passed.push(summary),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        Check::fail(ID, problems.join("; "))
    } else if passed.is_empty() {
        Check::pass(ID, "no manifest at the top level (Cargo.toml, package.json, pyproject.toml, requirements.in, go.mod), so nothing to keep in step")
    } else {
        Check::pass(ID, passed.join("; "))
    }
}

fn read(dir: &Path, name: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name} cannot be read: {e}"))
}

fn toml_file(dir: &Path, name: &str) -> Result<toml::Table, String> {
    read(dir, name)?.parse::<toml::Table>().map_err(|e| format!("{name} is not TOML: {}", e.message()))
}

/// The verdict for `manifest` given the names it declares and those its lock holds.
fn compare(manifest: &str, lock: &str, declared: BTreeSet<String>, locked: &BTreeSet<String>) -> Verdict {
    let missing: Vec<&String> = declared.iter().filter(|d| !locked.contains(*d)).collect();
    if missing.is_empty() {
        Ok(format!("{lock} locks all {} dependencies of {manifest}", declared.len()))
    } else {
        let names: Vec<&str> = missing.iter().take(10).map(|s| s.as_str()).collect();
        Err(format!("{lock} does not lock {} of {manifest}'s dependencies: {}; regenerate the lock file", missing.len(), names.join(", ")))
    }
}

fn cargo(dir: &Path) -> Verdict {
    let manifest = toml_file(dir, "Cargo.toml")?;
    if !dir.join("Cargo.lock").is_file() {
        return Err("Cargo.toml has no Cargo.lock beside it; run `cargo generate-lockfile` and commit it".into());
    }
    let lock = toml_file(dir, "Cargo.lock")?;
    let locked: BTreeSet<String> =
        lock.get("package").and_then(toml::Value::as_array).into_iter().flatten().filter_map(|p| p.get("name")?.as_str().map(str::to_owned)).collect();
    let mut tables: Vec<&toml::Table> = Vec::new();
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        tables.extend(manifest.get(key).and_then(toml::Value::as_table));
        for target in manifest.get("target").and_then(toml::Value::as_table).into_iter().flat_map(|t| t.values()) {
            tables.extend(target.get(key).and_then(toml::Value::as_table));
        }
    }
    tables.extend(manifest.get("workspace").and_then(|w| w.get("dependencies")).and_then(toml::Value::as_table));
    // A renamed dependency is locked under its package name.
    let declared = tables
        .iter()
        .flat_map(|t| t.iter())
        .filter(|(_, spec)| spec.get("workspace").and_then(toml::Value::as_bool) != Some(true))
        .map(|(name, spec)| spec.get("package").and_then(toml::Value::as_str).unwrap_or(name).to_owned())
        .collect();
    compare("Cargo.toml", "Cargo.lock", declared, &locked)
}

const NPM_SECTIONS: [&str; 4] = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"];

fn npm(dir: &Path) -> Verdict {
    let manifest: Value = serde_json::from_str(&read(dir, "package.json")?).map_err(|e| format!("package.json is not JSON: {e}"))?;
    let declared: BTreeSet<String> = NPM_SECTIONS.iter().filter_map(|s| manifest.get(*s).and_then(Value::as_object)).flat_map(|m| m.keys().cloned()).collect();
    let lock_name = ["package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"].into_iter().find(|l| dir.join(l).is_file());
    let Some(lock_name) = lock_name else {
        return if declared.is_empty() { Ok("package.json declares no dependencies".into()) } else { Err("package.json has no lock file beside it; run `npm install` and commit package-lock.json".into()) };
    };
    let text = read(dir, lock_name)?;
    if lock_name.ends_with(".json") {
        let lock: Value = serde_json::from_str(&text).map_err(|e| format!("{lock_name} is not JSON: {e}"))?;
        // lockfileVersion 2 and 3 copy the manifest's ranges into packages[""]:
        // any difference means the lock was made from another manifest.
        if let Some(root) = lock.pointer("/packages/").and_then(Value::as_object) {
            let changed: Vec<String> = NPM_SECTIONS
                .iter()
                .flat_map(|s| {
                    let want = manifest.get(*s).and_then(Value::as_object).cloned().unwrap_or_default();
                    let have = root.get(*s).and_then(Value::as_object).cloned().unwrap_or_default();
                    want.keys().chain(have.keys()).filter(|k| want.get(*k) != have.get(*k)).map(|k| format!("{k} ({s})")).collect::<Vec<_>>()
                })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            return if changed.is_empty() {
                Ok(format!("{lock_name} was made from this package.json ({} dependencies)", declared.len()))
            } else {
                Err(format!("{lock_name} disagrees with package.json on {}; run `npm install` and commit the lock file", changed.join(", ")))
            };
        }
        let locked: BTreeSet<String> = lock.get("dependencies").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        return compare("package.json", lock_name, declared, &locked);
    }
    // yarn.lock and pnpm-lock.yaml name each package at the start of an entry.
    let locked: BTreeSet<String> = declared.iter().filter(|d| text.contains(&format!("{d}@")) || text.contains(&format!("/{d}/")) || text.contains(&format!("'{d}'"))).cloned().collect();
    compare("package.json", lock_name, declared, &locked)
}

/// PEP 503 normalised name.
fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

/// The distribution name at the start of a PEP 508 requirement.
fn requirement_name(spec: &str) -> Option<String> {
    let name: String = spec.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    (!name.is_empty()).then(|| normalise(&name))
}

fn poetry(dir: &Path) -> Verdict {
    let manifest = toml_file(dir, "pyproject.toml")?;
    let poetry_deps = manifest.get("tool").and_then(|t| t.get("poetry")).and_then(|p| p.get("dependencies")).and_then(toml::Value::as_table);
    let mut declared: BTreeSet<String> = poetry_deps.into_iter().flat_map(|t| t.keys()).filter(|k| *k != "python").map(|k| normalise(k)).collect();
    declared.extend(
        manifest.get("project").and_then(|p| p.get("dependencies")).and_then(toml::Value::as_array).into_iter().flatten().filter_map(|d| d.as_str().and_then(requirement_name)),
    );
    if !dir.join("poetry.lock").is_file() {
        return if poetry_deps.is_some() { Err("pyproject.toml uses Poetry but has no poetry.lock; run `poetry lock` and commit it".into()) } else { Ok("pyproject.toml has no Poetry lock to compare".into()) };
    }
    let lock = toml_file(dir, "poetry.lock")?;
    let locked: BTreeSet<String> =
        lock.get("package").and_then(toml::Value::as_array).into_iter().flatten().filter_map(|p| p.get("name")?.as_str().map(normalise)).collect();
    compare("pyproject.toml", "poetry.lock", declared, &locked)
}

fn pip_tools(dir: &Path) -> Verdict {
    let names = |text: &str| -> BTreeSet<String> {
        text.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty() && !l.starts_with('-')).filter_map(requirement_name).collect()
    };
    let declared = names(&read(dir, "requirements.in")?);
    if !dir.join("requirements.txt").is_file() {
        return Err("requirements.in has no requirements.txt beside it; run `pip-compile` and commit it".into());
    }
    compare("requirements.in", "requirements.txt", declared, &names(&read(dir, "requirements.txt")?))
}

fn go(dir: &Path) -> Verdict {
    let text = read(dir, "go.mod")?;
    let mut required = Vec::new();
    let mut in_block = false;
    for line in text.lines().map(|l| l.split("//").next().unwrap_or("").trim()) {
        if line.starts_with("require (") {
            in_block = true;
        } else if in_block && line == ")" {
            in_block = false;
        } else if let Some(spec) = if in_block { Some(line) } else { line.strip_prefix("require ") } {
            let mut parts = spec.split_whitespace();
            if let (Some(module), Some(version)) = (parts.next(), parts.next()) {
                required.push(format!("{module} {version}"));
            }
        }
    }
    if required.is_empty() {
        return Ok("go.mod requires no modules".into());
    }
    if !dir.join("go.sum").is_file() {
        return Err("go.mod requires modules but has no go.sum; run `go mod tidy` and commit it".into());
    }
    let sums = read(dir, "go.sum")?;
    let locked: BTreeSet<String> = sums.lines().filter_map(|l| {
        let mut parts = l.split_whitespace();
        Some(format!("{} {}", parts.next()?, parts.next()?.trim_end_matches("/go.mod")))
    }).collect();
    compare("go.mod", "go.sum", required.into_iter().collect(), &locked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }

    #[test]
    fn cargo_dependencies_must_be_locked_under_their_package_names() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[
            ("Cargo.toml", "[package]\nname = \"app\"\n[dependencies]\nserde = \"1\"\njson = { package = \"serde_json\", version = \"1\" }\n[dev-dependencies]\ntempfile = \"3\"\n"),
            ("Cargo.lock", "version = 4\n[[package]]\nname = \"app\"\n[[package]]\nname = \"serde\"\n[[package]]\nname = \"serde_json\"\n"),
        ]);
        let err = cargo(dir.path()).unwrap_err();
        assert!(err.contains("does not lock 1 of Cargo.toml's dependencies: tempfile"), "{err}");
    }

    #[test]
    fn package_lock_must_be_made_from_this_manifest() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[
            ("package.json", r#"{"dependencies":{"express":"^4.19.0"},"devDependencies":{"jest":"^29.0.0"}}"#),
            ("package-lock.json", r#"{"lockfileVersion":3,"packages":{"":{"dependencies":{"express":"^4.18.0"},"devDependencies":{"jest":"^29.0.0"}}}}"#),
        ]);
        assert!(npm(dir.path()).unwrap_err().contains("disagrees with package.json on express (dependencies)"));
        write(dir.path(), &[("package-lock.json", r#"{"lockfileVersion":3,"packages":{"":{"dependencies":{"express":"^4.19.0"},"devDependencies":{"jest":"^29.0.0"}}}}"#)]);
        assert!(npm(dir.path()).is_ok());
    }

    #[test]
    fn poetry_pip_tools_and_go_are_compared_by_name() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[
            ("pyproject.toml", "[tool.poetry.dependencies]\npython = \"^3.11\"\nFlask = \"^3\"\n"),
            ("poetry.lock", "[[package]]\nname = \"flask\"\nversion = \"3.0.3\"\n"),
            ("requirements.in", "flask\nrequests>=2  # http\n"),
            ("requirements.txt", "flask==3.0.3\n"),
            ("go.mod", "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgolang.org/x/text v0.14.0 // indirect\n)\n"),
            ("go.sum", "github.com/google/uuid v1.6.0 h1:abc=\ngithub.com/google/uuid v1.6.0/go.mod h1:def=\n"),
        ]);
        assert!(poetry(dir.path()).is_ok());
        assert!(pip_tools(dir.path()).unwrap_err().contains(": requests;"));
        assert!(go(dir.path()).unwrap_err().contains("golang.org/x/text v0.14.0"));
    }
}
