//! The soak bench's chart: RSS (left axis, MiB) and open file descriptors (right axis) over the
//! run's minutes, with the end of the warm-up marked, drawn by plotters into a pixel buffer and
//! written as a PNG.
//!
//! Text needs a TrueType font: DejaVu Sans from Debian's `fonts-dejavu-core` by default, or the
//! file named by `SOAK_FONT`.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// Where `fonts-dejavu-core` installs DejaVu Sans.
const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
/// Picture size in pixels.
const SIZE: (u32, u32) = (960, 540);
/// The RSS axis spans at least this many MiB, so sampling noise does not fill the picture.
const MIN_RSS_SPAN: f64 = 8.0;

/// One point of the chart.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// Minutes since the load started.
    pub minute: f64,
    /// Resident set, MiB.
    pub rss_mib: f64,
    /// Open file descriptors.
    pub fds: f64,
}

/// The font file the chart will use.
pub fn font_path() -> PathBuf {
    std::env::var_os("SOAK_FONT").map_or_else(|| PathBuf::from(DEFAULT_FONT), PathBuf::from)
}

/// Draws `points` with a marker at `warm_up` minutes and writes the PNG to `out`.
pub fn draw(out: &Path, points: &[Point], warm_up: f64) -> anyhow::Result<()> {
    anyhow::ensure!(points.len() >= 2, "fewer than two samples to draw");
    let font = font_path();
    let bytes = std::fs::read(&font).with_context(|| {
        format!(
            "no font at {} (Debian: apt-get install fonts-dejavu-core, or set SOAK_FONT to a .ttf)",
            font.display()
        )
    })?;
    // plotters keeps registered fonts for the life of the process; the bench draws once.
    register_font("sans-serif", FontStyle::Normal, Vec::leak(bytes))
        .map_err(|_| anyhow::anyhow!("{} is not a TrueType font", font.display()))?;
    let (w, h) = SIZE;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    render(&mut pixels, points, warm_up).map_err(|e| anyhow::anyhow!("cannot draw: {e}"))?;
    write_png(out, &pixels)
}

fn render(
    pixels: &mut [u8],
    points: &[Point],
    warm_up: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(pixels, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let last = points.last().map_or(1.0, |p| p.minute).max(0.1);
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.rss_mib), hi.max(p.rss_mib))
    });
    let pad = ((MIN_RSS_SPAN - (hi - lo)) / 2.0).max(1.0);
    let rss = (lo - pad).max(0.0)..hi + pad;
    let fd_top = points.iter().map(|p| p.fds).fold(0.0, f64::max) * 1.5 + 5.0;
    let mut chart = ChartBuilder::on(&root)
        .caption("minicrew soak: daemon RSS and open fds", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .right_y_label_area_size(64)
        .build_cartesian_2d(0.0..last, rss.clone())?
        .set_secondary_coord(0.0..last, 0.0..fd_top);
    chart
        .configure_mesh()
        .x_desc("minutes under load")
        .y_desc("RSS (MiB)")
        .label_style(("sans-serif", 15))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("open file descriptors")
        .y_label_formatter(&|fds| format!("{fds:.0}"))
        .label_style(("sans-serif", 15))
        .draw()?;
    let rss_line = RED.stroke_width(2);
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.minute, p.rss_mib)),
            rss_line,
        ))?
        .label("RSS (MiB, left)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], rss_line));
    let fd_line = BLUE.stroke_width(2);
    chart
        .draw_secondary_series(LineSeries::new(
            points.iter().map(|p| (p.minute, p.fds)),
            fd_line,
        ))?
        .label("open fds (right)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], fd_line));
    // Green and thick, so it does not pass for a grid line.
    let marker = RGBColor(0, 150, 0).stroke_width(3);
    chart
        .draw_series(LineSeries::new(
            [(warm_up, rss.start), (warm_up, rss.end)],
            marker,
        ))?
        .label("end of warm-up")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], marker));
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}

fn write_png(out: &Path, pixels: &[u8]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), SIZE.0, SIZE.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(())
}
