#!/usr/bin/env python3
"""Builds a probe of whether a reward model sees a repeated topic, from a run's evaluation completions or from
`./rlhf generate --json` output.

On the embedded review task a response that covers one topic twice ("I found the staff wonderful. The staff was
excellent.") scores -1 in gold, as low as a response can, whatever its adjectives. For every two-sentence completion
in the given evaluation files whose sentences have different topics, the probe pairs the completion (chosen) with
the same text whose second sentence takes the first one's topic (rejected): the pair differs only in the repeat.
A reward model that sees repeats orders these pairs; one that does not scores about half of them right.

    python3 infra/diagnostics/repeated_topic_probe.py RUN/evaluation-sft.json RUN/evaluation-tuned.json > probe.jsonl
    ./rlhf rm eval --reward-model RUN/reward-models/v0010 --data probe.jsonl

Prints the TRL-format pairs ({"prompt", "chosen", "rejected"}) on stdout, one per line, each (prompt, chosen) once.
"""
import json
import re
import sys

END_OF_TEXT = "<|endoftext|>"
# the review grammar's topic sentences: "I found the <topic> <adjective>." and "The <topic> was <adjective>."
TOPIC_SENTENCE = re.compile(r"(I found the|The) (.+?) (was )?(\S+( \S+)?)$")


def sentences(text):
    return [s.strip() for s in text.split(END_OF_TEXT)[0].split(".") if s.strip()]


def topic(sentence):
    match = TOPIC_SENTENCE.match(sentence)
    return match.group(2) if match else None


def prompted_completions(document):
    """(prompt, completion) of a run's evaluation file (prompts beside completions) or of `generate --json`."""
    if "prompts" in document:
        return zip(document["prompts"], document["completions"])
    return ((completion["prompt"], completion) for completion in document["completions"])


def probe_pairs(evaluation):
    for prompt, completion in prompted_completions(evaluation):
        text = completion["text"]
        parts = sentences(text)
        if len(parts) != 2:
            continue
        first, second = topic(parts[0]), topic(parts[1])
        if first is None or second is None or first == second:
            continue
        lead = " " if text.startswith(" ") else ""
        repeated = lead + parts[0] + ". " + parts[1].replace(second, first, 1) + "."
        yield {"prompt": prompt, "chosen": text.split(END_OF_TEXT)[0], "rejected": repeated}


def main(paths):
    if not paths:
        sys.exit("usage: repeated_topic_probe.py COMPLETIONS.json [COMPLETIONS.json ...]")
    seen = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            evaluation = json.load(f)
        for pair in probe_pairs(evaluation):
            key = (pair["prompt"], pair["chosen"])
            if key not in seen:
                seen.add(key)
                print(json.dumps(pair))


if __name__ == "__main__":
    main(sys.argv[1:])
