"""krb5 wire framing (DESIGN.md): an application that uses gssmech through the plugin for its
anonymity guarantees talks to an unmodified MIT krb5 acceptor.

The initiator asks python-gssapi for OUR mech (so GSS_C_ANON_FLAG is honoured and reported,
which MIT's mech would drop); with GSSMECH_WIRE=krb5 (or [libdefaults] gssmech_wire = krb5) its
first token is framed with the krb5 OID, so MIT's mechglue routes it to MIT's built-in krb5
acceptor, which sees the anonymous principal.  Without the setting the same token is framed with
our OID and MIT's krb5 acceptor cannot take it: the test proves the switch is what matters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import plugin_env, run_json_script

pytestmark = pytest.mark.interop
pytest.importorskip("gssapi")

SCRIPT = """
import json, sys
import gssapi, gssapi.raw as raw
from gssapi.raw import RequirementFlag as F
OURS = gssapi.OID(elements=bytes.fromhex(sys.argv[1]))
out = {}
target = gssapi.Name(sys.argv[2], gssapi.NameType.hostbased_service)
anon = gssapi.Credentials(name=gssapi.Name(b"", gssapi.NameType.anonymous), usage="initiate",
                          mechs=[OURS])
flags = [F.anonymity, F.mutual_authentication, F.out_of_sequence_detection]
ini = gssapi.SecurityContext(name=target, creds=anon, mech=OURS, usage="initiate", flags=flags)
acc = gssapi.SecurityContext(usage="accept")   # MIT's default (krb5) acceptor credential
tok = ini.step()
i = 2 if tok[1] < 0x80 else 2 + (tok[1] & 0x7F)   # past [APPLICATION 0] and its length
assert tok[0] == 0x60 and tok[i] == 0x06, tok[:8].hex()
out["framing_oid"] = tok[i + 2:i + 2 + tok[i + 1]].hex()
try:
    while not (ini.complete and acc.complete):
        tok = acc.step(tok)
        if tok and not ini.complete:
            tok = ini.step(tok)
except gssapi.exceptions.GSSError as exc:
    out["error"] = str(exc)
    print(json.dumps(out)); sys.exit(0)
out["acceptor_mech_is_krb5"] = acc.mech == gssapi.MechType.kerberos
out["initiator"] = str(acc.initiator_name)
name = raw.display_name(acc.initiator_name, name_type=True)
out["initiator_type_anon"] = name.name_type == gssapi.NameType.anonymous
out["init_anon"] = bool(ini.actual_flags & F.anonymity)
out["unwrapped"] = acc.unwrap(ini.wrap(b"to a stock MIT acceptor", True).message).message.decode()
out["reply"] = ini.unwrap(acc.wrap(b"from MIT", True).message).message.decode()
print(json.dumps(out))
"""

KRB5_OID_DER = "2a864886f712010202"


def _run(env: dict[str, str], host: str) -> dict[str, object]:
    return run_json_script(env, SCRIPT, DEFAULT_NATIVE_MECH.der.hex(), host)


@pytest.fixture(scope="module")
def wire_env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return plugin_env(mit_realm, tmp_path_factory.mktemp("krb5-wire"))


def test_krb5_wire_reaches_mits_acceptor(wire_env: dict[str, str], mit_realm: MITRealm) -> None:
    out = _run({**wire_env, "GSSMECH_WIRE": "krb5"}, mit_realm.host_service.replace("/", "@"))
    assert out["framing_oid"] == KRB5_OID_DER, out
    assert "error" not in out, out
    assert out["acceptor_mech_is_krb5"], out
    assert out["initiator"] == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
    assert out["initiator_type_anon"] and out["init_anon"], out
    assert out["unwrapped"] == "to a stock MIT acceptor" and out["reply"] == "from MIT"


def test_krb5_wire_from_krb5_conf(wire_env: dict[str, str], mit_realm: MITRealm, tmp_path: Path):
    conf = tmp_path / "krb5.conf"
    text = Path(wire_env["KRB5_CONFIG"]).read_text()
    conf.write_text(text.replace("[libdefaults]", "[libdefaults]\n    gssmech_wire = krb5", 1))
    out = _run({**wire_env, "KRB5_CONFIG": str(conf)}, mit_realm.host_service.replace("/", "@"))
    assert out["framing_oid"] == KRB5_OID_DER and "error" not in out, out


def test_native_wire_is_not_for_mits_acceptor(
    wire_env: dict[str, str], mit_realm: MITRealm
) -> None:
    out = _run(wire_env, mit_realm.host_service.replace("/", "@"))
    assert out["framing_oid"] == DEFAULT_NATIVE_MECH.der.hex(), out
    assert "error" in out, out
