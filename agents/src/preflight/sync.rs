//! The branch against its remote base: in sync, mergeable, clean.

use super::{Check, Options};
use crate::git::{dirty_paths, git, git_opt};

/// `<remote>/<base>` after an optional fetch, or the failed check saying why not.
fn remote_base(options: &Options, id: &'static str) -> Result<String, Check> {
    let (dir, remote, base) = (&options.repo, &options.remote, &options.base);
    if options.fetch
        && let Err(e) = git(dir, &["fetch", "--quiet", remote, base])
    {
        return Err(Check::fail(id, format!("cannot fetch {base} from {remote}: {e}; check the remote, or pass --no-fetch to compare with the last fetched {remote}/{base}")));
    }
    let tracking = format!("refs/remotes/{remote}/{base}");
    git_opt(dir, &["rev-parse", "--verify", "--quiet", &format!("{tracking}^{{commit}}")])
        .map(|_| format!("{remote}/{base}"))
        .ok_or_else(|| Check::fail(id, format!("there is no {remote}/{base}; add the remote (`git remote add {remote} URL`) and fetch it, or name the base with --base")))
}

pub(super) fn remote_sync(options: &Options) -> Check {
    const ID: &str = "remote-sync";
    let dir = &options.repo;
    let Some(branch) = git_opt(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"]) else {
        let at = git_opt(dir, &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "no commit".into());
        return Check::fail(ID, format!("HEAD is detached at {at}; switch to the release branch (`git switch <branch>`) or make one here (`git switch -c release/<version>`), then run again"));
    };
    let base = match remote_base(options, ID) {
        Ok(base) => base,
        Err(check) => return check,
    };
    let count = |range: &str| git(dir, &["rev-list", "--count", range]).ok().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    let behind_base = count(&format!("HEAD..{base}"));
    if behind_base > 0 {
        return Check::fail(ID, format!("{branch} is {behind_base} commit(s) behind {base}; rebase onto it or merge it, then run again"));
    }
    if let Some(upstream) = git_opt(dir, &["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"]) {
        let behind = count(&format!("HEAD..{upstream}"));
        if behind > 0 {
            return Check::fail(ID, format!("{branch} is {behind} commit(s) behind its upstream {upstream}; pull first"));
        }
    }
    Check::pass(ID, format!("{branch} contains {base} and is {} commit(s) ahead", count(&format!("{base}..HEAD"))))
}

pub(super) fn merge(options: &Options) -> Check {
    const ID: &str = "merge";
    let base = match remote_base(options, ID) {
        Ok(base) => base,
        Err(check) => return check,
    };
    // merge-tree (git 2.38+) merges in memory: exit 0 is clean, 1 is conflicts,
    // with the conflicted paths after the tree id.
    let out = crate::git::output(&options.repo, &["merge-tree", "--write-tree", "--name-only", "--no-messages", "HEAD", &base]);
    match out {
        Ok(o) if o.status.success() => Check::pass(ID, format!("{base} merges into HEAD without conflicts")),
        Ok(o) if o.status.code() == Some(1) => {
            let text = String::from_utf8_lossy(&o.stdout);
            let files: Vec<&str> = text.lines().skip(1).filter(|l| !l.is_empty()).collect();
            Check::fail(ID, format!("merging {base} conflicts in {}; resolve them on the branch first", files.join(", ")))
        }
        Ok(o) => Check::fail(ID, format!("`git merge-tree` failed ({}); git 2.38 or later is needed", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Check::fail(ID, format!("cannot run git: {e}")),
    }
}

pub(super) fn clean_tree(options: &Options) -> Check {
    const ID: &str = "clean-tree";
    match dirty_paths(&options.repo) {
        Ok(paths) if paths.is_empty() => Check::pass(ID, "no local changes"),
        Ok(paths) => {
            let shown: Vec<&str> = paths.iter().take(5).map(String::as_str).collect();
            let more = if paths.len() > 5 { format!(" and {} more", paths.len() - 5) } else { String::new() };
            Check::fail(ID, format!("{} path(s) have local changes: {}{more}; commit or stash them", paths.len(), shown.join(", ")))
        }
        Err(e) => Check::fail(ID, e),
    }
}
