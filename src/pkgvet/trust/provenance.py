"""Provenance (PEP 740): who built a file, checked with Sigstore through `pypi-attestations`.

For a file from an index, the provenance object comes from the URL the index states (PEP 691
`provenance`, PEP 503 `data-provenance`) or, on PyPI, from the Integrity API. Each attestation
is verified against the file's own name and sha256 and against the publisher its bundle
names (offline, with the Sigstore trust root bundled in sigstore-python: no TUF refresh).

Findings: the verified publisher (PV543, info); a bad signature (PV547); a malformed object
(PV548); a fetch that failed (PV549, a note). Across releases, from the project's Simple API
page: attestations lost after attested releases (PV544), a publisher that changed since the
last attested release (PV545), and mixed status inside one release (PV546).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from pkgvet import fetch
from pkgvet.errors import PkgvetError
from pkgvet.model import AttestationStatus, Finding, Phase, Provenance, Publisher
from pkgvet.package import Artifact
from pkgvet.registry import rule

if TYPE_CHECKING:
    from pypi_attestations import Provenance as AttestedProvenance

MAX_PROVENANCE_BYTES = 2 * 1024 * 1024
HISTORY_RELEASES = 5
"""How many earlier releases the lost/changed checks look at."""


@dataclass(frozen=True, slots=True)
class Checked:
    provenance: Provenance
    findings: tuple[Finding, ...]


def publisher_of(data: object) -> Publisher:
    """A model Publisher from a pypi-attestations publisher (or its JSON dict)."""
    get = data.get if isinstance(data, dict) else lambda k, d=None: getattr(data, k, d)
    return Publisher(
        kind=str(get("kind", "") or ""),
        repository=str(get("repository", "") or get("project", "") or ""),
        workflow=str(get("workflow", "") or get("workflow_filepath", "") or ""),
        environment=str(get("environment", "") or ""),
        email=str(get("email", "") or ""),
    )


def parse(body: bytes) -> AttestedProvenance:
    """The provenance object, validated by pypi-attestations; ValueError when malformed."""
    from pydantic import ValidationError
    from pypi_attestations import Provenance as PA

    try:
        return PA.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors()
        if not errors:
            raise ValueError("invalid provenance object") from exc
        where = ".".join(str(p) for p in errors[0]["loc"])
        raise ValueError(f"{errors[0]['msg']} at {where or 'top level'}") from exc


def verify(body: bytes, filename: str, sha256: str, *, offline: bool = True) -> Checked:
    """Check one provenance object against the file it claims to describe."""
    from pypi_attestations import AttestationError, Distribution

    try:
        provenance = parse(body)
    except ValueError as exc:
        return Checked(
            Provenance(AttestationStatus.FAILED, detail=f"malformed provenance: {exc}"),
            (rule("PV548").finding(phase=Phase.METADATA, path=filename, snippet=str(exc)[:300]),),
        )
    publishers = tuple(publisher_of(b.publisher) for b in provenance.attestation_bundles)
    try:
        dist = Distribution(name=filename, digest=sha256)
    except ValueError as exc:
        return Checked(
            Provenance(AttestationStatus.FAILED, publishers, f"file name not attestable: {exc}"),
            (rule("PV547").finding(phase=Phase.METADATA, path=filename,
                                   snippet=f"{filename}: {exc}"),),
        )
    count = 0
    for bundle in provenance.attestation_bundles:
        for attestation in bundle.attestations:
            count += 1
            try:
                attestation.verify(bundle.publisher, dist, offline=offline)
            except (AttestationError, ValueError) as exc:
                who = publisher_of(bundle.publisher).identity
                text = f"{who}: {exc}"
                return Checked(
                    Provenance(AttestationStatus.FAILED, publishers, text),
                    (rule("PV547").finding(phase=Phase.METADATA, path=filename,
                                           snippet=text[:400]),),
                )
    if count == 0:
        text = "the provenance object holds no attestation"
        return Checked(
            Provenance(AttestationStatus.FAILED, publishers, text),
            (rule("PV548").finding(phase=Phase.METADATA, path=filename, snippet=text),),
        )
    ids = "; ".join(p.identity for p in publishers)
    return Checked(
        Provenance(AttestationStatus.VERIFIED, publishers, f"{count} attestation(s) verified"),
        (rule("PV543").finding(phase=Phase.METADATA, path=filename,
                               snippet=f"published by {ids}"),),
    )


def _url(artifact: Artifact, index_url: str | None) -> str | None:
    if artifact.provenance_url:
        return artifact.provenance_url
    if artifact.name and artifact.version and artifact.index_file:
        return fetch.integrity_url(index_url, artifact.name, artifact.version,
                                   artifact.index_file)
    return None


def check_file(artifact: Artifact, index_url: str | None, *, offline: bool = True) -> Checked:
    """Fetch and verify the provenance of one file from an index."""
    filename = artifact.index_file or artifact.path.name
    url = _url(artifact, index_url)
    if url is None:
        return Checked(Provenance(AttestationStatus.NONE, detail="the index states none"), ())
    try:
        body = fetch.get_bytes(url, max_bytes=MAX_PROVENANCE_BYTES)
    except PkgvetError as exc:
        return Checked(
            Provenance(AttestationStatus.UNKNOWN, detail=str(exc)),
            (rule("PV549").finding(phase=Phase.METADATA, path=filename, snippet=str(exc)),),
        )
    if body is None:
        if artifact.provenance_url:  # the index said there is one, and it is gone
            text = f"the index lists provenance at {fetch.redact(url)}, which does not exist"
            return Checked(
                Provenance(AttestationStatus.FAILED, detail=text),
                (rule("PV548").finding(phase=Phase.METADATA, path=filename, snippet=text),),
            )
        return Checked(Provenance(AttestationStatus.NONE, detail="the index holds none"), ())
    return verify(body, filename, artifact.sha256, offline=offline)


def _same(a: Publisher, b: Publisher) -> bool:
    return (a.kind, a.repository, a.workflow, a.email) == (b.kind, b.repository, b.workflow,
                                                           b.email)


def _claimed(file: fetch.IndexFile) -> tuple[Publisher, ...] | None:
    """The publishers an earlier file's provenance names (as the index checked them at upload);
    None when it cannot be read."""
    if not file.provenance_url:
        return None
    try:
        body = fetch.get_bytes(file.provenance_url, max_bytes=MAX_PROVENANCE_BYTES)
        if body is None:
            return None
        provenance = parse(body)
    except (PkgvetError, ValueError):
        return None
    return tuple(publisher_of(b.publisher) for b in provenance.attestation_bundles)


def history(
    artifact: Artifact, current: Provenance, releases: Sequence[fetch.Release]
) -> list[Finding]:
    """Lost attestations, changed publisher and mixed status, from the project's releases."""
    if not artifact.version:
        return []
    try:
        version = Version(artifact.version)
    except InvalidVersion:
        return []
    filename = artifact.index_file or artifact.path.name
    out: list[Finding] = []
    same = [r for r in releases if _version(r) == version]
    if same:
        files = [f for f in same[0].files if not f.yanked] or list(same[0].files)
        attested = [f.filename for f in files if f.provenance_url]
        bare = [f.filename for f in files if not f.provenance_url]
        if attested and bare:
            out.append(rule("PV546").finding(
                phase=Phase.METADATA, path=filename,
                snippet=f"attested: {', '.join(attested)[:300]}; not attested: "
                        f"{', '.join(bare)[:300]}"))
    earlier = [r for r in releases if (v := _version(r)) is not None and v < version
               and r.files and not r.yanked][-HISTORY_RELEASES:]
    previous = next((r for r in reversed(earlier)
                     if any(f.provenance_url for f in r.files)), None)
    if previous is None:
        return out
    if current.status is AttestationStatus.NONE:
        out.append(rule("PV544").finding(
            phase=Phase.METADATA, path=filename,
            snippet=f"{previous.version} was attested; {artifact.version} has no attestation"))
        return out
    before = next((p for f in previous.files if (p := _claimed(f))), None)
    if before and current.publishers and not any(
        _same(a, b) for a in current.publishers for b in before
    ):
        out.append(rule("PV545").finding(
            phase=Phase.METADATA, path=filename,
            snippet=f"{previous.version}: {'; '.join(p.identity for p in before)} -> "
                    f"{artifact.version}: {'; '.join(p.identity for p in current.publishers)}"))
    return out


def _version(release: fetch.Release) -> Version | None:
    try:
        return Version(release.version)
    except InvalidVersion:
        return None


def _matches(expected: Publisher, actual: Publisher) -> bool:
    """Every key the lock file states must match; keys it leaves out are not compared."""
    pairs = ((expected.kind, actual.kind), (expected.repository, actual.repository),
             (expected.workflow, actual.workflow), (expected.environment, actual.environment),
             (expected.email, actual.email))
    return all(not want or want.lower() == got.lower() for want, got in pairs)


def identity_findings(
    identities: Sequence[Publisher], current: Provenance, filename: str
) -> list[Finding]:
    """PV550 when a file is not attested, verified, by one of the identities a lock records."""
    if not identities:
        return []
    expected = "; ".join(p.identity for p in identities)
    if current.status is not AttestationStatus.VERIFIED:
        return [rule("PV550").finding(
            phase=Phase.METADATA, path=filename,
            snippet=f"lock file expects {expected}; the file's attestation is "
                    f"{current.status.value} ({current.detail[:200]})")]
    if any(_matches(e, a) for e in identities for a in current.publishers):
        return []
    actual = "; ".join(p.identity for p in current.publishers)
    return [rule("PV550").finding(
        phase=Phase.METADATA, path=filename,
        snippet=f"lock file expects {expected}; attested by {actual}")]
