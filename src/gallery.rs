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
                line: Labs::summary(lab).to_string(),
                lab,
                link,
                lesson: None,
            });
        }
    }
    out
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

/// The picture's SVG paths for a card (its lab's sketch, seeded by the card).
pub fn sketch(lab: LabKind, id: &str) -> Vec<(String, &'static str, bool)> {
    Labs::sketch(lab, &mut seed_of(id))
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
