//! The SAE lab in the worker: one `SaeSession` (its source's activations and a decomposition),
//! trained in chunks of about `CHUNK_MS` so commands stay prompt, with reports at report steps,
//! the feature list after every stop, and the browser's detail and clamp requests answered from
//! the current weights.
//!
//! A grok source uses the grokking lab's current run when it has trained and its model matches
//! (so the user decomposes the model they just watched grok); otherwise the source's preset is
//! trained here first, with `SaePreparing` progress, so a shared link reproduces the same run.

use base64::Engine as _;
use burn::tensor::Device;
use neurolab_core::config::{GrokConfig, ModelKind};
use neurolab_core::grok::GrokSession;
use neurolab_core::protocol::Event;
use neurolab_core::sae::{grok_preset, ClampRequest, SaeConfig, SaeSession, SaeSource, Target};

/// On WebGPU `train_step` only queues work: read back (wait) at least this often.
const GPU_STEPS_PER_SYNC: u32 = 64;
/// Progress notes while a grokking preset trains: about this many.
const PREPARE_NOTES: u32 = 40;

type Post<'a> = &'a dyn Fn(Event);

/// The SAE lab's state in the worker.
#[derive(Default)]
pub struct SaeRunner {
    config: Option<SaeConfig>,
    session: Option<SaeSession>,
    running: bool,
    /// Smoothed training speed, and where it was last measured.
    steps_per_s: f64,
    rate_since: Option<(f64, u32)>,
    last_progress_ms: f64,
    /// The grokking preset trained for a grok source, kept so that editing the SAE's own
    /// hyper-parameters does not retrain it (dropped when the backend changes).
    preset: Option<(GrokConfig, GrokSession, String)>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl SaeRunner {
    pub fn is_running(&self) -> bool {
        self.running
    }

    pub fn config(&self) -> Option<&SaeConfig> {
        self.config.as_ref()
    }

    /// Keep `config` for later (it arrived before the backend): `Init` builds it.
    pub fn remember(&mut self, config: SaeConfig) {
        self.running = false;
        self.session = None;
        self.config = Some(config);
    }

    /// Forget the cached grokking preset (its tensors live on the old device).
    pub fn forget_source(&mut self) {
        self.preset = None;
    }

    fn session(&self) -> Result<&SaeSession, String> {
        self.session
            .as_ref()
            .ok_or_else(|| "the SAE is not built yet".to_string())
    }

    /// Build the source and a fresh decomposition for `config` (step 0), then report step 0
    /// and the feature list. `grok` is the grokking lab's session, if it has one.
    pub async fn configure(
        &mut self,
        config: SaeConfig,
        device: &Device,
        grok: Option<&GrokSession>,
        post: Post<'_>,
    ) -> Result<(), String> {
        self.running = false;
        self.session = None;
        self.config = Some(config.clone());
        self.steps_per_s = 0.0;
        self.rate_since = None;
        let want = match config.source {
            SaeSource::GrokMlp => Some(ModelKind::Mlp),
            SaeSource::GrokTransformer => Some(ModelKind::Transformer),
            SaeSource::Toy => None,
        };
        let run = grok.filter(|g| Some(g.config().model) == want && g.step_count() > 0);
        let (session, source) = match (config.source, run) {
            (SaeSource::Toy, _) => {
                post(Event::SaePreparing {
                    what: format!(
                        "training the toy model ({} features in {} dims)",
                        config.toy_n, config.toy_m
                    ),
                    done: 0,
                    total: config.toy_steps,
                });
                let s =
                    SaeSession::new(config.clone(), device.clone()).map_err(|e| e.to_string())?;
                let text = format!(
                    "toy model of superposition: {} features in {} dims, {} samples",
                    config.toy_n, config.toy_m, config.toy_samples
                );
                (s, text)
            }
            (_, Some(g)) => {
                let gc = g.config();
                let text = format!(
                    "the grokking lab's run ({}, p = {}, step {})",
                    gc.model.name(),
                    gc.p,
                    g.step_count()
                );
                let s = SaeSession::from_grok(config.clone(), g).map_err(|e| e.to_string())?;
                (s, text)
            }
            (_, None) => {
                let gc = grok_preset(&config);
                let cached = self.preset.as_ref().is_some_and(|(c, _, _)| *c == gc);
                if !cached {
                    self.preset = None;
                    let (g, text) =
                        train_preset(gc.clone(), config.grok_steps, device, post).await?;
                    self.preset = Some((gc, g, text));
                }
                let Some((_, g, text)) = &self.preset else {
                    return Err("the grokking preset is missing".into());
                };
                let s = SaeSession::from_grok(config.clone(), g).map_err(|e| e.to_string())?;
                (s, text.clone())
            }
        };
        post(Event::SaeConfigured {
            n_samples: count(session.n_samples()),
            d: count(session.d()),
            latents: config.latents,
            p: (session.p() > 0).then(|| count(session.p())),
            source,
        });
        self.session = Some(session);
        self.report(post).await?;
        self.features(post).await
    }

    pub async fn reset(
        &mut self,
        device: &Device,
        grok: Option<&GrokSession>,
        post: Post<'_>,
    ) -> Result<(), String> {
        match self.config.clone() {
            Some(config) => self.configure(config, device, grok, post).await,
            None => Ok(()),
        }
    }

    pub fn start(&mut self, now_ms: f64, post: Post<'_>) -> Result<(), String> {
        let s = self.session()?;
        let step = s.step_count();
        if s.finished() {
            post(Event::SaeStopped {
                step,
                finished: true,
            });
            return Ok(());
        }
        self.running = true;
        self.rate_since = Some((now_ms, step));
        post(Event::SaeProgress {
            step,
            steps_per_s: self.steps_per_s,
            running: true,
        });
        Ok(())
    }

    /// Stop training and say so (no readback: for lab switches and errors).
    pub fn halt(&mut self, post: Post<'_>) {
        self.running = false;
        if let Some(s) = &self.session {
            let (step, finished) = (s.step_count(), s.finished());
            post(Event::SaeProgress {
                step,
                steps_per_s: self.steps_per_s,
                running: false,
            });
            post(Event::SaeStopped { step, finished });
        }
    }

    /// Stop training; the page gets the final progress, `SaeStopped` and the feature list.
    pub async fn stop(&mut self, post: Post<'_>) -> Result<(), String> {
        self.halt(post);
        if self.session.is_some() {
            self.features(post).await?;
        }
        Ok(())
    }

    /// `Step`: one training step, reported, then stopped.
    pub async fn step(&mut self, post: Post<'_>) -> Result<(), String> {
        self.running = false;
        let s = self
            .session
            .as_mut()
            .ok_or_else(|| "the SAE is not built yet".to_string())?;
        if !s.finished() {
            s.train_step();
            self.report(post).await?;
        }
        self.stop(post).await
    }

    /// Train for about `budget_ms` while running, reporting at report steps.
    pub async fn chunk(
        &mut self,
        budget_ms: f64,
        on_gpu: bool,
        clock_ms: fn() -> f64,
        post: Post<'_>,
    ) -> Result<(), String> {
        if !self.running {
            return Ok(());
        }
        let start = clock_ms();
        let mut since_sync = 0;
        loop {
            let Some(s) = self.session.as_mut() else {
                self.running = false;
                return Ok(());
            };
            s.train_step();
            since_sync += 1;
            let every = s.config().report_every.max(1);
            let (step, finished) = (s.step_count(), s.finished());
            if step.is_multiple_of(every) || finished {
                self.report(post).await?;
                since_sync = 0;
            }
            if finished {
                return self.stop(post).await;
            }
            if on_gpu && since_sync >= GPU_STEPS_PER_SYNC {
                // Wait for the GPU: on its queue, the page's clock says nothing.
                self.session()?.report().await.map_err(|e| e.to_string())?;
                since_sync = 0;
            }
            if clock_ms() - start >= budget_ms && (!on_gpu || since_sync == 0) {
                break;
            }
        }
        let now = clock_ms();
        if now - self.last_progress_ms >= crate::compute::PROGRESS_EVERY_MS {
            self.last_progress_ms = now;
            let step = self.session()?.step_count();
            if let Some((t0, s0)) = self.rate_since {
                if now > t0 && step > s0 {
                    let v = f64::from(step - s0) * 1000.0 / (now - t0);
                    self.steps_per_s = if self.steps_per_s > 0.0 {
                        0.6 * self.steps_per_s + 0.4 * v
                    } else {
                        v
                    };
                }
            }
            self.rate_since = Some((now, step));
            post(Event::SaeProgress {
                step,
                steps_per_s: self.steps_per_s,
                running: true,
            });
        }
        Ok(())
    }

    async fn report(&self, post: Post<'_>) -> Result<(), String> {
        let report = self.session()?.report().await.map_err(|e| e.to_string())?;
        post(Event::SaeReport { report });
        Ok(())
    }

    pub async fn features(&self, post: Post<'_>) -> Result<(), String> {
        let features = self
            .session()?
            .features()
            .await
            .map_err(|e| e.to_string())?;
        post(Event::SaeFeatureList { features });
        Ok(())
    }

    pub async fn feature(&self, target: Target, post: Post<'_>) -> Result<(), String> {
        let detail = self
            .session()?
            .feature(target)
            .await
            .map_err(|e| e.to_string())?;
        post(Event::SaeFeatureDetail { detail });
        Ok(())
    }

    pub async fn clamp(&self, request: ClampRequest, post: Post<'_>) -> Result<(), String> {
        let response = self
            .session()?
            .clamp(&request)
            .await
            .map_err(|e| e.to_string())?;
        post(Event::SaeClamped { request, response });
        Ok(())
    }

    /// The decomposition as `.safetensors`, posted as `Weights`.
    pub async fn export(&self, post: Post<'_>) -> Result<(), String> {
        let s = self.session()?;
        let bytes = s.safetensors().await.map_err(|e| e.to_string())?;
        let c = s.config();
        let file_name = format!(
            "neurolab-sae-{}-{}-L{}-step{}.safetensors",
            c.source.name(),
            c.kind.name(),
            c.latents,
            s.step_count()
        );
        post(Event::Weights {
            file_name,
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
        Ok(())
    }
}

/// Train the grokking preset a grok source decomposes, with `SaePreparing` notes; returns the
/// session and a sentence saying what it is.
async fn train_preset(
    gc: GrokConfig,
    total: u32,
    device: &Device,
    post: Post<'_>,
) -> Result<(GrokSession, String), String> {
    let what = format!(
        "training the grokking preset ({}, p = {}) for {total} steps",
        gc.model.name(),
        gc.p
    );
    let mut g = GrokSession::new(gc, device.clone()).map_err(|e| e.to_string())?;
    let every = (total / PREPARE_NOTES).max(1);
    post(Event::SaePreparing {
        what: what.clone(),
        done: 0,
        total,
    });
    let mut last_acc = None;
    for i in 1..=total {
        g.train_step();
        if i % every == 0 || i == total {
            // A read is the only way to wait for the device (WebGPU queues work).
            let r = g.report().await.map_err(|e| e.to_string())?;
            last_acc = Some(r.test_acc);
            post(Event::SaePreparing {
                what: format!("{what} (test accuracy {:.0}%)", 100.0 * r.test_acc),
                done: i,
                total,
            });
        }
    }
    let acc = last_acc.map_or(String::new(), |a| {
        format!(", test accuracy {:.0}%", 100.0 * a)
    });
    let text = format!(
        "grokking preset trained here ({}, p = {}, {total} steps{acc})",
        g.config().model.name(),
        g.config().p
    );
    Ok((g, text))
}
