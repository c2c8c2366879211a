//! Whether a document mentions a version: `1.0.0` or `v1.0.0` as a whole
//! version, so `1.0.0` is not found in `11.0.0`, `1.0.0.1` or `1.0.0-rc.1`.

/// The version without a leading `v`, as changelogs usually write it.
pub(crate) fn bare(version: &str) -> &str {
    version.strip_prefix(['v', 'V']).unwrap_or(version)
}

/// The first line (1-based) of `text` that mentions `version`, with or without
/// a leading `v`.
pub(crate) fn mention(text: &str, version: &str) -> Option<usize> {
    let version = bare(version);
    if version.is_empty() {
        return None;
    }
    text.lines().position(|line| line.match_indices(version).any(|(at, _)| whole(line, at, version.len()))).map(|n| n + 1)
}

/// Whether the match at `at..at + len` of `line` stands alone.
fn whole(line: &str, at: usize, len: usize) -> bool {
    let before = &line[..at];
    let before = before.strip_suffix(['v', 'V']).unwrap_or(before);
    let part_of_word = |c: char| c.is_alphanumeric() || c == '_';
    let clear_before = before.chars().next_back().is_none_or(|c| !part_of_word(c) && c != '.');
    let mut after = line[at + len..].chars();
    let clear_after = match after.next() {
        None => true,
        // A sentence may end right after the version; a pre-release, build or
        // fourth component may not follow it.
        Some('.' | '-' | '+') => after.next().is_none_or(|c| !part_of_word(c)),
        Some(c) => !part_of_word(c),
    };
    clear_before && clear_after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_versions_are_found_with_or_without_v() {
        let changelog = "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-11-18\n\n## v0.2.0\n";
        assert_eq!(mention(changelog, "v1.0.0"), Some(5));
        assert_eq!(mention(changelog, "1.0.0"), Some(5));
        assert_eq!(mention(changelog, "v0.2.0"), Some(7));
        assert_eq!(mention("Released 1.0.0.", "v1.0.0"), Some(1));
        assert_eq!(mention("release-1.0.0 is out", "v1.0.0"), Some(1));
    }

    #[test]
    fn longer_versions_do_not_count() {
        for text in ["## 11.0.0", "## 1.0.0.1", "## 1.0.0-rc.1", "## 1.0.0+build.5", "## 0.1.0.0", "## x1.0.0", "## release_1.0.0"] {
            assert_eq!(mention(text, "v1.0.0"), None, "{text}");
        }
        assert_eq!(mention("anything", "v"), None);
    }
}
