"""``gssmech kdc ...`` through register(): init, addprinc, list, ktadd, delprinc."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest

from gssmech.ccache import Keytab
from gssmech.kdc.cli import register
from gssmech.kdc.db import RealmDB
from gssmech.kdc.realm import directory_mode_ok, load_settings, open_kdc
from gssmech.krb5.principal import Principal


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="gssmech")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.func(args) or 0)


def test_init_creates_realm(tmp_path: Path) -> None:
    d = tmp_path / "kdc"
    assert run("kdc", "init", "--realm", "CLI.TEST", "--dir", str(d),
               "--listen", "127.0.0.1:6088") == 0
    assert directory_mode_ok(d)
    assert stat.S_IMODE(os.stat(d / "master.stash").st_mode) == 0o600
    names = {str(e.principal) for e in RealmDB.open(d)}
    assert names == {"krbtgt/CLI.TEST@CLI.TEST", "WELLKNOWN/ANONYMOUS@CLI.TEST"}
    conf = (d / "krb5.conf").read_text()
    assert "kdc = 127.0.0.1:6088" in conf
    assert f"pkinit_anchors = FILE:{d.resolve()}/ca.pem" in conf
    assert load_settings(d).realm == "CLI.TEST"
    kdc = open_kdc(d)
    assert kdc.ctx.pkinit is not None  # the KDC certificate is loaded
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((d / "kdc.pem").read_bytes())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert "1.3.6.1.5.2.3.5" in [o.dotted_string for o in eku]
    with pytest.raises(Exception, match="already exists"):
        run("kdc", "init", "--realm", "CLI.TEST", "--dir", str(d))


def test_addprinc_ktadd_list_delprinc(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    d = tmp_path / "kdc"
    run("kdc", "init", "--realm", "CLI.TEST", "--dir", str(d))
    assert run("kdc", "addprinc", "--dir", str(d), "--pw", "secret", "alice") == 0
    assert run("kdc", "addprinc", "--dir", str(d), "--randkey", "host/h.cli.test") == 0
    capsys.readouterr()
    run("kdc", "list", "--dir", str(d))
    listed = capsys.readouterr().out.split()
    assert "alice@CLI.TEST" in listed and "host/h.cli.test@CLI.TEST" in listed
    kt = tmp_path / "host.keytab"
    assert run("kdc", "ktadd", "--dir", str(d), "-k", str(kt), "host/h.cli.test") == 0
    host = Principal.parse("host/h.cli.test@CLI.TEST")
    entry = RealmDB.open(d).lookup(host)
    got = {(e.enctype, e.key) for e in Keytab.resolve(f"FILE:{kt}").entries()}
    assert got == {(k.enctype, k.key.contents) for k in entry.keys}
    assert stat.S_IMODE(os.stat(kt).st_mode) == 0o600
    assert run("kdc", "delprinc", "--dir", str(d), "alice") == 0
    assert RealmDB.open(d).lookup(Principal.parse("alice@CLI.TEST")) is None


def test_main_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from gssmech.cli import main

    assert main(["kdc", "list", "--dir", str(tmp_path / "missing")]) == 1
    assert "master key" in capsys.readouterr().err
