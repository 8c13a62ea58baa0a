//! The start page: a card for every lab's presets and every lesson, each with a picture (a
//! sketch of what that lab draws, seeded by the card) and one line; a card opens its link.

use crate::context::Shell;
use crate::labs::Labs;
use leptos::prelude::*;
use neurolab_core::link::LabLink;
use neurolab_core::LabKind;

/// A card: its title, its line, the lab it opens (for the picture) and its link.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub id: String,
    pub title: String,
    pub line: String,
    pub lab: LabKind,
    pub link: LabLink,
    /// A lesson's name, for its progress.
    pub lesson: Option<String>,
}

/// One line per lab, under its presets' names.
fn lab_line(lab: LabKind) -> &'static str {
    match lab {
        LabKind::Grok => "watch a network memorise a + b mod p, then grok it, while its Fourier features form",
        LabKind::Spike => "a spiking network's rhythms, STDP and a readout that learns what comes next and when",
        LabKind::Sae => "train a sparse autoencoder on a model's activations and browse, decode and clamp its features",
    }
}

/// Every card: the lessons first, then each lab's presets.
pub fn cards() -> Vec<Card> {
    let mut out: Vec<Card> = crate::lesson::lessons()
        .iter()
        .filter_map(|l| {
            let link = crate::lesson::step_link(l, 0)?;
            Some(Card {
                id: format!("lesson-{}", l.name),
                title: format!("Lesson: {}", l.title),
                line: l.summary.clone(),
                lab: link.lab,
                link,
                lesson: Some(l.name.clone()),
            })
        })
        .collect();
    for &lab in LabKind::ALL {
        for (name, label) in lab.presets() {
            let mut link = LabLink {
                lab,
                ..LabLink::default()
            };
            if !link.configs.set_preset(lab, name) {
                continue;
            }
            out.push(Card {
                id: format!("{}-{name}", lab.name()),
                title: format!("{}: {label}", lab.label()),
                line: lab_line(lab).to_string(),
                lab,
                link,
                lesson: None,
            });
        }
    }
    out
}

/// A small deterministic generator for the pictures.
fn noise(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 33) as f64) / f64::from(u32::MAX)
}

fn seed_of(id: &str) -> u64 {
    let h = id.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    // splitmix64's finaliser: near ids give unrelated seeds.
    let z = (h ^ (h >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// The picture's SVG paths for a card: (path data, stroke colour, fill) in a 120 × 60 box.
pub fn sketch(lab: LabKind, id: &str) -> Vec<(String, &'static str, bool)> {
    let mut seed = seed_of(id);
    match lab {
        LabKind::Grok => {
            // Train accuracy rises early, test accuracy late (the delay varies by card).
            let delay = 40.0 + 45.0 * noise(&mut seed);
            let curve = |mid: f64| {
                (0..=60)
                    .map(|i| {
                        let x = f64::from(i) * 2.0;
                        let y = 54.0 - 46.0 / (1.0 + (-(x - mid) / 5.0).exp());
                        format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" })
                    })
                    .collect::<String>()
            };
            vec![
                (curve(14.0), "#94a3b8", false),
                (curve(delay), "#2563eb", false),
            ]
        }
        LabKind::Spike => {
            // A raster with rhythmic stripes: dots, denser every period.
            let period = 14.0 + 10.0 * noise(&mut seed);
            let mut blue = String::new();
            let mut red = String::new();
            for row in 0..24 {
                for _ in 0..10 {
                    let mut x = noise(&mut seed) * 118.0;
                    if noise(&mut seed) < 0.6 {
                        x = (x / period).round() * period + (noise(&mut seed) - 0.5) * 3.0;
                    }
                    let y = 3.0 + f64::from(row) * 2.3;
                    let dot = format!("M{x:.1},{y:.1}h1.4");
                    if row < 19 {
                        blue.push_str(&dot);
                    } else {
                        red.push_str(&dot);
                    }
                }
            }
            vec![(blue, "#2563eb", false), (red, "#dc2626", false)]
        }
        LabKind::Sae => {
            // A feature-density histogram: a bell of bars, a few dead at the left.
            let centre = 55.0 + 30.0 * noise(&mut seed);
            let mut bars = String::new();
            for i in 0..20 {
                let x = 4.0 + f64::from(i) * 5.8;
                let h = 46.0 * (-((x - centre) / 22.0).powi(2)).exp() + 3.0 * noise(&mut seed);
                bars.push_str(&format!("M{x:.1},56v{:.1}h4v{:.1}z", -h, h));
            }
            let dead = format!("M2,56v{:.1}h3v{:.1}z", -8.0 - 10.0 * noise(&mut seed), 8.0);
            vec![(bars, "#2563eb", true), (dead, "#dc2626", true)]
        }
    }
}

fn picture(lab: LabKind, id: &str) -> impl IntoView {
    let paths = sketch(lab, id)
        .into_iter()
        .map(|(d, color, fill)| {
            let (fill, stroke) = if fill {
                (color, "none")
            } else {
                ("none", color)
            };
            view! { <path d=d fill=fill stroke=stroke stroke-width="1.6"></path> }
        })
        .collect_view();
    view! {
        <svg class="card-picture" viewBox="0 0 120 60" aria-hidden="true" focusable="false">
            <rect x="0" y="0" width="120" height="60" fill="#f8fafc"></rect>
            {paths}
        </svg>
    }
}

/// The gallery.
#[component]
pub fn Gallery() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let labs = expect_context::<Labs>();
    let progress = crate::lesson::all_progress();
    let cards = cards()
        .into_iter()
        .map(|card| {
            let done = card.lesson.as_ref().and_then(|name| {
                let p = progress.get(name)?;
                let n = crate::lesson::find(name)?.steps.len();
                Some(format!("you are at step {} of {n}", p.step + 1))
            });
            let Card {
                id,
                title,
                line,
                lab,
                link,
                lesson,
            } = card;
            let open = move |_| match &lesson {
                Some(name) => {
                    let step = crate::lesson::all_progress()
                        .get(name)
                        .map_or(0, |p| p.step);
                    if let Some(l) = crate::lesson::find(name) {
                        crate::lesson::open_step(shell, labs, l, step.min(l.steps.len() - 1));
                    }
                }
                None => {
                    shell.gallery.set(false);
                    labs.open_link(link.clone());
                }
            };
            view! {
                <li class="card">
                    <button class="card-open" data-testid=format!("card-{id}") on:click=open>
                        {picture(lab, &id)}
                        <strong class="card-title">{title}</strong>
                        <span class="card-line">{line}</span>
                        {done.map(|d| view! { <span class="card-progress muted">{d}</span> })}
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="gallery" data-testid="gallery" aria-label="gallery">
            <h2>"Start here"</h2>
            <p class="muted">
                "Every experiment runs in this tab, on your GPU (WebGPU) or the CPU. Pick a lesson for a guided tour, or a preset to explore; every page is a link that replays it."
            </p>
            <ul class="cards">{cards}</ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_and_lesson_has_a_card_whose_link_opens() {
        let cards = cards();
        let presets: usize = LabKind::ALL.iter().map(|l| l.presets().len()).sum();
        assert_eq!(cards.len(), presets + crate::lesson::lessons().len());
        for c in &cards {
            let again = LabLink::decode(&c.link.encode()).unwrap();
            assert_eq!(again, c.link, "{}", c.id);
            assert!(!sketch(c.lab, &c.id).is_empty());
        }
        let ids: std::collections::BTreeSet<_> = cards.iter().map(|c| &c.id).collect();
        assert_eq!(ids.len(), cards.len(), "card ids are unique");
    }
}
