#!/usr/bin/env python3
"""Regenerates the Tokenizer test fixtures in Tests/TokenizerTests/Resources/.

Run by hand, from the repository root, never in CI (it downloads from PyPI):

    python3 training/tokenizer_fixtures.py

Needs Python >= 3.10 with pip, tiktoken, tokenizers and regex installed
(`pip install tiktoken tokenizers regex`). Pass `--whisper-sdist FILE.tar.gz`
to use an already downloaded openai-whisper source distribution.

What it writes (everything is deterministic for a given package version):

  gpt2.tiktoken              GPT-2's real BPE ranks, taken from the openai-whisper
                             sdist on PyPI (whisper/assets/gpt2.tiktoken, MIT).
  LICENSE-whisper-gpt2.txt   Where that file came from, and the sdist's MIT licence.
  gpt2_tiktoken_cases.json   >= 1,000 seeded snippets (base64 bytes) with the ids
                             tiktoken's GPT-2 encoding gives them.
  hf_tiny/tokenizer.json     A ~1,000-token ByteLevel BPE trained here with HF
                             `tokenizers` on synthetic text this script makes.
  hf_tiny/vocab.json, hf_tiny/merges.txt
                             The same model in GPT-2's original two-file format.
  hf_tiny_cases.json         Snippets with the ids HF `tokenizers` gives them.

Invalid UTF-8 (the "bytes" cases): tiktoken has no public byte-level encoder
(its private `_encode_bytes` re-encodes everything after the first bad byte as
a single piece), so the reference is derived explicitly: decode the bytes with
`surrogateescape` (each invalid byte becomes a lone surrogate, category Cs, so
GPT-2's regex sees it as punctuation-like), split with GPT-2's regex using the
`regex` module, and BPE each piece's raw bytes with tiktoken's
`_encode_single_piece`. The script asserts that this reference equals
`encode_ordinary` on every valid snippet, so it is the same algorithm.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import regex
import tiktoken
import tiktoken.load
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

# GPT-2's pattern, as in openai/gpt-2 src/encoder.py.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT2_REGEX = regex.compile(GPT2_PATTERN)
EOT = "<|endoftext|>"
SEED = 20240611

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "TokenizerTests" / "Resources"

# ---------------------------------------------------------------------------
# GPT-2 ranks from the openai-whisper sdist


def fetch_whisper_sdist(work: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "openai-whisper", "--no-deps",
         "--no-binary", ":all:", "-d", str(work)],
        check=True,
    )
    found = sorted(work.glob("openai_whisper-*.tar.gz")) + sorted(work.glob("openai-whisper-*.tar.gz"))
    if not found:
        sys.exit(f"no openai-whisper sdist in {work}")
    return found[0]


def extract_ranks(sdist: Path, out: Path) -> Path:
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[-1]: m for m in archive.getmembers() if m.isfile()}
        ranks = archive.extractfile(members["whisper/assets/gpt2.tiktoken"]).read()
        licence = archive.extractfile(members["LICENSE"]).read().decode("utf-8")
    target = out / "gpt2.tiktoken"
    target.write_bytes(ranks)
    note = (
        "gpt2.tiktoken in this folder is GPT-2's byte-pair-encoding ranks as shipped by\n"
        f"OpenAI Whisper: file whisper/assets/gpt2.tiktoken of the PyPI source distribution\n"
        f"{sdist.name} (package openai-whisper), sha256 {hashlib.sha256(ranks).hexdigest()}.\n"
        "It was copied unchanged by training/tokenizer_fixtures.py and is used only by tests.\n"
        "That distribution carries the following licence:\n\n" + licence
    )
    (out / "LICENSE-whisper-gpt2.txt").write_text(note, encoding="utf-8")
    return target


# ---------------------------------------------------------------------------
# Synthetic snippets

WORDS = (
    "the of and to in is it that for you was with on as have be at this from by hot word but what "
    "some we can out other were all there when up use your how said an each she which do their time "
    "if will way about many then them write would like so these her long make thing see him two has "
    "look more day could go come did number sound no most people my over know water than call first "
    "who may down side been now find any new work part take get place made live where after back "
    "little only round man year came show every good me give our under name very through just form "
    "sentence great think say help low line differ turn cause much mean before move right boy old "
    "too same tell does set three want air well also play small end put home read hand port large "
    "spell add even land here must big high such follow act why ask men change went light kind off"
).split()
IDENT_PARTS = ("user count index value buffer token model layer cache result error item node "
               "parse load config path size offset state graph stream key data").split()


def ident(rng: random.Random, style: str = "snake") -> str:
    parts = [rng.choice(IDENT_PARTS) for _ in range(rng.randint(1, 3))]
    if style == "camel":
        return parts[0] + "".join(p.capitalize() for p in parts[1:])
    if style == "pascal":
        return "".join(p.capitalize() for p in parts)
    if style == "upper":
        return "_".join(parts).upper()
    return "_".join(parts)


def sentence(rng: random.Random, low: int = 3, high: int = 14) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", "!", "?", ",", ";", "...", ""])


def number(rng: random.Random) -> str:
    return rng.choice([
        str(rng.randint(0, 9)), str(rng.randint(10, 99999)), f"{rng.random() * 1000:.3f}",
        hex(rng.randint(0, 2**32)), f"{rng.randint(1, 9)}e-{rng.randint(1, 20)}", str(rng.randint(0, 10**18)),
    ])


def quoted(rng: random.Random) -> str:
    return sentence(rng, 1, 5).replace('"', "'")


def python_snippet(rng: random.Random) -> str:
    f, a, b, c = ident(rng), ident(rng), ident(rng), ident(rng, "pascal")
    templates = [
        f'def {f}({a}, {b}=None):\n    """{quoted(rng)}"""\n    if {a} is None:\n        return {number(rng)}\n'
        f'    for i in range(len({a})):\n        {b} += {a}[i] * {number(rng)}\n    return {b}\n',
        f'class {c}:\n    def __init__(self, {a}: int = {number(rng)}) -> None:\n        self.{a} = {a}\n\n'
        f'    def __repr__(self):\n        return f"{c}({{self.{a}!r}})"\n',
        f'{a} = [x ** 2 for x in {b} if x % {rng.randint(2, 9)} == 0]\n# {quoted(rng)}\nprint({a}[:{rng.randint(1, 20)}])\n',
        f'import os\nfrom pathlib import Path\n\n@lru_cache(maxsize={rng.randint(1, 512)})\nasync def {f}(path: Path) -> dict[str, int]:\n'
        f'    with open(path, "rb") as fh:\n        return {{"{a}": len(await fh.read())}}\n',
        f'try:\n    {a} = {{"{b}": {number(rng)}, \'{c}\': None, "ok": True}}\nexcept KeyError as e:\n    raise ValueError("{quoted(rng)}") from e\n',
    ]
    return rng.choice(templates)


def swift_snippet(rng: random.Random) -> str:
    f, a, c = ident(rng, "camel"), ident(rng, "camel"), ident(rng, "pascal")
    templates = [
        f"public struct {c}: Sendable {{\n    let {a}: [Int]\n\n    func {f}(_ x: Int) -> Int? {{\n"
        f"        guard x < {a}.count else {{ return nil }}\n        return {a}[x] &* {number(rng)}\n    }}\n}}\n",
        f"let {a} = try await {f}(at: URL(fileURLWithPath: \"/tmp/{a}.json\"))\nprint(\"\\({a}.count) items\")\n",
        f"for (i, {a}) in {f}.enumerated() where i % 2 == 0 {{\n\t#expect({a} == {number(rng)})\n}}\n",
        f"enum {c}Error: Error {{ case bad(String), missing }}\n// MARK: - {quoted(rng)}\n",
    ]
    return rng.choice(templates)


def c_snippet(rng: random.Random) -> str:
    f, a, b = ident(rng), ident(rng), ident(rng)
    templates = [
        f"#include <stdio.h>\n\nstatic int {f}(const char *{a}, size_t n) {{\n    int {b} = 0;\n"
        f"    for (size_t i = 0; i < n; ++i) {{\n        {b} += {a}[i] ^ 0x{rng.randint(0, 255):02x};\n    }}\n    return {b};\n}}\n",
        f"typedef struct {{ float {a}[{rng.randint(2, 64)}]; int {b}; }} {ident(rng, 'pascal')}_t;\n/* {quoted(rng)} */\n",
        f"int main(int argc, char **argv) {{\n    printf(\"%d: %s\\n\", argc, argv[0]);\n    return {f}(argv[1], {number(rng)}) != 0;\n}}\n",
    ]
    return rng.choice(templates)


def js_snippet(rng: random.Random) -> str:
    f, a, b = ident(rng, "camel"), ident(rng, "camel"), ident(rng, "camel")
    templates = [
        f"export async function {f}({a}) {{\n  const {b} = await fetch(`/api/${{{a}}}`);\n  if (!{b}.ok) throw new Error('{quoted(rng)}');\n  return {b}.json();\n}}\n",
        f"const {a} = [{number(rng)}, {number(rng)}].map((x) => x * 2).filter(Boolean);\nconsole.log({a} === undefined ? null : {a});\n",
        f"document.querySelector('#{a}').addEventListener('click', () => {{\n  {b}++; // {quoted(rng)}\n}});\n",
    ]
    return rng.choice(templates)


def rust_snippet(rng: random.Random) -> str:
    f, a, c = ident(rng), ident(rng), ident(rng, "pascal")
    templates = [
        f"pub fn {f}<'a>({a}: &'a [u8]) -> Result<Vec<u32>, {c}Error> {{\n    let mut out = Vec::with_capacity({a}.len());\n"
        f"    for &b in {a}.iter() {{\n        out.push(u32::from(b) << {rng.randint(1, 24)});\n    }}\n    Ok(out)\n}}\n",
        f"#[derive(Debug, Clone, PartialEq)]\nstruct {c} {{ {a}: Option<String>, n: usize }}\n",
        f"impl {c} {{\n    fn new() -> Self {{ Self {{ {a}: None, n: {number(rng)} }} }}\n}}\n",
        f"match {a} {{\n    Some(x) if x > {rng.randint(0, 99)} => println!(\"{{x:?}}\"),\n    _ => unreachable!(),\n}}\n",
    ]
    return rng.choice(templates)


def go_snippet(rng: random.Random) -> str:
    f, a, c = ident(rng, "camel"), ident(rng, "camel"), ident(rng, "pascal")
    templates = [
        f"package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc {f}({a} []int) (int, error) {{\n\tif len({a}) == 0 {{\n"
        f"\t\treturn 0, fmt.Errorf(\"{quoted(rng)}\")\n\t}}\n\treturn {a}[0], nil\n}}\n",
        f"type {c} struct {{\n\t{c}ID int    `json:\"{a}_id\"`\n\tName  string `json:\"name,omitempty\"`\n}}\n",
        f"go func() {{\n\tdefer wg.Done()\n\tch <- {f}({number(rng)})\n}}()\n",
    ]
    return rng.choice(templates)


def shell_snippet(rng: random.Random) -> str:
    a = ident(rng)
    templates = [
        f"#!/usr/bin/env bash\nset -euo pipefail\n{a.upper()}=\"${{1:-{a}}}\"\nfor f in ./*.txt; do\n  wc -l \"$f\" | awk '{{print $1}}'\ndone\n",
        f"if [[ -z \"${{{a.upper()}:-}}\" ]]; then echo 'missing {a}' >&2; exit {rng.randint(1, 9)}; fi\n",
        f"grep -rn \"{a}\" src/ | sort | uniq -c | head -n {rng.randint(1, 50)} > /tmp/{a}.log 2>&1\n",
    ]
    return rng.choice(templates)


def json_snippet(rng: random.Random) -> str:
    value = {
        ident(rng): number(rng),
        ident(rng, "camel"): [rng.randint(-100, 100) for _ in range(rng.randint(0, 5))],
        "nested": {"ok": rng.random() < 0.5, "name": quoted(rng), "none": None},
    }
    return json.dumps(value, indent=rng.choice([None, 2, 4]), ensure_ascii=rng.random() < 0.5)


def html_snippet(rng: random.Random) -> str:
    a = ident(rng, "camel")
    templates = [
        f"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{quoted(rng)}</title></head>\n"
        f"<body>\n  <div class=\"{a}\" id='{a}-{rng.randint(1, 99)}'>{sentence(rng)}</div>\n</body>\n</html>\n",
        "<ul>\n" + "".join(f'  <li><a href="/{ident(rng)}?id={rng.randint(1, 999)}&amp;x=1">{rng.choice(WORDS)}</a></li>\n'
                            for _ in range(rng.randint(1, 4))) + "</ul>\n",
        f"<p>{sentence(rng)} &nbsp;&mdash; <b>{rng.choice(WORDS)}</b><br/></p><!-- {quoted(rng)} -->\n",
    ]
    return rng.choice(templates)


CODE = {
    "python": python_snippet, "swift": swift_snippet, "c": c_snippet, "js": js_snippet,
    "rust": rust_snippet, "go": go_snippet, "shell": shell_snippet, "json": json_snippet, "html": html_snippet,
}


def code_variant(rng: random.Random, text: str) -> str:
    """Editor-like variations: tabs, CRLF, trailing spaces, truncation at the cursor."""
    roll = rng.random()
    if roll < 0.15:
        text = text.replace("    ", "\t")
    elif roll < 0.3:
        text = text.replace("\n", "\r\n")
    elif roll < 0.4:
        text = "\n".join(line + " " * rng.randint(0, 3) for line in text.split("\n"))
    if rng.random() < 0.35:
        text = text[: rng.randint(1, len(text))]
    return text


CONTRACTIONS = [
    "it's", "they're", "we'll", "I've", "I'm", "he'd", "don't", "can't", "IT'S", "We'LL", "THEY'RE", "John's",
    "JOHN'S", "'s", "''s", "rock 'n' roll", "it\u2019s", "y'all", "o'clock", " 's", "'re'", "'ve'll", "'", "'\n",
    "'t", "'m", "'d'", "'ll", "'LL", "'Re", "''", "'''", "'  s", "ma'am", "'twas", "rock'n'roll",
]


def english_snippet(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        words = sentence(rng).split(" ")
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randint(0, len(words)), rng.choice(CONTRACTIONS))
        parts.append(" ".join(words))
    return rng.choice([" ", "\n", "  ", "\n\n"]).join(parts)


PHRASES = [
    "Привет, мир!", "Съешь же ещё этих мягких французских булок", "你好，世界。", "我们今天去图书馆吧！",
    "こんにちは世界", "東京スカイツリー", "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "Γειά σου Κόσμε", "नमस्ते दुनिया",
    "안녕하세요 세계", "café naïve Zürich straße", "ﬁnancial ﬂow", "ＡＢＣ　１２３", "שלום עולם", "สวัสดีชาวโลก",
    "Ελληνικά και ελληνικά", "İstanbul’da ıslık çaldı", "Ǆemal ǅ ǆ", "Ωμέγα µ Å", "ā ē ī ō ū",
]
SCRIPTS = [
    (0x4E00, 0x9FA5), (0x3041, 0x3096), (0x30A1, 0x30FA), (0xAC00, 0xD7A3), (0x0430, 0x044F), (0x0410, 0x042F),
    (0x0627, 0x064A), (0x03B1, 0x03C9), (0x0905, 0x0939), (0x0E01, 0x0E2E), (0x05D0, 0x05EA),
]


def unicode_snippet(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.3:
            pieces.append(rng.choice(PHRASES))
        elif roll < 0.6:
            low, high = rng.choice(SCRIPTS)
            pieces.append("".join(chr(rng.randint(low, high)) for _ in range(rng.randint(1, 8))))
        elif roll < 0.8:  # decomposed letters with combining marks
            pieces.append("".join(rng.choice("aeiouncAEZ") + "".join(chr(rng.randint(0x0300, 0x036F))
                                  for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 5))))
        elif roll < 0.9:  # Arabic with harakat, Devanagari with vowel signs
            pieces.append("".join(chr(rng.randint(0x0627, 0x064A)) + chr(rng.randint(0x064B, 0x0652))
                                  for _ in range(rng.randint(1, 5))))
        else:
            pieces.append("".join(chr(rng.randint(0x0915, 0x0939)) + chr(rng.randint(0x093E, 0x094C))
                                  for _ in range(rng.randint(1, 5))))
    return rng.choice([" ", "", "\n", ", "]).join(pieces)


EMOJI = [
    "😀", "😂", "🥲", "👍", "👍🏽", "❤️", "🔥", "🚀", "🎉", "🙏🏿", "👨‍👩‍👧‍👦", "👩‍💻", "🏳️‍🌈", "🧑🏽‍🚀", "👁️‍🗨️",
    "🇺🇸", "🇯🇵", "🇩🇪", "🇧🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", "☺", "✔️", "™", "©", "🤖", "🫠", "🐍", "🦀", "⚡",
]


def emoji_snippet(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.5:
            out.append(rng.choice(EMOJI) * rng.randint(1, 3))
        elif roll < 0.8:
            out.append(rng.choice(WORDS))
        else:
            out.append(rng.choice(["// TODO", "#", "print(", "\"", "!", ":", "—"]))
    return "".join(x + rng.choice(["", " ", " ", "\n"]) for x in out)


SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", "    ", "\t\t", " \n", "\u00a0", "\u3000", "\u2003",
          "\u2028", "\u0085", "\x0b", "\x0c", "\u200b", "\x1c", "\x1f", "\u180e", "\u2009", "\ufeff"]


def whitespace_snippet(rng: random.Random) -> str:
    out = rng.choice(["", " ", "\n", "\t", "   "])
    for _ in range(rng.randint(1, 8)):
        out += "".join(rng.choice(SPACES) for _ in range(rng.randint(1, 4)))
        out += rng.choice(WORDS + ["x", "1", "!", "(", "'s", "é", "中"])
    return out + "".join(rng.choice(SPACES[:8]) for _ in range(rng.randint(0, 3)))


def digits_snippet(rng: random.Random) -> str:
    pool = ["1234567890", "3.14159", "0xDEADBEEF", "1e-10", "2024-06-01", "v1.2.3", "١٢٣", "²³", "Ⅻ", "１２３",
            "½", "$1,000,000.00", "100%", "۱۲", "๑๒๓", "①②", "x86_64", "int32", "0b1011", "1_000_000", "9" * 25]
    out = []
    for _ in range(rng.randint(1, 6)):
        out.append(rng.choice(pool) if rng.random() < 0.5 else number(rng))
    return rng.choice([" ", "", ",", "\n", " + "]).join(out)


def special_snippet(rng: random.Random) -> str:
    forms = [EOT, EOT, EOT + EOT, " " + EOT + " ", "\n" + EOT + "\n", "<|endoftext|", "<|endoftext|>>", "<|end", "|>"]
    out = []
    for _ in range(rng.randint(1, 4)):
        out.append(sentence(rng) if rng.random() < 0.6 else python_snippet(rng)[:40])
        out.append(rng.choice(forms))
    if rng.random() < 0.5:
        out.pop()
    return "".join(out)


POOL = (list("abcXYZ019 \t\n'\"!?.,;:-_=+*/\\()[]{}<>@#$%^&`~|") + ["é", "ß", "中", "あ", "д", "ع", "α", "\u0301",
        "\u00a0", "\u3000", "²", "٣", "Ⅻ", "😀", "👍🏽", "\u200d", "\ufe0f", "🇫", "🇷", "\r\n", "'s", "'ll", "\x00", "\x7f"])


def random_mix_snippet(rng: random.Random) -> str:
    return "".join(rng.choice(POOL) for _ in range(rng.randint(1, 40)))


def long_snippet(rng: random.Random) -> str:
    n = rng.randint(65, 300)
    return rng.choice([
        " " * n, "a" * n, "=" * n, "ab" * (n // 2), "\n" * n, "🙂" * (n // 8), "7" * n, "ab " * (n // 3),
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n)),
        "x" + " " * n + "y", "\t" * (n // 2) + "return",
        base64.b64encode(rng.randbytes(n)).decode(), "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n // 3)),
    ])


BAD = [b"\xff", b"\xfe", b"\xc0\xaf", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xbf\xbf",
       b"\xf0\x9f\x98", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xf5", b" \xff", b"'\xff", b"\xff's"]


def invalid_snippet(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.25:
        return rng.randbytes(rng.randint(1, 64))
    if roll < 0.4:
        return bytes(rng.randint(0x80, 0xFF) for _ in range(rng.randint(1, 24)))
    if roll < 0.75:
        data = bytearray(rng.choice([english_snippet, unicode_snippet, emoji_snippet, python_snippet])(rng).encode())
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(data))
            data[at:at] = rng.choice(BAD)
        return bytes(data)
    text = rng.choice([unicode_snippet, emoji_snippet])(rng).encode()
    cut = rng.randint(1, len(text))
    return text[:cut] + rng.choice([b"", text[:cut]])


GENERATORS = [(name, 60, fn) for name, fn in CODE.items()] + [
    ("english", 110, english_snippet), ("unicode", 120, unicode_snippet), ("emoji", 80, emoji_snippet),
    ("whitespace", 90, whitespace_snippet), ("digits", 60, digits_snippet), ("special", 40, special_snippet),
    ("mixed", 110, random_mix_snippet), ("long", 30, long_snippet),
]


def make_text_snippets(rng: random.Random, scale: float = 1.0) -> list[tuple[str, str]]:
    out = []
    for name, count, fn in GENERATORS:
        for _ in range(max(1, int(count * scale))):
            text = fn(rng)
            if name in CODE:
                text = code_variant(rng, text)
            out.append((name, text))
    return out


# ---------------------------------------------------------------------------
# References


def reference_bytes(enc: tiktoken.Encoding, data: bytes) -> list[int]:
    """GPT-2 BPE of arbitrary bytes; see the module docstring."""
    text = data.decode("utf-8", errors="surrogateescape")
    ids: list[int] = []
    for piece in GPT2_REGEX.findall(text):
        ids += enc._encode_single_piece(piece.encode("utf-8", errors="surrogateescape"))
    return ids


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write_cases(path: Path, header: dict, cases: list[dict]) -> None:
    # One case per line keeps the file compact yet diffable.
    lines = ",\n".join(json.dumps(c, separators=(",", ":"), ensure_ascii=True) for c in cases)
    head = json.dumps(header, ensure_ascii=True)[:-1]
    path.write_text(f'{head}, "cases": [\n{lines}\n]}}\n', encoding="utf-8")


def tiktoken_cases(ranks_path: Path, out: Path) -> int:
    os.environ["TIKTOKEN_CACHE_DIR"] = ""  # read the local file, never a stale cache
    enc = tiktoken.Encoding(
        name="gpt2_fixture",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=tiktoken.load.load_tiktoken_bpe(str(ranks_path)),
        special_tokens={EOT: 50256},
    )
    assert enc.encode("Hello world") == [15496, 995]
    rng = random.Random(SEED)
    cases = []
    for kind, text in make_text_snippets(rng):
        ids = enc.encode(text, allowed_special={EOT})
        ordinary = enc.encode_ordinary(text)
        derived = reference_bytes(enc, text.encode())
        assert derived == ordinary, f"byte reference disagrees with tiktoken on {text!r}"
        case = {"kind": kind, "path": "text", "b64": b64(text.encode()), "ids": ids}
        if ordinary != ids:
            case["ordinary"] = ordinary  # what encode(bytes:) must give (no special tokens)
        cases.append(case)
    for _ in range(160):
        data = invalid_snippet(rng)
        try:
            data.decode("utf-8")
            kind = "bytes-valid"
        except UnicodeDecodeError:
            kind = "bytes-invalid"
        cases.append({"kind": kind, "path": "bytes", "b64": b64(data), "ids": reference_bytes(enc, data)})
    header = {
        "description": "GPT-2 ids from tiktoken for seeded snippets; made by training/tokenizer_fixtures.py",
        "tiktoken": tiktoken.__version__, "pattern": GPT2_PATTERN, "seed": SEED,
    }
    write_cases(out / "gpt2_tiktoken_cases.json", header, cases)
    return len(cases)


def hf_fixtures(out: Path) -> int:
    rng = random.Random(SEED + 1)
    corpus = [text for _, text in make_text_snippets(rng, scale=2.0)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=1000, special_tokens=[EOT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer)
    folder = out / "hf_tiny"
    folder.mkdir(exist_ok=True)
    tok.save(str(folder / "tokenizer.json"), pretty=False)
    tok.model.save(str(folder))  # vocab.json + merges.txt

    rng = random.Random(SEED + 2)
    snippets = make_text_snippets(rng, scale=0.25)
    cases = [{"kind": kind, "path": "text", "b64": b64(text.encode()), "ids": tok.encode(text).ids}
             for kind, text in snippets]
    header = {
        "description": "ids from HF tokenizers for hf_tiny/tokenizer.json; made by training/tokenizer_fixtures.py",
        "tokenizers": __import__("tokenizers").__version__, "seed": SEED + 2,
    }
    write_cases(out / "hf_tiny_cases.json", header, cases)
    return len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--whisper-sdist", type=Path, help="openai-whisper .tar.gz to use instead of downloading")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        sdist = args.whisper_sdist or fetch_whisper_sdist(Path(work))
        ranks = extract_ranks(sdist, args.out)
    print(f"tiktoken cases: {tiktoken_cases(ranks, args.out)}")
    print(f"HF cases: {hf_fixtures(args.out)}")
    for path in sorted(args.out.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:>9}  {path.relative_to(args.out)}")


if __name__ == "__main__":
    main()
