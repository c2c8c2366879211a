//! `conductor log`: the records of the current release.

use anyhow::Result;
use evidence::ledger::read_records;
use evidence::record::Record;
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::LogArgs;
use crate::workspace::Workspace;

pub fn run(args: LogArgs) -> Result<Exit> {
    let release = Workspace::discover()?.current()?;
    let records = read_records(&release.ledger_path())?;
    if args.json {
        let rows: Vec<Value> = records.iter().map(to_json).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(Exit::Success);
    }
    let b = &release.state.binding;
    println!("release {} ({}) commit {} — {} records", b.version, b.environment, b.commit, records.len());
    for r in &records {
        let names: Vec<&str> = r.link.evidence.iter().map(|e| e.name.as_str()).collect();
        println!("{:>5}  {}  {:<4} {:<16} key {}  {}", r.link.sequence, r.link.recorded_at, r.link.phase, r.link.record_type, &r.key_id()[..r.key_id().len().min(12)], names.join(", "));
    }
    Ok(Exit::Success)
}

fn to_json(r: &Record) -> Value {
    json!({
        "sequence": r.link.sequence,
        "recordedAt": r.link.recorded_at,
        "phase": r.link.phase,
        "type": r.link.record_type,
        "predicateType": r.statement.predicate_type,
        "keyId": r.key_id(),
        "lineSha256": r.line_hash,
        "previous": r.link.previous,
        "evidence": r.link.evidence,
        "subjects": r.statement.subject.iter().skip(1).collect::<Vec<_>>(),
    })
}
