#!/usr/bin/env python3
"""PyTorch-eager twin of `rlhf bench rm`: Bradley-Terry reward-model training steps on random pairs.

Each step takes --batch pairs, each a random prompt of --prompt-len tokens with two random responses of
--new-tokens tokens, and does what an eager trainer naturally does: both sequences (prompt + chosen,
prompt + rejected) as 2 x batch rows through the GPT trunk, the scalar head read at the last token,
-logsigmoid(chosen - rejected) averaged, backward, clip_grad_norm_(1.0), AdamW (lr 1e-4, decay 0.01 on matrices).
Prints one JSON line. Local measurement only, not CI.
"""
import argparse, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppo_eager import Gpt, adamw, config, run_threads, shape_args  # the same model, optimiser and flags


def pairs(a):
    """[2 x batch, prompt + new] token ids: chosen rows first, then the rejected rows of the same prompts."""
    prompts = torch.randint(a.vocab, (a.batch, a.prompt_len))
    chosen, rejected = torch.randint(a.vocab, (2, a.batch, a.new_tokens))
    return torch.cat([torch.cat([prompts, chosen], 1), torch.cat([prompts, rejected], 1)])


def step(model, optimizer, ids, mask):
    """One Bradley-Terry step; returns the loss."""
    hidden = model.hidden(ids, mask)
    last = mask.sum(-1) - 1  # the last real token (right padding); every row is full length here
    scores = model.scalar(hidden[torch.arange(ids.shape[0]), last])
    chosen, rejected = scores.chunk(2)
    loss = -F.logsigmoid(chosen - rejected).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss


def measure(a, threads):
    torch.manual_seed(7)
    model = Gpt(a.vocab, a.prompt_len + a.new_tokens, a.d_model, a.layers, a.heads)
    torch.nn.init.normal_(model.head.weight, 0.0, 0.02)  # a zero score head would give every pair the same loss
    optimizer = adamw(model.parameters(), 1e-4, 0.01)
    seconds = []
    for i in range(a.warmup + a.steps):
        ids = pairs(a)
        mask = torch.ones_like(ids)
        start = time.perf_counter()
        step(model, optimizer, ids, mask)
        if i >= a.warmup:
            seconds.append(time.perf_counter() - start)
    total = sum(seconds)
    return {"benchmark": "rm_eager", "torch": torch.__version__, "threads": threads, "config": config(a),
            "sequence_len": a.prompt_len + a.new_tokens, "steps": a.steps,
            "pairs_per_s": a.batch * a.steps / total, "seconds_per_step": total / a.steps,
            "best_seconds_per_step": min(seconds)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shape_args(p)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    a = p.parse_args()
    run_threads(a, lambda threads: measure(a, threads), "pairs_per_s")


if __name__ == "__main__":
    main()
