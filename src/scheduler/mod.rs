//! The one delivery loop. It sleeps until the earliest due reminder (or until woken by a
//! new enrollment), claims due rows with a lease, sends each at its paced turn, and
//! records the outcome. All state is in SQLite, so a restart picks up where it stopped.

mod booking_steps;
pub mod buttons;
mod realert;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use teloxide::types::InlineKeyboardMarkup;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::catalog::{Catalog, Reply};
use crate::clock::Clock;
use crate::domain::booking::BookingStep;
use crate::domain::checkin::{nudge_step, nudge_times, nudged_checkin};
use crate::outbox::outcome::{MAX_ATTEMPTS, Outcome, backoff};
use crate::outbox::{Delivery, Outbox, Outgoing};
use crate::render::{StepVars, fill_step};
use crate::service::texts::Texts;
use crate::store::{Claimed, NewReminder, PatientStatus, ReminderStatus, Store};

/// How long a claimed row stays ours before another run may take it back.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Rows claimed per round trip to the database.
const BATCH: i64 = 50;
/// Sends waiting for their turn or on the wire at once.
const MAX_IN_FLIGHT: usize = 200;
/// The least time between two idle checkpoints.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Pause after the database refused work, before trying again.
const STORE_RETRY: Duration = Duration::from_secs(1);
/// The longest pause between attempts to record a delivery Telegram has answered.
const RECORD_RETRY_MAX: Duration = Duration::from_secs(10);
/// How long shutdown waits for sends already on the wire. With the outbox's 3 s for
/// queued answers it stays inside the 9.5 s `main` allows a stop.
const DRAIN: Duration = Duration::from_secs(6);

/// A rendered row: the chat, the text, and the buttons that go with it.
type Prepared = (i64, String, Option<InlineKeyboardMarkup>);

/// Why a claimed row is not sent now.
enum Unsent {
    /// Done with it: recorded with this status and note.
    Finish(ReminderStatus, &'static str),
    /// The database failed while rendering: try again shortly.
    RetryLater,
}

pub struct Scheduler {
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub clock: Arc<dyn Clock>,
    /// Where rendered reminders go; it paces them and reports Telegram's answer.
    pub outbox: Outbox,
    /// Poked after an enrollment links, so new rows need no polling to be seen.
    pub wake: Arc<Notify>,
}

impl Scheduler {
    /// Runs until `shutdown` turns true, then lets sends on the wire finish.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        match self.store.release_all_leases().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                rows = n,
                "returned reminders leased before a restart to the queue"
            ),
            Err(e) => tracing::error!(error = %e, "could not release old leases"),
        }
        // Each task yields the reminder id it sent, or None for a re-alert.
        let mut in_flight: JoinSet<Option<i64>> = JoinSet::new();
        // Ids of rows this process is sending, kept out of lease expiry.
        let mut sending: HashSet<i64> = HashSet::new();
        let mut last_checkpoint: Option<tokio::time::Instant> = None;
        let mut store_down = StoreHealth::default();
        while !*shutdown.borrow() {
            self.outbox.telemetry().beats.scheduler_turned();
            while let Some(done) = in_flight.try_join_next() {
                if let Ok(Some(id)) = done {
                    sending.remove(&id);
                }
            }
            let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
            let claimed = if room > 0 {
                match self.claim(room, &sending).await {
                    Ok(rows) => {
                        store_down.recovered();
                        rows
                    }
                    Err(e) => {
                        // Busy beyond the busy timeout, or the disk is full: nothing is
                        // lost (the rows stay pending); pause so an outage is not a hot
                        // loop, and wait for in-flight sends or shutdown meanwhile.
                        store_down.failed("could not claim due reminders", &e);
                        tokio::select! {
                            _ = tokio::time::sleep(STORE_RETRY) => {}
                            _ = shutdown.changed() => {}
                        }
                        continue;
                    }
                }
            } else {
                Vec::new()
            };
            let full_batch = room > 0 && claimed.len() as i64 == BATCH.min(room as i64);
            // Nothing due: a good moment to fold the WAL back into the database, rather
            // than inside a claim (the claim's p99 was a checkpoint). At most once a
            // second: the loop also turns once per finished send.
            let checkpoint_due = last_checkpoint.is_none_or(|t| t.elapsed() >= CHECKPOINT_EVERY);
            if room > 0 && claimed.is_empty() && checkpoint_due {
                last_checkpoint = Some(tokio::time::Instant::now());
                if let Err(e) = self.store.checkpoint().await {
                    tracing::warn!(error = %e, "checkpoint failed; SQLite retries on its own");
                }
            }
            for row in claimed {
                // Rendered and booked here, in due order, so a patient's messages keep
                // their order however long each text lookup takes.
                let prepared = match self.prepare(&row, self.clock.now()).await {
                    Ok(p) => self.name_the_clinic(&row, p).await,
                    Err(e) => Err(e),
                };
                // Queued in due order, so a patient's messages keep their order.
                let receipt = prepared.map(|(chat, text, buttons)| {
                    let mut msg = Outgoing::reminder(chat, row.id, text);
                    msg.buttons = buttons;
                    self.outbox.send(msg)
                });
                let me = self.clone();
                let stop = shutdown.clone();
                sending.insert(row.id);
                in_flight.spawn(async move {
                    let id = row.id;
                    me.deliver(row, receipt, stop).await;
                    Some(id)
                });
            }
            if room > 0 {
                for alert in self.claim_realerts().await {
                    let me = self.clone();
                    in_flight.spawn(async move {
                        me.realert(alert).await;
                        None
                    });
                }
            }
            if full_batch {
                // More may be due right now.
                continue;
            }
            let next = if room > 0 {
                self.next_wakeup(&sending).await
            } else {
                None
            };
            let far = self.clock.now() + chrono::Duration::days(1);
            tokio::select! {
                _ = self.clock.sleep_until(next.unwrap_or(far)), if room > 0 => {}
                _ = self.wake.notified() => {}
                // Turns at least this often even when idle, so /healthz can tell a
                // quiet loop from a stuck one.
                _ = tokio::time::sleep(crate::ops::health::SCHEDULER_HEARTBEAT) => {}
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Ok(Some(id)) = done {
                        sending.remove(&id);
                    }
                }
                _ = shutdown.changed() => {}
            }
        }
        let waiting = in_flight.len();
        if waiting > 0 {
            tracing::info!(in_flight = waiting, "shutting down: letting sends finish");
        }
        let drained = tokio::time::timeout(DRAIN, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            // Their leases run out and the next start sends them: at least once, never lost.
            tracing::warn!(
                left = in_flight.len(),
                "sends still waiting at shutdown go out after restart"
            );
            in_flight.abort_all();
        }
    }

    /// Takes back leases that ran out (except rows this process is sending) and claims
    /// the next batch of due rows.
    async fn claim(
        &self,
        room: usize,
        sending: &HashSet<i64>,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = self.clock.now();
        let sending: Vec<i64> = sending.iter().copied().collect();
        self.store.release_expired_leases(now, &sending).await?;
        self.store
            .claim_due(now, now + LEASE, BATCH.min(room as i64), &sending)
            .await
    }

    async fn next_wakeup(&self, sending: &HashSet<i64>) -> Option<DateTime<Utc>> {
        let sending: Vec<i64> = sending.iter().copied().collect();
        let both = async {
            let reminder = self.store.next_wakeup(&sending).await?;
            let realert = self.next_realert().await?;
            Ok::<_, sqlx::Error>(reminder.into_iter().chain(realert).min())
        };
        match both.await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "could not read the next due time");
                Some(self.clock.now() + chrono::Duration::seconds(5))
            }
        }
    }

    /// Waits for the outbox's answer about one claimed row, and records what happened.
    ///
    /// A reminder still queued when shutdown begins is given up by the outbox: its row
    /// stays leased and the next start sends it. Only sends already on the wire finish.
    #[tracing::instrument(skip_all, fields(reminder = row.id, patient = row.patient_id, step = %row.step_id))]
    async fn deliver(
        &self,
        row: Claimed,
        receipt: Result<crate::outbox::Receipt, Unsent>,
        shutdown: watch::Receiver<bool>,
    ) {
        let now = self.clock.now();
        let result = match receipt {
            Err(Unsent::Finish(status, note)) => {
                let metrics = &self.outbox.telemetry().metrics;
                match status {
                    ReminderStatus::Failed => metrics.failed(note),
                    _ => metrics.skipped(note),
                }
                self.store.finish_unsent(row.id, status, note).await
            }
            Err(Unsent::RetryLater) => {
                let again = now + chrono::Duration::seconds(30);
                self.store
                    .retry_at(row.id, again, "could not read the text")
                    .await
            }
            Ok(receipt) => {
                let outcome = match receipt.delivery().await {
                    Delivery::Sent { message_id } => Outcome::Sent { message_id },
                    Delivery::Failed(outcome) => outcome,
                    Delivery::NotWanted => {
                        tracing::info!("not sent: no longer wanted");
                        return self.record_until_done(&row, None, shutdown).await;
                    }
                    Delivery::Abandoned => return,
                };
                self.log(&row, &outcome);
                return self.record_until_done(&row, Some(&outcome), shutdown).await;
            }
        };
        if let Err(e) = result {
            // The row stays leased; when the lease runs out it is sent again.
            tracing::error!(error = %e, "could not record a delivery outcome");
        }
    }

    /// Telegram has answered (or the row was dropped): keep trying to write that down
    /// until it works (a full disk may take an operator hours) or shutdown, since a row
    /// left leased is sent again when its lease runs out. The loop keeps the row in
    /// `sending`, so its lease is not taken back meanwhile.
    async fn record_until_done(
        &self,
        row: &Claimed,
        outcome: Option<&Outcome>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut pause = STORE_RETRY;
        loop {
            let recorded = match outcome {
                Some(outcome) => self.record(row, outcome).await,
                None => self.store.drop_unwanted(row.id).await,
            };
            match recorded {
                Ok(()) => return,
                Err(e) if *shutdown.borrow() => {
                    tracing::error!(error = %e, "could not record a delivery outcome");
                    return;
                }
                Err(e) => {
                    if pause == STORE_RETRY {
                        tracing::warn!(error = %e, "recording a delivery failed, retrying");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.wait_for(|stop| *stop) => {}
                    }
                    pause = (pause * 2).min(RECORD_RETRY_MAX);
                }
            }
        }
    }

    /// In a chat that follows courses from several clinics, a message whose first line
    /// does not name its clinic gets the clinic's name on top, so the patient knows
    /// who writes.
    async fn name_the_clinic(&self, row: &Claimed, prepared: Prepared) -> Result<Prepared, Unsent> {
        let (chat, text, buttons) = prepared;
        let first_line = text.lines().next().unwrap_or("");
        let named = first_line.contains(&teloxide::utils::html::escape(&row.clinic_name))
            || first_line.contains(&row.clinic_name);
        if named {
            return Ok((chat, text, buttons));
        }
        let lang = row.lang.as_deref().unwrap_or(crate::catalog::BASE_LANG);
        let fetched = async {
            let courses = self.store.current_courses(chat).await?;
            if courses.len() < 2 {
                return Ok::<_, sqlx::Error>(None);
            }
            Texts::new(&self.store, &self.catalog)
                .reply(Some(row.clinic_id), lang, Reply::CourseHeader)
                .await
                .map(Some)
        };
        match fetched.await {
            Ok(Some(header)) => {
                let header = header.render(&[("clinic_name", &row.clinic_name)]);
                Ok((chat, format!("{header}\n\n{text}"), buttons))
            }
            Ok(None) => Ok((chat, text, buttons)),
            Err(e) => {
                tracing::error!(error = %e, "could not read the chat's courses");
                Err(Unsent::RetryLater)
            }
        }
    }

    /// Decides whether a row can be sent, and renders it with the text in force at the
    /// patient's clinic now (the clinic's own version or the default).
    async fn prepare(&self, row: &Claimed, now: DateTime<Utc>) -> Result<Prepared, Unsent> {
        let chat = match (row.patient_status, row.chat_id) {
            (PatientStatus::Active, Some(chat)) => chat,
            _ => {
                return Err(Unsent::Finish(
                    ReminderStatus::Cancelled,
                    "patient not active",
                ));
            }
        };
        if row.expires().is_some_and(|e| now > e) {
            tracing::info!(late_by = %(now - row.due()), "skipped: past its expiry");
            return Err(Unsent::Finish(ReminderStatus::Skipped, "past its expiry"));
        }
        let tz: chrono_tz::Tz = row.timezone.parse().unwrap_or(chrono_tz::UTC);
        let lang = row.lang.as_deref().unwrap_or(crate::catalog::BASE_LANG);
        let texts = Texts::new(&self.store, &self.catalog);
        // Booking messages render from the booking as it is now (moved or cancelled).
        if let Some(step) = BookingStep::from_id(&row.step_id) {
            let fetched = async {
                let booking = self.store.booking_of(row.patient_id).await?;
                let wording = texts
                    .wording(row.clinic_id, lang, &booking_steps::replies(step))
                    .await?;
                Ok::<_, sqlx::Error>((booking, wording))
            };
            let (booking, wording) = match fetched.await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "could not read the booking or its wording");
                    return Err(Unsent::RetryLater);
                }
            };
            return booking_steps::render(
                &wording,
                lang,
                step,
                booking.as_ref(),
                &row.clinic_name,
                tz,
            )
            .map(|(text, buttons)| (chat, text, buttons))
            .ok_or(Unsent::Finish(
                ReminderStatus::Cancelled,
                "booking moved or cancelled",
            ));
        }
        // The one nudge after a check-in nobody answered: none once it is answered.
        if let Some(checkin_step) = nudged_checkin(&row.step_id) {
            return self.prepare_nudge(row, chat, checkin_step, lang).await;
        }
        // The step as the patient's course has it now. One the clinic took out of its
        // course (or the messages folder dropped) is not sent: its text and place are
        // gone, and the patient would get a message the clinic no longer has.
        let plan = match crate::service::courses::plan_of(
            &self.store,
            &self.catalog,
            row.clinic_id,
            &row.plan,
        )
        .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not read the patient's course");
                return Err(Unsent::RetryLater);
            }
        };
        let step = plan.as_ref().and_then(|p| p.step(&row.step_id));
        if plan.is_some() && step.is_none() {
            tracing::info!(plan = %row.plan, "skipped: the step is no longer in the patient's course");
            return Err(Unsent::Finish(
                ReminderStatus::Skipped,
                crate::store::courses::STEP_REMOVED,
            ));
        }
        // A check-in carries its answer buttons; book-next its "contact me"; a patient
        // in a series gets "session 2 of 3" on top. Their wording is fetched first.
        let checkin = step.is_some_and(|s| s.checkin);
        let book_next = row.step_id == buttons::BOOK_NEXT_STEP;
        let fetched = async {
            let series = self.store.series_of(row.patient_id).await?;
            let mut needed: Vec<Reply> = Vec::new();
            if checkin {
                needed.extend(buttons::CHECKIN_LABELS);
            } else if book_next {
                needed.push(Reply::BookNextLabel);
            }
            needed.extend(buttons::series_header_reply(series));
            let wording = texts.wording(row.clinic_id, lang, &needed).await?;
            let extras = crate::service::step_extras::for_clinic_id(
                &self.store,
                &self.catalog,
                row.clinic_id,
                lang,
                &row.plan,
                &row.step_id,
            )
            .await?;
            let notes = self.store.notes_for_reminder(row.id).await?;
            Ok::<_, sqlx::Error>((series, wording, extras, notes))
        };
        let (series, wording, extras, notes) = match fetched.await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "could not read the patient's series or wording");
                return Err(Unsent::RetryLater);
            }
        };
        let vars = StepVars {
            patient_name: &row.patient_name,
            clinic_name: &row.clinic_name,
            clinic_contact: &row.contact,
            session: crate::store::from_millis(row.session_at).with_timezone(&tz),
            lang,
            extras: &extras,
        };
        let template = match texts
            .step(row.clinic_id, lang, &row.plan, &row.step_id)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                // The database failed: try again later rather than send the wrong text.
                tracing::error!(error = %e, "could not read the clinic's text");
                return Err(Unsent::RetryLater);
            }
        };
        match template.map(|t| fill_step(&t, &vars)) {
            Some(text) => {
                let buttons = if checkin {
                    Some(buttons::checkin_keyboard(&wording, row.id))
                } else if book_next {
                    Some(buttons::book_next_keyboard(&wording, row.id))
                } else {
                    None
                };
                let text = match buttons::series_header(&wording, series) {
                    Some(header) => format!("{header}\n\n{text}"),
                    None => text,
                };
                // Personal notes from the clinic for this patient (/note).
                let text = notes.iter().fold(text, |text, n| {
                    format!("{text}\n\n📝 <i>{}</i>", teloxide::utils::html::escape(n))
                });
                Ok((chat, text, buttons))
            }
            None => {
                tracing::error!(plan = %row.plan, "no wording for this step in the messages folder");
                Err(Unsent::Finish(
                    ReminderStatus::Failed,
                    "no wording for this step",
                ))
            }
        }
    }

    /// Renders the nudge after check-in `checkin_step`, with that check-in's answer
    /// buttons (an answer counts for the check-in), unless it was answered meanwhile.
    async fn prepare_nudge(
        &self,
        row: &Claimed,
        chat: i64,
        checkin_step: &str,
        lang: &str,
    ) -> Result<Prepared, Unsent> {
        let texts = Texts::new(&self.store, &self.catalog);
        let fetched = async {
            let state = self
                .store
                .checkin_state(row.patient_id, checkin_step)
                .await?;
            let mut needed = vec![Reply::CheckinNudge];
            needed.extend(buttons::CHECKIN_LABELS);
            let wording = texts.wording(row.clinic_id, lang, &needed).await?;
            Ok::<_, sqlx::Error>((state, wording))
        };
        let (state, wording) = match fetched.await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "could not read the check-in or its wording");
                return Err(Unsent::RetryLater);
            }
        };
        let checkin_id = match state {
            Some((id, false)) => id,
            Some((_, true)) => {
                return Err(Unsent::Finish(
                    ReminderStatus::Cancelled,
                    "check-in answered",
                ));
            }
            None => return Err(Unsent::Finish(ReminderStatus::Cancelled, "no check-in")),
        };
        let text = wording.get(Reply::CheckinNudge).render_dropping_empty(&[
            ("clinic_name", &row.clinic_name),
            ("clinic_contact", &row.contact),
        ]);
        Ok((
            chat,
            text,
            Some(buttons::checkin_keyboard(&wording, checkin_id)),
        ))
    }

    /// Logs Telegram's answer (the outbox has obeyed any 429 already).
    fn log(&self, row: &Claimed, outcome: &Outcome) {
        let now = self.clock.now();
        match outcome {
            Outcome::Sent { .. } => {
                self.outbox.telemetry().metrics.late(now - row.due());
                tracing::info!(late_ms = (now - row.due()).num_milliseconds(), "sent");
            }
            Outcome::RetryAfter(wait) => {
                tracing::warn!(
                    retry_after_s = wait.as_secs(),
                    "rate limited again and again; rescheduled"
                );
            }
            Outcome::Transient(why) if row.attempts < MAX_ATTEMPTS => {
                tracing::warn!(reason = %why, attempt = row.attempts, retry_in_s = backoff(row.attempts).as_secs(), "send failed, will retry");
            }
            Outcome::Transient(why) => {
                tracing::error!(reason = %why, "send failed too often, giving up");
            }
            Outcome::Unreachable(why) => {
                tracing::info!(
                    reason = why,
                    "patient unreachable, stopping their reminders"
                );
            }
            Outcome::Rejected(why) => {
                tracing::error!(reason = %why, "Telegram refused the message");
            }
        }
    }

    /// Writes Telegram's answer down. Safe to repeat until it succeeds.
    async fn record(&self, row: &Claimed, outcome: &Outcome) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let after = |wait: Duration| now + chrono::Duration::from_std(wait).unwrap_or_default();
        match outcome {
            Outcome::Sent { message_id } => {
                match self.nudge_after(row, self.is_checkin(row).await?) {
                    Some(nudge) => {
                        self.store
                            .mark_sent_with_nudge(row.id, *message_id, now, row.patient_id, &nudge)
                            .await
                    }
                    None => self.store.mark_sent(row.id, *message_id, now).await,
                }
            }
            Outcome::RetryAfter(wait) => {
                self.store
                    .retry_at(row.id, after(*wait), "429 from Telegram")
                    .await
            }
            Outcome::Transient(_) if row.attempts < MAX_ATTEMPTS => {
                self.store
                    .retry_at(
                        row.id,
                        after(backoff(row.attempts)),
                        "retrying after a network or server error",
                    )
                    .await
            }
            Outcome::Transient(_) => {
                self.store
                    .finish_unsent(
                        row.id,
                        ReminderStatus::Failed,
                        "gave up after repeated errors",
                    )
                    .await
            }
            Outcome::Unreachable(why) => self.store.mark_unreachable(row.patient_id, why).await,
            Outcome::Rejected(_) => {
                self.store
                    .finish_unsent(row.id, ReminderStatus::Failed, "refused by Telegram")
                    .await
            }
        }
    }
}

impl Scheduler {
    /// Whether the row's step is a check-in of the patient's course (a plan of the
    /// messages folder or the clinic's own course).
    async fn is_checkin(&self, row: &Claimed) -> Result<bool, sqlx::Error> {
        Ok(
            crate::service::courses::plan_of(&self.store, &self.catalog, row.clinic_id, &row.plan)
                .await?
                .and_then(|p| p.step(&row.step_id).map(|s| s.checkin))
                .unwrap_or(false),
        )
    }

    /// A check-in just sent gets one nudge, due when its window closes (outside quiet
    /// hours); it goes out only if the check-in is still unanswered then.
    fn nudge_after(&self, row: &Claimed, is_checkin: bool) -> Option<NewReminder> {
        if !is_checkin {
            return None;
        }
        let tz: chrono_tz::Tz = row.timezone.parse().unwrap_or(chrono_tz::UTC);
        // From when it went out at the earliest (its due time; a retry moves it), not
        // from when the outcome is written down, which may be later.
        let (due_at, expires_at) = nudge_times(row.due(), row.expires(), tz, row.quiet_hours());
        Some(NewReminder {
            step_id: nudge_step(&row.step_id),
            due_at,
            expires_at: Some(expires_at),
            status: ReminderStatus::Pending,
            note: None,
        })
    }
}

/// Whether the database has been refusing the loop's work, so an outage is logged once
/// when it starts and once when it ends, not every second in between.
#[derive(Default)]
struct StoreHealth {
    failing: bool,
}

impl StoreHealth {
    fn failed(&mut self, what: &str, e: &sqlx::Error) {
        if self.failing {
            tracing::debug!(error = %e, "{what}");
        } else if crate::store::cannot_write(e) {
            tracing::error!(error = %e, hint = crate::store::CANNOT_WRITE_HINT, "{what}");
        } else {
            tracing::error!(error = %e, "{what}; retrying");
        }
        self.failing = true;
    }

    fn recovered(&mut self) {
        if std::mem::take(&mut self.failing) {
            tracing::info!("the database accepts work again; delivery resumes");
        }
    }
}
