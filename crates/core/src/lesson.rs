//! Lessons: guided tours a teacher writes as one plain Markdown file (`lessons/<name>.md`).
//!
//! ```text
//! ---
//! title: Grokking and its Fourier features
//! summary: Watch a network memorise, then generalise.
//! ---
//!
//! # Memorise first
//! ---
//! link: v=1&lab=grok&p=53
//! ask: What will the test accuracy do while the train accuracy reaches 100 %?
//! - It rises with the train accuracy
//! - [x] It stays near chance, then jumps
//! answer: It stays at chance for thousands of steps: the network memorises first.
//! ---
//! Press **Run** and watch the accuracy chart.
//! ```
//!
//! The file's front matter names the lesson; each step is a `# title` line, its own front
//! matter (`link:` the experiment of the step, required; optionally a predict-then-reveal
//! question: `ask:`, two or more `- choice` lines with exactly one `- [x]`, and `answer:`), then
//! its text (paragraphs; `**bold**`, `*emphasis*`, `` `code` `` and `- ` lists, see [`inline`]).
//! Every step's link is decoded strictly; a mistake gives a message naming the line.

use crate::link::LabLink;
use serde::{Deserialize, Serialize};

/// Most steps in a lesson, and most characters in a lesson file.
pub const MAX_STEPS: usize = 50;
pub const MAX_LEN: usize = 200_000;

/// A parsed lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// The file's name without `.md` (what a lesson link names).
    pub name: String,
    pub title: String,
    pub summary: String,
    pub steps: Vec<Step>,
}

/// One step: its text, the experiment it opens, and optionally a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub title: String,
    /// The step's experiment as a link fragment (decoded strictly when parsed).
    pub link: String,
    pub question: Option<Question>,
    /// The text as blocks: paragraphs and lists.
    pub text: Vec<Block>,
}

/// A predict-then-reveal question: the reader picks a choice before running; the answer is
/// shown after the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub ask: String,
    pub choices: Vec<String>,
    pub correct: usize,
    pub answer: String,
}

/// A block of a step's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Block {
    Paragraph(String),
    List(Vec<String>),
}

/// A run of inline text: plain, bold, emphasis or code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span<'a> {
    Plain(&'a str),
    Bold(&'a str),
    Emphasis(&'a str),
    Code(&'a str),
}

/// What is wrong with a lesson file, naming its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LessonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for LessonError {}

impl Lesson {
    /// Parse lesson `name` (a file `<name>.md`) from its text.
    pub fn parse(name: &str, text: &str) -> Result<Lesson, LessonError> {
        let file = format!("{name}.md");
        let err = |line: usize, message: String| LessonError {
            file: file.clone(),
            line,
            message,
        };
        if !valid_name(name) {
            return Err(err(
                0,
                format!("a lesson's name is lowercase letters, digits and '-', got '{name}'"),
            ));
        }
        if text.len() > MAX_LEN {
            return Err(err(
                0,
                format!(
                    "a lesson is at most {MAX_LEN} characters, this one has {}",
                    text.len()
                ),
            ));
        }
        let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
        let mut at = 0;
        skip_blank(&lines, &mut at);
        let (head, head_line) = front_matter(&lines, &mut at).map_err(|(l, m)| err(l, m))?;
        let head_line = head_line.ok_or_else(|| {
            err(
                1,
                "a lesson starts with its front matter: a '---' line, 'title: …', '---'".into(),
            )
        })?;
        let mut title = None;
        let mut summary = String::new();
        for (line, key, value) in head {
            match key {
                "title" => title = Some(value.to_string()),
                "summary" => summary = value.to_string(),
                other => {
                    return Err(err(
                        line,
                        format!(
                            "unknown key '{other}' in the lesson's front matter (title, summary)"
                        ),
                    ))
                }
            }
        }
        let title = title.filter(|t| !t.is_empty()).ok_or_else(|| {
            err(
                head_line,
                "the lesson's front matter needs 'title: …'".into(),
            )
        })?;
        let mut steps = Vec::new();
        skip_blank(&lines, &mut at);
        while at < lines.len() {
            let (line, text) = lines[at];
            let Some(step_title) = text.strip_prefix("# ") else {
                return Err(err(
                    line,
                    format!("expected a step's '# title' line, found '{}'", clip(text)),
                ));
            };
            at += 1;
            let step_line = line;
            let (meta, meta_line) = front_matter(&lines, &mut at).map_err(|(l, m)| err(l, m))?;
            if meta_line.is_none() {
                return Err(err(
                    step_line,
                    "a step's title is followed by its front matter: '---', 'link: …', '---'"
                        .into(),
                ));
            }
            let step = step_from(step_title.trim(), step_line, meta).map_err(|(l, m)| err(l, m))?;
            let body_start = at;
            while at < lines.len() && !lines[at].1.starts_with("# ") {
                at += 1;
            }
            let text = blocks(&lines[body_start..at]);
            steps.push(Step { text, ..step });
            if steps.len() > MAX_STEPS {
                return Err(err(
                    step_line,
                    format!("a lesson has at most {MAX_STEPS} steps"),
                ));
            }
        }
        if steps.is_empty() {
            return Err(err(
                lines.len().max(1),
                "a lesson needs at least one step ('# title' and its front matter)".into(),
            ));
        }
        Ok(Lesson {
            name: name.to_string(),
            title,
            summary,
            steps,
        })
    }
}

/// Whether `name` can name a lesson (and a lesson link): `[a-z0-9-]{1,40}`.
pub fn valid_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A lesson link's value, `<name>.<step>` (steps count from 1): the name and the step index.
pub fn parse_ref(value: &str) -> Option<(String, usize)> {
    let (name, step) = value.rsplit_once('.')?;
    let step: usize = step.parse().ok()?;
    (valid_name(name) && step >= 1 && step <= MAX_STEPS).then(|| (name.to_string(), step - 1))
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

fn skip_blank(lines: &[(usize, &str)], at: &mut usize) {
    while *at < lines.len() && lines[*at].1.trim().is_empty() {
        *at += 1;
    }
}

type Meta<'a> = Vec<(usize, &'a str, &'a str)>;

/// A `---` … `---` block at `at` (if there is one): its `key: value` lines, with `- choice`
/// lines as key `-`; the opening line's number.
fn front_matter<'a>(
    lines: &[(usize, &'a str)],
    at: &mut usize,
) -> Result<(Meta<'a>, Option<usize>), (usize, String)> {
    if *at >= lines.len() || lines[*at].1.trim() != "---" {
        return Ok((Vec::new(), None));
    }
    let open = lines[*at].0;
    *at += 1;
    let mut out = Vec::new();
    while *at < lines.len() {
        let (line, text) = lines[*at];
        *at += 1;
        let text = text.trim();
        if text == "---" {
            return Ok((out, Some(open)));
        }
        if text.is_empty() {
            continue;
        }
        if let Some(choice) = text.strip_prefix("- ") {
            out.push((line, "-", choice.trim()));
        } else if let Some((key, value)) = text.split_once(':') {
            out.push((line, key.trim(), value.trim()));
        } else {
            return Err((
                line,
                format!(
                    "expected 'key: value' or '- choice' in the front matter, found '{}'",
                    clip(text)
                ),
            ));
        }
    }
    Err((open, "this front matter's '---' is never closed".into()))
}

fn step_from(title: &str, line: usize, meta: Meta<'_>) -> Result<Step, (usize, String)> {
    if title.is_empty() {
        return Err((line, "a step needs a title after '# '".into()));
    }
    let (mut link, mut ask, mut answer) = (None, None, None);
    let mut choices = Vec::new();
    let mut correct = Vec::new();
    let mut last_line = line;
    for (l, key, value) in meta {
        last_line = l;
        match key {
            "link" => {
                let fragment = value.trim_start_matches('#');
                LabLink::decode(fragment)
                    .map_err(|e| (l, format!("the step's link does not open: {e}")))?;
                link = Some(fragment.to_string());
            }
            "ask" => ask = Some((l, value.to_string())),
            "answer" => answer = Some(value.to_string()),
            "-" => {
                let (text, right) = match value.strip_prefix("[x]") {
                    Some(rest) => (rest.trim(), true),
                    None => (value, false),
                };
                if text.is_empty() {
                    return Err((l, "an empty choice".into()));
                }
                if right {
                    correct.push(choices.len());
                }
                choices.push(text.to_string());
            }
            other => {
                return Err((
                    l,
                    format!(
                    "unknown key '{other}' in a step's front matter (link, ask, - choice, answer)"
                ),
                ))
            }
        }
    }
    let link = link.ok_or((
        line,
        format!("step '{title}' needs 'link: …' (its experiment)"),
    ))?;
    let question = match ask {
        None if !choices.is_empty() || answer.is_some() => {
            return Err((
                last_line,
                "choices and an answer need a question: 'ask: …'".into(),
            ))
        }
        None => None,
        Some((l, ask)) => {
            if choices.len() < 2 {
                return Err((
                    l,
                    format!(
                        "a question needs at least two '- choice' lines, got {}",
                        choices.len()
                    ),
                ));
            }
            if correct.len() != 1 {
                return Err((
                    l,
                    format!(
                        "a question needs exactly one right choice marked '- [x]', got {}",
                        correct.len()
                    ),
                ));
            }
            Some(Question {
                ask,
                choices,
                correct: correct[0],
                answer: answer.unwrap_or_default(),
            })
        }
    };
    Ok(Step {
        title: title.to_string(),
        link,
        question,
        text: Vec::new(),
    })
}

/// Paragraphs (blank-line separated, lines joined) and `- ` lists.
fn blocks(lines: &[(usize, &str)]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Vec<String> = Vec::new();
    let flush = |para: &mut Vec<&str>, list: &mut Vec<String>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Paragraph(para.join(" ")));
            para.clear();
        }
        if !list.is_empty() {
            out.push(Block::List(std::mem::take(list)));
        }
    };
    for &(_, text) in lines {
        let t = text.trim();
        if t.is_empty() {
            flush(&mut para, &mut list, &mut out);
        } else if let Some(item) = t.strip_prefix("- ") {
            if !para.is_empty() {
                out.push(Block::Paragraph(para.join(" ")));
                para.clear();
            }
            list.push(item.to_string());
        } else if !list.is_empty() && text.starts_with("  ") {
            let last = list.last_mut().expect("not empty");
            last.push(' ');
            last.push_str(t);
        } else {
            if !list.is_empty() {
                out.push(Block::List(std::mem::take(&mut list)));
            }
            para.push(t);
        }
    }
    flush(&mut para, &mut list, &mut out);
    out
}

/// Inline Markdown: `**bold**`, `*emphasis*`, `` `code` ``; an unclosed marker stays text.
pub fn inline(text: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let rest = text;
    let mut plain_from = 0;
    let mut pos = 0;
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        let marker = if rest[pos..].starts_with("**") {
            "**"
        } else if rest[pos..].starts_with('*') {
            "*"
        } else if rest[pos..].starts_with('`') {
            "`"
        } else {
            pos += rest[pos..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let inner_from = pos + marker.len();
        match rest[inner_from..].find(marker) {
            Some(len) if len > 0 => {
                if pos > plain_from {
                    out.push(Span::Plain(&rest[plain_from..pos]));
                }
                let inner = &rest[inner_from..inner_from + len];
                out.push(match marker {
                    "**" => Span::Bold(inner),
                    "*" => Span::Emphasis(inner),
                    _ => Span::Code(inner),
                });
                pos = inner_from + len + marker.len();
                plain_from = pos;
            }
            _ => pos += marker.len(),
        }
    }
    if plain_from < rest.len() {
        out.push(Span::Plain(&rest[plain_from..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "---\ntitle: A lesson\nsummary: One line.\n---\n\n# First\n---\nlink: v=1&lab=grok&p=53\nask: What happens?\n- this\n- [x] that\nanswer: that, because.\n---\nPress **Run**, then *look*.\nSecond line.\n\n- one\n- two\n\n# Second\n---\nlink: #v=1&lab=spike&preset=izhikevich2003\n---\nThe raster.\n";

    #[test]
    fn a_lesson_parses_into_steps_with_questions_and_text() {
        let l = Lesson::parse("good", GOOD).unwrap();
        assert_eq!(l.title, "A lesson");
        assert_eq!(l.summary, "One line.");
        assert_eq!(l.steps.len(), 2);
        let q = l.steps[0].question.as_ref().unwrap();
        assert_eq!(q.choices, ["this", "that"]);
        assert_eq!(q.correct, 1);
        assert_eq!(q.answer, "that, because.");
        assert_eq!(
            l.steps[0].text,
            [
                Block::Paragraph("Press **Run**, then *look*. Second line.".into()),
                Block::List(vec!["one".into(), "two".into()])
            ]
        );
        assert_eq!(l.steps[1].link, "v=1&lab=spike&preset=izhikevich2003");
        assert!(l.steps[1].question.is_none());
    }

    fn error(text: &str) -> String {
        Lesson::parse("bad", text).unwrap_err().to_string()
    }

    #[test]
    fn a_malformed_lesson_names_the_line() {
        let no_link = GOOD.replace("link: v=1&lab=grok&p=53\n", "");
        assert_eq!(
            error(&no_link),
            "bad.md line 6: step 'First' needs 'link: …' (its experiment)"
        );
        let bad_link = GOOD.replace("p=53", "p=54");
        let e = error(&bad_link);
        assert!(
            e.starts_with("bad.md line 8: the step's link does not open:"),
            "{e}"
        );
        assert!(e.contains("prime"), "{e}");
        let two_right = GOOD.replace("- this", "- [x] this");
        assert_eq!(
            error(&two_right),
            "bad.md line 9: a question needs exactly one right choice marked '- [x]', got 2"
        );
        let one_choice = GOOD.replace("- this\n", "");
        assert_eq!(
            error(&one_choice),
            "bad.md line 9: a question needs at least two '- choice' lines, got 1"
        );
        let unknown = GOOD.replace("answer:", "answr:");
        assert!(
            error(&unknown).starts_with("bad.md line 12: unknown key 'answr'"),
            "{}",
            error(&unknown)
        );
        let open = "---\ntitle: x\n";
        assert_eq!(
            error(open),
            "bad.md line 1: this front matter's '---' is never closed"
        );
        let stray = GOOD.replace("\n# Second", "\nstray text\n# Second");
        // Stray text belongs to the first step's body; a step without '# ' at the top is an error.
        assert!(Lesson::parse("bad", &stray).is_ok());
        let no_head = "# First\n---\nlink: v=1&lab=grok\n---\n";
        assert_eq!(
            error(no_head),
            "bad.md line 1: a lesson starts with its front matter: a '---' line, 'title: …', '---'"
        );
        assert_eq!(
            error("---\ntitle: t\n---\n"),
            "bad.md line 3: a lesson needs at least one step ('# title' and its front matter)"
        );
        let not_a_step = "---\ntitle: t\n---\nhello\n";
        assert_eq!(
            error(not_a_step),
            "bad.md line 4: expected a step's '# title' line, found 'hello'"
        );
        assert!(Lesson::parse("Bad Name", GOOD)
            .unwrap_err()
            .message
            .contains("lowercase"));
    }

    #[test]
    fn inline_markdown_spans() {
        assert_eq!(
            inline("a **b** *c* `d` e*"),
            [
                Span::Plain("a "),
                Span::Bold("b"),
                Span::Plain(" "),
                Span::Emphasis("c"),
                Span::Plain(" "),
                Span::Code("d"),
                Span::Plain(" e*")
            ]
        );
        assert_eq!(inline("π ≈ 3"), [Span::Plain("π ≈ 3")]);
    }

    #[test]
    fn lesson_refs() {
        assert_eq!(parse_ref("grokking.2"), Some(("grokking".into(), 1)));
        assert_eq!(parse_ref("grokking.0"), None);
        assert_eq!(parse_ref("Grok.1"), None);
        assert_eq!(parse_ref("grokking"), None);
    }

    /// Every lesson shipped in `lessons/` parses, and every step's link opens.
    #[test]
    fn every_shipped_lesson_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lessons");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                let name = path.file_stem().unwrap().to_str().unwrap();
                let text = std::fs::read_to_string(&path).unwrap();
                let lesson = Lesson::parse(name, &text).unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    lesson.steps.len() >= 3,
                    "{name}: a lesson of {} steps",
                    lesson.steps.len()
                );
                assert!(
                    lesson.steps.iter().any(|s| s.question.is_some()),
                    "{name} asks nothing"
                );
                n += 1;
            }
        }
        assert!(n >= 4, "{n} lessons in {}", dir.display());
    }
}
