//! Writes the 2-megapixel JPEG `make bench` uploads as an avatar (1632 × 1224, a photo-like
//! gradient with noise, so it compresses like a photo rather than a flat colour).
//!
//! ```sh
//! cargo run --release --example avatar_jpeg -- /tmp/avatar.jpg
//! ```

use image::{ImageFormat, Rgb, RgbImage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: avatar_jpeg <output.jpg>")?;
    let mut state = 0x2545_f491_u32;
    let image = RgbImage::from_fn(1632, 1224, |x, y| {
        // xorshift noise over a gradient
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = state.to_le_bytes()[0] / 8;
        let channel = |value: u32| u8::try_from(value % 224).unwrap_or(0).saturating_add(noise);
        Rgb([channel(x / 7), channel(y / 5), channel((x + y) / 11)])
    });
    image.save_with_format(&path, ImageFormat::Jpeg)?;
    println!("wrote {path}");
    Ok(())
}
