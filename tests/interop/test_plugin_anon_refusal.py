"""G3 at the C boundary (draft-ietf-krb-wg-anon-08 §6; DESIGN.md): through python-gssapi, the
system libgssapi and our plugin, an initiator that asks for GSS_C_ANON_FLAG and cannot be
anonymous gets an error and NO token -- never a token naming the client, never success.

Two ways it arises: the application hands over a named credential; or it uses the default
credential, the user's TGT is the default cache, and no anonymous ticket can be had (no
pkinit_anchors, so anonymous PKINIT is impossible).  A control run proves the same setup does
produce a token when anonymity is available, so the refusals are not an unrelated failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from gssmech._plugin import config_line
from gssmech.errors import GSS_S_FAILURE, Minor
from gssmech.gss.oids import DEFAULT_NATIVE_MECH
from tests.interop.mitrealm import MITRealm
from tests.interop.plugin_peers import run_json_script

pytestmark = pytest.mark.interop
pytest.importorskip("gssapi")

SCRIPT = """
import json, sys
import gssapi
from gssapi.raw import RequirementFlag as F
OURS = gssapi.OID(elements=bytes.fromhex(sys.argv[1]))
target = gssapi.Name(sys.argv[2], gssapi.NameType.hostbased_service)
creds = None
if sys.argv[3] == "named":
    creds = gssapi.Credentials(name=gssapi.Name(sys.argv[4], gssapi.NameType.kerberos_principal),
                               usage="initiate", mechs=[OURS])
ctx = gssapi.SecurityContext(name=target, creds=creds, mech=OURS, usage="initiate",
                             flags=[F.anonymity, F.mutual_authentication])
out = {}
try:
    tok = ctx.step()
    out["token"] = (tok or b"").hex()
    out["anon"] = bool(ctx.actual_flags & F.anonymity)
except gssapi.exceptions.GSSError as exc:
    out["maj"], out["min"] = exc.maj_code, exc.min_code
    out["error_token"] = (getattr(exc, "token", None) or b"").hex()
print(json.dumps(out))
"""


def _init(env: dict[str, str], realm: MITRealm, mode: str) -> dict[str, object]:
    host = realm.host_service.replace("/", "@")
    return run_json_script(env, SCRIPT, DEFAULT_NATIVE_MECH.der.hex(), host, mode, realm.user)


@pytest.fixture(scope="module")
def env(mit_realm: MITRealm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("anon-refusal")
    user_cc = d / "user.cc"
    mit_realm.kinit(mit_realm.user, ccache=user_cc)
    mit_realm.run(["kvno", "-c", str(user_cc), mit_realm.host_principal])
    (d / "mech.conf").write_text(config_line() + "\n")
    e = {k: v for k, v in mit_realm.env.items() if not k.startswith("GSSMECH_")}
    e.update(GSS_MECH_CONFIG=str(d / "mech.conf"), KRB5CCNAME=f"FILE:{user_cc}",
             GSSMECH_ANON_CCACHE=f"FILE:{d / 'anon.cc'}")
    return e


def _refused(out: dict[str, object]) -> None:
    assert "token" not in out, out  # no success, no token
    assert int(out["maj"]) == GSS_S_FAILURE, out
    assert int(out["min"]) == Minor.ANONYMITY_UNAVAILABLE, out
    assert out["error_token"] == "", out


def test_named_credential_with_anon_flag_is_refused(env: dict[str, str], mit_realm: MITRealm):
    _refused(_init(env, mit_realm, "named"))


def test_default_credential_without_any_anonymous_source_is_refused(
    env: dict[str, str], mit_realm: MITRealm, tmp_path: Path
) -> None:
    conf = tmp_path / "krb5.noanchors.conf"
    text = Path(env["KRB5_CONFIG"]).read_text()
    conf.write_text("".join(ln for ln in text.splitlines(True) if "pkinit_anchors" not in ln))
    _refused(_init({**env, "KRB5_CONFIG": str(conf)}, mit_realm, "default"))


def test_control_anonymity_available_gives_a_token(env: dict[str, str], mit_realm: MITRealm):
    """Same user cache and flag, anchors present: the mech gets an anonymous TGT itself."""
    out = _init(env, mit_realm, "default")
    assert out.get("token") and out.get("anon"), out
