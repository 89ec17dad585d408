"""`-f html`: a self-contained, escaped report with code in context."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from builders import base64_exec_sdist, make_sdist
from hostile_fixtures import SCRIPT, hostile_sdist
from pkgvet.cli import app


def _html(args: list[str], out: Path) -> str:
    run = CliRunner().invoke(app, [*args, "-f", "html", "-o", str(out), "--no-cache"])
    assert run.exit_code in (0, 1, 2), run.output
    return out.read_text(encoding="utf-8")


def _self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", page), "no external resource"
    assert "@import" not in page and "url(" not in page
    assert 'font:14px/1.45 system-ui,-apple-system,"Segoe UI"' in page  # the CSS is intact


def test_scan_report_shows_code_in_context_and_decoded_payload(tmp_path: Path) -> None:
    sdist = base64_exec_sdist(tmp_path)
    page = _html(["scan", str(sdist)], tmp_path / "r.html")
    _self_contained(page)
    assert "malicious" in page and "PV201" in page
    # the finding's line, highlighted, with its neighbours and line numbers
    hit = re.search(r'<tr class="hit"><td class="n">3</td><td>(.*?)</td></tr>', page)
    assert hit and "exec(base64.b64decode(" in hit.group(1)
    assert '<td class="n">2</td><td>from setuptools import setup</td>' in page
    # the literal's decoded form, beside it
    assert "decoded statically" in page and "print(&#39;inert&#39;)" in page
    assert "phase install" in page


def test_hostile_names_and_code_render_as_text(tmp_path: Path) -> None:
    sdist = hostile_sdist(tmp_path)
    page = _html(["scan", str(sdist)], tmp_path / "r.html")
    _self_contained(page)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#39;pkgvet&#39;)&lt;/script&gt;" in page
    assert "onerror=alert(1)&gt;" in page and "<img" not in page
    assert "ℙ𝕪𝕥𝕙𝕠𝕟" in page


def test_benign_report_and_diff(tmp_path: Path) -> None:
    a = make_sdist(tmp_path, "calm", "1.0", {"calm/__init__.py": "X = 1\n"})
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    b = make_sdist(b_dir, "calm", "1.1", {
        "calm/__init__.py": "X = 1\n",
        "setup.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
    })
    page = _html(["scan", str(a)], tmp_path / "a.html")
    _self_contained(page)
    assert "No findings." in page and "benign" in page
    run = CliRunner().invoke(app, ["diff", str(a), str(b), "-f", "html", "-o",
                                   str(tmp_path / "d.html")])
    assert run.exit_code == 2, run.output
    diff = (tmp_path / "d.html").read_text()
    _self_contained(diff)
    assert "New findings" in diff and "PV201" in diff and "setup.py" in diff
    assert '<tr class="hit">' in diff


def test_audit_report_shows_origin(tmp_path: Path) -> None:
    from trust_fixtures import GOOGLE_EMAIL, PROJECT, attested_project

    url = attested_project(tmp_path / "idx")
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"{PROJECT}==0.0.0\n{PROJECT}==0.0.1\n")
    page = _html(["audit", str(reqs), "--index-url", url, "--provenance", "--osv", "off"],
                 tmp_path / "a.html")
    _self_contained(page)
    assert "2 files vetted" in page
    assert GOOGLE_EMAIL in page and "verified" in page
    assert "PV544" in page and "Release lost its attestations" in page
    assert "2025-04-21 15:02 UTC" in page
