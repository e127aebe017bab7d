"""GSS credentials from caches and keytabs MIT wrote; store_cred read back by MIT klist."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gssmech.errors import (
    GSS_S_CREDENTIALS_EXPIRED,
    GSS_S_DUPLICATE_ELEMENT,
    GSS_S_NO_CRED,
    GSSMechError,
    Minor,
)
from gssmech.gss import creds as creds_mod
from gssmech.gss import oids
from gssmech.gss.creds import acquire
from gssmech.gss.names import RealmConfig, import_name
from gssmech.krb5 import config
from gssmech.krb5.constants import NameType
from gssmech.krb5.principal import Principal

pytestmark = pytest.mark.interop
ANON = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"


@pytest.fixture
def realm_cfg(mit_realm: Any) -> RealmConfig:
    text = Path(mit_realm.env["KRB5_CONFIG"]).read_text()
    return RealmConfig.from_profile(config.parse_text(text))


@pytest.fixture
def user_cc(mit_realm: Any, tmp_path: Path) -> str:
    cc = tmp_path / "user.cc"
    mit_realm.kinit(mit_realm.user, ccache=cc)
    return f"FILE:{cc}"


@pytest.fixture
def anon_cc(mit_realm: Any, tmp_path: Path) -> str:
    cc = tmp_path / "anon.cc"
    mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=cc)
    return f"FILE:{cc}"


def test_initiator_from_mit_kinit_cache(mit_realm: Any, user_cc: str) -> None:
    cred = acquire(usage="initiate", store={"ccache": user_cc}, env=mit_realm.env)
    assert cred.usage == "initiate" and not cred.anonymous
    assert cred.name is not None
    assert cred.name.display() == (mit_realm.user, oids.NT_KRB5_PRINCIPAL_NAME)
    lifetime = cred.lifetime()
    assert lifetime is not None and 9 * 3600 < lifetime <= 10 * 3600  # max_life = 10h
    limited = acquire(usage="initiate", store={"ccache": user_cc}, lifetime=60, env=mit_realm.env)
    assert limited.lifetime() == 60


def test_initiator_name_must_match_cache(mit_realm: Any, user_cc: str, realm_cfg: Any) -> None:
    other = import_name(b"somebody-else", oids.NT_USER_NAME, config=realm_cfg)
    with pytest.raises(GSSMechError) as exc:
        acquire(other, usage="initiate", store={"ccache": user_cc}, env=mit_realm.env)
    assert exc.value.major == GSS_S_NO_CRED
    me = import_name(b"user", oids.NT_USER_NAME, config=realm_cfg)
    assert acquire(me, usage="initiate", store={"ccache": user_cc}, env=mit_realm.env).name


def test_expired_cache(mit_realm: Any, user_cc: str) -> None:
    future = int(time.time()) + 30 * 86400
    with pytest.raises(GSSMechError) as exc:
        acquire(usage="initiate", store={"ccache": user_cc}, env=mit_realm.env, now=future)
    assert exc.value.major == GSS_S_CREDENTIALS_EXPIRED


def test_anonymous_cache_from_kinit_n(mit_realm: Any, anon_cc: str) -> None:
    name = import_name(b"", oids.NT_ANONYMOUS)
    cred = acquire(name, usage="initiate", store={"ccache": anon_cc}, env=mit_realm.env)
    assert cred.anonymous
    assert cred.name is not None and cred.name.display() == (ANON, oids.NT_ANONYMOUS)
    assert cred.ccache is not None
    assert all(creds_mod.is_anonymous_ticket(c) for c in cred.ccache.credentials())


def test_anon_flag_finds_configured_anonymous_cache(
    mit_realm: Any, user_cc: str, anon_cc: str
) -> None:
    env = {**mit_realm.env, creds_mod.ANON_CCACHE_ENV: anon_cc}
    cred = acquire(usage="initiate", store={"ccache": user_cc}, anonymous=True, env=env)
    assert cred.anonymous and cred.ccache is not None and cred.ccache.full_name == anon_cc
    # never the user's own (named) cache
    assert cred.name is not None and cred.name.is_anonymous


def test_anon_obtains_anonymous_tgt_by_pkinit(mit_realm: Any, user_cc: str, tmp_path: Path) -> None:
    """No anonymous ticket cached: the mech runs anonymous PKINIT itself and caches the TGT."""
    anon_cc = f"FILE:{tmp_path / 'obtained.cc'}"
    env = {**mit_realm.env, creds_mod.ANON_CCACHE_ENV: anon_cc}
    cred = acquire(usage="initiate", store={"ccache": user_cc}, anonymous=True, env=env)
    assert cred.anonymous and cred.name is not None and cred.name.is_anonymous
    out = mit_realm.run(["klist", "-f", "-C", "-c", anon_cc]).stdout
    assert "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" in out
    assert f"config: start_realm = {mit_realm.realm}" in out


def test_anon_without_anonymous_ticket_fails_closed(
    mit_realm: Any, user_cc: str, tmp_path: Path
) -> None:
    """Anonymous PKINIT impossible (no pkinit_anchors): an error, never the named cache."""
    conf = tmp_path / "krb5.noanchors.conf"
    conf.write_text(
        "".join(
            line
            for line in open(mit_realm.env["KRB5_CONFIG"]).readlines()
            if "pkinit_anchors" not in line
        )
    )
    env = {
        **mit_realm.env,
        "KRB5_CONFIG": str(conf),
        creds_mod.ANON_CCACHE_ENV: f"FILE:{tmp_path / 'none.cc'}",
    }
    with pytest.raises(GSSMechError) as exc:
        acquire(usage="initiate", store={"ccache": user_cc}, anonymous=True, env=env)
    assert exc.value.minor == Minor.ANONYMITY_UNAVAILABLE
    # the anonymous name type alone (no anon flag) fails closed the same way
    with pytest.raises(GSSMechError):
        acquire(import_name(b"", oids.NT_ANONYMOUS), usage="initiate", env=env)


def test_acceptor_from_host_keytab(mit_realm: Any, realm_cfg: RealmConfig) -> None:
    store = {"keytab": f"FILE:{mit_realm.keytab}"}
    any_key = acquire(usage="accept", store=store, env=mit_realm.env)
    assert any_key.usage == "accept" and any_key.name is None and any_key.lifetime() is None
    host = import_name(b"host@localhost", oids.NT_HOSTBASED_SERVICE, config=realm_cfg)
    cred = acquire(host, usage="accept", store=store, env=mit_realm.env)
    target = Principal.parse(mit_realm.host_principal)
    key = cred.key_lookup(target, None, 18)
    assert key is not None and key.enctype == 18 and len(key.contents) == 32
    assert cred.key_lookup(target, 999, 17) is not None  # kvno mismatch falls back (MIT)
    assert cred.key_lookup(Principal.parse(f"other/localhost@{mit_realm.realm}"), None, 18) is None
    missing = import_name(b"nfs@localhost", oids.NT_HOSTBASED_SERVICE, config=realm_cfg)
    with pytest.raises(GSSMechError) as exc:
        acquire(missing, usage="accept", store=store, env=mit_realm.env)
    assert exc.value.major == GSS_S_NO_CRED and exc.value.minor == Minor.KEYTAB_NO_KEY
    assert "nfs/localhost" in str(exc.value)


def test_default_acceptor_reports_the_first_keytab_principal(
    mit_realm: Any, tmp_path: Path
) -> None:
    """RFC 2743 §2.1.3 inquiry of a credential that has no name (any key will do): MIT reports
    the keytab's first principal, and so do we; a named credential reports its own name."""
    keytab = tmp_path / "two.keytab"
    mit_realm.addprinc(f"imap/localhost@{mit_realm.realm}")
    mit_realm.ktadd(f"imap/localhost@{mit_realm.realm}", keytab)
    mit_realm.ktadd(mit_realm.host_principal, keytab, randkey=False)
    store = {"keytab": f"FILE:{keytab}"}
    any_key = acquire(usage="accept", store=store, env=mit_realm.env)
    assert any_key.name is None  # still accepts for any principal in the keytab
    reported = any_key.reported_name()
    assert reported is not None
    assert reported.display()[0] == f"imap/localhost@{mit_realm.realm}"
    host = acquire(
        import_name(mit_realm.host_principal.encode(), oids.NT_KRB5_PRINCIPAL_NAME),
        usage="accept", store=store, env=mit_realm.env,
    )
    assert host.reported_name() == host.name
    keytab.write_bytes(b"\x05\x02")  # emptied after acquisition: nothing to report
    assert any_key.reported_name() is None


def test_missing_files_have_their_own_minor_codes(mit_realm: Any, tmp_path: Path) -> None:
    with pytest.raises(GSSMechError) as exc:
        acquire(usage="initiate", store={"ccache": f"FILE:{tmp_path}/none"}, env=mit_realm.env)
    assert exc.value.minor == Minor.CCACHE_NOT_FOUND and f"{tmp_path}/none" in str(exc.value)
    with pytest.raises(GSSMechError) as exc:
        acquire(usage="accept", store={"keytab": f"FILE:{tmp_path}/kt"}, env=mit_realm.env)
    assert exc.value.minor == Minor.KEYTAB_NOT_FOUND and f"{tmp_path}/kt" in str(exc.value)


def test_service_ticket_from_mit_kvno(mit_realm: Any, user_cc: str) -> None:
    mit_realm.run(["kvno", "-c", user_cc.removeprefix("FILE:"), mit_realm.host_principal])
    cred = acquire(usage="initiate", store={"ccache": user_cc}, env=mit_realm.env)
    target = Principal.parse(mit_realm.host_principal)
    ticket = cred.service_ticket(target)
    assert ticket.server.components == ("host", "localhost") and ticket.ticket
    referral = Principal(NameType.SRV_HST, ("host", "localhost"), "")
    assert cred.service_ticket(referral).ticket == ticket.ticket
    with pytest.raises(GSSMechError):
        cred.service_ticket(Principal.parse(f"nfs/nowhere@{mit_realm.realm}"))


def test_store_cred_read_by_mit_klist(mit_realm: Any, user_cc: str, tmp_path: Path) -> None:
    cred = acquire(usage="initiate", store={"ccache": user_cc}, env=mit_realm.env)
    out = tmp_path / "stored.cc"
    stored = cred.store({"ccache": f"FILE:{out}"})
    assert stored.principal() == cred.ccache.principal()  # type: ignore[union-attr]
    listing = mit_realm.run(["klist", "-c", str(out)]).stdout
    assert f"Default principal: {mit_realm.user}" in listing
    assert f"krbtgt/{mit_realm.realm}@{mit_realm.realm}" in listing
    with pytest.raises(GSSMechError) as exc:
        cred.store({"ccache": f"FILE:{out}"}, overwrite=False)
    assert exc.value.major == GSS_S_DUPLICATE_ELEMENT  # RFC 5588 §2
