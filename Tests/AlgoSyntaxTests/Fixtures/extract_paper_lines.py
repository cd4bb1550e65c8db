#!/usr/bin/env python3
"""Extract every numbered body line of the paper's 15 algorithms into paper-lines.txt.

Reads the project's reference copy of the paper, ../shared/paper/formal-algorithms.md
(relative to the repository root, i.e. /work/shared/paper/formal-algorithms.md for a worktree
under /work/wt/), or the path given as the first argument. Sections 5, 7 and 8 of that file
hold the algorithms as fenced code blocks under headings "### Algorithm N: ...".

Writes Tests/AlgoSyntaxTests/Fixtures/paper-lines.txt (next to this script), one line per
numbered body line: ALG<TAB>LINE<TAB>text, where text is the paper's line after its line
number, verbatim except that leading indentation and trailing spaces are removed.

Usage: python3 extract_paper_lines.py [path/to/formal-algorithms.md]
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
CANDIDATES = [
    os.path.join(ROOT, "..", "shared", "paper", "formal-algorithms.md"),
    os.path.join(ROOT, "..", "..", "shared", "paper", "formal-algorithms.md"),
]


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else next(p for p in CANDIDATES if os.path.exists(p))
    rows = []
    alg = None
    in_code = False
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            heading = re.match(r"^### Algorithm (\d+):", line)
            if heading:
                alg = int(heading.group(1))
                continue
            if line.startswith("## "):
                alg = None
            if line.startswith("```"):
                in_code = not in_code
                continue
            if alg is None or not in_code:
                continue
            body = re.match(r"^\s*(\d+) (.*)$", line)
            if body:
                rows.append((alg, int(body.group(1)), body.group(2).strip()))
    assert sorted({a for a, _, _ in rows}) == list(range(1, 16)), "expected algorithms 1-15"
    out = os.path.join(HERE, "paper-lines.txt")
    with open(out, "w", encoding="utf-8") as f:
        for a, n, text in rows:
            f.write(f"{a}\t{n}\t{text}\n")
    print(f"{len(rows)} lines from {path} -> {out}")


if __name__ == "__main__":
    main()
