#!/usr/bin/env python3
"""Run the whole model recipe, resumably (each stage is skipped once its output exists,
and the long stages resume from their own checkpoints):

  backbone -> export (HF GPT-2, F16) -> exit heads (shared, separate) -> choose kind
  -> controller -> assemble OUT -> evaluate -> MODEL_CARD.md

Full:  python pipeline.py                      (into ../models/default, runs in runs/)
Smoke: python pipeline.py --smoke              (tiny corpus + config, into runs/smoke/out)
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
SIZE_LIMIT = 64 * 1024 * 1024


def sh(*cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.check_call([PY, *cmd], cwd=HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--runs", default=os.path.join(HERE, "runs"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "models", "default"))
    ap.add_argument("--backbone-seconds", type=float, default=5400)
    ap.add_argument("--exit-seconds", type=float, default=600)
    ap.add_argument("--separate-seconds", type=float, default=300)
    ap.add_argument("--controller-seconds", type=float, default=300)
    ap.add_argument("--eval-seqs", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    th = ["--threads", str(args.threads)]
    if args.smoke:
        runs = os.path.join(args.runs, "smoke")
        data, out = os.path.join(runs, "data"), os.path.join(runs, "out")
        if not os.path.exists(os.path.join(data, "tokens", "meta.json")):
            sh("corpus.py", "--stdlib-only", "--max-files", "600", "--out", data)
            sh("tokenize_corpus.py", "--data", data)
        bb = ["--config", "smoke", "--max-steps", "12", "--batch", "4", "--eval-every", "0", "--eval-seqs", "4", "--warmup", "5"]
        ex = ["--max-steps", "5", "--batch", "2", "--eval-seqs", "4"]
        ctl = ["--max-steps", "5", "--batch", "2"]
        ev = ["--eval-seqs", "4"]
    else:
        runs, data, out = args.runs, args.data, args.out
        bb = ["--time-budget", str(args.backbone_seconds), "--compile"]
        ex = []
        ctl = ["--time-budget", str(args.controller_seconds)]
        ev = ["--eval-seqs", str(args.eval_seqs)]
    os.makedirs(runs, exist_ok=True)
    timing_path = os.path.join(runs, "timing.json")
    timing = json.load(open(timing_path)) if os.path.exists(timing_path) else {}

    def stage(name, done, fn):
        if os.path.exists(done):
            print(f"[{name}] done ({done})")
            return
        t0 = time.time()
        fn()
        timing[name] = timing.get(name, 0) + time.time() - t0
        json.dump(timing, open(timing_path, "w"), indent=1)

    bb_run = os.path.join(runs, "backbone")
    hf = os.path.join(runs, "hf-f16")
    exd = os.path.join(runs, "exits")
    stage("backbone", os.path.join(bb_run, "final.json"),
          lambda: sh("train_backbone.py", "--data", data, "--run", bb_run, *bb, *th))
    stage("export", os.path.join(hf, "model.safetensors"),
          lambda: sh("export.py", "--run", bb_run, "--tokenizer", os.path.join(data, "tokenizer.json"), "--out", hf))
    for kind in ("shared", "separate"):
        budget = [] if args.smoke else ["--time-budget", str(args.exit_seconds if kind == "shared" else args.separate_seconds)]
        stage(f"exits-{kind}", os.path.join(exd, f"exits-{kind}.json"),
              lambda kind=kind, budget=budget: sh("train_exits.py", "--model", hf, "--data", data, "--out", exd,
                                                  "--kind", kind, *ex, *budget, *th))
    # choose: best mean val top-1 among kinds that keep the model directory within 64 MB
    model_bytes = os.path.getsize(os.path.join(hf, "model.safetensors")) + os.path.getsize(os.path.join(hf, "tokenizer.json"))
    cands = []
    for kind in ("shared", "separate"):
        r = json.load(open(os.path.join(exd, f"exits-{kind}.json")))
        fits = model_bytes + r["bytes"] + 1_000_000 <= SIZE_LIMIT
        cands.append((fits, sum(r["val_acc"]) / len(r["val_acc"]), kind))
        print(f"exits {kind}: mean val top-1 {cands[-1][1]:.4f}, {r['bytes']/1e6:.1f} MB, fits={fits}")
    kind = max(cands)[2]
    json.dump({"chosen": kind, "candidates": cands}, open(os.path.join(runs, "choice.json"), "w"), indent=1)
    exits_file = os.path.join(exd, f"exits-{kind}.safetensors")
    ctl_dir = os.path.join(runs, f"controller-{kind}")
    stage("controller", os.path.join(ctl_dir, "controller.json"),
          lambda: sh("train_controller.py", "--model", hf, "--exits", exits_file, "--data", data, "--out", ctl_dir, *ctl, *th))
    os.makedirs(out, exist_ok=True)
    for f in ("config.json", "model.safetensors", "tokenizer.json"):
        shutil.copyfile(os.path.join(hf, f), os.path.join(out, f))
    shutil.copyfile(exits_file, os.path.join(out, "exits.safetensors"))
    shutil.copyfile(os.path.join(ctl_dir, "controller.safetensors"), os.path.join(out, "controller.safetensors"))
    ev_path = os.path.join(runs, "eval.json")
    stage("evaluate", ev_path, lambda: sh("evaluate.py", "--model", out, "--data", data, "--out", ev_path, *ev, *th))
    sh("card.py", "--runs", runs, "--data", data, "--out", out)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{out}: {total/1e6:.1f} MB")
    assert total <= SIZE_LIMIT, "model directory over 64 MB"


if __name__ == "__main__":
    main()
