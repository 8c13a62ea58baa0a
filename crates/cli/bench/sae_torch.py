"""PyTorch baseline for `neurolab bench sae`: TopK SAE training samples/s on the CPU.

Same step as neurolab's: z = ReLU(TopK(W_enc (x - b_dec) + b_enc)), x_hat = W_dec z + b_dec,
loss = sum over d of the squared error (mean over the batch), Adam, the gradient component
parallel to each unit decoder row removed, decoder rows renormalised after the step.

Two variants:
  dense  - the common implementation (SAELens / OpenAI's reference): the k winners are
           scattered into a dense [B, L] latent matrix and decoded with a dense matmul.
  sparse - the same computation as neurolab's step: the dense encoder product runs without
           autograd only to pick the winners; the k selected pre-activations are recomputed
           from the selected encoder rows and decoded from the selected decoder rows.

Usage: python sae_torch.py [--threads 2] [--steps 10] [--batch 1024]
Prints CSV: variant,d,latents,k,batch,steps,wall_s,samples_per_s
"""

import argparse
import time

import torch


def make(d, latents, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(latents, d, generator=g)
    w = w / w.norm(dim=1, keepdim=True)
    w_enc = torch.nn.Parameter(w.clone())
    w_dec = torch.nn.Parameter(w.clone())
    b_enc = torch.nn.Parameter(torch.zeros(latents))
    b_dec = torch.nn.Parameter(torch.zeros(d))
    return w_enc, b_enc, w_dec, b_dec


def step_dense(params, opt, x, k):
    w_enc, b_enc, w_dec, b_dec = params
    pre = (x - b_dec) @ w_enc.T + b_enc
    vals, idx = pre.topk(k, dim=1)
    z = torch.zeros_like(pre).scatter(1, idx, torch.relu(vals))
    x_hat = z @ w_dec + b_dec
    loss = (x - x_hat).pow(2).sum(1).mean()
    return loss


def step_sparse(params, opt, x, k):
    w_enc, b_enc, w_dec, b_dec = params
    xc = x - b_dec
    with torch.no_grad():
        idx = (xc @ w_enc.T + b_enc).topk(k, dim=1).indices  # [B, k]
    we = w_enc[idx]  # [B, k, d]
    z = torch.relu((we * xc.unsqueeze(1)).sum(2) + b_enc[idx])
    x_hat = (w_dec[idx] * z.unsqueeze(2)).sum(1) + b_dec
    loss = (x - x_hat).pow(2).sum(1).mean()
    return loss


def train_step(fn, params, opt, x, k):
    opt.zero_grad(set_to_none=True)
    loss = fn(params, opt, x, k)
    loss.backward()
    w_dec = params[2]
    with torch.no_grad():
        g = w_dec.grad
        g -= (g * w_dec).sum(1, keepdim=True) * w_dec
    opt.step()
    with torch.no_grad():
        w_dec /= w_dec.norm(dim=1, keepdim=True)
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--k", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("variant,d,latents,k,batch,steps,wall_s,samples_per_s")
    for variant, fn in [("torch-dense", step_dense), ("torch-sparse", step_sparse)]:
        for d in (128, 512):
            for e in (8, 16):
                latents = d * e
                params = make(d, latents)
                opt = torch.optim.Adam(params, lr=1e-3)
                pool = torch.randn(8 * args.batch, d, generator=torch.Generator().manual_seed(1))
                g = torch.Generator().manual_seed(2)
                for _ in range(2):
                    i = torch.randint(0, pool.shape[0], (args.batch,), generator=g)
                    train_step(fn, params, opt, pool[i], args.k)
                t = time.perf_counter()
                for _ in range(args.steps):
                    i = torch.randint(0, pool.shape[0], (args.batch,), generator=g)
                    train_step(fn, params, opt, pool[i], args.k)
                wall = time.perf_counter() - t
                print(
                    f"{variant},{d},{latents},{args.k},{args.batch},{args.steps},"
                    f"{wall:.3f},{args.steps * args.batch / wall:.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
