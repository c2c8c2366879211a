use super::*;

fn phase<'a>(plan: &'a PhasePlan, id: &str) -> &'a Phase {
    plan.phases().iter().find(|p| p.id == id).unwrap()
}

fn roster() -> Roster {
    Roster::builtin().unwrap()
}

#[test]
fn the_builtin_plan_loads_in_dependency_order() {
    let dir = tempfile::tempdir().unwrap();
    let plan = PhasePlan::load(dir.path(), &roster()).unwrap();
    let ids: Vec<&str> = plan.phases().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 9);
    let at = |id: &str| ids.iter().position(|p| *p == id).unwrap();
    for phase in plan.phases() {
        for required in &phase.requires {
            assert!(at(required) < at(&phase.id), "{} runs before {required}", phase.id);
        }
    }
    assert_eq!(phase(&plan, "P0").gates.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["supply_chain", "policy_ci", "hardening"]);
}

#[test]
fn every_roster_agent_feeds_a_gate() {
    let dir = tempfile::tempdir().unwrap();
    let plan = PhasePlan::load(dir.path(), &roster()).unwrap();
    let fed: BTreeSet<&str> = plan.phases().iter().flat_map(|p| p.agents()).collect();
    for agent in roster().agents() {
        assert!(fed.contains(agent.name.as_str()), "{} feeds no gate", agent.name);
    }
    assert_eq!(roster().agents().len(), 60);
}

#[test]
fn a_repository_file_replaces_a_builtin_phase() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("phases")).unwrap();
    let text = "id = \"P7\"\nname = \"Docs only\"\nrequires = [\"P0\"]\n\n[[gate]]\nid = \"doc_lint\"\npolicy = \"doc_lint\"\nagents = [\"Docs Librarian\"]\n";
    std::fs::write(dir.path().join("phases/P7.toml"), text).unwrap();
    let plan = PhasePlan::load(dir.path(), &roster()).unwrap();
    assert_eq!(phase(&plan, "P7").name, "Docs only");
}

#[test]
fn mistakes_name_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("phases")).unwrap();
    let unknown_agent = "id = \"PX\"\nname = \"x\"\n[[gate]]\nid = \"g\"\npolicy = \"g\"\nagents = [\"Nobody\"]\n";
    std::fs::write(dir.path().join("phases/PX.toml"), unknown_agent).unwrap();
    let err = PhasePlan::load(dir.path(), &roster()).unwrap_err();
    assert!(err.file.ends_with("PX.toml") && err.field == "gate[0].agents", "{err}");
    let cycle = "id = \"P0\"\nname = \"Readiness\"\nrequires = [\"P6\"]\n[[gate]]\nid = \"g\"\npolicy = \"g\"\nagents = [\"CI/CD Engineer\"]\n";
    std::fs::write(dir.path().join("phases/PX.toml"), cycle).unwrap();
    let err = PhasePlan::load(dir.path(), &roster()).unwrap_err();
    assert!(err.problem.contains("cycle"), "{err}");
}
