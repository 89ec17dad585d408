"""`python -m bench.readme_rules`: rewrite the README rule-table rows of declared rules.

Every rule declared in `src/pkgvet/rules/data/rules/*.toml` gets exactly one row
`| id | title | analyzer |`, in id order among the existing rows; rows of ids not (yet) in the
registry (YARA meta, legacy ids) are left as they are. A test checks that the table matches.
"""

from __future__ import annotations

import re
from pathlib import Path

from pkgvet.registry import rules

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| (PV\d{3})(?: / PV\d{3})? \| .+ \|$")


def main() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    declared = rules()
    table = [i for i, line in enumerate(lines) if ROW.match(line)]
    if not table:
        raise SystemExit("README has no rule table")
    start, end = table[0], table[-1] + 1
    keyed: list[tuple[float, str]] = []
    last = 0.0
    for line in lines[start:end]:
        m = re.match(r"^\| PV(\d{3})", line)
        last = float(m.group(1)) if m else last + 0.01
        if not ((r := ROW.match(line)) and r.group(1) in declared):
            keyed.append((last, line))
    for d in declared.values():
        title = d.title.replace("|", chr(92) + "|")
        keyed.append((float(d.id[2:]), f"| {d.id} | {title} | {d.analyzer} |"))
    lines[start:end] = [line for _, line in sorted(keyed, key=lambda x: x[0])]
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
