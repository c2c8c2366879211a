//! Package URLs (<https://github.com/package-url/purl-spec>) in their
//! canonical form, one rule per ecosystem.

use super::Ecosystem;

/// The purl of a package: `pkg:<type>/<namespace>/<name>@<version>`, each part
/// percent-encoded on its own.
pub fn purl(ecosystem: Ecosystem, name: &str, version: &str) -> String {
    let path = match ecosystem {
        Ecosystem::Cargo => encode(name),
        // An npm scope is the namespace and keeps its '@', encoded; the
        // purl spec lowercases npm names.
        Ecosystem::Npm => match name.split_once('/') {
            Some((scope, rest)) if scope.starts_with('@') => format!("{}/{}", encode(&scope.to_lowercase()), encode(&rest.to_lowercase())),
            _ => encode(&name.to_lowercase()),
        },
        Ecosystem::PyPI => encode(&pep503(name)),
        // The module path's slashes separate namespace segments. Case is kept:
        // Go module paths are case-sensitive, so lowercasing would name
        // another module.
        Ecosystem::Go => name.split('/').filter(|s| !s.is_empty()).map(encode).collect::<Vec<_>>().join("/"),
    };
    format!("pkg:{}/{path}@{}", ecosystem.purl_type(), encode(version))
}

/// A Python distribution name normalised as PEP 503 says: lowercase, with
/// every run of `-`, `_` and `.` made one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// Percent-encodes all but the unreserved characters of RFC 3986 and ':',
/// which the purl spec leaves as it is.
fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ecosystem_follows_its_purl_type() {
        assert_eq!(purl(Ecosystem::Cargo, "serde_json", "1.0.140"), "pkg:cargo/serde_json@1.0.140");
        assert_eq!(purl(Ecosystem::Npm, "@Babel/Core", "7.24.0"), "pkg:npm/%40babel/core@7.24.0");
        assert_eq!(purl(Ecosystem::Npm, "left-pad", "1.3.0+build.1"), "pkg:npm/left-pad@1.3.0%2Bbuild.1");
        assert_eq!(purl(Ecosystem::PyPI, "Typing_Extensions", "4.12.2"), "pkg:pypi/typing-extensions@4.12.2");
        assert_eq!(purl(Ecosystem::Go, "github.com/BurntSushi/toml", "v1.4.0"), "pkg:golang/github.com/BurntSushi/toml@v1.4.0");
        assert_eq!(purl(Ecosystem::Go, "golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"), "pkg:golang/golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c");
    }

    #[test]
    fn pep503_collapses_separator_runs() {
        assert_eq!(pep503("Friendly_.-Bard"), "friendly-bard");
        assert_eq!(pep503("zope.interface"), "zope-interface");
    }
}
