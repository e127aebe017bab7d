"""Read-side parse memo of ccaches and keytabs (gssmech.ccache.cache.ParseMemo): a change of
the bytes is always seen, even one that keeps the size and the mtime (in-place tombstones, two
writes in one mtime tick), bad bytes are never remembered, and Keytab.find's index agrees with
a plain scan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.ccache import Credential, KeyBlock, Keytab, KeytabEntry, resolve
from gssmech.ccache.cache import ParseMemo
from gssmech.ccache.records import same_principal
from gssmech.errors import CCacheError, KeytabError
from gssmech.krb5.principal import Principal

ALICE = Principal(1, ("alice",), "EX.TEST")
SVC = Principal(3, ("host", "h.ex.test"), "EX.TEST")
SVC2 = Principal(3, ("HTTP", "h.ex.test"), "EX.TEST")


def cred(server: Principal, n: int) -> Credential:
    return Credential(ALICE, server, KeyBlock(18, bytes([n]) * 32), 100, 100, 4_000_000_000)


def same_stat(path: Path, before: os.stat_result) -> None:
    """Put the mtime back: the change is now invisible to (dev, ino, size, mtime_ns)."""
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns)


def test_ccache_in_place_change_with_same_stat_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "cc"
    cc = resolve(f"FILE:{path}")
    cc.initialize(ALICE)
    cc.store(cred(SVC, 1))
    assert cc.credentials() == [cred(SVC, 1)]
    before = path.stat()
    # Another process (a fresh CCache object here) tombstones the ticket in place.
    assert resolve(f"FILE:{path}").remove(SVC) == 1
    same_stat(path, before)
    assert cc.credentials() == [] and cc.find(SVC) is None


def test_ccache_bad_bytes_are_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "cc"
    cc = resolve(f"FILE:{path}")
    cc.initialize(ALICE)
    cc.store(cred(SVC, 1))
    good = path.read_bytes()
    path.write_bytes(good[:-3])
    for _ in range(2):
        with pytest.raises(CCacheError):
            cc.read()
    path.write_bytes(good)
    assert cc.principal() == ALICE and cc.credentials() == [cred(SVC, 1)]


def test_ccache_destroyed_then_recreated(tmp_path: Path) -> None:
    cc = resolve(f"FILE:{tmp_path / 'cc'}")
    cc.initialize(ALICE)
    cc.store(cred(SVC, 1))
    assert cc.credentials()
    cc.destroy()
    with pytest.raises(CCacheError):
        cc.read()
    cc.initialize(ALICE)
    assert cc.credentials() == []


def test_memo_keeps_a_bounded_number_of_names() -> None:
    memo: ParseMemo[int] = ParseMemo(limit=2)
    calls: list[bytes] = []

    def parse(data: bytes) -> int:
        calls.append(data)
        return len(data)

    assert memo.get("a", b"x", parse) == 1 and memo.get("a", b"x", parse) == 1
    assert calls == [b"x"]  # the second read of the same bytes was not parsed again
    assert memo.get("a", b"xy", parse) == 2  # new bytes under the same name: parsed
    memo.get("b", b"1", parse)
    memo.get("c", b"1", parse)  # "a" is the oldest and goes
    memo.get("a", b"xy", parse)
    assert calls == [b"x", b"xy", b"1", b"1", b"xy"]


def test_keytab_in_place_hole_with_same_stat_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "kt"
    kt = Keytab.resolve(f"FILE:{path}")
    kt.add(KeytabEntry(SVC, 0, 2, 18, b"\x02" * 32))
    kt.add(KeytabEntry(SVC, 0, 3, 18, b"\x03" * 32))
    assert kt.find(SVC).kvno == 3  # type: ignore[union-attr]
    before = path.stat()
    assert Keytab.resolve(f"FILE:{path}").remove(SVC, kvno=3) == 1  # a hole, same size
    same_stat(path, before)
    assert kt.find(SVC).kvno == 2  # type: ignore[union-attr]
    assert kt.find(SVC, kvno=3) is None
    kt.destroy()
    with pytest.raises(KeytabError):
        kt.find(SVC)


def _scan(entries: list[KeytabEntry], principal: Principal, kvno: int | None,
          enctype: int | None) -> KeytabEntry | None:
    """The pre-index definition of Keytab.find."""
    best = None
    for e in entries:
        if (same_principal(e.principal, principal) and kvno in (None, e.kvno)
                and enctype in (None, e.enctype) and (best is None or e.kvno > best.kvno)):
            best = e
    return best


names = st.sampled_from([SVC, SVC2, Principal(1, SVC.components, SVC.realm),
                         Principal(3, SVC.components, "OTHER.TEST")])
entries = st.builds(KeytabEntry, names, st.just(0), st.integers(0, 4), st.sampled_from([17, 18]),
                    st.binary(min_size=1, max_size=4))


@settings(max_examples=40, deadline=None)
@given(st.lists(entries, max_size=8), names, st.sampled_from([None, 1, 2, 3]),
       st.sampled_from([None, 17, 18]))
def test_keytab_find_index_agrees_with_scan(
    tmp_path_factory: pytest.TempPathFactory, all_entries: list[KeytabEntry],
    principal: Principal, kvno: int | None, enctype: int | None,
) -> None:
    kt = Keytab.resolve(f"FILE:{tmp_path_factory.mktemp('kt') / 'kt'}")
    for e in all_entries:
        kt.add(e)
    if not all_entries:
        return
    assert kt.find(principal, kvno, enctype) == _scan(kt.entries(), principal, kvno, enctype)
    odd = Principal(principal.name_type, list(principal.components), principal.realm)  # type: ignore[arg-type]
    assert kt.find(odd, kvno, enctype) == _scan(kt.entries(), odd, kvno, enctype)
