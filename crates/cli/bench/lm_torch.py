"""PyTorch baseline for `neurolab bench lm`: training tokens/s of the LM lab's GPT on the CPU.

The same model and batch as neurolab's `facts` preset (the Rust side passes its sizes): learned
token and position embeddings, `layers` pre-LN blocks (causal multi-head attention without biases,
then a GELU MLP with biases), no final LayerNorm, an untied unembedding; cross-entropy over every
position of `batch` random windows of `ctx` tokens; AdamW lr 3e-3, betas (0.9, 0.99), weight
decay 0.01. Random tokens stand in for the corpus (the speed does not depend on them). Times
`--steps` steps after 5 warm-up steps (the loss is not read back in between).

Usage: python lm_torch.py [--threads 2] [--steps 100] [--layers 2] [--d-model 64] [--heads 4]
       [--d-mlp 256] [--ctx 16] [--batch 32] [--vocab 200]
Prints CSV: threads,layers,d_model,ctx,batch,steps,wall_s,tokens_per_s
"""

import argparse
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, d, heads, d_mlp):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d, bias=False)
        self.o = torch.nn.Linear(d, d, bias=False)
        self.ln2 = torch.nn.LayerNorm(d)
        self.fc_in = torch.nn.Linear(d, d_mlp)
        self.fc_out = torch.nn.Linear(d_mlp, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        shape = (b, t, self.heads, d // self.heads)
        q, k, v = (z.view(shape).transpose(1, 2) for z in (q, k, v))
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(z.transpose(1, 2).reshape(b, t, d))
        return x + self.fc_out(F.gelu(self.fc_in(self.ln2(x))))


class Gpt(torch.nn.Module):
    def __init__(self, vocab, ctx, d, heads, d_mlp, layers):
        super().__init__()
        self.w_e = torch.nn.Embedding(vocab, d)
        self.w_pos = torch.nn.Embedding(ctx, d)
        self.blocks = torch.nn.ModuleList(Block(d, heads, d_mlp) for _ in range(layers))
        self.w_u = torch.nn.Linear(d, vocab, bias=False)

    def forward(self, tokens):
        x = self.w_e(tokens) + self.w_pos(torch.arange(tokens.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.w_u(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-mlp", type=int, default=256)
    ap.add_argument("--ctx", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Gpt(a.vocab, a.ctx, a.d_model, a.heads, a.d_mlp, a.layers)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.99), weight_decay=0.01)
    data = torch.randint(0, a.vocab, (100_000,))

    def step():
        at = torch.randint(0, data.numel() - a.ctx - 1, (a.batch,))
        idx = at[:, None] + torch.arange(a.ctx + 1)[None, :]
        w = data[idx]
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    wall = time.perf_counter() - t
    tokens = a.steps * a.batch * a.ctx
    print("threads,layers,d_model,ctx,batch,steps,wall_s,tokens_per_s")
    print(f"{a.threads},{a.layers},{a.d_model},{a.ctx},{a.batch},{a.steps},{wall:.4f},{tokens / wall:.1f}")


if __name__ == "__main__":
    main()
