use super::*;

#[test]
fn statuses_follow_the_gates_and_the_promotion() {
    let row = |state: &'static str| GateRow { phase: "P0".into(), phase_name: "Hygiene".into(), gate: "g".into(), state, reasons: vec![] };
    assert_eq!(status(&[row("passed"), row("passed")], None, true), Status::Ready);
    assert_eq!(status(&[row("passed"), row("passed")], None, false), Status::AwaitingApproval);
    assert_eq!(status(&[row("passed"), row("not run")], None, true), Status::InProgress);
    assert_eq!(status(&[row("failed"), row("not run")], None, true), Status::Blocked);
    let aborted = PromotionState { state: "aborted".into(), step: 1, weight: 10, reason: "r".into(), incident: Some("incidents/INC-2026-12-01-01.md".into()) };
    assert_eq!(status(&[row("passed")], Some(&aborted), true), Status::Aborted);
}

#[test]
fn html_escapes_what_the_ledger_says() {
    assert_eq!(html::e("<script>alert('x')</script> & \"q\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
}
