//! `conductor attest`: one signed record whose evidence file is stored by digest.

use std::fs::File;
use std::io::BufReader;

use anyhow::{Context, Result};
use evidence::digest::Sha256;
use evidence::ledger::Ledger;
use evidence::record::{EVIDENCE_FILE_PREDICATE, EvidenceRef, RecordDraft, validate_phase, validate_record_type};
use evidence::statement::ResourceDescriptor;
use serde_json::json;

use crate::Exit;
use crate::cli::AttestArgs;
use crate::workspace::{self, Workspace};

pub fn run(args: AttestArgs) -> Result<Exit> {
    validate_phase(&args.phase).map_err(|e| anyhow::anyhow!("--phase: {e}"))?;
    validate_record_type(&args.record_type).map_err(|e| anyhow::anyhow!("--type: {e}"))?;
    let release = Workspace::discover()?.current()?;
    // Take the writer lock before doing any work, so a concurrent writer is
    // refused at once rather than after a long copy.
    let mut ledger = Ledger::open(&release.ledger_path())?;
    let key = release.key()?;
    let subjects = args.subject.iter().map(subject).collect::<Result<Vec<_>>>()?;
    let name = display_name(&args.file);
    let source = File::open(&args.file).with_context(|| format!("--file: cannot read {}", args.file.display()))?;
    let (sha256, size) = release.store().put(BufReader::with_capacity(1 << 20, source)).with_context(|| format!("cannot store {}", args.file.display()))?;
    let draft = RecordDraft {
        phase: args.phase,
        record_type: args.record_type,
        predicate_type: EVIDENCE_FILE_PREDICATE.into(),
        predicate: json!({ "name": name, "sha256": sha256, "size": size }),
        subjects,
        evidence: vec![EvidenceRef { name: name.clone(), sha256, size }],
    };
    let record = ledger.append(draft, &release.state.binding, workspace::now()?, &key)?;
    println!("recorded #{} {} {} {name} sha256:{sha256} ({size} bytes)", record.link.sequence, record.link.phase, record.link.record_type);
    Ok(Exit::Success)
}

fn display_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

fn subject(path: &std::path::PathBuf) -> Result<ResourceDescriptor> {
    let file = File::open(path).with_context(|| format!("--subject: cannot read {}", path.display()))?;
    let (digest, _) = Sha256::of_reader(BufReader::with_capacity(1 << 20, file)).with_context(|| format!("--subject: cannot read {}", path.display()))?;
    Ok(ResourceDescriptor::new(path.display().to_string(), digest))
}
