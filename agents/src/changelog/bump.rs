//! The next semantic version from the commits since the last release.
//!
//! `fix` and `perf` call for a patch release, `feat` for a minor one and a
//! breaking change for a major one; before 1.0.0 a breaking change and a
//! `feat` both bump the minor version and a `fix` the patch. A pre-release
//! of the next version is numbered after the pre-releases of the same
//! version and channel already tagged: `1.3.0-rc.1`, then `1.3.0-rc.2`.

use std::fmt;

use semver::{Prerelease, Version};

use super::commits::Commit;

/// How far a release moves the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// No commit calls for a release.
    None,
    /// A fix or a performance improvement.
    Patch,
    /// A new feature.
    Minor,
    /// A breaking change.
    Major,
}

impl Bump {
    /// What one commit calls for.
    pub fn of(commit: &Commit) -> Self {
        match &commit.conventional {
            Some(c) if c.breaking => Self::Major,
            Some(c) if c.kind == "feat" => Self::Minor,
            Some(c) if matches!(c.kind.as_str(), "fix" | "perf") => Self::Patch,
            _ => Self::None,
        }
    }

    /// What a list of commits calls for: the largest single bump.
    pub fn of_all<'a>(commits: impl IntoIterator<Item = &'a Commit>) -> Self {
        commits.into_iter().map(Self::of).max().unwrap_or(Self::None)
    }

    /// The name JSON and text use.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Patch => "patch",
            Self::Minor => "minor",
            Self::Major => "major",
        }
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A pre-release channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// `-alpha.N`.
    Alpha,
    /// `-beta.N`.
    Beta,
    /// `-rc.N`.
    Rc,
}

impl Channel {
    /// The identifier in the version.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alpha => "alpha",
            Self::Beta => "beta",
            Self::Rc => "rc",
        }
    }
}

/// The stable version after `base` for a bump, or `None` when nothing calls
/// for a release.
pub fn next_stable(base: &Version, bump: Bump) -> Option<Version> {
    let pre_one = base.major == 0;
    Some(match bump {
        Bump::None => return None,
        Bump::Major if !pre_one => Version::new(base.major + 1, 0, 0),
        Bump::Major | Bump::Minor => Version::new(base.major, base.minor + 1, 0),
        Bump::Patch => Version::new(base.major, base.minor, base.patch + 1),
    })
}

/// The pre-release of `target` on `channel` after those already tagged:
/// one more than the highest `target-channel.N` among `tagged`, or `.1`.
pub fn next_pre(target: &Version, channel: Channel, tagged: &[Version]) -> Version {
    let highest = tagged
        .iter()
        .filter(|v| v.major == target.major && v.minor == target.minor && v.patch == target.patch)
        .filter_map(|v| {
            let (name, number) = v.pre.as_str().split_once('.')?;
            (name == channel.name()).then(|| number.parse::<u64>().ok()).flatten()
        })
        .max()
        .unwrap_or(0);
    let mut next = Version::new(target.major, target.minor, target.patch);
    // "alpha.7" is a valid pre-release identifier; it cannot fail to parse.
    next.pre = Prerelease::new(&format!("{}.{}", channel.name(), highest + 1)).unwrap_or(Prerelease::EMPTY);
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn bump_rules() {
        let cases = [
            ("1.2.3", Bump::Patch, "1.2.4"),
            ("1.2.3", Bump::Minor, "1.3.0"),
            ("1.2.3", Bump::Major, "2.0.0"),
            ("0.4.1", Bump::Patch, "0.4.2"),
            ("0.4.1", Bump::Minor, "0.5.0"),
            ("0.4.1", Bump::Major, "0.5.0"),
            ("0.0.0", Bump::Minor, "0.1.0"),
        ];
        for (base, bump, want) in cases {
            assert_eq!(next_stable(&v(base), bump), Some(v(want)), "{base} {bump}");
        }
        assert_eq!(next_stable(&v("1.2.3"), Bump::None), None);
    }

    #[test]
    fn pre_releases_count_up_per_target_and_channel() {
        let target = v("1.3.0");
        assert_eq!(next_pre(&target, Channel::Rc, &[]), v("1.3.0-rc.1"));
        assert_eq!(next_pre(&target, Channel::Rc, &[v("1.3.0-rc.1")]), v("1.3.0-rc.2"));
        assert_eq!(next_pre(&target, Channel::Rc, &[v("1.3.0-rc.2"), v("1.3.0-rc.1"), v("1.3.0-beta.4")]), v("1.3.0-rc.3"));
        assert_eq!(next_pre(&target, Channel::Beta, &[v("1.3.0-rc.1")]), v("1.3.0-beta.1"));
        assert_eq!(next_pre(&target, Channel::Alpha, &[v("1.2.0-alpha.3")]), v("1.3.0-alpha.1"));
    }
}
