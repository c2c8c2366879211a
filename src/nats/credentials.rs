//! NATS credentials, read from the environment or from files it names,
//! never from the command line or the URL, and never shown: `Debug` says
//! which method is used, not the secret. User and password, or a token, are
//! supported; nkeys and `.creds` files need async-nats's `nkeys` feature,
//! which this build leaves out, so naming one is an error that says so.

use super::NatsError;

/// How to authenticate to the NATS server.
pub enum Credentials {
    /// No authentication.
    None,
    /// `CONDUCTOR_NATS_USER` and `CONDUCTOR_NATS_PASSWORD` (or `CONDUCTOR_NATS_PASSWORD_FILE`).
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// `CONDUCTOR_NATS_TOKEN` (or `CONDUCTOR_NATS_TOKEN_FILE`).
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::None => "Credentials::None",
            Credentials::UserPassword { .. } => "Credentials::UserPassword(redacted)",
            Credentials::Token(_) => "Credentials::Token(redacted)",
        })
    }
}

impl Credentials {
    /// The credentials the environment names; more than one method is an error.
    pub fn from_env() -> Result<Self, NatsError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// The credentials `lookup` gives for each variable name.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, NatsError> {
        let secret = |value: &'static str, file: &'static str| -> Result<Option<String>, NatsError> {
            match (lookup(value), lookup(file)) {
                (Some(v), None) => Ok(Some(v)),
                (None, Some(path)) => read(file, &path).map(Some),
                (None, None) => Ok(None),
                (Some(_), Some(_)) => Err(NatsError::Credentials { variable: file, problem: format!("set {value} or {file}, not both") }),
            }
        };
        let user = lookup("CONDUCTOR_NATS_USER");
        let password = secret("CONDUCTOR_NATS_PASSWORD", "CONDUCTOR_NATS_PASSWORD_FILE")?;
        let token = secret("CONDUCTOR_NATS_TOKEN", "CONDUCTOR_NATS_TOKEN_FILE")?;
        for variable in ["CONDUCTOR_NATS_CREDS", "CONDUCTOR_NATS_NKEY_SEED_FILE"] {
            if lookup(variable).is_some() {
                return Err(NatsError::Credentials { variable, problem: "nkeys and .creds files are not supported by this build; use CONDUCTOR_NATS_USER and CONDUCTOR_NATS_PASSWORD, or CONDUCTOR_NATS_TOKEN".into() });
            }
        }
        let mut chosen = Vec::new();
        match (user, password) {
            (Some(user), Some(password)) => chosen.push(Credentials::UserPassword { user, password }),
            (Some(_), None) => return Err(NatsError::Credentials { variable: "CONDUCTOR_NATS_PASSWORD", problem: "CONDUCTOR_NATS_USER is set without a password; set CONDUCTOR_NATS_PASSWORD or CONDUCTOR_NATS_PASSWORD_FILE".into() }),
            (None, Some(_)) => return Err(NatsError::Credentials { variable: "CONDUCTOR_NATS_USER", problem: "a password is set without CONDUCTOR_NATS_USER".into() }),
            (None, None) => {}
        }
        chosen.extend(token.map(Credentials::Token));
        match chosen.len() {
            0 => Ok(Credentials::None),
            1 => Ok(chosen.remove(0)),
            _ => Err(NatsError::Credentials { variable: "CONDUCTOR_NATS_*", problem: "more than one authentication method is set; keep user and password, or a token".into() }),
        }
    }

    /// `options` with these credentials.
    pub(super) fn apply(&self, options: async_nats::ConnectOptions) -> async_nats::ConnectOptions {
        match self {
            Credentials::None => options,
            Credentials::UserPassword { user, password } => options.user_and_password(user.clone(), password.clone()),
            Credentials::Token(token) => options.token(token.clone()),
        }
    }
}

fn read(variable: &'static str, path: &str) -> Result<String, NatsError> {
    std::fs::read_to_string(path)
        .map(|text| text.trim_end_matches(['\n', '\r']).to_owned())
        .map_err(|e| NatsError::Credentials { variable, problem: format!("cannot read {path}: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Credentials, NatsError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Credentials::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn one_method_is_chosen_and_never_shown() {
        let creds = from(&[("CONDUCTOR_NATS_USER", "u"), ("CONDUCTOR_NATS_PASSWORD", "hunter2")]).unwrap();
        assert!(matches!(creds, Credentials::UserPassword { .. }));
        assert!(!format!("{creds:?}").contains("hunter2"));
        assert!(matches!(from(&[]).unwrap(), Credentials::None));
    }

    #[test]
    fn half_set_or_doubled_methods_are_refused() {
        assert!(from(&[("CONDUCTOR_NATS_USER", "u")]).is_err());
        assert!(from(&[("CONDUCTOR_NATS_TOKEN", "t"), ("CONDUCTOR_NATS_USER", "u"), ("CONDUCTOR_NATS_PASSWORD", "p")]).is_err());
        assert!(from(&[("CONDUCTOR_NATS_CREDS", "/x.creds")]).is_err());
        assert!(from(&[("CONDUCTOR_NATS_TOKEN", "t"), ("CONDUCTOR_NATS_TOKEN_FILE", "/t")]).is_err());
    }
}
