//! Python: poetry.lock (`[[package]]` with its `files` hashes and
//! `[package.dependencies]`) and pinned requirements files as pip-compile
//! writes them (`name==version` with `--hash=` continuation lines and
//! `# via` annotations). Names are normalised as PEP 503 says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Ecosystem, Hash, HashAlg, Location, Package, Problem, SbomError, Scope, Source, Unpinned, pep503, toml_document};

/// Where packages come from when the lock file names no other index.
const PYPI: &str = "https://pypi.org/simple";

/// The packages of a poetry.lock; `pyproject` is the pyproject.toml beside
/// it, which names the direct dependencies.
pub(super) fn parse_poetry(path: &Path, text: &str, pyproject: Option<&str>) -> Result<Vec<Package>, SbomError> {
    let doc = toml_document(path, text)?;
    let entries = match doc.get("package") {
        None => return Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items,
        Some(_) => return Err(SbomError::invalid(path, Location::Field("package".into()), Problem::WrongType { expected: "an array of [[package]] tables" })),
    };
    // Poetry before 1.2 kept the file hashes in [metadata.files].
    let legacy_files = doc.get("metadata").and_then(|m| m.get("files")).and_then(toml::Value::as_table);
    let mut packages = Vec::new();
    let mut requires = Vec::new();
    for (i, item) in entries.iter().enumerate() {
        let (package, deps) = poetry_package(path, i, item, legacy_files)?;
        packages.push(package);
        requires.push(deps);
    }
    // A dependency names a distribution; every locked version of it counts
    // (Poetry locks one per set of environment markers).
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &packages {
        by_name.entry(p.name.clone()).or_default().push(p.purl.clone());
    }
    for (package, deps) in packages.iter_mut().zip(requires) {
        package.dependencies = Some(deps.iter().flat_map(|d| by_name.get(d).cloned().unwrap_or_default()).collect());
    }
    match pyproject.and_then(direct_names) {
        Some(direct) => packages.iter_mut().filter(|p| direct.contains(&p.name)).for_each(|p| p.direct = true),
        None => mark_roots(&mut packages),
    }
    Ok(packages)
}

fn poetry_package(path: &Path, index: usize, item: &toml::Value, legacy: Option<&toml::Table>) -> Result<(Package, Vec<String>), SbomError> {
    let at = |field: &str| Location::Field(format!("package[{index}]{field}"));
    let table = item.as_table().ok_or_else(|| SbomError::invalid(path, at(""), Problem::WrongType { expected: "a table" }))?;
    let text = |field: &'static str| match table.get(field) {
        Some(toml::Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(SbomError::invalid(path, at(&format!(".{field}")), Problem::WrongType { expected: "a string" })),
        None => Err(SbomError::invalid(path, at(&format!(".{field}")), Problem::Missing { field })),
    };
    let (name, version) = (pep503(text("name")?), text("version")?);
    let mut package = Package::new(Ecosystem::PyPI, &name, version, poetry_source(table.get("source")));
    let dev = table.get("category").and_then(toml::Value::as_str) == Some("dev");
    let outside_main = table.get("groups").and_then(toml::Value::as_array).is_some_and(|g| !g.iter().any(|g| g.as_str() == Some("main")));
    let optional = table.get("optional").and_then(toml::Value::as_bool) == Some(true);
    if dev || outside_main || optional {
        package.scope = Scope::Optional;
    }
    let files = table.get("files").or_else(|| legacy?.get(text("name").ok()?));
    for (j, file) in files.and_then(toml::Value::as_array).into_iter().flatten().enumerate() {
        let Some(hash) = file.get("hash").and_then(toml::Value::as_str) else { continue };
        let parsed = pip_hash(hash).ok_or_else(|| SbomError::invalid(path, at(&format!(".files[{j}].hash")), Problem::Hash { value: hash.to_owned() }))?;
        package.hashes.push(parsed);
    }
    let deps = table.get("dependencies").and_then(toml::Value::as_table).map(|d| d.keys().map(|k| pep503(k)).collect()).unwrap_or_default();
    Ok((package, deps))
}

fn poetry_source(source: Option<&toml::Value>) -> Source {
    let Some(source) = source else { return Source::Registry(PYPI.to_owned()) };
    let field = |f: &str| source.get(f).and_then(toml::Value::as_str).unwrap_or_default().to_owned();
    match field("type").as_str() {
        "git" => Source::Vcs(format!("git+{}@{}", field("url"), source.get("resolved_reference").and_then(toml::Value::as_str).unwrap_or(&field("reference")))),
        "directory" | "file" => Source::Local(field("url")),
        _ => Source::Registry(field("url")),
    }
}

/// The direct dependencies pyproject.toml declares, PEP 503-normalised:
/// PEP 621 `[project]` lists and Poetry's own tables.
fn direct_names(pyproject: &str) -> Option<BTreeSet<String>> {
    let doc: toml::Table = toml::from_str(pyproject).ok()?;
    let mut names = BTreeSet::new();
    let project = doc.get("project");
    let pep621 = project.and_then(|p| p.get("dependencies")).and_then(toml::Value::as_array).into_iter().flatten();
    let extras = project.and_then(|p| p.get("optional-dependencies")).and_then(toml::Value::as_table).into_iter().flat_map(|t| t.values());
    for spec in pep621.chain(extras.filter_map(toml::Value::as_array).flatten()).filter_map(toml::Value::as_str) {
        names.insert(pep503(requirement_name(spec)));
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let groups = poetry.and_then(|p| p.get("group")).and_then(toml::Value::as_table).into_iter().flat_map(|g| g.values().filter_map(|g| g.get("dependencies")));
    let tables = ["dependencies", "dev-dependencies"].into_iter().filter_map(|t| poetry?.get(t)).chain(groups);
    names.extend(tables.filter_map(toml::Value::as_table).flat_map(|t| t.keys()).filter(|k| *k != "python").map(|k| pep503(k)));
    Some(names)
}

/// Without pyproject.toml, packages no other locked package requires are
/// taken as direct.
fn mark_roots(packages: &mut [Package]) {
    let required: BTreeSet<String> = packages.iter().flat_map(|p| p.dependencies.iter().flatten().cloned()).collect();
    for package in packages {
        package.direct = !required.contains(&package.purl);
    }
}

/// A pip-style hash, `alg:hex`.
fn pip_hash(text: &str) -> Option<Hash> {
    let (alg, hex) = text.split_once(':')?;
    Hash::from_hex(HashAlg::from_name(alg)?, hex)
}

/// The distribution name at the start of a PEP 508 requirement.
fn requirement_name(spec: &str) -> &str {
    let end = spec.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(spec.len());
    &spec[..end]
}

/// One logical line of a requirements file: continuations joined, comment
/// dropped, with the line it starts on.
struct Logical {
    line: usize,
    text: String,
}

/// The packages of a requirements file. Every requirement must pin one
/// version (`==` or `===`); those that do not are all reported together.
pub(super) fn parse_requirements(path: &Path, text: &str) -> Result<Vec<Package>, SbomError> {
    let mut index = PYPI.to_owned();
    let mut packages: Vec<Package> = Vec::new();
    let mut unpinned = Vec::new();
    let (lines, via) = logical_lines(text);
    for Logical { line, text } in lines {
        if let Some(option) = text.strip_prefix('-') {
            match option_line(option) {
                OptionLine::Index(url) => index = url,
                OptionLine::Ignored => {}
                OptionLine::NotFollowed => unpinned.push(Unpinned { line, requirement: text }),
            }
            continue;
        }
        match requirement(path, line, &text, &index)? {
            Some(package) => packages.push(package),
            None => unpinned.push(Unpinned { line, requirement: text.split(" --hash").next().unwrap_or(&text).trim().to_owned() }),
        }
    }
    if !unpinned.is_empty() {
        return Err(SbomError::Unpinned { path: path.to_owned(), requirements: unpinned });
    }
    apply_via(&mut packages, &via);
    Ok(packages)
}

/// The logical lines and, from pip-compile's `# via` annotations, which
/// names each requirement (by its index among requirement lines) comes via.
fn logical_lines(text: &str) -> (Vec<Logical>, BTreeMap<usize, Vec<String>>) {
    let mut out: Vec<Logical> = Vec::new();
    let mut via: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut pending: Option<Logical> = None;
    let mut in_via = false;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if let Some(body) = trimmed.strip_prefix('#') {
            // An annotation belongs to the requirement just before it.
            let owner = out.iter().filter(|l| !l.text.starts_with('-')).count().checked_sub(1);
            let words: Vec<&str> = body.split_whitespace().collect();
            match (owner, words.as_slice()) {
                (Some(owner), ["via", rest @ ..]) => {
                    in_via = true;
                    if !rest.is_empty() {
                        via.entry(owner).or_default().push(rest.join(" "));
                    }
                }
                // The lines after a bare "# via" are indented one level more.
                (Some(owner), [_, ..]) if in_via && body.starts_with("  ") => via.entry(owner).or_default().push(words.join(" ")),
                _ => in_via = false,
            }
            continue;
        }
        in_via = false;
        // A '#' after whitespace starts a comment; one inside a URL does not.
        let content = raw.find(" #").map_or(raw, |c| &raw[..c]);
        let (content, continues) = match content.trim_end().strip_suffix('\\') {
            Some(rest) => (rest, true),
            None => (content, false),
        };
        let logical = pending.get_or_insert_with(|| Logical { line: i + 1, text: String::new() });
        if !logical.text.is_empty() {
            logical.text.push(' ');
        }
        logical.text.push_str(content.trim());
        if !continues {
            let done = pending.take().filter(|l| !l.text.is_empty());
            out.extend(done);
        }
    }
    out.extend(pending.filter(|l| !l.text.is_empty()));
    (out, via)
}

enum OptionLine {
    Index(String),
    Ignored,
    NotFollowed,
}

/// An option line: `-i`/`--index-url` sets where packages come from; `-r`,
/// `-c` and `-e` point at other files or folders, which are not followed
/// and so cannot be pinned here; the rest do not change what is installed.
fn option_line(option: &str) -> OptionLine {
    let option = option.trim_start_matches('-');
    let (flag, value) = option.split_once(['=', ' ']).map_or((option, ""), |(f, v)| (f, v.trim()));
    match flag {
        "i" | "index-url" => OptionLine::Index(value.to_owned()),
        "r" | "requirement" | "c" | "constraint" | "e" | "editable" => OptionLine::NotFollowed,
        _ => OptionLine::Ignored,
    }
}

/// A requirement line as a package, `None` when it does not pin one version.
fn requirement(path: &Path, line: usize, text: &str, index: &str) -> Result<Option<Package>, SbomError> {
    let mut tokens = text.split_whitespace().peekable();
    let mut spec = String::new();
    let mut hashes = Vec::new();
    while let Some(token) = tokens.next() {
        if let Some(hash) = token.strip_prefix("--hash") {
            let value = hash.strip_prefix('=').map(str::to_owned).or_else(|| tokens.next().map(str::to_owned)).unwrap_or_default();
            hashes.push(pip_hash(&value).ok_or_else(|| SbomError::invalid(path, Location::Line(line), Problem::Hash { value }))?);
        } else if !token.starts_with("--") {
            spec.push_str(token);
        }
    }
    // Environment markers after ';' do not change the pin.
    let spec = spec.split(';').next().unwrap_or_default();
    let name = requirement_name(spec);
    let valid = !name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphanumeric()) && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        return Err(SbomError::invalid(path, Location::Line(line), Problem::Line { expected: "a requirement such as name==1.2.3" }));
    }
    let rest = &spec[name.len()..];
    let rest = match rest.strip_prefix('[') {
        Some(extras) => extras.split_once(']').map_or("", |(_, r)| r),
        None => rest,
    };
    let version = rest.strip_prefix("===").or_else(|| rest.strip_prefix("=="));
    let pinned = version.filter(|v| !v.is_empty() && !v.contains([',', '*', '<', '>', '!', '~', '=', '@']));
    Ok(pinned.map(|v| {
        let mut package = Package::new(Ecosystem::PyPI, &pep503(name), v, Source::Registry(index.to_owned()));
        package.hashes = hashes;
        package.direct = true;
        package
    }))
}

/// pip-compile's `# via` annotations: `via x` means x depends on this
/// package; `via -r file` means the project does. Without any annotation the
/// graph is unknown and every requirement counts as direct.
fn apply_via(packages: &mut [Package], via: &BTreeMap<usize, Vec<String>>) {
    if via.is_empty() {
        return;
    }
    let purls: BTreeMap<String, String> = packages.iter().map(|p| (p.name.clone(), p.purl.clone())).collect();
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, package) in packages.iter_mut().enumerate() {
        let sources = via.get(&i).map(Vec::as_slice).unwrap_or_default();
        package.direct = sources.is_empty() || sources.iter().any(|s| s.starts_with('-'));
        for parent in sources.iter().filter(|s| !s.starts_with('-')) {
            if let Some(parent) = purls.get(&pep503(parent)) {
                edges.entry(parent.clone()).or_default().push(package.purl.clone());
            }
        }
    }
    for package in packages {
        package.dependencies = Some(edges.remove(&package.purl).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POETRY: &str = r#"# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "certifi"
version = "2024.7.4"
description = "Python package for providing Mozilla's CA Bundle."
optional = false
python-versions = ">=3.6"
files = [
    {file = "certifi-2024.7.4-py3-none-any.whl", hash = "sha256:c198e21b1289c2ab85ee4e67bb4b4ef3ead0892059901a8d5b622f24a1101e90"},
    {file = "certifi-2024.7.4.tar.gz", hash = "sha256:5a1e7645bc0ec61a09e26c36f6106dd4cf40c6db3a1fb6352b0244e7fb057c7b"},
]

[[package]]
name = "Requests"
version = "2.32.3"
description = "Python HTTP for Humans."
optional = false
python-versions = ">=3.8"
files = [
    {file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"},
]

[package.dependencies]
certifi = ">=2017.4.17"
charset-normalizer = ">=2,<4"

[[package]]
name = "pytest"
version = "8.3.2"
description = "pytest: simple powerful testing with Python"
optional = false
python-versions = ">=3.8"
files = []

[package.source]
type = "legacy"
url = "https://pypi.example.com/simple"
reference = "internal"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "0e4d5b1a"
"#;

    #[test]
    fn reads_poetry_hashes_dependencies_and_sources() {
        let packages = parse_poetry(Path::new("poetry.lock"), POETRY, None).unwrap();
        let requests = &packages[1];
        assert_eq!((requests.name.as_str(), requests.purl.as_str()), ("requests", "pkg:pypi/requests@2.32.3"));
        assert_eq!(requests.dependencies.as_deref().unwrap(), ["pkg:pypi/certifi@2024.7.4"], "an unlocked dependency is left out");
        assert_eq!(packages[0].hashes.len(), 2);
        assert!(requests.direct && !packages[0].direct, "without pyproject.toml, roots are the unrequired");
        assert_eq!(packages[2].source, Source::Registry("https://pypi.example.com/simple".into()));
        let pyproject = "[tool.poetry.dependencies]\npython = \"^3.11\"\nrequests = \"^2.32\"\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n";
        let packages = parse_poetry(Path::new("poetry.lock"), POETRY, Some(pyproject)).unwrap();
        assert_eq!(packages.iter().filter(|p| p.direct).map(|p| p.name.as_str()).collect::<Vec<_>>(), ["requests", "pytest"]);
    }

    #[test]
    fn poetry_errors_name_the_field() {
        let err = |t: &str| parse_poetry(Path::new("poetry.lock"), t, None).unwrap_err().to_string();
        assert!(err("[[package]]\nname = \"a\"\n").contains("package[0].version: no 'version'"));
        assert!(err("[[package]]\nname = \"a\"\nversion = \"1\"\nfiles = [{file = \"a.whl\", hash = \"md5:00\"}]\n").contains("package[0].files[0].hash: 'md5:00' is not a hash"));
        assert!(err("[[package]\n").starts_with("poetry.lock:1: not valid TOML"));
    }

    const COMPILED: &str = r#"#
# This file is autogenerated by pip-compile with Python 3.12
# by the following command:
#
#    pip-compile --generate-hashes requirements.in
#
--index-url https://pypi.org/simple

certifi==2024.7.4 \
    --hash=sha256:5a1e7645bc0ec61a09e26c36f6106dd4cf40c6db3a1fb6352b0244e7fb057c7b \
    --hash=sha256:c198e21b1289c2ab85ee4e67bb4b4ef3ead0892059901a8d5b622f24a1101e90
    # via requests
Requests[socks]==2.32.3 ; python_version >= "3.8" \
    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6
    # via
    #   -r requirements.in
    #   zope.interface
zope.Interface==7.0.1
    # via -r requirements.in
"#;

    #[test]
    fn reads_pinned_requirements_with_hashes_and_via() {
        let packages = parse_requirements(Path::new("requirements.txt"), COMPILED).unwrap();
        assert_eq!(packages.iter().map(|p| p.purl.as_str()).collect::<Vec<_>>(), ["pkg:pypi/certifi@2024.7.4", "pkg:pypi/requests@2.32.3", "pkg:pypi/zope-interface@7.0.1"]);
        assert_eq!(packages[0].hashes.len(), 2);
        assert!(!packages[0].direct && packages[1].direct && packages[2].direct);
        assert_eq!(packages[1].dependencies.as_deref().unwrap(), ["pkg:pypi/certifi@2024.7.4"]);
        assert_eq!(packages[2].dependencies.as_deref().unwrap(), ["pkg:pypi/requests@2.32.3"]);
        let plain = parse_requirements(Path::new("requirements.txt"), "flask==3.0.3\n").unwrap();
        assert!(plain[0].direct && plain[0].dependencies.is_none());
    }

    #[test]
    fn unpinned_requirements_are_all_reported() {
        let text = "flask==3.0.3\nrequests>=2.31\n-r other.txt\nnumpy==1.*\ndjango\n";
        let Err(SbomError::Unpinned { requirements, .. }) = parse_requirements(Path::new("requirements.txt"), text) else { panic!("unpinned accepted") };
        let lines: Vec<(usize, &str)> = requirements.iter().map(|u| (u.line, u.requirement.as_str())).collect();
        assert_eq!(lines, [(2, "requests>=2.31"), (3, "-r other.txt"), (4, "numpy==1.*"), (5, "django")]);
    }

    #[test]
    fn malformed_requirements_name_the_line() {
        let err = |t: &str| parse_requirements(Path::new("requirements.txt"), t).unwrap_err().to_string();
        assert!(err("a==1\nb==2 --hash=sha256:abc\n").starts_with("requirements.txt:2: 'sha256:abc' is not a hash"));
        assert!(err("a==1\n\n==2\n").starts_with("requirements.txt:3: expected a requirement"));
    }
}
