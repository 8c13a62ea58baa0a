"""PyTorch baseline for `neurolab bench grok`: training steps/s of both grokking presets on the CPU.

The same models, data and optimiser as neurolab's presets, full batch:
  mlp          - Gromov's MLP on a + b mod 97, half the pairs for training: one-hot(a) ‖ one-hot(b)
                 → 500 hidden, x², → 97, no biases; the one-hot layer as a lookup (rows a and p + b
                 of W_in), as neurolab does; cross-entropy; AdamW lr 3e-3, weight decay 1,
                 betas (0.9, 0.98).
  transformer  - Nanda et al.'s one-layer transformer on a + b mod 113, 30 % of the pairs: tokens
                 [a, b, =], d_model 128, 4 heads, d_mlp 512, ReLU, learned positions, no LayerNorm,
                 logits at '='; AdamW lr 1e-3, weight decay 1, betas (0.9, 0.98).
Both time `--steps` steps after 3 warm-up steps (the loss is not read back in between).

Usage: python grok_torch.py [--threads 2] [--steps 200] [--preset mlp|transformer|all]
Prints CSV: preset,threads,steps,wall_s,steps_per_s
"""

import argparse
import time

import torch
import torch.nn.functional as F


def pairs(p, frac, seed=0):
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(p * p, generator=g)
    n = int(round(frac * p * p))
    idx = order[:n]
    return idx // p, idx % p, (idx // p + idx % p) % p


class Mlp(torch.nn.Module):
    def __init__(self, p, hidden):
        super().__init__()
        self.p = p
        b_in = 1.0 / (2 * p) ** 0.5
        b_out = 1.0 / hidden ** 0.5
        self.w_in = torch.nn.Parameter(torch.empty(2 * p, hidden).uniform_(-b_in, b_in))
        self.w_out = torch.nn.Parameter(torch.empty(hidden, p).uniform_(-b_out, b_out))

    def forward(self, a, b):
        pre = self.w_in[a] + self.w_in[self.p + b]
        return pre.square() @ self.w_out


class Transformer(torch.nn.Module):
    def __init__(self, p, d=128, heads=4, d_mlp=512):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        s = 1.0 / d ** 0.5
        self.w_e = torch.nn.Parameter(torch.randn(p + 1, d) * s)
        self.w_pos = torch.nn.Parameter(torch.randn(3, d) * s)
        self.w_q = torch.nn.Parameter(torch.randn(d, d) * s)
        self.w_k = torch.nn.Parameter(torch.randn(d, d) * s)
        self.w_v = torch.nn.Parameter(torch.randn(d, d) * s)
        self.w_o = torch.nn.Parameter(torch.randn(d, d) * s)
        self.w_in = torch.nn.Parameter(torch.randn(d, d_mlp) * s)
        self.b_in = torch.nn.Parameter(torch.zeros(d_mlp))
        self.w_out = torch.nn.Parameter(torch.randn(d_mlp, d) * (1.0 / d_mlp ** 0.5))
        self.b_out = torch.nn.Parameter(torch.zeros(d))
        self.w_u = torch.nn.Parameter(torch.randn(d, p) * s)
        self.eq = p

    def forward(self, a, b):
        n = a.shape[0]
        tokens = torch.stack([a, b, torch.full_like(a, self.eq)], 1)
        x = self.w_e[tokens] + self.w_pos  # [n, 3, d]
        q = (x[:, 2] @ self.w_q).view(n, self.heads, self.dh)
        k = (x @ self.w_k).view(n, 3, self.heads, self.dh)
        v = (x @ self.w_v).view(n, 3, self.heads, self.dh)
        att = torch.einsum("nhd,nthd->nht", q, k) / self.dh ** 0.5
        z = torch.einsum("nht,nthd->nhd", att.softmax(-1), v).reshape(n, -1)
        r = x[:, 2] + z @ self.w_o
        r = r + F.relu(r @ self.w_in + self.b_in) @ self.w_out + self.b_out
        return r @ self.w_u


def bench(preset, steps, threads):
    torch.manual_seed(0)
    if preset == "mlp":
        p, model, lr = 97, Mlp(97, 500), 3e-3
        a, b, y = pairs(p, 0.5)
    else:
        p, model, lr = 113, Transformer(113), 1e-3
        a, b, y = pairs(p, 0.3)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1.0, betas=(0.9, 0.98))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(a, b), y).backward()
        opt.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    wall = time.perf_counter() - start
    print(f"{preset},{threads},{steps},{wall:.4f},{steps / wall:.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--preset", default="all", choices=["mlp", "transformer", "all"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("preset,threads,steps,wall_s,steps_per_s")
    for preset in ["mlp", "transformer"] if args.preset == "all" else [args.preset]:
        bench(preset, args.steps, args.threads)


if __name__ == "__main__":
    main()
