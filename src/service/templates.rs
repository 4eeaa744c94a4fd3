//! Staff adjusting the texts their clinic's patients receive: list, show, edit (with a
//! preview that must be saved), history, revert and reset. Rendering happens at send
//! time, so a saved text reaches every reminder not yet sent.

use chrono::{DateTime, Duration, Utc};

use super::texts::{TextKey, Texts};
use crate::catalog::{Catalog, Reply};
use crate::domain::html::to_plain;
use crate::domain::template::Template;
use crate::render::{StepVars, fill_step, local_when};
use crate::store::access::{self, Audit};
use crate::store::templates::{self as stored, Draft, TemplateVersion};
use crate::store::{Clinic, StaffRole, Store, clinics};

/// The name the previews are rendered for.
pub const SAMPLE_PATIENT: &str = "Anna Berg";

/// Only owners and admins change what patients receive; other staff may look.
pub fn may_change(role: StaffRole) -> bool {
    matches!(role, StaffRole::Owner | StaffRole::Admin)
}

/// A refusal the staff member reads; the text in force stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Only the clinic's owner and admins can change texts.")]
    NotAllowed,
    #[error("There is no message `{0}`. /templates lists them.")]
    UnknownKey(String),
    #[error("There is no language `{lang}` (known: {known}).")]
    UnknownLanguage { lang: String, known: String },
    #[error("{0}")]
    Invalid(String),
    #[error("Use: {0}")]
    Usage(&'static str),
    #[error("{key} ({lang}) has no version {version}. /history {key} {lang} lists them.")]
    UnknownVersion {
        key: String,
        lang: String,
        version: i64,
    },
}

/// A message and language chosen by a staff member.
#[derive(Debug, Clone)]
pub struct Target {
    pub key: TextKey,
    pub lang: String,
}

/// Reads `<key> [lang]`; the language defaults to the clinic's.
pub fn target(catalog: &Catalog, clinic: &Clinic, args: &str) -> Result<Target, Refusal> {
    let mut words = args.split_whitespace();
    let Some(key_text) = words.next() else {
        return Err(Refusal::Usage(
            "/template, /edit, /history or /reset <key> [lang], e.g. /edit step.sun-morning en",
        ));
    };
    let key = TextKey::parse(key_text, catalog, &clinic.default_plan)
        .ok_or_else(|| Refusal::UnknownKey(key_text.chars().take(60).collect()))?;
    let lang = language(catalog, words.next().unwrap_or(&clinic.default_lang))?;
    Ok(Target { key, lang })
}

/// `target`, with a course text (`course.<course>.<step>`) looked up in the clinic's
/// courses: unknown there, it is refused like any unknown key.
pub async fn checked_target(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    args: &str,
) -> Result<Result<Target, Refusal>, sqlx::Error> {
    let t = match target(catalog, clinic, args) {
        Ok(t) => t,
        Err(r) => return Ok(Err(r)),
    };
    if !matches!(t.key, TextKey::Course { .. }) {
        return Ok(Ok(t));
    }
    let shown = t.key.to_string();
    let mut conn = store.pool().acquire().await?;
    Ok(
        match super::courses::text_key(&mut conn, catalog, clinic.id, t.key).await? {
            Some(key) => Ok(Target { key, lang: t.lang }),
            None => Err(Refusal::UnknownKey(shown)),
        },
    )
}

fn language(catalog: &Catalog, code: &str) -> Result<String, Refusal> {
    let code = code.trim().to_ascii_lowercase();
    if catalog.languages().any(|l| l.code == code) {
        return Ok(code);
    }
    Err(Refusal::UnknownLanguage {
        lang: code.chars().take(10).collect(),
        known: catalog
            .languages()
            .map(|l| l.code.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// One line of `/templates`.
pub struct Listed {
    pub key: TextKey,
    pub lang: String,
    /// The first line of the text, plain, shortened.
    pub excerpt: String,
    pub own: bool,
}

/// Every message the clinic's patients can receive, in every language.
pub async fn list(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
) -> Result<Vec<Listed>, sqlx::Error> {
    let texts = Texts::new(store, catalog);
    let mut out = Vec::new();
    for lang in catalog.languages() {
        for key in TextKey::all(catalog, &clinic.default_plan) {
            let Some(r) = texts
                .resolve(Some(clinic.id), &lang.code, &clinic.default_plan, &key)
                .await?
            else {
                continue;
            };
            out.push(Listed {
                key,
                lang: lang.code.clone(),
                excerpt: excerpt(r.template.source(), 48),
                own: r.own,
            });
        }
    }
    Ok(out)
}

fn excerpt(source: &str, max: usize) -> String {
    let plain = to_plain(source);
    let line = plain.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let line = line.trim();
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

/// The text in force for a target, and whether it is the clinic's own.
pub async fn current(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    t: &Target,
) -> Result<Option<(Template, bool)>, sqlx::Error> {
    Ok(Texts::new(store, catalog)
        .resolve(Some(clinic.id), &t.lang, &clinic.default_plan, &t.key)
        .await?
        .map(|r| (r.template, r.own)))
}

/// A template filled in for a sample patient of the clinic, as it would be sent now
/// (with the clinic's safety lines and timing words).
pub async fn sample(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    key: &TextKey,
    lang: &str,
    template: &Template,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let tz = clinic.tz();
    Ok(match key {
        TextKey::Step(step) | TextKey::SafetyStep(step) | TextKey::Course { step, .. } => {
            let plan = match key {
                TextKey::Course { course, .. } => crate::course_file::plan_ref(course),
                _ => clinic.default_plan.clone(),
            };
            fill_step(
                template,
                &StepVars {
                    patient_name: SAMPLE_PATIENT,
                    clinic_name: &clinic.name,
                    clinic_contact: &clinic.contact,
                    session: now.with_timezone(&tz),
                    lang,
                    extras: &super::step_extras::for_clinic(
                        store, catalog, clinic, lang, &plan, step,
                    )
                    .await?,
                },
            )
        }
        TextKey::Reply(_) => {
            let when = local_when(lang, &(now + Duration::days(1)).with_timezone(&tz));
            let title = catalog
                .plan(&clinic.default_plan)
                .and_then(|p| p.steps.get(2).or(p.steps.first()))
                .and_then(|s| catalog.step(lang, &clinic.default_plan, &s.id))
                .map(|w| w.title.clone())
                .unwrap_or_default();
            template.render(&[
                (
                    "first_name",
                    crate::domain::enroll_args::first_name(SAMPLE_PATIENT),
                ),
                ("clinic_name", &clinic.name),
                ("when", &when),
                ("title", &title),
            ])
        }
    })
}

/// Starts an edit: the staff member's next plain message is the new text.
pub async fn start_edit(
    store: &Store,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    t: &Target,
    now: DateTime<Utc>,
) -> Result<Result<(i64, Option<stored::Draft>), Refusal>, sqlx::Error> {
    if !may_change(role) {
        return Ok(Err(Refusal::NotAllowed));
    }
    let mut tx = store.begin().await?;
    // One edit at a time: an earlier one still open is replaced, and the caller says so.
    let discarded = stored::template_draft_of(&mut tx, user_id).await?;
    let id = stored::start_template_draft(
        &mut tx,
        user_id,
        clinic.id,
        &t.key.to_string(),
        &t.lang,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok((id, discarded)))
}

/// An edit whose new text passed every check and waits for Save.
pub struct Proposed {
    pub draft_id: i64,
    pub target: Target,
    pub template: Template,
}

/// A staff member's message taken as the new text of their edit in progress.
pub struct Proposal {
    pub draft: Draft,
    /// The clinic the edit is for.
    pub clinic: Clinic,
    pub result: Result<Proposed, Refusal>,
}

/// Takes the new text (Telegram HTML from the staff member's message) for the person's
/// edit in progress. `None`: they have no edit (any more); one for a clinic they no
/// longer work for is dropped.
pub async fn propose(
    store: &Store,
    catalog: &Catalog,
    user_id: i64,
    html: &str,
) -> Result<Option<Proposal>, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(draft) = stored::template_draft_of(&mut tx, user_id).await? else {
        return Ok(None);
    };
    let clinic = clinics::memberships_in(&mut tx, user_id)
        .await?
        .into_iter()
        .find(|(c, _)| c.id == draft.clinic_id)
        .map(|(c, _)| c);
    let Some(clinic) = clinic else {
        stored::delete_template_draft(&mut tx, draft.id).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let key = match TextKey::parse(&draft.key, catalog, &clinic.default_plan) {
        Some(key) => super::courses::text_key(&mut tx, catalog, clinic.id, key).await?,
        None => None,
    };
    let Some(key) = key else {
        stored::delete_template_draft(&mut tx, draft.id).await?;
        tx.commit().await?;
        let refusal = Refusal::UnknownKey(draft.key.clone());
        return Ok(Some(Proposal {
            draft,
            clinic,
            result: Err(refusal),
        }));
    };
    let template = match key.check(html) {
        Ok(t) => t,
        Err(e) => {
            return Ok(Some(Proposal {
                draft,
                clinic,
                result: Err(Refusal::Invalid(e.to_string())),
            }));
        }
    };
    stored::set_template_draft_body(&mut tx, draft.id, template.source()).await?;
    tx.commit().await?;
    let proposed = Proposed {
        draft_id: draft.id,
        target: Target {
            key,
            lang: draft.lang.clone(),
        },
        template,
    };
    Ok(Some(Proposal {
        draft,
        clinic,
        result: Ok(proposed),
    }))
}

/// A short fingerprint of a proposed text, carried in its Save button: a second text
/// sent before Save replaces the edit's text, and the first preview's Save must not
/// save the second text.
pub fn text_tag(body: &str) -> String {
    crate::domain::link::hash(body)[..10].to_string()
}

/// What pressing Save did.
pub enum Saved {
    Done {
        draft: Draft,
        version: i64,
    },
    /// The edit is gone (saved or cancelled already, or replaced by a newer one).
    Stale,
    NotAllowed,
}

/// Saves an edit, with its audit entry, if the person pressing is the one who made it
/// and may still change texts.
pub async fn save(
    store: &Store,
    draft_id: i64,
    tag: &str,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Saved, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(draft) = stored::template_draft(&mut tx, draft_id).await? else {
        return Ok(Saved::Stale);
    };
    let shown = draft.body.as_deref().map(text_tag);
    if draft.user_id != user_id || shown.as_deref() != Some(tag) {
        return Ok(Saved::Stale);
    }
    let allowed = clinics::memberships_in(&mut tx, user_id)
        .await?
        .iter()
        .any(|(c, r)| c.id == draft.clinic_id && may_change(*r));
    if !allowed {
        stored::delete_template_draft(&mut tx, draft_id).await?;
        tx.commit().await?;
        return Ok(Saved::NotAllowed);
    }
    let body = draft.body.as_deref().unwrap_or_default();
    let Some((draft, version)) =
        stored::commit_template_draft(&mut tx, draft_id, body, now).await?
    else {
        return Ok(Saved::Stale);
    };
    let audit = Audit {
        clinic_id: draft.clinic_id,
        actor: Some(user_id),
        action: "edit",
        subject: Some(format!("text {}", draft.key)),
        detail: Some(format!("{} v{version}", draft.lang)),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Saved::Done { draft, version })
}

/// Cancels an edit; false when there was nothing of this person's to cancel.
pub async fn cancel(store: &Store, draft_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = store.begin().await?;
    let done = match stored::template_draft(&mut tx, draft_id).await? {
        Some(d) if d.user_id == user_id => stored::delete_template_draft(&mut tx, draft_id).await?,
        _ => false,
    };
    tx.commit().await?;
    Ok(done)
}

pub async fn history(
    store: &Store,
    clinic: &Clinic,
    t: &Target,
) -> Result<Vec<TemplateVersion>, sqlx::Error> {
    store
        .template_history(clinic.id, &t.key.to_string(), &t.lang)
        .await
}

fn text_audit(
    clinic: &Clinic,
    actor: i64,
    action: &'static str,
    t: &Target,
    detail: Option<String>,
) -> Audit<'static> {
    Audit {
        clinic_id: clinic.id,
        actor: Some(actor),
        action,
        subject: Some(format!("text {}", t.key)),
        detail,
    }
}

/// Makes an earlier version the text in force again, as a new version.
pub async fn revert(
    store: &Store,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    t: &Target,
    version: i64,
    now: DateTime<Utc>,
) -> Result<Result<i64, Refusal>, sqlx::Error> {
    if !may_change(role) {
        return Ok(Err(Refusal::NotAllowed));
    }
    let key = t.key.to_string();
    let mut tx = store.begin().await?;
    let history = stored::template_history(&mut tx, clinic.id, &key, &t.lang).await?;
    let Some(old) = history.iter().find(|v| v.version == version) else {
        return Ok(Err(Refusal::UnknownVersion {
            key,
            lang: t.lang.clone(),
            version,
        }));
    };
    // A version saved under other placeholder rules must pass today's check.
    if let Some(body) = &old.body
        && let Err(e) = t.key.check(body)
    {
        return Ok(Err(Refusal::Invalid(e.to_string())));
    }
    let new = stored::save_template_version(
        &mut tx,
        clinic.id,
        &key,
        &t.lang,
        old.body.as_deref(),
        user_id,
        now,
    )
    .await?;
    let detail = Some(format!("{} v{version} as v{new}", t.lang));
    access::record(
        &mut tx,
        text_audit(clinic, user_id, "revert", t, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(new))
}

/// Back to the default from the messages folder (kept as a version, so it can be undone).
pub async fn reset(
    store: &Store,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    t: &Target,
    now: DateTime<Utc>,
) -> Result<Result<Option<i64>, Refusal>, sqlx::Error> {
    if !may_change(role) {
        return Ok(Err(Refusal::NotAllowed));
    }
    let mut tx = store.begin().await?;
    // Already the default (never changed, or reset last): no version that changes nothing.
    let key = t.key.to_string();
    if stored::latest_template_body(&mut tx, clinic.id, &key, &t.lang)
        .await?
        .flatten()
        .is_none()
    {
        return Ok(Ok(None));
    }
    let new = stored::save_template_version(
        &mut tx,
        clinic.id,
        &t.key.to_string(),
        &t.lang,
        None,
        user_id,
        now,
    )
    .await?;
    let detail = Some(format!("{} as v{new}", t.lang));
    access::record(
        &mut tx,
        text_audit(clinic, user_id, "reset", t, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Some(new)))
}

/// The reply texts in a language, for a patient of a clinic (None: no clinic yet).
pub async fn reply_text(
    store: &Store,
    catalog: &Catalog,
    clinic: Option<&Clinic>,
    lang: &str,
    which: Reply,
) -> Result<String, sqlx::Error> {
    let template = Texts::new(store, catalog)
        .reply(clinic.map(|c| c.id), lang, which)
        .await?;
    let clinic_name = clinic.map(|c| c.name.as_str()).unwrap_or("");
    Ok(template.render(&[("clinic_name", clinic_name)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_plain_line() {
        assert_eq!(excerpt("\n<b>Hi</b> &amp; you\nmore", 48), "Hi & you");
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }
}
