//! Commit messages since the last tag follow Conventional Commits.

use super::{Check, Options};
use crate::git::{git, previous_tag};

/// How many offending commits the detail names.
const NAMED: usize = 5;

pub(super) fn conventional(options: &Options) -> Check {
    const ID: &str = "conventional-commits";
    let dir = &options.repo;
    let since = previous_tag(dir);
    let range = since.as_ref().map_or_else(|| "HEAD".to_owned(), |t| format!("{t}..HEAD"));
    // Unit and record separators keep multi-line messages apart.
    let log = match git(dir, &["log", "--no-merges", "--format=%h%x1f%B%x1e", &range]) {
        Ok(log) => log,
        Err(e) => return Check::fail(ID, e),
    };
    let mut total = 0;
    let mut bad = Vec::new();
    for entry in log.split('\u{1e}').map(str::trim).filter(|e| !e.is_empty()) {
        total += 1;
        let (hash, message) = entry.split_once('\u{1f}').unwrap_or((entry, ""));
        if let Err(why) = judge(message.trim(), &options.commit_types) {
            let subject = message.lines().next().unwrap_or("");
            bad.push(format!("{hash} \"{subject}\" ({why})"));
        }
    }
    let scope = since.map_or_else(|| "in the history (no tag yet)".to_owned(), |t| format!("since {t}"));
    if bad.is_empty() {
        return Check::pass(ID, format!("{total} commit(s) {scope} follow Conventional Commits"));
    }
    let more = if bad.len() > NAMED { format!(" and {} more", bad.len() - NAMED) } else { String::new() };
    let shown: Vec<&str> = bad.iter().take(NAMED).map(String::as_str).collect();
    Check::fail(ID, format!("{} of {total} commit(s) {scope} do not follow Conventional Commits: {}{more}; reword them (`git rebase -i`)", bad.len(), shown.join(", ")))
}

/// Why a message is not a Conventional Commit with an accepted type.
fn judge(message: &str, types: &[String]) -> Result<(), String> {
    let commit = git_conventional::Commit::parse(message).map_err(|e| e.to_string())?;
    let kind = commit.type_().as_str().to_ascii_lowercase();
    if types.contains(&kind) {
        Ok(())
    } else {
        Err(format!("type '{kind}' is not one of {}", types.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<String> {
        super::super::DEFAULT_COMMIT_TYPES.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn conventional_messages_pass_and_others_say_why() {
        assert!(judge("feat(api)!: drop v1 endpoints\n\nBREAKING CHANGE: v1 is gone", &types()).is_ok());
        assert!(judge("fix: handle empty bodies", &types()).is_ok());
        assert!(judge("Update stuff", &types()).is_err());
        assert!(judge("wip: half done", &types()).unwrap_err().contains("type 'wip' is not one of"));
    }
}
