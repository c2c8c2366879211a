use super::*;

fn task(dir: &std::path::Path, settings: &[(&str, toml::Value)]) -> AgentTask {
    let settings: toml::Table = settings.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    AgentTask::new("Data Plane Owner", "tenant_isolation", "P2", dir, dir, settings)
}

const URL: &str = "postgres://postgres@127.0.0.1:1/postgres";

#[tokio::test]
async fn needs_a_schema_two_tenants_and_a_purge_that_names_its_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let no_schema = TenantIsolationAgent.run(&task(dir.path(), &[("database_url", URL.into())])).await;
    assert_eq!(no_schema.verdict, Verdict::MissingInput);
    assert!(no_schema.reason.starts_with("no schema to probe; set migrations_dir or schema"), "{}", no_schema.reason);
    let one_tenant = TenantIsolationAgent.run(&task(dir.path(), &[("database_url", URL.into()), ("schema", "schema.sql".into()), ("tenants", toml::Value::Array(vec!["acme".into()]))])).await;
    assert_eq!(one_tenant.verdict, Verdict::MissingInput);
    assert!(one_tenant.reason.contains("must list two different tenant ids"), "{}", one_tenant.reason);
    std::fs::write(dir.path().join("purge.sql"), "DELETE FROM invoices WHERE tenant_id = 'acme';").unwrap();
    let fixed = TenantIsolationAgent.run(&task(dir.path(), &[("database_url", URL.into()), ("schema", "schema.sql".into()), ("purge", "purge.sql".into())])).await;
    assert_eq!(fixed.verdict, Verdict::MissingInput);
    assert!(fixed.reason.contains("never names its tenant; write :'tenant'"), "{}", fixed.reason);
    let no_file = TenantIsolationAgent.run(&task(dir.path(), &[("database_url", URL.into()), ("schema", "schema.sql".into()), ("mode", "purge".into())])).await;
    assert!(no_file.reason.starts_with("mode \"purge\" needs purge"), "{}", no_file.reason);
}

#[tokio::test]
async fn an_unreachable_server_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/postgres");
    let outcome = TenantIsolationAgent.run(&task(dir.path(), &[("database_url", url.into()), ("schema", "schema.sql".into())])).await;
    assert_eq!(outcome.verdict, Verdict::Error);
    assert!(outcome.reason.contains("postgres://app:***@127.0.0.1"), "{}", outcome.reason);
    assert!(!outcome.reason.contains("hunter2"));
}

#[test]
fn attempts_name_the_table_the_tenants_and_the_count() {
    let table = Table { table: "invoices".into(), sql_name: "\"public\".\"invoices\"".into(), rls: true, forced: false, column_type: "text".into(), policies: Vec::new() };
    assert_eq!(flag_problems(&table)[0].message, "table invoices: row-level security is not forced, so the table's owner bypasses it; run ALTER TABLE … FORCE ROW LEVEL SECURITY");
    let leaky = probe::Attempt { viewer: "acme".into(), other: "globex".into(), read_other: 1, read_own: 2, inserted_other: Some(false), ..probe::Attempt::default() };
    let problems = attempt_problems(&table, &leaky);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code, "cross-tenant-read");
    assert_eq!(problems[0].message, "table invoices: tenant acme read 1 row of tenant globex, expected none");
    let blind = probe::Attempt { viewer: "acme".into(), other: "globex".into(), ..probe::Attempt::default() };
    assert_eq!(attempt_problems(&table, &blind)[0].code, "own-rows-hidden");
}
