"""Every one-octet change of real tokens, through python-gssapi, the system GSS library and the
plugin's C front: the process survives, nothing altered is accepted except where RFC 4120 leaves
the AP-REQ unprotected, a refusal of a mutual AP-REQ that could be read carries a KRB-ERROR
token (RFC 4121 §4.1) and one that could not be read carries none, and the acceptor still
serves afterwards.  The in-process mutation tests (test_gss_context, test_gss_rfc4121) cover
the mechanism; this covers the C/cffi path every failure takes, output token included."""

from __future__ import annotations

import pytest

from gssmech.gss import framing
from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from gssmech.krb5.asn1.apfields import read_ap_req
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import GSSAPI_SCRIPT_HEAD, plugin_env, run_json_script

pytestmark = pytest.mark.interop
pytest.importorskip("gssapi")

SCRIPT = GSSAPI_SCRIPT_HEAD + r"""
flags = [F.mutual_authentication, F.replay_detection, F.out_of_sequence_detection]
acred = gssapi.Credentials(usage="accept", mechs=[OID])

def outcome(fn):
    try:
        out = fn()
    except gssapi.exceptions.GSSError as exc:
        return [exc.maj_code >> 16, getattr(exc, "token", None) is not None]
    return "ok" if out is None else out

def accept(token):
    def run():
        ctx = gssapi.SecurityContext(creds=acred, usage="accept")
        reply = ctx.step(token)
        try:
            ctx.complete  # NB(python-gssapi): a refusal with a token raises here
        except gssapi.exceptions.GSSError as exc:
            return [exc.maj_code >> 16, bool(reply) and reply[:1] == b"\x60"]
        return "ok"
    return run

def flips(token):
    for i in range(len(token)):
        b = bytearray(token); b[i] ^= 0x01
        yield i, bytes(b)

ini = gssapi.SecurityContext(name=target, mech=OID, usage="initiate", flags=flags)
ap_req = ini.step()
out = {"ap_req": len(ap_req), "hex": ap_req.hex(), "accept": {}}
for i, bad in flips(ap_req):
    out["accept"][i] = outcome(accept(bad))
for n in (0, 1, len(ap_req) // 2, len(ap_req) - 1):
    out["accept"]["cut%d" % n] = outcome(accept(ap_req[:n]))

acc = gssapi.SecurityContext(creds=acred, usage="accept")
ini.step(acc.step(ap_req))
w = ini.wrap(b"a message of some length", True).message
m = ini.get_signature(b"signed")
out["unwrap"] = [outcome(lambda b=b: acc.unwrap(b) and None) for _, b in flips(w)]
out["verify"] = [outcome(lambda b=b: acc.verify_signature(b"signed", b)) for _, b in flips(m)]
# the untouched tokens still pass after all that (in order: sequence detection is on)
out["original"] = [acc.unwrap(w).message.decode(), acc.verify_signature(b"signed", m)]
out["still"] = acc.unwrap(ini.wrap(b"after", True).message).message.decode()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = plugin_env(mit_realm, tmp_path_factory.mktemp("mutation"), service_ticket=True)
    env["KRB5RCACHETYPE"] = "none"  # every altered token is judged on its own, not as a replay
    return env


def test_one_octet_changes_through_the_plugin(env: dict[str, str], mit_realm: MITRealm) -> None:
    host = mit_realm.host_service.replace("/", "@")
    out = run_json_script(env, SCRIPT, DEFAULT_NATIVE_MECH.der.hex(), host, timeout=300)
    accept: dict[str, object] = out["accept"]  # type: ignore[assignment]
    n = out["ap_req"]
    assert isinstance(n, int) and len(accept) == n + 4
    accepted = sorted(int(i) for i, r in accept.items() if r == "ok")
    assert accepted
    # Only changes to what RFC 4120 leaves outside every checksum and MIT ignores too: the
    # ap-options (§5.5.1), the sname's name-type (krb5_principal_compare ignores it) and the
    # enc-part kvno (a hint: the key that decrypts is the key), or only their encoding (the
    # ap-options BIT STRING's unused-bit count).  Everything sealed is intact.
    token = bytes.fromhex(str(out["hex"]))
    framed = framing.unframe(token, (DEFAULT_NATIVE_MECH,))
    head = len(token) - len(framed.body)
    ref = read_ap_req(framed.body)
    for i in accepted:
        bad = bytearray(framed.body)
        bad[i - head] ^= 0x01
        got = read_ap_req(bytes(bad))
        assert got.authenticator == ref.authenticator, i
        assert got.ticket.enc_part.cipher == ref.ticket.enc_part.cipher, i
        assert got.ticket.enc_part.etype == ref.ticket.enc_part.etype, i
        assert (got.ticket.server.realm, got.ticket.server.components) == (
            ref.ticket.server.realm, ref.ticket.server.components), i
    # An empty token never reaches the plugin: NO_CRED is the mechglue's own answer.
    assert accept.pop("cut0") == [7, False]
    refused = [r for r in accept.values() if r != "ok"]
    assert all(isinstance(r, list) for r in refused)
    with_token = [r for r in refused if r[1]]  # type: ignore[index]
    without = [r for r in refused if not r[1]]  # type: ignore[index]
    assert with_token and without  # deep changes get a KRB-ERROR token, framing damage none
    # Unreadable (framing, DER): DEFECTIVE_TOKEN or BAD_MECH, no token; a readable AP-REQ that
    # fails a check: BAD_SIG (integrity) or FAILURE (no key for the altered server name) with
    # the KRB-ERROR token -- or, when the DER of the server name itself broke, no token.
    assert {r[0] for r in without} <= {9, 1, 13}, without  # type: ignore[index]
    assert {r[0] for r in with_token} <= {6, 13}, with_token  # type: ignore[index]
    for kind in ("unwrap", "verify"):
        results = out[kind]
        assert isinstance(results, list) and results
        assert all(r != "ok" for r in results), kind
        assert all(not r[1] for r in results), kind  # per-message failures have no token
    assert out["original"] == ["a message of some length", 0]  # verify_signature: the QOP
    assert out["still"] == "after"
