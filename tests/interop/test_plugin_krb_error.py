"""An acceptor that refuses a mutual AP-REQ answers with a KRB-ERROR token (RFC 4121 §4.1,
TOK_ID 03 00), through python-gssapi and the system GSS library, for our plugin as for MIT's
built-in krb5 mechanism: the token leaves gss_accept_sec_context with the failure, and the
initiator that reads it fails naming the Kerberos error instead of waiting for an AP-REP that
never comes.  Here the acceptor's keytab lacks the service key (KRB_AP_ERR_NOT_US, 35)."""

from __future__ import annotations

import pytest

from gssmech.gss import framing
from gssmech.gss.oids import DEFAULT_NATIVE_MECH, KRB5_MECH, Oid
from gssmech.krb5.asn1 import KRBError, decode
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import GSSAPI_SCRIPT_HEAD, plugin_env, run_json_script

pytestmark = pytest.mark.interop
pytest.importorskip("gssapi")

SCRIPT = GSSAPI_SCRIPT_HEAD + r"""
ini = gssapi.SecurityContext(name=target, mech=OID, usage="initiate",
                             flags=[F.mutual_authentication, F.out_of_sequence_detection])
acc = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept", mechs=[OID]),
                             usage="accept")
out = {}
try:
    reply = acc.step(ini.step())
    out["accept"] = "returned"  # NB(python-gssapi): it may hand the error token back
except gssapi.exceptions.GSSError as exc:
    out["accept"] = "raised"
    reply = exc.token
out["token"] = reply.hex() if reply else None
try:  # python-gssapi keeps the failure and raises it at the context's next use
    out["acceptor"] = "complete" if acc.complete else "incomplete"
except gssapi.exceptions.GSSError as exc:
    out["acceptor"] = [exc.maj_code >> 16, str(exc)]
try:
    ini.step(reply)
    out["initiator"] = "completed"
except gssapi.exceptions.GSSError as exc:
    out["initiator"] = str(exc)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The host service ticket is cached, but the acceptor's keytab holds another service."""
    d = tmp_path_factory.mktemp("krb-error")
    env = plugin_env(mit_realm, d, service_ticket=True)
    other = d / "other.keytab"
    mit_realm.addprinc(f"HTTP/localhost@{mit_realm.realm}")
    mit_realm.ktadd(f"HTTP/localhost@{mit_realm.realm}", other)
    env["KRB5_KTNAME"] = f"FILE:{other}"
    return env


def _error_code(token: str, mech: Oid) -> tuple[int, object, object]:
    framed = framing.unframe(bytes.fromhex(token), (mech,), expect=(framing.TOK_KRB_ERROR,))
    err = decode(KRBError, framed.body, what="KRB-ERROR token").native
    return err["error_code"], err["sname"], err["cname"]


@pytest.mark.parametrize("mech", [DEFAULT_NATIVE_MECH, KRB5_MECH], ids=["gssmech", "mit"])
def test_refusal_carries_a_krb_error_token(
    env: dict[str, str], mit_realm: MITRealm, mech: Oid
) -> None:
    host = mit_realm.host_service.replace("/", "@")
    out = run_json_script(env, SCRIPT, mech.der.hex(), host)
    assert out["acceptor"] != "complete", out
    assert isinstance(out["token"], str), out
    code, sname, cname = _error_code(out["token"], mech)
    assert code == 35  # KRB_AP_ERR_NOT_US
    assert dict(sname) == {"name_type": 1, "name_string": ["host", "localhost"]}, sname
    assert cname is None  # nothing about the (anonymous) initiator
    if mech == KRB5_MECH:
        # MIT's minor is ERROR_TABLE_BASE_krb5 + the code (its text, in this one-process
        # test, is the acceptor's last message for that code).
        assert f"Minor ({0x96C73A00 + 35})" in str(out["initiator"]), out
    else:
        assert "KRB_AP_ERR_NOT_US (35)" in out["initiator"], out
