//! Reading an offer's QR code from a photo: what a phone's camera gives a page through a file
//! input (`capture`), on any phone and with no script. JPEG or PNG, checked by their first
//! bytes and their announced size before decoding; the picture is turned grey and brought down
//! to at most `MAX_SIDE` pixels on its long side, then searched for QR codes.

/// The largest picture decoded, in pixels (a 48-megapixel camera's).
const MAX_PIXELS: usize = 50_000_000;
/// The long side the search works at: a QR code filling a tenth of a photo still has several
/// pixels per module there.
const MAX_SIDE: usize = 1600;

#[derive(Debug, PartialEq, Eq)]
pub enum ScanError {
    /// Neither JPEG nor PNG, or a file that does not decode.
    NotAPicture,
    TooLarge,
    /// A picture, but no QR code could be read in it.
    NoCode,
}

/// A grey picture, one byte per pixel, row by row.
struct Grey {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// The text of the first QR code found in a JPEG or PNG picture.
pub fn read(picture: &[u8]) -> Result<String, ScanError> {
    let grey = if picture.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg(picture)?
    } else if picture.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(picture)?
    } else {
        return Err(ScanError::NotAPicture);
    };
    let grey = shrink(grey);
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(grey.width, grey.height, |x, y| {
            grey.pixels[y * grey.width + x]
        });
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .ok_or(ScanError::NoCode)
}

fn jpeg(bytes: &[u8]) -> Result<Grey, ScanError> {
    use zune_jpeg::zune_core::{colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder =
        zune_jpeg::JpegDecoder::new_with_options(std::io::Cursor::new(bytes), options);
    decoder
        .decode_headers()
        .map_err(|_| ScanError::NotAPicture)?;
    let (width, height) = decoder.dimensions().ok_or(ScanError::NotAPicture)?;
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(ScanError::TooLarge);
    }
    let pixels = decoder.decode().map_err(|_| ScanError::NotAPicture)?;
    if pixels.len() != width * height {
        return Err(ScanError::NotAPicture);
    }
    Ok(Grey {
        width,
        height,
        pixels,
    })
}

fn png(bytes: &[u8]) -> Result<Grey, ScanError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Any depth and palette become 8-bit grey or colour samples.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|_| ScanError::NotAPicture)?;
    let info = reader.info();
    let (width, height) = (info.width as usize, info.height as usize);
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(ScanError::TooLarge);
    }
    let mut buffer = vec![0; reader.output_buffer_size().ok_or(ScanError::TooLarge)?];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|_| ScanError::NotAPicture)?;
    let channels = frame.color_type.samples();
    let pixels = buffer[..frame.buffer_size()]
        .chunks_exact(channels)
        .map(|p| match p {
            // Grey, grey and alpha: the grey.
            [g] | [g, _] => *g,
            // Colour: its luma (ITU-R BT.601), alpha aside.
            [r, g, b, ..] => ((299 * *r as u32 + 587 * *g as u32 + 114 * *b as u32) / 1000) as u8,
            [] => 0,
        })
        .collect::<Vec<u8>>();
    if pixels.len() != width * height {
        return Err(ScanError::NotAPicture);
    }
    Ok(Grey {
        width,
        height,
        pixels,
    })
}

/// The picture averaged down by a whole factor until its long side is at most `MAX_SIDE`.
fn shrink(grey: Grey) -> Grey {
    let factor = grey.width.max(grey.height).div_ceil(MAX_SIDE).max(1);
    if factor == 1 {
        return grey;
    }
    let (width, height) = (grey.width / factor, grey.height / factor);
    let mut pixels = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let mut sum = 0u32;
            for dy in 0..factor {
                let row = (y * factor + dy) * grey.width;
                for dx in 0..factor {
                    sum += grey.pixels[row + x * factor + dx] as u32;
                }
            }
            pixels.push((sum / (factor * factor) as u32) as u8);
        }
    }
    Grey {
        width,
        height,
        pixels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `text` as a QR code, `scale` pixels a module, placed in a larger grey picture
    /// (as a photo of a screen would have it).
    fn picture(text: &str, scale: usize, side: usize) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width();
        let colors = code.to_colors();
        let mut pixels = vec![200u8; side * side];
        let offset = (side - (modules + 8) * scale) / 2;
        for y in 0..(modules + 8) * scale {
            for x in 0..(modules + 8) * scale {
                let (mx, my) = ((x / scale).checked_sub(4), (y / scale).checked_sub(4));
                let dark = matches!((mx, my), (Some(mx), Some(my)) if mx < modules && my < modules
                    && colors[my * modules + mx] == qrcode::Color::Dark);
                pixels[(offset + y) * side + offset + x] = if dark { 20 } else { 245 };
            }
        }
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&pixels).unwrap();
        }
        out
    }

    #[test]
    fn reads_an_offer_from_a_picture() {
        let link = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fcentre.example%2Fissuer%2Forgs%2Forg_1%2Foffers%2FAbCdEf0123456789";
        assert_eq!(read(&picture(link, 4, 400)).as_deref(), Ok(link));
        // A large photo is brought down first, and still read.
        assert_eq!(read(&picture(link, 12, 3000)).as_deref(), Ok(link));
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(read(b"GIF89a...."), Err(ScanError::NotAPicture));
        assert_eq!(
            read(b"\xFF\xD8\xFF\xE0 truncated"),
            Err(ScanError::NotAPicture)
        );
        assert_eq!(
            read(b"\x89PNG\r\n\x1a\n truncated"),
            Err(ScanError::NotAPicture)
        );
        let blank = {
            let mut out = Vec::new();
            let mut encoder = png::Encoder::new(&mut out, 64, 64);
            encoder.set_color(png::ColorType::Grayscale);
            encoder
                .write_header()
                .unwrap()
                .write_image_data(&[255; 64 * 64])
                .unwrap();
            out
        };
        assert_eq!(read(&blank), Err(ScanError::NoCode));
    }
}
