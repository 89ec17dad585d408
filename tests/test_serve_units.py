"""The proxy's pure parts: content negotiation, name checks, upstream page parsing, the order
in which releases are vetted."""

from __future__ import annotations

import json

import pytest

from pkgvet.serve import names
from pkgvet.serve.gate import plan
from pkgvet.serve.render import negotiate, project_html, project_json
from pkgvet.serve.upstream import UpstreamError, parse_html, parse_json

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
SHA = "a" * 64


@pytest.mark.parametrize("accept, expected", [
    (None, "text/html"),
    ("", "text/html"),
    ("*/*", "text/html"),
    (f"{JSON}, {HTML};q=0.2, text/html;q=0.01", JSON),  # pip
    (f"{HTML}, {JSON};q=0.5", HTML),
    ("application/vnd.pypi.simple.latest+json", JSON),
    ("text/html;q=0, image/png", None),
    ("application/json", None),
])
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize("bad", ["../etc", "a/b", "rеquests", "", "-x", "x-", "a" * 129,
                                 "name\x00", "na me"])
def test_bad_project_names(bad: str) -> None:
    with pytest.raises(names.BadName):
        names.project(bad)


def test_names_normalize() -> None:
    assert names.project("Foo_Bar.baz") == "foo-bar-baz"
    with pytest.raises(names.BadName):
        names.filename("../x.whl")
    with pytest.raises(names.BadName):
        names.sha256("A" * 64)


def _entry(filename: str, **extra: object) -> dict[str, object]:
    return {"filename": filename, "url": f"https://files.invalid/{filename}",
            "hashes": {"sha256": SHA}, **extra}


def test_parse_json_keeps_fields_and_drops_foreign_files() -> None:
    body = json.dumps({"name": "Demo", "files": [
        _entry("demo-1.0-py3-none-any.whl", **{"requires-python": ">=3.9", "size": 10,
               "upload-time": "2024-01-01T00:00:00Z", "core-metadata": {"sha256": SHA},
               "yanked": "broken", "provenance": "https://x.invalid/p"}),
        _entry("other-1.0.tar.gz"),           # another project's file
        _entry("demo-1.0.exe"),               # not a wheel or sdist
        _entry("demo-1.0.tar.gz", hashes={"md5": "x"}),
        "not a dict",
    ]}).encode()
    page = parse_json(body, "https://up.invalid/simple/demo/", "demo")
    assert [f.filename for f in page.files] == ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"]
    wheel, sdist = page.files
    assert wheel.sha256 == SHA and wheel.yanked == "broken" and wheel.metadata_sha256 == SHA
    assert wheel.upload_timestamp == 1704067200.0
    assert sdist.sha256 == ""  # no sha256: never listed
    out = json.loads(project_json("Demo", [wheel], {}))
    assert out["files"][0]["core-metadata"] == {"sha256": SHA}
    assert out["files"][0]["url"] == f"../../files/{SHA}/demo-1.0-py3-none-any.whl"


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"files": 3}', b"\xff\xfe"])
def test_parse_json_malformed(body: bytes) -> None:
    with pytest.raises(UpstreamError) as err:
        parse_json(body, "https://up.invalid/simple/demo/", "demo")
    assert err.value.status == 502


def test_parse_html_and_escaping() -> None:
    html = (f'<a href="../../f/demo-1.0.tar.gz#sha256={SHA}" data-requires-python="&gt;=3.8" '
            f'data-yanked="" data-core-metadata="sha256={SHA}">demo-1.0.tar.gz</a>'
            '<a href="demo-2.0.tar.gz">no hash</a><a>no href</a>')
    page = parse_html(html, "https://up.invalid/simple/demo/", "demo")
    first = page.files[0]
    assert first.url == "https://up.invalid/f/demo-1.0.tar.gz"
    assert first.requires_python == ">=3.8" and first.yanked is True
    rendered = project_html("demo", [first]).decode()
    assert 'data-requires-python="&gt;=3.8"' in rendered and 'data-yanked=""' in rendered


def test_plan_orders_releases_like_a_resolver() -> None:
    body = json.dumps({"files": [
        _entry("demo-1.0.tar.gz"), _entry("demo-2.0.tar.gz"),
        _entry("demo-3.0rc1.tar.gz"), _entry("demo-2.5.tar.gz", yanked=True),
        _entry("demo-2.0-py3-none-any.whl"),
    ]}).encode()
    page = parse_json(body, "https://up.invalid/simple/demo/", "demo")
    order = [[f.filename for f in r] for r in plan(page.files)]
    assert order == [["demo-2.0.tar.gz", "demo-2.0-py3-none-any.whl"], ["demo-1.0.tar.gz"],
                     ["demo-3.0rc1.tar.gz"], ["demo-2.5.tar.gz"]]
