//! `aftercare demo`: the whole bot without Telegram. The real dispatcher, services,
//! scheduler and outbox run against the Telegram stand-in (`crate::standin`) with their
//! own SQLite file, and a chat page on loopback lets one person play every part: the
//! clinic's owner, a staff member, and any number of patients. Time runs through a
//! `ManualClock` the page speeds up or jumps to the next reminder, so a course plays
//! out in minutes.
//!
//! The demo never reads DATABASE_URL: its database lives in a fresh folder (a temporary
//! one, removed at exit, or `--dir`), so demo patients never mix with real ones.

mod clock;
mod page;
mod people;
mod render;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use chrono_tz::Tz;
use tokio::sync::watch;

use crate::app::{Settings, StartError};
use crate::clock::{Clock, ManualClock};
use crate::outbox::pacer::Limits;
use crate::standin::{BotIdentity, Person, StandIn};
use crate::store::Store;

pub use clock::DemoClock;
pub use people::{DemoPerson, People, Role};

/// Where the page is served unless `--listen` says otherwise.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8787);
/// The demo's clinic.
pub const CLINIC_NAME: &str = "Glow Clinic";
pub const CLINIC_ZONE: Tz = chrono_tz::Europe::Berlin;
pub const CLINIC_CONTACT: &str = "+49 30 1234567";
/// The bot's username in the demo's links.
pub const BOT_USERNAME: &str = "aftercare_demo_bot";
/// The database file inside the demo's folder.
pub const DB_FILE: &str = "aftercare-demo.db";
/// How long start-up waits for the bot to welcome the owner and the staff member.
const SETUP_WAIT: Duration = Duration::from_secs(60);

/// What `aftercare demo` was asked for.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Where the page is served.
    pub listen: SocketAddr,
    /// Whether `listen` was given (else a busy default port falls back to a free one).
    pub listen_given: bool,
    /// The demo's folder; None: a fresh temporary folder, removed at exit.
    pub dir: Option<PathBuf>,
    pub messages_dir: PathBuf,
    pub db_connections: u32,
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The operator's input (exit code 2).
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Runtime(String),
}

/// Runs the demo until `shutdown` turns true.
pub async fn run(options: DemoOptions, shutdown: watch::Receiver<bool>) -> Result<(), DemoError> {
    // The catalog is checked first: a broken messages folder is the operator's to fix.
    crate::app::load_catalog(&options.messages_dir)?;
    let folder = DemoFolder::make(options.dir.as_deref())?;
    let result = run_in(&options, &folder.path, shutdown).await;
    folder.clean_up();
    result
}

async fn run_in(
    options: &DemoOptions,
    dir: &Path,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), DemoError> {
    let listener = bind_page(options).await?;
    let identity = BotIdentity {
        token: format!("1:demo-{}", crate::domain::link::generate().payload),
        username: BOT_USERNAME.to_string(),
        first_name: "Aftercare (demo)".to_string(),
    };
    let standin = StandIn::start_as(identity.clone())
        .await
        .map_err(|e| DemoError::Runtime(format!("cannot start the Telegram stand-in: {e}")))?;
    // Telegram's limits, kept by the stand-in as Telegram keeps them.
    standin.enforce_rate_limits(30, Duration::from_secs(1));

    let database_url = format!("sqlite://{}", dir.join(DB_FILE).display());
    let store = Store::open(&database_url, options.db_connections)
        .await
        .map_err(StartError::from)?;
    let manual = ManualClock::new(Utc::now());
    let clinic = crate::service::clinic::create_clinic_with_contact(
        &store,
        CLINIC_NAME,
        CLINIC_ZONE,
        CLINIC_CONTACT,
        manual.now(),
    )
    .await
    .map_err(|e| DemoError::Runtime(format!("cannot create the demo clinic: {e}")))?;

    let settings = Settings {
        database_url,
        db_connections: options.db_connections,
        messages_dir: options.messages_dir.clone(),
        token: identity.token.clone(),
        api_url: Some(
            standin
                .api_url()
                .parse()
                .map_err(|e| DemoError::Runtime(format!("stand-in address: {e}")))?,
        ),
        poll_timeout: Duration::from_secs(5),
        limits: Limits::default(),
        // The demo is not a service: no listener, no backups of a throwaway database.
        ops: crate::app::Operations::default(),
    };
    let (stop_bot, bot_shutdown) = watch::channel(false);
    let bot_clock: Arc<dyn Clock> = Arc::new(manual.clone());
    let bot = tokio::spawn(crate::app::run(settings, bot_clock, bot_shutdown));

    let people = People::default();
    let setup = async {
        let owner = people.add_staff("Olga", Role::Owner);
        join(&standin, &owner, &clinic.owner_payload).await?;
        standin.send_text(&owner, "/invite staff");
        let invite = wait(&standin, owner.id, |t| t.contains("?start=")).await?;
        let staff = people.add_staff("Sam", Role::Staff);
        join(&standin, &staff, &start_payload(&invite)).await
    };
    let ready = tokio::select! {
        r = setup => r,
        r = bot_ended(&bot) => Err(r),
    };
    if let Err(e) = ready {
        let _ = stop_bot.send(true);
        return Err(finish_bot(bot).await.err().unwrap_or(e));
    }

    let clock = DemoClock::start(manual, store.clone(), CLINIC_ZONE);
    let addr = listener
        .local_addr()
        .map_err(|e| DemoError::Runtime(e.to_string()))?;
    let state = page::PageState {
        standin: standin.clone(),
        clock: clock.clone(),
        people,
        addr,
    };
    println!("aftercare demo: open http://{addr}/ in a browser (Ctrl-C stops it).");
    println!(
        "{CLINIC_NAME} ({}) with its owner Olga and Sam on the staff; add patients on the page.",
        CLINIC_ZONE.name()
    );
    println!(
        "The demo's database: {} (never your DATABASE_URL).",
        dir.join(DB_FILE).display()
    );
    tracing::info!(%addr, "demo page is served");
    let mut page_stop = shutdown.clone();
    let served = axum::serve(listener, page::router(state))
        .with_graceful_shutdown(async move {
            let _ = page_stop.wait_for(|s| *s).await;
        })
        .await;
    let _ = shutdown.wait_for(|s| *s).await;
    clock.stop();
    let _ = stop_bot.send(true);
    let bot_result = finish_bot(bot).await;
    store.close().await;
    served.map_err(|e| DemoError::Runtime(format!("the demo page failed: {e}")))?;
    bot_result
}

/// Binds the page's address: loopback unless the command line allowed more. A busy
/// default port falls back to any free one.
async fn bind_page(options: &DemoOptions) -> Result<tokio::net::TcpListener, DemoError> {
    match tokio::net::TcpListener::bind(options.listen).await {
        Ok(l) => Ok(l),
        Err(_) if !options.listen_given => {
            let any = SocketAddr::new(options.listen.ip(), 0);
            tokio::net::TcpListener::bind(any)
                .await
                .map_err(|e| DemoError::Runtime(format!("cannot listen on {any}: {e}")))
        }
        Err(e) => Err(DemoError::Config(format!(
            "cannot listen on {}: {e}; choose another --listen address",
            options.listen
        ))),
    }
}

/// `person` opens a link with payload `payload` and is welcomed.
async fn join(standin: &StandIn, person: &Person, payload: &str) -> Result<(), DemoError> {
    standin.send_text(person, &format!("/start {payload}"));
    wait(standin, person.id, |t| t.contains("Welcome")).await?;
    Ok(())
}

/// Waits for the bot's message to `chat` whose visible text passes `check`.
async fn wait(
    standin: &StandIn,
    chat: i64,
    check: impl Fn(&str) -> bool,
) -> Result<String, DemoError> {
    standin
        .try_wait_for(chat, |m| check(&m.plain_text()), SETUP_WAIT)
        .await
        .map(|m| m.plain_text())
        .ok_or_else(|| {
            DemoError::Runtime("the bot did not answer while the demo was set up".into())
        })
}

/// The `start` payload of the deep link in `text`.
fn start_payload(text: &str) -> String {
    let at = text
        .find("?start=")
        .map_or(text.len(), |i| i + "?start=".len());
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

type BotTask = tokio::task::JoinHandle<Result<(), StartError>>;

/// Resolves when the bot's task ends (it only does on a start-up failure or shutdown).
async fn bot_ended(bot: &BotTask) -> DemoError {
    while !bot.is_finished() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    DemoError::Runtime("the bot stopped while the demo was set up".into())
}

async fn finish_bot(bot: BotTask) -> Result<(), DemoError> {
    match bot.await {
        Ok(r) => Ok(r?),
        Err(e) => Err(DemoError::Runtime(format!("the bot failed: {e}"))),
    }
}

/// The demo's folder: given, or a fresh temporary one that is removed at exit.
struct DemoFolder {
    path: PathBuf,
    temporary: bool,
}

impl DemoFolder {
    fn make(given: Option<&Path>) -> Result<DemoFolder, DemoError> {
        match given {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DemoError::Config(format!("{}: cannot create the folder: {e}", dir.display()))
                })?;
                if dir.join(DB_FILE).exists() {
                    return Err(DemoError::Config(format!(
                        "{}: already holds a demo database ({DB_FILE}) from an earlier run; \
                         choose another folder or delete it",
                        dir.display()
                    )));
                }
                Ok(DemoFolder {
                    path: dir.to_path_buf(),
                    temporary: false,
                })
            }
            None => {
                let name = format!(
                    "aftercare-demo-{}-{}",
                    std::process::id(),
                    &crate::domain::link::generate().payload[..8]
                );
                let path = std::env::temp_dir().join(name);
                std::fs::create_dir(&path).map_err(|e| {
                    DemoError::Runtime(format!("{}: cannot create: {e}", path.display()))
                })?;
                Ok(DemoFolder {
                    path,
                    temporary: true,
                })
            }
        }
    }

    fn clean_up(&self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
