//! Follow-up bookings: staff book, move and cancel a patient's next appointment; the
//! patient confirms or asks to reschedule from the reminder buttons.

use chrono::{DateTime, Utc};

use super::gap::{GapOverride, TooSoon};
use crate::catalog::Catalog;
use crate::domain::booking::{BookArgs, BookingStep, PatientRef, booking_messages};
use crate::domain::checkin::realert_at;
use crate::store::access::{self, Audit};
use crate::store::{
    Clinic, Lookup, Patient, PatientStatus, Store, alerts, bookings, patient_lookup, patients,
};

pub enum BookOutcome {
    Booked {
        patient: Box<Patient>,
        /// The time it was booked for before, when this moved it.
        moved_from: Option<DateTime<Utc>>,
    },
    /// The patient has not linked, stopped, or cannot be reached: nothing would arrive.
    NotActive(Box<Patient>),
    /// Inside the course's healing gap and not confirmed: nothing booked; staff are
    /// asked whether to book anyway.
    TooSoon(TooSoon),
    NotFound(Lookup),
}

impl super::Wakes for BookOutcome {
    /// The confirmation is due at once (or when quiet hours end).
    fn wakes_scheduler(&self) -> bool {
        matches!(self, BookOutcome::Booked { .. })
    }
}

fn audit(
    clinic: &Clinic,
    actor: i64,
    action: &'static str,
    patient_id: i64,
    detail: Option<String>,
) -> Audit<'static> {
    Audit {
        clinic_id: clinic.id,
        actor: Some(actor),
        action,
        subject: Some(format!("patient {patient_id}")),
        detail,
    }
}

/// Books or moves `args.patient`'s appointment in `clinic`. Inside the course's healing
/// gap it books only when `gap` says staff confirmed it (then audited here too); the
/// gap is read in the same transaction as the booking is written.
pub async fn book(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    staff_user: i64,
    args: &BookArgs,
    gap: GapOverride,
    now: DateTime<Utc>,
) -> Result<BookOutcome, sqlx::Error> {
    let messages = booking_messages(args.starts_at, now, clinic.tz(), clinic.quiet_hours());
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, &args.patient).await? {
        Lookup::One(p) => p,
        other => return Ok(BookOutcome::NotFound(other)),
    };
    if patient.status != PatientStatus::Active {
        return Ok(BookOutcome::NotActive(patient));
    }
    if gap == GapOverride::No
        && let Some(too_soon) =
            super::gap::check_in(&mut tx, catalog, clinic, &patient, args.starts_at).await?
    {
        return Ok(BookOutcome::TooSoon(too_soon));
    }
    let before = bookings::booking_in(&mut tx, patient.id)
        .await?
        .filter(|b| b.is_booked())
        .map(|b| b.starts());
    bookings::upsert_booking(
        &mut tx,
        clinic.id,
        patient.id,
        args.starts_at,
        staff_user,
        now,
    )
    .await?;
    bookings::schedule_booking_messages(&mut tx, patient.id, &messages).await?;
    let detail = Some(args.starts_at.format("%Y-%m-%d %H:%M UTC").to_string());
    access::record(
        &mut tx,
        audit(clinic, staff_user, "book", patient.id, detail),
        now,
    )
    .await?;
    super::gap::audit_override(
        &mut tx,
        gap,
        clinic,
        staff_user,
        patient.id,
        "book",
        args.starts_at,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(BookOutcome::Booked {
        patient,
        moved_from: before,
    })
}

pub enum UnbookOutcome {
    Cancelled {
        patient: Box<Patient>,
        was: DateTime<Utc>,
    },
    NothingBooked(Box<Patient>),
    NotFound(Lookup),
}

impl super::Wakes for UnbookOutcome {
    /// The patient is told at once (or when quiet hours end).
    fn wakes_scheduler(&self) -> bool {
        matches!(self, UnbookOutcome::Cancelled { .. })
    }
}

/// Cancels the patient's appointment and tells them (as soon as quiet hours allow).
pub async fn unbook(
    store: &Store,
    clinic: &Clinic,
    staff_user: i64,
    who: &PatientRef,
    now: DateTime<Utc>,
) -> Result<UnbookOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(UnbookOutcome::NotFound(other)),
    };
    let Some(booking) = bookings::booking_in(&mut tx, patient.id)
        .await?
        .filter(|b| b.is_booked())
    else {
        return Ok(UnbookOutcome::NothingBooked(patient));
    };
    bookings::cancel_booking(&mut tx, patient.id, now).await?;
    let mut notice = Vec::new();
    if booking.starts() > now && patient.status == PatientStatus::Active {
        notice.push(crate::domain::booking::BookingMessage {
            step: BookingStep::Cancelled,
            due_at: clinic.quiet_hours().defer(now, clinic.tz()),
            expires_at: booking.starts(),
        });
    }
    bookings::schedule_booking_messages(&mut tx, patient.id, &notice).await?;
    access::record(
        &mut tx,
        audit(clinic, staff_user, "unbook", patient.id, None),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(UnbookOutcome::Cancelled {
        patient,
        was: booking.starts(),
    })
}

/// What the patient pressed under a booking reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingAnswer {
    Coming,
    Reschedule,
}

impl BookingAnswer {
    pub fn code(self) -> &'static str {
        match self {
            BookingAnswer::Coming => "yes",
            BookingAnswer::Reschedule => "re",
        }
    }
    pub fn from_code(code: &str) -> Option<BookingAnswer> {
        [BookingAnswer::Coming, BookingAnswer::Reschedule]
            .into_iter()
            .find(|a| a.code() == code)
    }
}

pub enum BookingAnswerOutcome {
    Coming {
        clinic_id: i64,
        starts: DateTime<Utc>,
    },
    /// An alert for the staff was opened.
    Reschedule {
        clinic_id: i64,
        patient_id: i64,
        alert_id: i64,
    },
    AlreadyAskedToReschedule {
        clinic_id: i64,
    },
    /// Cancelled, erased, or not this person's booking.
    Stale,
}

impl super::Wakes for BookingAnswerOutcome {
    /// A new alert's re-alert time is work for the scheduler's sleep.
    fn wakes_scheduler(&self) -> bool {
        matches!(self, BookingAnswerOutcome::Reschedule { .. })
    }
}

pub async fn answer_booking(
    store: &Store,
    booking_id: i64,
    presser_chat: i64,
    answer: BookingAnswer,
    now: DateTime<Utc>,
) -> Result<BookingAnswerOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(booking) = bookings::booking_by_id(&mut tx, booking_id).await? else {
        return Ok(BookingAnswerOutcome::Stale);
    };
    let patient = patients::patient_in(&mut tx, booking.patient_id).await?;
    let Some(patient) = patient.filter(|p| p.chat_id == Some(presser_chat)) else {
        return Ok(BookingAnswerOutcome::Stale);
    };
    if !booking.is_booked() || booking.starts() <= now {
        return Ok(BookingAnswerOutcome::Stale);
    }
    let before = bookings::set_answer(&mut tx, booking.id, answer.code()).await?;
    let outcome = match answer {
        BookingAnswer::Coming => BookingAnswerOutcome::Coming {
            clinic_id: booking.clinic_id,
            starts: booking.starts(),
        },
        BookingAnswer::Reschedule
            if before.as_deref() == Some(BookingAnswer::Reschedule.code()) =>
        {
            BookingAnswerOutcome::AlreadyAskedToReschedule {
                clinic_id: booking.clinic_id,
            }
        }
        BookingAnswer::Reschedule => {
            let alert_id = alerts::insert_alert(
                &mut tx,
                booking.clinic_id,
                patient.id,
                "reschedule",
                now,
                realert_at(now),
            )
            .await?;
            BookingAnswerOutcome::Reschedule {
                clinic_id: booking.clinic_id,
                patient_id: patient.id,
                alert_id,
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}
