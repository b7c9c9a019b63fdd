# Writes GPT-2 small's tokenizer.json (Hugging Face tokenizers format) from its encoder.json and vocab.bpe.

import json, sys
src, out = sys.argv[1], sys.argv[2]
vocab = json.load(open(f"{src}/encoder.json", encoding="utf-8"))
merges = [l for l in open(f"{src}/vocab.bpe", encoding="utf-8").read().split("\n")[1:] if l]
byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
tok = {
  "version": "1.0", "truncation": None, "padding": None,
  "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                    "rstrip": False, "normalized": True, "special": True}],
  "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
  "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "vocab": vocab, "merges": merges}}
json.dump(tok, open(f"{out}/tokenizer.json", "w", encoding="utf-8"), ensure_ascii=False)
json.dump({"model_max_length": 1024, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
           "unk_token": "<|endoftext|>", "tokenizer_class": "GPT2Tokenizer"},
          open(f"{out}/tokenizer_config.json", "w"))
print(len(vocab), "tokens,", len(merges), "merges")
