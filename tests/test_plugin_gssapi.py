"""The plugin through python-gssapi: system libgssapi -> libgssmech.so -> Python, in the same
interpreter (the library reuses the running one).  Each case runs in a subprocess so that
GSS_MECH_CONFIG is read fresh and only names our library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gssmech._plugin import SASL_NAME, config_line, library_path
from gssmech.gss.oids import DEFAULT_NATIVE_MECH

pytest.importorskip("gssapi")

PRELUDE = """
import json, sys
import gssapi, gssapi.raw as raw
# OID.from_int_seq mis-encodes 2.999.*: build it from the DER content octets.
OID = gssapi.OID(elements=bytes.fromhex(sys.argv[1]))
out = {}
"""


def run_gssapi(tmp_path: Path, body: str, **env: str) -> dict[str, object]:
    if not library_path().exists():
        pytest.fail(f"plugin library not built: {library_path()}")
    conf = tmp_path / "mech.conf"
    conf.write_text(config_line() + "\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GSSMECH_")}
    environ.update(GSS_MECH_CONFIG=str(conf), KRB5_CONFIG=str(tmp_path / "krb5.conf"), **env)
    (tmp_path / "krb5.conf").write_text(
        "[libdefaults]\n default_realm = EXAMPLE.ORG\n[domain_realm]\n example.com = EXAMPLE.COM\n"
    )
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script, DEFAULT_NATIVE_MECH.der.hex()],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_discovery_answers(tmp_path: Path) -> None:
    out = run_gssapi(
        tmp_path,
        """
        out["indicated"] = OID in raw.indicate_mechs()
        attrs = raw.inquire_attrs_for_mech(OID)
        out["attrs"] = sorted(a.dotted_form for a in attrs.mech_attrs)
        out["known"] = len(attrs.known_mech_attrs)
        sasl = raw.inquire_saslname_for_mech(OID)
        out["sasl"] = sasl.sasl_mech_name.decode()
        out["back"] = raw.inquire_mech_for_saslname(sasl.sasl_mech_name) == OID
    """,
    )
    assert out["indicated"] is True
    ma = "1.3.6.1.5.5.13."
    assert f"{ma}14" in out["attrs"] and f"{ma}8" in out["attrs"]  # AUTH_INIT_ANON, NOT_DFLT
    assert f"{ma}7" not in out["attrs"]  # never DEPRECATED: it would hide the mech
    assert out["known"] == 27
    assert out["sasl"] == SASL_NAME
    assert out["back"] is True


def test_anonymous_name(tmp_path: Path) -> None:
    out = run_gssapi(
        tmp_path,
        """
        n = gssapi.Name(b'', gssapi.NameType.anonymous).canonicalize(OID)
        out["text"] = str(n)
        out["anon_type"] = n.name_type == gssapi.NameType.anonymous
        out["mech_ok"] = True
    """,
    )
    assert out["text"] == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
    assert out["anon_type"] is True


def test_hostbased_name_round_trip(tmp_path: Path) -> None:
    out = run_gssapi(
        tmp_path,
        """
        n = gssapi.Name('host@www.example.com', gssapi.NameType.hostbased_service)
        c = n.canonicalize(OID)
        out["text"] = str(c)
        out["krb5_type"] = c.name_type == gssapi.NameType.kerberos_principal
        token = c.export()
        back = gssapi.Name(token, gssapi.NameType.export)
        out["equal"] = back == c
        out["dup_equal"] = raw.compare_name(raw.duplicate_name(c), c)
        other = gssapi.Name('ldap@www.example.com', gssapi.NameType.hostbased_service)
        out["other_equal"] = other.canonicalize(OID) == c
        out["token_oid"] = token[4:6].hex()
    """,
    )
    assert out["text"] == "host/www.example.com@EXAMPLE.COM"
    assert out["krb5_type"] is True
    assert out["equal"] is True and out["dup_equal"] is True
    assert out["other_equal"] is False
    assert out["token_oid"] == "0605"  # DER OID header for 2.999.6112.1 (5 content octets)


def test_bad_name_is_a_gss_error_not_a_crash(tmp_path: Path) -> None:
    out = run_gssapi(
        tmp_path,
        """
        try:
            gssapi.Name(b'a@b@@', gssapi.NameType.kerberos_principal).canonicalize(OID)
        except gssapi.exceptions.GSSError as exc:
            out["maj"] = exc.maj_code
            out["msg"] = exc.gen_message()
        else:
            out["maj"] = 0
    """,
    )
    assert out["maj"] != 0


def test_many_threads_share_the_interpreter(tmp_path: Path) -> None:
    out = run_gssapi(
        tmp_path,
        """
        import threading
        errors = []
        def work():
            try:
                for _ in range(50):
                    c = gssapi.Name('host@www.example.com',
                                    gssapi.NameType.hostbased_service).canonicalize(OID)
                    assert str(c) == 'host/www.example.com@EXAMPLE.COM'
            except Exception as exc:
                errors.append(repr(exc))
        ts = [threading.Thread(target=work) for _ in range(8)]
        [t.start() for t in ts]; [t.join() for t in ts]
        out["errors"] = errors
        from gssmech._plugin import mech
        import gc; gc.collect()
        out["live_handles"] = len(mech.HANDLES)
    """,
    )
    assert out["errors"] == []
    assert out["live_handles"] == 0  # every name the mechglue got was released
