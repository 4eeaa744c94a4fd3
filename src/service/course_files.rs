//! Courses as files: a checked course file becomes a draft (one transaction, nothing
//! in force changes), Save writes it as a new course or a new version with its audit
//! row (one transaction, as `/course` changes do), Cancel drops it; `/course export`
//! reads the course in force as the file. Fetching and checking the file happen before
//! (in the handler, with no transaction open): here the file is already a `Checked`.

use chrono::{DateTime, Duration, Utc};

use super::courses::{Course, course, find, languages, list, not_ready};
use super::templates::may_change;
use crate::catalog::Catalog;
use crate::course_file::{Checked, CourseFile, course_key};
use crate::store::access::{self, Audit};
use crate::store::course_drafts::{self as drafts, CourseDraft};
use crate::store::courses as stored;
use crate::store::{Clinic, StaffRole, Store, Tx, clinics, from_millis};

/// How long a preview may wait for Save.
pub const DRAFT_LIFETIME: Duration = Duration::hours(24);

const NOT_ALLOWED: &str = "Only the clinic's owner and admins can send course files.";

/// What a checked file became.
#[derive(Debug)]
pub enum Proposed {
    /// The same as the version in force: nothing to save, nothing kept.
    Unchanged {
        name: String,
        key: String,
        version: i64,
    },
    /// A draft waiting for Save.
    Preview {
        draft_id: i64,
        key: String,
        /// The version in force, and its file when it can still be read.
        base: Option<(i64, Option<CourseFile>)>,
        /// An earlier unsaved file of the same person was dropped for this one.
        replaced_unsaved: bool,
    },
}

/// Another course of the clinic with the same name (two courses of one name could not
/// be told apart in `/enroll` or `/courses`).
fn name_taken(all: &[super::courses::Listed], key: &str, name: &str) -> Option<String> {
    all.iter()
        .find(|l| l.key != key && l.name.eq_ignore_ascii_case(name))
        .map(|l| {
            format!(
                "Not saved: the course <code>{}</code> is already called “{}”. To change it, send the file as <code>{}.toml</code> (/course export {} gives it); for a new course, give it another name. Nothing changed.",
                l.key,
                teloxide::utils::html::escape(&l.name),
                l.key,
                l.key
            )
        })
}

/// A checked course file from `file_name`, for the course `key` of the clinic: kept
/// as a draft to preview, unless it is the version in force already.
#[allow(clippy::too_many_arguments)]
pub async fn propose(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    file_name: &str,
    key: &str,
    checked: &Checked,
    now: DateTime<Utc>,
) -> Result<Result<Proposed, String>, sqlx::Error> {
    if !may_change(role) {
        return Ok(Err(NOT_ALLOWED.into()));
    }
    if let Some(plan) = catalog.plan(key) {
        return Ok(Err(format!(
            "Not saved: <code>{key}</code> is “{}”, which comes with the bot; it is changed with /timing and /edit. For a course of your own, name the file after it (<code>my-{key}.toml</code>), or start from a copy: /course new \"My {}\" from {key}, then /course export my-{key}. Nothing changed.",
            teloxide::utils::html::escape(&plan.name),
            teloxide::utils::html::escape(&plan.name),
        )));
    }
    let mut tx = store.begin().await?;
    let all = list(&mut tx, catalog, clinic).await?;
    if let Some(why) = name_taken(&all, key, &checked.file.name) {
        return Ok(Err(why));
    }
    let base = match stored::course(&mut tx, clinic.id, key).await? {
        None => None,
        Some(row) => {
            let version = row.version;
            let file = course(&mut tx, catalog, clinic.id, key)
                .await?
                .map(|c| c.checked.file);
            if file.as_ref() == Some(&checked.file) {
                return Ok(Ok(Proposed::Unchanged {
                    name: checked.file.name.clone(),
                    key: key.to_string(),
                    version,
                }));
            }
            Some((version, file))
        }
    };
    let (draft_id, replaced_unsaved) = drafts::insert_draft(
        &mut tx,
        user_id,
        clinic.id,
        key,
        file_name,
        &checked.file.to_toml(),
        base.as_ref().map(|(v, _)| *v),
        now,
        now - DRAFT_LIFETIME,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Proposed::Preview {
        draft_id,
        key: key.to_string(),
        base,
        replaced_unsaved,
    }))
}

/// What pressing Save did.
#[derive(Debug)]
pub enum Saved {
    Done {
        course: Box<Course>,
        /// A new course (version 1), not a new version of one.
        created: bool,
        /// Why the course cannot take patients yet, if it cannot.
        not_ready: Option<String>,
    },
    /// Saved by an earlier press.
    AlreadySaved {
        key: String,
        version: i64,
    },
    /// Older than [`DRAFT_LIFETIME`]: dropped, nothing saved.
    Expired,
    /// The course changed since the preview (another file, a `/course` change): dropped.
    Superseded {
        key: String,
        version: Option<i64>,
    },
    NotAllowed,
    /// The file no longer passes the check, or its name is taken now.
    Refused(String),
}

/// Saves draft `draft_id` of `user_id`: a new course or a new version of it, with its
/// audit row, if the course in force is still the one previewed. `None` when there is
/// no such draft of theirs (cancelled, replaced by a newer file, or never theirs).
pub async fn save(
    store: &Store,
    catalog: &Catalog,
    draft_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Saved>, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(draft) = drafts::draft(&mut tx, draft_id).await? else {
        return Ok(None);
    };
    if draft.user_id != user_id {
        return Ok(None);
    }
    if let Some(version) = draft.saved_version {
        return Ok(Some(Saved::AlreadySaved {
            key: draft.key,
            version,
        }));
    }
    if from_millis(draft.created_at) < now - DRAFT_LIFETIME {
        return dropped(tx, draft_id, Saved::Expired).await;
    }
    let membership = clinics::memberships_in(&mut tx, user_id)
        .await?
        .into_iter()
        .find(|(c, r)| c.id == draft.clinic_id && may_change(*r));
    let Some((clinic, _)) = membership else {
        return dropped(tx, draft_id, Saved::NotAllowed).await;
    };
    let row = stored::course(&mut tx, clinic.id, &draft.key).await?;
    let in_force = row.as_ref().map(|r| r.version);
    if in_force != draft.base_version {
        let key = draft.key.clone();
        let saved = Saved::Superseded {
            key,
            version: in_force,
        };
        return dropped(tx, draft_id, saved).await;
    }
    let checked = match CourseFile::parse(&draft.key, &draft.key, &draft.body, &languages(catalog))
    {
        Ok(c) => c,
        Err(p) => {
            let why = format!(
                "Not saved: the file no longer passes the check ({}). Send it again to see why.",
                crate::domain::html::escape_with_code(
                    &p.first().map(|p| p.message.clone()).unwrap_or_default()
                )
            );
            return dropped(tx, draft_id, Saved::Refused(why)).await;
        }
    };
    let all = list(&mut tx, catalog, &clinic).await?;
    if let Some(why) = name_taken(&all, &draft.key, &checked.file.name) {
        return dropped(tx, draft_id, Saved::Refused(why)).await;
    }
    let (saved, created) = write(&mut tx, &clinic, &draft, row.map(|r| r.id), user_id, now).await?;
    drafts::mark_saved(&mut tx, draft_id, saved.1).await?;
    // Texts saved earlier with `/edit` count for the course being ready, as in `/course`.
    let saved_texts = crate::store::templates::saved_course_steps(
        &mut tx,
        clinic.id,
        &draft.key,
        crate::catalog::BASE_LANG,
    )
    .await?;
    tx.commit().await?;
    let course = Course {
        id: saved.0,
        key: draft.key,
        is_default: row_is_default(&all, &checked),
        version: saved.1,
        checked,
        saved_texts,
    };
    Ok(Some(Saved::Done {
        not_ready: not_ready(&course),
        created,
        course: Box::new(course),
    }))
}

/// Whatever happens to a draft but saving, it is done with: deleted, and the answer.
async fn dropped(mut tx: Tx, draft_id: i64, saved: Saved) -> Result<Option<Saved>, sqlx::Error> {
    drafts::delete_draft(&mut tx, draft_id).await?;
    tx.commit().await?;
    Ok(Some(saved))
}

fn row_is_default(all: &[super::courses::Listed], checked: &Checked) -> bool {
    all.iter()
        .any(|l| l.own && l.is_default && l.plan_ref == checked.plan.id)
}

/// Writes the draft's file as a new course or the next version of course `course_id`,
/// with the audit row `/course` changes write; returns (course id, version) and whether
/// the course is new.
async fn write(
    tx: &mut sqlx::SqliteConnection,
    clinic: &Clinic,
    draft: &CourseDraft,
    course_id: Option<i64>,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<((i64, i64), bool), sqlx::Error> {
    let file: String = draft.file_name.chars().take(60).collect();
    let (ids, created, action, detail) = match course_id {
        None => {
            let id =
                stored::insert_course(&mut *tx, clinic.id, &draft.key, &draft.body, user_id, now)
                    .await?;
            ((id, 1), true, "course.new", format!("from file {file}"))
        }
        Some(id) => {
            let v = stored::insert_version(&mut *tx, id, &draft.body, user_id, now).await?;
            (
                (id, v),
                false,
                "course.change",
                format!("v{v}: from file {file}"),
            )
        }
    };
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action,
        subject: Some(format!("course {}", draft.key)),
        detail: Some(detail),
    };
    access::record(tx, audit, now).await?;
    Ok((ids, created))
}

/// Cancel: drops `user_id`'s unsaved draft; false when there was none.
pub async fn cancel(store: &Store, draft_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = store.begin().await?;
    let done = match drafts::draft(&mut tx, draft_id).await? {
        Some(d) if d.user_id == user_id => drafts::delete_draft(&mut tx, draft_id).await?,
        _ => false,
    };
    tx.commit().await?;
    Ok(done)
}

/// A course in force as its file.
#[derive(Debug)]
pub struct Exported {
    pub key: String,
    pub name: String,
    pub version: i64,
    /// `CourseFile::to_toml` of the version in force: sent back unchanged, it changes
    /// nothing.
    pub body: String,
}

/// `/course export <course>`: the clinic's own course as its file (owners, admins).
pub async fn export(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    role: StaffRole,
    typed: &str,
) -> Result<Result<Exported, String>, sqlx::Error> {
    if !may_change(role) {
        return Ok(Err(
            "Only the clinic's owner and admins can export courses.".into(),
        ));
    }
    if typed.trim().is_empty() {
        return Ok(Err("Which course? /course export peel".into()));
    }
    let mut conn = store.pool().acquire().await?;
    let all = list(&mut conn, catalog, clinic).await?;
    let Some(found) = find(&all, typed) else {
        return Ok(Err(format!(
            "There is no course “{}”. /courses lists them.",
            crate::domain::html::escape_with_code(typed.trim())
        )));
    };
    let Some(key) = course_key(&found.plan_ref) else {
        return Ok(Err(format!(
            "“{}” comes with the bot and is changed with /timing and /edit. Make your own copy first, then export that: /course new \"My {}\" from {}",
            teloxide::utils::html::escape(&found.name),
            teloxide::utils::html::escape(&found.name),
            found.key
        )));
    };
    let Some(c) = course(&mut conn, catalog, clinic.id, key).await? else {
        return Ok(Err("That course cannot be read.".into()));
    };
    Ok(Ok(Exported {
        body: c.checked.file.to_toml(),
        name: c.name().to_string(),
        version: c.version,
        key: c.key,
    }))
}
