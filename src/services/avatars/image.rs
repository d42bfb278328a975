//! Turning untrusted upload bytes into a small, clean PNG: the bytes decide the format (never
//! the declared type or file name), the decoder runs under limits, EXIF orientation is applied,
//! the image is shrunk to fit and re-encoded, which drops every metadata chunk it carried.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::container;

/// Longest side accepted, before any allocation for pixels happens.
const MAX_SIDE: u32 = 8192;
/// The most a decoder may allocate for one image (pixels included). 64 MiB admits a 4096 ×
/// 4096 RGBA photo; larger would let two concurrent decodes break the memory budget.
const MAX_DECODER_ALLOC: u64 = 64 * 1024 * 1024;

/// Why bytes are not an acceptable avatar, in words a client may see.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct InvalidImage(pub &'static str);

/// A re-encoded avatar.
#[derive(Debug)]
pub struct ProcessedImage {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Decodes `bytes` as PNG, JPEG or WebP and re-encodes them as a PNG fitting `size` × `size`.
/// CPU-bound: run it on the image pool, never on the async runtime.
pub fn process(bytes: &[u8], size: u32) -> Result<ProcessedImage, InvalidImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| InvalidImage("the upload could not be read"))?;
    let format = reader.format().ok_or(InvalidImage("not a PNG, JPEG or WebP image"))?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) {
        return Err(InvalidImage("not a PNG, JPEG or WebP image"));
    }
    if !container::ends_exactly(format, bytes) {
        return Err(InvalidImage("the image is truncated or followed by other data"));
    }
    reader.limits(limits());
    let image = decode(reader)?;
    let image = if image.width() > size || image.height() > size {
        image.thumbnail(size, size)
    } else {
        image
    };
    encode_png(&image)
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    limits
}

fn decode(reader: ImageReader<Cursor<&[u8]>>) -> Result<DynamicImage, InvalidImage> {
    let too_large =
        InvalidImage("the image is larger than 8192 pixels a side or too large to decode");
    let mut decoder = reader.into_decoder().map_err(|error| match error {
        image::ImageError::Limits(_) => too_large.clone(),
        _ => InvalidImage("the image could not be decoded"),
    })?;
    // Checked before a pixel buffer exists, so a decompression bomb costs nothing.
    if decoder.total_bytes() > MAX_DECODER_ALLOC {
        return Err(too_large);
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|_| InvalidImage("the image could not be decoded"))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image)
}

/// PNG, 8 bits per channel, alpha only when the source had it; `image` writes no metadata.
fn encode_png(image: &DynamicImage) -> Result<ProcessedImage, InvalidImage> {
    let normalised = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut bytes = Vec::new();
    normalised
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|_| InvalidImage("the image could not be re-encoded"))?;
    Ok(ProcessedImage { content_type: "image/png", bytes })
}
