//! The lab's text: the shipped corpora, generated from a seeded grammar by this code (no
//! download), and the user's own text; tokenisers (word-level for the shipped corpora, characters
//! for the user's text) and the train/validation streams.
//!
//! - `facts`: subject–relation–object statements over four relations (a country's capital, the
//!   language spoken there, an object's colour, the sound an animal makes), each in four training
//!   templates and two held-out templates; the object is always the last word, so a statement's
//!   words before it are the recall prompt.
//! - `stories`: short templated stories about a few characters, places and things.
//! - your text: any UTF-8 text up to [`TEXT_MAX_BYTES`], tokenised by characters.
//!
//! Plain data (no burn): the page tokenises prompts and checks a file with the same code.

use neurolab_base::rng::SeededRng;
use serde::{Deserialize, Serialize};

/// The largest text a user may train on.
pub const TEXT_MAX_BYTES: usize = 5_000_000;
/// The most distinct characters a user's text may have (its vocabulary).
pub const TEXT_MAX_VOCAB: usize = 512;
/// The separator between statements (and the first token of every recall prompt).
pub const SEP: &str = ".";

/// RNG streams.
const FACTS_STREAM: u64 = 31;
const STORIES_STREAM: u64 = 32;

/// Which text the model learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CorpusKind {
    Facts,
    Stories,
    /// The user's own text (pasted or uploaded).
    Text,
}

impl CorpusKind {
    pub const ALL: [CorpusKind; 3] = [CorpusKind::Facts, CorpusKind::Stories, CorpusKind::Text];
    pub fn name(self) -> &'static str {
        match self {
            CorpusKind::Facts => "facts",
            CorpusKind::Stories => "stories",
            CorpusKind::Text => "text",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
    /// Word-level tokens (the shipped corpora) or characters (the user's text).
    pub fn word_level(self) -> bool {
        self != CorpusKind::Text
    }
}

/// One relation of the `facts` corpus: its subjects and objects, and its templates (`{s}` is the
/// subject; the object follows the template's last word).
pub struct Relation {
    pub name: &'static str,
    pub pairs: &'static [(&'static str, &'static str)],
    pub templates: &'static [&'static str],
    pub held_out: &'static [&'static str],
}

/// Country, capital and language, one row each (the capital and language relations).
macro_rules! capitals {
    ($($c:literal $city:literal $lang:literal;)*) => {
        const CAPITALS: &[(&str, &str)] = &[$(($c, $city)),*];
        const LANGUAGES: &[(&str, &str)] = &[$(($c, $lang)),*];
    };
}
capitals! {
    "france" "paris" "french"; "spain" "madrid" "spanish"; "italy" "rome" "italian";
    "germany" "berlin" "german"; "portugal" "lisbon" "portuguese"; "greece" "athens" "greek";
    "poland" "warsaw" "polish"; "sweden" "stockholm" "swedish"; "norway" "oslo" "norwegian";
    "finland" "helsinki" "finnish"; "russia" "moscow" "russian"; "japan" "tokyo" "japanese";
    "china" "beijing" "chinese"; "korea" "seoul" "korean"; "egypt" "cairo" "arabic";
    "turkey" "ankara" "turkish"; "hungary" "budapest" "hungarian";
    "netherlands" "amsterdam" "dutch"; "denmark" "copenhagen" "danish";
    "thailand" "bangkok" "thai";
}

const COLOURS: &[(&str, &str)] = &[
    ("banana", "yellow"),
    ("lemon", "yellow"),
    ("grass", "green"),
    ("leaf", "green"),
    ("frog", "green"),
    ("sky", "blue"),
    ("ocean", "blue"),
    ("snow", "white"),
    ("milk", "white"),
    ("cloud", "white"),
    ("coal", "black"),
    ("crow", "black"),
    ("blood", "red"),
    ("tomato", "red"),
    ("cherry", "red"),
    ("carrot", "orange"),
    ("pumpkin", "orange"),
    ("plum", "purple"),
    ("chocolate", "brown"),
    ("elephant", "grey"),
];

const SOUNDS: &[(&str, &str)] = &[
    ("dog", "woof"),
    ("cat", "meow"),
    ("cow", "moo"),
    ("duck", "quack"),
    ("sheep", "baa"),
    ("lion", "roar"),
    ("snake", "hiss"),
    ("owl", "hoot"),
    ("horse", "neigh"),
    ("pig", "oink"),
    ("toad", "croak"),
    ("bee", "buzz"),
    ("wolf", "howl"),
    ("mouse", "squeak"),
    ("raven", "caw"),
    ("donkey", "bray"),
];

/// The four relations of the `facts` corpus.
pub static RELATIONS: &[Relation] = &[
    Relation {
        name: "capital",
        pairs: CAPITALS,
        templates: &[
            "the capital of {s} is",
            "{s} has its capital in",
            "the seat of government of {s} is",
            "{s} 's capital city is",
        ],
        held_out: &[
            "the capital city of {s} is",
            "the government of {s} sits in",
        ],
    },
    Relation {
        name: "language",
        pairs: LANGUAGES,
        templates: &[
            "in {s} people speak",
            "the language of {s} is",
            "people from {s} speak",
            "the main language in {s} is",
        ],
        held_out: &[
            "the official language of {s} is",
            "most people in {s} speak",
        ],
    },
    Relation {
        name: "colour",
        pairs: COLOURS,
        templates: &[
            "the colour of {s} is",
            "the {s} looks",
            "{s} has the colour",
            "you can tell {s} by its colour",
        ],
        held_out: &["the usual colour of {s} is", "a picture of {s} is painted"],
    },
    Relation {
        name: "sound",
        pairs: SOUNDS,
        templates: &[
            "the {s} says",
            "the sound of the {s} is",
            "a {s} makes the sound",
            "you hear the {s} go",
        ],
        held_out: &["the noise a {s} makes is", "every {s} says"],
    },
];

/// The relation names, in order.
pub fn relation_names() -> Vec<String> {
    RELATIONS.iter().map(|r| r.name.to_string()).collect()
}

fn fill(template: &str, subject: &str) -> String {
    template.replace("{s}", subject)
}

/// One recall prompt: a statement's words before its object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactPrompt {
    pub relation: u32,
    pub subject: String,
    pub object: String,
    /// Index of the template within its relation's training (or held-out) list.
    pub template: u32,
    pub held_out: bool,
    /// `.` then the template's words.
    pub tokens: Vec<u32>,
    pub answer: u32,
}

/// A tokenised corpus with its train and validation streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    pub kind: CorpusKind,
    /// Token id → its text (a word, or a character).
    pub vocab: Vec<String>,
    pub train: Vec<u32>,
    /// `facts`: the held-out templates' statements; otherwise text the model never trains on.
    pub val: Vec<u32>,
    /// `facts` only: every fact under every template.
    pub prompts: Vec<FactPrompt>,
}

/// Why a text cannot be trained on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TextError {
    #[error("the file is empty: give some text to train on")]
    Empty,
    #[error(
        "the file is {0} bytes; the lab trains on at most {TEXT_MAX_BYTES} bytes (5 MB) of text"
    )]
    TooLarge(usize),
    #[error(
        "the file is not UTF-8 text (byte {0} is not valid UTF-8): save it as UTF-8 plain text"
    )]
    NotUtf8(usize),
    #[error("the file looks binary ({0} control bytes, e.g. NUL): give a plain .txt file")]
    Binary(usize),
    #[error("the text has {0} distinct characters; the lab takes at most {TEXT_MAX_VOCAB}")]
    TooManySymbols(usize),
    #[error(
        "the text has {0} characters; it needs at least {1} (two contexts and a validation part)"
    )]
    TooShort(usize, usize),
}

/// A user's file as text: refused when empty, too large, not UTF-8 or binary.
pub fn read_text(bytes: &[u8]) -> Result<String, TextError> {
    if bytes.len() > TEXT_MAX_BYTES {
        return Err(TextError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| TextError::NotUtf8(e.valid_up_to()))?;
    check_text(text)?;
    Ok(text.to_string())
}

/// The checks on a text already decoded (pasted text, a config's text).
pub fn check_text(text: &str) -> Result<(), TextError> {
    if text.len() > TEXT_MAX_BYTES {
        return Err(TextError::TooLarge(text.len()));
    }
    if text.trim().is_empty() {
        return Err(TextError::Empty);
    }
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    if text.contains('\0') || control * 100 > text.chars().count() {
        return Err(TextError::Binary(control));
    }
    let mut symbols: Vec<char> = text.chars().collect();
    symbols.sort_unstable();
    symbols.dedup();
    if symbols.len() > TEXT_MAX_VOCAB {
        return Err(TextError::TooManySymbols(symbols.len()));
    }
    Ok(())
}

/// A short fingerprint of a text (FNV-1a, 64 bits), so that a link can name the text it trained
/// on without carrying it.
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Builds the vocabulary while tokenising.
#[derive(Default)]
struct Vocab {
    words: Vec<String>,
    index: std::collections::HashMap<String, u32>,
}

impl Vocab {
    fn id(&mut self, w: &str) -> u32 {
        if let Some(&i) = self.index.get(w) {
            return i;
        }
        let i = self.words.len() as u32;
        self.words.push(w.to_string());
        self.index.insert(w.to_string(), i);
        i
    }
    fn words(&mut self, text: &str) -> Vec<u32> {
        text.split_whitespace().map(|w| self.id(w)).collect()
    }
}

/// The statements of `facts` under the training (`held_out = false`) or held-out templates:
/// (relation, subject, object, template index, text without the object).
fn statements(held_out: bool) -> Vec<(u32, &'static str, &'static str, u32, String)> {
    let mut out = Vec::new();
    for (r, rel) in RELATIONS.iter().enumerate() {
        let templates = if held_out {
            rel.held_out
        } else {
            rel.templates
        };
        for &(s, o) in rel.pairs {
            for (t, tpl) in templates.iter().enumerate() {
                out.push((r as u32, s, o, t as u32, fill(tpl, s)));
            }
        }
    }
    out
}

/// A stream of about `tokens` tokens: every statement once per pass, in a new seeded order each
/// pass, each ending with `.`.
fn fact_stream(
    vocab: &mut Vocab,
    statements: &[(u32, &str, &str, u32, String)],
    tokens: usize,
    rng: &mut SeededRng,
) -> Vec<u32> {
    let tokenised: Vec<Vec<u32>> = statements
        .iter()
        .map(|(_, _, o, _, text)| {
            let mut t = vocab.words(text);
            t.push(vocab.id(o));
            t.push(vocab.id(SEP));
            t
        })
        .collect();
    let mut out = Vec::with_capacity(tokens + 16);
    let mut order: Vec<usize> = (0..tokenised.len()).collect();
    while out.len() < tokens {
        rng.shuffle(&mut order);
        for &i in &order {
            out.extend_from_slice(&tokenised[i]);
            if out.len() >= tokens {
                break;
            }
        }
    }
    out
}

const NAMES: &[&str] = &["anna", "ben", "cara", "dan", "eva", "finn", "gus", "hana"];
const PLACES: &[&str] = &[
    "park", "forest", "beach", "castle", "school", "market", "river", "garden",
];
const THINGS: &[&str] = &[
    "ball", "kite", "book", "hat", "shell", "key", "box", "map", "lamp", "drum",
];
const FEELINGS: &[&str] = &["happy", "sad", "tired", "brave", "scared", "proud"];
const WEATHER: &[&str] = &["sunny", "rainy", "windy", "cold", "warm"];
const ACTIONS: &[&str] = &[
    "ran home",
    "sang a song",
    "sat down",
    "looked around",
    "called a friend",
    "went to sleep",
];

/// One seeded story (words and `.`).
fn story(rng: &mut SeededRng) -> String {
    let pick = |rng: &mut SeededRng, xs: &[&'static str]| xs[rng.below(xs.len())];
    let a = pick(rng, NAMES);
    let mut b = pick(rng, NAMES);
    while b == a {
        b = pick(rng, NAMES);
    }
    let place = pick(rng, PLACES);
    let thing = pick(rng, THINGS);
    let mut s = vec![format!("once upon a time {a} went to the {place} .")];
    if rng.below(2) == 0 {
        s.push(format!("it was a {} day .", pick(rng, WEATHER)));
    }
    s.push(format!("at the {place} {a} met {b} ."));
    s.push(match rng.below(3) {
        0 => format!("{b} had a {thing} ."),
        1 => format!("{a} found a {thing} ."),
        _ => format!("they found a {thing} under a tree ."),
    });
    let feeling = pick(rng, FEELINGS);
    s.push(format!("{a} was very {feeling} ."));
    if rng.below(2) == 0 {
        s.push(format!("{b} gave the {thing} to {a} ."));
    } else {
        s.push(format!("{a} and {b} played with the {thing} ."));
    }
    s.push(format!("then {a} {} .", pick(rng, ACTIONS)));
    s.push("the end .".into());
    s.join(" ")
}

/// A shipped corpus (`facts` or `stories`) of about `tokens` training tokens, seeded.
pub fn shipped(kind: CorpusKind, tokens: usize, seed: u64) -> Corpus {
    let mut vocab = Vocab::default();
    match kind {
        CorpusKind::Facts => {
            let mut rng = SeededRng::new(seed, FACTS_STREAM);
            // Every word first, in a fixed order, so the vocabulary does not depend on the seed.
            vocab.id(SEP);
            for held_out in [false, true] {
                for (_, _, o, _, text) in statements(held_out) {
                    vocab.words(&text);
                    vocab.id(o);
                }
            }
            let seen = statements(false);
            let unseen = statements(true);
            let train = fact_stream(&mut vocab, &seen, tokens, &mut rng);
            let val_tokens = (tokens / 10).clamp(256, 20_000);
            let val = fact_stream(&mut vocab, &unseen, val_tokens, &mut rng);
            let mut prompts = Vec::new();
            for (held_out, list) in [(false, &seen), (true, &unseen)] {
                for (r, s, o, t, text) in list.iter() {
                    let mut toks = vec![vocab.id(SEP)];
                    toks.extend(vocab.words(text));
                    prompts.push(FactPrompt {
                        relation: *r,
                        subject: (*s).to_string(),
                        object: (*o).to_string(),
                        template: *t,
                        held_out,
                        tokens: toks,
                        answer: vocab.id(o),
                    });
                }
            }
            Corpus {
                kind,
                vocab: vocab.words,
                train,
                val,
                prompts,
            }
        }
        CorpusKind::Stories | CorpusKind::Text => {
            let mut rng = SeededRng::new(seed, STORIES_STREAM);
            // The vocabulary in a fixed order: every word any story can use.
            let all = [NAMES, PLACES, THINGS, FEELINGS, WEATHER];
            vocab.id(SEP);
            for list in all {
                for w in list {
                    vocab.id(w);
                }
            }
            for a in ACTIONS {
                vocab.words(a);
            }
            let fixed = "once upon a time went to the it was day at met had found they under tree \
                         very gave and played with then end";
            vocab.words(fixed);
            let stream = |n: usize, rng: &mut SeededRng, vocab: &mut Vocab| {
                let mut out = Vec::with_capacity(n + 64);
                while out.len() < n {
                    out.extend(vocab.words(&story(rng)));
                }
                out
            };
            let train = stream(tokens, &mut rng, &mut vocab);
            let val = stream((tokens / 10).clamp(256, 20_000), &mut rng, &mut vocab);
            Corpus {
                kind: CorpusKind::Stories,
                vocab: vocab.words,
                train,
                val,
                prompts: Vec::new(),
            }
        }
    }
}

/// The user's text by characters: the vocabulary is its distinct characters in code-point order;
/// the last tenth is the validation part. `min_chars`: at least two contexts' worth.
pub fn from_text(text: &str, min_chars: usize) -> Result<Corpus, TextError> {
    check_text(text)?;
    let chars: Vec<char> = text.chars().collect();
    let need = min_chars.max(20);
    if chars.len() < need {
        return Err(TextError::TooShort(chars.len(), need));
    }
    let mut symbols = chars.clone();
    symbols.sort_unstable();
    symbols.dedup();
    let index: std::collections::HashMap<char, u32> = symbols
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i as u32))
        .collect();
    let ids: Vec<u32> = chars.iter().map(|c| index[c]).collect();
    let split = ids.len() - (ids.len() / 10).max(min_chars / 2).min(ids.len() / 2);
    Ok(Corpus {
        kind: CorpusKind::Text,
        vocab: symbols.iter().map(|c| c.to_string()).collect(),
        train: ids[..split].to_vec(),
        val: ids[split..].to_vec(),
        prompts: Vec::new(),
    })
}

impl Corpus {
    pub fn word_level(&self) -> bool {
        self.kind.word_level()
    }

    /// A prompt as token ids; the message names the first word (or character) the vocabulary
    /// lacks.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let find = |t: &str| self.vocab.iter().position(|v| v == t).map(|i| i as u32);
        if self.word_level() {
            text.split_whitespace()
                .map(|w| {
                    let w = w.to_lowercase();
                    find(&w).ok_or_else(|| {
                        format!(
                            "'{w}' is not one of the corpus's {} words (the model reads whole words; try e.g. '{}')",
                            self.vocab.len(),
                            self.vocab.iter().skip(1).take(5).cloned().collect::<Vec<_>>().join("', '")
                        )
                    })
                })
                .collect()
        } else {
            text.chars()
                .map(|c| {
                    find(&c.to_string()).ok_or_else(|| {
                        format!("the character {c:?} never occurs in the training text")
                    })
                })
                .collect()
        }
    }

    /// Token ids as text.
    pub fn decode(&self, tokens: &[u32]) -> String {
        let words = tokens
            .iter()
            .map(|&t| self.vocab.get(t as usize).map_or("?", String::as_str));
        if self.word_level() {
            words.collect::<Vec<_>>().join(" ")
        } else {
            words.collect()
        }
    }

    /// One token as text (for lists and tables).
    pub fn token(&self, t: u32) -> &str {
        self.vocab.get(t as usize).map_or("?", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_seeded_and_end_with_their_object() {
        let a = shipped(CorpusKind::Facts, 5000, 1);
        let b = shipped(CorpusKind::Facts, 5000, 1);
        let c = shipped(CorpusKind::Facts, 5000, 2);
        assert_eq!(a, b);
        assert_ne!(a.train, c.train);
        assert_eq!(
            a.vocab, c.vocab,
            "the vocabulary does not depend on the seed"
        );
        assert!(
            a.vocab.len() > 100 && a.vocab.len() < 400,
            "{}",
            a.vocab.len()
        );
        let n_facts: usize = RELATIONS.iter().map(|r| r.pairs.len()).sum();
        assert_eq!(a.prompts.len(), n_facts * 6);
        let p = a
            .prompts
            .iter()
            .find(|p| p.subject == "france" && p.relation == 0 && !p.held_out)
            .unwrap();
        assert_eq!(a.decode(&p.tokens), ". the capital of france is");
        assert_eq!(a.token(p.answer), "paris");
    }

    #[test]
    fn stories_and_prompts_round_trip() {
        let s = shipped(CorpusKind::Stories, 3000, 0);
        assert!(s.train.len() >= 3000);
        let text = s.decode(&s.train[..12]);
        assert_eq!(s.encode(&text).unwrap(), s.train[..12].to_vec());
        let err = s.encode("once upon a zebra").unwrap_err();
        assert!(err.contains("'zebra' is not one of"), "{err}");
    }

    #[test]
    fn bad_files_get_their_message() {
        assert_eq!(read_text(b""), Err(TextError::Empty));
        assert_eq!(read_text(b"  \n"), Err(TextError::Empty));
        assert!(matches!(
            read_text(&[0x66, 0xff, 0xfe]),
            Err(TextError::NotUtf8(1))
        ));
        assert!(matches!(read_text(b"abc\0def"), Err(TextError::Binary(_))));
        let big = vec![b'a'; TEXT_MAX_BYTES + 1];
        let e = read_text(&big).unwrap_err();
        assert!(e.to_string().contains("at most 5000000 bytes"), "{e}");
        let t = from_text("hello world, hello text", 64).unwrap_err();
        assert!(matches!(t, TextError::TooShort(..)));
        let ok = from_text(&"the quick brown fox. ".repeat(20), 64).unwrap();
        assert_eq!(ok.decode(&ok.train[..9]), "the quick");
        assert!(!ok.val.is_empty());
    }
}
