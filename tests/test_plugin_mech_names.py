"""The plugin adapter's name imports (gssmech._plugin.mech.import_name) reuse earlier results
only while everything the result depends on is unchanged: the buffer, the name type, the
mechanism, krb5.conf (default realm, [domain_realm]) and the host name.  No library needed."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech._plugin import mech
from gssmech.errors import GSSMechError
from gssmech.gss import names, oids
from gssmech.krb5.config import _files as config_files

NATIVE = oids.DEFAULT_NATIVE_MECH


def _conf(default_realm: str, mapping: str) -> str:
    return (
        f"[libdefaults]\n default_realm = {default_realm}\n"
        f"[domain_realm]\n {mapping}\n"
    )


@pytest.fixture
def krb5_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "krb5.conf"
    path.write_text(_conf("AAAA.TEST", ".example.test = AAAA.TEST"))
    monkeypatch.setenv("KRB5_CONFIG", str(path))
    monkeypatch.delenv(oids.NATIVE_MECH_ENV, raising=False)
    return path


def _imported(data: bytes, nt: oids.Oid | None, mech_oid: oids.Oid = NATIVE) -> names.GSSName:
    hid = mech.import_name(data, nt, mech_oid)
    try:
        name: names.GSSName = mech.HANDLES.get(mech.KIND_NAME, hid)
        return name
    finally:
        mech.release(mech.KIND_NAME, hid)


def test_reimport_gives_a_new_handle_for_an_equal_name(krb5_conf: Path) -> None:
    a = mech.import_name(b"host@h.example.test", oids.NT_HOSTBASED_SERVICE, NATIVE)
    b = mech.import_name(b"host@h.example.test", oids.NT_HOSTBASED_SERVICE, NATIVE)
    try:
        assert a != b
        na, nb = mech.HANDLES.get(mech.KIND_NAME, a), mech.HANDLES.get(mech.KIND_NAME, b)
        assert na == nb
        assert str(na.principal) == "host/h.example.test@AAAA.TEST"
        mech.release(mech.KIND_NAME, a)
        # Releasing one handle leaves the other (sharing an immutable value) usable.
        assert mech.display_name(b)[0] == b"host/h.example.test@AAAA.TEST"
    finally:
        mech.release(mech.KIND_NAME, a)
        mech.release(mech.KIND_NAME, b)


def test_a_same_size_rewrite_of_krb5_conf_is_seen(
    krb5_conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyed on content, not mtime: a same-length rewrite in the same mtime tick changes the
    realm (from the profile memo's next second, as in MIT; the clock here ticks per read)."""
    ticks = itertools.count(1_000_000)
    monkeypatch.setattr(config_files._MEMO, "clock", lambda: float(next(ticks)))
    host = oids.NT_HOSTBASED_SERVICE
    user = oids.NT_USER_NAME
    assert str(_imported(b"host@h.example.test", host).principal).endswith("@AAAA.TEST")
    assert str(_imported(b"alice", user).principal) == "alice@AAAA.TEST"
    krb5_conf.write_text(_conf("BBBB.TEST", ".example.test = BBBB.TEST"))
    assert str(_imported(b"host@h.example.test", host).principal).endswith("@BBBB.TEST")
    assert str(_imported(b"alice", user).principal) == "alice@BBBB.TEST"


def test_the_host_name_is_read_every_time(
    krb5_conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``service`` alone names the local host: a renamed host must not get the old name."""
    monkeypatch.setattr(names.socket, "gethostname", lambda: "one.example.test")
    assert _imported(b"host", oids.NT_HOSTBASED_SERVICE).principal.components[1] == (
        "one.example.test"
    )
    monkeypatch.setattr(names.socket, "gethostname", lambda: "two.example.test")
    assert _imported(b"host", oids.NT_HOSTBASED_SERVICE).principal.components[1] == (
        "two.example.test"
    )
    assert names.load_realm_config().local_hostname == "two.example.test"


def test_the_mechanism_is_part_of_the_key(krb5_conf: Path) -> None:
    assert _imported(b"alice", None, oids.KRB5_MECH).mech == oids.KRB5_MECH
    assert _imported(b"alice", None, NATIVE).mech == NATIVE
    assert _imported(b"alice", None, oids.KRB5_MECH).mech == oids.KRB5_MECH


def test_failures_are_raised_every_time(krb5_conf: Path) -> None:
    before = len(mech.HANDLES)
    for _ in range(2):
        with pytest.raises(GSSMechError):
            mech.import_name(b"\xff\xfe", oids.NT_USER_NAME, NATIVE)
        with pytest.raises(GSSMechError):
            mech.import_name(b"a@b@", oids.NT_KRB5_PRINCIPAL_NAME, NATIVE)
    assert len(mech.HANDLES) == before


def test_the_memo_stays_bounded(krb5_conf: Path) -> None:
    for i in range(mech._NAME_MEMO_LIMIT + 10):
        _imported(f"user{i}".encode(), oids.NT_USER_NAME)
    assert len(mech._NAME_MEMO) <= mech._NAME_MEMO_LIMIT


_COMPONENT = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="@/\\"),
    min_size=1,
    max_size=8,
)
_NAME_TYPES = st.sampled_from(
    [None, oids.NT_USER_NAME, oids.NT_KRB5_PRINCIPAL_NAME, oids.NT_HOSTBASED_SERVICE]
)


@settings(max_examples=60, deadline=None)
@given(text=st.lists(_COMPONENT, min_size=1, max_size=3).map("/".join), nt=_NAME_TYPES)
def test_reused_imports_equal_fresh_ones(
    tmp_path_factory: pytest.TempPathFactory, text: str, nt: oids.Oid | None
) -> None:
    """Whatever the memo holds is exactly what a fresh import and canonicalization give."""
    path = tmp_path_factory.mktemp("conf") / "krb5.conf"
    path.write_text(_conf("CCCC.TEST", ".example.test = DDDD.TEST"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KRB5_CONFIG", str(path))
        mp.delenv(oids.NATIVE_MECH_ENV, raising=False)
        data = (text.replace("/", "@", 1) if nt == oids.NT_HOSTBASED_SERVICE else text).encode()
        fresh = names.import_name(data, nt, config=names.load_realm_config())
        expected = fresh.canonicalize(NATIVE)
        assert _imported(data, nt) == expected
        assert _imported(data, nt) == expected
