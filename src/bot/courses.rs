//! `/courses` and `/course`: the clinic's courses (treatments). Everyone on the staff
//! may look; owners and admins create and change them (also as files: `course_files`). Texts are edited with
//! `/edit course.<course>.<step> [lang]`. The button `crs:pick:<patient>:<course>`
//! moves a patient just enrolled to another course before they open their link.

use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html::escape;

use super::templates::{STAFF_ONLY, clinic_and_role};
use super::{Ctx, Deps};
use crate::course_file::course_key;
use crate::domain::html::escape_with_code;
use crate::service::courses::{self as svc, Listed};
use crate::store::Clinic;

/// The /course usage, also the answer to `/course` alone.
pub const USAGE: &str = "<b>Courses</b>\n\
/courses · all courses\n\
/course &lt;course&gt; · its steps and texts\n\
/course new \"Chemical peel\" [from microneedling] · a new course, empty or a copy\n\
/course step &lt;course&gt; add &lt;step&gt; &lt;after&gt; [at HH:MM] [expires 12h] [checkin|all-clear|photo]\n\
/course step &lt;course&gt; set &lt;step&gt; [&lt;after&gt;] [at HH:MM|at -] [expires 12h|expires -] [message|checkin|all-clear|photo]\n\
A photo step asks the patient for a photo of the treated area; /photos #12 shows what came.\n\
/course step &lt;course&gt; remove &lt;step&gt; · rename &lt;step&gt; &lt;new&gt;\n\
/course gap &lt;course&gt; 4w|off · least time between two sessions\n\
/course default &lt;course&gt; · new patients get it unless another is named\n\
/course export &lt;course&gt; · the course as a file, <code>&lt;course&gt;.toml</code>\n\
Send me a <code>.toml</code> course file (as /course export gives it) to change that course or make a new one: I check it, show what it changes, and save it when you press Save.\n\
Texts: /edit course.&lt;course&gt;.&lt;step&gt; [lang]";

pub async fn list(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some((clinic, _)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let all = svc::listed(&ctx.deps.store, &ctx.deps.catalog, clinic).await?;
    let mut text = format!(
        "<b>Courses at {}</b> (⭐ = default)\n",
        escape(&clinic.name)
    );
    for c in &all {
        text.push_str(&format!(
            "\n{}<code>{}</code> · {} · {} steps{}{}",
            if c.is_default { "⭐ " } else { "" },
            c.key,
            escape(&c.name),
            c.steps,
            c.min_gap
                .map(|g| format!(" · gap {}", svc::duration_text(g)))
                .unwrap_or_default(),
            if c.own { "" } else { " · comes with the bot" },
        ));
    }
    text.push_str("\n\nOne course: /course &lt;course&gt; · all commands: /course");
    ctx.reply(text).await
}

pub async fn course(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, role)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let deps = ctx.deps;
    let now = deps.clock.now();
    let args = args.trim();
    let (verb, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let rest = rest.trim();
    let answer = match verb.to_ascii_lowercase().as_str() {
        "" => USAGE.to_string(),
        "new" => {
            match svc::create(
                &deps.store,
                &deps.catalog,
                clinic,
                role,
                ctx.user_id(),
                rest,
                now,
            )
            .await?
            {
                Ok(c) => {
                    tracing::info!(clinic = clinic.id, course = c.course.id, "course created");
                    format!(
                        "Course “{}” (<code>{}</code>) {} with {} steps.\n\n{}",
                        escape(c.course.name()),
                        c.course.key,
                        c.what,
                        c.course.checked.plan.steps.len(),
                        steps_and_texts(ctx, clinic, &c.course.key).await?
                    )
                }
                Err(why) => why,
            }
        }
        "step" | "gap" => {
            // `/course gap peel 4w` is the change `gap 4w` of course `peel`.
            let args = if verb.eq_ignore_ascii_case("gap") {
                let (typed, gap) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                format!("{typed} gap {}", gap.trim())
            } else {
                rest.to_string()
            };
            match svc::change(
                &deps.store,
                &deps.catalog,
                clinic,
                role,
                ctx.user_id(),
                &args,
                now,
            )
            .await?
            {
                Ok(c) => {
                    tracing::info!(
                        clinic = clinic.id,
                        course = c.course.id,
                        version = c.course.version,
                        "course changed"
                    );
                    format!(
                        "“{}”: {} (version {}). Patients already on the course keep their times.\n\n{}",
                        escape(c.course.name()),
                        c.what.replace("&lt;course&gt;", &c.course.key),
                        c.course.version,
                        steps_and_texts(ctx, clinic, &c.course.key).await?
                    )
                }
                Err(why) => why,
            }
        }
        "export" => return super::course_files::export(ctx, clinic, role, rest).await,
        "default" => {
            match svc::make_default(
                &deps.store,
                &deps.catalog,
                clinic,
                role,
                ctx.user_id(),
                rest,
                now,
            )
            .await?
            {
                Ok(name) => format!(
                    "New patients get “{}” unless /enroll names another course.",
                    escape(&name)
                ),
                Err(why) => why,
            }
        }
        _ => steps_and_texts(ctx, clinic, args).await?,
    };
    ctx.reply(answer).await
}

/// A course as staff check it: each step with its timing, kind and title, and which
/// languages have a text (the preview of what patients get).
async fn steps_and_texts(ctx: &Ctx<'_>, clinic: &Clinic, typed: &str) -> anyhow::Result<String> {
    let deps = ctx.deps;
    let (found, plan, own) = match svc::show(&deps.store, &deps.catalog, clinic, typed).await? {
        Ok(x) => x,
        Err(why) => return Ok(why),
    };
    let titles = svc::titles(
        &deps.store,
        &deps.catalog,
        clinic.id,
        &clinic.default_lang,
        &found.plan_ref,
    )
    .await?;
    let mut text = format!(
        "<b>{}</b> (<code>{}</code>){}{}\n",
        escape(&found.name),
        found.key,
        if found.is_default { " ⭐ default" } else { "" },
        found
            .min_gap
            .map(|g| format!(" · gap {}", svc::duration_text(g)))
            .unwrap_or_default()
    );
    if plan.steps.is_empty() {
        text.push_str(&format!(
            "\nNo steps yet. Add one: /course step {} add day1 1d at 09:00",
            found.key
        ));
    }
    for s in &plan.steps {
        let kind = if s.checkin {
            " · check-in"
        } else if s.all_clear {
            " · all-clear"
        } else if s.photo {
            " · 📷 photo"
        } else {
            ""
        };
        let langs = match &own {
            Some(c) => c
                .checked
                .file
                .step(&s.id)
                .map(|f| {
                    let mut langs: Vec<String> = f.texts.keys().cloned().collect();
                    let base = crate::catalog::BASE_LANG.to_string();
                    if c.saved_texts.contains(&f.id) && !langs.contains(&base) {
                        langs.push(base);
                        langs.sort();
                    }
                    if langs.is_empty() {
                        "⚠️ no text yet".to_string()
                    } else {
                        langs.join(", ")
                    }
                })
                .unwrap_or_default(),
            None => String::new(),
        };
        text.push_str(&format!(
            "\n<code>{}</code> · {}{}{} · {}{}",
            s.id,
            match s.at {
                Some(at) => format!(
                    "{} at {}",
                    svc::after_text(s.after, true),
                    at.format("%H:%M")
                ),
                None => svc::after_text(s.after, false),
            },
            s.expires
                .map(|e| format!(" (expires {})", svc::duration_text(e)))
                .unwrap_or_default(),
            kind,
            titles.get(&s.id).map(|t| escape(t)).unwrap_or_default(),
            if langs.is_empty() {
                String::new()
            } else {
                format!(" [{langs}]")
            }
        ));
    }
    if let Some(c) = &own {
        if let Some(why) = svc::not_ready(c) {
            text.push_str(&format!("\n\n{}", escape_with_code(&why)));
        }
        text.push_str(&format!(
            "\n\nTexts: /edit course.{}.&lt;step&gt; [lang] · version {}",
            c.key, c.version
        ));
    } else {
        text.push_str("\n\nComes with the bot: /timing and /edit step.&lt;step&gt; change it for your clinic.");
    }
    Ok(text)
}

/// After an enrolment without a named course, at a clinic with several: buttons to
/// move the patient to another course before they open their link.
pub fn pick_buttons(
    patient_id: i64,
    all: &[Listed],
    current: &str,
) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = all
        .iter()
        .filter(|c| c.plan_ref != current)
        .map(|c| {
            vec![InlineKeyboardButton::callback(
                c.name.clone(),
                format!("crs:pick:{patient_id}:{}", c.key),
            )]
        })
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// `crs:pick:<patient>:<course>`.
pub async fn on_button(
    q: &CallbackQuery,
    rest: &str,
    deps: &Deps,
) -> anyhow::Result<Option<String>> {
    let Some(("pick", rest)) = rest.split_once(':') else {
        return Ok(None);
    };
    let Some((patient, key)) = rest.split_once(':') else {
        return Ok(None);
    };
    let Ok(patient_id) = patient.parse::<i64>() else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let memberships = deps.store.memberships(user).await?;
    // Anyone who may enroll may pick the course of a patient they enrolled.
    let Some((clinic, _)) = memberships.first() else {
        return Ok(None);
    };
    let now = deps.clock.now();
    let answer = match svc::pick_for_patient(
        &deps.store,
        &deps.catalog,
        clinic,
        user,
        patient_id,
        key,
        now,
    )
    .await?
    {
        Ok(name) => {
            let text = format!("Patient #{patient_id} is now on “{}”.", escape(&name));
            deps.answer(user, text);
            format!("Course: {name}")
        }
        Err(why) => {
            deps.answer(user, why.clone());
            crate::domain::html::to_plain(&why)
        }
    };
    Ok(Some(answer))
}

/// The course a patient's plan names, for staff lists: its name.
pub fn course_label(all: &[Listed], plan_ref: &str) -> String {
    all.iter()
        .find(|c| c.plan_ref == plan_ref)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| course_key(plan_ref).unwrap_or(plan_ref).to_string())
}
