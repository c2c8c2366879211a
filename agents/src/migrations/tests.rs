use super::layout::{Layout, plan};
use super::*;

fn names(files: &[&str]) -> Vec<String> {
    files.iter().map(|f| (*f).to_owned()).collect()
}

#[test]
fn plain_pairs_order_by_numeric_version_and_note_a_missing_down() {
    let files = names(&["10_late.up.sql", "10_late.down.sql", "002_users.up.sql", "002_users.down.sql", "003_add_index.up.sql", "README.md"]);
    let p = plan(&files, None);
    assert_eq!(p.layout, Layout::Plain);
    let ids: Vec<&str> = p.migrations.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["002_users", "003_add_index", "10_late"]);
    assert_eq!(p.migrations[1].down, None);
    assert_eq!(p.migrations[0].down.as_deref(), Some("002_users.down.sql"));
    assert_eq!(p.ignored, ["README.md"]);
    assert!(p.problems.is_empty());
}

#[test]
fn diesel_folders_count_as_plain() {
    let files = names(&["2026-11-30-101500_create_users/up.sql", "2026-11-30-101500_create_users/down.sql", "00000000000000_diesel_setup/up.sql"]);
    let p = plan(&files, Some(Layout::Plain));
    assert_eq!(p.migrations.len(), 2);
    assert_eq!(p.migrations[0].id, "00000000000000_diesel_setup");
    assert_eq!(p.migrations[1].down.as_deref(), Some("2026-11-30-101500_create_users/down.sql"));
    assert_eq!(plan(&files, Some(Layout::GolangMigrate)).migrations.len(), 0, "golang-migrate has no folders");
}

#[test]
fn sqlx_single_files_are_irreversible_and_detected() {
    let files = names(&["20261130090000_init.up.sql", "20261130090000_init.down.sql", "20261201090000_seed_plans.sql"]);
    let p = plan(&files, None);
    assert_eq!(p.layout, Layout::Sqlx);
    assert_eq!(p.migrations[1].id, "20261201090000_seed_plans");
    assert_eq!(p.migrations[1].down, None);
    assert_eq!(plan(&files, Some(Layout::Plain)).ignored, ["20261201090000_seed_plans.sql"]);
}

#[test]
fn refinery_pairs_v_with_u() {
    let files = names(&["V1__init.sql", "U1__init.sql", "V2__add_email.sql", "V10__index.sql", "U10__index.sql", "mod.rs"]);
    let p = plan(&files, None);
    assert_eq!(p.layout, Layout::Refinery);
    let ids: Vec<(&str, Option<&str>)> = p.migrations.iter().map(|m| (m.id.as_str(), m.down.as_deref())).collect();
    assert_eq!(ids, [("V1__init", Some("U1__init.sql")), ("V2__add_email", None), ("V10__index", Some("U10__index.sql"))]);
    assert_eq!(p.ignored, ["mod.rs"]);
}

#[test]
fn duplicate_versions_and_orphan_downs_name_their_files() {
    let p = plan(&names(&["003_a.up.sql", "3_b.up.sql", "004_c.down.sql"]), Some(Layout::GolangMigrate));
    assert!(p.migrations.is_empty());
    let messages: Vec<&str> = p.problems.iter().map(|x| x.message.as_str()).collect();
    assert_eq!(messages, ["003_a.up.sql and 3_b.up.sql share version 003; give one of them a new version", "004_c.down.sql is a down migration with no up migration; add its up or remove it"]);
    assert_eq!(p.problems[0].code, "duplicate-version");
    assert_eq!(p.problems[1].code, "orphan-down");
    let mixed = plan(&names(&["005_x.up.sql", "005_y.down.sql"]), None);
    assert_eq!(mixed.problems[0].code, "duplicate-version", "an up and a down of different names share a version");
}

#[test]
fn versions_longer_than_any_integer_still_order() {
    let long = format!("{}1_big.up.sql", "9".repeat(60));
    let p = plan(&names(&[&long, "2_small.up.sql"]), None);
    assert_eq!(p.migrations[0].id, "2_small");
}

#[test]
fn names_that_are_not_migrations_are_ignored() {
    let files = names(&["_x.up.sql", "abc_x.up.sql", "1_.up.sql", "V__x.sql", "Vx__y.sql", "1_x/notes.sql", ".up.sql", "1_x.txt"]);
    let p = plan(&files, None);
    assert!(p.migrations.is_empty(), "{:?}", p.migrations);
    assert_eq!(p.ignored.len(), files.len());
}

#[test]
fn schema_differences_list_each_side() {
    let before = schema::Description::from_lines(["table public.users kind=r rls=false forced=false".to_owned()]);
    let after = schema::Description::from_lines(["table public.users kind=r rls=false forced=false".to_owned(), "column public.users.email text".to_owned()]);
    let d = before.differences(&after);
    assert_eq!(d.added, ["column public.users.email text"]);
    assert!(d.removed.is_empty());
    assert_eq!(d.summary("left behind", "missing"), "left behind column public.users.email text");
    assert_ne!(before.digest(), after.digest());
    assert_eq!(before.digest(), schema::Description::from_lines(before.text().lines().map(str::to_owned)).digest());
}

#[test]
fn redacts_passwords_in_urls_and_key_value_strings() {
    assert_eq!(postgres::redact("postgres://app:s3cr%40t@db.internal:5432/app?sslmode=require"), "postgres://app:***@db.internal:5432/app?sslmode=require");
    assert_eq!(postgres::redact("postgresql://app@127.0.0.1/app?password=hunter2&sslmode=disable"), "postgresql://app@127.0.0.1/app?password=***&sslmode=disable");
    assert_eq!(postgres::redact("host=127.0.0.1 user=app password='a b' dbname=app"), "host=127.0.0.1 user=app password=*** dbname=app");
    assert_eq!(postgres::redact("postgres://127.0.0.1:5432/app"), "postgres://127.0.0.1:5432/app");
    assert_eq!(postgres::line_of("SELECT 1;\nSELEC 2;", 11), 2);
}

fn task(dir: &Path, settings: &[(&str, toml::Value)]) -> AgentTask {
    let settings: toml::Table = settings.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    AgentTask::new("Schema Captain", "migrations", "P2", dir, &dir.join("scratch"), settings)
}

#[tokio::test]
async fn missing_settings_and_empty_folders_are_missing_input() {
    let dir = tempfile::tempdir().unwrap();
    let unset = MigrationsAgent.run(&task(dir.path(), &[])).await;
    assert_eq!(unset.verdict, Verdict::MissingInput);
    assert!(unset.reason.contains("set database_url"), "{}", unset.reason);
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    std::fs::write(dir.path().join("migrations/README.md"), "none yet").unwrap();
    let empty = MigrationsAgent.run(&task(dir.path(), &[("database_url", "postgres://postgres@127.0.0.1:1/postgres".into()), ("migrations_dir", "migrations".into())])).await;
    assert_eq!(empty.verdict, Verdict::MissingInput);
    assert!(empty.reason.starts_with("migrations holds no migrations in the plain layout"), "{}", empty.reason);
    let env = MigrationsAgent.run(&task(dir.path(), &[("database_url_env", "CONDUCTOR_UNSET_DATABASE_URL_FOR_TESTS".into()), ("migrations_dir", "migrations".into())])).await;
    assert_eq!(env.verdict, Verdict::MissingInput);
    assert!(env.reason.contains("CONDUCTOR_UNSET_DATABASE_URL_FOR_TESTS"), "{}", env.reason);
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    std::fs::write(dir.path().join("migrations/001_init.up.sql"), "CREATE TABLE t (id int);").unwrap();
    // A port that was free a moment ago: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/postgres");
    let outcome = MigrationsAgent.run(&task(dir.path(), &[("database_url", url.into()), ("migrations_dir", "migrations".into())])).await;
    assert_eq!(outcome.verdict, Verdict::Error);
    assert!(outcome.reason.starts_with(&format!("cannot connect to postgres://app:***@127.0.0.1:{port}/postgres")), "{}", outcome.reason);
    assert!(!outcome.reason.contains("hunter2"));
}
