//! `index.html`: the release as one self-contained page (inline styles, no
//! scripts, nothing fetched) that opens from an unzipped pack. SLO charts
//! are embedded as `data:` images, so an SVG can never run anything in the
//! page; every text from the ledger is escaped.

use std::fmt::Write as _;

use base64::Engine as _;

use super::{ReleaseReport, Status};

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}\
h1{font-size:1.6rem;margin:0 0 .4rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}.status{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-weight:600;color:#fff}\
.ok{background:#1a7f37}.bad{background:#cf222e}.wait{background:#9a6700}.passed{color:#1a7f37;font-weight:600}\
.failed{color:#cf222e;font-weight:600}.notrun{color:#57606a}code{font-size:.85rem}figure{display:inline-block;margin:.5rem}\
figcaption{font-size:.85rem;color:#57606a}pre{background:#f6f8fa;padding:1rem;overflow:auto;white-space:pre-wrap}";

/// The report as a page.
pub fn render(r: &ReleaseReport) -> String {
    let b = &r.release;
    let class = match r.status {
        Status::Ready | Status::Promoted => "ok",
        Status::Blocked | Status::Aborted => "bad",
        Status::InProgress | Status::Paused | Status::AwaitingApproval => "wait",
    };
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(out, "<title>Release {} ({}) — {}</title><style>{STYLE}</style></head><body>", e(&b.version), e(&b.environment), r.status.as_str());
    let _ = write!(out, "<h1>Release {} <small>({})</small> <span class=\"status {class}\" id=\"status\">{}</span></h1>", e(&b.version), e(&b.environment), r.status.as_str());
    let passed = r.gates.iter().filter(|g| g.state == "passed").count();
    let verified = r.records.iter().filter(|x| x.verified).count();
    let _ = write!(out, "<p>Commit <code>{}</code>, release id <code>{}</code>. {passed} of {} gates passed; {verified} of {} records carry a signature that verifies under the trust root.</p>", e(&b.commit), e(&b.id), r.gates.len(), r.records.len());
    if let Some(p) = &r.promotion {
        let incident = p.incident.as_deref().map(|i| format!(" Incident record: <code>{}</code>.", e(i))).unwrap_or_default();
        let _ = write!(out, "<p id=\"promotion\">Promotion {} at step {} ({}%): {}.{incident}</p>", e(&p.state.to_uppercase()), p.step, p.weight, e(&p.reason));
    }
    gates(&mut out, r);
    approvals(&mut out, r);
    steps(&mut out, r);
    charts(&mut out, r);
    if let Some(notes) = &r.notes {
        let _ = write!(out, "<h2>Release notes</h2><pre id=\"notes\">{}</pre>", e(notes));
    }
    records(&mut out, r);
    out.push_str("</body></html>\n");
    out
}

fn gates(out: &mut String, r: &ReleaseReport) {
    out.push_str("<h2>Gates</h2><table id=\"gates\"><tr><th>phase</th><th>gate</th><th>state</th><th>reasons</th></tr>");
    for g in &r.gates {
        let class = if g.state == "not run" { "notrun" } else { g.state };
        let reasons = g.reasons.iter().map(|x| e(x)).collect::<Vec<_>>().join("<br>");
        let _ = write!(out, "<tr><td>{} {}</td><td>{}</td><td class=\"{class}\">{}</td><td>{reasons}</td></tr>", e(&g.phase), e(&g.phase_name), e(&g.gate), g.state);
    }
    out.push_str("</table>");
}

fn approvals(out: &mut String, r: &ReleaseReport) {
    let m = &r.approvals;
    out.push_str("<h2>Approvals</h2><table id=\"approvals\"><tr><th>role</th><th>approver</th><th>decision</th><th>counted</th><th>reason</th><th>time</th></tr>");
    for role in &m.roles {
        let required = if m.required_roles.contains(&role.role) { "required" } else { "not required" };
        let state = if role.approved { "approved".to_owned() } else { format!("not approved: {}", role.problem.as_deref().unwrap_or("quorum not met")) };
        let _ = write!(out, "<tr><th colspan=\"6\">{} ({required}): {} of {} approvals, {}</th></tr>", e(&role.role), role.approvals, role.threshold, e(&state));
        for v in &role.votes {
            let who = v.identity.clone().or_else(|| v.name.clone()).unwrap_or_else(|| v.key_id.clone());
            let decision = v.decision.map(|d| d.as_str()).unwrap_or("-");
            let counted = match (&v.decision, &v.refused) {
                (None, _) => String::new(),
                (Some(_), None) => "yes".into(),
                (Some(_), Some(why)) => format!("no: {}", e(why)),
            };
            let time = v.decided_at.map(|t| t.to_string()).unwrap_or_default();
            let _ = write!(out, "<tr><td></td><td>{}</td><td>{decision}</td><td>{counted}</td><td>{}</td><td>{time}</td></tr>", e(&who), e(v.reason.as_deref().unwrap_or("")));
        }
    }
    out.push_str("</table>");
}

fn steps(out: &mut String, r: &ReleaseReport) {
    if r.steps.is_empty() {
        return;
    }
    out.push_str("<h2>Promotion</h2><table id=\"steps\"><tr><th>record</th><th>event</th><th>step</th><th>weight</th><th>what</th></tr>");
    for s in &r.steps {
        let cell = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        let _ = write!(out, "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", s.sequence, e(&s.event), cell(s.step), cell(s.weight), e(&s.summary));
    }
    out.push_str("</table>");
}

fn charts(out: &mut String, r: &ReleaseReport) {
    if r.charts.is_empty() {
        return;
    }
    out.push_str("<h2>SLO charts</h2><div id=\"charts\">");
    for c in &r.charts {
        let data = base64::engine::general_purpose::STANDARD.encode(&c.svg);
        let _ = write!(out, "<figure><img alt=\"{0}\" src=\"data:image/svg+xml;base64,{data}\" width=\"560\"><figcaption>{0}</figcaption></figure>", e(&c.path));
    }
    out.push_str("</div>");
}

fn records(out: &mut String, r: &ReleaseReport) {
    out.push_str("<h2>Records</h2><ul>");
    for (what, place) in &r.locations {
        let _ = write!(out, "<li>{}: <code>{}</code></li>", e(what), e(place));
    }
    out.push_str("</ul><table id=\"records\"><tr><th>#</th><th>phase</th><th>type</th><th>agent or gate</th><th>verdict</th><th>signature</th><th>evidence</th><th>recorded</th></tr>");
    for x in &r.records {
        let class = if x.verified { "passed" } else { "failed" };
        let files = x.evidence.iter().map(|f| format!("{} <code title=\"{1}\">{2}…</code>", e(&f.name), f.sha256, &f.sha256.to_string()[..12])).collect::<Vec<_>>().join("<br>");
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td>{files}</td><td>{}</td></tr>",
            x.sequence,
            e(&x.phase),
            e(&x.record_type),
            e(x.agent.as_deref().unwrap_or("")),
            e(x.verdict.as_deref().unwrap_or("")),
            e(&x.verification),
            e(&x.recorded_at)
        );
    }
    out.push_str("</table>");
}

/// Text safe in HTML content and attribute values.
pub(super) fn e(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
