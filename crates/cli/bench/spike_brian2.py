"""Izhikevich (2003) 1000-neuron network in Brian2, for `neurolab bench spike`'s comparison.

The paper's network: 800 excitatory (c = -65 + 15 r^2, d = 8 - 6 r^2) and 200 inhibitory
(a = 0.02 + 0.08 r, b = 0.25 - 0.05 r) neurons, all-to-all weights 0.5 U(0,1) / -U(0,1),
thalamic input 5 N(0,1) / 2 N(0,1) per ms, v integrated in two 0.5 ms half-steps.
Usage: python spike_brian2.py [seconds] [target]   (target: cython (default) or numpy)
Prints the real-time factor (simulated seconds per wall second, network build excluded).
"""
import sys
import time

import numpy as np
from brian2 import (NeuronGroup, Synapses, Network, defaultclock, ms, prefs, seed)

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
prefs.codegen.target = sys.argv[2] if len(sys.argv) > 2 else "cython"
seed(1)
np.random.seed(1)
defaultclock.dt = 1 * ms
ne, ni = 800, 200
n = ne + ni
eqs = """
a : 1
b : 1
c : 1
d : 1
sigma : 1
I : 1
dv/dt = 0 / ms : 1
u : 1
"""
g = NeuronGroup(n, eqs, threshold="v >= 30", reset="v = c; u = u + d", method="euler")
re, ri = np.random.rand(ne), np.random.rand(ni)
g.a = np.r_[0.02 * np.ones(ne), 0.02 + 0.08 * ri]
g.b = np.r_[0.2 * np.ones(ne), 0.25 - 0.05 * ri]
g.c = np.r_[-65 + 15 * re**2, -65 * np.ones(ni)]
g.d = np.r_[8 - 6 * re**2, 2 * np.ones(ni)]
g.sigma = np.r_[5 * np.ones(ne), 2 * np.ones(ni)]
g.v = -65
g.u = g.b * -65
# Each ms: fresh thalamic input, then the two half-steps of v and the step of u (the paper's
# MATLAB loop); spikes add their weights to I at the next step's start via on_pre.
g.run_regularly(
    """
    v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
    v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
    u = u + a * (b * v - u)
    I = sigma * randn()
    """,
    when="groups", order=1,
)
s = Synapses(g, g, "w : 1", on_pre="I_post += w")
s.connect()
w = np.empty((n, n))
w[:ne, :] = 0.5 * np.random.rand(ne, n)
w[ne:, :] = -np.random.rand(ni, n)
s.w = w.flatten()
net = Network(g, s)
net.run(10 * ms)  # compile and warm up
t0 = time.perf_counter()
net.run(seconds * 1000 * ms)
wall = time.perf_counter() - t0
print(f"brian2 {prefs.codegen.target}: izhikevich2003 {n} neurons, {n*n} synapses, "
      f"{seconds:.1f} s simulated in {wall:.2f} s: {seconds / wall:.1f}x real time")
