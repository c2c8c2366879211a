//! `conductor version`: the next semantic version from the Conventional
//! Commits since the last release tag, written into the manifests at the
//! repository root unless `--dry-run`. The version alone goes to standard
//! output (for `$(conductor version --dry-run)`); the reasons to standard error.

use std::path::Path;

use agents::changelog::{self, bump::Channel, version_files};
use anyhow::Result;
use serde_json::json;

use crate::Exit;
use crate::cli::{PreChannel, VersionArgs};

pub fn run(args: VersionArgs) -> Result<Exit> {
    let repo = crate::git::toplevel(Path::new("."))?;
    let channel = args.pre.map(|p| match p {
        PreChannel::Alpha => Channel::Alpha,
        PreChannel::Beta => Channel::Beta,
        PreChannel::Rc => Channel::Rc,
    });
    let next = changelog::next_version(&repo, "HEAD", channel)?;
    let since = next.current.as_ref().map_or_else(|| "in all history (no release tag yet)".to_owned(), |t| format!("since {}", t.name));
    let plan = match &next.next {
        Some(version) => version_files::plan(&repo, &version.to_string())?,
        None => version_files::Plan::default(),
    };
    if !args.dry_run {
        plan.write()?;
    }
    let files: Vec<_> = plan
        .edits
        .iter()
        .map(|e| json!({ "path": e.path.strip_prefix(&repo).unwrap_or(&e.path), "field": e.field, "from": e.from, "to": e.to }))
        .collect();
    if args.json {
        let report = json!({
            "current": next.current.as_ref().map(|t| t.version.to_string()), "currentTag": next.current.as_ref().map(|t| &t.name),
            "next": next.next.as_ref().map(ToString::to_string), "tag": next.tag(), "bump": next.bump.name(), "commits": next.commits,
            "preReleases": next.pre_releases.iter().map(|t| &t.name).collect::<Vec<_>>(), "dryRun": args.dry_run, "files": files,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(Exit::Success);
    }
    let Some(version) = &next.next else {
        eprintln!("no release: {} commit(s) {since}, none a feat, fix, perf or breaking change", next.commits);
        return Ok(Exit::Success);
    };
    println!("{version}");
    eprintln!("{} bump from {} commit(s) {since}", next.bump, next.commits);
    let verb = if args.dry_run { "would set" } else { "set" };
    for edit in &plan.edits {
        eprintln!("  {verb} {} {}: {} -> {}", edit.path.strip_prefix(&repo).unwrap_or(&edit.path).display(), edit.field, edit.from, edit.to);
    }
    if plan.is_empty() {
        eprintln!("  no manifest found (Cargo.toml, package.json, pyproject.toml, setup.cfg, setup.py, VERSION)");
    }
    if let Some(tag) = next.tag() {
        eprintln!("tag the release with `git tag -a {tag} -m {tag}`");
    }
    Ok(Exit::Success)
}
