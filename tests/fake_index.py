"""A local upstream index for the proxy's tests and bench: a PEP 691/503 simple index served
from a folder of real package files, over real HTTP on a loopback port.

Layout: `<root>/<project>/<file>`. Pages are built from the folder on each request (JSON by
`Accept`, else HTML), with sha256, size, upload-time (the file's mtime), requires-python and
core-metadata for wheels (the `.metadata` file is the wheel's METADATA). Faults for the
bad-input tests are switched per project: `faults[project] = "slow" | "reset" | "huge" |
"malformed" | "badhash"`.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
import zipfile
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote


def wheel_metadata(path: Path) -> bytes | None:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".dist-info/METADATA"):
                return zf.read(name)
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up (the proxy refusing a huge page) are expected here


class FakeIndex:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.faults: dict[str, str] = {}
        self.hits: dict[str, int] = {}
        self.upload_times: dict[str, float] = {}
        self._pages: dict[str, tuple[tuple[tuple[str, int], ...], dict[str, Any]]] = {}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/simple/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, project: str, path: Path, upload_time: float | None = None) -> Path:
        folder = self.root / project
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / path.name
        dest.write_bytes(path.read_bytes())
        self.upload_times[path.name] = upload_time or time.time() - 30 * 86400
        return dest

    def page(self, project: str) -> dict[str, Any]:
        """The project's PEP 691 page, built once per change of its folder (a static index
        answers from memory too, so the bench compares like with like)."""
        folder = self.root / project
        stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()))
        cached = self._pages.get(project)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        page = self._build(project)
        self._pages[project] = (stamp, page)
        return page

    def _build(self, project: str) -> dict[str, Any]:
        files = []
        for path in sorted((self.root / project).iterdir()):
            if path.suffix == ".metadata":
                continue
            data = path.read_bytes()
            uploaded = self.upload_times.setdefault(path.name, time.time() - 30 * 86400)
            entry: dict[str, Any] = {
                "filename": path.name,
                "url": f"/files/{project}/{quote(path.name)}",
                "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                "requires-python": ">=3.8",
                "size": len(data),
                "upload-time": datetime.fromtimestamp(uploaded, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S.%fZ"),
                "yanked": False,
            }
            if path.suffix == ".whl":
                meta = wheel_metadata(path)
                if meta is not None:
                    entry["core-metadata"] = {"sha256": hashlib.sha256(meta).hexdigest()}
                    entry["provenance"] = f"http://127.0.0.1:{self.port}/integrity/{path.name}"
            files.append(entry)
        return {"meta": {"api-version": "1.1"}, "name": project, "files": files,
                "versions": sorted({f["filename"].split("-")[1] for f in files})}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        index = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                parts = [unquote(p) for p in self.path.split("?")[0].split("/") if p]
                index.hits[self.path] = index.hits.get(self.path, 0) + 1
                if parts[:1] == ["simple"] and len(parts) == 1:
                    names = sorted(p.name for p in index.root.iterdir() if p.is_dir())
                    body = json.dumps({"meta": {"api-version": "1.0"},
                                       "projects": [{"name": n} for n in names]}).encode()
                    return self._send(200, body, "application/vnd.pypi.simple.v1+json")
                if parts[:1] == ["simple"] and len(parts) == 2:
                    return self._project(parts[1])
                if parts[:1] == ["files"] and len(parts) == 3:
                    return self._file(parts[1], parts[2])
                self._send(404, b"not found", "text/plain")

            def _project(self, project: str) -> None:
                fault = index.faults.get(project)
                if fault == "slow":
                    time.sleep(30)
                if fault == "reset":
                    # SO_LINGER 0 then close: the peer gets a TCP reset, not an answer.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.rfile.close()
                    self.wfile.close()
                    self.connection.close()
                    return
                if fault == "huge":
                    body = b'{"files": [' + b" " * (40 * 1024 * 1024) + b"]}"
                    return self._send(200, body, "application/vnd.pypi.simple.v1+json")
                if fault == "malformed":
                    return self._send(200, b'{"files": [{"filename": ',
                                      "application/vnd.pypi.simple.v1+json")
                if not (index.root / project).is_dir():
                    return self._send(404, b"no such project", "text/plain")
                page = index.page(project)
                if "json" in self.headers.get("Accept", ""):
                    return self._send(200, json.dumps(page).encode(),
                                      "application/vnd.pypi.simple.v1+json")
                links = "".join(
                    f'<a href="{f["url"]}#sha256={f["hashes"]["sha256"]}" '
                    f'data-requires-python="&gt;=3.8">{f["filename"]}</a><br>'
                    for f in page["files"])
                self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html")

            def _file(self, project: str, name: str) -> None:
                path = index.root / project / name
                if name.endswith(".metadata"):
                    whl = index.root / project / name[: -len(".metadata")]
                    meta = wheel_metadata(whl) if whl.is_file() else None
                    if meta is None:
                        return self._send(404, b"no metadata", "text/plain")
                    return self._send(200, meta, "application/octet-stream")
                if not path.is_file() or path.parent.parent != index.root:
                    return self._send(404, b"no such file", "text/plain")
                data = path.read_bytes()
                if index.faults.get(project) == "badhash":
                    data = data + b"tampered"
                if index.faults.get(project) == "slowfile":
                    time.sleep(30)
                self._send(200, data, "application/octet-stream")

        return Handler
