//! The `/usage` chart: tokens per day as blue bars and cost per day as an orange line over 30
//! days, drawn with `plotters` into an RGB buffer of fixed size and encoded as a PNG with `png`.
//! Numbers are drawn with the built-in bitmap font in [`font`]; words go in the caption.

mod font;

use chrono::{Duration, NaiveDate};
use plotters::prelude::*;

use crate::store::DayUsage;

/// Width of the picture in pixels.
pub const WIDTH: u32 = 720;
/// Height of the picture in pixels.
pub const HEIGHT: u32 = 360;
/// Colour of the token bars.
pub const BAR: RGBColor = RGBColor(70, 130, 180);
/// Colour of the cost line.
pub const LINE: RGBColor = RGBColor(220, 90, 30);

const AXIS: RGBColor = RGBColor(120, 120, 120);
const GRID: RGBColor = RGBColor(225, 225, 225);
/// Pixels per font cell.
const SCALE: i32 = 3;
const LEFT: i32 = 60;
const TOP: i32 = 20;
const PLOT_H: i32 = 300;
/// Most days drawn; the plot is this many slots wide.
pub const MAX_DAYS: usize = 30;
const SLOT: i32 = 20;
const RIGHT: i32 = LEFT + SLOT * 30;
const BOTTOM: i32 = TOP + PLOT_H;

/// Why the chart could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters failed to draw into the buffer.
    #[error("drawing the chart: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("encoding the chart: {0}")]
    Encode(#[from] png::EncodingError),
}

fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// Draws `days` (the first on `first_day`, at most [`MAX_DAYS`]; more are left off) and
/// returns the PNG bytes. Days without usage show as zero.
pub fn usage_png(days: &[DayUsage], first_day: NaiveDate) -> Result<Vec<u8>, ChartError> {
    let days = &days[..days.len().min(MAX_DAYS)];
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, days, first_day)?;
        root.present().map_err(draw_err)?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw(root: &Area<'_>, days: &[DayUsage], first_day: NaiveDate) -> Result<(), ChartError> {
    root.fill(&WHITE).map_err(draw_err)?;
    let max_tokens = days.iter().map(|d| d.tokens).max().unwrap_or(0).max(1);
    let max_cost = days.iter().map(|d| d.cost_usd).fold(0.0, f64::max);
    for step in 1..=4 {
        let y = BOTTOM - PLOT_H * step / 4;
        root.draw(&PathElement::new(vec![(LEFT, y), (RIGHT, y)], GRID))
            .map_err(draw_err)?;
    }
    let mut points = Vec::with_capacity(days.len());
    for (i, day) in (0i32..).zip(days) {
        let x = LEFT + i * SLOT;
        let h = bar_height(day.tokens, max_tokens);
        if h > 0 {
            root.draw(&Rectangle::new(
                [(x + 3, BOTTOM - h), (x + SLOT - 3, BOTTOM)],
                BAR.filled(),
            ))
            .map_err(draw_err)?;
        }
        let cost_h = if max_cost > 0.0 {
            scaled(day.cost_usd / max_cost)
        } else {
            0
        };
        points.push((x + SLOT / 2, BOTTOM - cost_h));
    }
    for &p in &points {
        root.draw(&Circle::new(p, 3, LINE.filled()))
            .map_err(draw_err)?;
    }
    root.draw(&PathElement::new(points, LINE.stroke_width(2)))
        .map_err(draw_err)?;
    root.draw(&PathElement::new(
        vec![(LEFT, TOP), (LEFT, BOTTOM), (RIGHT, BOTTOM), (RIGHT, TOP)],
        AXIS,
    ))
    .map_err(draw_err)?;
    let label_y = |y: i32| y - font::GLYPH_H * SCALE / 2;
    // The tops of both scales sit above the plot, at its corners, so long numbers fit.
    let above = TOP - font::GLYPH_H * SCALE - 3;
    text(root, &tokens_label(max_tokens), LEFT, above, BAR, false)?;
    text(root, &cost_label(max_cost), RIGHT, above, LINE, true)?;
    text(root, "0", LEFT - 6, label_y(BOTTOM), AXIS, true)?;
    let last = first_day + Duration::days(i64::try_from(days.len()).unwrap_or(1) - 1);
    let below = BOTTOM + 8;
    text(
        root,
        &first_day.format("%m/%d").to_string(),
        LEFT,
        below,
        AXIS,
        false,
    )?;
    text(
        root,
        &last.format("%m/%d").to_string(),
        RIGHT,
        below,
        AXIS,
        true,
    )?;
    Ok(())
}

/// Height in pixels of a bar for `tokens` when the tallest day has `max` tokens.
fn bar_height(tokens: u64, max: u64) -> i32 {
    #[allow(clippy::cast_precision_loss)]
    scaled(tokens as f64 / max as f64)
}

/// A share of the plot's height (0.0–1.0) in whole pixels.
fn scaled(share: f64) -> i32 {
    #[allow(clippy::cast_possible_truncation)]
    let px = (share.clamp(0.0, 1.0) * f64::from(PLOT_H)).round() as i32;
    px
}

/// Draws `s` with its top at `y`, starting at `x` or (`right_aligned`) ending there.
fn text(
    root: &Area<'_>,
    s: &str,
    x: i32,
    y: i32,
    color: RGBColor,
    right_aligned: bool,
) -> Result<(), ChartError> {
    let left = if right_aligned {
        x - font::width(s) * SCALE
    } else {
        x
    };
    for (cx, cy) in font::cells(s) {
        let (px, py) = (left + cx * SCALE, y + cy * SCALE);
        root.draw(&Rectangle::new(
            [(px, py), (px + SCALE, py + SCALE)],
            color.filled(),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

/// `950`, `12.5k`, `3.2M`.
fn tokens_label(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{}k", trim(f / 1e3)),
        _ => format!("{}M", trim(f / 1e6)),
    }
}

fn trim(f: f64) -> String {
    let s = format!("{f:.1}");
    s.strip_suffix(".0")
        .map_or_else(|| s.clone(), str::to_string)
}

/// `$0.35`, `$0.0042`, `$12.00`.
fn cost_label(usd: f64) -> String {
    if usd >= 0.01 || usd == 0.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info, buf)
    }

    /// Height of day `i`'s bar: from the plot's bottom to the highest pixel of the bar colour
    /// in its slot's column (the cost line may cross the bar, not its top).
    fn bar_height_px(rgb: &[u8], info: &png::OutputInfo, i: i32) -> usize {
        let x = usize::try_from(LEFT + i * SLOT + SLOT / 2 - 4).unwrap();
        let bottom = usize::try_from(BOTTOM).unwrap();
        (0..=bottom)
            .find(|&y| {
                let at = (y * info.width as usize + x) * 3;
                rgb[at..at + 3] == [BAR.0, BAR.1, BAR.2]
            })
            .map_or(0, |top| bottom - top)
    }

    #[test]
    fn the_chart_is_a_png_of_the_fixed_size_and_a_day_with_more_tokens_has_a_taller_bar() {
        let mut days = vec![DayUsage::default(); 30];
        days[3] = DayUsage {
            tokens: 1_000,
            cost_usd: 0.01,
        };
        days[10] = DayUsage {
            tokens: 4_000,
            cost_usd: 0.04,
        };
        let first = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let (info, rgb) = decode(&usage_png(&days, first).unwrap());
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let (small, big, none) = (
            bar_height_px(&rgb, &info, 3),
            bar_height_px(&rgb, &info, 10),
            bar_height_px(&rgb, &info, 5),
        );
        assert_eq!(none, 0);
        // 1,000 tokens against a top of 4,000: a quarter of the 300-pixel plot.
        assert!((74..=76).contains(&small), "{small}");
        assert!((299..=300).contains(&big), "{big}");
    }

    #[test]
    fn labels_are_short_numbers() {
        assert_eq!(tokens_label(950), "950");
        assert_eq!(tokens_label(12_500), "12.5k");
        assert_eq!(tokens_label(3_000_000), "3M");
        assert_eq!(cost_label(0.35), "$0.35");
        assert_eq!(cost_label(0.0042), "$0.0042");
    }
}
