//! neurolab-core: what ties the labs together, and nothing any one lab owns.
//!
//! - [`registry`]: the one list of labs ([`for_each_lab!`]) and what it generates: [`LabKind`],
//!   every lab's config ([`Configs`]), and the protocol's per-lab unions;
//! - [`link`]: the share link (the whole experiment as a URL fragment), versioned and validated;
//! - [`protocol`]: the page ⇄ worker messages, JSON over `postMessage`.
//!
//! The labs themselves are their own crates (re-exported here as [`grok`], [`spike`], [`sae`]):
//! each has the same modules (config, control, report, session). Nothing here may depend on
//! leptos, web-sys or wasm-bindgen.

pub mod experiment;
pub mod lesson;
pub mod link;
pub mod protocol;
pub mod registry;

pub use neurolab_base as base;
pub use registry::{grok, lm, sae, spike};
pub use registry::{AnyCommand, AnyEvent, Configs, Generic, LabKind, Registered};

/// The version of the share-link format this build writes and understands.
pub const LINK_VERSION: u32 = 1;
/// The lab's own version, recorded in every link.
pub const LAB_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Core's one error type: links that cannot be opened and messages that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    #[error("the link is empty")]
    Empty,
    #[error("the link is too long ({len} characters; at most {max})", max = link::MAX_LINK_LEN)]
    TooLong { len: usize },
    #[error("the link has no version (v=); it may be truncated")]
    NoVersion,
    #[error("the link's version '{0}' is not a number")]
    BadVersion(String),
    #[error("this link was made by a newer neurolab (link version {found}); this page reads version {LINK_VERSION} and older")]
    FutureVersion { found: u32 },
    #[error("unknown lab '{0}' (this page has: {labs})", labs = LabKind::names())]
    UnknownLab(String),
    /// A key or value of the link (common or the lab's).
    #[error("{0}")]
    Config(#[from] base::ConfigError),
    #[error("bad {what} message: {why}")]
    BadMessage { what: &'static str, why: String },
}
