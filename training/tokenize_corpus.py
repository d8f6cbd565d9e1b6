#!/usr/bin/env python3
"""Train the byte-level BPE tokenizer on the train split and write uint16 token shards.

tokenizer: GPT-2 style byte-level BPE (ByteLevel pre-tokenizer, add_prefix_space=False,
ByteLevel decoder), vocab 8192, special token <|endoftext|> (id 0), trained with HF
`tokenizers` on every train-split file (in manifest order). Saved as data/tokenizer.json.

shards: data/tokens/{train,val,test}.bin, little-endian uint16; every file is encoded
and followed by <|endoftext|> (the document separator), files in manifest order.
data/tokens/meta.json records token counts.
"""
import argparse
import json
import os

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
EOT = "<|endoftext|>"


def texts(data, split, files):
    for ident in files:
        with open(os.path.join(data, split, ident), encoding="utf-8") as fh:
            yield fh.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--max-train-files", type=int, default=0, help="smoke: limit files per split (0 = all)")
    args = ap.parse_args()
    man = json.load(open(os.path.join(args.data, "manifest.json")))
    splits = man["splits"]
    if args.max_train_files:
        splits = {k: v[: args.max_train_files] for k, v in splits.items()}
    tok_path = os.path.join(args.data, "tokenizer.json")
    if not os.path.exists(tok_path):
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=args.vocab, special_tokens=[EOT], min_frequency=2,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(texts(args.data, "train", splits["train"]), trainer)
        tok.save(tok_path + ".tmp")
        os.replace(tok_path + ".tmp", tok_path)
        print("tokenizer trained:", tok.get_vocab_size())
    tok = Tokenizer.from_file(tok_path)
    eot = tok.token_to_id(EOT)
    assert eot is not None and tok.get_vocab_size() <= 65535
    out = os.path.join(args.data, "tokens")
    os.makedirs(out, exist_ok=True)
    meta = {"eot": eot, "vocab_size": tok.get_vocab_size(), "tokens": {}}
    for split, files in splits.items():
        path = os.path.join(out, f"{split}.bin")
        n = 0
        with open(path + ".tmp", "wb") as fh:
            batch = []
            def flush():
                nonlocal n
                for enc in tok.encode_batch(batch):
                    ids = np.array(enc.ids + [eot], dtype=np.uint16)
                    fh.write(ids.tobytes())
                    n += len(ids)
                batch.clear()
            for t in texts(args.data, split, files):
                batch.append(t)
                if len(batch) >= 256:
                    flush()
            flush()
        os.replace(path + ".tmp", path)
        meta["tokens"][split] = n
        print(split, n, "tokens")
    json.dump(meta, open(os.path.join(out, "meta.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
