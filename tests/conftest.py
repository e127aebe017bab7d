"""Shared fixtures.  ``mit_realm`` runs a real MIT KDC (with anonymous PKINIT) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.mitrealm import MITRealm, missing_programs

DATA = Path(__file__).parent / "data"


def get_data(name: str) -> bytes:
    """A golden file from tests/data (captured from real MIT programs)."""
    return (DATA / name).read_bytes()


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
