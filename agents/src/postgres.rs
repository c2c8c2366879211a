//! PostgreSQL for the kinds that check a schema on a real server
//! (`migrations`, `tenant_isolation`): where the server is (`database_url`,
//! or `database_url_env` naming an environment variable that holds it), its
//! address with the password redacted for facts and reasons, a scratch
//! database created for one check and dropped after it, and PostgreSQL
//! errors rendered with their position as a line of the file that caused them.
//!
//! Nothing is done in the database the URL names: it is only where scratch
//! databases (and roles) are created and dropped from. Queries use the
//! simple-query protocol and read text, so any column type can be read
//! without type mappings.

use std::fmt;
use std::sync::OnceLock;

use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

use crate::{AgentOutcome, AgentTask};

/// How long connecting may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A libpq connection string whose `Debug` and `Display` hide the password.
#[derive(Clone)]
pub(crate) struct DatabaseUrl {
    url: String,
    config: Config,
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl DatabaseUrl {
    /// The URL from `database_url`, or from the variable `database_url_env`
    /// names, or a missing-input outcome saying which to set.
    pub(crate) fn from_task(task: &AgentTask) -> Result<Self, AgentOutcome> {
        let url = match task.settings.get("database_url_env") {
            Some(_) => {
                let name = task.text_setting("database_url_env")?;
                std::env::var(name).ok().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                    AgentOutcome::missing_input(format!("the environment variable {name} named by database_url_env of [agents.\"{}\"] is not set; export it with the server's address", task.agent))
                })?
            }
            None if task.settings.contains_key("database_url") => task.text_setting("database_url")?.to_owned(),
            None => {
                return Err(AgentOutcome::missing_input(format!(
                    "no database is configured; set database_url (such as postgres://postgres@127.0.0.1:5432/postgres) or database_url_env under [agents.\"{}\"] in conductor.toml",
                    task.agent
                )));
            }
        };
        Self::parse(&url).map_err(|e| AgentOutcome::missing_input(format!("{e} (in [agents.\"{}\"])", task.agent)))
    }

    /// Parses a libpq URL or key-value connection string.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        match url.parse::<Config>() {
            Ok(config) => Ok(Self { url: url.to_owned(), config }),
            Err(e) => Err(format!("the database url {} is not a libpq connection string: {e}", redact(url))),
        }
    }

    /// The URL with any password replaced by `***`.
    pub(crate) fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// Connects to the database the URL names, or to `dbname` instead.
    pub(crate) async fn connect(&self, dbname: Option<&str>) -> Result<Client, String> {
        let mut config = self.config.clone();
        if let Some(name) = dbname {
            config.dbname(name);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let (client, connection) = config.connect(NoTls).await.map_err(|e| format!("cannot connect to {}: {}", self.redacted(), error_text(&e)))?;
        // The connection runs until the client is dropped; its end shows in
        // the client's own errors, so its result has nothing more to say.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }
}

/// `url` with the password of a `scheme://user:password@host` URL and any
/// `password=` of a query or key-value string replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    static USERINFO: OnceLock<regex::Regex> = OnceLock::new();
    static PARAMETER: OnceLock<regex::Regex> = OnceLock::new();
    // Both patterns are constants known to compile.
    let userinfo = USERINFO.get_or_init(|| regex::Regex::new(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@?#]*):[^/?#]*@").expect("a constant pattern"));
    let parameter = PARAMETER.get_or_init(|| regex::Regex::new(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]+)").expect("a constant pattern"));
    let url = userinfo.replace(url, "$1:***@");
    parameter.replace_all(&url, "${1}***").into_owned()
}

/// The text of every row `sql` returns, column by column (NULL as None).
pub(crate) async fn rows(client: &Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, tokio_postgres::Error> {
    let messages = client.simple_query(sql).await?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect()),
            _ => None,
        })
        .collect())
}

/// The single value of a one-row, one-column query.
pub(crate) async fn value(client: &Client, sql: &str) -> Result<Option<String>, tokio_postgres::Error> {
    Ok(rows(client, sql).await?.into_iter().next().and_then(|r| r.into_iter().next().flatten()))
}

/// `text` as an SQL string literal (standard_conforming_strings, on since
/// PostgreSQL 9.1, keeps backslashes literal).
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `name` as an SQL identifier.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A PostgreSQL error as its message, with the line of `sql` it points at
/// (when the server gave a position), its detail and its hint.
pub(crate) fn sql_error(e: &tokio_postgres::Error, sql: Option<&str>) -> String {
    let Some(db) = e.as_db_error() else { return error_text(e) };
    let mut text = db.message().to_owned();
    if let (Some(tokio_postgres::error::ErrorPosition::Original(at)), Some(sql)) = (db.position(), sql) {
        text.push_str(&format!(" at line {}", line_of(sql, *at as usize)));
    }
    if let Some(detail) = db.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!("; hint: {hint}"));
    }
    text
}

/// The 1-based line of the 1-based character position `at` in `sql`.
pub(crate) fn line_of(sql: &str, at: usize) -> usize {
    1 + sql.chars().take(at.saturating_sub(1)).filter(|c| *c == '\n').count()
}

/// An error that is not the server's (a refused connection, a closed
/// socket) with its causes, which tokio-postgres keeps out of its message.
fn error_text(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        source = cause.source();
    }
    text
}

/// A database made for one check, on the server the URL names. Dropping
/// it without [`Scratch::drop_database`] (a check stopped at its timeout)
/// still drops the database, and the role [`Scratch::own_role`] named, from
/// a task of their own, as far as the runtime lets it finish.
pub(crate) struct Scratch {
    /// Its name, `conductor_scratch_<hex>`.
    pub(crate) name: String,
    admin: Client,
    url: DatabaseUrl,
    role: std::sync::Mutex<Option<String>>,
    dropped: std::sync::atomic::AtomicBool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.dropped.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (url, name) = (self.url.clone(), self.name.clone());
        let role = self.role.lock().ok().and_then(|r| r.clone());
        runtime.spawn(async move {
            let Ok(admin) = url.connect(None).await else { return };
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&name))).await;
            if let Some(role) = role {
                let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", ident(&role))).await;
            }
        });
    }
}

impl Scratch {
    /// Creates a database whose name the server makes unique.
    pub(crate) async fn create(url: &DatabaseUrl) -> Result<Self, String> {
        let admin = url.connect(None).await?;
        let hex = value(&admin, "SELECT replace(gen_random_uuid()::text, '-', '')").await.map_err(|e| sql_error(&e, None))?.unwrap_or_default();
        let name = format!("conductor_scratch_{hex}");
        admin
            .batch_execute(&format!("CREATE DATABASE {}", ident(&name)))
            .await
            .map_err(|e| format!("cannot create the scratch database {name} on {url}: {}; the user needs CREATEDB", sql_error(&e, None)))?;
        Ok(Self { name, admin, url: url.clone(), role: std::sync::Mutex::new(None), dropped: std::sync::atomic::AtomicBool::new(false) })
    }

    /// Names a cluster-wide role the check created, to be dropped with the
    /// database if the check is stopped before it drops both.
    pub(crate) fn own_role(&self, role: &str) {
        if let Ok(mut slot) = self.role.lock() {
            *slot = Some(role.to_owned());
        }
    }

    /// A new connection to the scratch database.
    pub(crate) async fn connect(&self) -> Result<Client, String> {
        self.url.connect(Some(&self.name)).await
    }

    /// The connection to the database the URL names, for cluster-wide
    /// objects such as roles.
    pub(crate) fn admin(&self) -> &Client {
        &self.admin
    }

    /// Drops the database and creates an empty one under the same name, so
    /// a check can start over from nothing.
    pub(crate) async fn recreate(&self) -> Result<(), String> {
        self.drop_now().await?;
        self.admin.batch_execute(&format!("CREATE DATABASE {}", ident(&self.name))).await.map_err(|e| format!("cannot create the scratch database {} again: {}", self.name, sql_error(&e, None)))
    }

    /// Drops the database for good, ending any session still connected to it.
    pub(crate) async fn drop_database(&self) -> Result<(), String> {
        self.dropped.store(true, std::sync::atomic::Ordering::SeqCst);
        self.drop_now().await
    }

    async fn drop_now(&self) -> Result<(), String> {
        self.admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&self.name)))
            .await
            .map_err(|e| format!("cannot drop the scratch database {}: {}; drop it by hand", self.name, sql_error(&e, None)))
    }
}
