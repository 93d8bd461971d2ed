//! Reading an offer's QR code from a photo: what a phone's camera gives a page through a file
//! input (`capture`), on any phone and with no script. JPEG or PNG, checked by their first
//! bytes and their announced size before anything is allocated; the picture is turned grey and
//! brought down to at most `MAX_SIDE` pixels on its long side, then searched for QR codes.
//!
//! Memory is bounded: a picture announcing more than `MAX_PIXELS` (or a side longer than
//! `MAX_DIMENSION`) is refused from its header; a PNG is read row by row and averaged down as
//! it goes (a row and the small result in memory, never the full picture); a JPEG decodes to
//! one grey byte per pixel (`MAX_PIXELS` bytes at most). At most `PARALLEL` pictures are
//! decoded at once ([`read_bounded`]), off the async threads.

use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The largest picture decoded, in pixels: a 12-megapixel phone photo (4,000 × 3,000) with
/// room to spare. A JPEG's grey buffer is one byte per pixel, so 16 MB at most.
const MAX_PIXELS: usize = 16_000_000;
/// The longest side accepted (a row of a PNG is read whole: 4 bytes a pixel at most).
const MAX_DIMENSION: usize = 8192;
/// An interlaced PNG cannot be read row by row: it is decoded whole, so it gets less.
const MAX_INTERLACED_PIXELS: usize = 4_000_000;
/// What the PNG decoder may allocate for itself (rows, inflate window, the interlaced frame).
const PNG_LIMIT_BYTES: usize = 20 * 1024 * 1024;
/// The long side the search works at: a QR code filling a tenth of a photo still has several
/// pixels per module there.
const MAX_SIDE: usize = 1600;
/// Pictures decoded at the same time, over the whole process.
const PARALLEL: usize = 2;
/// How long a photo waits for its turn before the page says to try again.
const WAIT: Duration = Duration::from_secs(10);

static DECODES: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(PARALLEL));

#[derive(Debug, PartialEq, Eq)]
pub enum ScanError {
    /// Neither JPEG nor PNG, or a file that does not decode.
    NotAPicture,
    TooLarge,
    /// A picture, but no QR code could be read in it.
    NoCode,
    /// Too many photos are being read: try again in a moment.
    Busy,
}

/// A grey picture, one byte per pixel, row by row.
struct Grey {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// [`read`], waiting for one of the `PARALLEL` turns and run on a blocking thread.
pub async fn read_bounded(picture: Vec<u8>) -> Result<String, ScanError> {
    // Refused from its header before it waits for a turn.
    announced(&picture)?;
    let permit = tokio::time::timeout(WAIT, DECODES.acquire())
        .await
        .map_err(|_| ScanError::Busy)?
        .map_err(|_| ScanError::Busy)?;
    let read = tokio::task::spawn_blocking(move || read(&picture))
        .await
        .unwrap_or(Err(ScanError::NotAPicture));
    drop(permit);
    read
}

/// The size a picture announces, refused when too large; nothing is decoded.
fn announced(picture: &[u8]) -> Result<(usize, usize), ScanError> {
    let (width, height) = if picture.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let mut decoder = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(picture));
        decoder
            .decode_headers()
            .map_err(|_| ScanError::NotAPicture)?;
        decoder.dimensions().ok_or(ScanError::NotAPicture)?
    } else if picture.starts_with(b"\x89PNG\r\n\x1a\n") {
        // The IHDR chunk comes first: width and height, big-endian, at bytes 16 and 20.
        let be = |at: usize| -> Result<usize, ScanError> {
            let bytes = picture.get(at..at + 4).ok_or(ScanError::NotAPicture)?;
            Ok(u32::from_be_bytes(bytes.try_into().expect("four bytes")) as usize)
        };
        if picture.get(12..16) != Some(b"IHDR") {
            return Err(ScanError::NotAPicture);
        }
        (be(16)?, be(20)?)
    } else {
        return Err(ScanError::NotAPicture);
    };
    check_size(width, height)?;
    Ok((width, height))
}

fn check_size(width: usize, height: usize) -> Result<(), ScanError> {
    if width == 0 || height == 0 {
        return Err(ScanError::NotAPicture);
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION || width.saturating_mul(height) > MAX_PIXELS
    {
        return Err(ScanError::TooLarge);
    }
    Ok(())
}

/// The text of the first QR code found in a JPEG or PNG picture.
pub fn read(picture: &[u8]) -> Result<String, ScanError> {
    announced(picture)?;
    let grey = if picture.starts_with(&[0xFF, 0xD8, 0xFF]) {
        shrink(jpeg(picture)?)
    } else {
        png(picture)?
    };
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
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(MAX_DIMENSION)
        .set_max_height(MAX_DIMENSION);
    let mut decoder =
        zune_jpeg::JpegDecoder::new_with_options(std::io::Cursor::new(bytes), options);
    decoder
        .decode_headers()
        .map_err(|_| ScanError::NotAPicture)?;
    let (width, height) = decoder.dimensions().ok_or(ScanError::NotAPicture)?;
    check_size(width, height)?;
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

/// A sample's grey: grey (and alpha) as it is, colour by its luma (ITU-R BT.601), alpha aside.
fn luma(p: &[u8]) -> u8 {
    match p {
        [g] | [g, _] => *g,
        [r, g, b, ..] => ((299 * *r as u32 + 587 * *g as u32 + 114 * *b as u32) / 1000) as u8,
        [] => 0,
    }
}

/// A PNG, grey and already brought down to `MAX_SIDE`: read row by row and averaged as it goes
/// (an interlaced one, smaller, is decoded whole first).
fn png(bytes: &[u8]) -> Result<Grey, ScanError> {
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: PNG_LIMIT_BYTES,
        },
    );
    // Any depth and palette become 8-bit grey or colour samples.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| match e {
        png::DecodingError::LimitsExceeded => ScanError::TooLarge,
        _ => ScanError::NotAPicture,
    })?;
    let info = reader.info();
    let (width, height) = (info.width as usize, info.height as usize);
    check_size(width, height)?;
    let channels = reader.output_color_type().0.samples();
    if info.interlaced {
        if width * height > MAX_INTERLACED_PIXELS {
            return Err(ScanError::TooLarge);
        }
        let mut buffer = vec![0; reader.output_buffer_size().ok_or(ScanError::TooLarge)?];
        let frame = reader
            .next_frame(&mut buffer)
            .map_err(|_| ScanError::NotAPicture)?;
        let pixels: Vec<u8> = buffer[..frame.buffer_size()]
            .chunks_exact(channels)
            .map(luma)
            .collect();
        if pixels.len() != width * height {
            return Err(ScanError::NotAPicture);
        }
        return Ok(shrink(Grey {
            width,
            height,
            pixels,
        }));
    }
    let factor = width.max(height).div_ceil(MAX_SIDE).max(1);
    let (out_width, out_height) = (width / factor, height / factor);
    if out_width == 0 || out_height == 0 {
        return Err(ScanError::NoCode);
    }
    let mut sums = vec![0u32; out_width];
    let mut pixels = Vec::with_capacity(out_width * out_height);
    for y in 0..out_height * factor {
        let row = reader
            .next_row()
            .map_err(|_| ScanError::NotAPicture)?
            .ok_or(ScanError::NotAPicture)?;
        let row = row.data();
        if row.len() < width * channels {
            return Err(ScanError::NotAPicture);
        }
        for (x, sample) in row
            .chunks_exact(channels)
            .take(out_width * factor)
            .enumerate()
        {
            sums[x / factor] += luma(sample) as u32;
        }
        if (y + 1) % factor == 0 {
            let area = (factor * factor) as u32;
            pixels.extend(sums.iter().map(|s| (s / area) as u8));
            sums.iter_mut().for_each(|s| *s = 0);
        }
    }
    Ok(Grey {
        width: out_width,
        height: out_height,
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

    #[test]
    fn refuses_huge_pictures_from_their_header() {
        // A valid header announcing 8,000 × 6,000 pixels, and nothing else.
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, 8000, 6000);
            encoder.set_color(png::ColorType::Rgba);
            encoder.write_header().unwrap();
        }
        assert_eq!(read(&out), Err(ScanError::TooLarge));
        let mut out = Vec::new();
        png::Encoder::new(&mut out, 100_000, 10)
            .write_header()
            .unwrap();
        assert_eq!(read(&out), Err(ScanError::TooLarge));
    }
}
