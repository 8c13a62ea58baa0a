//! A chart's frame on the page: its "what am I seeing" (ⓘ, hidden by `hide=explain`), PNG and
//! CSV downloads and a text alternative. Every drawing function of [`crate::plot`] records on its
//! canvas what it drew ([`record`]: the data as CSV, the latest values as the canvas's
//! `aria-label`), so a figure's buttons work for any chart inside it without knowing its data; a
//! figure whose pixels are painted directly (heat-maps, the raster) passes its own CSV.

use crate::context::Shell;
use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

/// What a chart shows: two to four plain sentences and the paper it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct About {
    pub what: &'static str,
    pub paper: &'static str,
}

const CSV_PROP: &str = "neurolabCsv";

/// Record on a drawn canvas its data as CSV (small charts: bars, wheels) and its text
/// alternative: `role=img` and an `aria-label` of the title and the latest values.
pub fn record(canvas: &web_sys::HtmlCanvasElement, title: &str, csv: Option<String>, alt: &str) {
    if let Some(csv) = csv {
        let _ = js_sys::Reflect::set(canvas, &CSV_PROP.into(), &csv.into());
    }
    label(canvas, title, alt);
}

/// Record drawn series (curves: thousands of points, redrawn every frame) as typed arrays on
/// the canvas — one copy each, no text until the CSV is asked for — and their latest values.
pub fn record_series<'a>(
    canvas: &web_sys::HtmlCanvasElement,
    title: &str,
    x_name: &str,
    series: impl IntoIterator<Item = (&'a str, &'a [(f64, f64)])> + Clone,
) {
    let data = js_sys::Array::new();
    data.push(&x_name.into());
    for (name, points) in series.clone() {
        let flat: Vec<f64> = points.iter().flat_map(|&(x, y)| [x, y]).collect();
        data.push(&js_sys::Array::of2(
            &name.into(),
            &js_sys::Float64Array::from(&flat[..]),
        ));
    }
    let _ = js_sys::Reflect::set(canvas, &CSV_PROP.into(), &data);
    label(canvas, title, &latest(x_name, series));
}

fn label(canvas: &web_sys::HtmlCanvasElement, title: &str, alt: &str) {
    let _ = canvas.set_attribute("role", "img");
    let label = if alt.is_empty() {
        title.to_string()
    } else {
        format!("{title}: {alt}")
    };
    if canvas.get_attribute("aria-label").as_deref() != Some(label.as_str()) {
        let _ = canvas.set_attribute("aria-label", &label);
    }
}

/// What [`record_series`] stored, as CSV; a string stored by [`record`] as it is.
fn stored_csv(value: &wasm_bindgen::JsValue) -> Option<String> {
    if let Some(s) = value.as_string() {
        return Some(s);
    }
    let data: &js_sys::Array = value.dyn_ref()?;
    let x_name = data.get(0).as_string().unwrap_or_else(|| "x".into());
    let mut owned = Vec::new();
    for entry in data.iter().skip(1) {
        let pair: js_sys::Array = entry.dyn_into().ok()?;
        let name = pair.get(0).as_string().unwrap_or_default();
        let flat = js_sys::Float64Array::new(&pair.get(1)).to_vec();
        let points: Vec<(f64, f64)> = flat.chunks_exact(2).map(|p| (p[0], p[1])).collect();
        owned.push((name, points));
    }
    Some(
        series_csv(
            &x_name,
            owned.iter().map(|(n, p)| (n.as_str(), p.as_slice())),
        )
        .0,
    )
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Named series as long-form CSV (`series,<x>,value`, one row per point) and their latest
/// values in words.
pub fn series_csv<'a>(
    x_name: &str,
    series: impl IntoIterator<Item = (&'a str, &'a [(f64, f64)])> + Clone,
) -> (String, String) {
    let mut csv = format!("series,{},value\n", field(x_name));
    for (name, points) in series.clone() {
        for &(x, y) in points {
            csv.push_str(&format!("{},{x},{y}\n", field(name)));
        }
    }
    (csv, latest(x_name, series))
}

/// The series' latest values in words ("latest: train loss 0.012 at step 300; …").
pub fn latest<'a>(
    x_name: &str,
    series: impl IntoIterator<Item = (&'a str, &'a [(f64, f64)])>,
) -> String {
    let parts: Vec<String> = series
        .into_iter()
        .filter_map(|(name, points)| {
            let &(x, y) = points.last()?;
            let name = if name.is_empty() { "value" } else { name };
            let x = if x.fract() == 0.0 && x.abs() < 1e9 {
                format!("{x:.0}")
            } else {
                crate::format::fmt_sig(x as f32)
            };
            Some(format!(
                "{name} {} at {x_name} {x}",
                crate::format::fmt_sig(y as f32)
            ))
        })
        .take(8)
        .collect();
    if parts.is_empty() {
        "nothing drawn yet".to_string()
    } else {
        format!("latest: {}", parts.join("; "))
    }
}

/// A row-major `rows × cols` matrix as CSV with its row and column names.
pub fn matrix_csv(
    corner: &str,
    row_names: &[String],
    col_names: &[String],
    values: &[f32],
) -> String {
    let mut csv = field(corner);
    for c in col_names {
        csv.push(',');
        csv.push_str(&field(c));
    }
    csv.push('\n');
    for (r, name) in row_names.iter().enumerate() {
        csv.push_str(&field(name));
        for c in 0..col_names.len() {
            csv.push(',');
            if let Some(v) = values.get(r * col_names.len() + c) {
                csv.push_str(&v.to_string());
            }
        }
        csv.push('\n');
    }
    csv
}

/// Every canvas under `root` that is shown, in document order.
fn canvases(root: &web_sys::Element) -> Vec<web_sys::HtmlCanvasElement> {
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(el) = stack.pop() {
        if let Ok(c) = el.clone().dyn_into::<web_sys::HtmlCanvasElement>() {
            if c.client_width() > 0 {
                out.push(c);
            }
        }
        let mut kids = Vec::new();
        let mut child = el.first_element_child();
        while let Some(k) = child {
            child = k.next_element_sibling();
            kids.push(k);
        }
        stack.extend(kids.into_iter().rev());
    }
    out
}

/// One PNG of the figure's shown canvases side by side (one canvas: itself).
fn png_url(shown: &[web_sys::HtmlCanvasElement]) -> Result<String, String> {
    let js = |e: wasm_bindgen::JsValue| format!("{e:?}");
    match shown {
        [] => Err("nothing is drawn yet".into()),
        [one] => one.to_data_url().map_err(js),
        many => {
            let doc = web_sys::window()
                .and_then(|w| w.document())
                .ok_or("no document")?;
            let out: web_sys::HtmlCanvasElement = doc
                .create_element("canvas")
                .map_err(js)?
                .dyn_into()
                .map_err(|_| "not a canvas")?;
            let width: u32 = many.iter().map(|c| c.width()).sum();
            let height = many.iter().map(|c| c.height()).max().unwrap_or(1);
            out.set_width(width.max(1));
            out.set_height(height.max(1));
            let ctx: web_sys::CanvasRenderingContext2d = out
                .get_context("2d")
                .map_err(js)?
                .ok_or("no 2D canvas context")?
                .dyn_into()
                .map_err(|_| "no 2D canvas context")?;
            ctx.set_fill_style_str("white");
            ctx.fill_rect(0.0, 0.0, f64::from(width), f64::from(height));
            let mut x = 0.0;
            for c in many {
                ctx.draw_image_with_html_canvas_element(c, x, 0.0)
                    .map_err(js)?;
                x += f64::from(c.width());
            }
            out.to_data_url().map_err(js)
        }
    }
}

/// The CSV recorded on the figure's canvases (several: one block each, a blank line between).
fn recorded_csv(shown: &[web_sys::HtmlCanvasElement]) -> Option<String> {
    let blocks: Vec<String> = shown
        .iter()
        .filter_map(|c| stored_csv(&js_sys::Reflect::get(c, &CSV_PROP.into()).ok()?))
        .collect();
    (!blocks.is_empty()).then(|| blocks.join("\n"))
}

/// A chart's frame: a tool row (ⓘ, PNG, CSV), the explanation (hidden until asked), the chart.
/// `id` names the files (`neurolab-<lab>-<id>.png`) and the test ids (`explain-<id>`,
/// `png-<id>`, `csv-<id>`); `csv` overrides the canvases' recorded data (painted pixels).
pub fn figure(
    shell: Shell,
    id: &'static str,
    about: &'static About,
    class: &'static str,
    hidden: impl Fn() -> bool + Send + Sync + 'static,
    csv: Option<Callback<(), Option<String>>>,
    content: impl IntoView,
) -> impl IntoView {
    let root = NodeRef::<leptos::html::Figure>::new();
    let open = RwSignal::new(false);
    let explain = shell.shown("explain");
    let file = move |ext: &str| {
        format!(
            "neurolab-{}-{id}.{ext}",
            shell.link.with_untracked(|l| l.lab.name())
        )
    };
    let shown = move || {
        root.get_untracked()
            .map(|f| canvases(&f))
            .unwrap_or_default()
    };
    let png = move |_| {
        let name = file("png");
        let result = png_url(&shown()).and_then(|url| crate::browser::download_url(&name, &url));
        shell.say(match result {
            Ok(()) => format!("downloaded {name}"),
            Err(e) => format!("no PNG: {e}"),
        });
    };
    let csv_click = move |_| {
        let name = file("csv");
        let data = match csv {
            Some(cb) => cb.run(()),
            None => recorded_csv(&shown()),
        };
        shell.say(match data {
            Some(text) => match crate::browser::download(&name, "text/csv", text.as_bytes()) {
                Ok(()) => format!("downloaded {name}"),
                Err(e) => e,
            },
            None => "no data yet: run the experiment first".into(),
        });
    };
    let class = if class.is_empty() {
        "chart".to_string()
    } else {
        format!("chart {class}")
    };
    view! {
        <figure class=class node_ref=root data-figure=id hidden=hidden>
            <div class="chart-tools">
                <button
                    class="icon"
                    data-testid=format!("explain-{id}")
                    hidden=move || !explain()
                    aria-expanded=move || open.get().to_string()
                    aria-label="what am I seeing?"
                    title="what am I seeing?"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    <span class="info" aria-hidden="true">"i"</span>
                </button>
                <button class="icon" data-testid=format!("png-{id}") title="download the chart as PNG" on:click=png>
                    "PNG"
                </button>
                <button class="icon" data-testid=format!("csv-{id}") title="download the chart's data as CSV" on:click=csv_click>
                    "CSV"
                </button>
            </div>
            <div class="explain" role="note" data-testid=format!("about-{id}") hidden=move || !(open.get() && explain())>
                <p>{about.what}</p>
                <p class="muted">"From: " {about.paper}</p>
            </div>
            {content}
        </figure>
    }
}

/// The lab's own "what am I seeing": what the page is about, behind an ⓘ.
pub fn lab_about(shell: Shell, about: &'static About) -> impl IntoView {
    let open = RwSignal::new(false);
    let explain = shell.shown("explain");
    view! {
        <div class="lab-about" hidden=move || !explain()>
            <button
                data-testid="explain-lab"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="info" aria-hidden="true">"i"</span>
                " What am I seeing?"
            </button>
            <div class="explain" role="note" data-testid="about-lab" hidden=move || !open.get()>
                <p>{about.what}</p>
                <p class="muted">"From: " {about.paper}</p>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_become_long_csv_and_their_latest_values_in_words() {
        let train = [(0.0, 2.0), (100.0, 0.5)];
        let (csv, alt) = series_csv("step", [("train, loss", &train[..]), ("empty", &[][..])]);
        assert_eq!(
            csv,
            "series,step,value\n\"train, loss\",0,2\n\"train, loss\",100,0.5\n"
        );
        assert!(alt.starts_with("latest: train, loss 0.5"), "{alt}");
        assert!(alt.ends_with(" at step 100"), "{alt}");
        assert_eq!(
            latest("x", Vec::<(&str, &[(f64, f64)])>::new()),
            "nothing drawn yet"
        );
    }

    #[test]
    fn matrices_keep_their_names() {
        let csv = matrix_csv(
            "k\\step",
            &["1".into(), "2".into()],
            &["0".into(), "50".into()],
            &[0.1, 0.2, 0.3, 0.4],
        );
        assert_eq!(csv, "k\\step,0,50\n1,0.1,0.2\n2,0.3,0.4\n");
    }
}
