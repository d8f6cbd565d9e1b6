#!/usr/bin/env python3
"""Replays a seeded burst of keys and resizes into `exitlens play` running in tmux, saves, and
checks that the saved file equals the same keys replayed through the in-memory session
(`exitlens play --script`), and that the screen shows the file (issue #13: a 2,029-key burst with
50 resizes froze the editor and lost every edit).

Usage: key-burst.py EXITLENS MODEL_DIR SEED [KEYS] [RESIZES]     (exit 0 when it passes)
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

exe, model, seed = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), int(sys.argv[3])
key_count = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
resize_count = int(sys.argv[5]) if len(sys.argv) > 5 else 50
rng = random.Random(seed)
sock = f"exitlens-burst-{os.getpid()}"
work = tempfile.mkdtemp(prefix="exitlens-burst-")


def tm(*args, check=True):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", *args], check=check,
                          capture_output=True, text=True).stdout


# (tmux key name, --script key name). Literal text is sent with send-keys -l.
SPECIAL = [("Enter", "Enter"), ("BSpace", "Backspace"), ("Up", "Up"), ("Down", "Down"), ("Left", "Left"),
           ("Right", "Right"), ("Home", "Home"), ("End", "End"), ("Tab", "Tab"), ("C-z", "Ctrl-Z"),
           ("C-y", "Ctrl-Y"), ("DC", "Delete"), ("PPage", "PgUp"), ("NPage", "PgDn"), ("F2", "F2"),
           ("Escape", "Esc"), ("C-Space", "Ctrl-Space"), ("C-Right", "Ctrl-Right")]
TEXT = [chr(c) for c in range(32, 127)] + ["é", "漢", "ü"]
MOVES = ["Up", "Down", "Left", "Right", "Home", "End"]


def burst():
    """A list of events: ('text', s), ('key', tmux, script), ('resize', w, h)."""
    events, resizes_at = [], set(rng.sample(range(1, key_count), resize_count))
    i = 0
    while i < key_count:
        if i in resizes_at:
            events.append(("resize", rng.choice([10, 15, 40, 60, 80, 120, 200, 300, rng.randint(10, 300)]),
                           rng.choice([3, 5, 10, 16, 24, 40, 100, rng.randint(3, 100)])))
        if rng.random() < 0.78:
            events.append(("text", rng.choice(TEXT)))
        else:
            tmux_name, script_name = rng.choice(SPECIAL)
            events.append(("key", tmux_name, script_name))
            if script_name == "Esc":
                # The editor tells a lone Esc from Alt-x by a pause measured when it reads: on
                # a loaded machine Esc and the next character can be read together (Alt-x). A key
                # that is itself a sequence stays Esc + that key however they arrive.
                safe = rng.choice(MOVES + ["PPage", "NPage", "DC"])
                events.append(("key", safe, {"PPage": "PgUp", "NPage": "PgDn", "DC": "Delete"}.get(safe, safe)))
            if script_name in ("Ctrl-Space", "F2"):
                # A suggestion may arrive any time after Ctrl-Space (or F2, which re-runs a pending
                # one at once); a move dismisses it before Tab could accept it (timing the
                # in-memory replay cannot know).
                move = rng.choice(MOVES)
                events.append(("key", move, move))
        i += 1
    return events


def script_for(events):
    lines = ["size 120x40"]
    for e in events:
        if e[0] == "text":
            lines.append("type " + e[1])
        elif e[0] == "key":
            lines.append("key " + e[2])
        else:
            lines.append(f"size {e[1]}x{e[2]}")
    lines.append("key Ctrl-S")
    return "\n".join(lines) + "\n"


def screen():
    return tm("capture-pane", "-p", "-t", "play", check=False)


def wait_for(text, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if text in screen():
            return True
        time.sleep(0.1)
    return False


def main():
    sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "fibonacci.py")
    for name in ("burst.py", "expected.py"):
        shutil.copy(sample, os.path.join(work, name))
    events = burst()
    with open(os.path.join(work, "burst.keys"), "w") as f:
        f.write(script_for(events))
    # Expected: the same keys through the in-memory session (no terminal, no timing).
    subprocess.run([exe, "play", "--model", model, "--debounce", "5000", "--script", os.path.join(work, "burst.keys"),
                    os.path.join(work, "expected.py")], check=True, stdin=subprocess.DEVNULL, capture_output=True)
    # Debounce at its maximum so no suggestion appears during the burst (Tab would accept it).
    tm("new-session", "-d", "-s", "play", "-x", "120", "-y", "40",
       f"cd '{work}' && TERM=xterm-256color '{exe}' play --model '{model}' --debounce {os.environ.get('BURST_DEBOUNCE', '5000')} burst.py; echo $? > rc; sleep 30")
    if not wait_for("ExitLens"):
        return fail("playground did not start")
    pending = []

    def send():
        if pending:
            tm("send-keys", "-t", "play", *pending)
            pending.clear()

    batch = os.environ.get("BURST_BATCH") == "1"  # whole runs of keys in one write
    for e in events:
        if e[0] == "text" and batch:
            pending.append("\\;" if e[1] == ";" else e[1])
        elif e[0] == "text":
            send()
            # tmux takes a lone ";" argument as its command separator.
            tm("send-keys", "-t", "play", "-l", "\\;" if e[1] == ";" else e[1])
        elif e[0] == "key":
            pending.append(e[1])
            if e[1] == "Escape":
                # A lone Esc: the next key comes after the escape timeout, so it is typing, not Alt.
                send()
                time.sleep(float(os.environ.get("BURST_ESC_PAUSE", "0.12")))
        else:
            send()
            # Page keys move by the height at the time they are read, and ncurses reports a
            # resize before keys still unread: let the editor read everything before resizing,
            # and the resize before the next key.
            time.sleep(0.25)
            tm("resize-window", "-t", "play", "-x", str(e[1]), "-y", str(e[2]))
            time.sleep(0.25)
    send()
    tm("resize-window", "-t", "play", "-x", "120", "-y", "40")
    time.sleep(0.3)
    tm("send-keys", "-t", "play", "C-s")
    if not wait_for("saved "):
        return fail("no 'saved' message after Ctrl-S: " + screen().splitlines()[-2:].__repr__())
    got = open(os.path.join(work, "burst.py"), "rb").read()
    want = open(os.path.join(work, "expected.py"), "rb").read()
    if got != want:
        for n, (a, b) in enumerate(zip(got.decode(errors="replace").splitlines(), want.decode(errors="replace").splitlines())):
            if a != b:
                return fail(f"saved file differs from the replay at line {n + 1}: {a!r} vs {b!r}")
        return fail(f"saved file differs from the replay in length ({len(got)} vs {len(want)} bytes)")
    # The screen shows the file: hide the sidebar, go to the top-left, compare each editor row.
    tm("send-keys", "-t", "play", "F3", *(["PPage"] * 40), "Home", "Home")
    time.sleep(0.5)
    rows = screen().splitlines()
    lines = want.decode().split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it is not a line of its own
    if " [+]" in rows[0]:
        return fail("title still says [+] after the save")
    for r, row in enumerate(rows[1:37]):
        if r >= len(lines):
            break
        m = re.match(r"^ *(\d+)(?: (.*))?$", row)
        number, text = (m.group(1), m.group(2) or "") if m else ("", row)
        expected = lines[r].replace("\t", "    ")
        if number != str(r + 1) or not expected.startswith(text.rstrip()) or (len(text.rstrip()) < min(len(expected), 40) and text.rstrip() != expected.rstrip()):
            return fail(f"screen row {r + 1} shows {row!r}, file line is {lines[r]!r}")
    tm("send-keys", "-t", "play", "C-q")
    print(f"key burst seed {seed}: {sum(1 for e in events if e[0] != 'resize')} keys, "
          f"{sum(1 for e in events if e[0] == 'resize')} resizes: file and screen match")
    return 0


def fail(why):
    print(f"FAIL key burst seed {seed}: {why} (keys: {work}/burst.keys)")
    return 1


try:
    status = main()
finally:
    tm("kill-server", check=False)
    if os.environ.get("KEEP") is None and "status" in globals() and status == 0:
        shutil.rmtree(work, ignore_errors=True)
sys.exit(status)
