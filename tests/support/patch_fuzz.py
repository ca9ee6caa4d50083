"""A seeded generator of realistic apply_patch cases, and the differential judge.

Trees look like small projects (code, docs, config) with what real files carry: CRLF
and lone-CR line breaks, missing final newlines, trailing blanks, tabs, curly quotes,
dashes, no-break spaces, non-ASCII text, now and then a byte-order mark or a file that
is not UTF-8. Patches do what models do: multi-chunk updates with `@@` context,
end-of-file markers, pure additions, context spelled with trimmed whitespace or ASCII
punctuation, moves (onto new and existing paths), adds over existing files, deletes,
heredoc wrappers; about one case in five is corrupted the way models get it wrong.

`judge` compares two outcomes under the one deliberate difference: when the reference
fails, pycodex must fail with the same exit code and output and leave the tree as it
was (Codex may leave earlier hunks applied).
"""

from __future__ import annotations

import base64
import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Tree = dict[str, bytes]

# Lines of the kinds the issue names; {n} makes near-duplicates that stay distinct.
_LINES = (
    "def load_{n}(path):",
    "    return path",
    "    if (!flag_{n}) {{ ",
    "class Config{n}:",
    '    name = "it\u2019s safe to ignore"',
    "config_{n} = \u201cquoted value\u201d",
    "# TODO \u2013 fix {n} \u2014 later",
    "> \u2018single\u2019 quotes {n}",
    "\tindented_with_tab({n})",
    "    x_{n} = 1  ",
    "print('h\u00e9llo w\u00f6rld {n}')",
    "# \u65e5\u672c\u8a9e\u306e\u30b3\u30e1\u30f3\u30c8 {n}",
    "width\u00a0{n} = 10",
    "fn load(\u2026) -> Result<()> {{",
    "    }}",
    "}}",
    "",
    "",
    "- item {n}",
    "## Section {n}",
    "key_{n} = true",
    "  ",
    "return a - b  # {n}",
)
_NAMES = ("src/app.py", "src/util.py", "README.md", "docs/guide.md", "lib/mod.rs",
          "config.toml", "notes \u00e9t\u00e9.txt", "web/index.js", "a/b/c/deep.txt")
_ASCII = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "-", "\u00a0": " "})


@dataclass
class Case:
    seed: int
    index: int
    files: Tree
    patch: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    rc: int
    stdout: str
    stderr: str
    tree: Tree


def find_codex() -> Path | None:
    """The reference binary: $CODEX_BIN, else `codex` on PATH."""
    for candidate in (os.environ.get("CODEX_BIN"), shutil.which("codex")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


# --- trees -----------------------------------------------------------------------------


def _line(rng: random.Random) -> str:
    line = rng.choice(_LINES).format(n=rng.randrange(40))
    roll = rng.random()
    if roll < 0.08 and line:
        line += rng.choice([" ", "  ", "\t"])
    elif roll < 0.12:
        line = "  " + line
    return line


def _render_file(rng: random.Random, lines: list[str]) -> bytes:
    style = rng.random()
    ending = "\n" if style < 0.7 else "\r\n" if style < 0.9 else "\r"
    ends = [ending] * len(lines)
    if style > 0.95:  # mixed
        ends = [rng.choice(["\n", "\r\n", "\r"]) for _ in lines]
    if lines and lines[-1] and rng.random() < 0.15:
        ends[-1] = ""
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    if rng.random() < 0.03:
        text = "\ufeff" + text
    data = text.encode()
    if rng.random() < 0.03 and data:  # not UTF-8: a Latin-1 byte or a cut sequence
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.choice([b"\xe9", b"\xff", b"\xe2\x82", b"\xed\xa0\x80"]) + data[at:]
    return data


def make_tree(rng: random.Random) -> tuple[Tree, dict[str, list[str]]]:
    """Files as bytes, and the lines each decodable file was built from."""
    files: Tree = {}
    lines_of: dict[str, list[str]] = {}
    for name in rng.sample(_NAMES, rng.randint(1, 4)):
        lines = [_line(rng) for _ in range(rng.randint(0, 18))]
        files[name] = _render_file(rng, lines)
        lines_of[name] = lines
    return files, lines_of


# --- patches ---------------------------------------------------------------------------


def _spell(rng: random.Random, line: str) -> str:
    """How a model might quote `line`: usually verbatim, sometimes normalised."""
    roll = rng.random()
    if roll < 0.7:
        return line
    if roll < 0.8:
        return line.rstrip()
    if roll < 0.88:
        return line.strip()
    return line.translate(_ASCII)


def _chunk(
    rng: random.Random, lines: list[str], span: tuple[int, int, int]
) -> tuple[list[str], int, int]:
    """Chunk lines (after the `@@` line) rewriting lines[start:stop], with context lines
    taken from lines[low:start] and after `stop`; also the indexes of the chunk's first
    line and just past its last."""
    low, start, stop = span
    before = rng.randint(0, min(3, start - low))
    after = rng.randint(0, min(3, len(lines) - stop))
    body = [" " + _spell(rng, line) for line in lines[start - before : start]]
    body += ["-" + _spell(rng, line) for line in lines[start:stop]]
    body += ["+" + _line(rng) for _ in range(rng.randint(0 if stop > start else 1, 3))]
    body += [" " + _spell(rng, line) for line in lines[stop : stop + after]]
    # A blank context line is written as an empty line as often as " ".
    body = ["" if b == " " and rng.random() < 0.5 else b for b in body]
    if stop + after == len(lines) and rng.random() < 0.4:
        body.append("*** End of File")
    elif rng.random() < 0.05:
        body.append(" ")  # the trailing blank context line models like to add
    return body, start - before, stop + after


def _update_body(rng: random.Random, lines: list[str]) -> list[str]:
    if not lines or rng.random() < 0.08:
        return ["@@", *("+" + _line(rng) for _ in range(rng.randint(1, 2)))]
    out: list[str] = []
    cursor = 0
    for k in range(rng.randint(1, 3)):
        if cursor >= len(lines):
            break
        start = rng.randrange(cursor, len(lines))
        stop = min(len(lines), start + rng.randint(0, 2))
        body, first, end = _chunk(rng, lines, (cursor, start, stop))
        header = "@@"
        if first > cursor and rng.random() < 0.3:
            # A line above the chunk, as models quote the enclosing def or class.
            header = "@@ " + _spell(rng, lines[rng.randrange(cursor, first)])
        if not (k == 0 and header == "@@" and rng.random() < 0.15):
            out.append(header)  # the first chunk may go without its `@@`
        out += body
        cursor = end
    return out


def _hunk(rng: random.Random, files: Tree, live: dict[str, list[str]]) -> list[str]:
    """One hunk. `live` holds the files this patch has not touched yet (path -> lines)
    and is updated, so that most hunks fit the tree as the earlier hunks leave it; now
    and then a hunk targets a stale or missing path anyway, as models do."""
    stale = rng.random() < 0.05
    pool = sorted(files) if stale else sorted(live)
    roll = rng.random()
    if roll < 0.6 and pool:
        name = rng.choice(pool)
        lines = live.pop(name, [])
        head = [f"*** Update File: {name}"]
        if rng.random() < 0.15:
            # Never onto itself: there pycodex deliberately keeps the file Codex deletes.
            target = rng.choice([n for n in _NAMES if n != name] + ["moved/" + name])
            head.append(f"*** Move to: {target}")
            live.pop(target, None)
        return head + _update_body(rng, lines)
    if roll < 0.75:
        name = rng.choice(_NAMES)  # often over an existing file
        added = [_line(rng) for _ in range(rng.randint(0, 4))]
        live[name] = added
        return [f"*** Add File: {name}", *("+" + line for line in added)]
    if roll < 0.9 and pool:
        name = rng.choice(pool)
        live.pop(name, None)
        return [f"*** Delete File: {name}"]
    name = rng.choice([n for n in _NAMES if n not in files] or ["missing.txt"])
    roll = rng.random()
    if roll < 0.4:
        return [f"*** Delete File: {name}"]
    if roll < 0.8:
        return [f"*** Update File: {name}", "@@", "-x", "+y"]
    if roll < 0.9 and files:  # a file where a directory must go
        return [f"*** Add File: {rng.choice(sorted(files))}/sub.txt", "+x"]
    directories = sorted({str(Path(n).parent) for n in files} - {"."}) or ["src"]
    return [f"*** Delete File: {rng.choice(directories)}"]


def _corrupt(rng: random.Random, lines: list[str]) -> tuple[list[str], str]:
    kind = rng.choice(
        ["context", "header", "begin", "end", "prefix", "empty", "anchor", "cut", "stray", "end2"]
    )
    body = [i for i, line in enumerate(lines) if line[:1] in (" ", "-")]
    if kind == "context" and body:
        i = rng.choice(body)
        lines[i] = lines[i][0] + "no such line " + lines[i][1:]
    elif kind == "header":
        lines.insert(rng.randint(1, len(lines) - 1), "*** Frobnicate File: x")
    elif kind == "begin":
        lines.pop(0)
    elif kind == "end":
        lines.pop()
    elif kind == "prefix" and body:
        i = rng.choice(body)
        lines[i] = "x" + lines[i][1:]
    elif kind == "empty":
        lines.insert(len(lines) - 1, "*** Update File: src/app.py")
    elif kind == "anchor":
        lines.insert(len(lines) - 1, "@@ nowhere to be found")
    elif kind == "cut":
        del lines[rng.randint(1, len(lines) - 1) :]
    elif kind == "stray":
        stray = rng.choice(["\t", "*x", "***", "@@\t", "*** End of File", "*** Add File: ", " "])
        lines.insert(rng.randint(1, len(lines) - 1), stray)
    elif kind == "end2":
        lines.insert(rng.randint(1, len(lines)), "*** End Patch")
    return lines, kind


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(f"{seed}/{index}")
    files, lines_of = make_tree(rng)
    live = {name: lines_of[name] for name in files if _decodes(files[name])}
    lines = ["*** Begin Patch"]
    for _ in range(rng.randint(1, 3)):
        lines += _hunk(rng, files, live)
    lines.append("*** End Patch")
    notes: list[str] = []
    if rng.random() < 0.2:
        lines, kind = _corrupt(rng, lines)
        notes.append(f"corrupted: {kind}")
    text = ("\r\n" if rng.random() < 0.05 else "\n").join(lines)
    if rng.random() < 0.05:
        text = f"<<'EOF'\n{text}\nEOF\n"
    elif rng.random() < 0.1:
        text = rng.choice(["\n", "  ", "\n\n"]) + text + rng.choice(["\n", " \n", ""])
    return Case(seed, index, files, text, notes)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- running and judging ---------------------------------------------------------------


def write_tree(root: Path, files: Tree) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def read_tree(root: Path) -> Tree:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run(argv: list[str], cwd: Path, case: Case) -> Outcome:
    """Apply `case` with `argv + [patch]` in a fresh tree at `cwd`."""
    write_tree(cwd, case.files)
    proc = subprocess.run([*argv, case.patch], cwd=cwd, capture_output=True, timeout=60)
    out, err = (b.decode("utf-8", errors="replace") for b in (proc.stdout, proc.stderr))
    return Outcome(proc.returncode, out, err, read_tree(cwd))


def judge(case: Case, reference: Outcome, ours: Outcome) -> str | None:
    """None when `ours` matches `reference` (atomicity aside), else what differs."""
    problems = []
    for name in ("rc", "stdout", "stderr"):
        if getattr(reference, name) != getattr(ours, name):
            problems.append(f"{name}: codex {getattr(reference, name)!r} pycodex {getattr(ours, name)!r}")
    expected_tree = reference.tree if reference.rc == 0 else case.files
    if ours.tree != expected_tree:
        for path in sorted(set(expected_tree) | set(ours.tree)):
            if expected_tree.get(path) != ours.tree.get(path):
                problems.append(f"{path}: expected {expected_tree.get(path)!r} pycodex {ours.tree.get(path)!r}")
    return "\n".join(problems) or None


# --- saving cases ----------------------------------------------------------------------


def _encode_tree(tree: Tree) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, data in tree.items():
        try:
            out[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            out[path] = {"base64": base64.b64encode(data).decode()}
    return out


def decode_tree(raw: dict[str, Any]) -> Tree:
    return {p: base64.b64decode(v["base64"]) if isinstance(v, dict) else v.encode() for p, v in raw.items()}


def case_record(case: Case, reference: Outcome, cwd: Path, name: str = "") -> dict[str, Any]:
    """A case and Codex's outcome as JSON, `{cwd}` standing for the working directory."""
    def here(text: str) -> str:
        return text.replace(str(cwd), "{cwd}")

    return {
        "name": name or f"fuzz seed {case.seed} case {case.index}",
        "files": _encode_tree(case.files),
        "patch": case.patch,
        "rc": reference.rc,
        "stdout": here(reference.stdout),
        "stderr": here(reference.stderr),
        "tree_after": _encode_tree(reference.tree),
    }
