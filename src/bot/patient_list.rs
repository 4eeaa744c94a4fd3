//! `/patients [name]`: the clinic's patients a page at a time, with Prev/Next buttons
//! (`pl:<page>[:<name>]`) that turn the page in place, and a search by name.

use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html::escape;

use super::staff::active_clinic;
use super::{Ctx, Deps};
use crate::outbox::{Lane, Outgoing};
use crate::render::local_when;
use crate::store::{Clinic, PatientListing, from_millis};

/// Patients per page: a page stays well inside Telegram's 4096 characters.
const PAGE: i64 = 20;
/// Telegram's limit on a button's data.
const MAX_BUTTON_DATA: usize = 64;

pub async fn patients(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = active_clinic(ctx) else {
        return ctx
            .reply("Only clinic staff can list patients.".into())
            .await;
    };
    let query = args.trim();
    let (text, buttons) = page(ctx.deps, clinic, query, 0).await?;
    match buttons {
        Some(b) => ctx.reply_with_buttons(text, b).await,
        None => ctx.reply(text).await,
    }
}

/// A Prev/Next press: the same message shows the other page.
pub async fn on_page_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let (number, query) = rest.split_once(':').unwrap_or((rest, ""));
    let Ok(number) = number.parse::<i64>() else {
        return Ok(None);
    };
    let Some(message) = &q.message else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let memberships = deps.store.memberships(user).await?;
    let Some((clinic, _)) = memberships.first() else {
        return Ok(Some("This is for clinic staff.".into()));
    };
    let (text, buttons) = page(deps, clinic, query, number.max(0)).await?;
    let mut edit = Outgoing::edit(message.chat().id.0, message.id().0, text).in_lane(Lane::Answer);
    if let Some(b) = buttons {
        edit = edit.with_buttons(b);
    }
    deps.outbox.send(edit);
    Ok(Some(format!("Page {}", number.max(0) + 1)))
}

/// Page `number` (from 0) of the list, or of the search for `query`, with its buttons.
async fn page(
    deps: &Deps,
    clinic: &Clinic,
    query: &str,
    number: i64,
) -> anyhow::Result<(String, Option<InlineKeyboardMarkup>)> {
    let store = &deps.store;
    let offset = number * PAGE;
    let (rows, total) = if query.is_empty() {
        let total = store.count_patients(clinic.id).await?;
        (store.list_patients(clinic.id, offset, PAGE).await?, total)
    } else {
        let found = store.search_patients(clinic.id, query).await?;
        let total = found.len() as i64;
        let rows = found
            .into_iter()
            .skip(offset as usize)
            .take(PAGE as usize)
            .collect();
        (rows, total)
    };
    if total == 0 {
        let text = if query.is_empty() {
            "No patients yet. Enroll one with /enroll Anna Berg".to_string()
        } else {
            format!(
                "No patient's name contains “{}”. /patients lists them all.",
                escape(query)
            )
        };
        return Ok((text, None));
    }
    let heading = if query.is_empty() {
        format!("<b>Patients of {}</b>", escape(&clinic.name))
    } else {
        format!("<b>Patients named “{}”</b>", escape(query))
    };
    let shown_to = (offset + rows.len() as i64).min(total);
    let mut text = if total > PAGE {
        format!("{heading} ({}–{shown_to} of {total})\n", offset + 1)
    } else {
        format!("{heading}\n")
    };
    let tz = clinic.tz();
    // The course only where there is a choice of courses.
    let courses = crate::service::courses::listed(store, &deps.catalog, clinic).await?;
    for r in &rows {
        let course = (courses.len() > 1).then(|| super::courses::course_label(&courses, &r.plan));
        text.push('\n');
        text.push_str(&line(r, tz, course.as_deref()));
    }
    if rows.is_empty() {
        text.push_str("\nNo more patients on this page.");
    }
    let data = |n: i64| {
        let d = format!("pl:{n}:{query}");
        (d.len() <= MAX_BUTTON_DATA).then_some(d)
    };
    let mut row = Vec::new();
    if number > 0
        && let Some(d) = data(number - 1)
    {
        row.push(InlineKeyboardButton::callback("‹ Prev", d));
    }
    if offset + PAGE < total
        && let Some(d) = data(number + 1)
    {
        row.push(InlineKeyboardButton::callback("Next ›", d));
    }
    let buttons = (!row.is_empty()).then(|| InlineKeyboardMarkup::new([row]));
    if buttons.is_none() && total > PAGE {
        text.push_str("\n\nNarrow it down with /patients &lt;part of a name&gt;.");
    }
    Ok((text, buttons))
}

/// One patient: number, name, status, course (where there is a choice), next reminder.
fn line(r: &PatientListing, tz: chrono_tz::Tz, course: Option<&str>) -> String {
    let next = match r.next_due {
        Some(t) => format!(
            "next {}",
            local_when("en", &from_millis(t).with_timezone(&tz))
        ),
        None => "nothing planned".into(),
    };
    let name = if r.name.is_empty() {
        crate::outbox::staff_alerts::ERASED.to_string()
    } else {
        escape(&r.name)
    };
    let course = course
        .map(|c| format!(" · {}", escape(c)))
        .unwrap_or_default();
    // A course a newer link of this clinic took over is not one staff stopped.
    let status = match r.replaced_by {
        Some(by) => format!("replaced by #{by}"),
        None => r.status.label().to_string(),
    };
    format!("#{} {name} · {status}{course} · {next}", r.id)
}
