#!/usr/bin/env python3
"""Write OUT/MODEL_CARD.md from the run's JSON records (runs/...)."""
import argparse
import hashlib
import json
import os
import re
import platform

HERE = os.path.dirname(os.path.abspath(__file__))


def J(path):
    return json.load(open(path)) if os.path.exists(path) else None


def pct(v):
    return f"{100 * v:.1f}%"


def machine():
    name = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip(); break
    except OSError:
        pass
    return f"{os.cpu_count()}-core {name}, CPU only ({platform.system()} {platform.machine()})"


def recipe_budget():
    """The backbone budget `make model` uses, read from the Makefile so the card cannot drift from it."""
    m = re.search(r"^BACKBONE_SECONDS \?= (\d+)", open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "Makefile")).read(), re.M)
    return m.group(1) if m else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--notes", default=None, help="extra markdown appended (default RUNS/notes.md)")
    a = ap.parse_args()
    R = a.runs
    man = J(os.path.join(a.data, "manifest.json"))
    tmeta = J(os.path.join(a.data, "tokens", "meta.json"))
    bargs = J(os.path.join(R, "backbone", "args.json"))
    fin = J(os.path.join(R, "backbone", "final.json"))
    exp = J(os.path.join(R, "hf-f16-export.json"))
    ev = J(os.path.join(R, "eval.json"))
    choice = J(os.path.join(R, "choice.json"))
    timing = J(os.path.join(R, "timing.json")) or {}
    cfg = J(os.path.join(a.out, "config.json"))
    ctl = J(os.path.join(R, f"controller-{choice['chosen']}", "controller.json"))
    exr = {k: J(os.path.join(R, "exits", f"exits-{k}.json")) for k in ("shared", "separate")}
    L = cfg["n_layer"]
    mpath = os.path.join(HERE, "corpus-manifest.txt")
    o = []
    w = o.append
    w("# ExitLens default model\n")
    w("A small GPT-2 (Hugging Face `GPT2LMHeadModel` layout) trained from scratch on Python source, with "
      "early-exit heads and a Stop&Exit Controller (Sun et al., ICSE 2024) for ExitLens. "
      "Built by `training/` (`make corpus && make model`); formats in `training/README.md`.\n")
    w("## Files\n")
    w("| file | bytes |\n|---|---|")
    tot = 0
    for f in sorted(os.listdir(a.out)):
        if f == "MODEL_CARD.md":
            continue
        s = os.path.getsize(os.path.join(a.out, f)); tot += s
        w(f"| {f} | {s:,} |")
    w(f"| total (without this card) | {tot:,} |\n")
    w("## Model\n")
    w(f"GPT-2: {L} layers, n_embd {cfg['n_embd']}, {cfg['n_head']} heads, context {cfg['n_positions']}, "
      f"vocab {cfg['vocab_size']}, `{cfg['activation_function']}`, tied head, weights F16. "
      f"bos = eos = {cfg['eos_token_id']} (`<|endoftext|>`). Exit heads: **{choice['chosen']}**; controller: "
      "Linear(d, 3, bias=False), F32, rows stop, exit, continue.\n")
    if exp:
        w(f"Export check: `GPT2LMHeadModel.from_pretrained` vs the training module with the same F16-rounded "
          f"weights, max |logit difference| = {exp['max_abs_logit_diff']:.2e} (logits up to {exp['logit_scale']:.1f}).\n")
    if man:
        w("## Corpus\n")
        w(f"- `training/corpus-manifest.txt` sha256: `{hashlib.sha256(open(mpath, 'rb').read()).hexdigest()}`"
          f" (recorded at build: `{man['corpus_manifest_sha256']}`)")
        w(f"- Python {man['python']} standard library (`{man['stdlib']}`, .py, test/ included, site-packages excluded) "
          "+ the .py files of the pinned wheels.")
        w(f"- {man['files_in']:,} files read; dropped: " + ", ".join(f"{k} {v}" for k, v in man["filter_counts"].items() if k != "kept")
          + f"; kept {man['filter_counts']['kept']:,}.")
        w("\n| split | files | bytes | tokens |\n|---|---|---|---|")
        for s in ("train", "val", "test"):
            w(f"| {s} | {man['files'][s]:,} | {man['bytes'][s]:,} | {tmeta['tokens'][s]:,} |" if tmeta else
              f"| {s} | {man['files'][s]:,} | {man['bytes'][s]:,} | |")
        w(f"| total | {sum(man['files'].values()):,} | {sum(man['bytes'].values()):,} | |\n")
    if fin and bargs:
        w("## Training\n")
        w(f"- Machine: {machine()}; torch {__import__('torch').__version__}, {bargs['threads']} threads, bf16 autocast"
          f"{', torch.compile' if bargs.get('compile') else ''}.")
        w(f"- Backbone: {fin['step']:,} steps x {bargs['batch']} x {bargs['model']['n_positions']} tokens = "
          f"**{fin['tokens']:,} tokens seen** ({fin['tokens'] / max(1, tmeta['tokens']['train']):.2f} epochs of train) in "
          f"{fin['elapsed'] / 60:.1f} min of training steps ({fin['tokens'] / fin['elapsed']:.0f} tokens/s); "
          f"time budget {bargs['time_budget']:.0f} s (the recipe's default `BACKBONE_SECONDS` is {recipe_budget()} s).")
        w(f"- AdamW (0.9, 0.95), lr {bargs['lr']} warmup {bargs['warmup']} steps, cosine to {bargs['min_lr_frac']}x over the budget, "
          f"weight decay {bargs['wd']}, grad clip 1.0, seed {bargs['seed']}.")
        w(f"- Early-exit loss: (CE_L + s * sum_l<L (l/L) CE_l) / (1 + s * sum l/L), s = {bargs['ee_scale']}, through the shared "
          f"ln_f + tied head, intermediate CE on a random {bargs['ee_frac']:.0%} of positions per step. No layer dropout.")
        if timing:
            w("- Wall time per stage: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in timing.items())
              + f"; total {sum(timing.values()) / 60:.1f} min.")
        for k, r in exr.items():
            if r:
                w(f"- Exit heads `{k}`: {r['steps']} steps, {r['tokens']:,} tokens, {r['elapsed'] / 60:.1f} min, {r['bytes']:,} bytes.")
        if ctl:
            w(f"- Controller: {ctl['steps']} feature batches, {ctl['tokens']:,} tokens, {ctl['elapsed'] / 60:.1f} min.")
        w("")
    if ev:
        bb, ex = ev["backbone_lnf_head"], ev["exit_heads"]
        w(f"## Validation, per layer ({ev['tokens']:,} val tokens, teacher forced, F32)\n")
        kinds = [k for k in ("shared", "separate") if exr.get(k)]
        head = (f"| layer | ln_f+head loss | ln_f+head top-1 | exit loss (shipped `{ex['kind']}`) | exit top-1 (shipped) | "
                + " | ".join(f"{k} top-1 (kind comparison)" for k in kinds) + " |")
        w(head)
        w("|" + "---|" * (head.count("|") - 1))
        for l in range(L):
            row = (f"| {l + 1} | {bb['loss'][l]:.3f} | {pct(bb['acc'][l])} | {ex['loss'][l]:.3f} | {pct(ex['acc'][l])} |")
            for k in kinds:
                row += f" {pct(exr[k]['val_acc'][l])} |" if l < L - 1 else f" {pct(bb['acc'][l])} |"
            w(row)
        w(f"\nThe first four columns are from this evaluation; at layer {L} the exit columns are the model's own "
          f"lm_head(ln_f(h)). The kind-comparison columns come from each kind's own evaluation right after training "
          f"({(exr['shared'] or {}).get('eval_seqs', 32)} windows of {cfg['n_positions']} val tokens, bf16 autocast) and only "
          "serve to compare the kinds. Choice rule: best mean top-1 over layers 1..%d among the kinds that keep this directory within 64 MB: " % (L - 1)
          + "; ".join(f"{c[2]} {pct(c[1])} ({(exr[c[2]] or {}).get('bytes', 0) / 1e6:.2f} MB, fits: {c[0]})" for c in choice["candidates"]) + ".\n")
        fc = ev["first_correct"]
        w("## First-correct layer (val, teacher forced)\n")
        w(f"Heads: `{ex['kind']}` exit heads at 1..{L - 1}, lm_head(ln_f(h)) at {L}. "
          f"**{pct(fc['layer1'])} of tokens are first correct at layer 1** (paper, GPT-2 small fine-tuned: 54.4%); "
          f"**{pct(fc['never'])} are never correct** (paper: 14.5%).\n")
        w("| f | " + " | ".join(["never"] + [str(i) for i in range(1, L + 1)]) + " |")
        w("|" + "---|" * (L + 2))
        w("| share | " + " | ".join(pct(v) for v in fc["hist"]) + " |\n")
        w("## Stop&Exit Controller (val, every (token, layer) pair, layers 1..%d)\n" % L)
        w("Predicted Stop: argmax = stop and p_stop > tau; predicted Exit: argmax = exit and p_exit > tau.\n")
        w("| tau | stop P | stop R | stop F1 | exit P | exit R | exit F1 |\n|---|---|---|---|---|---|---|")
        for t, v in ev["controller"].items():
            s, e = v["stop"], v["exit"]
            w(f"| {t} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {e['precision']:.3f} | {e['recall']:.3f} | {e['f1']:.3f} |")
        w(f"\nArgmax accuracy over the three classes: {pct(ev['controller_argmax_acc'])}.\n")
        w("Teacher-forced simulation of the decision rule (first layer at which stop or exit fires; layer %d always exits):\n" % L)
        w("| (tau_exit, tau_stop) | mean exit layer | stop rate | top-1 of emitted tokens | stops on never-correct tokens |\n|---|---|---|---|---|")
        for k, v in ev["sec_teacher_forced"].items():
            mel = f"{v['mean_exit_layer']:.2f}" if v["mean_exit_layer"] is not None else "-"
            w(f"| ({k}) | {mel} | {pct(v['stop_rate'])} | {pct(v['top1_emitted'])} | {pct(v['stopped_on_never_correct'])} |")
        w("")
    abl = {k: J(os.path.join(R, "ablation", k, "final.json")) for k in ("ee", "noee")}
    if all(abl.values()):
        w("## Early-exit loss: cost and benefit (ablation at equal tokens)\n")
        aa = J(os.path.join(R, "ablation", "ee", "args.json"))
        w(f"Two runs of this recipe with the same seed, data order and schedule, {abl['ee']['tokens']:,} tokens each "
          f"(token budget {aa['token_budget']:.0f}); with the early-exit loss (s = {aa['ee_scale']}) and without (s = 0). "
          "Val loss / top-1 through ln_f + tied head at every layer (%d windows of 512 val tokens spread over the split, bf16 autocast):\n" % aa["eval_seqs"])
        w("| layer | with EE loss | without | with EE top-1 | without top-1 |\n|---|---|---|---|---|")
        for l in range(L):
            w(f"| {l + 1} | {abl['ee']['val_loss'][l]:.3f} | {abl['noee']['val_loss'][l]:.3f} | "
              f"{pct(abl['ee']['val_acc'][l])} | {pct(abl['noee']['val_acc'][l])} |")
        w(f"\nCost at the last layer: {abl['ee']['val_loss'][-1] - abl['noee']['val_loss'][-1]:+.3f} nats "
          f"({100 * (abl['ee']['val_acc'][-1] - abl['noee']['val_acc'][-1]):+.1f} points top-1). Training time: "
          f"{abl['ee']['elapsed'] / 60:.1f} min with vs {abl['noee']['elapsed'] / 60:.1f} min without.\n")
    if ev and ev.get("samples"):
        w("## Sample completions (greedy, 48 new tokens, HF transformers `generate` on this directory, test-split prompts)\n")
        for s in ev["samples"]:
            w(f"`{s['file']}` — prompt ends with:\n\n```python\n{s['prompt_tail'].rstrip()}\n```\n\ncompletion:\n\n```python\n{s['completion']}\n```\n"
              f"\nactual continuation:\n\n```python\n{s['truth'].rstrip()}\n```\n")
    notes = a.notes or os.path.join(R, "notes.md")
    if os.path.exists(notes):
        w(open(notes).read())
    open(os.path.join(a.out, "MODEL_CARD.md"), "w").write("\n".join(o) + "\n")
    print("wrote", os.path.join(a.out, "MODEL_CARD.md"))


if __name__ == "__main__":
    main()
