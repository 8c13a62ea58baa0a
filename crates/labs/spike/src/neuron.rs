//! Single neurons: the Izhikevich (2003) presets with the paper's (a, b, c, d), a one-neuron
//! simulator with the same half-step integration as the network engine, and small helpers that
//! measure a spike train (rate, inter-spike intervals, bursts) for tests and the UI's neuron demo.

use serde::{Deserialize, Serialize};

/// Spike cut-off of the Izhikevich model (mV): `v >= V_PEAK_MV` is a spike.
pub const V_PEAK_MV: f32 = 30.0;

/// The firing types of Izhikevich (2003), Fig. 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Regular spiking (typical excitatory cortical cell).
    Rs,
    /// Intrinsically bursting.
    Ib,
    /// Chattering (fast rhythmic bursting).
    Ch,
    /// Fast spiking (inhibitory interneuron).
    Fs,
    /// Low-threshold spiking (inhibitory interneuron).
    Lts,
    /// Thalamo-cortical.
    Tc,
    /// Resonator.
    Rz,
}

impl Preset {
    pub const ALL: [Preset; 7] = [
        Preset::Rs,
        Preset::Ib,
        Preset::Ch,
        Preset::Fs,
        Preset::Lts,
        Preset::Tc,
        Preset::Rz,
    ];

    /// The paper's parameters.
    pub fn params(self) -> IzParams {
        let (a, b, c, d) = match self {
            Preset::Rs => (0.02, 0.2, -65.0, 8.0),
            Preset::Ib => (0.02, 0.2, -55.0, 4.0),
            Preset::Ch => (0.02, 0.2, -50.0, 2.0),
            Preset::Fs => (0.1, 0.2, -65.0, 2.0),
            Preset::Lts => (0.02, 0.25, -65.0, 2.0),
            Preset::Tc => (0.02, 0.25, -65.0, 0.05),
            Preset::Rz => (0.1, 0.26, -65.0, 2.0),
        };
        IzParams { a, b, c, d }
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Rs => "rs",
            Preset::Ib => "ib",
            Preset::Ch => "ch",
            Preset::Fs => "fs",
            Preset::Lts => "lts",
            Preset::Tc => "tc",
            Preset::Rz => "rz",
        }
    }

    pub fn from_name(s: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// The four parameters of an Izhikevich neuron.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IzParams {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
}

/// Input current of a single-neuron run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Current {
    /// `i` for the whole run.
    Constant { i: f32 },
    /// 0 before `t_on_ms`, `i` from then on (the paper's Fig. 2 protocol).
    Step { t_on_ms: f32, i: f32 },
}

impl Current {
    pub fn at(&self, t_ms: f32) -> f32 {
        match *self {
            Current::Constant { i } => i,
            Current::Step { t_on_ms, i } => {
                if t_ms >= t_on_ms {
                    i
                } else {
                    0.0
                }
            }
        }
    }
}

/// What a single-neuron run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronTrace {
    pub dt_ms: f32,
    /// Spike times (ms), ascending.
    pub spike_times_ms: Vec<f32>,
    /// Membrane potential per step (mV); a spike step shows `V_PEAK_MV` (the paper's plots do).
    pub v_mv: Vec<f32>,
    /// Recovery variable per step.
    pub u: Vec<f32>,
}

/// Simulates one Izhikevich neuron for `duration_ms` with the network engine's step order:
/// spike test on the previous v, reset, then two half-steps of v and one step of u.
/// `dt_ms` = 1 matches the 2003 network; smaller steps resolve bursts more finely.
pub fn simulate(p: IzParams, current: Current, duration_ms: f32, dt_ms: f32) -> NeuronTrace {
    let dt = if dt_ms > 0.0 { dt_ms } else { 1.0 };
    let steps = (duration_ms / dt).max(0.0) as usize;
    let mut v = -65.0f32;
    let mut u = p.b * v;
    let mut out = NeuronTrace {
        dt_ms: dt,
        spike_times_ms: Vec::new(),
        v_mv: Vec::with_capacity(steps),
        u: Vec::with_capacity(steps),
    };
    for s in 0..steps {
        let t = s as f32 * dt;
        let fired = v >= V_PEAK_MV;
        if fired {
            out.spike_times_ms.push(t);
            v = p.c;
            u += p.d;
        }
        let i = current.at(t);
        let h = 0.5 * dt;
        v += h * (0.04 * v * v + 5.0 * v + 140.0 - u + i);
        v += h * (0.04 * v * v + 5.0 * v + 140.0 - u + i);
        u += dt * p.a * (p.b * v - u);
        out.v_mv
            .push(if fired { V_PEAK_MV } else { v.min(V_PEAK_MV) });
        out.u.push(u);
    }
    out
}

/// Mean rate (Hz) of the spikes in `[from_ms, to_ms)`.
pub fn rate_hz(spike_times_ms: &[f32], from_ms: f32, to_ms: f32) -> f32 {
    if to_ms <= from_ms {
        return 0.0;
    }
    let n = spike_times_ms
        .iter()
        .filter(|&&t| t >= from_ms && t < to_ms)
        .count();
    n as f32 * 1000.0 / (to_ms - from_ms)
}

/// Inter-spike intervals (ms).
pub fn isis_ms(spike_times_ms: &[f32]) -> Vec<f32> {
    spike_times_ms.windows(2).map(|w| w[1] - w[0]).collect()
}

/// A burst: consecutive spikes whose intervals are all `<= max_isi_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    pub start_ms: f32,
    pub n_spikes: usize,
}

/// Groups a spike train into bursts of ≥ 2 spikes with intervals `<= max_isi_ms`
/// (isolated spikes are not bursts).
pub fn bursts(spike_times_ms: &[f32], max_isi_ms: f32) -> Vec<Burst> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < spike_times_ms.len() {
        let mut j = i;
        while j + 1 < spike_times_ms.len()
            && spike_times_ms[j + 1] - spike_times_ms[j] <= max_isi_ms
        {
            j += 1;
        }
        if j > i {
            out.push(Burst {
                start_ms: spike_times_ms[i],
                n_spikes: j - i + 1,
            });
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_names() {
        for p in Preset::ALL {
            assert_eq!(Preset::from_name(p.name()), Some(p));
        }
        assert_eq!(Preset::Ch.params().c, -50.0);
    }

    #[test]
    fn bursts_groups_close_spikes() {
        let t = [0.0, 3.0, 6.0, 50.0, 53.0, 100.0];
        let b = bursts(&t, 5.0);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].n_spikes, 3);
        assert_eq!(b[1].start_ms, 50.0);
    }

    #[test]
    fn no_input_no_spikes() {
        let tr = simulate(
            Preset::Rs.params(),
            Current::Constant { i: 0.0 },
            500.0,
            1.0,
        );
        assert!(tr.spike_times_ms.is_empty());
        assert_eq!(tr.v_mv.len(), 500);
    }
}
