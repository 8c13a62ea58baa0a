//! Plasticity of the recurrent network, applied between engine steps on the CPU:
//! - pair-based STDP with exponential traces (Song, Miller & Abbott 2000; Morrison et al. 2008's
//!   "all-to-all" trace form) on excitatory→* synapses: at a postsynaptic spike each incoming
//!   excitatory weight grows by `a_plus · x_pre` (pre-before-post potentiates), at a presynaptic
//!   spike each outgoing weight shrinks by `a_minus · y_post` (post-before-pre depresses), weights
//!   clipped to [0, w_max];
//! - homeostasis toward a target rate, from a slow per-neuron rate estimate: synaptic scaling
//!   (Turrigiano 1998: every neuron's incoming excitatory weights multiplied by a factor that grows
//!   when it fires too little) and/or intrinsic plasticity (a bias current that falls when it fires
//!   too much — an adaptive threshold in current units).
//!
//! Parameters can be replaced at any time (`set_params`); traces and rate estimates persist.

use crate::network::Network;
use serde::{Deserialize, Serialize};

/// Pair-based STDP parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StdpParams {
    pub enabled: bool,
    /// Potentiation per pairing (weight units) at zero delay.
    pub a_plus: f32,
    /// Depression per pairing (weight units) at zero delay.
    pub a_minus: f32,
    pub tau_plus_ms: f32,
    pub tau_minus_ms: f32,
    /// Upper weight bound (the lower one is 0).
    pub w_max: f32,
}

impl Default for StdpParams {
    fn default() -> Self {
        // Slightly depression-dominated (a_minus·tau_minus > a_plus·tau_plus) so that uncorrelated
        // firing does not run the weights to w_max (Song et al. 2000).
        StdpParams {
            enabled: false,
            a_plus: 0.01,
            a_minus: 0.012,
            tau_plus_ms: 20.0,
            tau_minus_ms: 20.0,
            w_max: 1.0,
        }
    }
}

/// Which homeostatic mechanism runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HomeostasisKind {
    Off,
    /// Multiplicative scaling of incoming excitatory weights.
    Scaling,
    /// An adaptive bias current per neuron.
    Intrinsic,
    Both,
}

impl HomeostasisKind {
    pub fn name(self) -> &'static str {
        match self {
            HomeostasisKind::Off => "off",
            HomeostasisKind::Scaling => "scaling",
            HomeostasisKind::Intrinsic => "intrinsic",
            HomeostasisKind::Both => "both",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        [
            HomeostasisKind::Off,
            HomeostasisKind::Scaling,
            HomeostasisKind::Intrinsic,
            HomeostasisKind::Both,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
    fn scaling(self) -> bool {
        matches!(self, HomeostasisKind::Scaling | HomeostasisKind::Both)
    }
    fn intrinsic(self) -> bool {
        matches!(self, HomeostasisKind::Intrinsic | HomeostasisKind::Both)
    }
}

/// Homeostasis parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HomeostasisParams {
    pub kind: HomeostasisKind,
    pub target_rate_hz: f32,
    /// Time constant of the rate estimate (ms): slow, so homeostasis sees a mean rate.
    pub tau_rate_ms: f32,
    /// Synaptic scaling speed (1/s): the incoming excitatory weights of a neuron change by
    /// `scaling_per_s · (target − rate)/target` per second, applied every `scaling_period_ms`.
    pub scaling_per_s: f32,
    pub scaling_period_ms: f32,
    /// Intrinsic plasticity speed: bias current change per second per Hz of rate error.
    pub intrinsic_per_s: f32,
    /// Bound of the intrinsic bias current (±).
    pub max_bias: f32,
}

impl Default for HomeostasisParams {
    fn default() -> Self {
        HomeostasisParams {
            kind: HomeostasisKind::Off,
            target_rate_hz: 5.0,
            tau_rate_ms: 1000.0,
            scaling_per_s: 0.5,
            scaling_period_ms: 100.0,
            intrinsic_per_s: 0.5,
            max_bias: 20.0,
        }
    }
}

/// All plasticity parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct PlasticityParams {
    pub stdp: StdpParams,
    pub homeostasis: HomeostasisParams,
}

impl PlasticityParams {
    pub fn any_on(&self) -> bool {
        self.stdp.enabled || self.homeostasis.kind != HomeostasisKind::Off
    }
}

/// Plasticity state of one network.
#[derive(Debug, Clone, PartialEq)]
pub struct Plasticity {
    pub params: PlasticityParams,
    /// Presynaptic traces (jump +1 at a spike, decay with tau_plus).
    pub x_pre: Vec<f32>,
    /// Postsynaptic traces (jump +1 at a spike, decay with tau_minus).
    pub y_post: Vec<f32>,
    /// Slow rate estimate per neuron (Hz).
    pub rate_hz: Vec<f32>,
    /// Intrinsic bias current per neuron (add it to the engine's external current).
    pub bias: Vec<f32>,
    ms_since_scaling: f32,
}

impl Plasticity {
    /// Rate estimates start at the target (no transient push at the start).
    pub fn new(net: &Network, params: PlasticityParams) -> Plasticity {
        Plasticity {
            params,
            x_pre: vec![0.0; net.n],
            y_post: vec![0.0; net.n],
            rate_hz: vec![params.homeostasis.target_rate_hz; net.n],
            bias: vec![0.0; net.n],
            ms_since_scaling: 0.0,
        }
    }

    pub fn set_params(&mut self, params: PlasticityParams) {
        self.params = params;
        if !params.homeostasis.kind.intrinsic() {
            self.bias.iter_mut().for_each(|b| *b = 0.0);
        }
    }

    /// Applies one step's plasticity after the engine step that produced `fired` (ascending).
    /// Changes `net.out_w` (STDP, scaling) and `self.bias` (intrinsic).
    pub fn after_step(&mut self, net: &mut Network, fired: &[u32]) {
        let dt = net.dt_ms;
        let n = net.n.min(self.x_pre.len());
        let ne = net.n_exc.min(n);
        let s = self.params.stdp;
        if s.enabled {
            let dx = (-dt / s.tau_plus_ms.max(1e-3)).exp();
            let dy = (-dt / s.tau_minus_ms.max(1e-3)).exp();
            for x in &mut self.x_pre[..ne] {
                *x *= dx;
            }
            for y in &mut self.y_post[..n] {
                *y *= dy;
            }
            // Depression: an excitatory presynaptic spike after postsynaptic ones.
            for &j in fired {
                let j = j as usize;
                if j >= ne {
                    break;
                }
                for syn in net.out_ptr[j] as usize..net.out_ptr[j + 1] as usize {
                    let i = net.out_post[syn] as usize;
                    let w = net.out_w[syn] - s.a_minus * self.y_post[i];
                    net.out_w[syn] = w.clamp(0.0, s.w_max);
                }
            }
            // Potentiation: a postsynaptic spike after excitatory presynaptic ones.
            for &i in fired {
                let i = i as usize;
                if i >= n {
                    break;
                }
                for k in net.in_ptr[i] as usize..net.in_ptr[i + 1] as usize {
                    let j = net.in_pre[k] as usize;
                    if j >= ne {
                        break; // in_pre is ascending; the rest are inhibitory
                    }
                    let syn = net.in_syn[k] as usize;
                    let w = net.out_w[syn] + s.a_plus * self.x_pre[j];
                    net.out_w[syn] = w.clamp(0.0, s.w_max);
                }
            }
            // Traces jump after the weight updates, so a pair in the same step does nothing.
            for &j in fired {
                let j = j as usize;
                if j < ne {
                    self.x_pre[j] += 1.0;
                }
                if j < n {
                    self.y_post[j] += 1.0;
                }
            }
        }

        let h = self.params.homeostasis;
        if h.kind == HomeostasisKind::Off {
            return;
        }
        // Rate estimate: exponential filter of the spike train, in Hz.
        let k = dt / h.tau_rate_ms.max(dt);
        let jump = 1000.0 / h.tau_rate_ms.max(dt);
        for r in &mut self.rate_hz[..n] {
            *r -= k * *r;
        }
        for &i in fired {
            if let Some(r) = self.rate_hz.get_mut(i as usize) {
                *r += jump;
            }
        }
        let target = h.target_rate_hz.max(1e-3);
        if h.kind.intrinsic() {
            let step = h.intrinsic_per_s * dt / 1000.0;
            for i in 0..n {
                let b = self.bias[i] + step * (target - self.rate_hz[i]);
                self.bias[i] = b.clamp(-h.max_bias, h.max_bias);
            }
        }
        if h.kind.scaling() {
            self.ms_since_scaling += dt;
            if self.ms_since_scaling >= h.scaling_period_ms.max(dt) {
                let period_s = self.ms_since_scaling / 1000.0;
                self.ms_since_scaling = 0.0;
                let w_max = if s.enabled { s.w_max } else { f32::INFINITY };
                for i in 0..n {
                    let err = (target - self.rate_hz[i]) / target;
                    let f = (1.0 + h.scaling_per_s * period_s * err).clamp(0.5, 2.0);
                    for k in net.in_ptr[i] as usize..net.in_ptr[i + 1] as usize {
                        if net.in_pre[k] as usize >= ne {
                            break;
                        }
                        let syn = net.in_syn[k] as usize;
                        net.out_w[syn] = (net.out_w[syn] * f).clamp(0.0, w_max);
                    }
                }
            }
        }
    }

    /// Histogram of the excitatory weights in `bins` equal bins over [0, hi] (hi = w_max when
    /// STDP is on, else the largest weight); returns (hi, counts).
    pub fn exc_weight_histogram(net: &Network, bins: usize, w_max: Option<f32>) -> (f32, Vec<u32>) {
        let end = net.out_ptr[net.n_exc.min(net.n)] as usize;
        let ws = &net.out_w[..end];
        let hi = w_max
            .unwrap_or_else(|| ws.iter().fold(0.0f32, |m, &w| m.max(w)))
            .max(1e-6);
        let bins = bins.max(1);
        let mut counts = vec![0u32; bins];
        for &w in ws {
            let b = ((w / hi) * bins as f32) as usize;
            counts[b.min(bins - 1)] += 1;
        }
        (hi, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::NeuronModel;

    fn pair_net(w: f32) -> Network {
        Network::empty(NeuronModel::Izhikevich, 2, 2, 1.0, 1).from_synapses(&[(0, 1, w)])
    }

    /// Drives the spike times by hand: `pre_ms` for neuron 0, `post_ms` for neuron 1.
    fn weight_after(pre_ms: u32, post_ms: u32) -> f32 {
        let mut net = pair_net(0.5);
        let params = PlasticityParams {
            stdp: StdpParams {
                enabled: true,
                ..StdpParams::default()
            },
            ..PlasticityParams::default()
        };
        let mut p = Plasticity::new(&net, params);
        for t in 0..200u32 {
            let mut fired = Vec::new();
            if t == pre_ms {
                fired.push(0);
            }
            if t == post_ms {
                fired.push(1);
            }
            p.after_step(&mut net, &fired);
        }
        net.out_w[0]
    }

    #[test]
    fn stdp_signs() {
        let pre_first = weight_after(50, 60);
        let post_first = weight_after(60, 50);
        assert!(pre_first > 0.5, "pre→post should potentiate: {pre_first}");
        assert!(post_first < 0.5, "post→pre should depress: {post_first}");
        // Expected magnitudes: a·exp(−10/20).
        let e = (-10.0f32 / 20.0).exp();
        assert!((pre_first - (0.5 + 0.01 * e)).abs() < 1e-5);
        assert!((post_first - (0.5 - 0.012 * e)).abs() < 1e-5);
        // Far apart pairs barely change the weight.
        assert!((weight_after(20, 180) - 0.5).abs() < 1e-4);
    }

    #[test]
    fn weights_stay_in_bounds() {
        let mut net = pair_net(0.999);
        let mut p = Plasticity::new(
            &net,
            PlasticityParams {
                stdp: StdpParams {
                    enabled: true,
                    a_plus: 0.5,
                    ..StdpParams::default()
                },
                ..PlasticityParams::default()
            },
        );
        for t in 0..100u32 {
            let fired: &[u32] = if t % 2 == 0 { &[0] } else { &[1] };
            p.after_step(&mut net, fired);
            assert!((0.0..=1.0).contains(&net.out_w[0]));
        }
    }

    #[test]
    fn histogram_counts_every_exc_weight() {
        let net = Network::izhikevich2003(1);
        let (hi, h) = Plasticity::exc_weight_histogram(&net, 32, Some(0.5));
        assert_eq!(hi, 0.5);
        assert_eq!(h.iter().sum::<u32>(), 800_000);
        assert!(h.iter().all(|&c| c > 20_000 && c < 30_000));
    }
}
