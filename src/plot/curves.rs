//! Curves over the step axis (losses, accuracies, norms, SAE metrics): their y axes, drawing
//! with plotters on a `<canvas>`, and the geometry that maps a mouse position back to the
//! nearest report.
//!
//! Everything but [`draw`] is plain arithmetic, tested natively.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Most points drawn per series; longer runs are thinned (the readout still uses every report).
pub const MAX_POINTS: usize = 2000;

/// How a chart's y axis fits its points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum YAxis {
    /// Always this range (accuracy: 0..1).
    Fixed(f64, f64),
    /// Log scale in whole decades: labelled, and steady while the curves move (losses).
    Decades,
    /// Linear, padded around the points, never below 0 (norms).
    Padded,
}

impl YAxis {
    pub fn log(self) -> bool {
        self == YAxis::Decades
    }

    /// The y range that fits the points, with a margin.
    pub fn range(self, points: &[Vec<(f64, f64)>]) -> (f64, f64) {
        let ys = points.iter().flatten().map(|&(_, y)| y);
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        match self {
            YAxis::Fixed(lo, hi) => (lo, hi),
            YAxis::Decades if lo.is_finite() => {
                let lo = 10f64.powf(lo.log10().floor());
                let hi = 10f64.powf(hi.log10().ceil());
                (lo, hi.max(lo * 10.0))
            }
            YAxis::Decades => (1e-3, 10.0),
            YAxis::Padded if lo.is_finite() => {
                let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-6);
                ((lo - pad).max(0.0), hi + pad)
            }
            YAxis::Padded => (0.0, 1.0),
        }
    }

    /// Drop points the axes cannot show (non-finite values, ≤ 0 on log axes, x < 1 on a log x).
    pub fn keep(
        self,
        points: impl IntoIterator<Item = (f64, f64)>,
        log_x: bool,
    ) -> Vec<(f64, f64)> {
        points
            .into_iter()
            .filter(|&(x, y)| y.is_finite() && (!self.log() || y > 0.0) && (!log_x || x >= 1.0))
            .collect()
    }
}

/// One curve; a `light` one is drawn paler and thinner (a train curve beside its test curve, a
/// derived measure).
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    pub light: bool,
}

/// A shaded span of the step axis (a phase of training), with its colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub color: RGBColor,
}

/// A chart: its title, its curves, its y axis, shaded spans and a marked step.
pub struct Curves<'a> {
    pub title: &'a str,
    pub series: Vec<Series>,
    pub y: YAxis,
    pub bands: Vec<Band>,
    /// A step drawn as a vertical line (the timeline's scrubbed checkpoint).
    pub mark: Option<f64>,
}

/// The step axis: `[0, budget]`, or `[1, budget]` on a log scale.
pub fn x_range(budget: u32, last_step: u32, log_x: bool) -> (f64, f64) {
    let lo = if log_x { 1.0 } else { 0.0 };
    let hi = f64::from(budget.max(last_step)).max(lo + 1.0);
    (lo, hi)
}

/// Keep at most `max` items, evenly spread, always with the first and the last.
pub fn thin<T: Clone>(items: &[T], max: usize) -> Vec<T> {
    if items.len() <= max || max < 2 {
        return items.to_vec();
    }
    let last = items.len() - 1;
    (0..max)
        .map(|i| items[i * last / (max - 1)].clone())
        .collect()
}

/// Where the plot area of a drawn chart lies on its canvas, and what its x axis shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Canvas pixels of the plot area's left and right edges.
    pub left_px: f64,
    pub right_px: f64,
    pub x_lo: f64,
    pub x_hi: f64,
    pub log_x: bool,
}

impl Geometry {
    fn axis(&self, step: f64) -> f64 {
        if self.log_x {
            step.max(self.x_lo.max(1e-9)).log10()
        } else {
            step
        }
    }

    /// Canvas x pixel of a step.
    pub fn px_at(&self, step: f64) -> f64 {
        let (a, b) = (self.axis(self.x_lo), self.axis(self.x_hi));
        self.left_px + (self.axis(step) - a) / (b - a) * (self.right_px - self.left_px)
    }

    /// The step under canvas x pixel `px` (clamped to the axis).
    pub fn step_at(&self, px: f64) -> f64 {
        let t = ((px - self.left_px) / (self.right_px - self.left_px)).clamp(0.0, 1.0);
        let (a, b) = (self.axis(self.x_lo), self.axis(self.x_hi));
        let v = a + t * (b - a);
        if self.log_x {
            10f64.powf(v)
        } else {
            v
        }
    }

    /// Index of the step (of `steps`, ascending) drawn nearest to canvas x pixel `px`.
    pub fn nearest(&self, steps: &[f64], px: f64) -> Option<usize> {
        if steps.is_empty() {
            return None;
        }
        let step = self.step_at(px);
        // Steps are in order: find the neighbours, then compare on screen.
        let i = steps.partition_point(|&s| s < step);
        [i.checked_sub(1), (i < steps.len()).then_some(i)]
            .into_iter()
            .flatten()
            .min_by(|&a, &b| {
                let da = (self.px_at(steps[a]) - px).abs();
                let db = (self.px_at(steps[b]) - px).abs();
                da.total_cmp(&db)
            })
    }
}

/// Axis labels: short, and in exponent form only when needed.
pub fn fmt_axis(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-2..1e5).contains(&a) {
        let s = format!("{v:.0e}");
        s.replace("e0", "")
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Labels of a linear axis spanning `span`: enough decimals to tell neighbouring ticks apart.
pub fn fmt_tick(v: f64, span: f64) -> String {
    if !(span.is_finite() && span > 0.0) || v.abs() >= 1e5 {
        return fmt_axis(v);
    }
    let decimals = (-(span / 5.0).log10()).ceil().clamp(0.0, 6.0) as usize;
    format!("{v:.decimals$}")
}

/// Draw one chart on a canvas over the step axis `x`; returns the plot area's geometry for
/// hovering.
pub fn draw(
    canvas: web_sys::HtmlCanvasElement,
    curves: &Curves<'_>,
    x: (f64, f64),
    log_x: bool,
) -> Result<Geometry, String> {
    super::figure::record_series(
        &canvas,
        curves.title,
        "step",
        curves
            .series
            .iter()
            .map(|s| (s.name.as_str(), s.points.as_slice())),
    );
    let scale = super::fit(&canvas);
    let backend =
        super::canvas::FastCanvas::new(canvas).ok_or("this browser gives no 2D canvas context")?;
    let root = backend.into_drawing_area();
    let points: Vec<Vec<(f64, f64)>> = curves
        .series
        .iter()
        .map(|s| curves.y.keep(thin(&s.points, MAX_POINTS), log_x))
        .collect();
    let (x_lo, x_hi) = x;
    let (y_lo, y_hi) = curves.y.range(&points);
    let style = Style {
        scale,
        y_span: (!curves.y.log()).then_some(y_hi - y_lo),
        y: (y_lo, y_hi),
    };
    let px = match (log_x, curves.y.log()) {
        (false, false) => draw_on(&root, style, curves, &points, x_lo..x_hi, y_lo..y_hi),
        (false, true) => draw_on(
            &root,
            style,
            curves,
            &points,
            x_lo..x_hi,
            (y_lo..y_hi).log_scale(),
        ),
        (true, false) => draw_on(
            &root,
            style,
            curves,
            &points,
            (x_lo..x_hi).log_scale(),
            y_lo..y_hi,
        ),
        (true, true) => draw_on(
            &root,
            style,
            curves,
            &points,
            (x_lo..x_hi).log_scale(),
            (y_lo..y_hi).log_scale(),
        ),
    }
    .map_err(|e| format!("drawing the {} chart failed: {e}", curves.title))?;
    root.present().map_err(|e| e.to_string())?;
    Ok(Geometry {
        left_px: f64::from(px.start),
        right_px: f64::from(px.end),
        x_lo,
        x_hi,
        log_x,
    })
}

/// Sizes in CSS pixels, scaled to device pixels.
#[derive(Clone, Copy)]
struct Style {
    scale: f64,
    /// The y axis's span when it is linear (for its labels' decimals).
    y_span: Option<f64>,
    /// The y range (bands and marks span it).
    y: (f64, f64),
}

impl Style {
    fn px(self, css: f64) -> u32 {
        (css * self.scale).round() as u32
    }

    fn font(self, css: f64) -> (&'static str, f64) {
        ("sans-serif", css * self.scale)
    }
}

/// Draws axes and series; returns the plot area's x pixel range.
fn draw_on<DB, X, Y>(
    root: &DrawingArea<DB, Shift>,
    style: Style,
    curves: &Curves<'_>,
    points: &[Vec<(f64, f64)>],
    x: X,
    y: Y,
) -> Result<std::ops::Range<i32>, DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(curves.title, style.font(13.0))
        .margin_top(style.px(6.0))
        .margin_bottom(style.px(4.0))
        .margin_left(style.px(6.0))
        .margin_right(style.px(18.0))
        .x_label_area_size(style.px(22.0))
        .y_label_area_size(style.px(44.0))
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|v| fmt_axis(*v))
        .y_label_formatter(&|v| match style.y_span {
            Some(span) => fmt_tick(*v, span),
            None => fmt_axis(*v),
        })
        .label_style(style.font(11.0))
        .draw()?;
    let (y_lo, y_hi) = style.y;
    chart.draw_series(
        curves
            .bands
            .iter()
            .map(|b| Rectangle::new([(b.from, y_lo), (b.to, y_hi)], b.color.mix(0.10).filled())),
    )?;
    let legend_len = style.px(16.0) as i32;
    for (series, pts) in curves.series.iter().zip(points) {
        let (color, line) = if series.light {
            (series.color.mix(0.45), style.px(1.5).max(1))
        } else {
            (series.color.to_rgba(), style.px(2.0).max(1))
        };
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied(),
                color.stroke_width(line),
            ))?
            .label(series.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + legend_len, y)], color.stroke_width(line))
            });
    }
    if let Some(step) = curves.mark {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(step, y_lo), (step, y_hi)],
            RGBColor(17, 24, 39)
                .mix(0.6)
                .stroke_width(style.px(1.0).max(1)),
        )))?;
    }
    if curves.series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(style.font(11.0))
            .draw()?;
    }
    Ok(chart.plotting_area().get_pixel_range().0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_maps_both_ways() {
        let g = Geometry {
            left_px: 50.0,
            right_px: 550.0,
            x_lo: 0.0,
            x_hi: 1000.0,
            log_x: false,
        };
        assert_eq!(g.px_at(500.0), 300.0);
        assert_eq!(g.step_at(300.0), 500.0);
        assert_eq!(g.step_at(0.0), 0.0);
        let g = Geometry {
            x_lo: 1.0,
            x_hi: 10_000.0,
            log_x: true,
            ..g
        };
        assert!((g.step_at(300.0) - 100.0).abs() < 1e-9);
        assert!((g.px_at(100.0) - 300.0).abs() < 1e-9);
    }

    #[test]
    fn nearest_report_is_nearest_on_screen() {
        let reports = [0.0, 10.0, 20.0, 100.0, 1000.0];
        let g = Geometry {
            left_px: 0.0,
            right_px: 1000.0,
            x_lo: 0.0,
            x_hi: 1000.0,
            log_x: false,
        };
        assert_eq!(g.nearest(&reports, 14.0), Some(1));
        assert_eq!(g.nearest(&reports, 16.0), Some(2));
        assert_eq!(g.nearest(&reports, 990.0), Some(4));
        assert_eq!(g.nearest(&reports, -5.0), Some(0));
        assert_eq!(g.nearest(&[], 5.0), None);
        // On a log axis 10 and 20 are far apart and 100 is close to 1000's left.
        let g = Geometry {
            x_lo: 1.0,
            log_x: true,
            ..g
        };
        assert_eq!(g.nearest(&reports, g.px_at(60.0)), Some(3));
    }

    #[test]
    fn log_axes_drop_what_they_cannot_show() {
        let pts = [
            (0.0, 1.0),
            (10.0, 0.5),
            (20.0, 0.0),
            (30.0, f64::NAN),
            (40.0, 0.2),
        ];
        assert_eq!(YAxis::Decades.keep(pts, false).len(), 3);
        assert_eq!(YAxis::Padded.keep(pts, false).len(), 4);
        assert_eq!(YAxis::Decades.keep(pts, true).len(), 2);
        let (lo, hi) = YAxis::Decades.range(&[YAxis::Decades.keep(pts, true)]);
        assert!(lo > 0.0 && hi > lo);
        assert_eq!(
            YAxis::Decades.range(&[vec![(0.0, 1.6), (1.0, 2.0)]]),
            (1.0, 10.0)
        );
        let (lo, hi) = YAxis::Decades.range(&[vec![(0.0, 0.048), (1.0, 3.4)]]);
        assert!((lo - 0.01).abs() < 1e-12 && (hi - 10.0).abs() < 1e-9);
        assert_eq!(YAxis::Decades.range(&[]), (1e-3, 10.0));
        assert_eq!(YAxis::Fixed(0.0, 1.02).range(&[]), (0.0, 1.02));
    }

    #[test]
    fn axes_and_thinning() {
        assert_eq!(x_range(300, 0, false), (0.0, 300.0));
        assert_eq!(x_range(300, 0, true), (1.0, 300.0));
        assert_eq!(x_range(0, 0, true), (1.0, 2.0));
        let steps: Vec<u32> = (0..10_000).collect();
        let thinned = thin(&steps, 100);
        assert_eq!(thinned.len(), 100);
        assert_eq!(thinned[0], 0);
        assert_eq!(thinned[99], 9999);
        assert_eq!(fmt_axis(0.5), "0.50");
        assert_eq!(fmt_axis(100.0), "100");
        assert_eq!(fmt_axis(0.001), "1e-3");
        assert_eq!(fmt_tick(5.4, 0.2), "5.40");
        assert_eq!(fmt_tick(0.5, 1.02), "0.5");
        assert_eq!(fmt_tick(20.0, 30.0), "20");
        assert_eq!(fmt_tick(3.0, 0.0), "3");
    }
}
