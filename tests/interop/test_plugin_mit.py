"""python-gssapi initiator and acceptor through the system GSS library loading our plugin,
with tickets from a real MIT realm (anonymous PKINIT via ``kinit -n``, host keytab)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gssmech._plugin import config_line, library_path
from gssmech.errors import GSS_S_DUPLICATE_TOKEN, GSS_S_FAILURE
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, Oid
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import GSSAPI_SCRIPT_HEAD, run_json_script
from tests.interop.plugin_peers import plugin_env as peer_env

pytest.importorskip("gssapi")

SCRIPT = GSSAPI_SCRIPT_HEAD + """
import threading
host = sys.argv[2]
out = {}

def pair(anon):
    target = gssapi.Name(host, gssapi.NameType.hostbased_service)
    flags = [F.mutual_authentication, F.out_of_sequence_detection]
    if anon:
        flags.append(F.anonymity)
    ini = gssapi.SecurityContext(name=target, mech=OID, usage="initiate", flags=flags)
    acred = gssapi.Credentials(usage="accept", mechs=[OID])
    acc = gssapi.SecurityContext(creds=acred, usage="accept")
    tok = ini.step()
    while not (ini.complete and acc.complete):
        tok = acc.step(tok)
        if tok and not ini.complete:
            tok = ini.step(tok)
    return ini, acc

ini, acc = pair(True)
out["init_anon"] = bool(ini.actual_flags & F.anonymity)
out["acc_anon"] = bool(acc.actual_flags & F.anonymity)
out["initiator"] = str(acc.initiator_name)
out["initiator_type_anon"] = acc.initiator_name.name_type == gssapi.NameType.anonymous
out["mech_ok"] = acc.mech == OID
wrapped = ini.wrap(b"hello through the plugin", True)
out["unwrapped"] = acc.unwrap(wrapped.message).message.decode()
mic = acc.get_signature(b"signed")
ini.verify_signature(b"signed", mic)
out["mic_ok"] = True

errors = []
def worker():
    try:
        for _ in range(int(sys.argv[3])):
            i, a = pair(True)
            for n in range(3):
                msg = f"{threading.get_ident()}-{n}".encode()
                if a.unwrap(i.wrap(msg, True).message).message != msg:
                    errors.append("mix-up")
    except Exception as exc:
        errors.append(repr(exc))
ts = [threading.Thread(target=worker) for _ in range(int(sys.argv[4]))]
[t.start() for t in ts]; [t.join() for t in ts]
out["thread_errors"] = errors[:5]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def plugin_env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return peer_env(mit_realm, tmp_path_factory.mktemp("plugin-mit"), service_ticket=True)


def test_anonymous_context_through_the_plugin(
    plugin_env: dict[str, str], mit_realm: MITRealm
) -> None:
    assert library_path().exists()
    host = mit_realm.host_service.replace("/", "@")
    iterations = os.environ.get("GSSMECH_PLUGIN_ITER", "200")
    out = run_json_script(
        plugin_env, SCRIPT, DEFAULT_NATIVE_MECH.der.hex(), host, iterations, "8", timeout=600
    )
    assert out["init_anon"] and out["acc_anon"], out
    assert out["initiator"] == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
    assert out["initiator_type_anon"] and out["mech_ok"]
    assert out["unwrapped"] == "hello through the plugin"
    assert out["mic_ok"]
    assert out["thread_errors"] == []


CUSTOM_OID_SCRIPT = GSSAPI_SCRIPT_HEAD + """
import os
ini = gssapi.SecurityContext(name=target, mech=OID, usage="initiate",
                             flags=[F.mutual_authentication, F.anonymity])
acc = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept", mechs=[OID]),
                             usage="accept")
token = ini.step()
ini.step(acc.step(token))
print(json.dumps({
    "token": token.hex(),
    "mechs": [ini.mech == OID, acc.mech == OID],
    "initiator": str(acc.initiator_name),
    "anon": bool(acc.actual_flags & F.anonymity),
    "message": acc.unwrap(ini.wrap(b"m", True).message).message.decode(),
    "environ": os.environ.get("GSSMECH_OID"),
    "export": target.canonicalize(OID).export().hex(),
}))
"""


def test_a_sites_own_oid_in_the_mech_d_line(
    plugin_env: dict[str, str], mit_realm: MITRealm, tmp_path: Path
) -> None:
    """README: a site with a registered OID puts it in the mech.d line.  The plugin learns it
    from the mechglue; tokens and exported names carry it; the host's environment is left
    alone (no GSSMECH_OID written into it)."""
    oid = Oid.from_dotted("1.3.6.1.4.1.99999.7")
    conf = tmp_path / "mech.conf"
    conf.write_text(config_line(oid.dotted) + "\n")
    env = {**plugin_env, "GSS_MECH_CONFIG": str(conf)}
    host = mit_realm.host_service.replace("/", "@")
    out = run_json_script(env, CUSTOM_OID_SCRIPT, oid.der.hex(), host)
    oid_tlv = (bytes([0x06, len(oid.der)]) + oid.der).hex()
    assert out["token"][:2] == "60" and oid_tlv in out["token"][:40]  # RFC 2743 §3.1 framing
    assert oid_tlv in out["export"][:40]  # RFC 2743 §3.2 exported name
    assert out["mechs"] == [True, True] and out["anon"] is True
    assert out["initiator"] == "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
    assert out["message"] == "m"
    assert out["environ"] is None


REPLAY_SCRIPT = GSSAPI_SCRIPT_HEAD + """
from pathlib import Path
token_file = Path(sys.argv[3])
if not token_file.exists():
    ini = gssapi.SecurityContext(name=target, mech=OID, usage="initiate",
                                 flags=[F.mutual_authentication, F.anonymity])
    token_file.write_bytes(ini.step())
acred = gssapi.Credentials(usage="accept", mechs=[OID])
try:
    ctx = gssapi.SecurityContext(creds=acred, usage="accept")
    ctx.step(token_file.read_bytes())
    # NB(python-gssapi): a refusal that comes with a KRB-ERROR token (RFC 4121 §4.1: mutual
    # was asked for) returns the token and raises at the context's next use, as with MIT's mech.
    print(json.dumps({"accepted": ctx.complete}))
except gssapi.exceptions.GSSError as exc:
    print(json.dumps({"accepted": False, "major": exc.maj_code, "text": str(exc),
                      "calling_routine": exc.calling_code, "routine": exc.routine_code,
                      "supplementary": exc.supplementary_code}))
"""


@pytest.mark.parametrize("rcache", ["file", "none"])
def test_replayed_token_is_refused_by_another_acceptor_process(
    plugin_env: dict[str, str], mit_realm: MITRealm, tmp_path: Path, rcache: str
) -> None:
    """The default replay cache is the per-user file: an initiator token accepted by one
    process is refused by the next (GSS_S_FAILURE with the DUPLICATE_TOKEN bit); with
    KRB5RCACHETYPE=none it is not (the control: the file is what catches it)."""
    env = {k: v for k, v in plugin_env.items() if k != "KRB5RCACHETYPE"}
    env["KRB5RCACHEDIR"] = str(tmp_path)
    if rcache == "none":
        env["KRB5RCACHETYPE"] = "none"
    host = mit_realm.host_service.replace("/", "@")
    token = tmp_path / "token"
    args = (DEFAULT_NATIVE_MECH.der.hex(), host, str(token))
    results = [run_json_script(env, REPLAY_SCRIPT, *args) for _ in range(2)]
    assert results[0] == {"accepted": True}
    if rcache == "none":
        assert results[1] == {"accepted": True}
        assert not list(tmp_path.glob("gssmech_*.rcache"))
    else:
        assert results[1]["accepted"] is False, results
        assert results[1]["major"] == GSS_S_FAILURE | GSS_S_DUPLICATE_TOKEN, results
        assert results[1]["supplementary"] == GSS_S_DUPLICATE_TOKEN, results
        assert "authenticator was replayed" in results[1]["text"], results
        assert list(tmp_path.glob("gssmech_*.rcache"))
