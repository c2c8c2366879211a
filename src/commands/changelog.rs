//! `conductor changelog`: Keep a Changelog markdown from the Conventional
//! Commits of a range, a section per release tag, newest first.

use std::path::Path;

use agents::changelog::{self, render};
use anyhow::Result;

use crate::Exit;
use crate::cli::ChangelogArgs;

pub fn run(args: ChangelogArgs) -> Result<Exit> {
    let repo = crate::git::toplevel(Path::new("."))?;
    let range = changelog::Range { from: args.from.as_deref(), to: &args.to, path: args.path.as_deref() };
    let releases = changelog::changelog(&repo, &range)?;
    let text = render::document(&releases);
    match &args.output {
        Some(path) => crate::workspace::write_atomic(path, text.as_bytes())?,
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(Exit::Success)
}
