"""gssmech's Kerberos client against a real MIT 1.20 KDC (conformance C1-C8, notes/anonymity.md
§1.4), and MIT's klist/kvno reading the caches our kinit writes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gssmech.ccache import resolve
from gssmech.krb5.client.as_exchange import ASExchange, RequestOptions
from gssmech.krb5.client.results import AnonymityError, KDCReplyError
from gssmech.krb5.client.runner import run
from gssmech.krb5.client.tgs_exchange import TGT, TGSExchange
from gssmech.krb5.config import load_default
from gssmech.krb5.constants import ANONYMOUS_REALM, DRAFT08, TicketFlag
from gssmech.krb5.pkinit import kex
from gssmech.krb5.pkinit.client import AnonymousPKINIT
from gssmech.krb5.pkinit.cms import load_anchors
from gssmech.krb5.pkinit.errors import PKINITError
from gssmech.krb5.principal import Principal
from gssmech.tools import cli
from gssmech.tools.kinit import keytab_keys, kinit
from tests.interop.mitrealm import MITRealm

pytestmark = pytest.mark.interop


def _kdcs(realm: MITRealm):
    return lambda _r: [f"127.0.0.1:{realm.port}"]


def _anchors(realm: MITRealm) -> list:
    return load_anchors(realm.anchors.read_bytes())


def _anon(realm: MITRealm, **kw: object) -> ASExchange:
    pk = AnonymousPKINIT(realm.realm, kw.pop("anchors", _anchors(realm)), **kw)  # type: ignore[arg-type]
    return ASExchange(Principal.parse(realm.user), pkinit=pk)


@pytest.mark.parametrize("group", [kex.MODP14, kex.MODP16], ids=lambda g: g.name)
def test_c1_c7_anonymous_pkinit(mit_realm: MITRealm, group: kex.FFDHGroup) -> None:
    """C1-C7: anonymous PKINIT against MIT; the KDC signature, certificate, KDF reply key and
    the PA-PKINIT-KX contribution are all verified (any failure raises)."""
    reply = run(_anon(mit_realm, group=group), _kdcs(mit_realm))
    assert reply.client == Principal.anonymous(ANONYMOUS_REALM)  # C5
    assert reply.server.unparse() == f"krbtgt/{mit_realm.realm}@{mit_realm.realm}"
    assert reply.flags & TicketFlag.ANONYMOUS
    assert reply.kdc_realm == mit_realm.realm and reply.pa_type == 16


def test_ecdh_refused_cleanly_by_mit_120(mit_realm: MITRealm) -> None:
    with pytest.raises(KDCReplyError) as info:
        run(_anon(mit_realm, group=kex.CURVES["secp256r1"]), _kdcs(mit_realm))
    assert info.value.code == 65  # KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED


def test_identity_never_sent_with_anonymous_pkinit(mit_realm: MITRealm) -> None:
    """With the anonymous option the user's name appears in no byte sent to the KDC."""
    from gssmech.krb5.transport import send_to_kdc

    sent: list[bytes] = []

    def spy(message: bytes, kdcs: list[str], **kw: object) -> bytes:
        sent.append(message)
        return send_to_kdc(message, kdcs, **kw)  # type: ignore[arg-type]

    run(_anon(mit_realm), _kdcs(mit_realm), send=spy)
    assert len(sent) == 2
    for message in sent:
        assert b"user" not in message


def test_c6_wrong_anchor_refused(mit_realm: MITRealm) -> None:
    from cryptography import x509

    from gssmech.krb5.certs import make_ca

    other = x509.load_pem_x509_certificate(make_ca("not the KDC's CA").cert_pem)
    with pytest.raises(PKINITError, match="does not chain"):
        run(_anon(mit_realm, anchors=[other]), _kdcs(mit_realm))
    with pytest.raises(PKINITError, match="no pkinit_anchors"):
        run(_anon(mit_realm, anchors=[]), _kdcs(mit_realm))


def test_c6_kdc_certificate_for_other_realm_refused(mit_realm: MITRealm) -> None:
    """The KDC's certificate names krbtgt/GSSMECH.TEST; a client expecting another realm's KDC
    at this address must refuse it."""
    ex = ASExchange(Principal.parse(mit_realm.user), pkinit=AnonymousPKINIT(
        mit_realm.realm, _anchors(mit_realm)))
    ex.pkinit.realm = "OTHER.TEST"  # type: ignore[union-attr]
    with pytest.raises(PKINITError, match=r"does not name krbtgt/OTHER\.TEST"):
        run(ex, _kdcs(mit_realm))


def test_draft08_bit14_refused_by_mit(mit_realm: MITRealm) -> None:
    ex = ASExchange(Principal.parse(mit_realm.user),
                    pkinit=AnonymousPKINIT(mit_realm.realm, _anchors(mit_realm), profile=DRAFT08),
                    options=RequestOptions(profile=DRAFT08))
    with pytest.raises(KDCReplyError, match="bit 14") as info:
        run(ex, _kdcs(mit_realm))
    assert info.value.code == 13  # KDC_ERR_BADOPTION


def test_password_as(mit_realm: MITRealm) -> None:
    ex = ASExchange(Principal.parse(mit_realm.user), password=mit_realm.user_password)
    reply = run(ex, _kdcs(mit_realm))
    assert reply.client.unparse() == mit_realm.user and reply.pa_type == 2
    assert not reply.flags & TicketFlag.ANONYMOUS


def test_wrong_password_refused(mit_realm: MITRealm) -> None:
    ex = ASExchange(Principal.parse(mit_realm.user), password="wrong")
    with pytest.raises(KDCReplyError) as info:
        run(ex, _kdcs(mit_realm))
    assert info.value.code == 24  # KDC_ERR_PREAUTH_FAILED


def test_keytab_as(mit_realm: MITRealm, tmp_path: Path) -> None:
    from gssmech.ccache import Keytab

    mit_realm.addprinc("svc/kt")
    kt_path = tmp_path / "svc.keytab"
    mit_realm.ktadd(f"svc/kt@{mit_realm.realm}", kt_path)
    client = Principal.parse(f"svc/kt@{mit_realm.realm}")
    keys = keytab_keys(Keytab.resolve(f"FILE:{kt_path}"), client)
    reply = run(ASExchange(client, keys=keys), _kdcs(mit_realm))
    assert reply.client.components == ("svc", "kt")


def test_c8_authenticated_anonymity_refused_not_named(mit_realm: MITRealm) -> None:
    """C8: MIT refuses anonymous AS with long-term keys; we surface that, never a named TGT."""
    ex = ASExchange(Principal.parse(mit_realm.user), password=mit_realm.user_password,
                    anonymous=True)
    with pytest.raises((KDCReplyError, AnonymityError)):
        run(ex, _kdcs(mit_realm))


def test_tgs_normal_and_anonymous(mit_realm: MITRealm) -> None:
    host = Principal.parse(mit_realm.host_principal)
    named = run(ASExchange(Principal.parse(mit_realm.user), password=mit_realm.user_password),
                _kdcs(mit_realm))
    svc = run(TGSExchange(TGT.of(named), host), _kdcs(mit_realm))
    assert svc.server == host and svc.client.unparse() == mit_realm.user
    # C8: MIT never anonymizes a named TGT; the client refuses the named ticket it returns
    with pytest.raises(AnonymityError):
        run(TGSExchange(TGT.of(named), host, anonymous=True), _kdcs(mit_realm))
    anon = run(_anon(mit_realm), _kdcs(mit_realm))
    svc = run(TGSExchange(TGT.of(anon), host, anonymous=True), _kdcs(mit_realm))
    assert svc.client == Principal.anonymous(ANONYMOUS_REALM)
    assert svc.flags & TicketFlag.ANONYMOUS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gssmech")
    cli.register(parser.add_subparsers(dest="command"))
    return parser


def test_cli_kinit_n_then_mit_klist_and_kvno(
    mit_realm: MITRealm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in mit_realm.env.items():
        monkeypatch.setenv(k, v)
    cc = f"FILE:{tmp_path}/cc"
    args = _parser().parse_args(["kinit", "-n", "-c", cc, f"@{mit_realm.realm}"])
    assert args.func(args) == 0
    out = mit_realm.run(["klist", "-C", "-f", "-e", "-c", cc]).stdout
    assert "Default principal: WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" in out
    assert f"config: start_realm = {mit_realm.realm}" in out
    assert f"config: pa_type(krbtgt/{mit_realm.realm}@{mit_realm.realm}) = 16" in out
    assert f"config: fast_avail(krbtgt/{mit_realm.realm}@{mit_realm.realm}) = yes" in out
    assert "Flags: RIAa" in out or "Flags: FRIAa" in out
    # MIT's kvno finds the TGT in our anonymous cache through start_realm
    out = mit_realm.run(["kvno", "-c", cc, mit_realm.host_service]).stdout
    assert "kvno =" in out
    # and ours does the same
    args = _parser().parse_args(["kvno", "-c", cc, mit_realm.host_service])
    assert args.func(args) == 0
    out = mit_realm.run(["klist", "-f", "-c", cc]).stdout
    assert out.count("host/localhost@") == 2


def test_cli_kinit_password_and_keytab(
    mit_realm: MITRealm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for k, v in mit_realm.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("getpass.getpass", lambda prompt: mit_realm.user_password)
    cc = f"FILE:{tmp_path}/cc"
    args = _parser().parse_args(["kinit", "-c", cc, "user"])
    assert args.func(args) == 0
    out = mit_realm.run(["klist", "-C", "-c", cc]).stdout
    assert f"Default principal: {mit_realm.user}" in out and "pa_type" in out
    assert "start_realm" not in out
    args = _parser().parse_args(["kinit", "-k", "-t", str(mit_realm.keytab), "-c", cc,
                                 mit_realm.host_principal])
    assert args.func(args) == 0
    assert resolve(cc, config=load_default(mit_realm.env)).principal().unparse() == (
        mit_realm.host_principal
    )
    monkeypatch.setattr("getpass.getpass", lambda prompt: "wrong")
    args = _parser().parse_args(["kinit", "-c", cc, "user"])
    assert args.func(args) == 1
    assert "kinit:" in capsys.readouterr().err


def test_kinit_function_anonymous_cache_matches_mit(mit_realm: MITRealm, tmp_path: Path) -> None:
    """Our kinit -n cache and MIT's kinit -n cache list the same config entries and flags."""
    profile = load_default(mit_realm.env)
    ours = f"FILE:{tmp_path}/ours"
    kinit(profile, anonymous=True, ccname=ours, env=mit_realm.env)
    theirs = tmp_path / "theirs"
    mit_realm.run(["kinit", "-n", "-c", f"FILE:{theirs}"])

    def shape(cc: str) -> list[str]:
        # drop the cache name and the timestamps, keep principals, config entries and flags
        out = mit_realm.run(["klist", "-C", "-f", "-c", cc]).stdout.splitlines()[1:]
        return [ln.split()[-1] if ln[:2].isdigit() else ln.split(",")[-1] for ln in out]

    got = shape(ours)
    assert got == shape(f"FILE:{theirs}")
    assert " Flags: RIAa" in got and f"config: start_realm = {mit_realm.realm}" in got
