//! `conductor access-log`: the signed access log beside the packs, checked
//! entry by entry (signature, chain) and listed. Exit 0 when every entry
//! holds, 1 naming the first that does not.

use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;
use crate::cli::AccessLogArgs;

pub fn run(args: AccessLogArgs) -> Result<Exit> {
    let trust = crate::workspace::load_trust(&args.trust, "--trust")?;
    let log = args.log.clone().unwrap_or_else(|| PathBuf::from(crate::access_log::FILE));
    if !log.exists() {
        anyhow::bail!("{} does not exist; `conductor verify PACK --reason ... --key ...` starts it beside the pack", log.display());
    }
    let entries = match crate::access_log::read(&log, &trust) {
        Ok(entries) => entries,
        Err(e) => {
            println!("error[access-log-broken] {e:#}");
            return Ok(Exit::Failed);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        for e in &entries {
            println!("{}  {:<24} {:<8} {}  {}", e.at, e.who, e.verdict, e.pack, e.reason);
        }
        println!("{} entries, each signed and chained to the one before", entries.len());
    }
    Ok(Exit::Success)
}
