//! The GPU engine (feature `gpu`): a `Network` simulated by WGSL compute shaders on a wgpu device —
//! Vulkan/Metal/DX12/GL natively, WebGPU in the browser (where it may share burn's device).
//!
//! It follows the CPU engine's step order and arithmetic (`sim.rs`) term by term, with the same
//! counter-based noise (`noise.rs`, ported to WGSL), so a small network gives the same spike trains
//! on both engines (see `tests/gpu.rs` for how long they stay identical). Each step is two dispatches
//! (`detect`: spike test + reset + the step's spike bits; `integrate`: noise, external current, the
//! synaptic gather over the CSC lists in ascending presynaptic order, and the neuron update), and
//! `steps_per_submit` steps are encoded into one command buffer. Spikes are recorded as one bitset
//! row of N bits per step (no atomics, no overflow, deterministic), copied into a mappable buffer
//! at the end of each submit and read back asynchronously: while one submit's record is mapped and
//! decoded, the next submit is already queued (two readback buffers in turns).

use crate::error::SpikeError;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use wgpu::util::DeviceExt;

use crate::network::{Network, NeuronModel};
use crate::noise;

/// The spike threshold of the Izhikevich model (mV), as `neuron::V_PEAK_MV`.
const IZH_V_PEAK_MV: f32 = 30.0;
/// Threads per workgroup of every kernel.
const WORKGROUP: u32 = 64;
/// The largest `steps_per_submit` (the per-step uniform table has this many rows).
pub const MAX_STEPS_PER_SUBMIT: u32 = 4096;
/// Default steps per submit: 1 s of a 1 ms network per command buffer.
pub const DEFAULT_STEPS_PER_SUBMIT: u32 = 1000;
/// The most neurons whose membrane potential can be recorded at once.
pub const MAX_PROBES: usize = 256;
const NO_PROBE: u32 = u32::MAX;

/// What one `GpuSim::run` produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuChunk {
    /// Index of the chunk's first step (its spikes have time `first_step · dt_ms`).
    pub first_step: u32,
    /// Steps simulated.
    pub steps: u32,
    pub dt_ms: f32,
    /// Spikes as (step, neuron), ordered by step, then neuron (the CPU engine's order).
    pub spikes: Vec<(u32, u32)>,
    /// Number of spikes per step (`steps` entries).
    pub counts: Vec<u32>,
    /// The probed neurons (see `GpuSim::set_probes`), and their v after each step:
    /// `traces_mv[s · probes.len() + k]` is neuron `probes[k]` after step `first_step + s`.
    pub probes: Vec<u32>,
    pub traces_mv: Vec<f32>,
    /// Command buffers submitted for this chunk (steps / steps_per_submit, rounded up).
    pub submits: u32,
}

impl GpuChunk {
    /// Spike times (ms) and neurons, as the raster CSV's `t_ms,neuron`.
    pub fn spike_times_ms(&self) -> impl Iterator<Item = (f64, u32)> + '_ {
        let dt = self.dt_ms as f64;
        self.spikes.iter().map(move |&(t, i)| (t as f64 * dt, i))
    }

    /// Mean firing rate of `n` neurons over the chunk (Hz).
    pub fn rate_hz(&self, n: usize) -> f64 {
        let sim_s = self.steps as f64 * self.dt_ms as f64 / 1000.0;
        if n == 0 || sim_s <= 0.0 {
            return 0.0;
        }
        self.spikes.len() as f64 / (n as f64 * sim_s)
    }
}

/// Adapter facts worth reporting (backend, name) next to measured speeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub backend: String,
    pub name: String,
    pub device_type: String,
}

/// Requests an adapter and a device of its own (high-performance preference, the adapter's own
/// limits so large networks fit). `NoAdapter` when there is none (e.g. a browser without WebGPU).
pub async fn request_device() -> Result<(wgpu::Device, wgpu::Queue, GpuInfo), SpikeError> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        })
        .await
        .map_err(|e| SpikeError::NoAdapter(e.to_string()))?;
    let ai = adapter.get_info();
    let info = GpuInfo {
        backend: format!("{:?}", ai.backend),
        name: ai.name.clone(),
        device_type: format!("{:?}", ai.device_type),
    };
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("neurolab-spike"),
            required_limits: adapter.limits(),
            ..Default::default()
        })
        .await
        .map_err(|e| SpikeError::RequestDevice(e.to_string()))?;
    Ok((device, queue, info))
}

/// A network's state on the GPU and the pipelines that step it.
pub struct GpuSim {
    device: wgpu::Device,
    queue: wgpu::Queue,
    model: NeuronModel,
    n: usize,
    words: u32,
    dt_ms: f32,
    t_step: u32,
    steps_per_submit: u32,
    /// Host copies of the per-neuron parameter block (8 u32 per neuron), rewritten on changes.
    params: Vec<u32>,
    probes: Vec<u32>,
    /// The network's `in_syn` (to re-gather weights after plasticity).
    in_syn: Vec<u32>,
    globals: Globals,
    globals_buf: wgpu::Buffer,
    v_buf: wgpu::Buffer,
    aux_buf: wgpu::Buffer,
    params_buf: wgpu::Buffer,
    w_buf: wgpu::Buffer,
    in_ptr_buf: wgpu::Buffer,
    in_pre_buf: wgpu::Buffer,
    layout0: wgpu::BindGroupLayout,
    rec: Records,
    bind1: wgpu::BindGroup,
    row_stride: u32,
    detect: wgpu::ComputePipeline,
    integrate: wgpu::ComputePipeline,
}

/// The buffers sized by `steps_per_submit` and the probes, and the bind group that names them.
struct Records {
    rec_buf: wgpu::Buffer,
    trace_buf: wgpu::Buffer,
    readback: [wgpu::Buffer; 2],
    /// Bytes of the record part of a readback buffer (the traces follow it).
    rec_bytes: u64,
    bind0: wgpu::BindGroup,
}

/// The shader's `Globals` uniform (64 bytes).
#[derive(Debug, Clone, Copy)]
struct Globals {
    n: u32,
    words: u32,
    seed_hash: u32,
    t0: u32,
    n_probes: u32,
    refractory_steps: u32,
    v_peak: f32,
    dt: f32,
    half_dt: f32,
    mem_decay: f32,
    syn_decay: f32,
    v_rest: f32,
    v_reset: f32,
    r_m: f32,
}

impl Globals {
    fn bytes(&self) -> Vec<u8> {
        let u = [
            self.n,
            self.words,
            self.seed_hash,
            0, // `zero`: the FMA guard (see spike.wgsl)
            self.t0,
            self.n_probes,
            self.refractory_steps,
            0,
        ];
        let f = [
            self.v_peak,
            self.dt,
            self.half_dt,
            self.mem_decay,
            self.syn_decay,
            self.v_rest,
            self.v_reset,
            self.r_m,
        ];
        let mut out = Vec::with_capacity(64);
        for x in u {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for x in f {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    }
}

fn f32_bytes(xs: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xs.len() * 4 + 4);
    for x in xs {
        out.extend_from_slice(&x.to_le_bytes());
    }
    // wgpu rejects zero-sized bindings: an empty array still gets one element.
    if out.is_empty() {
        out.extend_from_slice(&0f32.to_le_bytes());
    }
    out
}

fn u32_bytes(xs: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xs.len() * 4 + 4);
    for x in xs {
        out.extend_from_slice(&x.to_le_bytes());
    }
    if out.is_empty() {
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out
}

fn bytes_f32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Checks the CSR/CSC arrays that the shaders index, so a malformed network is an error and never
/// an out-of-bounds read on the GPU.
fn validate(net: &Network) -> Result<(), SpikeError> {
    let n = net.n;
    let bad = |m: String| Err(SpikeError::InvalidNetwork(m));
    if n == 0 {
        return bad("it has no neurons".into());
    }
    for (name, len) in [
        ("a", net.a.len()),
        ("b", net.b.len()),
        ("c", net.c.len()),
        ("d", net.d.len()),
        ("noise_std", net.noise_std.len()),
    ] {
        if len != n {
            return bad(format!("{name} has {len} entries for {n} neurons"));
        }
    }
    if net.in_ptr.len() != n + 1 {
        return bad(format!(
            "in_ptr has {} entries, needs n + 1 = {}",
            net.in_ptr.len(),
            n + 1
        ));
    }
    let m = net.in_pre.len();
    if net.in_syn.len() != m {
        return bad(format!(
            "in_syn has {} entries, in_pre {m}",
            net.in_syn.len()
        ));
    }
    if net.in_ptr[0] != 0 || net.in_ptr[n] as usize != m {
        return bad(format!("in_ptr must run from 0 to in_pre.len() = {m}"));
    }
    if net.in_ptr.windows(2).any(|w| w[0] > w[1]) {
        return bad("in_ptr is not ascending".into());
    }
    if let Some(&j) = net.in_pre.iter().find(|&&j| j as usize >= n) {
        return bad(format!("in_pre names neuron {j}, the network has {n}"));
    }
    if let Some(&k) = net.in_syn.iter().find(|&&k| k as usize >= net.out_w.len()) {
        return bad(format!(
            "in_syn names synapse {k}, out_w has {}",
            net.out_w.len()
        ));
    }
    if !(net.dt_ms > 0.0 && net.dt_ms.is_finite()) {
        return bad(format!("dt_ms must be positive, got {}", net.dt_ms));
    }
    Ok(())
}

impl GpuSim {
    /// Builds the engine on an existing device and queue (e.g. burn's, from
    /// `init_with_setup_async`). The state starts as the CPU engine's: Izhikevich v = −65,
    /// u = b·v; LIF v = v_rest.
    pub fn new(
        device: wgpu::Device,
        queue: wgpu::Queue,
        net: &Network,
    ) -> Result<GpuSim, SpikeError> {
        validate(net)?;
        let n = net.n;
        let limits = device.limits();
        if limits.max_storage_buffers_per_shader_stage < 8 {
            return Err(SpikeError::TooFewStorageBuffers {
                got: limits.max_storage_buffers_per_shader_stage,
                needed: 8,
            });
        }
        let max_n = limits.max_compute_workgroups_per_dimension as u64 * WORKGROUP as u64;
        if n as u64 > max_n {
            return Err(SpikeError::TooManyNeurons {
                n,
                max: max_n,
                workgroup: WORKGROUP,
            });
        }
        let words = n.div_ceil(32) as u32;
        let m = net.in_pre.len() as u64;
        for (what, bytes) in [
            (
                "the CSC presynaptic index list (4 bytes per synapse)",
                m * 4,
            ),
            ("the CSC weight list (4 bytes per synapse)", m * 4),
            (
                "the per-neuron parameters (32 bytes per neuron)",
                n as u64 * 32,
            ),
            ("one step's spike record (N/8 bytes)", words as u64 * 4),
        ] {
            check_binding(&limits, what, bytes)?;
        }

        let (v0, aux0) = initial_state(net);
        let lif = net.lif;
        let (v_peak, refr, mem_decay, syn_decay) = match net.model {
            NeuronModel::Izhikevich => (IZH_V_PEAK_MV, 0, 0.0, 0.0),
            NeuronModel::Lif => (
                lif.v_th_mv,
                lif.refractory_steps(net.dt_ms),
                lif.membrane_decay(net.dt_ms),
                lif.synapse_decay(net.dt_ms),
            ),
        };
        let globals = Globals {
            n: n as u32,
            words,
            seed_hash: noise::seed_hash(net.seed),
            t0: 0,
            n_probes: 0,
            refractory_steps: refr,
            v_peak,
            dt: net.dt_ms,
            half_dt: 0.5 * net.dt_ms,
            mem_decay,
            syn_decay,
            v_rest: lif.v_rest_mv,
            v_reset: lif.v_reset_mv,
            r_m: lif.r_m,
        };
        let mut params = vec![0u32; n * 8];
        for i in 0..n {
            let p = &mut params[i * 8..i * 8 + 8];
            p[0] = net.a[i].to_bits();
            p[1] = net.b[i].to_bits();
            p[2] = net.c[i].to_bits();
            p[3] = net.d[i].to_bits();
            p[4] = net.noise_std[i].to_bits();
            p[5] = 0f32.to_bits();
            p[6] = 0;
            p[7] = NO_PROBE;
        }
        let csc_w: Vec<f32> = net.in_syn.iter().map(|&k| net.out_w[k as usize]).collect();

        let storage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let init = |label: &str, contents: &[u8], usage| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
        };
        let globals_buf = init(
            "spike globals",
            &globals.bytes(),
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let v_buf = init("spike v", &f32_bytes(&v0), storage);
        let aux_buf = init("spike aux", &f32_bytes(&aux0), storage);
        let params_buf = init("spike params", &u32_bytes(&params), storage);
        let in_ptr_buf = init("spike in_ptr", &u32_bytes(&net.in_ptr), storage);
        let in_pre_buf = init("spike in_pre", &u32_bytes(&net.in_pre), storage);
        let w_buf = init("spike w", &f32_bytes(&csc_w), storage);

        // The per-step uniform: row r at offset r·stride holds r (dynamic offsets pick the row).
        let row_stride = limits.min_uniform_buffer_offset_alignment.max(16);
        let mut rows = vec![0u8; (MAX_STEPS_PER_SUBMIT * row_stride) as usize];
        for r in 0..MAX_STEPS_PER_SUBMIT {
            let o = (r * row_stride) as usize;
            rows[o..o + 4].copy_from_slice(&r.to_le_bytes());
        }
        let rows_buf = init("spike step rows", &rows, wgpu::BufferUsages::UNIFORM);

        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("spike.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("shaders/spike.wgsl").into()),
        });
        let entry =
            |binding: u32, ty: wgpu::BufferBindingType, dynamic: bool| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty,
                    has_dynamic_offset: dynamic,
                    min_binding_size: None,
                },
                count: None,
            };
        let rw = wgpu::BufferBindingType::Storage { read_only: false };
        let ro = wgpu::BufferBindingType::Storage { read_only: true };
        let layout0 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("spike group 0"),
            entries: &[
                entry(0, wgpu::BufferBindingType::Uniform, false),
                entry(1, rw, false),
                entry(2, rw, false),
                entry(3, ro, false),
                entry(4, ro, false),
                entry(5, ro, false),
                entry(6, ro, false),
                entry(7, rw, false),
                entry(8, rw, false),
            ],
        });
        let layout1 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("spike group 1"),
            entries: &[entry(0, wgpu::BufferBindingType::Uniform, true)],
        });
        let bind1 = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("spike step row"),
            layout: &layout1,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &rows_buf,
                    offset: 0,
                    size: wgpu::BufferSize::new(16),
                }),
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("spike"),
            bind_group_layouts: &[Some(&layout0), Some(&layout1)],
            immediate_size: 0,
        });
        let (detect_entry, integrate_entry) = match net.model {
            NeuronModel::Izhikevich => ("izh_detect", "izh_integrate"),
            NeuronModel::Lif => ("lif_detect", "lif_integrate"),
        };
        let pipeline = |entry_point: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry_point),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let detect = pipeline(detect_entry);
        let integrate = pipeline(integrate_entry);

        let k = DEFAULT_STEPS_PER_SUBMIT.min(max_steps_per_submit(&limits, words, 0));
        let rec = make_records(
            &device,
            &limits,
            &layout0,
            k,
            words,
            0,
            [
                &globals_buf,
                &v_buf,
                &aux_buf,
                &params_buf,
                &in_ptr_buf,
                &in_pre_buf,
                &w_buf,
            ],
        )?;
        let sim = GpuSim {
            model: net.model,
            n,
            words,
            dt_ms: net.dt_ms,
            t_step: 0,
            steps_per_submit: k,
            params,
            probes: Vec::new(),
            in_syn: net.in_syn.clone(),
            globals,
            globals_buf,
            v_buf,
            aux_buf,
            params_buf,
            w_buf,
            in_ptr_buf,
            in_pre_buf,
            rec,
            layout0,
            bind1,
            row_stride,
            detect,
            integrate,
            device,
            queue,
        };
        Ok(sim)
    }

    /// Requests its own adapter and device (see [`request_device`]) and builds the engine.
    pub async fn with_own_device(net: &Network) -> Result<(GpuSim, GpuInfo), SpikeError> {
        let (device, queue, info) = request_device().await?;
        Ok((GpuSim::new(device, queue, net)?, info))
    }

    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    pub fn model(&self) -> NeuronModel {
        self.model
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// Steps done so far; the next step is number `t_step()` (as `Sim::t_step`).
    pub fn t_step(&self) -> u32 {
        self.t_step
    }

    /// Simulated time so far (ms).
    pub fn t_ms(&self) -> f64 {
        self.t_step as f64 * self.dt_ms as f64
    }

    pub fn steps_per_submit(&self) -> u32 {
        self.steps_per_submit
    }

    /// The largest `steps_per_submit` this network allows on this device (the spike record of
    /// one submit must fit one storage binding).
    pub fn max_steps_per_submit(&self) -> u32 {
        max_steps_per_submit(&self.device.limits(), self.words, self.probes.len())
    }

    /// How many steps go into one command buffer (1..=`max_steps_per_submit()`). More steps per
    /// submit amortise the submit and readback; fewer give the UI fresher spikes.
    pub fn set_steps_per_submit(&mut self, steps: u32) -> Result<(), SpikeError> {
        let max = self.max_steps_per_submit();
        if steps == 0 || steps > max {
            return Err(SpikeError::StepsPerSubmit { got: steps, max });
        }
        self.steps_per_submit = steps;
        self.alloc_records()
    }

    /// (Re)allocates the spike record, the trace buffer and the readback buffers for the current
    /// `steps_per_submit` and probes.
    fn alloc_records(&mut self) -> Result<(), SpikeError> {
        self.rec = make_records(
            &self.device,
            &self.device.limits(),
            &self.layout0,
            self.steps_per_submit,
            self.words,
            self.probes.len(),
            [
                &self.globals_buf,
                &self.v_buf,
                &self.aux_buf,
                &self.params_buf,
                &self.in_ptr_buf,
                &self.in_pre_buf,
                &self.w_buf,
            ],
        )?;
        Ok(())
    }

    fn upload_params(&self) {
        self.queue
            .write_buffer(&self.params_buf, 0, &u32_bytes(&self.params));
    }

    /// External current per neuron (one entry per neuron), added every step from the next run on.
    pub fn set_i_ext(&mut self, i_ext: &[f32]) -> Result<(), SpikeError> {
        if i_ext.len() != self.n {
            return Err(SpikeError::WrongLength {
                what: "i_ext",
                n: self.n,
                got: i_ext.len(),
            });
        }
        for (i, &x) in i_ext.iter().enumerate() {
            self.params[i * 8 + 5] = x.to_bits();
        }
        self.upload_params();
        Ok(())
    }

    /// Sets the external current of neurons `range` to `current` (the others keep theirs).
    pub fn set_i_ext_range(&mut self, range: Range<usize>, current: f32) -> Result<(), SpikeError> {
        self.check_range(&range)?;
        for i in range {
            self.params[i * 8 + 5] = current.to_bits();
        }
        self.upload_params();
        Ok(())
    }

    /// Silenced neurons never fire and are held at rest (one entry per neuron).
    pub fn set_silenced(&mut self, silenced: &[bool]) -> Result<(), SpikeError> {
        if silenced.len() != self.n {
            return Err(SpikeError::WrongLength {
                what: "silenced",
                n: self.n,
                got: silenced.len(),
            });
        }
        for (i, &s) in silenced.iter().enumerate() {
            self.params[i * 8 + 6] = s as u32;
        }
        self.upload_params();
        Ok(())
    }

    /// Silences (`on`) or releases neurons `range`, as `Sim::set_silenced`.
    pub fn set_silenced_range(&mut self, range: Range<usize>, on: bool) -> Result<(), SpikeError> {
        self.check_range(&range)?;
        for i in range {
            self.params[i * 8 + 6] = on as u32;
        }
        self.upload_params();
        Ok(())
    }

    fn check_range(&self, range: &Range<usize>) -> Result<(), SpikeError> {
        if range.end > self.n || range.start > range.end {
            return Err(SpikeError::NeuronOutOfRange {
                index: range.end.max(range.start),
                n: self.n,
            });
        }
        Ok(())
    }

    /// Records the membrane potential of these neurons after every step (at most `MAX_PROBES`,
    /// distinct); `GpuChunk::traces_mv` returns it.
    pub fn set_probes(&mut self, neurons: &[u32]) -> Result<(), SpikeError> {
        if neurons.len() > MAX_PROBES {
            return Err(SpikeError::TooManyProbes {
                got: neurons.len(),
                max: MAX_PROBES,
            });
        }
        let mut probes: Vec<u32> = Vec::with_capacity(neurons.len());
        for &i in neurons {
            if i as usize >= self.n {
                return Err(SpikeError::NeuronOutOfRange {
                    index: i as usize,
                    n: self.n,
                });
            }
            if !probes.contains(&i) {
                probes.push(i);
            }
        }
        for i in 0..self.n {
            self.params[i * 8 + 7] = NO_PROBE;
        }
        for (slot, &i) in probes.iter().enumerate() {
            self.params[i as usize * 8 + 7] = slot as u32;
        }
        self.probes = probes;
        self.globals.n_probes = self.probes.len() as u32;
        self.steps_per_submit = self.steps_per_submit.min(self.max_steps_per_submit());
        self.upload_params();
        self.alloc_records()
    }

    /// Uploads the network's current weights (e.g. after plasticity changed `out_w`). The network
    /// must have the synapse lists this engine was built with.
    pub fn set_weights(&mut self, net: &Network) -> Result<(), SpikeError> {
        if net.n != self.n || net.in_syn != self.in_syn {
            return Err(SpikeError::InvalidNetwork(
                "set_weights needs the network the engine was built from (same n and synapse lists)".into(),
            ));
        }
        if let Some(&k) = self.in_syn.iter().find(|&&k| k as usize >= net.out_w.len()) {
            return Err(SpikeError::InvalidNetwork(format!(
                "in_syn names synapse {k}, out_w has {}",
                net.out_w.len()
            )));
        }
        let w: Vec<f32> = self.in_syn.iter().map(|&k| net.out_w[k as usize]).collect();
        self.queue.write_buffer(&self.w_buf, 0, &f32_bytes(&w));
        Ok(())
    }

    /// Overwrites the state: `v` (mV) and, for Izhikevich, `u` (for LIF `u` is the synaptic
    /// current). Refractory counters are cleared.
    pub fn set_state(&mut self, v: &[f32], u: &[f32]) -> Result<(), SpikeError> {
        for (what, len) in [("v", v.len()), ("u", u.len())] {
            if len != self.n {
                return Err(SpikeError::WrongLength {
                    what,
                    n: self.n,
                    got: len,
                });
            }
        }
        let aux: Vec<f32> = u.iter().flat_map(|&x| [x, 0.0]).collect();
        self.queue.write_buffer(&self.v_buf, 0, &f32_bytes(v));
        self.queue.write_buffer(&self.aux_buf, 0, &f32_bytes(&aux));
        Ok(())
    }

    /// The membrane potentials now (mV), read back asynchronously.
    pub async fn read_v(&self) -> Result<Vec<f32>, SpikeError> {
        self.read_buffer(&self.v_buf, self.n as u64 * 4).await
    }

    /// `(v, u)` now; for LIF `u` is the synaptic current.
    pub async fn read_state(&self) -> Result<(Vec<f32>, Vec<f32>), SpikeError> {
        let v = self.read_v().await?;
        let aux = self.read_buffer(&self.aux_buf, self.n as u64 * 8).await?;
        Ok((v, aux.chunks_exact(2).map(|p| p[0]).collect()))
    }

    async fn read_buffer(&self, src: &wgpu::Buffer, bytes: u64) -> Result<Vec<f32>, SpikeError> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("spike state readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(src, 0, &staging, 0, bytes);
        let idx = self.queue.submit([enc.finish()]);
        let data = map_read(&self.device, &staging, bytes, idx).await?;
        Ok(bytes_f32(&data))
    }

    /// Runs `steps` steps (in submits of `steps_per_submit`) and returns their spikes and traces.
    /// Inputs set before the call hold for the whole chunk.
    pub async fn run(&mut self, steps: u32) -> Result<GpuChunk, SpikeError> {
        if self.t_step.checked_add(steps).is_none() {
            return Err(SpikeError::StepOverflow {
                now: self.t_step,
                asked: steps,
            });
        }
        let mut chunk = GpuChunk {
            first_step: self.t_step,
            steps,
            dt_ms: self.dt_ms,
            spikes: Vec::new(),
            counts: vec![0; steps as usize],
            probes: self.probes.clone(),
            traces_mv: Vec::with_capacity(steps as usize * self.probes.len()),
            submits: 0,
        };
        let detect_groups = self.words.div_ceil(WORKGROUP);
        let integrate_groups = (self.n as u32).div_ceil(WORKGROUP);
        let trace_bytes_per_step = self.probes.len() as u64 * 4;
        let mut pending: Option<(usize, u32, u32, wgpu::SubmissionIndex)> = None;
        let (mut done, mut slot) = (0u32, 0usize);
        while done < steps {
            let k = self.steps_per_submit.min(steps - done);
            self.globals.t0 = self.t_step;
            self.queue
                .write_buffer(&self.globals_buf, 0, &self.globals.bytes());
            let mut enc = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("spike steps"),
                });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("spike steps"),
                    timestamp_writes: None,
                });
                pass.set_bind_group(0, &self.rec.bind0, &[]);
                for r in 0..k {
                    pass.set_bind_group(1, &self.bind1, &[r * self.row_stride]);
                    pass.set_pipeline(&self.detect);
                    pass.dispatch_workgroups(detect_groups, 1, 1);
                    pass.set_pipeline(&self.integrate);
                    pass.dispatch_workgroups(integrate_groups, 1, 1);
                }
            }
            let rec = k as u64 * self.words as u64 * 4;
            enc.copy_buffer_to_buffer(&self.rec.rec_buf, 0, &self.rec.readback[slot], 0, rec);
            if trace_bytes_per_step > 0 {
                enc.copy_buffer_to_buffer(
                    &self.rec.trace_buf,
                    0,
                    &self.rec.readback[slot],
                    self.rec.rec_bytes,
                    k as u64 * trace_bytes_per_step,
                );
            }
            let idx = self.queue.submit([enc.finish()]);
            chunk.submits += 1;
            self.t_step += k;
            // The previous submit's record is decoded while this one runs.
            if let Some(p) = pending.take() {
                self.collect(p, &mut chunk).await?;
            }
            pending = Some((slot, done, k, idx));
            slot ^= 1;
            done += k;
        }
        if let Some(p) = pending.take() {
            self.collect(p, &mut chunk).await?;
        }
        Ok(chunk)
    }

    /// Maps one readback buffer and appends its spikes and traces to the chunk.
    async fn collect(
        &self,
        (slot, row0, rows, idx): (usize, u32, u32, wgpu::SubmissionIndex),
        chunk: &mut GpuChunk,
    ) -> Result<(), SpikeError> {
        let words = self.words as usize;
        let rec = rows as u64 * words as u64 * 4;
        let probes = self.probes.len();
        let total = if probes > 0 {
            self.rec.rec_bytes + rows as u64 * probes as u64 * 4
        } else {
            rec
        };
        let data = map_read(&self.device, &self.rec.readback[slot], total, idx).await?;
        for r in 0..rows as usize {
            let step = chunk.first_step + row0 + r as u32;
            let mut count = 0;
            for wi in 0..words {
                let o = (r * words + wi) * 4;
                let mut bits = u32::from_le_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]]);
                while bits != 0 {
                    let b = bits.trailing_zeros();
                    chunk.spikes.push((step, wi as u32 * 32 + b));
                    bits &= bits - 1;
                    count += 1;
                }
            }
            chunk.counts[(row0 as usize) + r] = count;
        }
        if probes > 0 {
            let t0 = self.rec.rec_bytes as usize;
            chunk
                .traces_mv
                .extend(bytes_f32(&data[t0..t0 + rows as usize * probes * 4]));
        }
        Ok(())
    }
}

fn max_steps_per_submit(limits: &wgpu::Limits, words: u32, probes: usize) -> u32 {
    let cap = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size / 2);
    let by_rec = cap / (words as u64 * 4);
    let by_trace = cap / (probes.max(1) as u64 * 4);
    (MAX_STEPS_PER_SUBMIT as u64)
        .min(by_rec)
        .min(by_trace)
        .max(1) as u32
}

/// Allocates the buffers sized by `steps` per submit and the probes; `fixed` are the buffers of
/// bindings 0–6 (globals, v, aux, params, in_ptr, in_pre, w).
fn make_records(
    device: &wgpu::Device,
    limits: &wgpu::Limits,
    layout0: &wgpu::BindGroupLayout,
    steps: u32,
    words: u32,
    probes: usize,
    fixed: [&wgpu::Buffer; 7],
) -> Result<Records, SpikeError> {
    let k = steps as u64;
    let rec_bytes = k * words as u64 * 4;
    let trace_bytes = (k * probes as u64 * 4).max(4);
    check_binding(
        limits,
        "the spike record of one submit (N/8 bytes per step)",
        rec_bytes,
    )?;
    check_binding(limits, "the membrane traces of one submit", trace_bytes)?;
    let readback_bytes = rec_bytes + trace_bytes;
    if readback_bytes > limits.max_buffer_size {
        return Err(SpikeError::BufferTooLarge {
            what: "the readback buffer of one submit",
            needed: readback_bytes,
            limit: "max_buffer_size",
            max: limits.max_buffer_size,
        });
    }
    let buf = |label: &str, size: u64, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    };
    let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
    let map = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
    let rec_buf = buf("spike record", rec_bytes, storage);
    let trace_buf = buf("spike traces", trace_bytes, storage);
    let readback = [
        buf("spike readback 0", readback_bytes, map),
        buf("spike readback 1", readback_bytes, map),
    ];
    let mut entries: Vec<wgpu::BindGroupEntry> = fixed
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry {
            binding: i as u32,
            resource: b.as_entire_binding(),
        })
        .collect();
    entries.push(wgpu::BindGroupEntry {
        binding: 7,
        resource: rec_buf.as_entire_binding(),
    });
    entries.push(wgpu::BindGroupEntry {
        binding: 8,
        resource: trace_buf.as_entire_binding(),
    });
    let bind0 = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("spike group 0"),
        layout: layout0,
        entries: &entries,
    });
    Ok(Records {
        rec_buf,
        trace_buf,
        readback,
        rec_bytes,
        bind0,
    })
}

fn check_binding(limits: &wgpu::Limits, what: &'static str, bytes: u64) -> Result<(), SpikeError> {
    if bytes > limits.max_storage_buffer_binding_size {
        return Err(SpikeError::BufferTooLarge {
            what,
            needed: bytes,
            limit: "max_storage_buffer_binding_size",
            max: limits.max_storage_buffer_binding_size,
        });
    }
    if bytes > limits.max_buffer_size {
        return Err(SpikeError::BufferTooLarge {
            what,
            needed: bytes,
            limit: "max_buffer_size",
            max: limits.max_buffer_size,
        });
    }
    Ok(())
}

/// The CPU engine's initial state (`Sim::reset_state`): v and the (u or i_syn, refractory) pairs.
fn initial_state(net: &Network) -> (Vec<f32>, Vec<f32>) {
    let n = net.n;
    match net.model {
        NeuronModel::Izhikevich => (
            vec![-65.0; n],
            (0..n).flat_map(|i| [net.b[i] * -65.0, 0.0]).collect(),
        ),
        NeuronModel::Lif => (vec![net.lif.v_rest_mv; n], vec![0.0; 2 * n]),
    }
}

/// Maps `bytes` of a MAP_READ buffer once submission `idx` is done, copies them out and unmaps.
/// Natively it polls the device for that submission; in the browser the event loop resolves the
/// map (polling is a no-op there).
async fn map_read(
    device: &wgpu::Device,
    buffer: &wgpu::Buffer,
    bytes: u64,
    idx: wgpu::SubmissionIndex,
) -> Result<Vec<u8>, SpikeError> {
    // Unmaps on every way out, including this future being dropped mid-wait (a buffer left
    // mapped or with a pending map would make the next run's map fail).
    struct Unmap<'a>(&'a wgpu::Buffer);
    impl Drop for Unmap<'_> {
        fn drop(&mut self) {
            self.0.unmap();
        }
    }
    let _unmap = Unmap(buffer);
    let slice = buffer.slice(..bytes);
    let (tx, rx) = futures_channel::oneshot::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    #[cfg(not(target_family = "wasm"))]
    device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(idx),
            timeout: None,
        })
        .map_err(|e| SpikeError::Readback(e.to_string()))?;
    #[cfg(target_family = "wasm")]
    let _ = (device, idx);
    rx.await
        .map_err(|_| SpikeError::Readback("the map callback was dropped".into()))?
        .map_err(|e| SpikeError::Readback(e.to_string()))?;
    let data = {
        let view = slice
            .get_mapped_range()
            .map_err(|e| SpikeError::Readback(e.to_string()))?;
        view.to_vec()
    };
    Ok(data)
}
