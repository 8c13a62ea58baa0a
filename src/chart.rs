//! The curves: which series each chart shows, its axes, drawing with plotters on a `<canvas>`,
//! and the geometry that maps a mouse position back to the nearest report.
//!
//! Everything but [`draw`] is plain arithmetic, tested natively.

use neurolab_core::report::StepReport;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// Most points drawn per series; longer runs are thinned (the readout still uses every report).
pub const MAX_POINTS: usize = 2000;

pub const TRAIN_COLOR: RGBColor = RGBColor(37, 99, 235);
pub const TEST_COLOR: RGBColor = RGBColor(220, 38, 38);
pub const NORM_COLOR: RGBColor = RGBColor(124, 58, 237);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Loss,
    Accuracy,
    WeightNorm,
}

impl ChartKind {
    pub const ALL: [ChartKind; 3] = [ChartKind::Loss, ChartKind::Accuracy, ChartKind::WeightNorm];

    pub fn title(self) -> &'static str {
        match self {
            ChartKind::Loss => "loss (log scale)",
            ChartKind::Accuracy => "accuracy",
            ChartKind::WeightNorm => "weight norm",
        }
    }

    pub fn test_id(self) -> &'static str {
        match self {
            ChartKind::Loss => "chart-loss",
            ChartKind::Accuracy => "chart-acc",
            ChartKind::WeightNorm => "chart-norm",
        }
    }

    fn log_y(self) -> bool {
        self == ChartKind::Loss
    }

    /// The series of this chart: (name, colour, value of a report).
    #[allow(clippy::type_complexity)]
    pub fn series(self) -> &'static [(&'static str, RGBColor, fn(&StepReport) -> f32)] {
        match self {
            ChartKind::Loss => &[
                ("train", TRAIN_COLOR, |r| r.train_loss),
                ("test", TEST_COLOR, |r| r.test_loss),
            ],
            ChartKind::Accuracy => &[
                ("train", TRAIN_COLOR, |r| r.train_acc),
                ("test", TEST_COLOR, |r| r.test_acc),
            ],
            ChartKind::WeightNorm => &[("‖w‖", NORM_COLOR, |r| r.weight_norm)],
        }
    }

    /// The points of each series that the axes can show (log axes drop values ≤ 0).
    pub fn points(self, reports: &[StepReport], log_x: bool) -> Vec<Vec<(f64, f64)>> {
        self.series()
            .iter()
            .map(|(_, _, value)| {
                reports
                    .iter()
                    .map(|r| (f64::from(r.step), f64::from(value(r))))
                    .filter(|&(x, y)| {
                        y.is_finite() && (!self.log_y() || y > 0.0) && (!log_x || x >= 1.0)
                    })
                    .collect()
            })
            .collect()
    }

    /// The y range that fits the points, with a margin.
    pub fn y_range(self, points: &[Vec<(f64, f64)>]) -> (f64, f64) {
        let ys = points.iter().flatten().map(|&(_, y)| y);
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        match self {
            ChartKind::Accuracy => (0.0, 1.02),
            // Whole decades: labelled, and steady while the curves move.
            ChartKind::Loss if lo.is_finite() => {
                let lo = 10f64.powf(lo.log10().floor());
                let hi = 10f64.powf(hi.log10().ceil());
                (lo, hi.max(lo * 10.0))
            }
            ChartKind::Loss => (1e-3, 10.0),
            ChartKind::WeightNorm if lo.is_finite() => {
                let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-6);
                ((lo - pad).max(0.0), hi + pad)
            }
            ChartKind::WeightNorm => (0.0, 1.0),
        }
    }
}

/// The step axis: `[0, budget]`, or `[1, budget]` on a log scale.
pub fn x_range(budget: u32, last_step: u32, log_x: bool) -> (f64, f64) {
    let lo = if log_x { 1.0 } else { 0.0 };
    let hi = f64::from(budget.max(last_step)).max(lo + 1.0);
    (lo, hi)
}

/// Keep at most `max` reports, evenly spread, always with the first and the last.
pub fn thin(reports: &[StepReport], max: usize) -> Vec<StepReport> {
    if reports.len() <= max || max < 2 {
        return reports.to_vec();
    }
    let last = reports.len() - 1;
    (0..max).map(|i| reports[i * last / (max - 1)]).collect()
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

    /// Index of the report drawn nearest to canvas x pixel `px`.
    pub fn nearest(&self, reports: &[StepReport], px: f64) -> Option<usize> {
        if reports.is_empty() {
            return None;
        }
        let step = self.step_at(px);
        // Reports are in step order: find the neighbours, then compare on screen.
        let i = reports.partition_point(|r| f64::from(r.step) < step);
        [i.checked_sub(1), (i < reports.len()).then_some(i)]
            .into_iter()
            .flatten()
            .min_by(|&a, &b| {
                let da = (self.px_at(f64::from(reports[a].step)) - px).abs();
                let db = (self.px_at(f64::from(reports[b].step)) - px).abs();
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

/// Draw one chart on a canvas; returns the plot area's geometry for hovering.
pub fn draw(
    canvas: web_sys::HtmlCanvasElement,
    kind: ChartKind,
    reports: &[StepReport],
    budget: u32,
    log_x: bool,
) -> Result<Geometry, String> {
    // Draw at the canvas's displayed size in device pixels: crisp, and text at its CSS size.
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
    let backend = FastCanvas::new(canvas).ok_or("this browser gives no 2D canvas context")?;
    let root = backend.into_drawing_area();
    let shown = thin(reports, MAX_POINTS);
    let points = kind.points(&shown, log_x);
    let (x_lo, x_hi) = x_range(budget, reports.last().map_or(0, |r| r.step), log_x);
    let (y_lo, y_hi) = kind.y_range(&points);
    let style = Style {
        scale,
        y_span: (!kind.log_y()).then_some(y_hi - y_lo),
    };
    let px = match (log_x, kind.log_y()) {
        (false, false) => draw_on(&root, style, kind, &points, x_lo..x_hi, y_lo..y_hi),
        (false, true) => draw_on(
            &root,
            style,
            kind,
            &points,
            x_lo..x_hi,
            (y_lo..y_hi).log_scale(),
        ),
        (true, false) => draw_on(
            &root,
            style,
            kind,
            &points,
            (x_lo..x_hi).log_scale(),
            y_lo..y_hi,
        ),
        (true, true) => draw_on(
            &root,
            style,
            kind,
            &points,
            (x_lo..x_hi).log_scale(),
            (y_lo..y_hi).log_scale(),
        ),
    }
    .map_err(|e| format!("drawing the {} chart failed: {e}", kind.title()))?;
    root.present().map_err(|e| e.to_string())?;
    Ok(Geometry {
        left_px: f64::from(px.start),
        right_px: f64::from(px.end),
        x_lo,
        x_hi,
        log_x,
    })
}

/// plotters-canvas, measuring text with the canvas's own `measureText`.
///
/// plotters-canvas measures each label by adding a `<span>` to the page and reading its size,
/// which forces a layout of the whole page per label (~50 ms per chart here, enough to delay a
/// click noticeably). Everything else is forwarded.
pub(crate) struct FastCanvas {
    inner: plotters_canvas::CanvasBackend,
    context: web_sys::CanvasRenderingContext2d,
}

impl FastCanvas {
    pub(crate) fn new(canvas: web_sys::HtmlCanvasElement) -> Option<Self> {
        use wasm_bindgen::JsCast as _;
        let context = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        let inner = plotters_canvas::CanvasBackend::with_canvas_object(canvas)?;
        Some(Self { inner, context })
    }
}

type CanvasError = <plotters_canvas::CanvasBackend as DrawingBackend>::ErrorType;

impl DrawingBackend for FastCanvas {
    type ErrorType = CanvasError;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_text(text, style, pos)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<CanvasError>> {
        // The same font string plotters-canvas draws with.
        self.context.set_font(&format!(
            "{} {}px {}",
            style.style().as_str(),
            style.size(),
            style.family().as_str(),
        ));
        let width = match self.context.measure_text(text) {
            Ok(metrics) => metrics.width(),
            Err(_) => 0.6 * style.size() * text.chars().count() as f64,
        };
        // A line of text is about 1.2 font sizes high (what the <span> measured).
        Ok((width.ceil() as u32, (1.2 * style.size()).ceil() as u32))
    }
}

/// Sizes in CSS pixels, scaled to device pixels.
#[derive(Clone, Copy)]
struct Style {
    scale: f64,
    /// The y axis's span when it is linear (for its labels' decimals).
    y_span: Option<f64>,
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
    kind: ChartKind,
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
        .caption(kind.title(), style.font(13.0))
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
    let line = style.px(2.0).max(1);
    for ((name, color, _), pts) in kind.series().iter().zip(points) {
        let color = *color;
        let legend_len = style.px(16.0) as i32;
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied(),
                Color::stroke_width(&color, line),
            ))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(
                    vec![(x, y), (x + legend_len, y)],
                    Color::stroke_width(&color, line),
                )
            });
    }
    if kind.series().len() > 1 {
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

    fn report(step: u32) -> StepReport {
        StepReport {
            step,
            train_loss: 1.0 / (1.0 + step as f32),
            test_loss: 2.0,
            train_acc: 0.5,
            test_acc: 0.1,
            weight_norm: 10.0,
        }
    }

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
        let reports: Vec<_> = [0, 10, 20, 100, 1000].into_iter().map(report).collect();
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
        let mut reports: Vec<_> = (0..5).map(|s| report(s * 10)).collect();
        reports[2].train_loss = 0.0;
        reports[3].test_loss = f32::NAN;
        let pts = ChartKind::Loss.points(&reports, false);
        assert_eq!(pts[0].len(), 4);
        assert_eq!(pts[1].len(), 4);
        let pts = ChartKind::Loss.points(&reports, true);
        assert_eq!(pts[0].len(), 3);
        let (lo, hi) = ChartKind::Loss.y_range(&pts);
        assert!(lo > 0.0 && hi > lo);
        assert_eq!(
            ChartKind::Loss.y_range(&[vec![(0.0, 1.6), (1.0, 2.0)]]),
            (1.0, 10.0)
        );
        let (lo, hi) = ChartKind::Loss.y_range(&[vec![(0.0, 0.048), (1.0, 3.4)]]);
        assert!((lo - 0.01).abs() < 1e-12 && (hi - 10.0).abs() < 1e-9);
        assert_eq!(ChartKind::Loss.y_range(&[]), (1e-3, 10.0));
    }

    #[test]
    fn axes_and_thinning() {
        assert_eq!(x_range(300, 0, false), (0.0, 300.0));
        assert_eq!(x_range(300, 0, true), (1.0, 300.0));
        assert_eq!(x_range(0, 0, true), (1.0, 2.0));
        let reports: Vec<_> = (0..10_000).map(report).collect();
        let thinned = thin(&reports, 100);
        assert_eq!(thinned.len(), 100);
        assert_eq!(thinned[0].step, 0);
        assert_eq!(thinned[99].step, 9999);
        assert_eq!(fmt_axis(0.5), "0.50");
        assert_eq!(fmt_axis(100.0), "100");
        assert_eq!(fmt_axis(0.001), "1e-3");
        assert_eq!(fmt_tick(5.4, 0.2), "5.40");
        assert_eq!(fmt_tick(0.5, 1.02), "0.5");
        assert_eq!(fmt_tick(20.0, 30.0), "20");
        assert_eq!(fmt_tick(3.0, 0.0), "3");
    }
}
