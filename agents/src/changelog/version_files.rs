//! The version in a project's manifests, edited in place: only the version
//! token changes, so comments, order and spacing stay as they were.
//!
//! Cargo.toml (`[package] version`, `[workspace.package] version` and the
//! literal versions of workspace members, with the members' entries in
//! Cargo.lock), package.json (`version`), pyproject.toml (`[project]` or
//! `[tool.poetry]` `version`), setup.cfg (`[metadata] version`), setup.py
//! (`version="..."`) and VERSION. A file that is not there is skipped; a
//! file that is there without a version it can find is an error naming the
//! file and the field. Every edit is computed before any file is written.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use toml::de::{DeTable, DeValue};

use super::ChangelogError;

use toml::Spanned;

/// One version replaced in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The file, as found under the root.
    pub path: PathBuf,
    /// The field, such as `[package] version`.
    pub field: String,
    /// The version it held.
    pub from: String,
    /// The version it gets.
    pub to: String,
}

/// The edits for a new version, computed and not yet written.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// What changes, file by file.
    pub edits: Vec<Edit>,
    /// Each changed file's new content.
    contents: Vec<(PathBuf, String)>,
}

/// A function that finds the version tokens of one kind of manifest.
type Finder = fn(&Path, &str) -> Result<Vec<Found>, ChangelogError>;

/// A version token found in a file.
#[derive(Debug)]
struct Found {
    span: Range<usize>,
    field: String,
}

/// The edits that set `version` in the manifests at `root`.
pub fn plan(root: &Path, version: &str) -> Result<Plan, ChangelogError> {
    let mut plan = Plan::default();
    let mut crates = Vec::new();
    let cargo = root.join("Cargo.toml");
    if let Some(text) = read_if_there(&cargo)? {
        let mut manifests = vec![(cargo.clone(), text.clone(), cargo_manifest(&cargo, &text, true)?)];
        for member in cargo_members(root, &cargo, &text)? {
            let text = read(&member)?;
            let found = cargo_manifest(&member, &text, false)?;
            manifests.push((member, text, found));
        }
        crates.extend(manifests.iter().flat_map(|(_, _, (_, names))| names.iter().cloned()));
        // Path dependencies on the workspace's own crates require the new version too.
        for (path, text, (mut found, _)) in manifests {
            found.extend(path_dependencies(&path, &text, &crates)?);
            plan.add(&path, &text, found, version, false);
        }
        let lock = root.join("Cargo.lock");
        if let Some(text) = read_if_there(&lock)? {
            let found = cargo_lock(&lock, &text, &crates)?;
            plan.add(&lock, &text, found, version, false);
        }
    }
    let simple: [(&str, Finder); 5] =
        [("package.json", package_json), ("pyproject.toml", pyproject), ("setup.cfg", setup_cfg), ("setup.py", setup_py), ("VERSION", version_file)];
    for (name, find) in simple {
        let path = root.join(name);
        if let Some(text) = read_if_there(&path)? {
            let found = find(&path, &text)?;
            plan.add(&path, &text, found, version, name == "VERSION");
        }
    }
    Ok(plan)
}

/// One manifest's text (named by its file name: Cargo.toml, package.json,
/// pyproject.toml, setup.cfg, setup.py or VERSION) with its version set, or
/// `None` when it holds no version to change. The same search and edit
/// [`plan`] makes, on text alone.
pub fn set_in_text(name: &str, text: &str, version: &str) -> Result<Option<String>, ChangelogError> {
    let path = Path::new(name);
    let found = match name {
        "Cargo.toml" => cargo_manifest(path, text, true)?.0,
        "package.json" => package_json(path, text)?,
        "pyproject.toml" => pyproject(path, text)?,
        "setup.cfg" => setup_cfg(path, text)?,
        "setup.py" => setup_py(path, text)?,
        "VERSION" => version_file(path, text)?,
        _ => return Ok(None),
    };
    let mut plan = Plan::default();
    plan.add(path, text, found, version, name == "VERSION");
    Ok(plan.contents.pop().map(|(_, content)| content))
}

impl Plan {
    fn add(&mut self, path: &Path, text: &str, mut found: Vec<Found>, version: &str, keep_v: bool) {
        if found.is_empty() {
            return;
        }
        found.sort_by_key(|f| f.span.start);
        found.dedup_by_key(|f| f.span.start);
        let mut content = String::with_capacity(text.len() + 16 * found.len());
        let mut at = 0;
        for f in &found {
            let from = &text[f.span.clone()];
            let to = if keep_v && from.starts_with('v') { format!("v{version}") } else { version.to_owned() };
            content.push_str(&text[at..f.span.start]);
            content.push_str(&to);
            at = f.span.end;
            self.edits.push(Edit { path: path.to_owned(), field: f.field.clone(), from: from.to_owned(), to });
        }
        content.push_str(&text[at..]);
        self.contents.push((path.to_owned(), content));
    }

    /// Whether any file would change.
    pub fn is_empty(&self) -> bool {
        self.contents.is_empty()
    }

    /// Writes every changed file: each new content goes to a temporary file
    /// beside its target first, and only when all are written are they
    /// renamed into place, so a failure leaves every manifest as it was.
    pub fn write(&self) -> Result<(), ChangelogError> {
        let mut temps: Vec<(PathBuf, &Path)> = Vec::new();
        for (path, content) in &self.contents {
            let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let temp = path.with_file_name(format!(".{name}.conductor-version"));
            if let Err(source) = write_synced(&temp, content.as_bytes()) {
                for (t, _) in &temps {
                    let _ = std::fs::remove_file(t);
                }
                let _ = std::fs::remove_file(&temp);
                return Err(ChangelogError::Write { path: path.clone(), source });
            }
            temps.push((temp, path));
        }
        for (temp, path) in &temps {
            std::fs::rename(temp, path).map_err(|source| ChangelogError::Write { path: path.to_path_buf(), source })?;
        }
        Ok(())
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn read(path: &Path) -> Result<String, ChangelogError> {
    std::fs::read_to_string(path).map_err(|source| ChangelogError::Read { path: path.to_owned(), source })
}

fn read_if_there(path: &Path) -> Result<Option<String>, ChangelogError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ChangelogError::Read { path: path.to_owned(), source }),
    }
}

/// Whether a found value looks like a version (starts with a digit).
fn check_version(path: &Path, field: &str, value: &str) -> Result<(), ChangelogError> {
    if value.trim_start_matches('v').starts_with(|c: char| c.is_ascii_digit()) && !value.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(ChangelogError::manifest(path, field, format!("'{value}' is not a version; write one such as \"1.2.0\"")))
    }
}

// --- TOML ------------------------------------------------------------------

fn toml_doc<'i>(path: &Path, text: &'i str) -> Result<DeTable<'i>, ChangelogError> {
    DeTable::parse(text).map(Spanned::into_inner).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        ChangelogError::manifest(path, format!("line {line}"), format!("not valid TOML: {}; fix the file and run again", e.message().trim()))
    })
}

fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table.iter().find(|(k, _)| k.get_ref().as_ref() == key).map(|(_, v)| v)
}

fn table<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    match get(table, key).map(Spanned::get_ref) {
        Some(DeValue::Table(t)) => Some(t),
        _ => None,
    }
}

/// The span of a string value's content, inside its quotes.
fn string_span(text: &str, value: &Spanned<DeValue<'_>>) -> Option<Range<usize>> {
    let DeValue::String(_) = value.get_ref() else { return None };
    let span = value.span();
    let raw = &text[span.clone()];
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") { 3 } else { 1 };
    (raw.len() >= 2 * quote).then(|| span.start + quote..span.end - quote)
}

/// A string `version` in a TOML table, checked.
fn toml_version(path: &Path, text: &str, table: &DeTable<'_>, field: &str) -> Result<Option<Found>, ChangelogError> {
    let Some(value) = get(table, "version") else { return Ok(None) };
    let span = string_span(text, value).ok_or_else(|| ChangelogError::manifest(path, field, "must be a string such as \"1.2.0\""))?;
    check_version(path, field, &text[span.clone()])?;
    Ok(Some(Found { span, field: field.to_owned() }))
}

/// The versions a Cargo manifest holds and the names of the packages whose
/// version changes with them (for Cargo.lock).
fn cargo_manifest(path: &Path, text: &str, root: bool) -> Result<(Vec<Found>, Vec<String>), ChangelogError> {
    let doc = toml_doc(path, text)?;
    let mut found = Vec::new();
    let mut names = Vec::new();
    let workspace_version = table(&doc, "workspace").and_then(|w| table(w, "package"));
    if let Some(wp) = workspace_version {
        found.extend(toml_version(path, text, wp, "[workspace.package] version")?);
    }
    if let Some(package) = table(&doc, "package") {
        let name = get(package, "name").and_then(|n| if let DeValue::String(s) = n.get_ref() { Some(s.to_string()) } else { None });
        match get(package, "version").map(Spanned::get_ref) {
            Some(DeValue::Table(t)) if get(t, "workspace").is_some() => names.extend(name),
            Some(_) => {
                found.extend(toml_version(path, text, package, "[package] version")?);
                names.extend(name);
            }
            None => return Err(ChangelogError::manifest(path, "[package] version", "missing; add version = \"0.1.0\" or version.workspace = true")),
        }
    }
    if root && found.is_empty() && table(&doc, "package").is_none() && table(&doc, "workspace").is_some() && workspace_version.is_none() {
        // A virtual manifest without a shared version: the members carry theirs.
        return Ok((found, names));
    }
    if root && found.is_empty() && names.is_empty() {
        return Err(ChangelogError::manifest(path, "[package] version", "no version in [package] or [workspace.package]; add version = \"0.1.0\""));
    }
    Ok((found, names))
}

/// The `version` requirements of path dependencies on the workspace's own
/// crates (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`
/// and `[workspace.dependencies]`); an operator before the version (`=`,
/// `^`, `~`) is kept.
fn path_dependencies(path: &Path, text: &str, crates: &[String]) -> Result<Vec<Found>, ChangelogError> {
    let doc = toml_doc(path, text)?;
    let workspace = table(&doc, "workspace");
    let sections = [
        ("dependencies", table(&doc, "dependencies")),
        ("dev-dependencies", table(&doc, "dev-dependencies")),
        ("build-dependencies", table(&doc, "build-dependencies")),
        ("workspace.dependencies", workspace.and_then(|w| table(w, "dependencies"))),
    ];
    let mut found = Vec::new();
    for (section, deps) in sections {
        for (key, value) in deps.into_iter().flat_map(|d| d.iter()) {
            let DeValue::Table(dep) = value.get_ref() else { continue };
            let package = get(dep, "package").and_then(|p| if let DeValue::String(s) = p.get_ref() { Some(s.to_string()) } else { None });
            let name = package.unwrap_or_else(|| key.get_ref().to_string());
            if get(dep, "path").is_none() || !crates.contains(&name) {
                continue;
            }
            let Some(span) = get(dep, "version").and_then(|v| string_span(text, v)) else { continue };
            let operator = text[span.clone()].len() - text[span.clone()].trim_start_matches(['=', '^', '~', ' ']).len();
            let span = span.start + operator..span.end;
            let field = format!("[{section}] {} version", key.get_ref());
            check_version(path, &field, &text[span.clone()])?;
            found.push(Found { span, field });
        }
    }
    Ok(found)
}

/// The manifests of the workspace members `members` lists (folders, or
/// globs ending in `*`), without the root itself.
fn cargo_members(root: &Path, path: &Path, text: &str) -> Result<Vec<PathBuf>, ChangelogError> {
    let doc = toml_doc(path, text)?;
    let Some(DeValue::Array(members)) = table(&doc, "workspace").and_then(|w| get(w, "members")).map(Spanned::get_ref) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for member in members.iter() {
        let DeValue::String(pattern) = member.get_ref() else { continue };
        let pattern = pattern.trim_end_matches('/');
        if pattern == "." || pattern.is_empty() {
            continue;
        }
        if let Some(parent) = pattern.strip_suffix("/*") {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join(parent)).into_iter().flatten().flatten().map(|e| e.path().join("Cargo.toml")).filter(|p| p.is_file()).collect();
            dirs.sort();
            out.extend(dirs);
        } else {
            let manifest = root.join(pattern).join("Cargo.toml");
            if manifest.is_file() {
                out.push(manifest);
            }
        }
    }
    Ok(out)
}

/// The versions of the workspace's own packages in Cargo.lock (entries with
/// no `source`).
fn cargo_lock(path: &Path, text: &str, names: &[String]) -> Result<Vec<Found>, ChangelogError> {
    let doc = toml_doc(path, text)?;
    let Some(DeValue::Array(packages)) = get(&doc, "package").map(Spanned::get_ref) else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for package in packages.iter() {
        let DeValue::Table(entry) = package.get_ref() else { continue };
        let name = get(entry, "name").and_then(|n| if let DeValue::String(s) = n.get_ref() { Some(s.to_string()) } else { None });
        if get(entry, "source").is_some() || !name.as_ref().is_some_and(|n| names.contains(n)) {
            continue;
        }
        let field = format!("[[package]] {} version", name.unwrap_or_default());
        found.extend(toml_version(path, text, entry, &field)?);
    }
    Ok(found)
}

fn pyproject(path: &Path, text: &str) -> Result<Vec<Found>, ChangelogError> {
    let doc = toml_doc(path, text)?;
    let poetry = table(&doc, "tool").and_then(|t| table(t, "poetry"));
    if let Some(project) = table(&doc, "project") {
        if let Some(found) = toml_version(path, text, project, "[project] version")? {
            return Ok(vec![found]);
        }
        let dynamic = matches!(get(project, "dynamic").map(Spanned::get_ref), Some(DeValue::Array(a)) if a.iter().any(|v| matches!(v.get_ref(), DeValue::String(s) if s == "version")));
        if dynamic {
            return Ok(Vec::new());
        }
        if poetry.is_none() {
            return Err(ChangelogError::manifest(path, "[project] version", "missing; add version = \"0.1.0\" or list \"version\" in dynamic"));
        }
    }
    match poetry {
        Some(p) => toml_version(path, text, p, "[tool.poetry] version")?
            .map(|f| vec![f])
            .ok_or_else(|| ChangelogError::manifest(path, "[tool.poetry] version", "missing; add version = \"0.1.0\"")),
        // Tool settings only (ruff, black, ...): no package is described.
        None => Ok(Vec::new()),
    }
}

// --- Other formats ----------------------------------------------------------

/// The top-level `"version"` string of a JSON object, found by a scan that
/// tracks strings and nesting, after serde_json has checked the document.
fn package_json(path: &Path, text: &str) -> Result<Vec<Found>, ChangelogError> {
    const FIELD: &str = "\"version\"";
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ChangelogError::manifest(path, format!("line {}", e.line()), format!("not valid JSON: {e}; fix the file and run again")))?;
    match value.get("version") {
        Some(serde_json::Value::String(_)) => {}
        Some(_) => return Err(ChangelogError::manifest(path, FIELD, "must be a string such as \"1.2.0\"")),
        None => return Err(ChangelogError::manifest(path, FIELD, "missing; add \"version\": \"0.1.0\"")),
    }
    let bytes = text.as_bytes();
    let (mut depth, mut i, mut expect_key) = (0usize, 0usize, false);
    let mut last_key: Option<Range<usize>> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = bytes[i] == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => expect_key = true,
            b':' => expect_key = false,
            b'"' => {
                let end = string_end(bytes, i);
                let span = i + 1..end;
                if depth == 1 && expect_key {
                    last_key = Some(span);
                } else if depth == 1 && last_key.as_ref().is_some_and(|k| &text[k.clone()] == "version") {
                    check_version(path, FIELD, &text[span.clone()])?;
                    return Ok(vec![Found { span, field: FIELD.into() }]);
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    Err(ChangelogError::manifest(path, FIELD, "could not be located in the text; write it as \"version\": \"1.2.0\""))
}

/// The index of the quote that closes the string opening at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `version = ...` in the `[metadata]` section; `attr:` and `file:`
/// references leave the version to the file they name.
fn setup_cfg(path: &Path, text: &str) -> Result<Vec<Found>, ChangelogError> {
    const FIELD: &str = "[metadata] version";
    let mut offset = 0;
    let mut in_metadata = false;
    let mut seen_metadata = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_metadata = trimmed == "[metadata]";
            seen_metadata |= in_metadata;
        } else if let Some((_, value)) = trimmed.split_once(['=', ':']).filter(|(k, _)| in_metadata && k.trim() == "version") {
            let value = value.trim();
            if value.starts_with("attr:") || value.starts_with("file:") {
                return Ok(Vec::new());
            }
            check_version(path, FIELD, value)?;
            let start = offset + line.find(value).unwrap_or(0);
            return Ok(vec![Found { span: start..start + value.len(), field: FIELD.into() }]);
        }
        offset += line.len();
    }
    if seen_metadata {
        Err(ChangelogError::manifest(path, FIELD, "missing; add version = 0.1.0 under [metadata]"))
    } else {
        Ok(Vec::new())
    }
}

fn setup_py(path: &Path, text: &str) -> Result<Vec<Found>, ChangelogError> {
    const FIELD: &str = "version=";
    static VERSION: OnceLock<Regex> = OnceLock::new();
    // A fixed pattern that is valid; it cannot fail to compile.
    let pattern = VERSION.get_or_init(|| Regex::new(r#"\bversion\s*=\s*(?:"([^"\n]*)"|'([^'\n]*)')"#).expect("a valid pattern"));
    let caps = pattern
        .captures(text)
        .ok_or_else(|| ChangelogError::manifest(path, FIELD, "no literal version=\"...\" argument; write version=\"0.1.0\" in the setup() call"))?;
    let Some(value) = caps.get(1).or_else(|| caps.get(2)) else { return Ok(Vec::new()) };
    check_version(path, FIELD, value.as_str())?;
    Ok(vec![Found { span: value.range(), field: FIELD.into() }])
}

fn version_file(path: &Path, text: &str) -> Result<Vec<Found>, ChangelogError> {
    let value = text.trim();
    if value.is_empty() {
        return Err(ChangelogError::manifest(path, "content", "empty; write the current version, such as 0.1.0"));
    }
    check_version(path, "content", value)?;
    let start = text.find(value).unwrap_or(0);
    Ok(vec![Found { span: start..start + value.len(), field: "content".into() }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(find: fn(&Path, &str) -> Result<Vec<Found>, ChangelogError>, text: &str) -> Vec<String> {
        find(Path::new("f"), text).unwrap().iter().map(|f| text[f.span.clone()].to_owned()).collect()
    }

    #[test]
    fn package_json_finds_only_the_top_level_version() {
        let text = r#"{"name": "a", "dependencies": {"version": "9.9.9"}, "x": ["version"], "version" : "1.2.3", "y": 1}"#;
        assert_eq!(spans(package_json, text), ["1.2.3"]);
        let err = package_json(Path::new("package.json"), r#"{"name": "a"}"#).unwrap_err();
        assert!(err.to_string().contains("package.json: \"version\": missing"), "{err}");
    }

    #[test]
    fn python_manifests() {
        assert_eq!(spans(pyproject, "[project]\nname = \"a\"\nversion = '0.3.1' # keep\n"), ["0.3.1"]);
        assert_eq!(spans(pyproject, "[tool.poetry]\nversion = \"2.0.0\"\n"), ["2.0.0"]);
        assert!(spans(pyproject, "[project]\nname = \"a\"\ndynamic = [\"version\"]\n").is_empty());
        assert!(spans(pyproject, "[tool.ruff]\nline-length = 100\n").is_empty());
        assert_eq!(spans(setup_cfg, "[options]\nversion = 9\n[metadata]\nname = a\nversion = 1.0.0\n"), ["1.0.0"]);
        assert!(spans(setup_cfg, "[metadata]\nversion = attr: a.__version__\n").is_empty());
        assert_eq!(spans(setup_py, "setup(name='a', version='0.9.0', python_requires='>=3')"), ["0.9.0"]);
        assert_eq!(spans(version_file, "v1.2.3\n"), ["v1.2.3"]);
    }

    #[test]
    fn cargo_versions_and_inheritance() {
        let (found, names) = cargo_manifest(Path::new("Cargo.toml"), "[package]\nname = \"a\"\nversion = \"0.1.0\"\n", true).unwrap();
        assert_eq!((found.len(), names), (1, vec!["a".to_owned()]));
        let (found, names) = cargo_manifest(Path::new("m/Cargo.toml"), "[package]\nname = \"m\"\nversion.workspace = true\n", false).unwrap();
        assert_eq!((found.len(), names), (0, vec!["m".to_owned()]));
        let err = cargo_manifest(Path::new("Cargo.toml"), "[package]\nname = \"a\"\nversion = 3\n", true).err().unwrap();
        assert_eq!(err.to_string(), "Cargo.toml: [package] version: must be a string such as \"1.2.0\"");
    }
}
