"""load_files reuses a parse only while every byte it read is unchanged (krb5/config/_files.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gssmech.errors import ConfigError
from gssmech.krb5.config import load_files


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
