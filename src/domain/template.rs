//! Message templates: Telegram HTML with `{placeholder}`s filled in at send time.
//!
//! The template text is trusted markup written by the clinic; every value put into a
//! placeholder comes from a person (a patient's name, a clinic's name) and is escaped.

use std::fmt;

use super::html;

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the text is empty")]
    Empty,
    #[error("unknown placeholder {{{name}}}; this message can use {allowed}")]
    UnknownPlaceholder { name: String, allowed: String },
    #[error("a `{{` without its `}}` (write {{{{ for a literal brace)")]
    Unclosed,
    #[error("markup: {0}")]
    Markup(String),
    #[error("the text is {0} characters once filled in; Telegram allows {max}", max = html::MAX_MESSAGE_LEN)]
    TooLong(usize),
    #[error("this message must contain {{{0}}}{why}", why = super::safety::why_required(.0))]
    MissingPlaceholder(String),
}

/// Values for placeholders; `None` of a name means "leave empty".
pub type Vars<'a> = [(&'a str, &'a str)];

impl Template {
    /// Parses and checks `source`; `allowed` names the placeholders it may use.
    pub fn parse(source: &str, allowed: &[&str]) -> Result<Template, TemplateError> {
        let trimmed = source.trim();
        if trimmed.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = trimmed;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("{{") || rest.starts_with("}}") {
                text.push(c);
                rest = &rest[2..];
            } else if c == '{' {
                let end = rest.find('}').ok_or(TemplateError::Unclosed)?;
                let name = rest[1..end].trim().to_string();
                if !allowed.contains(&name.as_str()) {
                    return Err(TemplateError::UnknownPlaceholder {
                        name,
                        allowed: list(allowed),
                    });
                }
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Var(name));
                rest = &rest[end + 1..];
            } else {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        let template = Template {
            source: trimmed.to_string(),
            parts,
        };
        // Check markup and length with every placeholder filled with a long sample.
        // The bot's safety lines are a few sentences, not a name: they count as such.
        let block = SAMPLE_VALUE.repeat(10);
        let sample: Vec<(&str, &str)> = allowed
            .iter()
            .map(|n| {
                let long = super::safety::SAFETY_PLACEHOLDERS.contains(n);
                (*n, if long { block.as_str() } else { SAMPLE_VALUE })
            })
            .collect();
        let filled = template.render(&sample);
        let len = html::check(&filled).map_err(TemplateError::Markup)?;
        if len > html::MAX_MESSAGE_LEN {
            return Err(TemplateError::TooLong(len));
        }
        Ok(template)
    }

    /// Like `parse`, and each name in `required` must appear: a schedule line without
    /// `{when}` would tell the patient nothing.
    pub fn parse_requiring(
        source: &str,
        allowed: &[&str],
        required: &[&str],
    ) -> Result<Template, TemplateError> {
        let template = Template::parse(source, allowed)?;
        for name in required {
            if !template.uses(name) {
                return Err(TemplateError::MissingPlaceholder((*name).to_string()));
            }
        }
        Ok(template)
    }

    /// Whether the template fills `{name}` somewhere.
    pub fn uses(&self, name: &str) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Var(n) if n == name))
    }

    /// Fills placeholders with HTML-escaped values.
    pub fn render(&self, vars: &Vars<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(name) => {
                    if let Some((_, v)) = vars.iter().find(|(n, _)| n == name) {
                        out.push_str(&html::escape(v));
                    }
                }
            }
        }
        out
    }

    /// Like `render`, but a line that uses a placeholder whose value is empty is left
    /// out: "Call us: {clinic_contact}" disappears for a clinic without a phone number.
    pub fn render_dropping_empty(&self, vars: &Vars<'_>) -> String {
        self.render_dropping_empty_with_html(vars, &[])
    }

    /// Like `render_dropping_empty`, and each of `html` is trusted markup the bot made
    /// itself (the safety lines), put in as it is rather than escaped.
    pub fn render_dropping_empty_with_html(&self, vars: &Vars<'_>, html: &Vars<'_>) -> String {
        let mut out = String::new();
        let mut line = String::new();
        let mut drop = false;
        let flush = |line: &mut String, drop: &mut bool, out: &mut String, newline: bool| {
            if !*drop {
                out.push_str(line);
                if newline {
                    out.push('\n');
                }
            }
            line.clear();
            *drop = false;
        };
        for part in &self.parts {
            match part {
                Part::Text(t) => {
                    for (i, segment) in t.split('\n').enumerate() {
                        if i > 0 {
                            flush(&mut line, &mut drop, &mut out, true);
                        }
                        line.push_str(segment);
                    }
                }
                Part::Var(name) => {
                    if let Some((_, markup)) = html.iter().find(|(n, _)| n == name) {
                        drop |= markup.is_empty();
                        line.push_str(markup);
                        continue;
                    }
                    let value = vars
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| *v)
                        .unwrap_or("");
                    drop |= value.is_empty();
                    line.push_str(&html::escape(value));
                }
            }
        }
        flush(&mut line, &mut drop, &mut out, false);
        out
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// What a placeholder is filled with when checking a template's length: as long as the
/// longest name the bot accepts.
const SAMPLE_VALUE: &str = "Xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

fn list(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        return "no placeholders".into();
    }
    allowed
        .iter()
        .map(|n| format!("{{{n}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALLOWED: &[&str] = &["first_name", "clinic_name"];

    #[test]
    fn renders_and_escapes_values() {
        let t =
            Template::parse("<b>Hi {first_name}</b> from {clinic_name} {{x}}", ALLOWED).unwrap();
        let out = t.render(&[
            ("first_name", "<Anna & \"Bo\">"),
            ("clinic_name", "Glow 🌟"),
        ]);
        assert_eq!(out, "<b>Hi &lt;Anna &amp; \"Bo\"&gt;</b> from Glow 🌟 {x}");
    }

    #[test]
    fn unknown_placeholder_names_the_known_ones() {
        let e = Template::parse("Hi {frist_name}", ALLOWED).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown placeholder {frist_name}; this message can use {first_name}, {clinic_name}"
        );
    }

    #[test]
    fn refuses_bad_templates() {
        assert_eq!(Template::parse("  ", ALLOWED), Err(TemplateError::Empty));
        assert_eq!(
            Template::parse("Hi {first_name", ALLOWED),
            Err(TemplateError::Unclosed)
        );
        assert!(matches!(
            Template::parse("<b>Hi", ALLOWED),
            Err(TemplateError::Markup(_))
        ));
        let long = "a".repeat(4097);
        assert!(matches!(
            Template::parse(&long, ALLOWED),
            Err(TemplateError::TooLong(4097))
        ));
        // Placeholders count at their longest.
        let near = format!("{}{{first_name}}", "a".repeat(4090));
        assert!(matches!(
            Template::parse(&near, ALLOWED),
            Err(TemplateError::TooLong(_))
        ));
    }

    #[test]
    fn a_required_placeholder_must_appear() {
        let allowed = &["when", "title"];
        assert_eq!(
            Template::parse_requiring("{title} soon", allowed, allowed)
                .unwrap_err()
                .to_string(),
            "this message must contain {when}"
        );
        assert!(Template::parse_requiring("<b>{when}</b> {title}", allowed, allowed).is_ok());
    }

    #[test]
    fn lines_with_empty_values_are_left_out() {
        let t = Template::parse("Hi {first_name}\nCall us: {clinic_name}\nBye", ALLOWED).unwrap();
        assert_eq!(
            t.render_dropping_empty(&[("first_name", "Jo"), ("clinic_name", "")]),
            "Hi Jo\nBye"
        );
        assert_eq!(
            t.render_dropping_empty(&[("first_name", "Jo"), ("clinic_name", "1")]),
            "Hi Jo\nCall us: 1\nBye"
        );
    }

    #[test]
    fn trusted_markup_goes_in_as_it_is() {
        let allowed = &["first_name", "warning_signs"];
        let t = Template::parse("Hi {first_name}\n{warning_signs}\nBye", allowed).unwrap();
        assert_eq!(
            t.render_dropping_empty_with_html(
                &[("first_name", "<Jo>")],
                &[("warning_signs", "<b>Call</b>\n☎️ 1")]
            ),
            "Hi &lt;Jo&gt;\n<b>Call</b>\n☎️ 1\nBye"
        );
    }

    #[test]
    fn a_missing_safety_line_says_why() {
        let allowed = &["warning_signs", "urgent_line"];
        let e = Template::parse_requiring("{urgent_line}", allowed, allowed).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "this message must contain {warning_signs}: the bot writes the warning signs"
            ),
            "{e}"
        );
    }

    #[test]
    fn safety_lines_count_long_when_checking_the_length() {
        let allowed = &["warning_signs"];
        let near = format!("{}{{warning_signs}}", "a".repeat(3800));
        assert!(matches!(
            Template::parse(&near, allowed),
            Err(TemplateError::TooLong(_))
        ));
    }

    proptest! {
        #[test]
        fn any_value_renders_to_valid_html(v in "\\PC{0,64}") {
            let t = Template::parse("<i>{first_name}</i>", ALLOWED).unwrap();
            let out = t.render(&[("first_name", &v)]);
            prop_assert!(html::check(&out).is_ok());
            prop_assert_eq!(html::to_plain(&out), v);
        }
    }
}
