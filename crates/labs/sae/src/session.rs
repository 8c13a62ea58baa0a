//! The SAE lab's session: [`SaeSession`] prepares its source in chunks (trains the toy model or
//! the grokking preset), then holds a [`Decomposition`] and answers the page's controls; and
//! [`SaeError`], the lab's one error type.

use super::config::{SaeConfig, SaeSource};
use super::control::{SaeAnswer, SaeControl};
use super::decomposition::Decomposition;
use super::report::{SaeReport, SaeSummary};
use super::toy::{ToyModel, ToySpec, ToyTrainer};
use crate::SaeLab;
use burn::prelude::*;
use neurolab_base::lab::{Advance, Chunk, ExportFile, Preparing};
use neurolab_base::{ConfigError, LabConfig as _, Position, Session};
use neurolab_grok::config::GrokConfig;
use neurolab_grok::{GrokError, GrokModel, GrokSession};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SaeError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("grokking model: {0}")]
    Grok(#[from] GrokError),
    #[error("reading results from the device failed: {0}")]
    Readback(String),
    #[error("writing the weights failed: {0}")]
    Export(String),
    #[error("{0}")]
    Request(String),
    #[error("the SAE is still preparing its source: wait for it, or press Run")]
    NotReady,
    #[error("the SAE lab exports 'weights' or 'saelens', not '{0}'")]
    UnknownExport(String),
    #[error(
        "SAELens loads an encoder and a decoder, and semi-NMF has no encoder (its codes are \
         solved for each sample): export its weights (.safetensors) instead"
    )]
    NoEncoder,
}

/// A prepared source: the trained model whose activations are decomposed. The worker keeps the
/// last one, so that editing the SAE's own hyper-parameters does not train the source again.
#[derive(Debug, Clone)]
pub enum PreparedSource {
    Toy {
        spec: ToySpec,
        steps: u32,
        model: ToyModel,
        text: String,
    },
    Grok {
        config: GrokConfig,
        model: GrokModel,
        text: String,
    },
    /// The language model (on a plain device) and its corpus.
    Lm {
        config: neurolab_lm::LmConfig,
        model: Box<neurolab_lm::Gpt>,
        corpus: Box<neurolab_lm::Corpus>,
        text: String,
    },
}

impl PreparedSource {
    /// Whether this is the source `config` asks for.
    pub fn serves(&self, config: &SaeConfig) -> bool {
        match (self, config.source) {
            (PreparedSource::Toy { spec, steps, .. }, SaeSource::Toy) => {
                *spec == toy_spec(config) && *steps == config.toy_steps
            }
            (
                PreparedSource::Grok { config: gc, .. },
                SaeSource::GrokMlp | SaeSource::GrokTransformer,
            ) => *gc == config.grok_preset(),
            (PreparedSource::Lm { config: lc, .. }, SaeSource::Lm) => *lc == config.lm_preset(),
            _ => false,
        }
    }

    /// Where the activations come from, for the user.
    pub fn text(&self) -> &str {
        match self {
            PreparedSource::Toy { text, .. }
            | PreparedSource::Grok { text, .. }
            | PreparedSource::Lm { text, .. } => text,
        }
    }
}

fn toy_spec(config: &SaeConfig) -> ToySpec {
    ToySpec {
        n: config.toy_n as usize,
        m: config.toy_m as usize,
        p_active: config.toy_p_active,
        decay: config.toy_decay,
        seed: config.seed,
    }
}

/// Preparation left to do.
enum Prep {
    Toy(ToyTrainer),
    Grok(Box<GrokSession>),
    Lm(Box<neurolab_lm::LmSession>),
}

/// The SAE lab's session: its source prepared in chunks, then the decomposition.
pub struct SaeSession {
    config: SaeConfig,
    device: Device,
    prep: Option<Prep>,
    source: Option<PreparedSource>,
    dec: Option<Decomposition>,
}

impl SaeSession {
    /// A session for `config`; `cached` is a source prepared before (used when it serves).
    /// Nothing heavy happens here: preparation runs in [`Session::prepare`] chunks.
    pub fn new(
        config: SaeConfig,
        device: Device,
        cached: Option<PreparedSource>,
    ) -> Result<Self, SaeError> {
        config.validate()?;
        let mut s = Self {
            prep: None,
            source: None,
            dec: None,
            config,
            device,
        };
        match cached.filter(|c| c.serves(&s.config)) {
            Some(source) => s.finish_prep(source)?,
            None => {
                s.prep = Some(match s.config.source {
                    SaeSource::Toy => Prep::Toy(ToyTrainer::new(&toy_spec(&s.config), &s.device)),
                    SaeSource::Lm => Prep::Lm(Box::new(
                        neurolab_lm::LmSession::new(s.config.lm_preset(), s.device.clone())
                            .map_err(|e| SaeError::Request(format!("the language model: {e}")))?,
                    )),
                    _ => Prep::Grok(Box::new(GrokSession::new(
                        s.config.grok_preset(),
                        s.device.clone(),
                    )?)),
                });
                if s.prep_total() == 0 {
                    s.build_if_prepared()?;
                }
            }
        }
        Ok(s)
    }

    pub fn config(&self) -> &SaeConfig {
        &self.config
    }

    /// The prepared source (for the worker's cache).
    pub fn source(&self) -> Option<&PreparedSource> {
        self.source.as_ref()
    }

    /// The decomposition, once the source is prepared.
    pub fn decomposition(&self) -> Result<&Decomposition, SaeError> {
        self.dec.as_ref().ok_or(SaeError::NotReady)
    }

    fn prep_total(&self) -> u32 {
        match self.config.source {
            SaeSource::Toy => self.config.toy_steps,
            SaeSource::Lm => self.config.lm_steps,
            _ => self.config.grok_steps,
        }
    }

    fn prep_done(&self) -> u32 {
        match &self.prep {
            Some(Prep::Toy(t)) => t.done(),
            Some(Prep::Grok(g)) => g.step_count(),
            Some(Prep::Lm(l)) => l.step_count(),
            None => self.prep_total(),
        }
    }

    /// Up to `steps` steps of preparation (queued on WebGPU; nothing read back there), then
    /// [`Self::build_if_prepared`].
    pub async fn prepare_steps(&mut self, steps: u32) -> Result<(), SaeError> {
        let left = self.prep_total().saturating_sub(self.prep_done());
        let n = steps.min(left);
        match &mut self.prep {
            Some(Prep::Toy(t)) => t.train(n),
            Some(Prep::Grok(g)) => {
                for _ in 0..n {
                    g.train_step().await;
                }
            }
            Some(Prep::Lm(l)) => {
                for _ in 0..n {
                    l.train_step();
                }
            }
            None => return Ok(()),
        }
        self.build_if_prepared()
    }

    /// Builds the decomposition once the source's preparation is done.
    fn build_if_prepared(&mut self) -> Result<(), SaeError> {
        if self.prep_done() < self.prep_total() {
            return Ok(());
        }
        let source = match self.prep.take() {
            Some(Prep::Toy(t)) => {
                let c = &self.config;
                PreparedSource::Toy {
                    spec: toy_spec(c),
                    steps: c.toy_steps,
                    model: t.finish(),
                    text: format!(
                        "toy model of superposition: {} features in {} dims, {} samples",
                        c.toy_n, c.toy_m, c.toy_samples
                    ),
                }
            }
            Some(Prep::Grok(g)) => {
                let gc = g.config().clone();
                PreparedSource::Grok {
                    text: format!(
                        "grokking preset trained here ({}, p = {}, {} steps)",
                        gc.model.name(),
                        gc.p,
                        g.step_count()
                    ),
                    model: g.model().clone(),
                    config: gc,
                }
            }
            Some(Prep::Lm(l)) => {
                let lc = l.config().clone();
                let layer_site = match self.config.site {
                    super::config::TransformerSite::Mlp => {
                        format!("layer {} MLP neurons", self.config.lm_layer)
                    }
                    super::config::TransformerSite::Resid => {
                        format!("residual stream after layer {}", self.config.lm_layer)
                    }
                };
                PreparedSource::Lm {
                    text: format!(
                        "language model trained here ({}, {} layers, d_model {}, {} steps), {layer_site}",
                        lc.corpus.name(),
                        lc.layers,
                        lc.d_model,
                        l.step_count()
                    ),
                    model: Box::new(l.model()),
                    corpus: Box::new(l.corpus().clone()),
                    config: lc,
                }
            }
            None => return Ok(()),
        };
        self.finish_prep(source)
    }

    fn finish_prep(&mut self, source: PreparedSource) -> Result<(), SaeError> {
        let dec = match &source {
            PreparedSource::Toy { spec, model, .. } => {
                Decomposition::from_toy(self.config.clone(), spec, model)?
            }
            PreparedSource::Grok { config, model, .. } => {
                Decomposition::from_grok(self.config.clone(), config, model)?
            }
            PreparedSource::Lm { model, corpus, .. } => {
                Decomposition::from_lm(self.config.clone(), model, corpus)?
            }
        };
        self.dec = Some(dec);
        self.source = Some(source);
        Ok(())
    }

    /// The decomposition, once prepared (tests and benches).
    pub fn into_decomposition(self) -> Option<Decomposition> {
        self.dec
    }

    fn dec_mut(&mut self) -> Result<&mut Decomposition, SaeError> {
        self.dec.as_mut().ok_or(SaeError::NotReady)
    }
}

impl Session for SaeSession {
    type Lab = SaeLab;
    type Error = SaeError;

    fn position(&self) -> Position {
        let step = self.dec.as_ref().map_or(0, Decomposition::step_count);
        Position::steps(step, self.config.steps)
    }

    fn summary(&self) -> SaeSummary {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        match &self.dec {
            Some(d) => SaeSummary {
                n_samples: count(d.n_samples()),
                d: count(d.d()),
                latents: self.config.latents,
                p: (d.p() > 0).then(|| count(d.p())),
                source: self
                    .source
                    .as_ref()
                    .map_or(String::new(), |s| s.text().to_string()),
            },
            None => SaeSummary {
                n_samples: count(self.config.n_samples()),
                d: count(self.config.d()),
                latents: self.config.latents,
                p: self.config.source.is_grok().then_some(self.config.grok_p),
                source: String::new(),
            },
        }
    }

    fn preparing(&self) -> Option<Preparing> {
        let what = match self.prep.as_ref()? {
            Prep::Toy(_) => format!(
                "training the toy model ({} features in {} dims)",
                self.config.toy_n, self.config.toy_m
            ),
            Prep::Grok(g) => format!(
                "training the grokking preset ({}, p = {})",
                g.config().model.name(),
                g.config().p
            ),
            Prep::Lm(l) => format!(
                "training the language model ({}, {} layers)",
                l.config().corpus.name(),
                l.config().layers
            ),
        };
        Some(Preparing {
            what,
            done: self.prep_done(),
            total: self.prep_total(),
        })
    }

    async fn prepare(&mut self, units: u32) -> Result<(), SaeError> {
        self.prepare_steps(units).await?;
        // Wait for the device (WebGPU queues the work): one small read.
        if let Some(Prep::Grok(g)) = &self.prep {
            g.weight_norm().await?;
        } else if let Some(Prep::Toy(t)) = &self.prep {
            t.sync().await?;
        } else if let Some(Prep::Lm(l)) = &self.prep {
            l.sync()
                .await
                .map_err(|e| SaeError::Readback(e.to_string()))?;
        }
        Ok(())
    }

    async fn advance(&mut self, chunk: Chunk) -> Result<Advance<SaeReport>, SaeError> {
        let mut out = Advance::default();
        let mut synced = false;
        for _ in 0..chunk.units {
            let dec = self.dec_mut()?;
            if dec.finished() {
                break;
            }
            dec.train_step().await;
            synced = false;
            let every = dec.config().report_every.max(1);
            if dec.step_count().is_multiple_of(every) || dec.finished() {
                let report = dec.metrics().await?;
                synced = true;
                if out.push_checked(report, |r| {
                    format!(
                        "the SAE's loss became NaN/Inf by step {} (try a lower learning rate)",
                        r.step
                    )
                }) {
                    return Ok(out);
                }
            }
        }
        if chunk.sync && !synced {
            self.decomposition()?.sync().await?;
        }
        Ok(out)
    }

    async fn report(&mut self) -> Result<Option<SaeReport>, SaeError> {
        match &self.dec {
            Some(d) => Ok(Some(d.metrics().await?)),
            None => Ok(None),
        }
    }

    async fn apply(&mut self, control: SaeControl) -> Result<SaeAnswer, SaeError> {
        let dec = self.decomposition()?;
        Ok(match control {
            SaeControl::Features => SaeAnswer::FeatureList {
                step: dec.step_count(),
                features: dec.features().await?,
            },
            SaeControl::Feature { target } => SaeAnswer::FeatureDetail {
                detail: dec.feature(target).await?,
            },
            SaeControl::Clamp { request } => SaeAnswer::Clamped {
                response: dec.clamp(&request).await?,
                request,
            },
        })
    }

    /// "weights": our `.safetensors`; "saelens": SAELens's saved layout as a zip of one folder
    /// (SAEs only).
    async fn export(&mut self, what: &str) -> Result<ExportFile, SaeError> {
        let dec = self.decomposition()?;
        let c = dec.config();
        let stem = format!(
            "neurolab-sae-{}-{}-L{}-step{}",
            c.source.name(),
            c.kind.name(),
            c.latents,
            dec.step_count()
        );
        match what {
            "weights" => Ok(ExportFile {
                file_name: format!("{stem}.safetensors"),
                mime: "application/octet-stream".into(),
                bytes: dec.safetensors().await?,
            }),
            "saelens" => Ok(ExportFile {
                file_name: format!("{stem}.zip"),
                mime: "application/zip".into(),
                bytes: dec.saelens(&stem).await?.zip()?,
            }),
            _ => Err(SaeError::UnknownExport(what.to_string())),
        }
    }
}
