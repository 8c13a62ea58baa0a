//! Lessons on the page: the shipped lesson files (`lessons/*.md`, parsed by
//! [`neurolab_core::lesson`]), the lesson panel above the lab (a step's text, its experiment
//! opened, a predict-then-reveal question, previous/next), and the reader's progress in local
//! storage. A lesson link (`#lesson=grokking.2`) opens at its step.

use crate::browser;
use crate::context::Shell;
use crate::labs::Labs;
use leptos::prelude::*;
use neurolab_core::lesson::{inline, parse_ref, Block, Lesson, Span};
use neurolab_core::link::LabLink;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The lessons shipped with the page, in the gallery's order (a new lesson file is one line
/// here; `crates/core/tests/architecture.rs` checks every file in `lessons/` is listed).
pub const SHIPPED: [(&str, &str); 4] = [
    ("grokking", include_str!("../lessons/grokking.md")),
    ("sae-grokked", include_str!("../lessons/sae-grokked.md")),
    ("decode-clamp", include_str!("../lessons/decode-clamp.md")),
    (
        "spiking-rhythm",
        include_str!("../lessons/spiking-rhythm.md"),
    ),
];

/// The shipped lessons, parsed once (a lesson that does not parse is left out and logged;
/// the native tests make sure none does).
pub fn lessons() -> &'static [Lesson] {
    static PARSED: OnceLock<Vec<Lesson>> = OnceLock::new();
    PARSED.get_or_init(|| {
        SHIPPED
            .iter()
            .filter_map(|(name, text)| match Lesson::parse(name, text) {
                Ok(l) => Some(l),
                Err(e) => {
                    leptos::logging::warn!("{e}");
                    None
                }
            })
            .collect()
    })
}

pub fn find(name: &str) -> Option<&'static Lesson> {
    lessons().iter().find(|l| l.name == name)
}

/// The link of a lesson's step: the step's experiment with the lesson named in it.
pub fn step_link(lesson: &Lesson, step: usize) -> Option<LabLink> {
    let s = lesson.steps.get(step)?;
    let mut link = LabLink::decode(&s.link).ok()?;
    link.view.lesson = Some(format!("{}.{}", lesson.name, step + 1));
    Some(link)
}

/// A fragment that names only a lesson step (`lesson=grokking.2`, no experiment): that step's
/// link; `None` for any other fragment (or an unknown lesson or step).
pub fn lesson_only_link(fragment: &str) -> Option<LabLink> {
    let value = fragment.trim_start_matches('#').strip_prefix("lesson=")?;
    if value.contains('&') {
        return None;
    }
    let (name, step) = parse_ref(value)?;
    step_link(find(&name)?, step)
}

/// What a reader has done in one lesson.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The step last opened (from 0).
    pub step: usize,
    /// The choice picked per step.
    #[serde(default)]
    pub answers: BTreeMap<usize, usize>,
    /// Steps whose answer was revealed.
    #[serde(default)]
    pub revealed: Vec<usize>,
}

const STORAGE_KEY: &str = "neurolab.lessons";

/// Every lesson's progress as kept in local storage (nothing kept or unreadable: none).
pub fn all_progress() -> BTreeMap<String, Progress> {
    browser::stored(STORAGE_KEY)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save_progress(name: &str, progress: &Progress) -> Result<(), String> {
    let mut all = all_progress();
    all.insert(name.to_string(), progress.clone());
    let text = serde_json::to_string(&all).map_err(|e| e.to_string())?;
    browser::store(STORAGE_KEY, &text)
}

/// Inline Markdown as views.
pub fn rich(text: &str) -> impl IntoView {
    inline(text)
        .into_iter()
        .map(|span| match span {
            Span::Plain(t) => t.to_string().into_any(),
            Span::Bold(t) => view! { <strong>{t.to_string()}</strong> }.into_any(),
            Span::Emphasis(t) => view! { <em>{t.to_string()}</em> }.into_any(),
            Span::Code(t) => view! { <code>{t.to_string()}</code> }.into_any(),
        })
        .collect_view()
}

fn blocks(text: &[Block]) -> impl IntoView {
    text.iter()
        .map(|b| match b {
            Block::Paragraph(p) => view! { <p>{rich(p)}</p> }.into_any(),
            Block::List(items) => view! {
                <ul>{items.iter().map(|i| view! { <li>{rich(i)}</li> }).collect_view()}</ul>
            }
            .into_any(),
        })
        .collect_view()
}

/// Open step `step` of `lesson`: its experiment, the progress kept.
pub fn open_step(shell: Shell, labs: Labs, lesson: &Lesson, step: usize) {
    let Some(link) = step_link(lesson, step) else {
        shell.say(format!("{} has no step {}", lesson.title, step + 1));
        return;
    };
    let mut progress = all_progress().remove(&lesson.name).unwrap_or_default();
    progress.step = step;
    if let Err(e) = save_progress(&lesson.name, &progress) {
        shell.say(format!("your progress is not kept: {e}"));
    }
    shell.gallery.set(false);
    labs.open_link(link);
}

/// The lesson panel: shown while the link names a lesson step.
#[component]
pub fn LessonPanel() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let labs = expect_context::<Labs>();
    let current = Memo::new(move |_| {
        shell
            .link
            .with(|l| l.view.lesson.clone())
            .and_then(|r| parse_ref(&r))
            .and_then(|(name, step)| Some((find(&name)?, step)))
            .filter(|(l, step)| *step < l.steps.len())
    });
    move || {
        let (lesson, step) = current.get()?;
        Some(step_view(shell, labs, lesson, step))
    }
}

fn step_view(shell: Shell, labs: Labs, lesson: &'static Lesson, step: usize) -> impl IntoView {
    let s = &lesson.steps[step];
    let n = lesson.steps.len();
    let kept = all_progress().remove(&lesson.name).unwrap_or_default();
    let chosen = RwSignal::new(kept.answers.get(&step).copied());
    let revealed = RwSignal::new(kept.revealed.contains(&step));
    let remember = move |f: &dyn Fn(&mut Progress)| {
        let mut p = all_progress().remove(&lesson.name).unwrap_or_default();
        p.step = step;
        f(&mut p);
        if let Err(e) = save_progress(&lesson.name, &p) {
            shell.say(format!("your progress is not kept: {e}"));
        }
    };
    let reveal = move || {
        if !revealed.get_untracked() {
            revealed.set(true);
            remember(&|p| {
                if !p.revealed.contains(&step) {
                    p.revealed.push(step);
                }
            });
        }
    };
    // The answer shows once the run has reached its end (or when the reader asks, after running).
    Effect::new(move |_| {
        if shell.activity.with(|a| a.finished) && chosen.with(Option::is_some) {
            reveal();
        }
    });
    let question = s.question.as_ref().map(|q| {
        let choices = q
            .choices
            .iter()
            .enumerate()
            .map(|(j, c)| {
                view! {
                    <label class="choice">
                        <input
                            type="radio"
                            name=format!("lesson-{}-{step}", lesson.name)
                            data-testid=format!("lesson-choice-{j}")
                            prop:checked=move || chosen.get() == Some(j)
                            disabled=move || revealed.get()
                            on:change=move |_| {
                                chosen.set(Some(j));
                                remember(&|p| {
                                    p.answers.insert(step, j);
                                });
                            }
                        />
                        {rich(c)}
                    </label>
                }
            })
            .collect_view();
        let correct = q.correct;
        let right_text = q.choices[correct].clone();
        let answer = q.answer.clone();
        view! {
            <fieldset class="lesson-question" data-testid="lesson-question">
                <legend>"Predict first: " {rich(&q.ask)}</legend>
                {choices}
                <p class="muted" hidden=move || chosen.with(Option::is_none) || revealed.get()>
                    "Now run the experiment: the answer shows when the run ends, or reveal it once you have seen enough."
                </p>
                <button
                    data-testid="lesson-reveal"
                    hidden=move || revealed.get()
                    disabled=move || chosen.with(Option::is_none) || !shell.activity.with(|a| a.ran)
                    on:click=move |_| reveal()
                >
                    "Reveal the answer"
                </button>
                <div class="lesson-answer" data-testid="lesson-answer" role="status" hidden=move || !revealed.get()>
                    <strong>
                        {move || match chosen.get() {
                            Some(j) if j == correct => "Right. ".to_string(),
                            Some(_) => format!("Not quite — the answer: {right_text}. "),
                            None => format!("The answer: {right_text}. "),
                        }}
                    </strong>
                    {rich(&answer)}
                </div>
            </fieldset>
        }
    });
    let go = move |to: usize| open_step(shell, labs, lesson, to);
    view! {
        <section class="lesson panel" data-testid="lesson" aria-label=format!("lesson: {}", lesson.title)>
            <div class="lesson-head">
                <strong>{lesson.title.clone()}</strong>
                <span class="muted" data-testid="lesson-step-count">
                    {format!(" · step {} of {n}", step + 1)}
                </span>
                <button class="close" aria-label="leave the lesson" data-testid="lesson-close" on:click=move |_| {
                    shell.link.update(|l| l.view.lesson = None);
                }>"×"</button>
            </div>
            <h2 data-testid="lesson-step-title">{s.title.clone()}</h2>
            <div class="lesson-text">{blocks(&s.text)}</div>
            {question}
            <nav class="lesson-nav" aria-label="lesson steps">
                <button data-testid="lesson-prev" disabled=step == 0 on:click=move |_| go(step - 1)>
                    "← Previous"
                </button>
                <button
                    class="primary"
                    data-testid="lesson-next"
                    disabled={step + 1 >= n}
                    on:click=move |_| go(step + 1)
                >
                    "Next step →"
                </button>
            </nav>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lesson_link_opens_its_step() {
        let link = lesson_only_link("#lesson=grokking.2").unwrap();
        assert_eq!(link.view.lesson.as_deref(), Some("grokking.2"));
        assert_eq!(link, step_link(find("grokking").unwrap(), 1).unwrap());
        assert!(lesson_only_link("lesson=grokking.99").is_none());
        assert!(lesson_only_link("lesson=nope.1").is_none());
        assert!(lesson_only_link("v=1&lab=grok&lesson=grokking.1").is_none());
    }

    #[test]
    fn every_shipped_lesson_parses_and_its_steps_open() {
        assert_eq!(lessons().len(), SHIPPED.len());
        for lesson in lessons() {
            for step in 0..lesson.steps.len() {
                let link = step_link(lesson, step).expect("the step opens");
                let again = LabLink::decode(&link.encode()).unwrap();
                assert_eq!(
                    again.view.lesson,
                    Some(format!("{}.{}", lesson.name, step + 1))
                );
            }
        }
    }
}
