//! /stats in words and as a picture: pure, from the figures the store read.

/// One week of the period (the last may be shorter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Week {
    pub enrolled: i64,
    pub delivered: i64,
    pub skipped: i64,
}

/// A clinic's figures for `[since, until]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClinicStats {
    /// Oldest first.
    pub weeks: Vec<Week>,
    /// Enrolled in the period and stopped since (by /stop, or erased).
    pub stopped: i64,
    /// Check-in messages sent in the period, and how many of those were answered.
    pub checkins_sent: i64,
    pub checkins_answered: i64,
    /// Alerts raised in the period, and for those handled, how long each took (ms).
    pub alerts: i64,
    pub handled_after_ms: Vec<i64>,
}

impl ClinicStats {
    pub fn enrolled(&self) -> i64 {
        self.weeks.iter().map(|w| w.enrolled).sum()
    }
    pub fn delivered(&self) -> i64 {
        self.weeks.iter().map(|w| w.delivered).sum()
    }
    pub fn skipped(&self) -> i64 {
        self.weeks.iter().map(|w| w.skipped).sum()
    }
}

/// The middle value of sorted `values` (the mean of the two middle ones for an even count).
pub fn median(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// "45 min", "3 h 10 min", "2 d 4 h".
pub fn span(ms: i64) -> String {
    let min = ms / 60_000;
    match min {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d {} h", m / (24 * 60), (m / 60) % 24),
    }
}

/// The caption (HTML; `clinic` escaped by the caller).
pub fn summary(clinic: &str, days: i64, s: &ClinicStats) -> String {
    let rate = if s.checkins_sent > 0 {
        format!(
            "{} of {} ({}%)",
            s.checkins_answered,
            s.checkins_sent,
            s.checkins_answered * 100 / s.checkins_sent
        )
    } else {
        "none sent".to_string()
    };
    let handled = s.handled_after_ms.len();
    let median = median(&s.handled_after_ms)
        .map(|m| format!(", median time to Handled {}", span(m)))
        .unwrap_or_default();
    let weekly = s
        .weeks
        .iter()
        .map(|w| w.enrolled.to_string())
        .collect::<Vec<_>>()
        .join(" · ");
    format!(
        "<b>{clinic}: the last {days} days</b>\n\
         Patients enrolled: {} (per week: {weekly})\n\
         Stopped since: {}\n\
         Course messages delivered: {}, skipped: {}\n\
         Check-ins answered: {rate}\n\
         Alerts: {}, handled: {handled}{median}\n\
         Chart: patients enrolled (blue), messages delivered (green) and skipped (grey) per week, oldest left.",
        s.enrolled(),
        s.stopped,
        s.delivered(),
        s.skipped(),
        s.alerts,
    )
}

/// A bar chart of the weeks: two panels, patients enrolled on top; messages delivered
/// and skipped below. Drawn with `image` (no fonts needed: the caption says what is what).
pub fn chart_png(s: &ClinicStats) -> Option<Vec<u8>> {
    use image::{Rgb, RgbImage};
    const W: u32 = 640;
    const H: u32 = 400;
    const PAD: u32 = 20;
    let mut img = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
    let weeks = s.weeks.len().max(1) as u32;
    let slot = (W - 2 * PAD) / weeks;
    let panel_h = (H - 3 * PAD) / 2;
    let mut bar = |x0: u32, width: u32, base: u32, height: u32, color: [u8; 3]| {
        for x in x0..(x0 + width).min(W) {
            for y in base.saturating_sub(height)..base {
                img.put_pixel(x, y, Rgb(color));
            }
        }
    };
    let enrolled_max = s.weeks.iter().map(|w| w.enrolled).max().unwrap_or(0).max(1);
    let messages_max = s
        .weeks
        .iter()
        .map(|w| w.delivered.max(w.skipped))
        .max()
        .unwrap_or(0)
        .max(1);
    let top_base = PAD + panel_h;
    let bottom_base = 2 * PAD + 2 * panel_h;
    let scale = |n: i64, max: i64| (n.max(0) as u64 * panel_h as u64 / max as u64) as u32;
    for (i, w) in s.weeks.iter().enumerate() {
        let x = PAD + i as u32 * slot;
        let inner = slot.saturating_sub(8).max(2);
        bar(
            x + 4,
            inner,
            top_base,
            scale(w.enrolled, enrolled_max),
            [52, 101, 164],
        );
        let half = (inner / 2).max(1);
        bar(
            x + 4,
            half,
            bottom_base,
            scale(w.delivered, messages_max),
            [78, 154, 6],
        );
        bar(
            x + 4 + half,
            half,
            bottom_base,
            scale(w.skipped, messages_max),
            [160, 160, 160],
        );
    }
    // Base lines.
    for x in PAD..W - PAD {
        img.put_pixel(x, top_base, Rgb([0, 0, 0]));
        img.put_pixel(x, bottom_base, Rgb([0, 0, 0]));
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_none() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[1, 3, 10]), Some(3));
        assert_eq!(median(&[20, 40]), Some(30));
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(30 * 60_000), "30 min");
        assert_eq!(span(190 * 60_000), "3 h 10 min");
        assert_eq!(span((52 * 60) * 60_000), "2 d 4 h");
    }

    #[test]
    fn the_chart_is_a_png() {
        let s = ClinicStats {
            weeks: vec![
                Week {
                    enrolled: 2,
                    delivered: 9,
                    skipped: 1,
                },
                Week::default(),
            ],
            ..Default::default()
        };
        let png = chart_png(&s).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
