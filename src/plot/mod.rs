//! Every chart of the page, in one place: [`curves`] over the step axis with hover geometry,
//! and here the generic plots (plotters on a `<canvas>`): line series on linear axes, points on
//! log–log axes, bars, the spike raster drawn straight into an `ImageData` (thousands of neurons:
//! one pixel row per group of neurons), and [`Redraw`], which redraws a view at most once per
//! animation frame and on resize. The geometry helpers are plain arithmetic, tested natively.

pub mod canvas;
pub mod curves;
pub mod figure;

use canvas::FastCanvas;
use plotters::coord::Shift;
use plotters::prelude::*;

pub const COLORS: [RGBColor; 6] = [
    RGBColor(37, 99, 235),
    RGBColor(220, 38, 38),
    RGBColor(22, 163, 74),
    RGBColor(217, 119, 6),
    RGBColor(124, 58, 237),
    RGBColor(8, 145, 178),
];

/// One named series of (x, y) points; `dashed` draws a lighter line (targets).
pub struct Line<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    pub dashed: bool,
}

/// A small deterministic generator in [0, 1) (the gallery's seeded sketches).
pub fn noise(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 33) as f64) / f64::from(u32::MAX)
}

/// Sizes the canvas's backing store to its displayed size in device pixels; returns the DPR.
pub(crate) fn fit(canvas: &web_sys::HtmlCanvasElement) -> f64 {
    let scale = web_sys::window()
        .map_or(1.0, |w| w.device_pixel_ratio())
        .max(1.0);
    let (css_w, css_h) = (canvas.client_width(), canvas.client_height());
    if css_w > 0 && css_h > 0 {
        let (w, h) = (
            (f64::from(css_w) * scale).round() as u32,
            (f64::from(css_h) * scale).round() as u32,
        );
        if (canvas.width(), canvas.height()) != (w, h) {
            canvas.set_width(w);
            canvas.set_height(h);
        }
    }
    scale
}

/// The padded range of some values (a flat or empty series still gets a visible range).
pub fn span(values: impl Iterator<Item = f64>, fallback: (f64, f64)) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return fallback;
    }
    if hi - lo < 1e-9 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    scale: f64,
) -> ChartBuilder<'a, 'a, DB> {
    let px = |css: f64| (css * scale).round() as u32;
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 13.0 * scale))
        .margin_top(px(4.0))
        .margin_bottom(px(4.0))
        .margin_left(px(6.0))
        .margin_right(px(14.0))
        .x_label_area_size(px(22.0))
        .y_label_area_size(px(44.0));
    b
}

/// Line series on linear axes.
pub fn lines(
    canvas: web_sys::HtmlCanvasElement,
    title: &str,
    series: &[Line<'_>],
    x_range: (f64, f64),
    y_range: Option<(f64, f64)>,
) -> Result<(), String> {
    figure::record_series(
        &canvas,
        title,
        "x",
        series.iter().map(|s| (s.label, s.points.as_slice())),
    );
    let scale = fit(&canvas);
    let backend = FastCanvas::new(canvas).ok_or("this browser gives no 2D canvas context")?;
    let root = backend.into_drawing_area();
    let y = y_range.unwrap_or_else(|| {
        span(
            series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
            (0.0, 1.0),
        )
    });
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = frame(&root, title, scale)
            .build_cartesian_2d(x_range.0..x_range.1.max(x_range.0 + 1e-9), y.0..y.1)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .x_labels(6)
            .y_labels(5)
            .label_style(("sans-serif", 11.0 * scale))
            .draw()?;
        let width = (1.5 * scale).round().max(1.0) as u32;
        for s in series {
            let color = if s.dashed {
                s.color.mix(0.45)
            } else {
                s.color.to_rgba()
            };
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(width),
                ))?
                .label(s.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color));
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 11.0 * scale))
                .background_style(WHITE.mix(0.8))
                .border_style(RGBColor(220, 220, 220))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()?;
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| format!("drawing '{title}' failed: {e}"))
}

/// Points on log–log axes (distributions: avalanche sizes, feature densities).
pub fn log_log(
    canvas: web_sys::HtmlCanvasElement,
    title: &str,
    series: &[Line<'_>],
) -> Result<(), String> {
    figure::record_series(
        &canvas,
        title,
        "x",
        series.iter().map(|s| (s.label, s.points.as_slice())),
    );
    let scale = fit(&canvas);
    let backend = FastCanvas::new(canvas).ok_or("this browser gives no 2D canvas context")?;
    let root = backend.into_drawing_area();
    let pts = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0 > 0.0 && p.1 > 0.0)
    };
    let (x_lo, x_hi) = span(pts().map(|p| p.0.log10()), (0.0, 2.0));
    let (y_lo, y_hi) = span(pts().map(|p| p.1.log10()), (-4.0, 0.0));
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = frame(&root, title, scale).build_cartesian_2d(
            (10f64.powf(x_lo)..10f64.powf(x_hi)).log_scale(),
            (10f64.powf(y_lo)..10f64.powf(y_hi)).log_scale(),
        )?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .label_style(("sans-serif", 11.0 * scale))
            .draw()?;
        let r = (2.5 * scale).round() as i32;
        for s in series {
            let color = s.color;
            let good = s.points.iter().copied().filter(|p| p.0 > 0.0 && p.1 > 0.0);
            if s.dashed {
                chart.draw_series(LineSeries::new(good, color.mix(0.6).stroke_width(1)))?;
            } else {
                chart.draw_series(good.map(|p| Circle::new(p, r, color.filled())))?;
            }
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| format!("drawing '{title}' failed: {e}"))
}

/// Bars of equal width over [lo, hi].
pub fn bars(
    canvas: web_sys::HtmlCanvasElement,
    title: &str,
    counts: &[f64],
    lo: f64,
    hi: f64,
) -> Result<(), String> {
    // The bins as drawn (an empty span drawn as [lo, lo + 1]).
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let w = (hi - lo) / counts.len().max(1) as f64;
    {
        let mut csv = String::from("bin_from,bin_to,count\n");
        for (i, c) in counts.iter().enumerate() {
            let from = lo + i as f64 * w;
            csv.push_str(&format!("{from},{},{c}\n", from + w));
        }
        let total: f64 = counts.iter().sum();
        let top = counts
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, c)| {
                format!(
                    "; the tallest bar {c} at {}",
                    crate::format::fmt_sig((lo + (i as f64 + 0.5) * w) as f32)
                )
            })
            .unwrap_or_default();
        let alt = format!("{} bins, {total} in all{top}", counts.len());
        figure::record(&canvas, title, Some(csv), &alt);
    }
    let scale = fit(&canvas);
    let backend = FastCanvas::new(canvas).ok_or("this browser gives no 2D canvas context")?;
    let root = backend.into_drawing_area();
    let top = counts.iter().copied().fold(0.0, f64::max).max(1.0) * 1.05;
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = frame(&root, title, scale).build_cartesian_2d(lo..hi, 0.0..top)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .x_labels(6)
            .y_labels(4)
            .label_style(("sans-serif", 11.0 * scale))
            .draw()?;
        chart.draw_series(counts.iter().enumerate().map(|(i, &c)| {
            let x0 = lo + i as f64 * w;
            Rectangle::new([(x0, 0.0), (x0 + w * 0.9, c)], COLORS[0].filled())
        }))?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| format!("drawing '{title}' failed: {e}"))
}

/// Two bars per category 1..=n (`a` dark, `b` light, side by side), the `highlight`ed
/// categories in `hot` colours: a spectrum's cos and sin parts with its key frequencies.
pub fn paired_bars(
    canvas: web_sys::HtmlCanvasElement,
    title: &str,
    a: &[f64],
    b: &[f64],
    highlight: &[bool],
    names: (&str, &str),
) -> Result<(), String> {
    {
        use figure::field;
        let mut csv = format!("k,{},{},highlighted\n", field(names.0), field(names.1));
        for i in 0..a.len().max(b.len()) {
            let get = |v: &[f64]| v.get(i).map(f64::to_string).unwrap_or_default();
            let hot = highlight.get(i).copied().unwrap_or(false);
            csv.push_str(&format!("{},{},{},{hot}\n", i + 1, get(a), get(b)));
        }
        let marked: Vec<String> = (0..highlight.len())
            .filter(|&i| highlight[i])
            .map(|i| (i + 1).to_string())
            .collect();
        let alt = if marked.is_empty() {
            format!("{} categories", a.len().max(b.len()))
        } else {
            format!("highlighted k = {}", marked.join(", "))
        };
        figure::record(&canvas, title, Some(csv), &alt);
    }
    let scale = fit(&canvas);
    let backend = FastCanvas::new(canvas).ok_or("this browser gives no 2D canvas context")?;
    let root = backend.into_drawing_area();
    let n = a.len().max(b.len()).max(1);
    let top = a.iter().chain(b).copied().fold(0.0, f64::max).max(1e-9) * 1.08;
    let (cold, hot) = (RGBColor(148, 163, 184), COLORS[1]);
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart =
            frame(&root, title, scale).build_cartesian_2d(0.5..n as f64 + 0.5, 0.0..top)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .x_labels(10)
            .y_labels(4)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(("sans-serif", 11.0 * scale))
            .draw()?;
        let color = |i: usize| {
            if highlight.get(i).copied().unwrap_or(false) {
                hot
            } else {
                cold
            }
        };
        chart
            .draw_series(a.iter().enumerate().map(|(i, &v)| {
                let x = i as f64 + 1.0;
                Rectangle::new([(x - 0.42, 0.0), (x, v)], color(i).filled())
            }))?
            .label(names.0)
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 10, y + 4)], cold.filled()));
        chart
            .draw_series(b.iter().enumerate().map(|(i, &v)| {
                let x = i as f64 + 1.0;
                Rectangle::new([(x, 0.0), (x + 0.42, v)], color(i).mix(0.5).filled())
            }))?
            .label(names.1)
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 4), (x + 10, y + 4)], cold.mix(0.5).filled())
            });
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 11.0 * scale))
            .background_style(WHITE.mix(0.8))
            .border_style(RGBColor(220, 220, 220))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| format!("drawing '{title}' failed: {e}"))
}

/// Row-major `w × h` values in `0..=max` as RGBA pixels, white to dark blue (a heat-map of
/// shares).
pub fn heat_pixels(values: &[f32], max: f32) -> Vec<u8> {
    let max = if max > 0.0 { max } else { 1.0 };
    values
        .iter()
        .flat_map(|&v| {
            let t = if v.is_finite() {
                (v / max).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let mix = |from: f32, to: f32| (from + (to - from) * t).round() as u8;
            [mix(255.0, 23.0), mix(255.0, 37.0), mix(255.0, 84.0), 255]
        })
        .collect()
}

/// Points on a wheel: each `(angle in radians, radius in 0..=1)` as a dot, with the unit circle
/// (a frequency's neurons by phase, their size as the radius).
pub fn wheel(
    canvas: web_sys::HtmlCanvasElement,
    title: &str,
    points: &[(f64, f64)],
    color: RGBColor,
) -> Result<(), String> {
    {
        let mut csv = String::from("angle_rad,radius\n");
        for (a, r) in points {
            csv.push_str(&format!("{a},{r}\n"));
        }
        figure::record(
            &canvas,
            title,
            Some(csv),
            &format!("{} points", points.len()),
        );
    }
    let scale = fit(&canvas);
    let backend = FastCanvas::new(canvas).ok_or("this browser gives no 2D canvas context")?;
    let root = backend.into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 12.0 * scale))
            .margin((4.0 * scale) as u32)
            .build_cartesian_2d(-1.15..1.15, -1.15..1.15)?;
        let ring = (0..=96).map(|i| {
            let t = std::f64::consts::TAU * f64::from(i) / 96.0;
            (t.cos(), t.sin())
        });
        chart.draw_series(LineSeries::new(ring, RGBColor(203, 213, 225)))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(-1.0, 0.0), (1.0, 0.0)],
            RGBColor(226, 232, 240),
        )))?;
        let r = (2.5 * scale).round() as i32;
        chart.draw_series(points.iter().map(|&(angle, radius)| {
            let radius = radius.clamp(0.0, 1.0);
            Circle::new(
                (radius * angle.cos(), radius * angle.sin()),
                r,
                color.mix(0.75).filled(),
            )
        }))?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| format!("drawing '{title}' failed: {e}"))
}

/// Redraw a view at most once per animation frame, whatever the rate of its data (`track`
/// reads the signals it draws), and when the window resizes. A frame that comes after the view
/// was unmounted (a lab switch) draws nothing: its signals are gone.
pub fn redraw_on(track: impl Fn() + 'static, draw: impl Fn() + Copy + 'static) {
    use leptos::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let pending = Arc::new(AtomicBool::new(false));
    let alive = Arc::new(AtomicBool::new(true));
    let schedule = {
        let (pending, alive) = (pending.clone(), alive.clone());
        move || {
            if pending.swap(true, Ordering::Relaxed) {
                return;
            }
            let (pending, alive) = (pending.clone(), alive.clone());
            crate::browser::on_next_frame(move || {
                pending.store(false, Ordering::Relaxed);
                if alive.load(Ordering::Relaxed) {
                    draw();
                }
            });
        }
    };
    let on_change = schedule.clone();
    Effect::new(move |_| {
        track();
        on_change();
    });
    let on_resize = window_event_listener(leptos::ev::resize, move |_| schedule());
    on_cleanup(move || {
        alive.store(false, Ordering::Relaxed);
        on_resize.remove();
    });
}

/// Where a raster pixel row maps: neurons per row and the neuron at a y position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RasterGeometry {
    pub neurons: u32,
    pub rows: u32,
}

impl RasterGeometry {
    /// The neuron drawn at pixel row `y` (of `rows`).
    pub fn neuron_at(self, y: f64) -> u32 {
        let frac = (y / f64::from(self.rows.max(1))).clamp(0.0, 0.999_999);
        ((frac * f64::from(self.neurons)) as u32).min(self.neurons.saturating_sub(1))
    }

    /// The pixel row of neuron `i`.
    pub fn row_of(self, i: u32) -> u32 {
        ((u64::from(i) * u64::from(self.rows)) / u64::from(self.neurons.max(1))) as u32
    }
}

/// Paint the raster: x = time over `[t_lo, t_hi)`, y = neuron (excitatory on top, blue;
/// inhibitory below, red), into the canvas's pixels in one `putImageData`.
pub fn raster(
    canvas: &web_sys::HtmlCanvasElement,
    spikes: impl Iterator<Item = (u32, u32)>,
    neurons: u32,
    n_exc: u32,
    t_lo: f64,
    t_hi: f64,
    silenced: &[std::ops::Range<u32>],
) -> Result<RasterGeometry, String> {
    fit(canvas);
    let (w, h) = (canvas.width().max(1), canvas.height().max(1));
    let geometry = RasterGeometry {
        neurons: neurons.max(1),
        rows: h,
    };
    let mut px = vec![255u8; (w * h * 4) as usize];
    // Silenced rows get a grey band.
    for range in silenced {
        let (from, to) = (range.start, range.end);
        let (r0, r1) = (
            geometry.row_of(from),
            geometry.row_of(to).max(geometry.row_of(from) + 1),
        );
        for y in r0..r1.min(h) {
            for x in 0..w {
                let k = ((y * w + x) * 4) as usize;
                px[k..k + 3].copy_from_slice(&[235, 235, 235]);
            }
        }
    }
    let span = (t_hi - t_lo).max(1.0);
    let dot = (f64::from(h) / f64::from(neurons.max(1))).clamp(1.0, 3.0) as u32;
    for (t, i) in spikes {
        let x = ((f64::from(t) - t_lo) / span * f64::from(w)).floor();
        if !(0.0..f64::from(w)).contains(&x) || i >= neurons {
            continue;
        }
        let color = if i < n_exc {
            [37, 99, 235]
        } else {
            [220, 38, 38]
        };
        let y0 = geometry.row_of(i);
        for y in y0..(y0 + dot).min(h) {
            let k = ((y * w + x as u32) * 4) as usize;
            px[k..k + 3].copy_from_slice(&color);
        }
    }
    put_pixels(canvas, w, h, &px, "raster")?;
    Ok(geometry)
}

/// Paint `w × h` RGBA pixels onto the canvas in one `putImageData`.
pub fn put_pixels(
    canvas: &web_sys::HtmlCanvasElement,
    w: u32,
    h: u32,
    rgba: &[u8],
    what: &str,
) -> Result<(), String> {
    use wasm_bindgen::JsCast as _;
    let data =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(rgba), w, h)
            .map_err(|e| format!("the {what} image could not be made: {e:?}"))?;
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .ok_or("this browser gives no 2D canvas context")?
        .dyn_into()
        .map_err(|_| "this browser gives no 2D canvas context")?;
    ctx.put_image_data(&data, 0.0, 0.0)
        .map_err(|e| format!("the {what} could not be drawn: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raster_rows_map_back_to_neurons() {
        let g = RasterGeometry {
            neurons: 1000,
            rows: 250,
        };
        assert_eq!(g.row_of(0), 0);
        assert_eq!(g.row_of(999), 249);
        assert_eq!(g.neuron_at(0.0), 0);
        assert_eq!(g.neuron_at(249.9), 999);
        for i in [0, 4, 400, 999] {
            let back = g.neuron_at(f64::from(g.row_of(i)));
            assert!(back <= i && i - back < 4, "{i} → {back}");
        }
        let few = RasterGeometry {
            neurons: 10,
            rows: 250,
        };
        assert_eq!(few.neuron_at(125.0), 5);
    }

    #[test]
    fn spans_pad_and_survive_flat_or_empty_data() {
        assert_eq!(span([].into_iter(), (0.0, 1.0)), (0.0, 1.0));
        assert_eq!(span([2.0, 2.0].into_iter(), (0.0, 1.0)), (1.5, 2.5));
        let (lo, hi) = span([0.0, 10.0].into_iter(), (0.0, 1.0));
        assert!(lo < 0.0 && hi > 10.0);
    }
}
