//! `/timing`: the clinic's course with each step's offset; owners and admins move a step
//! or switch it off. New enrollments follow at once; patients already enrolled keep
//! their schedule unless the button `tim:apply:<change>` is pressed.

use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html::escape;

use crate::domain::html::escape_with_code;

use super::templates::{STAFF_ONLY, clinic_and_role};
use super::{Ctx, Deps};
use crate::service::timing::{self as svc, Applied};

pub async fn timing(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, role)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let deps = ctx.deps;
    if args.trim().is_empty() {
        let lines = svc::overview(&deps.store, &deps.catalog, clinic).await?;
        let mut text = format!(
            "<b>Course timing at {}</b> (after the session, clinic time; ✏️ = changed by your clinic)\n",
            escape(&clinic.name)
        );
        for l in &lines {
            let title = deps
                .catalog
                .step(&clinic.default_lang, &clinic.default_plan, &l.step_id)
                .map(|w| escape(&w.title))
                .unwrap_or_default();
            text.push_str(&format!(
                "\n{}<code>{}</code> · {} · {}",
                if l.changed { "✏️ " } else { "" },
                l.step_id,
                l.timing.as_deref().unwrap_or("off"),
                title
            ));
        }
        text.push_str("\n\nChange one by typing it as shown: /timing makeup-ok 36h · /timing sun-morning 2d at 10:00 · /timing activities off · /timing activities default");
        return ctx.reply(text).await;
    }
    let now = deps.clock.now();
    let changed = match svc::change(
        &deps.store,
        &deps.catalog,
        clinic,
        role,
        ctx.user_id(),
        args,
        now,
    )
    .await?
    {
        Ok(c) => c,
        Err(why) => return ctx.reply(escape_with_code(&why)).await,
    };
    let what = svc::effect(&changed.timing);
    let mut text = format!(
        "<code>{}</code> {what} for patients enrolled from now on.",
        changed.step_id
    );
    if let Some(warning) = &changed.warning {
        text.push_str(&format!("\n\n⚠️ {warning}"));
    }
    if changed.pending == 0 {
        return ctx.reply(text).await;
    }
    text.push_str(&format!(
        "\n\n{} still {} this step ahead of them and {} their schedule, unless you apply the change to them too.",
        enrolled_patients(changed.pending as i64),
        if changed.pending == 1 { "has" } else { "have" },
        if changed.pending == 1 { "keeps" } else { "keep" },
    ));
    let markup = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        "Apply to enrolled patients",
        format!("tim:apply:{}", changed.timing_id),
    )]]);
    ctx.reply_with_buttons(text, markup).await
}

/// `tim:apply:<change>`; returns the answer to show.
pub async fn on_button(
    q: &CallbackQuery,
    rest: &str,
    deps: &Deps,
) -> anyhow::Result<Option<String>> {
    let Some(id) = rest
        .strip_prefix("apply:")
        .and_then(|i| i.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let now = deps.clock.now();
    match deps.woken(svc::apply_to_enrolled(&deps.store, &deps.catalog, id, user, now).await?) {
        Applied::Done { step_id, moved } => {
            super::templates::remove_buttons(deps, q);
            deps.answer(
                user,
                format!(
                    "Done: <code>{}</code> re-planned for {}.",
                    escape(&step_id),
                    enrolled_patients(moved as i64)
                ),
            );
            Ok(Some("Applied".into()))
        }
        Applied::AlreadyApplied { step_id } => {
            super::templates::remove_buttons(deps, q);
            Ok(Some(format!(
                "Already applied: {step_id} was re-planned once, nothing changed."
            )))
        }
        Applied::NotAllowed => Ok(Some(
            "Only the clinic's owner and admins can change the timing.".into(),
        )),
        Applied::Stale => Ok(None),
    }
}

/// "1 enrolled patient", "3 enrolled patients".
fn enrolled_patients(n: i64) -> String {
    format!("{n} enrolled patient{}", if n == 1 { "" } else { "s" })
}
