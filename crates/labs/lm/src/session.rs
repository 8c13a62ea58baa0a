//! The LM lab's session: [`LmSession`] trains the decoder with AdamW on random windows of the
//! corpus (one step queued per call, nothing read back), reports losses, recall and samples with
//! one readback each, and answers the tools: generation (steered or not), the neuron browser,
//! activation patching, relation-specific neurons; weights export and import. [`LmError`] is the
//! lab's one error type.

use crate::config::LmConfig;
use crate::control::{GenerateRequest, LmAnswer, LmControl, PatchRequest, Steer};
use crate::corpus::{Corpus, CorpusKind, TextError, SEP};
use crate::model::{last_log_probs, lm_loss, Edit, Gpt, Hooks, Site};
use crate::report::*;
use crate::{LmLab, BROWSER_TOKENS, VAL_WINDOWS};
use base64::Engine as _;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use neurolab_base::lab::{Advance, Chunk, ExportFile};
use neurolab_base::rng::SeededRng;
use neurolab_base::{ConfigError, LabConfig as _, Position, Session};
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;

/// RNG streams.
const BATCH_STREAM: u64 = 42;
const SAMPLE_STREAM: u64 = 43;
const GENERATE_STREAM: u64 = 44;
/// The default ranks the relation-neuron tool ablates.
pub const RELATION_KS: &[u32] = &[0, 1, 2, 4, 8, 16, 32, 64, 128];
/// Windows per forward pass when the browser reads the corpus.
const BROWSER_BATCH: usize = 32;
const TOP_CONTEXTS: usize = 8;
const TOP_TOKENS: usize = 10;
const NEXT_TOKENS: usize = 5;
const HIST_BINS: usize = 24;

#[derive(Debug, Error)]
pub enum LmError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Text(#[from] TextError),
    #[error(
        "this link trained on your own text ({0}), which links do not carry: upload or paste it to run"
    )]
    NoText(String),
    #[error("reading results from the device failed: {0}")]
    Readback(String),
    #[error("{0}")]
    Request(String),
    #[error("these weights do not fit this model: {0}")]
    Import(String),
    #[error("writing the weights failed: {0}")]
    Export(String),
    #[error("the language-model lab exports 'weights', not '{0}'")]
    UnknownExport(String),
}

async fn read_f32(tensor: Tensor<1>) -> Result<Vec<f32>, LmError> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| LmError::Readback(format!("{e:?}")))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| LmError::Readback(format!("{e:?}")))
}

fn flat<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    let n = t.shape().num_elements();
    t.reshape([n])
}

/// The neuron browser's sample of the corpus: tokens and every layer's neuron activations.
struct Browser {
    step: u32,
    /// Windows of `ctx` tokens, concatenated.
    tokens: Vec<u32>,
    ctx: usize,
    /// Per layer: `[tokens, d_mlp]` row-major.
    acts: Vec<Vec<f32>>,
}

/// The LM lab's session.
pub struct LmSession {
    config: LmConfig,
    /// Plain (inference) and autodiff (training) devices.
    device: Device,
    ad: Device,
    corpus: Corpus,
    /// On the autodiff device; `None` only inside `train_step`.
    model: Option<Gpt>,
    optim: ModuleOptimizer,
    rng: SeededRng,
    step: u32,
    tokens_seen: u64,
    /// Training losses since the last report, summed on the device.
    loss_sum: Option<Tensor<1>>,
    loss_steps: u32,
    /// The last report's training loss (a report with no step since repeats it).
    last_train: Option<f32>,
    /// Validation windows `[n, ctx + 1]` (inputs and targets).
    val: Tensor<2, Int>,
    browser: Option<Browser>,
}

fn int_tensor(data: Vec<i32>, shape: [usize; 2], device: &Device) -> Tensor<2, Int> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

fn ids(tokens: &[u32]) -> Vec<i32> {
    tokens.iter().map(|&t| t as i32).collect()
}

fn optimiser(c: &LmConfig) -> ModuleOptimizer {
    AdamWConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.99)
        .with_epsilon(1e-8)
        .with_weight_decay(c.weight_decay as f32)
        .init()
}

impl LmSession {
    /// A fresh session at step 0 (the corpus built, the model initialised). `device` is plain;
    /// autodiff is added here.
    pub fn new(config: LmConfig, device: Device) -> Result<Self, LmError> {
        config.validate()?;
        if config.corpus == CorpusKind::Text && config.text.is_empty() {
            let id = if config.text_id.is_empty() {
                "none given".to_string()
            } else {
                format!("fingerprint {}", config.text_id)
            };
            return Err(LmError::NoText(id));
        }
        let corpus = config.build_corpus()?;
        let ad = device.clone().autodiff();
        let model = Gpt::new(&config, corpus.vocab.len(), &ad);
        let t = config.ctx as usize;
        // Evenly spaced validation windows.
        let n_val = VAL_WINDOWS.min(corpus.val.len().saturating_sub(t + 1).max(1));
        let span = corpus.val.len().saturating_sub(t + 1);
        let mut val = Vec::with_capacity(n_val * (t + 1));
        for i in 0..n_val {
            let at = if n_val > 1 { i * span / (n_val - 1) } else { 0 };
            val.extend(ids(&corpus.val[at..at + t + 1]));
        }
        Ok(Self {
            optim: optimiser(&config),
            rng: SeededRng::new(config.seed, BATCH_STREAM),
            val: int_tensor(val, [n_val, t + 1], &device),
            model: Some(model),
            corpus,
            config,
            device,
            ad,
            step: 0,
            tokens_seen: 0,
            loss_sum: None,
            loss_steps: 0,
            last_train: None,
            browser: None,
        })
    }

    pub fn config(&self) -> &LmConfig {
        &self.config
    }

    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    pub fn step_count(&self) -> u32 {
        self.step
    }

    fn trained(&self) -> &Gpt {
        self.model
            .as_ref()
            .expect("the model slot is only empty inside train_step")
    }

    /// The model without autodiff, on the plain device.
    pub fn model(&self) -> Gpt {
        self.trained().valid()
    }

    pub fn finished(&self) -> bool {
        self.step >= self.config.steps
    }

    /// Warm-up, then cosine decay to a tenth of the peak.
    pub fn lr_at(&self, step: u32) -> f64 {
        let c = &self.config;
        if step < c.warmup {
            return c.lr * f64::from(step + 1) / f64::from(c.warmup);
        }
        let span = c.steps.saturating_sub(c.warmup).max(1);
        let x = (f64::from(step - c.warmup) / f64::from(span)).min(1.0);
        c.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * x).cos()))
    }

    /// One AdamW step on `batch` random windows (queued; nothing read back).
    pub fn train_step(&mut self) {
        let (b, t) = (self.config.batch as usize, self.config.ctx as usize);
        let train = &self.corpus.train;
        let span = train.len() - t - 1;
        let mut x = Vec::with_capacity(b * t);
        let mut y = Vec::with_capacity(b * t);
        for _ in 0..b {
            let at = self.rng.below(span + 1);
            x.extend(ids(&train[at..at + t]));
            y.extend(ids(&train[at + 1..at + t + 1]));
        }
        let x = int_tensor(x, [b, t], &self.ad);
        let y = int_tensor(y, [b, t], &self.ad);
        let model = self
            .model
            .take()
            .expect("the model slot is only empty inside train_step");
        let loss = lm_loss(model.forward(x), y);
        let plain = loss.clone().inner();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = self.lr_at(self.step);
        self.model = Some(self.optim.step(lr, model, grads));
        self.loss_sum = Some(match self.loss_sum.take() {
            Some(s) => s + plain,
            None => plain,
        });
        self.loss_steps += 1;
        self.step += 1;
        self.tokens_seen += (b * t) as u64;
        self.browser = None;
    }

    /// Waits for the device (one small read).
    pub async fn sync(&self) -> Result<(), LmError> {
        read_f32(
            self.model()
                .w_pos
                .val()
                .narrow(0, 0, 1)
                .narrow(1, 0, 1)
                .reshape([1]),
        )
        .await?;
        Ok(())
    }

    /// Prompts (token lists) grouped by length: `(indices, tokens [n, len])`.
    fn groups(&self, prompts: &[&[u32]]) -> Vec<(Vec<usize>, Tensor<2, Int>)> {
        let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, p) in prompts.iter().enumerate() {
            by_len.entry(p.len()).or_default().push(i);
        }
        by_len
            .into_iter()
            .map(|(len, idx)| {
                let data: Vec<i32> = idx.iter().flat_map(|&i| ids(prompts[i])).collect();
                let n = idx.len();
                (idx, int_tensor(data, [n, len], &self.device))
            })
            .collect()
    }

    /// Per facts prompt, 1 when the answer is the top next token, as a device tensor in the
    /// corpus's prompt order (`seen_only`: the training templates only).
    fn correct(&self, model: &Gpt, hooks: &dyn Fn(usize) -> Hooks, seen_only: bool) -> Tensor<1> {
        let prompts: Vec<usize> = (0..self.corpus.prompts.len())
            .filter(|&i| !seen_only || !self.corpus.prompts[i].held_out)
            .collect();
        let toks: Vec<&[u32]> = prompts
            .iter()
            .map(|&i| self.corpus.prompts[i].tokens.as_slice())
            .collect();
        let mut parts = Vec::new();
        let mut order = Vec::new();
        for (idx, tokens) in self.groups(&toks) {
            let answers: Vec<i32> = idx
                .iter()
                .map(|&i| self.corpus.prompts[prompts[i]].answer as i32)
                .collect();
            let n = idx.len();
            let answers = Tensor::<1, Int>::from_data(TensorData::new(answers, [n]), &self.device);
            let len = tokens.dims()[1];
            let (logits, _) = model.forward_hooked(tokens, &hooks(len));
            let top = last_log_probs(logits).argmax(1).reshape([n]);
            parts.push(top.equal(answers).float());
            order.extend(idx);
        }
        // Back to prompt order.
        let mut inverse = vec![0i32; order.len()];
        for (pos, &i) in order.iter().enumerate() {
            inverse[i] = pos as i32;
        }
        let n = inverse.len();
        Tensor::cat(parts, 0).select(
            0,
            Tensor::<1, Int>::from_data(TensorData::new(inverse, [n]), &self.device),
        )
    }

    /// Recall per relation from per-prompt correctness (`seen_only` as in [`Self::correct`]).
    fn recall_of(&self, correct: &[f32], seen_only: bool) -> Vec<RelationRecall> {
        let names = crate::corpus::relation_names();
        let mut sums = vec![[0f32; 4]; names.len()];
        let prompts = self
            .corpus
            .prompts
            .iter()
            .filter(|p| !seen_only || !p.held_out);
        for (p, &c) in prompts.zip(correct) {
            let s = &mut sums[p.relation as usize];
            let k = if p.held_out { 2 } else { 0 };
            s[k] += c;
            s[k + 1] += 1.0;
        }
        names
            .into_iter()
            .zip(sums)
            .map(|(relation, s)| RelationRecall {
                relation,
                seen: s[0] / s[1].max(1.0),
                held_out: s[2] / s[3].max(1.0),
            })
            .collect()
    }

    /// The report at this step: the training loss since the last one, the validation loss,
    /// recall (facts) and a sample when due — one readback, plus the sample's own.
    pub async fn metrics(&mut self) -> Result<LmReport, LmError> {
        let model = self.model();
        let t = self.config.ctx as usize;
        let x = self.val.clone().narrow(1, 0, t);
        let y = self.val.clone().narrow(1, 1, t);
        let val_loss = lm_loss(model.forward(x), y);
        let steps = self.loss_steps.max(1);
        let fresh = self.loss_sum.is_some();
        let train = match self.loss_sum.take() {
            Some(s) => s.div_scalar(f64::from(steps)),
            None => val_loss.clone(),
        };
        self.loss_steps = 0;
        let mut parts = vec![train, val_loss];
        let facts = !self.corpus.prompts.is_empty();
        if facts {
            parts.push(self.correct(&model, &|_| Hooks::default(), false));
        }
        let values = read_f32(Tensor::cat(parts, 0)).await?;
        let train_loss = match (fresh, self.last_train) {
            (false, Some(last)) => last,
            _ => values[0],
        };
        self.last_train = Some(train_loss);
        let recall = if facts {
            self.recall_of(&values[2..], false)
        } else {
            Vec::new()
        };
        let every = self.config.sample_every;
        let sample = if every > 0 && (self.step.is_multiple_of(every) || self.finished()) {
            Some(self.sample().await?)
        } else {
            None
        };
        Ok(LmReport {
            step: self.step,
            tokens: self.tokens_seen,
            train_loss,
            val_loss: values[1],
            lr: self.lr_at(self.step.saturating_sub(1)) as f32,
            recall,
            sample,
        })
    }

    /// The training sample's prompt: the start of a statement, a story, or of the validation text.
    fn sample_prompt(&self) -> Vec<u32> {
        match self.corpus.kind {
            CorpusKind::Facts => self.corpus.encode(". the capital of").unwrap_or_default(),
            CorpusKind::Stories => self.corpus.encode(". once upon a time").unwrap_or_default(),
            CorpusKind::Text => self.corpus.val[..8.min(self.corpus.val.len())].to_vec(),
        }
    }

    async fn sample(&self) -> Result<Sample, LmError> {
        let prompt = self.sample_prompt();
        let mut rng = SeededRng::new(self.config.seed ^ u64::from(self.step), SAMPLE_STREAM);
        let model = self.model();
        let mut rows = vec![prompt.clone()];
        for _ in 0..self.config.sample_len {
            let logits = self.last_logits(&model, &rows, &Hooks::default()).await?;
            let next = sample_token(&logits[0], 0.8, 0, &mut rng);
            rows[0].push(next);
        }
        Ok(Sample {
            prompt: self.corpus.decode(&prompt),
            text: self.corpus.decode(&rows[0][prompt.len()..]),
        })
    }

    /// The last position's logits of every row (rows of equal length; the last `ctx` tokens).
    async fn last_logits(
        &self,
        model: &Gpt,
        rows: &[Vec<u32>],
        hooks: &Hooks,
    ) -> Result<Vec<Vec<f32>>, LmError> {
        let t = self.config.ctx as usize;
        let len = rows[0].len().min(t);
        let data: Vec<i32> = rows.iter().flat_map(|r| ids(&r[r.len() - len..])).collect();
        let tokens = int_tensor(data, [rows.len(), len], &self.device);
        let (logits, _) = model.forward_hooked(tokens, hooks);
        let v = self.corpus.vocab.len();
        let last = logits.narrow(1, len - 1, 1);
        let values = read_f32(flat(last)).await?;
        Ok(values.chunks(v).map(<[f32]>::to_vec).collect())
    }

    /// A prompt as tokens; the shipped corpora's prompts start with `.` as every statement does.
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<u32>, LmError> {
        let mut tokens = self.corpus.encode(text).map_err(LmError::Request)?;
        if self.corpus.word_level() {
            let sep = self.corpus.encode(SEP).map_err(LmError::Request)?[0];
            if tokens.first() != Some(&sep) {
                tokens.insert(0, sep);
            }
        }
        if tokens.is_empty() {
            return Err(LmError::Request(
                "the prompt is empty: type a few words".into(),
            ));
        }
        Ok(tokens)
    }

    fn check_neuron(&self, layer: u32, neuron: u32) -> Result<(), LmError> {
        if layer >= self.config.layers {
            return Err(LmError::Request(format!(
                "layer must be between 0 and {}, got {layer}",
                self.config.layers - 1
            )));
        }
        if neuron >= self.config.d_mlp {
            return Err(LmError::Request(format!(
                "neuron must be between 0 and {}, got {neuron}",
                self.config.d_mlp - 1
            )));
        }
        Ok(())
    }

    /// The steering edits for `rows` rows, applied to the last row only.
    fn steer_hooks(&self, model: &Gpt, steer: &[Steer], rows: usize) -> Result<Hooks, LmError> {
        let (m, d) = (self.config.d_mlp as usize, self.config.d_model as usize);
        let mut hooks = Hooks::default();
        for s in steer {
            match *s {
                Steer::Clamp {
                    layer,
                    neuron,
                    value,
                } => {
                    self.check_neuron(layer, neuron)?;
                    let mut keep = vec![1f32; rows * m];
                    let mut add = vec![0f32; rows * m];
                    let at = (rows - 1) * m + neuron as usize;
                    keep[at] = 0.0;
                    add[at] = value;
                    let t = |v: Vec<f32>| {
                        Tensor::<3>::from_data(TensorData::new(v, [rows, 1, m]), &self.device)
                    };
                    hooks.edits.push((
                        Site::Act(layer as usize),
                        Edit {
                            keep: t(keep),
                            add: t(add),
                        },
                    ));
                }
                Steer::Add {
                    layer,
                    neuron,
                    scale,
                } => {
                    self.check_neuron(layer, neuron)?;
                    let dir = model.blocks[layer as usize]
                        .w_out
                        .val()
                        .narrow(0, neuron as usize, 1)
                        .mul_scalar(scale)
                        .reshape([1, 1, d]);
                    let add = if rows > 1 {
                        Tensor::cat(vec![Tensor::zeros([rows - 1, 1, d], &self.device), dir], 0)
                    } else {
                        dir
                    };
                    hooks.edits.push((
                        Site::Resid(layer as usize + 1),
                        Edit {
                            keep: Tensor::ones([1, 1, 1], &self.device),
                            add,
                        },
                    ));
                }
            }
        }
        Ok(hooks)
    }

    /// Generation: the plain continuation and, with steering, the steered one from the same
    /// seed (rows of one batch).
    pub async fn generate(
        &self,
        req: &GenerateRequest,
    ) -> Result<(Generation, Option<Generation>), LmError> {
        if !(req.temperature.is_finite() && (0.0..=10.0).contains(&req.temperature)) {
            return Err(LmError::Request(format!(
                "temperature must be between 0 and 10, got {}",
                req.temperature
            )));
        }
        let max_len = crate::config::SAMPLE_LEN_MAX;
        if req.length == 0 || req.length > max_len {
            return Err(LmError::Request(format!(
                "length must be between 1 and {max_len}, got {}",
                req.length
            )));
        }
        let prompt = self.encode_prompt(&req.prompt)?;
        let model = self.model();
        let rows_n = if req.steer.is_empty() { 1 } else { 2 };
        let hooks = self.steer_hooks(&model, &req.steer, rows_n)?;
        let mut rows = vec![prompt.clone(); rows_n];
        let mut rngs: Vec<SeededRng> = (0..rows_n)
            .map(|_| SeededRng::new(req.seed, GENERATE_STREAM))
            .collect();
        let mut next: Vec<Vec<Vec<TokenValue>>> = vec![Vec::new(); rows_n];
        // The prompt's own positions: every next-token distribution in one read.
        {
            let t = self.config.ctx as usize;
            let len = prompt.len().min(t);
            let data: Vec<i32> = rows.iter().flat_map(|r| ids(&r[r.len() - len..])).collect();
            let (logits, _) =
                model.forward_hooked(int_tensor(data, [rows_n, len], &self.device), &hooks);
            let values = read_f32(flat(logits)).await?;
            let v = self.corpus.vocab.len();
            for (r, row) in values.chunks(len * v).enumerate() {
                // Positions cut off by the context get no distribution.
                next[r].extend(std::iter::repeat_n(Vec::new(), prompt.len() - len));
                for pos in row.chunks(v).take(len - 1) {
                    next[r].push(self.top_probs(pos));
                }
            }
        }
        for _ in 0..req.length {
            let logits = self.last_logits(&model, &rows, &hooks).await?;
            for (r, l) in logits.iter().enumerate() {
                next[r].push(self.top_probs(l));
                let tok = sample_token(l, req.temperature, req.top_k, &mut rngs[r]);
                rows[r].push(tok);
            }
        }
        let gen = |r: usize, next: Vec<Vec<TokenValue>>| Generation {
            tokens: rows[r]
                .iter()
                .map(|&t| self.corpus.token(t).to_string())
                .collect(),
            prompt_len: prompt.len() as u32,
            next,
            text: self.corpus.decode(&rows[r]),
        };
        let mut next = next.into_iter();
        let plain = gen(0, next.next().unwrap_or_default());
        let steered = (rows_n > 1).then(|| gen(1, next.next().unwrap_or_default()));
        Ok((plain, steered))
    }

    fn top_probs(&self, logits: &[f32]) -> Vec<TokenValue> {
        let probs = softmax_host(logits, 1.0);
        top_n(&probs, NEXT_TOKENS, true)
            .into_iter()
            .map(|(i, p)| TokenValue {
                token: self.corpus.token(i as u32).to_string(),
                value: p,
            })
            .collect()
    }

    /// Every layer's neuron activations over the browser's sample of the corpus (cached until
    /// the next training step).
    async fn browser(&mut self) -> Result<&Browser, LmError> {
        if !self.browser.as_ref().is_some_and(|b| b.step == self.step) {
            self.read_browser().await?;
        }
        Ok(self.browser.as_ref().expect("just read"))
    }

    async fn read_browser(&mut self) -> Result<(), LmError> {
        let t = self.config.ctx as usize;
        let train = &self.corpus.train;
        let n_win = (BROWSER_TOKENS / t).max(1).min(train.len() / t);
        let span = train.len() - t;
        let starts: Vec<usize> = (0..n_win)
            .map(|i| if n_win > 1 { i * span / (n_win - 1) } else { 0 })
            .collect();
        let model = self.model();
        let layers = model.layers();
        let mut per_layer: Vec<Vec<Tensor<1>>> = vec![Vec::new(); layers];
        let mut tokens = Vec::with_capacity(n_win * t);
        for chunk in starts.chunks(BROWSER_BATCH) {
            let data: Vec<i32> = chunk.iter().flat_map(|&s| ids(&train[s..s + t])).collect();
            tokens.extend(chunk.iter().flat_map(|&s| train[s..s + t].iter().copied()));
            let hooks = Hooks {
                capture: true,
                ..Hooks::default()
            };
            let (_, caps) =
                model.forward_hooked(int_tensor(data, [chunk.len(), t], &self.device), &hooks);
            for (site, x) in caps {
                if let Site::Act(l) = site {
                    per_layer[l].push(flat(x));
                }
            }
        }
        let mut acts = Vec::with_capacity(layers);
        for parts in per_layer {
            acts.push(read_f32(Tensor::cat(parts, 0)).await?);
        }
        self.browser = Some(Browser {
            step: self.step,
            tokens,
            ctx: t,
            acts,
        });
        Ok(())
    }

    /// `W_out[layer] · W_U` rows for `neurons` (`None`: all), `[n, V]` row-major.
    async fn decoded(&self, layer: u32, neuron: Option<u32>) -> Result<Vec<f32>, LmError> {
        let model = self.model();
        let w = model.blocks[layer as usize].w_out.val();
        let w = match neuron {
            Some(n) => w.narrow(0, n as usize, 1),
            None => w,
        };
        read_f32(flat(w.matmul(model.unembed()))).await
    }

    /// Every neuron of `layer`, most active first.
    pub async fn neurons(&mut self, layer: u32) -> Result<Vec<NeuronRow>, LmError> {
        self.check_neuron(layer, 0)?;
        let m = self.config.d_mlp as usize;
        let v = self.corpus.vocab.len();
        let decoded = self.decoded(layer, None).await?;
        let stats: Vec<(f32, f32)> = {
            let b = self.browser().await?;
            let acts = &b.acts[layer as usize];
            let n_tok = acts.len() / m;
            (0..m)
                .map(|n| {
                    let (mut mx, mut sum) = (f32::MIN, 0f32);
                    for i in 0..n_tok {
                        let a = acts[i * m + n];
                        mx = mx.max(a);
                        sum += a;
                    }
                    (mx, sum / n_tok.max(1) as f32)
                })
                .collect()
        };
        let mut rows: Vec<NeuronRow> = (0..m)
            .map(|n| {
                let row = &decoded[n * v..(n + 1) * v];
                let (top, logit) = top_n(row, 1, true)[0];
                NeuronRow {
                    neuron: n as u32,
                    max_act: stats[n].0,
                    mean_act: stats[n].1,
                    top_token: self.corpus.token(top as u32).to_string(),
                    top_logit: logit,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.max_act.total_cmp(&a.max_act));
        Ok(rows)
    }

    /// One neuron: its top-activating contexts, histogram and decoding.
    pub async fn neuron(&mut self, layer: u32, neuron: u32) -> Result<NeuronDetail, LmError> {
        self.check_neuron(layer, neuron)?;
        let m = self.config.d_mlp as usize;
        let decoded = self.decoded(layer, Some(neuron)).await?;
        self.browser().await?;
        let b = self.browser.as_ref().expect("just read");
        let acts: Vec<f32> = b.acts[layer as usize]
            .iter()
            .skip(neuron as usize)
            .step_by(m)
            .copied()
            .collect();
        let n_tok = acts.len().max(1);
        let max_act = acts.iter().copied().fold(f32::MIN, f32::max);
        let min_act = acts.iter().copied().fold(f32::MAX, f32::min);
        let mean_act = acts.iter().sum::<f32>() / n_tok as f32;
        let density = acts.iter().filter(|&&a| a > 0.0).count() as f32 / n_tok as f32;
        let mut counts = vec![0u32; HIST_BINS];
        let width = (max_act - min_act).max(1e-6);
        for &a in &acts {
            let bin = (((a - min_act) / width) * HIST_BINS as f32) as usize;
            counts[bin.min(HIST_BINS - 1)] += 1;
        }
        // The top tokens, one context per window.
        let mut order: Vec<usize> = (0..acts.len()).collect();
        order.sort_by(|&i, &j| acts[j].total_cmp(&acts[i]));
        let mut used = Vec::new();
        let mut contexts = Vec::new();
        for i in order {
            let win = i / b.ctx;
            if used.contains(&win) {
                continue;
            }
            used.push(win);
            let start = (win * b.ctx).max(i.saturating_sub(12));
            let end = ((win + 1) * b.ctx).min(i + 4);
            contexts.push(Context {
                tokens: b.tokens[start..end]
                    .iter()
                    .map(|&t| self.corpus.token(t).to_string())
                    .collect(),
                acts: acts[start..end].to_vec(),
                at: (i - start) as u32,
                activation: acts[i],
            });
            if contexts.len() == TOP_CONTEXTS {
                break;
            }
        }
        let tokens = |list: Vec<(usize, f32)>| {
            list.into_iter()
                .map(|(i, v)| TokenValue {
                    token: self.corpus.token(i as u32).to_string(),
                    value: v,
                })
                .collect()
        };
        Ok(NeuronDetail {
            layer,
            neuron,
            max_act,
            mean_act,
            density,
            contexts,
            histogram: Histogram {
                lo: min_act,
                hi: max_act,
                counts,
            },
            promoted: tokens(top_n(&decoded, TOP_TOKENS, true)),
            suppressed: tokens(top_n(&decoded, TOP_TOKENS, false)),
        })
    }

    /// Activation patching: the clean prompt's activations patched into the corrupted run at
    /// every (layer, position) of each site; the logit difference recovered.
    pub async fn patch(&self, req: &PatchRequest) -> Result<PatchResult, LmError> {
        let clean = self.encode_prompt(&req.clean)?;
        let corrupt = self.encode_prompt(&req.corrupt)?;
        if clean.len() != corrupt.len() {
            return Err(LmError::Request(format!(
                "the clean and corrupted prompts must have the same number of tokens to patch \
                 position by position: {} and {}",
                clean.len(),
                corrupt.len()
            )));
        }
        let t = clean.len();
        if t > self.config.ctx as usize {
            return Err(LmError::Request(format!(
                "the prompts have {t} tokens; the context holds {}",
                self.config.ctx
            )));
        }
        let model = self.model();
        let layers = model.layers();
        let both = int_tensor(
            ids(&clean).into_iter().chain(ids(&corrupt)).collect(),
            [2, t],
            &self.device,
        );
        let (logits, caps) = model.forward_hooked(
            both,
            &Hooks {
                capture: true,
                ..Hooks::default()
            },
        );
        let v = self.corpus.vocab.len();
        let last = read_f32(flat(logits.narrow(1, t - 1, 1))).await?;
        let (lc, lr) = (&last[..v], &last[v..]);
        let answer = |given: &Option<String>, logits: &[f32]| -> Result<u32, LmError> {
            match given {
                Some(text) if !text.trim().is_empty() => {
                    let ids = self.corpus.encode(text).map_err(LmError::Request)?;
                    match ids.as_slice() {
                        [one] => Ok(*one),
                        _ => Err(LmError::Request(format!(
                            "an answer is one token, got '{text}'"
                        ))),
                    }
                }
                _ => Ok(top_n(logits, 1, true)[0].0 as u32),
            }
        };
        let ac = answer(&req.answer_clean, lc)?;
        let ar = answer(&req.answer_corrupt, lr)?;
        if ac == ar {
            return Err(LmError::Request(format!(
                "both prompts' answers are '{}': patching needs two different answers (give them)",
                self.corpus.token(ac)
            )));
        }
        let ld = |l: &[f32]| l[ac as usize] - l[ar as usize];
        let (ld_clean, ld_corrupt) = (ld(lc), ld(lr));
        if (ld_clean - ld_corrupt).abs() < 1e-6 {
            return Err(LmError::Request(
                "the two prompts give the same logit difference: nothing to recover".into(),
            ));
        }
        // The clean run's activations (row 0 of the captures).
        let clean_at: HashMap<Site, Tensor<3>> = caps
            .into_iter()
            .map(|(s, x)| (s, x.narrow(0, 0, 1)))
            .collect();
        let rows = layers * t;
        let tokens = int_tensor(
            (0..rows).flat_map(|_| ids(&corrupt)).collect(),
            [rows, t],
            &self.device,
        );
        let pick = Tensor::<1, Int>::from_data(
            TensorData::new(vec![ac as i32, ar as i32], [2]),
            &self.device,
        );
        let mut sites = Vec::new();
        for (name, site) in [
            ("resid", Site::Resid as fn(usize) -> Site),
            ("attn", Site::Attn),
            ("mlp", Site::Mlp),
        ] {
            let mut hooks = Hooks::default();
            for l in 0..layers {
                // Row l·T + p patches position p at layer l.
                let mut keep = vec![1f32; rows * t];
                for p in 0..t {
                    keep[(l * t + p) * t + p] = 0.0;
                }
                let keep =
                    Tensor::<3>::from_data(TensorData::new(keep, [rows, t, 1]), &self.device);
                let add = clean_at[&site(l)].clone() * (keep.clone().neg().add_scalar(1.0));
                hooks.edits.push((site(l), Edit { keep, add }));
            }
            let (logits, _) = model.forward_hooked(tokens.clone(), &hooks);
            let picked = logits
                .narrow(1, t - 1, 1)
                .reshape([rows, v])
                .select(1, pick.clone());
            let values = read_f32(flat(picked)).await?;
            let recovered = values
                .chunks(2)
                .map(|p| (p[0] - p[1] - ld_corrupt) / (ld_clean - ld_corrupt))
                .collect();
            sites.push(PatchSite {
                site: name.into(),
                layers: layers as u32,
                recovered,
            });
        }
        let words = |toks: &[u32]| {
            toks.iter()
                .map(|&x| self.corpus.token(x).to_string())
                .collect()
        };
        Ok(PatchResult {
            clean: words(&clean),
            corrupt: words(&corrupt),
            answer_clean: self.corpus.token(ac).into(),
            answer_corrupt: self.corpus.token(ar).into(),
            ld_clean,
            ld_corrupt,
            sites,
        })
    }

    /// Every relation's attribution of every MLP neuron, `[relation][layer][neuron]`: d(the
    /// answer's logit above the mean logit)/d(a factor on the neuron), averaged over the
    /// relation's training-template prompts, with the `silenced` neurons (global indices
    /// `layer · d_mlp + neuron`) zeroed or set to their `means`, at the answer's position or at
    /// `all_positions`.
    async fn attributions(
        &self,
        silenced: &[usize],
        means: Option<&[Vec<f32>]>,
        all_positions: bool,
    ) -> Result<Vec<f32>, LmError> {
        let (layers, m) = (self.config.layers as usize, self.config.d_mlp as usize);
        let n_rel = crate::corpus::RELATIONS.len();
        let model = self.trained();
        let ad = &self.ad;
        let v = self.corpus.vocab.len();
        let mut mask = vec![vec![1f32; m]; layers];
        let mut value = vec![vec![0f32; m]; layers];
        for &i in silenced {
            let (l, n) = (i / m, i % m);
            mask[l][n] = 0.0;
            value[l][n] = means.map_or(0.0, |mm| mm[l][n]);
        }
        let row = |x: &[f32]| Tensor::<3>::from_data(TensorData::new(x.to_vec(), [1, 1, m]), ad);
        let mut parts = Vec::new();
        for r in 0..n_rel {
            let factors: Vec<Tensor<3>> = (0..layers)
                .map(|_| Tensor::<3>::ones([1, 1, m], ad).require_grad())
                .collect();
            let prompts: Vec<&crate::corpus::FactPrompt> = self
                .corpus
                .prompts
                .iter()
                .filter(|p| !p.held_out && p.relation as usize == r)
                .collect();
            let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, p) in prompts.iter().enumerate() {
                by_len.entry(p.tokens.len()).or_default().push(i);
            }
            let mut total: Option<Tensor<1>> = None;
            for (len, idx) in by_len {
                let hooks = Hooks {
                    edits: (0..layers)
                        .map(|l| {
                            let f = factors[l].clone() * row(&mask[l]);
                            let add = row(&value[l]);
                            let (keep, add) = if all_positions || len == 1 {
                                (f, add)
                            } else {
                                let ones = Tensor::ones([1, len - 1, m], ad);
                                let zeros = Tensor::zeros([1, len - 1, m], ad);
                                (
                                    Tensor::cat(vec![ones, f], 1),
                                    Tensor::cat(vec![zeros, add], 1),
                                )
                            };
                            (Site::Act(l), Edit { keep, add })
                        })
                        .collect(),
                    capture: false,
                };
                let n = idx.len();
                let data: Vec<i32> = idx.iter().flat_map(|&i| ids(&prompts[i].tokens)).collect();
                let answers: Vec<i32> = idx.iter().map(|&i| prompts[i].answer as i32).collect();
                let (logits, _) = model.forward_hooked(int_tensor(data, [n, len], ad), &hooks);
                // The answer's logit above the mean logit: unlike its log-probability, not
                // saturated once the fact is recalled.
                let last = logits.narrow(1, len - 1, 1).reshape([n, v]);
                let centred = last.clone() - last.mean_dim(1);
                let picked = centred.gather(1, int_tensor(answers, [n, 1], ad)).sum();
                total = Some(match total {
                    Some(t) => t + picked,
                    None => picked,
                });
            }
            let total = total
                .expect("every relation has prompts")
                .div_scalar(prompts.len() as f64);
            let grads = total.backward();
            for f in &factors {
                let g = f
                    .grad(&grads)
                    .ok_or_else(|| LmError::Readback("no attribution gradient".into()))?;
                parts.push(flat(g));
            }
        }
        read_f32(Tensor::cat(parts, 0)).await
    }

    /// Per relation: every MLP neuron's attribution to its answers (gradient × activation of
    /// the answer's logit above the mean logit on the training templates, at the answer's position or at
    /// every position), the neurons most specific to it (its attribution minus the largest of
    /// the other relations'), and recall of every relation with its top k silenced.
    pub async fn relation_neurons(
        &mut self,
        ks: &[u32],
        mean_ablation: bool,
        all_positions: bool,
    ) -> Result<RelationNeurons, LmError> {
        if self.corpus.prompts.is_empty() {
            return Err(LmError::Request(
                "relation neurons need the facts corpus (corpus=facts)".into(),
            ));
        }
        let (layers, m) = (self.config.layers as usize, self.config.d_mlp as usize);
        let total = (layers * m) as u32;
        let mut ks: Vec<u32> = ks.iter().map(|&k| k.min(total)).collect();
        if ks.is_empty() {
            ks = RELATION_KS.iter().map(|&k| k.min(total)).collect();
        }
        ks.sort_unstable();
        ks.dedup();
        let names = crate::corpus::relation_names();
        let n_rel = names.len();
        // `keep` `[1, 1, m]` over the positions the neurons are silenced at, for a prompt of
        // `len` tokens.
        let at = |keep: Tensor<3>, len: usize, device: &Device| -> Tensor<3> {
            if all_positions || len == 1 {
                keep
            } else {
                Tensor::cat(vec![Tensor::ones([1, len - 1, m], device), keep], 1)
            }
        };
        let means = if mean_ablation {
            let b = self.browser().await?;
            Some(
                b.acts
                    .iter()
                    .map(|a| {
                        let n_tok = (a.len() / m).max(1) as f32;
                        (0..m)
                            .map(|n| a.iter().skip(n).step_by(m).sum::<f32>() / n_tok)
                            .collect::<Vec<f32>>()
                    })
                    .collect::<Vec<_>>(),
            )
        } else {
            None
        };
        let per = layers * m;
        // Each relation's neurons chosen in rounds (one per rank in `ks`): the attributions
        // recomputed with the neurons chosen so far silenced, so that the next round finds the
        // ones that take over (cumulative, as the seed paper deactivates them).
        let mut chosen: Vec<Vec<(usize, f32)>> = Vec::new();
        for r in 0..n_rel {
            let mut picked: Vec<(usize, f32)> = Vec::new();
            let mut prev = 0usize;
            for &k in &ks {
                let k = k as usize;
                if k <= prev {
                    continue;
                }
                let silenced: Vec<usize> = picked.iter().map(|&(i, _)| i).collect();
                let attr = self
                    .attributions(&silenced, means.as_deref(), all_positions)
                    .await?;
                let score: Vec<f32> = (0..per)
                    .map(|i| {
                        if silenced.contains(&i) {
                            return f32::MIN;
                        }
                        let others = (0..n_rel)
                            .filter(|&o| o != r)
                            .map(|o| attr[o * per + i])
                            .fold(f32::MIN, f32::max);
                        attr[r * per + i] - others.max(0.0)
                    })
                    .collect();
                picked.extend(top_n(&score, k - prev, true));
                prev = k;
            }
            chosen.push(picked);
        }
        let model = self.model();
        let mut tops = Vec::new();
        let mut evals = Vec::new();
        for top in chosen {
            for &k in &ks {
                let mut keep = vec![vec![1f32; m]; layers];
                let mut add = vec![vec![0f32; m]; layers];
                for &(i, _) in top.iter().take(k as usize) {
                    let (l, n) = (i / m, i % m);
                    keep[l][n] = 0.0;
                    if let Some(means) = &means {
                        add[l][n] = means[l][n];
                    }
                }
                let t = |v: &[f32]| {
                    Tensor::<3>::from_data(TensorData::new(v.to_vec(), [1, 1, m]), &self.device)
                };
                let hooks = |len: usize| Hooks {
                    edits: (0..layers)
                        .map(|l| {
                            let keep = at(t(&keep[l]), len, &self.device);
                            // Where nothing is silenced, `keep` is 1 and `add` must be 0.
                            let add = at(t(&add[l]), len, &self.device)
                                * (keep.clone().neg().add_scalar(1.0));
                            (Site::Act(l), Edit { keep, add })
                        })
                        .collect(),
                    capture: false,
                };
                evals.push(self.correct(&model, &hooks, true));
            }
            tops.push(top);
        }
        let correct = read_f32(Tensor::cat(evals, 0)).await?;
        let n_seen = self.corpus.prompts.iter().filter(|p| !p.held_out).count();
        let mut chunks = correct.chunks(n_seen);
        let mut by_relation = Vec::new();
        for (r, top) in tops.into_iter().enumerate() {
            let recall: Vec<Vec<f32>> = ks
                .iter()
                .map(|_| {
                    let c = chunks.next().unwrap_or_default();
                    self.recall_of(c, true)
                        .into_iter()
                        .map(|x| x.seen)
                        .collect()
                })
                .collect();
            by_relation.push(RelationAblation {
                relation: names[r].clone(),
                top: top
                    .into_iter()
                    .map(|(i, s)| NeuronScore {
                        layer: (i / m) as u32,
                        neuron: (i % m) as u32,
                        score: s,
                    })
                    .collect(),
                recall,
            });
        }
        Ok(RelationNeurons {
            relations: names,
            ks,
            ablation: if mean_ablation { "mean" } else { "zero" }.into(),
            positions: if all_positions { "all" } else { "last" }.into(),
            by_relation,
        })
    }

    /// Logits `[T, V]` of one prompt with the given steering (tests, the CLI).
    pub async fn logits(&self, prompt: &str, steer: &[Steer]) -> Result<Vec<Vec<f32>>, LmError> {
        let tokens = self.encode_prompt(prompt)?;
        let model = self.model();
        let hooks = self.steer_hooks(&model, steer, 1)?;
        let t = tokens.len();
        let (logits, _) =
            model.forward_hooked(int_tensor(ids(&tokens), [1, t], &self.device), &hooks);
        let v = self.corpus.vocab.len();
        Ok(read_f32(flat(logits))
            .await?
            .chunks(v)
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// `W_out[layer][neuron] · W_U` over the vocabulary.
    pub async fn decode_neuron(&self, layer: u32, neuron: u32) -> Result<Vec<f32>, LmError> {
        self.check_neuron(layer, neuron)?;
        self.decoded(layer, Some(neuron)).await
    }

    /// A layer's neuron activations for one prompt, `[T][d_mlp]`.
    pub async fn activations(&self, prompt: &str, layer: u32) -> Result<Vec<Vec<f32>>, LmError> {
        self.check_neuron(layer, 0)?;
        let tokens = self.encode_prompt(prompt)?;
        let t = tokens.len();
        let hooks = Hooks {
            capture: true,
            ..Hooks::default()
        };
        let (_, caps) = self
            .model()
            .forward_hooked(int_tensor(ids(&tokens), [1, t], &self.device), &hooks);
        let x = caps
            .into_iter()
            .find(|(s, _)| *s == Site::Act(layer as usize))
            .map(|(_, x)| x)
            .ok_or_else(|| LmError::Readback("no activations captured".into()))?;
        let m = self.config.d_mlp as usize;
        Ok(read_f32(flat(x))
            .await?
            .chunks(m)
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// Our `.safetensors`: every tensor by [`Gpt::named`], with the config, vocabulary and step.
    pub async fn safetensors(&self) -> Result<Vec<u8>, LmError> {
        let mut owned: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
        for (name, tensor) in self.model().named() {
            // Vectors as `[n]`, matrices as they are.
            let dims = tensor.dims();
            let shape = if dims[0] == 1 && !name.contains("W_") {
                vec![dims[1]]
            } else {
                dims.to_vec()
            };
            let values = read_f32(flat(tensor)).await?;
            owned.push((name, shape, values));
        }
        let mut config = self.config.clone();
        config.text.clear();
        neurolab_base::tensors::safetensors_f32(
            owned
                .iter()
                .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice())),
            &[
                ("format", "neurolab-lm".to_string()),
                ("step", self.step.to_string()),
                ("config", to_json(&config)?),
                ("vocab", to_json(&self.corpus.vocab)?),
            ],
        )
        .map_err(LmError::Export)
    }

    /// Weights this lab exported: every tensor's name and shape checked against this config,
    /// the vocabulary against this corpus. Training goes on from them with a fresh optimiser.
    pub fn import(&mut self, bytes: &[u8]) -> Result<(), LmError> {
        let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| LmError::Import(format!("not a safetensors file ({e})")))?;
        if let Some(vocab) = meta.metadata().as_ref().and_then(|m| m.get("vocab")) {
            let theirs: Vec<String> = serde_json::from_str(vocab)
                .map_err(|e| LmError::Import(format!("its vocabulary is unreadable ({e})")))?;
            if theirs != self.corpus.vocab {
                return Err(LmError::Import(format!(
                    "they were trained on another vocabulary ({} tokens; this corpus has {}): \
                     pick the corpus they were trained on",
                    theirs.len(),
                    self.corpus.vocab.len()
                )));
            }
        }
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| LmError::Import(format!("not a safetensors file ({e})")))?;
        let mut get = |name: &str, shape: [usize; 2]| -> Result<Vec<f32>, String> {
            let view = st
                .tensor(name)
                .map_err(|_| format!("the file has no tensor '{name}'"))?;
            let want: Vec<usize> = if shape[0] == 1 && !name.contains("W_") {
                vec![shape[1]]
            } else {
                shape.to_vec()
            };
            let got = view.shape().to_vec();
            if got != want && got != shape.to_vec() {
                return Err(format!(
                    "'{name}' is {got:?}; this config needs {want:?} (layers, d_model, d_mlp, \
                     ctx and tied must match the run that exported it)"
                ));
            }
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(format!("'{name}' is {:?}, not F32", view.dtype()));
            }
            Ok(view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let loaded = self
            .trained()
            .with_values(&mut get, &self.ad)
            .map_err(LmError::Import)?;
        self.model = Some(loaded);
        self.optim = optimiser(&self.config);
        self.browser = None;
        Ok(())
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, LmError> {
    serde_json::to_string(value).map_err(|e| LmError::Export(e.to_string()))
}

/// Softmax of `logits / temperature` on the host.
fn softmax_host(logits: &[f32], temperature: f32) -> Vec<f32> {
    let mx = logits.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = logits
        .iter()
        .map(|&l| ((l - mx) / temperature).exp())
        .collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

/// The `n` largest (or smallest) values with their indices, ties to the lower index.
fn top_n(values: &[f32], n: usize, largest: bool) -> Vec<(usize, f32)> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| {
        let o = values[b].total_cmp(&values[a]);
        let o = if largest { o } else { o.reverse() };
        o.then(a.cmp(&b))
    });
    idx.into_iter().take(n).map(|i| (i, values[i])).collect()
}

/// A next token: greedy at temperature 0, else sampled (among the top k when k > 0).
fn sample_token(logits: &[f32], temperature: f32, top_k: u32, rng: &mut SeededRng) -> u32 {
    if temperature <= 0.0 {
        return top_n(logits, 1, true)[0].0 as u32;
    }
    let mut probs = softmax_host(logits, temperature);
    if top_k > 0 && (top_k as usize) < probs.len() {
        let keep: Vec<usize> = top_n(&probs, top_k as usize, true)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        for (i, p) in probs.iter_mut().enumerate() {
            if !keep.contains(&i) {
                *p = 0.0;
            }
        }
    }
    let total: f32 = probs.iter().sum();
    let mut u = rng.uniform() as f32 * total;
    for (i, p) in probs.iter().enumerate() {
        u -= p;
        if u <= 0.0 {
            return i as u32;
        }
    }
    (probs.len() - 1) as u32
}

impl Session for LmSession {
    type Lab = LmLab;
    type Error = LmError;

    fn position(&self) -> Position {
        Position::steps(self.step, self.config.steps)
    }

    fn summary(&self) -> LmSummary {
        let c = &self.config;
        let v = self.corpus.vocab.len();
        LmSummary {
            corpus: match c.corpus {
                CorpusKind::Text => format!("your text ({} characters)", c.text.chars().count()),
                k => k.name().to_string(),
            },
            vocab: self.corpus.vocab.clone(),
            word_level: self.corpus.word_level(),
            params: c.params(v as u64),
            train_tokens: self.corpus.train.len() as u64,
            val_tokens: self.corpus.val.len() as u64,
            relations: if self.corpus.prompts.is_empty() {
                Vec::new()
            } else {
                crate::corpus::relation_names()
            },
            layers: c.layers,
            d_model: c.d_model,
            d_mlp: c.d_mlp,
            heads: c.heads,
            ctx: c.ctx,
        }
    }

    async fn advance(&mut self, chunk: Chunk) -> Result<Advance<LmReport>, LmError> {
        let mut out = Advance::default();
        let mut synced = false;
        for _ in 0..chunk.units {
            if self.finished() {
                break;
            }
            self.train_step();
            synced = false;
            let every = self.config.report_every.max(1);
            if self.step.is_multiple_of(every) || self.finished() {
                let report = self.metrics().await?;
                synced = true;
                if out.push_checked(report, |r| {
                    format!(
                        "the language model's loss became NaN/Inf by step {} (try a lower learning rate)",
                        r.step
                    )
                }) {
                    return Ok(out);
                }
            }
        }
        if chunk.sync && !synced {
            self.sync().await?;
        }
        Ok(out)
    }

    async fn report(&mut self) -> Result<Option<LmReport>, LmError> {
        Ok(Some(self.metrics().await?))
    }

    async fn apply(&mut self, control: LmControl) -> Result<LmAnswer, LmError> {
        Ok(match control {
            LmControl::Generate { request } => {
                let (plain, steered) = self.generate(&request).await?;
                LmAnswer::Generated {
                    request,
                    plain,
                    steered,
                }
            }
            LmControl::Neurons { layer } => LmAnswer::NeuronList {
                step: self.step,
                layer,
                neurons: self.neurons(layer).await?,
            },
            LmControl::Neuron { layer, neuron } => LmAnswer::NeuronDetail {
                step: self.step,
                detail: self.neuron(layer, neuron).await?,
            },
            LmControl::Patch { request } => LmAnswer::Patched {
                result: self.patch(&request).await?,
                request,
            },
            LmControl::RelationNeurons {
                ks,
                mean_ablation,
                all_positions,
            } => LmAnswer::RelationNeurons {
                step: self.step,
                result: self
                    .relation_neurons(&ks, mean_ablation, all_positions)
                    .await?,
            },
            LmControl::Import { safetensors } => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(safetensors.as_bytes())
                    .map_err(|e| LmError::Import(format!("the file did not arrive whole ({e})")))?;
                self.import(&bytes)?;
                LmAnswer::Imported {
                    params: self.config.params(self.corpus.vocab.len() as u64),
                }
            }
        })
    }

    /// "weights": our `.safetensors` (names in [`Gpt::named`]).
    async fn export(&mut self, what: &str) -> Result<ExportFile, LmError> {
        match what {
            "weights" => Ok(ExportFile {
                file_name: format!(
                    "neurolab-lm-{}-L{}-d{}-step{}.safetensors",
                    self.config.corpus.name(),
                    self.config.layers,
                    self.config.d_model,
                    self.step
                ),
                mime: "application/octet-stream".into(),
                bytes: self.safetensors().await?,
            }),
            _ => Err(LmError::UnknownExport(what.to_string())),
        }
    }
}
