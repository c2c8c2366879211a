//! The migrations and tenant_isolation kinds through `conductor run --phase
//! P2` against a PostgreSQL server of the test's own (see [`Postgres`]).
//! Each repository overrides P2 so it requires no earlier phase and names
//! only the agents under test; the server's address reaches the conductor
//! through an environment variable named by `database_url_env`.

use std::path::Path;
use std::process::Command;

use crate::fixture::ok;
use crate::ops::{append, decided, gate, ops_repo, write};
use crate::postgres::Postgres;

/// The variable the repositories' conductor.toml names.
const URL_ENV: &str = "CONDUCTOR_TEST_DATABASE_URL";

/// A repository with its own P2 made of `gates`, `config` as conductor.toml
/// and `files`, all committed, with a started release.
fn p2_repo(gates: &str, config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = ops_repo("P2", &format!("id = \"P2\"\nname = \"Data safety\"\nrequires = []\n\n{gates}"), config, files);
    ok(dir.path(), &["init", "--version", "v1.0.0", "--key", "keys/notary.key"]);
    dir
}

/// Runs P2 with the server's URL in the environment; each gate's (id, passed, reasons).
fn run(dir: &Path, pg: &Postgres) -> Vec<(String, bool, Vec<String>)> {
    Command::new(env!("CARGO_BIN_EXE_conductor")).current_dir(dir).args(["run", "--phase", "P2"]).env(URL_ENV, pg.url()).output().unwrap();
    decided(dir, "P2")
}

/// No scratch database or probe role is left on the server.
fn assert_clean(pg: &Postgres) {
    assert_eq!(pg.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'conductor_scratch_%'"), "0");
    assert_eq!(pg.psql("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'conductor_probe_%'"), "0");
}

const MIGRATIONS_GATE: &str = "[[gate]]\nid = \"migrations\"\npolicy = \"migrations\"\nagents = [\"Schema Captain\"]\nneeds = [\"migration-check\"]\n";

const SCHEMA_CAPTAIN: &str = "[agents.\"Schema Captain\"]\ndatabase_url_env = \"CONDUCTOR_TEST_DATABASE_URL\"\nmigrations_dir = \"db/migrations\"\n";

const USERS_UP: &str = "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);\n";
const ORDERS_UP: &str = "CREATE TABLE orders (\n  id serial PRIMARY KEY,\n  user_id integer NOT NULL REFERENCES users (id),\n  total numeric(10, 2) NOT NULL DEFAULT 0\n);\nCREATE INDEX orders_user_idx ON orders (user_id);\n";

fn migrations() -> Vec<(&'static str, &'static str)> {
    vec![
        ("db/migrations/001_users.up.sql", USERS_UP),
        ("db/migrations/001_users.down.sql", "DROP TABLE users;\n"),
        ("db/migrations/002_orders.up.sql", ORDERS_UP),
        ("db/migrations/002_orders.down.sql", "DROP TABLE orders;\n"),
    ]
}

#[test]
fn reversible_migrations_pass_and_a_missing_down_fails_the_gate_naming_it() {
    let pg = Postgres::start();
    let dir = p2_repo(MIGRATIONS_GATE, SCHEMA_CAPTAIN, &migrations());
    let p = dir.path();
    assert_eq!(gate(&run(p, &pg), "migrations"), (true, &[][..]));
    assert_clean(&pg);

    write(p, &[("db/migrations/003_add_index.up.sql", "CREATE INDEX users_email_lower_idx ON users (lower(email));\n")]);
    let gates = run(p, &pg);
    assert_eq!(gate(&gates, "migrations"), (false, &["Schema Captain: migration 003_add_index has no down migration".to_owned()][..]));
    assert_clean(&pg);

    // Declared irreversible, it passes; the downs below it were still tested.
    append(p, "conductor.toml", "[gates.migrations]\nallow_irreversible = [\"003_add_index\"]");
    assert_eq!(gate(&run(p, &pg), "migrations"), (true, &[][..]));
}

#[test]
fn a_down_that_does_not_restore_the_schema_or_fails_is_named() {
    let pg = Postgres::start();
    let mut files = migrations();
    files[3] = ("db/migrations/002_orders.down.sql", "DROP INDEX orders_user_idx;\n");
    let dir = p2_repo(MIGRATIONS_GATE, SCHEMA_CAPTAIN, &files);
    let p = dir.path();
    let gates = run(p, &pg);
    let (passed, reasons) = gate(&gates, "migrations");
    assert!(!passed);
    assert_eq!(reasons.len(), 1, "{reasons:#?}");
    assert!(reasons[0].starts_with("Schema Captain: reverting migration 002_orders does not restore the schema before it: left behind column public.orders.id integer not null default nextval('orders_id_seq'::regclass)"), "{reasons:#?}");

    // A down whose SQL fails names the file, the error and its line.
    write(p, &[("db/migrations/002_orders.down.sql", "DROP INDEX orders_user_idx;\nDROP TABLE order;\n")]);
    let gates = run(p, &pg);
    let (_, reasons) = gate(&gates, "migrations");
    assert!(reasons.iter().any(|r| r.starts_with("Schema Captain: migration 002_orders: db/migrations/002_orders.down.sql failed: syntax error at or near \"order\" at line 2")), "{reasons:#?}");
    assert_clean(&pg);
}

#[test]
fn the_sequence_records_digests_rows_and_schema_files() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &migrations());
    write(dir.path(), &[("db/seed.sql", "-- users before any migration would fail, so the seed only sets up an extension-free schema\nCREATE SCHEMA audit;\n")]);
    let run = || {
        let mut settings = toml::Table::new();
        settings.insert("database_url".into(), pg.url().into());
        settings.insert("migrations_dir".into(), "db/migrations".into());
        settings.insert("seed".into(), "db/seed.sql".into());
        let task = agents::AgentTask::new("Schema Captain", "migrations", "P2", dir.path(), &dir.path().join("scratch"), settings);
        tokio::runtime::Runtime::new().unwrap().block_on(agents::run_task(task))
    };
    let outcome = run();
    assert_eq!(outcome.verdict, agents::Verdict::Pass, "{}", outcome.reason);
    let f = &outcome.facts;
    let actions: Vec<&str> = f["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["initial", "up", "up", "down", "down", "reapply", "reapply"]);
    assert_eq!(f["steps"][4]["digest"], f["initialDigest"], "reverting everything restores the empty schema");
    assert_eq!(f["migrations"][0]["downDigest"], f["initialDigest"]);
    assert_eq!(f["migrations"][1]["downDigest"], f["migrations"][0]["upDigest"]);
    assert_eq!(f["steps"][6]["digest"], f["migrations"][1]["upDigest"]);
    assert_eq!(f["steps"][2]["rows"]["public.orders"], 0);
    assert_eq!(f["scratchDropped"], true);
    assert_eq!(f["layout"], "plain");
    let schema = outcome.files.iter().find(|file| file.name == "schema-02-up-002_orders.txt").unwrap();
    let text = std::fs::read_to_string(&schema.path).unwrap();
    assert!(text.contains("index public.orders_user_idx CREATE INDEX orders_user_idx ON public.orders USING btree (user_id)\n"), "{text}");
    assert!(text.contains("schema audit\n"), "{text}");
    assert!(outcome.files.iter().any(|file| file.name == "002_orders.down.sql"));

    // An index built concurrently runs outside a transaction; an up that fails names its line.
    write(dir.path(), &[
        ("db/migrations/003_email_idx.up.sql", "-- conductor:no-transaction\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"),
        ("db/migrations/003_email_idx.down.sql", "-- conductor:no-transaction\nDROP INDEX CONCURRENTLY users_email_idx;\n"),
        ("db/migrations/004_broken.up.sql", "ALTER TABLE users ADD COLUMN name text;\nINSERT INTO userz VALUES (1);\n"),
        ("db/migrations/004_broken.down.sql", "ALTER TABLE users DROP COLUMN name;\n"),
    ]);
    let outcome = run();
    assert_eq!(outcome.verdict, agents::Verdict::Fail);
    assert_eq!(outcome.reason, "migration 004_broken: db/migrations/004_broken.up.sql failed: relation \"userz\" does not exist at line 2");
    assert_eq!(outcome.facts["problems"].as_array().unwrap().len(), 1, "the three that applied were reverted and applied again: {:#}", outcome.facts["problems"]);
    assert_eq!(outcome.facts["migrations"][2]["downDigest"], outcome.facts["migrations"][1]["upDigest"]);
    assert_clean(&pg);
}

const TENANT_GATE: &str = "[[gate]]\nid = \"tenant_isolation\"\npolicy = \"tenant_isolation\"\nagents = [\"Data Plane Owner\", \"Purge Marshall\"]\nneeds = [\"tenant-isolation\", \"purge-check\"]\n";

const TENANT_CONFIG: &str = "[agents.\"Data Plane Owner\"]\ndatabase_url_env = \"CONDUCTOR_TEST_DATABASE_URL\"\nschema = \"db/schema.sql\"\ntenants = [\"acme\", \"globex\"]\n\n[agents.\"Purge Marshall\"]\ndatabase_url_env = \"CONDUCTOR_TEST_DATABASE_URL\"\nschema = \"db/schema.sql\"\nseed = \"db/seed.sql\"\npurge = \"db/purge.sql\"\n";

/// A tenant table with row-level security enabled, forced and keyed on `app.tenant_id`.
fn isolated(table: &str) -> String {
    format!(
        "CREATE TABLE {table} (id serial PRIMARY KEY, tenant_id text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL);\n\
         ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY {table}_tenant ON {table} USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true));\n"
    )
}

const SEED: &str = "INSERT INTO invoices (tenant_id, body, created_at) VALUES ('t-1', 'a', now()), ('t-1', 'b', now()), ('t-2', 'c', now());\nINSERT INTO notes (tenant_id, body, created_at) VALUES ('t-2', 'x', now());\n";

const PURGE: &str = "DELETE FROM invoices WHERE tenant_id = :'tenant';\nDELETE FROM notes WHERE tenant_id = :'tenant';\n";

#[test]
fn row_level_security_is_probed_table_by_table() {
    let pg = Postgres::start();
    let schema = format!("CREATE TABLE plans (id text PRIMARY KEY);\n{}{}", isolated("invoices"), isolated("notes"));
    let dir = p2_repo(TENANT_GATE, TENANT_CONFIG, &[("db/schema.sql", &schema), ("db/seed.sql", SEED), ("db/purge.sql", PURGE)]);
    let p = dir.path();
    assert_eq!(gate(&run(p, &pg), "tenant_isolation"), (true, &[][..]));
    assert_clean(&pg);

    // notes without row-level security: named, and its rows are readable across tenants.
    let open = format!("CREATE TABLE plans (id text PRIMARY KEY);\n{}CREATE TABLE notes (id serial PRIMARY KEY, tenant_id text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL);\n", isolated("invoices"));
    write(p, &[("db/schema.sql", &open)]);
    let gates = run(p, &pg);
    let (passed, reasons) = gate(&gates, "tenant_isolation");
    assert!(!passed);
    assert!(reasons.contains(&"Data Plane Owner: table notes: row-level security is not enabled; run ALTER TABLE … ENABLE ROW LEVEL SECURITY".to_owned()), "{reasons:#?}");
    assert!(reasons.contains(&"Data Plane Owner: table notes: tenant acme read 1 row of tenant globex, expected none".to_owned()), "{reasons:#?}");
    assert!(!reasons.iter().any(|r| r.contains("table invoices")), "{reasons:#?}");

    // A policy that lets every tenant read: enabled and forced, yet leaky.
    let leaky = schema.replace("CREATE POLICY notes_tenant ON notes USING (tenant_id = current_setting('app.tenant_id', true))", "CREATE POLICY notes_tenant ON notes USING (true)");
    assert_ne!(leaky, schema);
    write(p, &[("db/schema.sql", &leaky)]);
    let gates = run(p, &pg);
    let (_, reasons) = gate(&gates, "tenant_isolation");
    assert!(reasons.contains(&"Data Plane Owner: table notes: tenant acme read 1 row of tenant globex, expected none".to_owned()), "{reasons:#?}");
    assert!(reasons.contains(&"Data Plane Owner: table notes: tenant acme deleted 1 row of tenant globex, expected none".to_owned()), "{reasons:#?}");
    assert!(!reasons.iter().any(|r| r.contains("row-level security is not")), "{reasons:#?}");
    assert_clean(&pg);
}

#[test]
fn a_purge_must_remove_one_tenant_and_touch_no_other() {
    let pg = Postgres::start();
    let schema = format!("{}{}", isolated("invoices"), isolated("notes"));
    let dir = p2_repo(TENANT_GATE, TENANT_CONFIG, &[("db/schema.sql", &schema), ("db/seed.sql", SEED), ("db/purge.sql", PURGE)]);
    let p = dir.path();
    assert_eq!(gate(&run(p, &pg), "tenant_isolation"), (true, &[][..]));

    // The purge forgets notes; the seed's tenants are t-1 and t-2, and t-1 got a synthetic note.
    write(p, &[("db/purge.sql", "DELETE FROM invoices WHERE tenant_id = :'tenant';\n")]);
    let gates = run(p, &pg);
    assert_eq!(gate(&gates, "tenant_isolation"), (false, &["Purge Marshall: table notes: 1 row of tenant t-1 left after the purge, expected none".to_owned()][..]));

    // A purge that deletes every tenant's invoices.
    write(p, &[("db/purge.sql", "DELETE FROM invoices WHERE tenant_id = :'tenant' OR true;\nDELETE FROM notes WHERE tenant_id = :'tenant';\n")]);
    let gates = run(p, &pg);
    assert_eq!(gate(&gates, "tenant_isolation"), (false, &["Purge Marshall: table invoices: tenant t-2 had 1 row before the purge of tenant t-1 and 0 rows after".to_owned()][..]));
    assert_clean(&pg);
}

/// Runs the Backfill Marshal on `dir` directly, with the facts to look at.
fn backfill(dir: &Path, pg: &Postgres) -> agents::AgentOutcome {
    let mut settings = toml::Table::new();
    settings.insert("database_url".into(), pg.url().into());
    settings.insert("migrations_dir".into(), "db/migrations".into());
    settings.insert("seed".into(), "db/seed.sql".into());
    settings.insert("backfills_dir".into(), "db/backfills".into());
    let task = agents::AgentTask::new("Backfill Marshal", "migrations", "P2", dir, &dir.join("scratch"), settings);
    tokio::runtime::Runtime::new().unwrap().block_on(agents::run_task(task))
}

#[test]
fn backfills_run_on_seeded_data_and_must_restore_its_row_counts() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, &[
        ("db/migrations/001_users.up.sql", "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, plan text);\n"),
        ("db/migrations/001_users.down.sql", "DROP TABLE users;\n"),
        ("db/seed.sql", "INSERT INTO users VALUES (1, 'a@example.com', NULL), (2, 'b@example.com', 'pro'), (3, 'c@old.example', NULL);\n"),
        ("db/backfills/001_default_plan.up.sql", "UPDATE users SET plan = 'free' WHERE plan IS NULL;\n"),
        ("db/backfills/001_default_plan.down.sql", "UPDATE users SET plan = NULL WHERE plan = 'free';\n"),
        ("db/backfills/002_archive.up.sql", "CREATE TABLE archived_users AS SELECT * FROM users WHERE email LIKE '%@old.example';\nDELETE FROM users WHERE email LIKE '%@old.example';\n"),
        ("db/backfills/002_archive.down.sql", "INSERT INTO users SELECT * FROM archived_users;\nDROP TABLE archived_users;\n"),
    ]);
    let outcome = backfill(p, &pg);
    assert_eq!(outcome.verdict, agents::Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["mode"], "backfills");
    assert_eq!(outcome.facts["prelude"], serde_json::json!(["db/migrations/001_users.up.sql", "db/seed.sql"]));
    let after_archive = &outcome.facts["steps"][2]["rows"];
    assert_eq!((after_archive["public.users"].as_i64(), after_archive["public.archived_users"].as_i64()), (Some(2), Some(1)));
    assert!(outcome.facts["steps"][2]["millis"].is_u64());

    // The down forgets to bring the archived row back.
    write(p, &[("db/backfills/002_archive.down.sql", "DROP TABLE archived_users;\n")]);
    let outcome = backfill(p, &pg);
    assert_eq!(outcome.verdict, agents::Verdict::Fail);
    assert_eq!(outcome.reason, "reverting backfill 002_archive does not restore the row counts before it: public.users has 2 rows, expected 3");
    assert_eq!(outcome.facts["problems"][0]["code"], "rows-mismatch");
    assert_clean(&pg);
}

/// Settings beyond the server and the migrations folder.
type Settings = [(&'static str, &'static str)];

#[test]
fn the_example_service_database_passes_all_three_checks() {
    let pg = Postgres::start();
    let service = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/service");
    let scratch = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = [("database_url", pg.url()), ("migrations_dir", "db/migrations".to_owned())];
    let checks: [(&str, &str, &Settings); 3] = [
        ("Schema Captain", "migrations", &[]),
        ("Data Plane Owner", "tenant_isolation", &[("seed", "db/seed.sql")]),
        ("Purge Marshall", "tenant_isolation", &[("seed", "db/seed.sql"), ("purge", "db/purge.sql")]),
    ];
    for (agent, kind, extra) in checks {
        let mut settings = toml::Table::new();
        for (k, v) in base.iter().map(|(k, v)| (*k, v.as_str())).chain(extra.iter().copied()) {
            settings.insert(k.into(), v.into());
        }
        let task = agents::AgentTask::new(agent, kind, "P2", &service, scratch.path(), settings);
        let outcome = runtime.block_on(agents::run_task(task));
        assert_eq!(outcome.verdict, agents::Verdict::Pass, "{agent}: {}", outcome.reason);
    }
    assert_clean(&pg);
}

#[test]
fn a_check_stopped_at_its_timeout_still_drops_its_scratch_database() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("db/migrations/001_slow.up.sql", "SELECT pg_sleep(60);\n"), ("db/migrations/001_slow.down.sql", "SELECT 1;\n")]);
    let mut settings = toml::Table::new();
    settings.insert("database_url".into(), pg.url().into());
    settings.insert("migrations_dir".into(), "db/migrations".into());
    settings.insert("timeout_seconds".into(), 1.into());
    let task = agents::AgentTask::new("Schema Captain", "migrations", "P2", dir.path(), &dir.path().join("scratch"), settings);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcome = runtime.block_on(agents::run_task(task));
    assert_eq!(outcome.verdict, agents::Verdict::TimedOut, "{}", outcome.reason);
    // The cleanup runs on the runtime, which is still alive here.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while pg.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'conductor_scratch_%'") != "0" {
        assert!(std::time::Instant::now() < deadline, "the scratch database outlived its check");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
