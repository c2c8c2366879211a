//! `reports/release-<version>.md`: the release in Markdown, for the
//! repository and the change record.

use std::fmt::Write as _;

use super::{ReleaseReport, Status};

/// The report as Markdown.
pub fn render(r: &ReleaseReport) -> String {
    let b = &r.release;
    let mut out = format!("# Release {} ({}): {}\n\n", b.version, b.environment, r.status.as_str());
    let _ = writeln!(out, "- Commit: `{}`", b.commit);
    let _ = writeln!(out, "- Release id: `{}`", b.id);
    let passed = r.gates.iter().filter(|g| g.state == "passed").count();
    let _ = writeln!(out, "- Gates: {passed} of {} passed", r.gates.len());
    let _ = writeln!(out, "- Records: {}", r.records.len());
    if let Some(p) = &r.promotion {
        let _ = writeln!(out, "- Promotion: {} at step {} ({}%): {}", p.state.to_uppercase(), p.step, p.weight, p.reason);
    }
    if let Some(i) = r.promotion.as_ref().and_then(|p| p.incident.as_ref()) {
        let _ = writeln!(out, "- Incident: [{i}](../{i})");
    }
    gates(&mut out, r);
    approvals(&mut out, r);
    if !r.steps.is_empty() {
        let _ = writeln!(out, "\n## Promotion\n\n| record | event | step | weight | what |\n|---|---|---|---|---|");
        for s in &r.steps {
            let cell = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
            let _ = writeln!(out, "| #{} | {} | {} | {} | {} |", s.sequence, s.event, cell(s.step), cell(s.weight), escape(&s.summary));
        }
    }
    evidence(&mut out, r);
    out
}

fn gates(out: &mut String, r: &ReleaseReport) {
    let _ = writeln!(out, "\n## Phases and gates\n\n| phase | gate | state | reasons |\n|---|---|---|---|");
    for g in &r.gates {
        let reasons = g.reasons.iter().map(|x| escape(x)).collect::<Vec<_>>().join("<br>");
        let _ = writeln!(out, "| {} {} | {} | {} | {reasons} |", g.phase, escape(&g.phase_name), g.gate, g.state);
    }
    if r.status == Status::Blocked {
        let _ = writeln!(out, "\nThe release is BLOCKED until every gate passes.");
    }
}

fn approvals(out: &mut String, r: &ReleaseReport) {
    let m = &r.approvals;
    let _ = writeln!(out, "\n## Approvals\n");
    if m.roles.is_empty() {
        let _ = writeln!(out, "No approval role is defined in the trust root.");
    }
    for role in &m.roles {
        let required = if m.required_roles.contains(&role.role) { "required" } else { "not required" };
        let state = if role.approved { "approved".to_owned() } else { format!("not approved ({})", role.problem.as_deref().unwrap_or("quorum not met")) };
        let _ = writeln!(out, "- {} ({required}): {} of {} approvals, {state}", role.role, role.approvals, role.threshold);
        for v in role.votes.iter().filter(|v| v.decision.is_some()) {
            let who = v.identity.clone().or_else(|| v.name.clone()).unwrap_or_else(|| v.key_id.clone());
            let counted = v.refused.as_deref().map(|why| format!(" (not counted: {why})")).unwrap_or_default();
            let _ = writeln!(out, "  - {who}: {}{counted}: {}", v.decision.map(|d| d.as_str()).unwrap_or(""), v.reason.as_deref().unwrap_or(""));
        }
    }
}

fn evidence(out: &mut String, r: &ReleaseReport) {
    let _ = writeln!(out, "\n## Where the evidence is\n");
    for (what, place) in &r.locations {
        let _ = writeln!(out, "- {what}: `{place}`");
    }
    let _ = writeln!(out, "\n| record | phase | type | agent or gate | verdict | evidence files |\n|---|---|---|---|---|---|");
    for rec in &r.records {
        let files = rec.evidence.iter().map(|e| format!("{} (`sha256:{}`)", escape(&e.name), short(&e.sha256.to_string()))).collect::<Vec<_>>().join("<br>");
        let _ = writeln!(out, "| #{} | {} | {} | {} | {} | {files} |", rec.sequence, rec.phase, rec.record_type, escape(rec.agent.as_deref().unwrap_or("")), rec.verdict.as_deref().unwrap_or(""));
    }
    if !r.charts.is_empty() {
        let _ = writeln!(out, "\nSLO charts, in the pack: {}.", r.charts.iter().map(|c| format!("`{}`", c.path)).collect::<Vec<_>>().join(", "));
    }
}

fn short(hex: &str) -> &str {
    hex.get(..16).unwrap_or(hex)
}

/// Text safe inside a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
