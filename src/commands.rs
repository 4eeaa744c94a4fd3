//! What each subcommand does. Errors come back as one-line `Failure`s with an exit code.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{NaiveDateTime, Utc};
use tokio::sync::watch;

use crate::app::{self, Settings, StartError};
use crate::cli::{
    AuditCommand, Cli, ClinicCommand, Command, DemoArgs, MessagesCommand, PreviewArgs, RunArgs,
    Telegram,
};
use crate::clock::SystemClock;
use crate::domain::html::to_plain;
use crate::domain::time::{QuietHours, parse_zone, resolve_local};
use crate::outbox::pacer::Limits;
use crate::render::{ClinicLines, StepExtras, StepVars, fill_step, local_when};
use crate::service::clinic::{
    check_clinic_name, check_contact, create_clinic_with_contact, new_owner_link,
};
use crate::service::texts::Texts;
use crate::store::clinics::ClinicOverview;
use crate::store::url::sqlite_url;
use crate::store::{OpenError, Store};

/// A failure worth one line on stderr and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    /// 2: the operator's input or configuration; 1: something at run time.
    pub code: u8,
}

impl Failure {
    fn config(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
    fn runtime(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Messages(m) => Failure::config(m),
            StartError::Database(OpenError::BadUrl(e)) => Failure::config(e.to_string()),
            other => Failure::runtime(other.to_string()),
        }
    }
}

pub async fn dispatch(cli: Cli, shutdown: watch::Receiver<bool>) -> Result<(), Failure> {
    let mut common = cli.common;
    // Checked before anything runs, so a typo never becomes a file of that name.
    common.database_url =
        sqlite_url(&common.database_url).map_err(|e| Failure::config(e.to_string()))?;
    let has_token = common
        .telegram
        .token
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    let command = match cli.command {
        Some(command) => command,
        None => match crate::cli::args_from_env::<RunArgs>() {
            Some(run) if has_token => Command::Run(run),
            // No token yet: the whole bot against the built-in stand-in, rather than an error.
            _ => {
                eprintln!(
                    "No TELOXIDE_TOKEN: starting the demo. To run the bot, set TELOXIDE_TOKEN \
                     (from @BotFather); `aftercare preview` prints the course instead."
                );
                Command::Demo(DemoArgs::default())
            }
        },
    };
    match command {
        Command::Run(args) => {
            let (token, api_url) = telegram(&common.telegram)?;
            let settings = Settings {
                database_url: common.database_url,
                db_connections: common.db_connections,
                messages_dir: common.messages,
                token,
                api_url,
                poll_timeout: args
                    .poll_timeout
                    .unwrap_or(std::time::Duration::from_secs(5)),
                limits: Limits::default(),
                ops: args.ops.settings(),
            };
            app::run(settings, Arc::new(SystemClock), shutdown).await?;
            Ok(())
        }
        Command::Demo(args) => demo(args, &common, shutdown).await,
        Command::Clinic(ClinicCommand::Add {
            name,
            timezone,
            contact,
        }) => {
            let name = check_clinic_name(&name).map_err(Failure::config)?;
            let tz = parse_zone(&timezone).map_err(Failure::config)?;
            let contact = check_contact(&contact).map_err(Failure::config)?;
            let username = bot_username(&common.telegram).await?;
            let store = open_store(&common.database_url, common.db_connections).await?;
            let new = create_clinic_with_contact(&store, &name, tz, &contact, Utc::now())
                .await
                .map_err(|e| Failure::runtime(format!("could not create the clinic: {e}")))?;
            store.close().await;
            println!(
                "Clinic #{} \"{}\" created ({}).",
                new.clinic_id,
                name,
                tz.name()
            );
            for other in &new.same_name {
                eprintln!(
                    "Note: clinic #{other} has the same name; patients and staff cannot tell them \
                     apart. `aftercare clinic list` shows every clinic."
                );
            }
            for line in clinic_add_notes(tz.name(), &contact) {
                println!("{line}");
            }
            println!(
                "Open this link in Telegram to become its owner (works once, until {}):",
                new.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            println!(
                "{}",
                crate::domain::link::url(&username, &new.owner_payload)
            );
            Ok(())
        }
        Command::Clinic(ClinicCommand::List) => {
            let store = open_store(&common.database_url, common.db_connections).await?;
            let clinics = store
                .clinic_overview()
                .await
                .map_err(|e| Failure::runtime(e.to_string()))?;
            store.close().await;
            if clinics.is_empty() {
                println!("No clinics yet. Start one with `aftercare clinic add`.");
            }
            for c in clinics {
                println!("{}", clinic_line(&c));
            }
            Ok(())
        }
        Command::Clinic(ClinicCommand::OwnerLink { id }) => {
            let store = open_store(&common.database_url, common.db_connections).await?;
            let exists = store
                .clinic(id)
                .await
                .map_err(|e| Failure::runtime(e.to_string()))?;
            if exists.is_none() {
                store.close().await;
                return Err(Failure::config(format!(
                    "there is no clinic #{id}; `aftercare clinic list` shows them"
                )));
            }
            let username = bot_username(&common.telegram).await?;
            let new = new_owner_link(&store, id, Utc::now())
                .await
                .map_err(|e| Failure::runtime(format!("could not make the link: {e}")))?;
            store.close().await;
            let Some(new) = new else {
                return Err(Failure::config(format!("there is no clinic #{id}")));
            };
            if new.voided > 0 {
                println!("The earlier owner link of clinic #{id} no longer works.");
            }
            if new.owners > 0 {
                println!(
                    "Clinic #{id} has {} owner{} already; whoever opens this link becomes one too.",
                    new.owners,
                    if new.owners == 1 { "" } else { "s" }
                );
            }
            println!(
                "Open this link in Telegram to become an owner of clinic #{id} (works once, until {}):",
                new.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            println!("{}", crate::domain::link::url(&username, &new.payload));
            Ok(())
        }
        Command::Preview(args) => preview(&common.messages, &common.database_url, &args).await,
        Command::Backup { path } => {
            if path.exists() {
                return Err(Failure::config(format!(
                    "{}: already exists; choose a new file",
                    path.display()
                )));
            }
            let store = open_store(&common.database_url, common.db_connections).await?;
            let result = crate::ops::backups::copy_checked(&store, &path).await;
            store.close().await;
            result.map_err(|e| Failure::runtime(format!("backup failed: {e}")))?;
            println!("Backed up to {} (integrity checked)", path.display());
            Ok(())
        }
        Command::Health(args) => health(&args).await,
        Command::Restore { backup } => {
            let db = sqlx::sqlite::SqliteConnectOptions::from_str(&common.database_url)
                .map_err(|e| Failure::config(e.to_string()))?
                .get_filename()
                .to_path_buf();
            crate::ops::backups::restore(&backup, &db)
                .await
                .map_err(|e| Failure::runtime(format!("restore failed: {e}")))?;
            println!(
                "Restored {} into {}; start the bot. Reminders pending at the time of the backup go out; ones sent since may go out again.",
                backup.display(),
                db.display()
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Export { clinic, since }) => {
            let day =
                chrono::NaiveDate::parse_from_str(since.trim(), "%Y-%m-%d").map_err(|_| {
                    Failure::config(format!("--since `{since}` is not a date like 2026-11-01"))
                })?;
            let store = open_store(&common.database_url, common.db_connections).await?;
            if store
                .clinic(clinic)
                .await
                .map_err(|e| Failure::runtime(e.to_string()))?
                .is_none()
            {
                return Err(Failure::config(format!("there is no clinic #{clinic}")));
            }
            let since = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            let rows = store
                .audit_since(clinic, since)
                .await
                .map_err(|e| Failure::runtime(e.to_string()))?;
            store.close().await;
            let mut out = csv::Writer::from_writer(std::io::stdout());
            let io = |e: csv::Error| Failure::runtime(format!("cannot write the CSV: {e}"));
            out.write_record([
                "id", "at_utc", "clinic", "actor", "action", "subject", "detail",
            ])
            .map_err(io)?;
            for r in rows {
                let at = crate::store::from_millis(r.at)
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                let actor = r.actor.map(|a| a.to_string()).unwrap_or_default();
                out.write_record([
                    r.id.to_string(),
                    at,
                    r.clinic_id.to_string(),
                    actor,
                    r.action,
                    r.subject.unwrap_or_default(),
                    r.detail.unwrap_or_default(),
                ])
                .map_err(io)?;
            }
            out.flush()
                .map_err(|e| Failure::runtime(format!("cannot write the CSV: {e}")))?;
            Ok(())
        }
        Command::Messages(MessagesCommand::Check { dir }) => {
            let dir = dir.unwrap_or(common.messages);
            check_messages(&dir, &mut std::io::stderr())?;
            println!("{}: all plans and wording are valid", dir.display());
            Ok(())
        }
    }
}

/// What `clinic add` says about the safety lines: the emergency number it derived from
/// the zone, and a missing contact.
fn clinic_add_notes(zone: &str, contact: &str) -> Vec<String> {
    let mut out = vec![match crate::domain::safety::emergency_number_for_zone(zone) {
        Some(n) => format!(
            "Emergency number for patients: {n} (from the time zone; an owner can change it with /settings emergency)."
        ),
        None => "No emergency number is known for this time zone: patients are told to call their local emergency number until an owner sets one with /settings emergency.".to_string(),
    }];
    if contact.is_empty() {
        out.push(
            "No contact yet: patients' warning signs cannot say whom to call. Set it with --contact or, as owner, /settings contact +49 30 1234567.".into(),
        );
    } else {
        out.push(format!("Contact for patients: {contact}."));
    }
    out
}

/// `aftercare messages check`: every problem as `file:line: problem` on its own line of
/// `out` (so editors and CI can jump to it), then a one-line summary as the failure.
fn check_messages(dir: &std::path::Path, out: &mut impl std::io::Write) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(Failure::config(app::no_messages_folder(dir)));
    }
    match crate::catalog::Catalog::load(dir) {
        Ok(_) => Ok(()),
        Err(problems) => {
            for p in &problems {
                // A closed stderr leaves nothing to report to; the exit code still says it.
                let _ = writeln!(out, "{p}");
            }
            Err(Failure::config(format!(
                "{} problem{} in {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                dir.display()
            )))
        }
    }
}

/// `aftercare demo`: checks the page's address, then runs until shutdown.
async fn demo(
    args: DemoArgs,
    common: &crate::cli::Common,
    shutdown: watch::Receiver<bool>,
) -> Result<(), Failure> {
    let listen = args.listen.unwrap_or(crate::demo::DEFAULT_LISTEN);
    if !listen.ip().is_loopback() && !args.allow_remote {
        return Err(Failure::config(format!(
            "--listen {listen} is not a loopback address: anyone reaching it could act as \
             every person of the demo; add --allow-remote to serve it anyway"
        )));
    }
    let options = crate::demo::DemoOptions {
        listen,
        listen_given: args.listen.is_some(),
        dir: args.dir,
        messages_dir: common.messages.clone(),
        db_connections: common.db_connections,
    };
    crate::demo::run(options, shutdown)
        .await
        .map_err(|e| match e {
            crate::demo::DemoError::Config(m) => Failure::config(m),
            crate::demo::DemoError::Start(e) => Failure::from(e),
            crate::demo::DemoError::Runtime(m) => Failure::runtime(m),
        })
}

async fn open_store(url: &str, connections: u32) -> Result<Store, Failure> {
    Store::open(url, connections)
        .await
        .map_err(|e| Failure::runtime(e.to_string()))
}

/// One clinic of `clinic list`.
fn clinic_line(c: &ClinicOverview) -> String {
    let contact = if c.contact.is_empty() {
        "no contact".to_string()
    } else {
        format!("contact {}", c.contact)
    };
    let people = match (c.owners, c.staff) {
        (0, 0) => "no owner yet (`aftercare clinic owner-link` makes a link)".to_string(),
        (0, s) => format!("no owner, {s} staff"),
        (o, s) => format!("{o} owner{}, {s} staff", if o == 1 { "" } else { "s" }),
    };
    format!(
        "#{} {} · {} · {} · {} · {} patient{}",
        c.id,
        c.name,
        c.timezone,
        contact,
        people,
        c.patients,
        if c.patients == 1 { "" } else { "s" }
    )
}

/// The bot's username, asked of Telegram: every link names it.
async fn bot_username(tg: &Telegram) -> Result<String, Failure> {
    let (token, api_url) = telegram(tg)?;
    let bot = app::make_bot(&token, api_url.as_ref());
    Ok(app::bot_username(&bot).await?)
}

/// The token is required to talk to Telegram; its absence is a configuration error.
fn telegram(tg: &Telegram) -> Result<(String, Option<reqwest::Url>), Failure> {
    let token = tg
        .token
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Failure::config("TELOXIDE_TOKEN is not set: get a bot token from @BotFather and set it (or try `aftercare preview`, which needs none)"))?;
    let api_url =
        match &tg.api_url {
            None => None,
            Some(u) if u.trim().is_empty() => None,
            Some(u) => Some(reqwest::Url::parse(u).map_err(|e| {
                Failure::config(format!("TELOXIDE_API_URL `{u}` is not a URL: {e}"))
            })?),
        };
    Ok((token, api_url))
}

/// What the preview shows for a clinic's contact when it has none (or none is given):
/// a sample number would hide that the patients' safety lines name no one to call.
pub const NO_CONTACT: &str = "(no contact set)";

async fn preview(
    messages: &std::path::Path,
    database_url: &str,
    args: &PreviewArgs,
) -> Result<(), Failure> {
    let catalog = app::load_catalog(messages)?;
    // With --clinic: that clinic as it is in the database (name, contact, zone, quiet
    // hours, timing, own texts); without: a sample clinic.
    let (clinic, store) = match args.clinic {
        Some(id) => {
            let store = open_store(database_url, crate::store::DEFAULT_CONNECTIONS).await?;
            let clinic = store
                .clinic(id)
                .await
                .map_err(|e| Failure::runtime(e.to_string()))?
                .ok_or_else(|| Failure::config(format!("there is no clinic #{id}")))?;
            (Some(clinic), Some(store))
        }
        None => (None, None),
    };
    let plan_id = clinic
        .as_ref()
        .map(|c| c.default_plan.as_str())
        .unwrap_or(&args.plan);
    let tz = match &clinic {
        Some(c) => c.tz(),
        None => parse_zone(&args.timezone).map_err(Failure::config)?,
    };
    let file_plan = catalog.plan(plan_id).ok_or_else(|| {
        let known: Vec<&str> = catalog.plan_ids().collect();
        Failure::config(format!(
            "no plan `{}` (known: {})",
            plan_id,
            known.join(", ")
        ))
    })?;
    if !catalog.languages().any(|l| l.code == args.lang) {
        let known: Vec<&str> = catalog.languages().map(|l| l.code.as_str()).collect();
        return Err(Failure::config(format!(
            "no language `{}` (known: {})",
            args.lang,
            known.join(", ")
        )));
    }
    let session = match &args.session {
        Some(s) => {
            let naive =
                NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M").map_err(|_| {
                    Failure::config(format!("--session `{s}` is not like \"2026-11-23 14:30\""))
                })?;
            resolve_local(tz, naive)
        }
        None => Utc::now(),
    };
    let db = |e: sqlx::Error| Failure::runtime(e.to_string());
    let (quiet, plan) = match (&clinic, &store) {
        (Some(c), Some(store)) => (
            c.quiet_hours(),
            crate::service::timing::clinic_plan(
                &mut *store.pool().acquire().await.map_err(db)?,
                &catalog,
                c.id,
                plan_id,
            )
            .await
            .map_err(db)?
            .unwrap_or_else(|| file_plan.clone()),
        ),
        _ => (QuietHours::default(), file_plan.clone()),
    };
    let contact = match (&clinic, &args.contact) {
        (_, Some(given)) => given.trim().to_string(),
        (Some(c), None) => c.contact.clone(),
        (None, None) => String::new(),
    };
    let contact = if contact.is_empty() {
        NO_CONTACT.to_string()
    } else {
        contact
    };
    let lines = ClinicLines {
        name: clinic
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or("Glow Clinic"),
        contact: &contact,
        emergency: clinic.as_ref().and_then(|c| c.emergency.as_deref()),
        timezone: tz.name(),
    };
    let local_session = session.with_timezone(&tz);
    println!(
        "{} for {} · session {} ({}) · quiet hours {}",
        plan.name,
        args.name,
        local_when(&args.lang, &local_session),
        tz.name(),
        quiet.describe(),
    );
    println!(
        "{} · contact {} · emergency number {}\n",
        lines.name,
        contact,
        lines
            .emergency_number()
            .unwrap_or("(none known for this zone)"),
    );
    let texts = store.as_ref().map(|s| Texts::new(s, &catalog));
    for p in plan.schedule(session, tz, quiet) {
        let title = catalog
            .step(&args.lang, &plan.id, &p.step_id)
            .map(|w| w.title.clone())
            .unwrap_or_default();
        let template = match (&texts, &clinic) {
            (Some(texts), Some(c)) => texts
                .step(c.id, &args.lang, &plan.id, &p.step_id)
                .await
                .map_err(db)?,
            _ => catalog
                .step(&args.lang, &plan.id, &p.step_id)
                .map(|w| w.text.clone()),
        };
        let extras = StepExtras::build(&catalog, &args.lang, file_plan, &plan, &p.step_id, &lines);
        let vars = StepVars {
            patient_name: &args.name,
            clinic_name: lines.name,
            clinic_contact: &contact,
            session: local_session,
            lang: &args.lang,
            extras: &extras,
        };
        let text = template.map(|t| fill_step(&t, &vars)).unwrap_or_default();
        println!(
            "── {} · {} ──",
            local_when(&args.lang, &p.due_at.with_timezone(&tz)),
            title
        );
        println!("{}\n", to_plain(&text));
    }
    if let Some(store) = store {
        store.close().await;
    }
    Ok(())
}

/// `aftercare health`: one GET of /healthz; prints its body.
async fn health(args: &crate::cli::HealthArgs) -> Result<(), Failure> {
    let mut addr = args.http;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{addr}/healthz");
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .build()
        .map_err(|e| Failure::runtime(format!("cannot make an HTTP client: {e}")))?;
    let answer = client
        .get(&url)
        .send()
        .await
        .map_err(|e| Failure::runtime(format!("{url}: no answer ({e})")))?;
    let healthy = answer.status().is_success();
    let body = answer.text().await.unwrap_or_default();
    println!("{body}");
    if healthy {
        Ok(())
    } else {
        Err(Failure::runtime(format!("{url}: unhealthy")))
    }
}
