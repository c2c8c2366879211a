//! Finding migrations in a folder, as the common tools lay them out:
//!
//! | layout | up | down |
//! |---|---|---|
//! | `plain` | `003_add_index.up.sql`, or `003_add_index/up.sql` (diesel) | `003_add_index.down.sql`, `003_add_index/down.sql` |
//! | `sqlx` | `20261130_add_index.up.sql`, or `20261130_add_index.sql` (irreversible) | `20261130_add_index.down.sql` |
//! | `refinery` | `V3__add_index.sql` | `U3__add_index.sql` |
//! | `golang-migrate` | `3_add_index.up.sql` | `3_add_index.down.sql` |
//!
//! `auto` picks refinery when any file is named `V<n>__…sql`, sqlx when any
//! file is a bare `<version>_<name>.sql`, plain otherwise. Migrations run in
//! the numeric order of their versions (leading zeros and diesel's dashes do
//! not count). Two migrations with one version, and a down with no up, are
//! problems that name the files; files the layout does not know are listed
//! as ignored.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

/// The layouts the `layout` setting accepts.
pub(crate) const LAYOUTS: [&str; 5] = ["auto", "plain", "sqlx", "refinery", "golang-migrate"];

/// A layout migrations are named in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `NNN_name.up.sql` and `.down.sql`, or a `NNN_name/` folder of `up.sql` and `down.sql`.
    Plain,
    /// `<version>_<name>.up.sql` and `.down.sql`, or an irreversible `<version>_<name>.sql`.
    Sqlx,
    /// `V<n>__<name>.sql` with `U<n>__<name>.sql` as its down.
    Refinery,
    /// `<version>_<name>.up.sql` and `.down.sql`.
    GolangMigrate,
}

impl Layout {
    /// The layout a setting names; `auto` is None.
    pub(crate) fn from_setting(name: &str) -> Option<Self> {
        match name {
            "plain" => Some(Self::Plain),
            "sqlx" => Some(Self::Sqlx),
            "refinery" => Some(Self::Refinery),
            "golang-migrate" => Some(Self::GolangMigrate),
            _ => None,
        }
    }

    /// The name the setting and the facts use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Sqlx => "sqlx",
            Self::Refinery => "refinery",
            Self::GolangMigrate => "golang-migrate",
        }
    }

    /// The layout `files` look like.
    pub(crate) fn detect(files: &[String]) -> Self {
        let parsed: Vec<Parsed> = files.iter().filter_map(|f| parse(f)).collect();
        if parsed.iter().any(|p| p.style == Style::Refinery) {
            Self::Refinery
        } else if parsed.iter().any(|p| p.style == Style::Single) {
            Self::Sqlx
        } else {
            Self::Plain
        }
    }

    fn accepts(self, style: Style) -> bool {
        match self {
            Self::Plain => matches!(style, Style::Pair | Style::Folder),
            Self::Sqlx => matches!(style, Style::Pair | Style::Single),
            Self::Refinery => style == Style::Refinery,
            Self::GolangMigrate => style == Style::Pair,
        }
    }
}

/// One migration: its up file and, when it has one, its down file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Migration {
    /// How it is named in messages, such as `003_add_index` or `V3__add_index`.
    pub(crate) id: String,
    /// The version as written, such as `003`.
    pub(crate) version: String,
    /// The name after the version, such as `add_index`.
    pub(crate) name: String,
    /// The up file, relative to the folder.
    pub(crate) up: String,
    /// The down file, relative to the folder.
    pub(crate) down: Option<String>,
}

/// A problem with the folder itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct LayoutProblem {
    /// `duplicate-version` or `orphan-down`.
    pub(crate) code: &'static str,
    /// The migration it is about.
    pub(crate) migration: String,
    /// What is wrong and what to do.
    pub(crate) message: String,
}

/// What a folder holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The layout used.
    pub(crate) layout: Layout,
    /// The migrations in version order.
    pub(crate) migrations: Vec<Migration>,
    /// Files the layout does not name.
    pub(crate) ignored: Vec<String>,
    /// Duplicate versions and downs without an up.
    pub(crate) problems: Vec<LayoutProblem>,
}

/// How a file is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `<version>_<name>.up.sql` or `.down.sql`.
    Pair,
    /// `<version>_<name>/up.sql` or `down.sql`.
    Folder,
    /// `<version>_<name>.sql`.
    Single,
    /// `V<n>__<name>.sql` or `U<n>__<name>.sql`.
    Refinery,
}

/// A file name read as a migration.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parsed {
    style: Style,
    id: String,
    version: String,
    name: String,
    down: bool,
}

/// The relative paths of the files in `dir` and in its immediate
/// subfolders (for diesel's one folder per migration), sorted.
pub(crate) fn list(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            for inner in std::fs::read_dir(entry.path())? {
                let inner = inner?;
                if inner.file_type()?.is_file() {
                    files.push(format!("{name}/{}", inner.file_name().to_string_lossy()));
                }
            }
        } else {
            files.push(name);
        }
    }
    files.sort();
    Ok(files)
}

/// The migrations `files` name in `layout` (detected when None).
pub(crate) fn plan(files: &[String], layout: Option<Layout>) -> Plan {
    let layout = layout.unwrap_or_else(|| Layout::detect(files));
    let mut ignored = Vec::new();
    let mut by_version: BTreeMap<VersionKey, Vec<(String, Parsed)>> = BTreeMap::new();
    for file in files {
        match parse(file).filter(|p| layout.accepts(p.style)) {
            Some(parsed) => by_version.entry(VersionKey::of(&parsed.version)).or_default().push((file.clone(), parsed)),
            None => ignored.push(file.clone()),
        }
    }
    let mut migrations = Vec::new();
    let mut problems = Vec::new();
    for group in by_version.into_values() {
        match migration(&group) {
            Ok(m) => migrations.push(m),
            Err(problem) => problems.push(problem),
        }
    }
    Plan { layout, migrations, ignored, problems }
}

/// The migration of one version's files, or the problem with them.
fn migration(group: &[(String, Parsed)]) -> Result<Migration, LayoutProblem> {
    let (ups, downs): (Vec<_>, Vec<_>) = group.iter().partition(|(_, p)| !p.down);
    if let Some((first, second)) = distinct_pair(group) {
        let version = &group[0].1.version;
        return Err(LayoutProblem {
            code: "duplicate-version",
            migration: group[0].1.id.clone(),
            message: format!("{first} and {second} share version {version}; give one of them a new version"),
        });
    }
    let Some((up, parsed)) = ups.first() else {
        let (down, parsed) = downs[0];
        return Err(LayoutProblem { code: "orphan-down", migration: parsed.id.clone(), message: format!("{down} is a down migration with no up migration; add its up or remove it") });
    };
    Ok(Migration { id: parsed.id.clone(), version: parsed.version.clone(), name: parsed.name.clone(), up: up.clone(), down: downs.first().map(|(d, _)| d.clone()) })
}

/// Two files of a group that cannot both belong to one migration: two ups,
/// two downs, or an up and a down of different names.
fn distinct_pair(group: &[(String, Parsed)]) -> Option<(&str, &str)> {
    for (i, (a, pa)) in group.iter().enumerate() {
        for (b, pb) in &group[i + 1..] {
            if pa.down == pb.down || pa.name != pb.name {
                return Some((a, b));
            }
        }
    }
    None
}

/// Reads one relative path as a migration file of any style.
fn parse(file: &str) -> Option<Parsed> {
    if let Some((folder, leaf)) = file.split_once('/') {
        let down = match leaf {
            "up.sql" => false,
            "down.sql" => true,
            _ => return None,
        };
        let (version, name) = split_version(folder, true)?;
        return Some(Parsed { style: Style::Folder, id: folder.to_owned(), version, name, down });
    }
    if let Some(stem) = file.strip_suffix(".up.sql").or_else(|| file.strip_suffix(".down.sql")) {
        let (version, name) = split_version(stem, false)?;
        return Some(Parsed { style: Style::Pair, id: stem.to_owned(), version, name, down: file.ends_with(".down.sql") });
    }
    let stem = file.strip_suffix(".sql")?;
    if let Some(parsed) = refinery(stem) {
        return Some(parsed);
    }
    let (version, name) = split_version(stem, false)?;
    Some(Parsed { style: Style::Single, id: stem.to_owned(), version, name, down: false })
}

/// `V3__add_index` or `U3__add_index`, named by its up (`V3__add_index`) either way.
fn refinery(stem: &str) -> Option<Parsed> {
    let down = match stem.chars().next()? {
        'V' => false,
        'U' => true,
        _ => return None,
    };
    let (version, name) = stem[1..].split_once("__")?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some(Parsed { style: Style::Refinery, id: format!("V{version}__{name}"), version: version.to_owned(), name: name.to_owned(), down })
}

/// `003_add_index` as (`003`, `add_index`); diesel's folders may write the
/// version with dashes (`2026-11-30-101500_add_index`).
fn split_version(stem: &str, dashes: bool) -> Option<(String, String)> {
    let (version, name) = stem.split_once('_')?;
    let digit_or_dash = |b: u8| b.is_ascii_digit() || (dashes && b == b'-');
    let valid = version.bytes().next().is_some_and(|b| b.is_ascii_digit()) && version.bytes().all(digit_or_dash);
    (valid && !name.is_empty()).then(|| (version.to_owned(), name.to_owned()))
}

/// A version's numeric value as its digits without leading zeros, compared
/// by length and then text, so versions of any length order correctly.
#[derive(Clone, Debug, PartialEq, Eq)]
struct VersionKey(String);

impl VersionKey {
    fn of(version: &str) -> Self {
        let digits: String = version.chars().filter(char::is_ascii_digit).collect();
        let trimmed = digits.trim_start_matches('0');
        Self(if trimmed.is_empty() { "0".to_owned() } else { trimmed.to_owned() })
    }
}

impl Ord for VersionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for VersionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
