"""The python-gssapi-shaped API end to end: tickets from a real MIT KDC (kinit, kinit -n, kvno),
the realm's host keytab, an in-process initiator/acceptor pair; G1/G3 identity-leak checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gssmech.errors import GSS_S_DUPLICATE_TOKEN, GSS_S_FAILURE, GSSMechError, Minor
from gssmech.gss import oids
from gssmech.gss.api import (
    Credentials,
    MechType,
    Name,
    NameType,
    RequirementFlag,
    SecurityContext,
    SupplementaryStatus,
)
from gssmech.gss.display import display_major, display_minor
from gssmech.gss.names import RealmConfig
from gssmech.gss.replaycache import MemoryReplayCache
from gssmech.krb5 import config

pytestmark = pytest.mark.interop
ANON = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"
F = RequirementFlag


@pytest.fixture
def cfg(mit_realm: Any) -> RealmConfig:
    return RealmConfig.from_profile(
        config.parse_text(Path(mit_realm.env["KRB5_CONFIG"]).read_text())
    )


def _cache(mit_realm: Any, path: Path, anonymous: bool) -> str:
    if anonymous:
        mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=path)
    else:
        mit_realm.kinit(mit_realm.user, ccache=path)
    mit_realm.run(["kvno", "-c", str(path), mit_realm.host_principal])
    return f"FILE:{path}"


def _pair(
    mit_realm: Any, cfg: RealmConfig, ccache: str, flags: int, mech: Any = MechType.kerberos
) -> tuple[SecurityContext, SecurityContext, list[bytes]]:
    target = Name("host@localhost", NameType.hostbased_service, config=cfg)
    icred = Credentials(usage="initiate", store={"ccache": ccache}, env=mit_realm.env)
    acred = Credentials(
        usage="accept", store={"keytab": f"FILE:{mit_realm.keytab}"}, env=mit_realm.env
    )
    init = SecurityContext(name=target, creds=icred, flags=flags, mech=mech, usage="initiate")
    acc = SecurityContext(creds=acred, usage="accept", replay_cache=MemoryReplayCache())
    sent: list[bytes] = []
    token = init.step()
    while token is not None:
        sent.append(token)
        reply = acc.step(token)
        if reply is None:
            break
        token = init.step(reply)
        if token is not None:
            sent.append(token)
    assert init.complete and acc.complete
    return init, acc, sent


@pytest.mark.parametrize("mech", [MechType.kerberos, oids.native_mech()])
def test_authenticated_pair(mit_realm: Any, cfg: RealmConfig, tmp_path: Path, mech: Any) -> None:
    cc = _cache(mit_realm, tmp_path / "user.cc", anonymous=False)
    init, acc, sent = _pair(mit_realm, cfg, cc, F.mutual_authentication | F.replay_detection, mech)
    assert len(sent) == 1 and acc.mech == mech
    assert str(acc.initiator_name) == mit_realm.user
    assert acc.initiator_name is not None
    assert acc.initiator_name.name_type == oids.NT_KRB5_PRINCIPAL_NAME
    assert str(acc.target_name) == mit_realm.host_principal
    assert str(init.target_name) == mit_realm.host_principal
    for ctx in (init, acc):
        assert F.mutual_authentication in ctx.actual_flags
        assert F.anonymity not in ctx.actual_flags
        assert F.confidentiality in ctx.actual_flags and F.integrity in ctx.actual_flags
        assert 0 < ctx.lifetime <= 10 * 3600
    # per-message, both directions
    for a, b in ((init, acc), (acc, init)):
        for encrypt in (True, False):
            wrapped = a.wrap(b"hello", encrypt)
            assert wrapped.encrypted is encrypt
            res = b.unwrap(wrapped.message)
            assert (res.message, res.encrypted, res.qop) == (b"hello", encrypt, 0)
        mic = a.get_signature(b"signed")
        assert b.verify_signature(b"signed", mic) == 0
        with pytest.raises(GSSMechError):
            b.verify_signature(b"signeD", a.get_signature(b"signed"))
    replayed = init.wrap(b"once", True).message
    assert acc.unwrap(replayed).message == b"once"
    with pytest.raises(SupplementaryStatus) as exc:
        acc.unwrap(replayed)
    assert exc.value.major == GSS_S_DUPLICATE_TOKEN
    # export / import resumes per-message protection elsewhere
    token = acc.export()
    resumed = SecurityContext(token=token)
    assert resumed.unwrap(init.wrap(b"after export", True).message).message == b"after export"


def test_replayed_ap_req_is_refused(mit_realm: Any, cfg: RealmConfig, tmp_path: Path) -> None:
    cc = _cache(mit_realm, tmp_path / "user.cc", anonymous=False)
    target = Name("host@localhost", NameType.hostbased_service, config=cfg)
    icred = Credentials(usage="initiate", store={"ccache": cc}, env=mit_realm.env)
    acred = Credentials(usage="accept", store={"keytab": str(mit_realm.keytab)}, env=mit_realm.env)
    rc = MemoryReplayCache()
    token = SecurityContext(name=target, creds=icred, usage="initiate").step()
    assert token is not None
    SecurityContext(creds=acred, usage="accept", replay_cache=rc).step(token)
    with pytest.raises(GSSMechError) as exc:
        SecurityContext(creds=acred, usage="accept", replay_cache=rc).step(token)
    assert exc.value.major == GSS_S_FAILURE | GSS_S_DUPLICATE_TOKEN
    assert exc.value.minor == Minor.REPLAYED


def test_anonymous_pair_acceptor_sees_only_the_anonymous_name(
    mit_realm: Any, cfg: RealmConfig, tmp_path: Path
) -> None:
    """G1: the name the acceptor decrypts is the anonymous one, with ANON on both sides.

    (The byte-level identity-leak test -- KDC and acceptor traffic recorded, sent tickets and
    authenticators decrypted, control runs without the flag -- is
    tests/interop/test_gss_identity_leak.py; a plain byte search of AP-REQ tokens cannot fail,
    because the client name travels encrypted even for a named user.)"""
    cc = _cache(mit_realm, tmp_path / "anon.cc", anonymous=True)
    init, acc, _sent = _pair(mit_realm, cfg, cc, F.mutual_authentication | F.anonymity)
    assert F.anonymity in init.actual_flags and F.anonymity in acc.actual_flags
    assert acc.initiator_name is not None
    assert (str(acc.initiator_name), acc.initiator_name.name_type) == (ANON, oids.NT_ANONYMOUS)
    wrapped = init.wrap(b"anon hello", True).message
    assert acc.unwrap(wrapped).message == b"anon hello"


def test_g3_named_credential_with_anon_flag_gives_no_token(
    mit_realm: Any, cfg: RealmConfig, tmp_path: Path
) -> None:
    """G3: anonymity asked, credential is the user's -> an error, and no token at all."""
    cc = tmp_path / "user.cc"
    mit_realm.kinit(mit_realm.user, ccache=cc)  # no service ticket: a TGS would be needed
    icred = Credentials(usage="initiate", store={"ccache": f"FILE:{cc}"}, env=mit_realm.env)
    target = Name("host@localhost", NameType.hostbased_service, config=cfg)
    ctx = SecurityContext(name=target, creds=icred, flags=F.anonymity | F.mutual_authentication)
    produced: list[bytes | None] = []
    with pytest.raises(GSSMechError) as exc:
        produced.append(ctx.step())
    assert produced == []
    # refused before any ticket lookup or KDC contact: the anonymity error, not "no ticket"
    assert exc.value.minor == Minor.ANONYMITY_UNAVAILABLE
    assert not ctx.complete
    # also when a service ticket is at hand: the core refuses before building the AP-REQ
    mit_realm.run(["kvno", "-c", str(cc), mit_realm.host_principal])
    ctx = SecurityContext(name=target, creds=icred, flags=F.anonymity)
    with pytest.raises(GSSMechError) as exc:
        produced.append(ctx.step())
    assert produced == [] and exc.value.minor == Minor.ANONYMITY_UNAVAILABLE


def test_default_flags_and_not_established(mit_realm: Any, cfg: RealmConfig) -> None:
    target = Name("host@localhost", NameType.hostbased_service, config=cfg)
    ctx = SecurityContext(name=target)
    assert ctx._flags == F.mutual_authentication | F.out_of_sequence_detection
    with pytest.raises(GSSMechError):
        ctx.wrap(b"x", True)


def test_display_status_words() -> None:
    assert display_major(0x90000) == ["Invalid token was supplied"]
    assert display_major((3 << 16) | 2) == [
        "A supplied name was of an unsupported type",
        "The token was a duplicate of an earlier token",
    ]
    assert "anonymity" in display_minor(Minor.ANONYMITY_UNAVAILABLE)
