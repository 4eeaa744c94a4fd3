//! QR code pictures of links, for staff to show on a screen at the front desk.

use image::{ImageFormat, Luma};
use qrcode::QrCode;

/// A PNG of `text` as a QR code, or `None` if it cannot be encoded.
pub fn png(text: &str) -> Option<Vec<u8>> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let img = code.render::<Luma<u8>>().min_dimensions(360, 360).build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_a_png() {
        let png = super::png("https://t.me/bot?start=abc").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
