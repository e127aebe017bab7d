"""load_files reuses a parse only while every byte it read is unchanged, and looks at the files at
most once per second of the memo's clock, as MIT's profile library does (krb5/config/_files.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gssmech.errors import ConfigError
from gssmech.krb5.config import _files, load_files


class Clock:
    """The memo's clock: a new second on every reading unless frozen."""

    def __init__(self) -> None:
        self.now, self.frozen = 1_000_000.0, False

    def __call__(self) -> float:
        if not self.frozen:
            self.now += 1
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    tick = Clock()
    monkeypatch.setattr(_files._MEMO, "clock", tick)
    return tick


def _write(path: Path, text: str, *, keep_mtime_of: Path | None = None) -> None:
    st = os.stat(keep_mtime_of) if keep_mtime_of else None
    path.write_text(text)
    if st is not None:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_unchanged_files_reuse_the_parse(tmp_path: Path) -> None:
    conf = tmp_path / "krb5.conf"
    _write(conf, "[libdefaults]\n default_realm = A.TEST\n")
    first = load_files([str(conf)])
    assert load_files([str(conf)]) is first
    assert first.get("libdefaults", "default_realm") == "A.TEST"


def test_same_size_same_mtime_rewrite_is_seen(tmp_path: Path) -> None:
    conf = tmp_path / "krb5.conf"
    _write(conf, "[libdefaults]\n default_realm = A.TEST\n")
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "A.TEST"
    _write(conf, "[libdefaults]\n default_realm = B.TEST\n", keep_mtime_of=conf)
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "B.TEST"


def test_included_files_and_directories_are_checked(tmp_path: Path) -> None:
    inc = tmp_path / "inc.conf"
    d = tmp_path / "conf.d"
    d.mkdir()
    conf = tmp_path / "krb5.conf"
    _write(inc, "[libdefaults]\n default_realm = INC.TEST\n")
    _write(conf, f"include {inc}\nincludedir {d}\n")
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "INC.TEST"
    _write(inc, "[libdefaults]\n default_realm = INX.TEST\n", keep_mtime_of=inc)
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "INX.TEST"
    _write(d / "extra.conf", "[realms]\n R = {\n  kdc = k:88\n }\n")
    assert load_files([str(conf)]).get_all("realms", "R", "kdc") == ["k:88"]


def test_missing_then_created_and_removed(tmp_path: Path) -> None:
    conf = tmp_path / "later.conf"
    assert load_files([str(conf)]).get("libdefaults", "default_realm") is None
    _write(conf, "[libdefaults]\n default_realm = NEW.TEST\n")
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "NEW.TEST"
    conf.unlink()
    assert load_files([str(conf)]).get("libdefaults", "default_realm") is None


def test_errors_are_not_remembered(tmp_path: Path) -> None:
    conf = tmp_path / "krb5.conf"
    _write(conf, "[libdefaults\n")
    with pytest.raises(ConfigError):
        load_files([str(conf)])
    _write(conf, "[libdefaults]\n default_realm = OK.TEST\n")
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "OK.TEST"


def test_within_one_second_the_files_are_not_read_again(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "krb5.conf"
    _write(conf, "[libdefaults]\n default_realm = A.TEST\n")
    clock.frozen = True
    first = load_files([str(conf)])
    reads: list[bytes] = []
    real = _files._read_top
    monkeypatch.setattr(_files, "_read_top", lambda p: reads.append(p) or real(p))
    assert load_files([str(conf)]) is first
    assert reads == []
    clock.now += 1  # the next second: the file is read and compared again
    assert load_files([str(conf)]) is first
    assert reads == [os.fsencode(conf)]


def test_an_edit_is_seen_from_the_next_second(tmp_path: Path, clock: Clock) -> None:
    """NB(mit): prof_file.c returns the tree it has while time(0) == last_stat."""
    conf = tmp_path / "krb5.conf"
    _write(conf, "[libdefaults]\n default_realm = A.TEST\n")
    clock.frozen = True
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "A.TEST"
    _write(conf, "[libdefaults]\n default_realm = B.TEST\n", keep_mtime_of=conf)
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "A.TEST"
    clock.now += 1
    assert load_files([str(conf)]).get("libdefaults", "default_realm") == "B.TEST"
