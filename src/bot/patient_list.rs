//! `/patients [name]`: the clinic's patients a page at a time, with Prev/Next buttons
//! (`pl:c<clinic>:<page>:<name>`) that turn the page in place, and a search by name.
//! A button names the clinic whose list it is on: someone who works for two clinics
//! and switched with /clinic since still turns the page of the list they look at.

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

/// A Prev/Next press: the same message shows the other page of the same clinic's list.
pub async fn on_page_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let Some(button) = PageButton::decode(rest) else {
        return Ok(None);
    };
    let Some(message) = &q.message else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let memberships = deps.store.memberships(user).await?;
    let clinic = match button.clinic {
        Some(id) => memberships.iter().find(|(c, _)| c.id == id),
        // A button from before buttons named their clinic: unambiguous only for
        // someone who works for one clinic.
        None if memberships.len() == 1 => memberships.first(),
        None => return Ok(None),
    };
    let Some((clinic, _)) = clinic else {
        let why = if memberships.is_empty() {
            "This is for clinic staff."
        } else {
            "This list is of a clinic you no longer work for."
        };
        return Ok(Some(why.into()));
    };
    let number = button.page.max(0);
    let (text, buttons) = page(deps, clinic, &button.query, number).await?;
    let mut edit = Outgoing::edit(message.chat().id.0, message.id().0, text).in_lane(Lane::Answer);
    if let Some(b) = buttons {
        edit = edit.with_buttons(b);
    }
    deps.outbox.send(edit);
    Ok(Some(format!("Page {}", number + 1)))
}

/// A page button's data (after `pl:`): `c<clinic>:<page>:<query>`; buttons sent before
/// the clinic was named read `<page>:<query>`.
#[derive(Debug, PartialEq, Eq)]
struct PageButton {
    clinic: Option<i64>,
    page: i64,
    query: String,
}

impl PageButton {
    fn encode(&self) -> String {
        match self.clinic {
            Some(c) => format!("pl:c{c}:{}:{}", self.page, self.query),
            None => format!("pl:{}:{}", self.page, self.query),
        }
    }

    fn decode(rest: &str) -> Option<PageButton> {
        let (clinic, rest) = match rest.strip_prefix('c') {
            Some(tagged) => {
                let (clinic, rest) = tagged.split_once(':')?;
                (Some(clinic.parse().ok()?), rest)
            }
            None => (None, rest),
        };
        let (page, query) = rest.split_once(':').unwrap_or((rest, ""));
        Some(PageButton {
            clinic,
            page: page.parse().ok()?,
            query: query.to_string(),
        })
    }
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
        let d = PageButton {
            clinic: Some(clinic.id),
            page: n,
            query: query.to_string(),
        }
        .encode();
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

#[cfg(test)]
mod tests {
    use super::PageButton;

    #[test]
    fn page_buttons_name_their_clinic_and_read_back() {
        let b = PageButton {
            clinic: Some(12),
            page: 3,
            query: "berg: 2".into(),
        };
        assert_eq!(b.encode(), "pl:c12:3:berg: 2");
        assert_eq!(PageButton::decode("c12:3:berg: 2"), Some(b));
        // Sent before buttons named the clinic.
        assert_eq!(
            PageButton::decode("2:berg"),
            Some(PageButton {
                clinic: None,
                page: 2,
                query: "berg".into()
            })
        );
        assert_eq!(PageButton::decode("1").map(|b| b.page), Some(1));
        assert_eq!(PageButton::decode("cx:1:"), None);
        assert_eq!(PageButton::decode("next"), None);
    }
}
