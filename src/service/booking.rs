//! Follow-up bookings: staff book, move and cancel a patient's next appointment; the
//! patient confirms or asks to reschedule from the reminder buttons.

use chrono::{DateTime, Utc};

use crate::domain::booking::{BookArgs, BookingStep, PatientRef, booking_messages};
use crate::domain::checkin::realert_at;
use crate::store::{Clinic, Lookup, Patient, PatientStatus, Store, alerts, bookings};

pub enum BookOutcome {
    Booked {
        patient: Box<Patient>,
        /// The time it was booked for before, when this moved it.
        moved_from: Option<DateTime<Utc>>,
    },
    /// The patient has not linked, stopped, or cannot be reached: nothing would arrive.
    NotActive(Box<Patient>),
    NotFound(Lookup),
}

/// Books or moves `args.patient`'s appointment in `clinic`.
pub async fn book(
    store: &Store,
    clinic: &Clinic,
    staff_user: i64,
    args: &BookArgs,
    now: DateTime<Utc>,
) -> Result<BookOutcome, sqlx::Error> {
    let patient = match store.find_patient(clinic.id, &args.patient).await? {
        Lookup::One(p) => p,
        other => return Ok(BookOutcome::NotFound(other)),
    };
    if patient.status != PatientStatus::Active {
        return Ok(BookOutcome::NotActive(patient));
    }
    let messages = booking_messages(args.starts_at, now, clinic.tz(), clinic.quiet_hours());
    let mut tx = store.begin().await?;
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

/// Cancels the patient's appointment and tells them (as soon as quiet hours allow).
pub async fn unbook(
    store: &Store,
    clinic: &Clinic,
    who: &PatientRef,
    now: DateTime<Utc>,
) -> Result<UnbookOutcome, sqlx::Error> {
    let patient = match store.find_patient(clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(UnbookOutcome::NotFound(other)),
    };
    let mut tx = store.begin().await?;
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
    let patient = crate::store::patients::patient_in(&mut tx, booking.patient_id).await?;
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
