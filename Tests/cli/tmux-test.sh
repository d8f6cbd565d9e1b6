#!/usr/bin/env bash
# End-to-end test of `exitlens play` in a real terminal (tmux): open a copy of a sample, type
# the start of a function, wait for ghost text, accept it with Tab, save, quit; then check the
# saved file and the captured screen (colours included). Also: too-small terminal, NO_COLOR,
# no tty, unknown TERM, SIGTERM and closing the terminal writing a recovery file that the next
# run offers, a file changed by another program, a seeded burst of keys and resizes, and the
# cursor after wide characters (漢).
# Usage: tmux-test.sh PATH/TO/exitlens MODEL_DIR   (a model with exit heads: ee-shared)
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
model=$(cd "$2" && pwd)
sample=$(cd "$(dirname "$0")/../.." && pwd)/samples/fibonacci.py
work=$(mktemp -d)
sock="exitlens-test-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() { tm kill-server 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap "tm kill-server; echo kept $work" EXIT
# A session that outlives the others: killing the last session stops the tmux server, and a
# new-session racing that shutdown fails with "server exited unexpectedly".
tm new-session -d -s keep "sleep 3600"
passed=0
failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# wait_for PATTERN [SECONDS]: poll the screen (plain text) until it matches.
wait_for() {
  local pattern=$1 limit=${2:-20} i=0
  while [ "$i" -lt $((limit * 10)) ]; do
    if tm capture-pane -p -t play 2>/dev/null | grep -q -- "$pattern"; then return 0; fi
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
# wait_gone PATTERN [SECONDS]: poll until the screen no longer matches.
wait_gone() {
  local pattern=$1 limit=${2:-10} i=0
  while [ "$i" -lt $((limit * 10)) ]; do
    if ! tm capture-pane -p -t play 2>/dev/null | grep -q -- "$pattern"; then return 0; fi
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
# start NAME ENV... -- ARGS...: run the playground in a fresh 120x40 tmux session called `play`.
start() {
  tm kill-session -t play 2>/dev/null
  local envs=""
  while [ "$1" != "--" ]; do envs="$envs $1"; shift; done; shift
  tm new-session -d -s play -x 120 -y 40 \
    "cd '$work' && env $envs '$bin' play --model '$model' $* ; echo \$? > '$work/rc'; sleep 60"
}
wait_rc() {
  local i=0
  while [ ! -s "$work/rc" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  cat "$work/rc" 2>/dev/null
}

# 1. Type, ghost text, Tab, save, quit.
cp "$sample" "$work/fib.py"
rm -f "$work/rc"
start TERM=xterm-256color -- --policy fixed --max-tokens 12 fib.py
if wait_for "ExitLens" 30; then ok; else fail "playground did not start: $(tm capture-pane -p -t play)"; fi
tm send-keys -t play Down Down Down Down Down Down Down Down Down Down Down Down End Enter C-u
# Back to column 0 on a fresh line, then the start of a function.
tm send-keys -t play Home Home 'def fibo'
if wait_for "mean exit layer" 30; then ok; else fail "no finished ghost text: $(tm capture-pane -p -t play | tail -3)"; fi
screen=$(tm capture-pane -p -e -t play)
plain=$(tm capture-pane -p -t play)
# Ghost tokens are drawn in the 256-colour exit-layer ramp (6 layers: 63 39 41 184 208 160,
# blue to red; fixed k=3 gives layer 3's colour).
if printf '%s' "$screen" | grep -q $'\e\\[[0-9;]*38;5;\\(63\\|39\\|41\\|184\\|208\\|160\\)'; then ok; else fail "no ramp colours in: $(printf '%s' "$screen" | grep -n 'def fibo' | cat -v)"; fi
if printf '%s' "$plain" | grep -q "Exit layers"; then ok; else fail "sidebar missing"; fi
ghost_line=$(printf '%s' "$plain" | grep -m1 ' def fibo' | cut -c5-84 | sed 's/ *$//')
tm send-keys -t play Tab
sleep 0.3
tm send-keys -t play C-s
if wait_for "saved .*fib.py" 10; then ok; else fail "no saved message: $(tm capture-pane -p -t play | tail -2)"; fi
tm send-keys -t play C-q
rc=$(wait_rc)
if [ "$rc" = "0" ]; then ok; else fail "quit rc='$rc'"; fi
if head -c "$(wc -c < "$sample")" "$work/fib.py" | cmp -s - "$sample"; then ok; else fail "saved file lost the original text"; fi
line=$(grep -m1 '^def fibo' "$work/fib.py")
if [ -n "$line" ] && [ "${#line}" -gt 8 ]; then ok; else fail "ghost text not accepted into the file: '$line'"; fi
# What was shown as ghost text (its first visible line) is what got saved.
if [ -n "$ghost_line" ] && [ "${line:0:${#ghost_line}}" = "$ghost_line" ]; then ok; else fail "saved '$line' differs from the screen's '$ghost_line'"; fi

# 2. Too small, then back; NO_COLOR draws no colours.
rm -f "$work/rc"
start TERM=xterm-256color NO_COLOR=1 -- --policy fixed --max-tokens 4 fib.py
wait_for "ExitLens" 30
tm resize-window -t play -x 50 -y 10
if wait_for "terminal too small: 50×10" 10; then ok; else fail "too-small message missing: $(tm capture-pane -p -t play)"; fi
tm resize-window -t play -x 120 -y 40
if wait_for "F1Help" 10; then ok; else fail "no relayout after resize"; fi
tm send-keys -t play C-Space
wait_for "mean exit layer\|no suggestion\|stopped" 30
if tm capture-pane -p -e -t play | grep -q $'38;5;'; then fail "NO_COLOR still drew 256 colours"; else ok; fi
# 3. SIGTERM keeps unsaved text; the next run offers it.
tm send-keys -t play End 'zzz_unsaved'
sleep 0.5
# The playground is the child of this session's pane shell (never match by name alone).
pane=$(tm list-panes -t play -F '#{pane_pid}' | head -1)
pid=$(pgrep -P "$pane" -f "exitlens" | head -1)
[ -n "$pid" ] && kill -TERM "$pid"
rc=$(wait_rc)
if [ "$rc" = "143" ]; then ok; else fail "SIGTERM rc='$rc'"; fi
if grep -q zzz_unsaved "$work/.fib.py.exitlens-recovery" 2>/dev/null; then ok; else fail "no recovery file"; fi
rm -f "$work/rc"
start TERM=xterm-256color -- fib.py
if wait_for "Alt-r restores" 30; then ok; else fail "recovery not offered: $(tm capture-pane -p -t play | tail -2)"; fi
tm send-keys -t play M-r
if wait_for "zzz_unsaved" 10; then ok; else fail "recovery not restored"; fi
tm send-keys -t play C-q C-q
rc=$(wait_rc)
if [ "$rc" = "0" ]; then ok; else fail "quit after recovery rc='$rc'"; fi

# 4. No terminal, unknown TERM: one clear line, exit 1, terminal untouched.
out=$("$bin" play --model "$model" "$work/fib.py" </dev/null 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "needs a terminal"; then ok; else fail "no-tty: rc=$rc '$out'"; fi
rm -f "$work/rc"
start TERM=no-such-terminal -- fib.py
rc=$(wait_rc)
if [ "$rc" = "1" ] && wait_for "unknown terminal type" 5; then ok; else fail "unknown TERM: rc='$rc' $(tm capture-pane -p -t play | head -3)"; fi
# A model that fails to load: message, exit 1.
: > "$work/empty.keys"
out=$("$bin" play --model "$work/no-model" --script "$work/empty.keys" 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "cannot load model"; then ok; else fail "bad model: rc=$rc '$out'"; fi

# 5. --script/--dump replays keys without a terminal and writes screen dumps.
demo=$(cd "$(dirname "$0")/../.." && pwd)/samples/play-demo.keys
cp "$sample" "$work/demo.py"
if "$bin" play --model "$model" --script "$demo" --dump "$work/dumps" "$work/demo.py" </dev/null >/dev/null 2>"$work/err" \
   && grep -q "Exit layers" "$work/dumps/1-ghost.txt" && grep -q "Inspector" "$work/dumps/2-inspector.txt" \
   && grep -q "keys" "$work/dumps/4-help.txt" && grep -q "Compare: full depth vs" "$work/dumps/5-compare.txt" \
   && grep -q "^ L 6" "$work/dumps/6-grid.txt" && cmp -s "$sample" "$work/demo.py"; then ok
else fail "--script/--dump: $(cat "$work/err") $(ls "$work/dumps" 2>&1)"; fi

# 6. Closing the terminal (tmux kill-session) with unsaved text: recovery file, exit 129, no trap.
cp "$sample" "$work/hup.py"
tm new-session -d -s hup -x 120 -y 40 \
  "cd '$work' && TERM=xterm-256color '$bin' play --model '$model' hup.py 2> '$work/hup.err'"
for _ in $(seq 100); do tm capture-pane -p -t hup 2>/dev/null | grep -q ExitLens && break; sleep 0.1; done
tm send-keys -t hup End 'zzz_hangup'
sleep 0.5
tm kill-session -t hup
for _ in $(seq 50); do grep -q "stopped by signal" "$work/hup.err" 2>/dev/null && break; sleep 0.1; done
if grep -q "stopped by signal 1;.*unsaved text written" "$work/hup.err" && ! grep -qi "fatal\|backtrac\|illegal" "$work/hup.err"; then ok
else fail "kill-session: $(head -c 400 "$work/hup.err")"; fi
if grep -q zzz_hangup "$work/.hup.py.exitlens-recovery" 2>/dev/null; then ok; else fail "kill-session wrote no recovery file"; fi

# 7. Another program changes the file: with unsaved edits Ctrl-S asks (c cancels, o overwrites);
#    with none, the editor reloads it.
printf 'a = 1\n' > "$work/ext.py"
rm -f "$work/rc"
start TERM=xterm-256color -- --debounce 5000 ext.py
wait_for "ExitLens" 30
tm send-keys -t play End 'zz'
sleep 0.3
printf 'b = 2\n' > "$work/ext.py"
tm send-keys -t play C-s
if wait_for "changed on disk since it was opened" 10; then ok; else fail "no overwrite question: $(tm capture-pane -p -t play | tail -2)"; fi
tm send-keys -t play c
sleep 0.3
if [ "$(cat "$work/ext.py")" = "b = 2" ]; then ok; else fail "cancel still wrote the file: $(cat "$work/ext.py")"; fi
tm send-keys -t play C-s
wait_for "changed on disk since it was opened" 10
tm send-keys -t play o
if wait_for "saved .*ext.py" 10 && [ "$(cat "$work/ext.py")" = "a = 1zz" ]; then ok; else fail "overwrite: '$(cat "$work/ext.py")'"; fi
printf 'c = 3\n' > "$work/ext.py"
if wait_for "c = 3" 10 && wait_for "changed on disk: reloaded" 5; then ok; else fail "clean buffer not reloaded: $(tm capture-pane -p -t play | head -3)"; fi
tm send-keys -t play C-q
rc=$(wait_rc)
if [ "$rc" = "0" ]; then ok; else fail "quit after reload rc='$rc'"; fi

# 8. Python-aware Enter, the final newline on save, F2 re-running at once, the session log.
printf 'x = 1' > "$work/py.py"
rm -f "$work/rc" "$work/play.jsonl"
start TERM=xterm-256color -- --policy fixed --max-tokens 6 --debounce 5000 --log play.jsonl py.py
wait_for "ExitLens" 30
tm send-keys -t play End Enter 'def f(x):' Enter 'return x' Enter Enter 'y = 2'
sleep 0.3
tm send-keys -t play C-s
wait_for "saved .*py.py" 10
if [ "$(cat "$work/py.py")" = "$(printf 'x = 1\ndef f(x):\n    return x\n\n    y = 2')" ] && [ "$(tail -c 1 "$work/py.py" | od -An -c | tr -d ' ')" = '\n' ]; then ok
else fail "indentation / final newline: $(od -c "$work/py.py" | head -5)"; fi
tm send-keys -t play C-Space
if wait_for "mean exit layer" 30; then ok; else fail "no suggestion on Ctrl-Space"; fi
tm send-keys -t play F2
# The same place is completed again under the next policy without a keystroke in the text.
if wait_for "Session (2 completions)" 30 && wait_for "speculative" 5; then ok; else fail "F2 did not re-run: $(tm capture-pane -p -t play | tail -3)"; fi
tm send-keys -t play Tab C-s
wait_for "saved .*py.py" 10
tm send-keys -t play C-q
wait_rc >/dev/null
if [ "$(wc -l < "$work/play.jsonl")" -ge 2 ] && grep -q '"acceptedChars":[1-9]' "$work/play.jsonl"; then ok
else fail "session log: $(head -c 600 "$work/play.jsonl" 2>&1)"; fi
if "$bin" report "$work/play.jsonl" | grep -q "speculative"; then ok; else fail "report: $("$bin" report "$work/play.jsonl" 2>&1)"; fi

# 9. 80x24: the sidebar folds into one line and code keeps the width; --demo asks at once.
cp "$sample" "$work/small.py"
rm -f "$work/rc"
start TERM=xterm-256color -- --policy fixed --max-tokens 6 --demo --no-log small.py
tm resize-window -t play -x 80 -y 24
if wait_for "Session (1 completion)\|│ fixed k=[0-9]* · mean exit" 30; then ok; else fail "--demo asked for no suggestion: $(tm capture-pane -p -t play | tail -3)"; fi
if wait_for "^│ fixed k=" 10 && tm capture-pane -p -t play | grep -q "^ 12         result.append("; then ok
else fail "80x24 layout: $(tm capture-pane -p -t play)"; fi
tm send-keys -t play C-q C-q
wait_rc >/dev/null

# 10. F8 compares the ghost with full depth (one more completion, none for the ghost) and Esc
#     closes it leaving the ghost; F9 opens the layer × token grid, arrows scroll it, Esc closes it.
cp "$sample" "$work/views.py"
rm -f "$work/rc"
start TERM=xterm-256color -- --policy fixed --max-tokens 12 --demo --no-log views.py
if wait_for "mean exit layer" 30; then ok; else fail "views: no ghost: $(tm capture-pane -p -t play | tail -3)"; fi
tm send-keys -t play F8
if wait_for "Compare: full depth vs fixed" 10 && wait_for "first difference at token\|identical: the same" 30; then ok
else fail "F8 comparison: $(tm capture-pane -p -t play | head -12)"; fi
if tm capture-pane -p -t play | grep -q "Session (1 completion)"; then fail "the comparison asked for the ghost again"; fi
tm send-keys -t play Escape
if wait_gone "Compare: full depth" 5 && tm capture-pane -p -t play | grep -q "mean exit layer"; then ok
else fail "Esc did not close the comparison (or dropped the ghost): $(tm capture-pane -p -t play | tail -4)"; fi
tm send-keys -t play F9
if wait_for "Layer × token grid" 10 && wait_for "teacher-forced full-depth pass" 30 && wait_for "^ L 6" 5; then ok
else fail "F9 grid: $(tm capture-pane -p -t play | head -12)"; fi
# At 60 columns six token columns fit: Right scrolls to the others.
tm resize-window -t play -x 60 -y 16
if wait_for "tokens 1–6/[0-9]* ←→" 10; then ok; else fail "grid scroll marker: $(tm capture-pane -p -t play | head -4)"; fi
tm send-keys -t play Right
if wait_for "tokens 2–7/" 5; then ok; else fail "Right did not scroll the grid: $(tm capture-pane -p -t play | head -4)"; fi
tm send-keys -t play Escape
if wait_gone "Layer × token grid" 5; then ok; else fail "Esc did not close the grid"; fi
tm send-keys -t play Tab C-q C-q
rc=$(wait_rc)
if [ "$rc" = "0" ]; then ok; else fail "quit after the views rc='$rc'"; fi

# 11. A seeded burst of keys and resizes: saved file and screen equal the in-memory replay
#    (make burst-test SEEDS="1 2 … 10" runs more by hand).
for seed in ${BURST_SEEDS:-7}; do
  if python3 "$(dirname "$0")/key-burst.py" "$bin" "$model" "$seed" 2029 50; then ok; else fail "key burst seed $seed"; fi
done

# 11. Wide characters: 漢 takes two cells, so after "漢字" the terminal cursor is 4 cells in
#     (it was 2, left of where typed text then appeared); typed text and ghost text follow them.
printf '漢字 = 1\n' > "$work/wide.py"
rm -f "$work/rc"
start TERM=xterm-256color -- --policy fixed --max-tokens 4 --no-log wide.py
if wait_for "ExitLens" 30; then ok; else fail "playground did not start on wide.py"; fi
tm send-keys -t play Right Right
sleep 0.5
cursor=$(tm display-message -p -t play '#{cursor_x},#{cursor_y}')
if [ "$cursor" = "8,1" ]; then ok; else fail "cursor after 漢字 at $cursor, expected 8,1 (gutter 4 + two wide characters)"; fi
tm send-keys -t play End x
sleep 0.5
cursor=$(tm display-message -p -t play '#{cursor_x},#{cursor_y}')
if [ "$cursor" = "13,1" ] && tm capture-pane -p -t play | grep -q "^  1 漢字 = 1x"; then ok
else fail "after End x: cursor $cursor (expected 13,1), row: $(tm capture-pane -p -t play | sed -n 2p)"; fi
tm send-keys -t play C-q C-q
wait_rc >/dev/null

echo "tmux: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
