#!/usr/bin/env python3
"""PyTorch-eager twin of `rlhf bench ppo`: one PPO learner update on random data and random weights.

An update scores a batch (no-grad policy log-probs, values and entropy, reference log-probs, in chunks of
--forward-batch-size), shapes per-token KL rewards, runs GAE and whitening, then 4 epochs x 2 shuffled minibatches
of forward, clipped PPO loss, backward, clip_grad_norm_ and AdamW. Defaults follow the Java bench flags and the
`rlhf.ppo` block of reference.conf. Prints one JSON line. Local measurement only, not CI.
"""
import argparse, copy, json, math, os, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """Pre-LN GPT-2 block: fused qkv, causal attention through an additive bias, tanh-GELU MLP."""
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
        self.c_attn, self.attn_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, bias):
        b, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        # explicit softmax attention, as the Java model does (torch 1.13 has no scaled_dot_product_attention)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // self.heads)) + bias
        x = x + self.attn_proj((att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))  # gelu_new


class Gpt(nn.Module):
    """GPT-2 with learned positions, LM head tied to the token embedding, and a scalar head Linear(d, 1)."""
    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.head = nn.Linear(d, 1)
        # as GptWeights.random: normal(0, 0.02), residual projections / sqrt(2 layers), zero biases, zero head
        for name, p in self.named_parameters():
            if name.startswith("head.") or name.endswith(".bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02)

    def hidden(self, ids, mask):
        """Final hidden states [b, t, d] of a (left-)padded batch; mask is 1 for real tokens."""
        t = ids.shape[1]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # padding does not consume positions (as HF and ours)
        keep = torch.ones(t, t, dtype=torch.bool).tril() & mask.bool()[:, None, None, :]
        bias = torch.zeros(keep.shape).masked_fill_(~keep, -1e9)
        x = self.wte(ids) + self.wpe(positions)
        for block in self.blocks:
            x = block(x, bias)
        return self.ln_f(x)

    def scalar(self, hidden):
        return self.head(hidden).squeeze(-1)


def response_forward(model, ids, mask, prompt_len):
    """Log-softmax, log-probs and values at the response tokens; position t predicts token t + 1."""
    h = model.hidden(ids, mask)[:, prompt_len - 1:-1]
    log_softmax = F.linear(h, model.wte.weight).log_softmax(-1)
    return log_softmax, log_softmax.gather(-1, ids[:, prompt_len:, None]).squeeze(-1), model.scalar(h)


@torch.no_grad()
def score(policy, reference, ids, mask, a):
    """RolloutScorer.score: chunked no-grad passes; the entropy is computed for the stats, as ours does."""
    parts = []
    for s in range(0, ids.shape[0], a.forward_batch_size):
        i, m = ids[s:s + a.forward_batch_size], mask[s:s + a.forward_batch_size]
        log_softmax, logp, values = response_forward(policy, i, m, a.prompt_len)
        entropy = -(log_softmax.exp() * log_softmax).sum(-1)
        parts.append((logp, values, entropy, response_forward(reference, i, m, a.prompt_len)[1]))
    return [torch.cat(p) for p in zip(*parts)]


def advantages(logp, ref_logp, values, scores, rmask, a):
    """KL-shaped rewards, GAE (gamma, lambda), whitening over response tokens (masked, unbiased variance)."""
    rewards = -a.beta * (logp - ref_logp) * rmask
    rewards[:, -1] += scores  # responses are full length: the last column holds every last token
    adv, last = torch.zeros_like(rewards), torch.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        next_value = values[:, t + 1] if t + 1 < rewards.shape[1] else 0.0
        last = rewards[:, t] + a.gamma * next_value - values[:, t] + a.gamma * a.lam * last
        adv[:, t] = last
    returns = adv + values
    n = rmask.sum()
    mean = (adv * rmask).sum() / n
    var = (((adv - mean) * rmask) ** 2).sum() / (n - 1)
    return (adv - mean) * torch.rsqrt(var + 1e-8) * rmask, returns


def ppo_loss(logp, values, old_logp, old_values, adv, returns, rmask, a):
    """PpoLoss.compute: clipped surrogate + value_coef * 0.5 * clipped squared error, means over masked tokens."""
    tokens = rmask.sum().clamp(min=1)
    ratio = (logp - old_logp).exp()
    policy = (torch.max(-adv * ratio, -adv * ratio.clamp(1 - a.clip, 1 + a.clip)) * rmask).sum() / tokens
    clipped_values = old_values + (values - old_values).clamp(-a.value_clip, a.value_clip)
    errors = torch.max((values - returns) ** 2, (clipped_values - returns) ** 2)
    return policy + a.value_coef * 0.5 * (errors * rmask).sum() / tokens


def update(policy, reference, optimizer, ids, mask, scores, a):
    """One PPO update; returns (scoring seconds, training seconds)."""
    start = time.perf_counter()
    old_logp, old_values, _, ref_logp = score(policy, reference, ids, mask, a)
    rmask = mask[:, a.prompt_len:].float()
    adv, returns = advantages(old_logp, ref_logp, old_values, scores, rmask, a)
    scored = time.perf_counter()
    n = ids.shape[0]
    for _ in range(a.epochs):
        order = torch.randperm(n)
        for m in range(a.minibatches):
            rows = order[n * m // a.minibatches:n * (m + 1) // a.minibatches]
            _, logp, values = response_forward(policy, ids[rows], mask[rows], a.prompt_len)
            loss = ppo_loss(logp, values, old_logp[rows], old_values[rows], adv[rows], returns[rows], rmask[rows], a)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), a.max_grad_norm)
            optimizer.step()
    return scored - start, time.perf_counter() - scored


def adamw(params, lr, weight_decay):
    """AdamW decaying matrices only, as ours; foreach, since 1.13's fused AdamW is CUDA-only."""
    params = [p for p in params if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, foreach=True)


# the shape flags every `rlhf bench` command shares, with its defaults (BenchShapeOptions)
SHAPE = {"layers": 4, "d_model": 256, "heads": 4, "vocab": 8192, "batch": 16, "prompt_len": 32, "new_tokens": 64}


# rlhf.ppo in reference.conf; early stopping is off as in the Java bench, and beta stays at kl.init-coef
PPO = {"epochs": 4, "minibatches": 2, "forward_batch_size": 16, "lr": 1e-4, "clip": 0.2, "value_clip": 0.2,
       "value_coef": 0.1, "max_grad_norm": 1.0, "gamma": 1.0, "lam": 0.95, "beta": 0.05}


def shape_args(parser):
    for name, default in SHAPE.items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=default)
    parser.add_argument("--threads", default="1", help="intra-op threads, or 'best' (1 and os.cpu_count())")


def config(a):
    return {name: getattr(a, name) for name in SHAPE}


def blas():
    """The BLAS libraries loaded: Debian's torch uses whatever libblas.so.3 is, reference BLAS by default."""
    with open("/proc/self/maps") as maps:
        return sorted({line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]})


def run_threads(a, measure, rate_key):
    """Runs measure(threads) -> result dict at --threads, or at 1 and cpu_count for 'best'; prints the faster."""
    torch.set_num_interop_threads(1)  # allowed once per process, before any parallel work
    counts = [1, os.cpu_count()] if a.threads == "best" else [int(a.threads)]
    results = []
    for threads in dict.fromkeys(counts):
        torch.set_num_threads(threads)
        results.append(measure(threads))
    best = max(results, key=lambda r: r[rate_key])
    if len(results) > 1:
        best["by_threads"] = {str(r["threads"]): r[rate_key] for r in results}
    best["blas"] = blas()
    print(json.dumps(best))


def measure(a, threads):
    torch.manual_seed(7)
    policy = Gpt(a.vocab, a.prompt_len + a.new_tokens, a.d_model, a.layers, a.heads)
    reference = copy.deepcopy(policy).requires_grad_(False)
    optimizer = adamw(policy.parameters(), a.lr, 0.0)
    times = []
    for i in range(a.warmup + a.updates):
        ids = torch.randint(a.vocab, (a.batch, a.prompt_len + a.new_tokens))
        mask = torch.ones_like(ids)  # full length, no padding
        scores = torch.rand(a.batch) * 2 - 1
        t = update(policy, reference, optimizer, ids, mask, scores, a)
        if i >= a.warmup:
            times.append(t)
    total = sum(s + t for s, t in times)
    return {"benchmark": "ppo_eager", "torch": torch.__version__, "threads": threads, "config": config(a),
            "epochs": a.epochs, "minibatches": a.minibatches, "updates": a.updates,
            "samples_per_s": a.batch * a.updates / total,
            "best_samples_per_s": a.batch / min(s + t for s, t in times),
            "scoring_seconds_per_update": sum(s for s, _ in times) / a.updates,
            "training_seconds_per_update": sum(t for _, t in times) / a.updates}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shape_args(p)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--updates", type=int, default=3)
    for name, default in PPO.items():
        p.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    a = p.parse_args()
    run_threads(a, lambda threads: measure(a, threads), "samples_per_s")


if __name__ == "__main__":
    main()
