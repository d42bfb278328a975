//! Where an image's container ends, read from its own structure: PNG chunks up to `IEND`,
//! JPEG segments and entropy-coded data up to `EOI`, the RIFF length of a WebP. Decoders stop
//! at the image's end and ignore whatever follows, so anything appended (a ZIP, a script) would
//! otherwise ride along unseen; an upload must end exactly where its image does.

use image::ImageFormat;

/// Whether `bytes` hold one complete `format` container and nothing after it.
pub(super) fn ends_exactly(format: ImageFormat, bytes: &[u8]) -> bool {
    let end = match format {
        ImageFormat::Png => png_end(bytes),
        ImageFormat::Jpeg => jpeg_end(bytes),
        ImageFormat::WebP => webp_end(bytes),
        _ => None,
    };
    end == Some(bytes.len())
}

fn be_u32(bytes: &[u8], at: usize) -> Option<usize> {
    let word: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_be_bytes(word)).ok()
}

/// After the 8-byte signature: chunks of length, type, data and CRC, the last one `IEND`.
fn png_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 8;
    loop {
        let length = be_u32(bytes, at)?;
        let kind = bytes.get(at + 4..at + 8)?;
        at = at.checked_add(12)?.checked_add(length)?;
        if at > bytes.len() {
            return None;
        }
        if kind == b"IEND" {
            return Some(at);
        }
    }
}

/// Segments carry their length; a scan (`SOS`) is followed by entropy-coded data in which a
/// `0xFF` is only ever followed by a stuffed zero or a restart marker.
fn jpeg_end(bytes: &[u8]) -> Option<usize> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        while *bytes.get(at + 1)? == 0xFF {
            at += 1; // fill bytes before a marker
        }
        let marker = bytes[at + 1];
        at += 2;
        match marker {
            0xD9 => return Some(at),
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let length = u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]);
                // The length counts its own two bytes.
                at = at.checked_add(usize::from(length.max(2)))?;
                if marker == 0xDA {
                    at = entropy_coded_end(bytes, at)?;
                }
            }
        }
    }
}

fn entropy_coded_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let marker = at + bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        match *bytes.get(marker + 1)? {
            0x00 | 0xD0..=0xD7 => at = marker + 2,
            _ => return Some(marker),
        }
    }
}

/// `RIFF`, a little-endian payload length, then the payload (padded to an even length).
fn webp_end(bytes: &[u8]) -> Option<usize> {
    let word: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let length = usize::try_from(u32::from_le_bytes(word)).ok()?;
    8usize.checked_add(length)?.checked_add(length % 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_with(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in chunks {
            let length = u32::try_from(data.len()).expect("small");
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend_from_slice(*kind);
            bytes.extend_from_slice(data);
            bytes.extend_from_slice(&[0; 4]);
        }
        bytes
    }

    #[test]
    fn a_png_must_end_at_its_iend_chunk() {
        let png = png_with(&[(b"IHDR", &[0; 13]), (b"IEND", &[])]);
        assert!(ends_exactly(ImageFormat::Png, &png));
        let mut trailing = png.clone();
        trailing.extend_from_slice(b"PK\x03\x04");
        assert!(!ends_exactly(ImageFormat::Png, &trailing));
        assert!(!ends_exactly(ImageFormat::Png, &png[..png.len() - 1]));
        assert!(!ends_exactly(ImageFormat::Png, &png_with(&[(b"IHDR", &[0; 13])])));
    }

    #[test]
    fn a_jpeg_must_end_at_its_eoi_marker() {
        let jpeg = [
            &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB][..],
            &[0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56],
            &[0xFF, 0xFF, 0xD9],
        ]
        .concat();
        assert!(ends_exactly(ImageFormat::Jpeg, &jpeg));
        let mut trailing = jpeg.clone();
        trailing.extend_from_slice(&[0xFF, 0xD9]);
        assert!(!ends_exactly(ImageFormat::Jpeg, &trailing));
        assert!(!ends_exactly(ImageFormat::Jpeg, &jpeg[..jpeg.len() - 2]));
    }

    #[test]
    fn a_webp_must_end_where_its_riff_length_says() {
        let webp = [&b"RIFF"[..], &5u32.to_le_bytes(), b"WEBPX", &[0]].concat();
        assert!(ends_exactly(ImageFormat::WebP, &webp));
        assert!(!ends_exactly(ImageFormat::WebP, &[&webp[..], b"junk"].concat()));
        assert!(!ends_exactly(ImageFormat::WebP, &webp[..webp.len() - 1]));
    }
}
