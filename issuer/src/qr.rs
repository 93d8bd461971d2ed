//! QR codes of offer links, as SVG and as PNG. The PNG is written here (1-bit grayscale,
//! zlib through flate2) rather than pulling an image library in.

use flate2::Compression;
use flate2::write::ZlibEncoder;
use qrcode::{Color, EcLevel, QrCode};
use std::io::Write;

const QUIET_ZONE: usize = 4;

fn code(text: &str) -> Option<QrCode> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()
}

pub fn svg(text: &str) -> Option<String> {
    Some(
        code(text)?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build(),
    )
}

/// A PNG with `scale` pixels per module and a quiet zone of four modules.
pub fn png(text: &str, scale: usize) -> Option<Vec<u8>> {
    let code = code(text)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * scale;
    let row_bytes = side.div_ceil(8);
    let mut raw = Vec::with_capacity((row_bytes + 1) * side);
    for y in 0..side {
        raw.push(0); // filter: none
        let my = (y / scale).checked_sub(QUIET_ZONE);
        let mut byte = 0u8;
        for x in 0..side {
            let mx = (x / scale).checked_sub(QUIET_ZONE);
            let dark = matches!((mx, my), (Some(mx), Some(my)) if mx < modules && my < modules && colors[my * modules + mx] == Color::Dark);
            // 1-bit grayscale: 1 is white.
            if !dark {
                byte |= 0x80 >> (x % 8);
            }
            if x % 8 == 7 || x + 1 == side {
                raw.push(byte);
                byte = 0;
            }
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(&raw).ok()?;
    let idat = z.finish().ok()?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // bit depth 1, grayscale, deflate, no filter, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr), (b"IDAT", &idat), (b"IEND", &Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        png.extend_from_slice(&crc.sum().to_be_bytes());
    }
    Some(png)
}

#[cfg(test)]
mod tests {
    #[test]
    fn png_and_svg() {
        let link = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fcentre.example%2Forgs%2Fo%2Foffers%2Fabc";
        let png = super::png(link, 4).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(
            png.ends_with(&[0xAE, 0x42, 0x60, 0x82]),
            "IEND with its CRC"
        );
        let svg = super::svg(link).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
