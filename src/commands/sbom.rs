//! `conductor sbom`: the software bill of materials of the repository in the
//! current folder, from its lock files.

use std::io::Write as _;
use std::path::PathBuf;

use agents::sbom::{self, Format, Subject};
use anyhow::{Context, Result, bail};

use crate::Exit;
use crate::cli::{SbomArgs, SbomFormat};
use crate::{git, workspace};

pub fn run(args: SbomArgs) -> Result<Exit> {
    let here = std::env::current_dir().context("cannot read the current folder")?;
    let root = git::toplevel(&here)?;
    let lockfiles = if args.lockfiles.is_empty() { discovered(&root)? } else { args.lockfiles };
    let packages = sbom::read_lockfiles(&lockfiles)?;
    let subject = Subject::from_git(&root)?;
    let format = match args.format {
        SbomFormat::Cyclonedx => Format::CycloneDx,
        SbomFormat::Spdx => Format::Spdx,
    };
    let document = format.render(&packages, &subject)?;
    let read: Vec<String> = lockfiles.iter().map(|p| p.display().to_string()).collect();
    match &args.out {
        Some(out) => {
            workspace::write_atomic(out, &document)?;
            eprintln!("wrote {} {} listing {} components from {} to {}", format.name(), format.spec_version(), packages.len(), read.join(", "), out.display());
        }
        None => std::io::stdout().lock().write_all(&document).context("cannot write the SBOM to stdout")?,
    }
    Ok(Exit::Success)
}

/// The lock files at the repository root, or an error saying how to name one.
fn discovered(root: &std::path::Path) -> Result<Vec<PathBuf>> {
    let found = sbom::discover(root);
    if found.is_empty() {
        bail!(
            "no lock file (Cargo.lock, package-lock.json, poetry.lock, requirements.txt, go.sum or go.mod) at {}; commit one or pass --lockfile PATH",
            root.display()
        );
    }
    Ok(found)
}
