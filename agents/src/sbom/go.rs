//! Go modules: go.sum's `module version h1:…` lines and go.mod's `require`
//! and `replace` directives. The components are every module go.sum holds
//! the source of (its `/go.mod`-only lines are modules the version
//! selection looked at but the build does not use) plus go.mod's
//! requirements; go.mod says which are direct. go.sum's `h1:` value is a
//! hash of the module's file tree, not of any artifact, so it is kept as a
//! property and never as a component hash. Neither file records which
//! module needs which, so the graph is left unknown.

use std::path::Path;

use super::{Ecosystem, Location, Package, Problem, SbomError, Source};

/// The property that carries go.sum's hash.
pub const DIRHASH: &str = "conductor:go:dirhash";

struct Require {
    module: String,
    version: String,
    indirect: bool,
}

struct Replace {
    module: String,
    version: Option<String>,
    with: String,
    with_version: Option<String>,
}

/// The modules of a go.sum and the go.mod beside it; either may be absent.
pub(super) fn parse(sum_path: &Path, go_sum: Option<&str>, go_mod: Option<(&Path, &str)>) -> Result<Vec<Package>, SbomError> {
    let (requires, replaces) = match go_mod {
        Some((path, text)) => parse_mod(path, text)?,
        None => (Vec::new(), Vec::new()),
    };
    let mut packages: Vec<Package> = requires.iter().map(|r| required(r, &replaces)).collect();
    for (line, module, version, hash) in go_sum.map(sum_lines).into_iter().flatten() {
        let (Some(module), Some(version), Some(hash)) = (module, version, hash.filter(|h| is_dirhash(h))) else {
            return Err(SbomError::invalid(sum_path, Location::Line(line), Problem::Line { expected: "module version h1:hash" }));
        };
        if version.ends_with("/go.mod") {
            continue;
        }
        let property = (DIRHASH.to_owned(), hash.to_owned());
        match packages.iter_mut().find(|p| p.name == module && p.version == version) {
            Some(package) => package.properties.push(property),
            None => {
                let mut package = Package::new(Ecosystem::Go, module, version, Source::Unstated);
                package.properties.push(property);
                packages.push(package);
            }
        }
    }
    Ok(packages)
}

/// Each non-blank go.sum line with its number and its first three fields;
/// a fourth field makes the third `None` so the line is refused.
fn sum_lines(text: &str) -> impl Iterator<Item = (usize, Option<&str>, Option<&str>, Option<&str>)> {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| {
        let mut fields = l.split_whitespace();
        let (m, v, h) = (fields.next(), fields.next(), fields.next());
        (i + 1, m, v, h.filter(|_| fields.next().is_none()))
    })
}

/// `h<digit>:<base64>`, the shape of every go.sum hash so far.
fn is_dirhash(hash: &str) -> bool {
    hash.split_once(':').is_some_and(|(alg, b64)| {
        alg.len() == 2 && alg.starts_with('h') && alg.as_bytes()[1].is_ascii_digit() && !b64.is_empty() && b64.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    })
}

/// A go.mod requirement as the module the build uses: replaced by another
/// module version, or by a folder of the repository.
fn required(r: &Require, replaces: &[Replace]) -> Package {
    let replace = replaces.iter().find(|x| x.module == r.module && x.version.as_ref().is_none_or(|v| *v == r.version));
    let mut package = match replace {
        Some(x) if x.with_version.is_none() => Package::new(Ecosystem::Go, &r.module, &r.version, Source::Local(x.with.clone())),
        Some(x) => Package::new(Ecosystem::Go, &x.with, x.with_version.as_deref().unwrap_or_default(), Source::Unstated),
        None => Package::new(Ecosystem::Go, &r.module, &r.version, Source::Unstated),
    };
    package.direct = !r.indirect;
    package
}

/// go.mod's requirements and replacements; other directives do not change
/// which modules are built.
fn parse_mod(path: &Path, text: &str) -> Result<(Vec<Require>, Vec<Replace>), SbomError> {
    let (mut requires, mut replaces) = (Vec::new(), Vec::new());
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let (code, comment) = raw.split_once("//").map_or((raw, ""), |(c, m)| (c, m.trim()));
        let mut tokens: Vec<String> = code.split_whitespace().map(|t| t.trim_matches('"').to_owned()).collect();
        let verb = match (&block, tokens.first().map(String::as_str)) {
            (_, None) => continue,
            (Some(_), Some(")")) => {
                block = None;
                continue;
            }
            (Some(verb), Some(_)) => verb.clone(),
            (None, Some(_)) if tokens.get(1).map(String::as_str) == Some("(") => {
                block = Some(tokens[0].clone());
                continue;
            }
            (None, Some(_)) => tokens.remove(0),
        };
        let bad = |expected| SbomError::invalid(path, Location::Line(i + 1), Problem::Line { expected });
        match verb.as_str() {
            "require" => match tokens.as_slice() {
                [module, version] => requires.push(Require { module: module.clone(), version: version.clone(), indirect: comment.split(';').any(|c| c.trim() == "indirect") }),
                _ => return Err(bad("require module version")),
            },
            "replace" => replaces.push(replace(&tokens).ok_or_else(|| bad("replace module [version] => target [version]"))?),
            _ => {}
        }
    }
    Ok((requires, replaces))
}

fn replace(tokens: &[String]) -> Option<Replace> {
    let arrow = tokens.iter().position(|t| t == "=>")?;
    let (old, new) = (&tokens[..arrow], &tokens[arrow + 1..]);
    let (module, version) = match old {
        [m] => (m.clone(), None),
        [m, v] => (m.clone(), Some(v.clone())),
        _ => return None,
    };
    let (with, with_version) = match new {
        [w] => (w.clone(), None),
        [w, v] => (w.clone(), Some(v.clone())),
        _ => return None,
    };
    Some(Replace { module, version, with, with_version })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_MOD: &str = r#"module example.com/service

go 1.22

require (
	github.com/gorilla/mux v1.8.1
	github.com/BurntSushi/toml v1.4.0 // indirect
	example.com/shared v0.0.0-00010101000000-000000000000
	golang.org/x/text v0.14.0 // indirect
)

require github.com/google/uuid v1.6.0

replace example.com/shared => ./shared

replace golang.org/x/text v0.14.0 => golang.org/x/text v0.15.0
"#;

    const GO_SUM: &str = "github.com/BurntSushi/toml v1.4.0 h1:kuoIxZQy2WRRk1pttg9asf+WVv6tWQuBNVmK8+nqPr0=
github.com/BurntSushi/toml v1.4.0/go.mod h1:ukJfTF/6rtPPRCnwkur4qwRxa8vTRFBF0uk2lLoLwho=
github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=
github.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=
github.com/gorilla/mux v1.8.1 h1:TuBL49tXwgrFYWhqrNgrUNEY92u81SPhu7sTdzQEiWY=
github.com/gorilla/mux v1.8.1/go.mod h1:AKf9I4AEqPTmMytcMc0KkNouC66V3BtZ4qD5fmWSiMQ=
golang.org/x/sys v0.1.0/go.mod h1:oPkhp1MJrh7nUepCBck5+mAzfO9JrbApNNgaTdGDITg=
golang.org/x/text v0.15.0 h1:h1V/4gjBv8v9cjcR6+AR5+/cIYK5N/WAgiv4xlsEtAk=
golang.org/x/text v0.15.0/go.mod h1:18ZOQIKpY8NJVqYksKHtTdi31H5itFRjB5/qKTNYzSU=
";

    #[test]
    fn reads_go_sum_with_go_mod() {
        let packages = parse(Path::new("go.sum"), Some(GO_SUM), Some((Path::new("go.mod"), GO_MOD))).unwrap();
        let by = |purl: &str| packages.iter().find(|p| p.purl == purl).unwrap_or_else(|| panic!("{purl} missing"));
        let mux = by("pkg:golang/github.com/gorilla/mux@v1.8.1");
        assert!(mux.direct && mux.hashes.is_empty(), "h1 is not an artifact hash");
        assert_eq!(mux.properties, [(DIRHASH.to_owned(), "h1:TuBL49tXwgrFYWhqrNgrUNEY92u81SPhu7sTdzQEiWY=".to_owned())]);
        assert!(!by("pkg:golang/github.com/BurntSushi/toml@v1.4.0").direct);
        assert!(by("pkg:golang/github.com/google/uuid@v1.6.0").direct);
        assert!(by("pkg:golang/example.com/shared@v0.0.0-00010101000000-000000000000").is_local());
        assert_eq!(by("pkg:golang/golang.org/x/text@v0.15.0").properties.len(), 1, "the replacement is what is built");
        assert!(!packages.iter().any(|p| p.name == "golang.org/x/sys"), "go.mod-only lines are not components");
        assert!(packages.iter().all(|p| p.dependencies.is_none()));
        assert_eq!(packages.len(), 5);
    }

    #[test]
    fn go_sum_alone_lists_its_modules() {
        let packages = parse(Path::new("go.sum"), Some(GO_SUM), None).unwrap();
        assert_eq!(packages.len(), 4);
        assert!(packages.iter().all(|p| !p.direct));
    }

    #[test]
    fn malformed_lines_are_named() {
        let err = parse(Path::new("go.sum"), Some("a v1 h1:x=\nb v1\n"), None).unwrap_err().to_string();
        assert!(err.starts_with("go.sum:2: expected module version h1:hash"), "{err}");
        let err = parse(Path::new("go.sum"), Some("a v1 sha256:abc\n"), None).unwrap_err().to_string();
        assert!(err.starts_with("go.sum:1:"), "{err}");
        let err = parse(Path::new("go.sum"), None, Some((Path::new("go.mod"), "module m\nrequire (\n\tonly-a-path\n)\n"))).unwrap_err().to_string();
        assert!(err.starts_with("go.mod:3: expected require module version"), "{err}");
        let err = parse(Path::new("go.sum"), None, Some((Path::new("go.mod"), "replace a => \n"))).unwrap_err().to_string();
        assert!(err.starts_with("go.mod:1: expected replace"), "{err}");
    }
}
