//! Test images made in code: valid PNG, JPEG (with an EXIF orientation) and WebP, and the
//! hostile or broken uploads an avatar endpoint must refuse.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// A `width` × `height` picture with a gradient, so resizing has something to do.
pub fn picture(width: u32, height: u32) -> DynamicImage {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        Rgb([u8::try_from(x % 256).expect("byte"), u8::try_from(y % 256).expect("byte"), 128])
    });
    DynamicImage::ImageRgb8(pixels)
}

pub fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), format).expect("encode test image");
    bytes
}

/// A PNG carrying a `tEXt` chunk, which the stored avatar must not keep.
pub fn png_with_text(width: u32, height: u32) -> Vec<u8> {
    let png = encode(&picture(width, height), ImageFormat::Png);
    let iend = png.len() - 12;
    [&png[..iend], &chunk(*b"tEXt", b"Comment\0secret"), &png[iend..]].concat()
}

/// A JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6).
pub fn jpeg_rotated(width: u32, height: u32) -> Vec<u8> {
    let jpeg = encode(&picture(width, height), ImageFormat::Jpeg);
    // TIFF big-endian header, one IFD entry: Orientation (0x0112), SHORT, count 1, value 6.
    let tiff: &[u8] = &[
        b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0,
    ];
    let payload = [&b"Exif\0\0"[..], tiff].concat();
    let length = u16::try_from(payload.len() + 2).expect("short").to_be_bytes();
    [&jpeg[..2], &[0xFF, 0xE1], &length, &payload, &jpeg[2..]].concat()
}

/// A structurally complete PNG declaring 20000 × 20000 pixels: 1.2 GB once decoded.
pub fn png_bomb() -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&20_000u32.to_be_bytes());
    header.extend_from_slice(&20_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    // A tiny zlib stream (an empty stored block): the data never gets that far.
    let idat = [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01];
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &chunk(*b"IHDR", &header),
        &chunk(*b"IDAT", &idat),
        &chunk(*b"IEND", &[]),
    ]
    .concat()
}

/// One PNG chunk with its CRC.
fn chunk(kind: [u8; 4], data: &[u8]) -> Vec<u8> {
    let length = u32::try_from(data.len()).expect("small chunk").to_be_bytes();
    let crc = crc32(&[&kind[..], data].concat()).to_be_bytes();
    [&length[..], &kind, data, &crc].concat()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The chunk types of a PNG, in order.
pub fn png_chunk_types(png: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let length = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
        types.push(String::from_utf8_lossy(&png[at + 4..at + 8]).into_owned());
        at += 12 + usize::try_from(length).expect("fits");
    }
    types
}
