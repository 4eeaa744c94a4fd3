//! What `DATABASE_URL` may be: a `sqlite:` URL, or a path to a database file. Anything
//! else is refused before SQLite sees it, which would otherwise answer a postgres URL
//! with "unable to open database file" and create a file named after a typo.

/// A `DATABASE_URL` that names no SQLite database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadDatabaseUrl {
    /// Another database's URL. Only the scheme is kept: the rest may hold a password.
    #[error(
        "DATABASE_URL is a {scheme}: URL, but aftercare keeps its data in SQLite: use sqlite://path/to/aftercare.db"
    )]
    OtherScheme { scheme: String },
    #[error(
        "DATABASE_URL `{0}` is neither a sqlite: URL nor a path to a database file: use sqlite://path/to/aftercare.db (or a path such as ./aftercare.db)"
    )]
    NotAPath(String),
}

/// The URL to open for what the operator wrote. A plain path (one holding a `/` or
/// ending in `.db`, `.sqlite` or `.sqlite3`) becomes a `sqlite://` URL.
pub fn sqlite_url(raw: &str) -> Result<String, BadDatabaseUrl> {
    let raw = raw.trim();
    if raw.starts_with("sqlite:") {
        return Ok(raw.to_string());
    }
    if let Some(scheme) = scheme_of(raw) {
        return Err(BadDatabaseUrl::OtherScheme {
            scheme: scheme.to_string(),
        });
    }
    let looks_like_file = raw.contains('/')
        || [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| raw.to_ascii_lowercase().ends_with(ext));
    if raw.is_empty() || !looks_like_file || raw.contains(['?', '#']) {
        let shown: String = raw.chars().take(60).collect();
        return Err(BadDatabaseUrl::NotAPath(shown));
    }
    Ok(format!("sqlite://{raw}"))
}

/// `postgres` in `postgres://…`; a one-letter "scheme" is a Windows drive, not a URL.
fn scheme_of(raw: &str) -> Option<&str> {
    let (scheme, _) = raw.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sqlite_urls_pass_unchanged() {
        for url in [
            "sqlite://aftercare.db",
            "sqlite:///var/lib/aftercare/aftercare.db",
            "sqlite:aftercare.db",
            "sqlite://x.db?mode=ro",
            "sqlite::memory:",
        ] {
            assert_eq!(sqlite_url(url).as_deref(), Ok(url));
        }
    }

    #[test]
    fn a_plain_path_to_a_file_becomes_a_url() {
        assert_eq!(
            sqlite_url("/var/lib/aftercare.db").unwrap(),
            "sqlite:///var/lib/aftercare.db"
        );
        assert_eq!(sqlite_url("data/care").unwrap(), "sqlite://data/care");
        assert_eq!(sqlite_url("aftercare.db").unwrap(), "sqlite://aftercare.db");
        assert_eq!(
            sqlite_url("Clinic.SQLite").unwrap(),
            "sqlite://Clinic.SQLite"
        );
    }

    #[test]
    fn other_databases_are_refused_without_repeating_the_password() {
        let e = sqlite_url("postgres://care:s3cret@db/aftercare").unwrap_err();
        assert_eq!(
            e,
            BadDatabaseUrl::OtherScheme {
                scheme: "postgres".into()
            }
        );
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(matches!(
            sqlite_url("mysql://x"),
            Err(BadDatabaseUrl::OtherScheme { .. })
        ));
    }

    #[test]
    fn a_word_that_is_no_path_is_refused() {
        assert_eq!(
            sqlite_url("garbage"),
            Err(BadDatabaseUrl::NotAPath("garbage".into()))
        );
        assert!(sqlite_url("").is_err());
        assert!(sqlite_url("   ").is_err());
        assert!(sqlite_url("x.db?mode=ro").is_err());
    }

    proptest! {
        #[test]
        fn whatever_is_accepted_is_a_sqlite_url(s in "\\PC{0,80}") {
            if let Ok(url) = sqlite_url(&s) {
                prop_assert!(url.starts_with("sqlite:"));
            }
        }
    }
}
