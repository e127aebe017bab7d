"""Shared fixtures.  ``mit_realm`` runs a real MIT KDC (with anonymous PKINIT) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import strategies as st

from tests.interop.mitrealm import MITRealm, missing_programs

DATA = Path(__file__).parent / "data"


def get_data(name: str) -> bytes:
    """A golden file from tests/data (captured from real MIT programs)."""
    return (DATA / name).read_bytes()


def mutate(data: st.DataObject, der: bytes) -> bytes:
    """``der`` with 1-3 octets set, deleted or inserted at drawn positions (decoder fuzzing)."""
    buf = bytearray(der)
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["set", "delete", "insert"]))
        pos = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "set" and buf:
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "delete" and buf:
            del buf[pos]
        else:
            buf.insert(pos, data.draw(st.integers(0, 255)))
    return bytes(buf)


@pytest.fixture(scope="session")
def mit_realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MITRealm]:
    missing = missing_programs()
    if missing:
        pytest.skip(f"MIT Kerberos programs missing: {missing} (run `make apt`)")
    realm = MITRealm(tmp_path_factory.mktemp("mitrealm")).create().start()
    try:
        yield realm
    finally:
        realm.stop()
