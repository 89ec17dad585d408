"""The shared store on both backends, and the policy that reads it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pg
from pkgvet.errors import UsageError
from pkgvet.policy import PolicySettings, Reason, evaluate, parse_age
from pkgvet.store import (
    Action,
    Decision,
    FileRecord,
    RequestEntry,
    ResultKind,
    ResultRecord,
    Scope,
    Store,
    open_store,
)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        yield open_store(f"sqlite://{tmp_path / 'store.sqlite'}")
        return
    url = pg.fresh_database()
    try:
        yield open_store(url)
    finally:
        pg.drop_database(url)


def _file(sha: str = "a" * 64, version: str = "1.0", upload: float | None = None) -> FileRecord:
    return FileRecord(sha256=sha, project="demo", version=version,
                      filename=f"demo-{version}.tar.gz", url="http://127.0.0.1/x",
                      upload_time=upload)


def _result(sha: str, verdict: str, kind: ResultKind = ResultKind.STATIC,
            partial: bool = False) -> ResultRecord:
    findings = [] if verdict == "benign" else [
        {"rule_id": "PV201", "title": "Decodes and executes", "suppressed": False}]
    return ResultRecord(sha, "r1", kind, verdict, partial,
                        {"verdict": verdict, "findings": findings}, time.time())


def test_files_results_round_trip(store: Store) -> None:
    store.put_file(_file(upload=100.0))
    store.put_file(_file(sha="b" * 64, version="2.0", upload=200.0))
    assert store.get_file("a" * 64) == store.files_of("demo")[1]
    assert [f.version for f in store.files_of("demo")] == ["2.0", "1.0"]
    store.put_result(_result("a" * 64, "malicious"))
    store.put_result(_result("a" * 64, "benign", ResultKind.SANDBOX))
    got = store.results_for(["a" * 64, "b" * 64], "r1")
    assert set(got) == {"a" * 64}
    assert got["a" * 64][ResultKind.STATIC].report["findings"][0]["rule_id"] == "PV201"
    assert store.get_result("a" * 64, "r2") is None
    recent = store.recent_results(verdicts=["malicious"])
    assert len(recent) == 1 and recent[0][1] is not None and recent[0][1].project == "demo"


def test_decisions_keep_previous_state_in_append_only_log(store: Store) -> None:
    first = Decision(Scope.FILE, "a" * 64, Action.BLOCK, "looks bad", "alice", 1.0)
    assert store.decide(first) is None
    second = Decision(Scope.FILE, "a" * 64, Action.ALLOW, "false positive: test helper",
                      "bob", 2.0)
    assert store.decide(second) == first
    store.decide(Decision(Scope.RELEASE, "demo==1.0", Action.BLOCK, "whole release", "carol", 3.0))
    found = store.decisions_for("a" * 64, "demo", "1.0")
    assert [d.scope for d in found] == [Scope.FILE, Scope.RELEASE]
    assert found[0].who == "bob"
    assert store.revoke(Scope.FILE, "a" * 64, "dave", "undo") == second
    log = store.audit_log()
    assert [e.event for e in log] == ["decision.revoke", "decision.block", "decision.allow",
                                      "decision.block"]
    assert log[2].detail["previous"]["who"] == "alice"
    assert log[0].detail["previous"]["action"] == "allow"


def test_requests_and_state(store: Store) -> None:
    store.log_requests([RequestEntry(1.0, "127.0.0.1", "demo", "demo-1.0.tar.gz", "a" * 64,
                                     False, "malicious", "malicious")])
    assert store.requests(sha256="a" * 64)[0].reason == "malicious"
    assert store.get_state("watch") is None
    store.set_state("watch", "10")
    store.set_state("watch", "11")
    assert store.get_state("watch") == "11"


def test_concurrent_writers(store: Store) -> None:
    def write(i: int) -> None:
        for j in range(10):
            store.put_file(_file(sha=f"{i:02d}{j:02d}".ljust(64, "0")))
            store.log_requests([RequestEntry(time.time(), f"t{i}", "demo", "f", "x", True, "ok")])

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.files_of("demo")) == 40
    assert len(store.requests(limit=1000)) == 40


def test_store_url_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown store URL"):
        open_store("mysql://x")
    with pytest.raises(UsageError, match="names no file"):
        open_store("sqlite://")


# --- policy ---------------------------------------------------------------------------------

NOW = 1_000_000.0
DEFAULT = PolicySettings()


def test_policy_verdicts() -> None:
    f = _file()
    assert evaluate(f, _result(f.sha256, "benign"), None, [], DEFAULT, NOW).listed
    out = evaluate(f, _result(f.sha256, "malicious"), None, [], DEFAULT, NOW)
    assert (out.listed, out.reason) == (False, Reason.MALICIOUS) and "PV201" in out.detail
    assert not evaluate(f, _result(f.sha256, "suspicious"), None, [], DEFAULT, NOW).listed
    assert evaluate(f, _result(f.sha256, "suspicious"), None, [],
                    PolicySettings(hide_suspicious=False), NOW).listed


def test_policy_fail_closed_and_open() -> None:
    f = _file()
    assert evaluate(f, None, None, [], DEFAULT, NOW).reason is Reason.UNVETTED
    assert evaluate(f, None, None, [], PolicySettings(fail_open=True), NOW).listed
    partial = _result(f.sha256, "benign", partial=True)
    assert evaluate(f, partial, None, [], DEFAULT, NOW).reason is Reason.PARTIAL


def test_policy_decisions_beat_verdicts_file_before_release() -> None:
    f = _file()
    allow = Decision(Scope.FILE, f.sha256, Action.ALLOW, "fp", "alice", 1.0)
    block = Decision(Scope.RELEASE, "demo==1.0", Action.BLOCK, "bad release", "bob", 2.0)
    mal = _result(f.sha256, "malicious")
    assert evaluate(f, mal, None, [block, allow], DEFAULT, NOW).reason is Reason.ALLOWED
    out = evaluate(f, _result(f.sha256, "benign"), None, [block], DEFAULT, NOW)
    assert (out.listed, out.reason) == (False, Reason.BLOCKED)


def test_policy_min_age_and_sandbox() -> None:
    young = _file(upload=NOW - 3600)
    settings = PolicySettings(min_age=parse_age("48h"))
    benign = _result(young.sha256, "benign")
    assert evaluate(young, benign, None, [], settings, NOW).reason is Reason.TOO_NEW
    assert evaluate(_file(upload=NOW - 3 * 86400), benign, None, [], settings, NOW).listed
    assert not evaluate(_file(upload=None), benign, None, [], settings, NOW).listed
    withdrawn = evaluate(young, benign, _result(young.sha256, "malicious", ResultKind.SANDBOX),
                         [], DEFAULT, NOW)
    assert withdrawn.reason is Reason.SANDBOX


def test_parse_age() -> None:
    assert parse_age("2d") == 172800 and parse_age("90") == 90 and parse_age("30m") == 1800
    with pytest.raises(UsageError):
        parse_age("soon")
