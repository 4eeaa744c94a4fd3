//! The command line: `run`, `demo`, `clinic add|list|owner-link`, `preview`, `messages check`,
//! `backup`, `audit`. Without a subcommand: `run` when TELOXIDE_TOKEN is set, else the demo.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, FromArgMatches, Parser, Subcommand};

/// A Telegram bot that walks skin-clinic patients through their aftercare.
#[derive(Debug, Parser)]
#[command(name = "aftercare", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct Common {
    /// SQLite database: a sqlite: URL (sqlite://aftercare.db, sqlite:///var/lib/aftercare.db)
    /// or a path to a .db file; created and migrated if missing. Anything else is refused.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://aftercare.db",
        // Another program's DATABASE_URL may hold a password.
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,
    /// Folder with plans/ and one folder of wording per language.
    #[arg(
        long,
        env = "AFTERCARE_MESSAGES",
        default_value = "./messages",
        global = true
    )]
    pub messages: PathBuf,
    /// How many database connections the bot keeps open. 1 makes any use case that
    /// reaches for a second connection inside its transaction fail within 5 s (a check
    /// the test suite runs); more lets patients and staff act at the same time.
    #[arg(
        long,
        env = "AFTERCARE_DB_CONNECTIONS",
        default_value_t = crate::store::DEFAULT_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..=64),
        global = true
    )]
    pub db_connections: u32,
    /// Log filter (error, warn, info, debug, or per module as `aftercare=debug`). Info
    /// logs carry ids, never names or message text.
    #[arg(long = "log", env = "RUST_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log lines as `text` or `json` (one object a line, for a log collector). Same
    /// fields and the same privacy rule either way.
    #[arg(
        long,
        env = "AFTERCARE_LOG_FORMAT",
        value_enum,
        default_value_t = crate::logs::LogFormat::Text,
        global = true
    )]
    pub log_format: crate::logs::LogFormat,
    #[command(flatten)]
    pub telegram: Telegram,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot by long polling, or by webhook with --webhook-url (the default when TELOXIDE_TOKEN is set; without it,
    /// `aftercare` alone starts the demo).
    Run(RunArgs),
    /// Try the whole bot without Telegram: the real bot against a built-in Telegram
    /// stand-in, with a chat page in the browser for the owner, staff and patients (the
    /// default without TELOXIDE_TOKEN). Uses its own database, never DATABASE_URL.
    Demo(DemoArgs),
    /// Manage clinics.
    #[command(subcommand)]
    Clinic(ClinicCommand),
    /// Print the course as a patient would receive it, with local send times. Needs no
    /// token and no network.
    Preview(PreviewArgs),
    /// Check the messages folder.
    #[command(subcommand)]
    Messages(MessagesCommand),
    /// Write a consistent copy of the database to PATH (safe while the bot runs).
    Backup {
        /// Where to write the copy; must not exist yet.
        path: PathBuf,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Asks a running bot's /healthz; exit code 0 when healthy, 1 when not (for a
    /// container's HEALTHCHECK, so the image needs no curl).
    Health(HealthArgs),
    /// Puts a backup in place of the database (stop the bot first): checks the copy,
    /// replaces the database file, removes the old -wal and -shm files.
    Restore {
        /// A file made by `aftercare backup` or `run --backup-dir`.
        backup: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write a clinic's audit trail as CSV to standard output.
    Export {
        /// Clinic number (printed by `clinic add`).
        #[arg(long)]
        clinic: i64,
        /// First day to include, YYYY-MM-DD (UTC).
        #[arg(long)]
        since: String,
    },
}

/// `aftercare demo`: where the chat page is served and where the demo's database lives.
#[derive(Debug, Args, Default)]
pub struct DemoArgs {
    /// Address of the chat page (default 127.0.0.1:8787, or a free port when that one
    /// is taken). Loopback only, unless --allow-remote.
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Folder for the demo's own database (default: a temporary folder, removed at
    /// exit). Refused if it holds an earlier demo's database.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Serve the page on an address other machines can reach. Anyone who reaches it
    /// acts as every person of the demo.
    #[arg(long)]
    pub allow_remote: bool,
}

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// How long one long-polling request waits for updates.
    #[arg(
        long,
        env = "AFTERCARE_POLL_TIMEOUT",
        default_value = "5s",
        value_parser = humantime::parse_duration
    )]
    pub poll_timeout: Option<Duration>,
    #[command(flatten)]
    pub ops: OpsArgs,
}

/// Running it as a service (issue 14): health and metrics, scheduled backups, webhook.
/// Everything here is off unless asked for.
#[derive(Debug, Args, Default)]
pub struct OpsArgs {
    /// Serve /healthz and /metrics on this address, e.g. 127.0.0.1:9090 (no password:
    /// keep it on loopback or a private network). Off by default.
    #[arg(long = "http", env = "AFTERCARE_HTTP", value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// Take a checked backup of the database into this folder on a schedule (owner-only
    /// files named aftercare-<UTC time>.db). Off by default.
    #[arg(long, env = "AFTERCARE_BACKUP_DIR", value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How often to back up (with --backup-dir).
    #[arg(
        long,
        env = "AFTERCARE_BACKUP_EVERY",
        default_value = "24h",
        value_parser = humantime::parse_duration
    )]
    pub backup_every: Option<Duration>,
    /// How many scheduled backups to keep; the oldest beyond this are removed.
    #[arg(
        long,
        env = "AFTERCARE_BACKUP_KEEP",
        default_value_t = 14,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub backup_keep: u32,
    /// Receive updates by webhook at this public HTTPS address (e.g.
    /// https://bot.example.com/tg; a TLS proxy forwards it to --webhook-listen) instead
    /// of long polling. Off by default.
    #[arg(
        long,
        env = "AFTERCARE_WEBHOOK_URL",
        value_name = "URL",
        value_parser = webhook_url,
        requires = "webhook_listen"
    )]
    pub webhook_url: Option<reqwest::Url>,
    /// Where the webhook server listens, e.g. 127.0.0.1:8443 (with --webhook-url).
    #[arg(
        long,
        env = "AFTERCARE_WEBHOOK_LISTEN",
        value_name = "ADDR",
        requires = "webhook_url"
    )]
    pub webhook_listen: Option<std::net::SocketAddr>,
    /// The secret Telegram sends with every webhook request (1–256 of A-Z a-z 0-9 _ -);
    /// requests without it are refused. Default: a fresh random one at each start.
    #[arg(
        long,
        env = "AFTERCARE_WEBHOOK_SECRET",
        hide_env_values = true,
        value_parser = webhook_secret,
        requires = "webhook_url"
    )]
    pub webhook_secret: Option<String>,
}

/// A webhook address: http(s) with a host (Telegram itself takes only https; a
/// self-hosted Bot API server may take http).
fn webhook_url(s: &str) -> Result<reqwest::Url, String> {
    let url: reqwest::Url = s.parse().map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err("an https:// address is needed, e.g. https://bot.example.com/tg".into());
    }
    Ok(url)
}

fn webhook_secret(s: &str) -> Result<String, String> {
    crate::ops::webhook::check_secret(s).map(|()| s.to_string())
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The address `run --http` listens on (a 0.0.0.0 or [::] address is asked on
    /// loopback).
    #[arg(
        long = "http",
        env = "AFTERCARE_HTTP",
        default_value = "127.0.0.1:9090"
    )]
    pub http: std::net::SocketAddr,
    /// How long to wait for the answer.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

impl OpsArgs {
    pub fn settings(&self) -> crate::app::Operations {
        crate::app::Operations {
            http: self.http,
            backups: self
                .backup_dir
                .clone()
                .map(|dir| crate::ops::backups::BackupPlan {
                    dir,
                    every: self.backup_every.unwrap_or(Duration::from_secs(24 * 3600)),
                    keep: self.backup_keep as usize,
                }),
            webhook: match (&self.webhook_url, self.webhook_listen) {
                (Some(url), Some(listen)) => Some(crate::ops::webhook::WebhookPlan {
                    url: url.clone(),
                    listen,
                    secret: self.webhook_secret.clone(),
                }),
                _ => None,
            },
        }
    }
}

/// How to reach Telegram: for `run` and `clinic add`/`owner-link` (which ask Telegram for
/// the bot's username to build the link).
#[derive(Debug, Args, Default)]
pub struct Telegram {
    /// The bot token from @BotFather. Never printed or logged; prefer the environment
    /// variable, since a flag is visible to other users of the machine in `ps`.
    #[arg(
        long = "token",
        env = "TELOXIDE_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// A self-hosted Bot API server (default: https://api.telegram.org).
    #[arg(long = "api-url", env = "TELOXIDE_API_URL", global = true)]
    pub api_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClinicCommand {
    /// Create a clinic and print a one-time link that makes its opener the owner.
    Add {
        /// The clinic's name as patients see it.
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. Europe/Berlin. Also sets the emergency number patients
        /// are told to call (112 in Europe, 911 in North America…; `/settings emergency`
        /// changes it).
        #[arg(long)]
        timezone: String,
        /// The phone number patients call with warning signs, e.g. "+49 30 1234567".
        /// Without it, `/enroll` warns staff until an owner sets `/settings contact`.
        #[arg(long, default_value = "")]
        contact: String,
    },
    /// List the clinics: number, name, time zone, contact and how many owners and staff.
    List,
    /// Print a fresh one-time owner link for a clinic (valid 7 days), e.g. when the first
    /// one was lost. The earlier unused owner link stops working; the audit trail records it.
    OwnerLink {
        /// Clinic number, from `aftercare clinic list`.
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Plan name: messages/plans/<plan>.toml.
    #[arg(long, default_value = "microneedling")]
    pub plan: String,
    /// IANA time zone of the clinic.
    #[arg(long, default_value = "Europe/Berlin")]
    pub timezone: String,
    /// Session time, "YYYY-MM-DD HH:MM" local (default: now).
    #[arg(long)]
    pub session: Option<String>,
    /// Language folder under messages/.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Sample patient name.
    #[arg(long, default_value = "Anna Berg")]
    pub name: String,
    /// Preview as this clinic's patients get it (number from `clinic add`): its name,
    /// contact, emergency number, time zone, quiet hours, timing and own texts. Reads
    /// the database.
    #[arg(long, conflicts_with = "timezone")]
    pub clinic: Option<i64>,
    /// The clinic's phone number to show; without it (and without --clinic) the
    /// preview says "(no contact set)", as a new clinic's patients would miss it.
    #[arg(long)]
    pub contact: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MessagesCommand {
    /// Validate every plan and wording file; prints `file:line: problem` for each fault.
    Check {
        /// Folder to check (default: the messages folder).
        dir: Option<PathBuf>,
    },
}

/// A subcommand's arguments as defaults and the environment give them, with nothing on
/// the command line: for `aftercare` without a subcommand. (`Default` would miss the
/// environment, TELOXIDE_TOKEN among it, and the declared default values.)
pub fn args_from_env<T: Args + FromArgMatches>() -> Option<T> {
    let matches = T::augment_args(clap::Command::new("aftercare"))
        .try_get_matches_from(["aftercare"])
        .ok()?;
    T::from_arg_matches(&matches).ok()
}
