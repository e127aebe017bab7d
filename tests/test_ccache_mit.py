"""Caches written by MIT (kinit, kinit -n, ccache_type 1-3, kvno) read exactly and re-serialised
byte-identically; caches written by us (copy_to) accepted by MIT klist -C and kvno.

Every field we parse is checked against what MIT's own ``klist -C -e -f -a`` prints from the
same file, and the session key is proven right by MIT ``kvno`` using our copy to reach the KDC.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from gssmech.ccache import CCacheContents, Credential, parse, resolve, serialize
from gssmech.krb5.constants import ENCTYPE_NAMES, TicketFlag
from gssmech.krb5.principal import Principal

pytestmark = pytest.mark.interop

# klist.c flags_string(): letter per MIT ticket flag.
FLAG_LETTERS = {
    TicketFlag.FORWARDABLE: "F",
    TicketFlag.FORWARDED: "f",
    TicketFlag.PROXIABLE: "P",
    TicketFlag.PROXY: "p",
    TicketFlag.MAY_POSTDATE: "D",
    TicketFlag.POSTDATED: "d",
    TicketFlag.INVALID: "i",
    TicketFlag.RENEWABLE: "R",
    TicketFlag.INITIAL: "I",
    TicketFlag.HW_AUTHENT: "H",
    TicketFlag.PRE_AUTHENT: "A",
    TicketFlag.TRANSITED_POLICY_CHECKED: "T",
    TicketFlag.OK_AS_DELEGATE: "O",
    TicketFlag.ANONYMOUS: "a",
}
KLIST_ENV = {"TZ": "UTC", "LC_ALL": "C", "LANG": "C"}


# --- a minimal independent DER reader (so this test does not trust our own ASN.1 layer) -------
def der_tlv(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    """(tag byte, content start, content end) of the TLV at ``pos``."""
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    return tag, pos, pos + n


def der_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        tag, cs, ce = der_tlv(data, start)
        out.append((tag, cs, ce))
        start = ce
    return out


def ticket_etype_and_sname(ticket: bytes) -> tuple[int, str, list[str]]:
    """Ticket ::= [APPLICATION 1] SEQUENCE {tkt-vno[0], realm[1], sname[2], enc-part[3]}."""
    tag, cs, ce = der_tlv(ticket)
    assert tag == 0x61 and ce == len(ticket)
    _, ss, se = der_tlv(ticket, cs)
    fields = {t: (s, e) for t, s, e in der_children(ticket, ss, se)}
    rs, _ = fields[0xA1]
    _, r0, r1 = der_tlv(ticket, rs)
    realm = ticket[r0:r1].decode()
    _, ns, ne = der_tlv(ticket, fields[0xA2][0])
    name_fields = {t: (s, e) for t, s, e in der_children(ticket, ns, ne)}
    _, ls, le = der_tlv(ticket, name_fields[0xA1][0])
    comps = [ticket[s:e].decode() for _, s, e in der_children(ticket, ls, le)]
    _, es, ee = der_tlv(ticket, fields[0xA3][0])
    enc = {t: (s, e) for t, s, e in der_children(ticket, es, ee)}
    _, i0, i1 = der_tlv(ticket, enc[0xA0][0])
    etype = int.from_bytes(ticket[i0:i1], "big", signed=True)
    return etype, realm, comps


# --- klist -C -e -f -a output ---------------------------------------------------------------
def klist(realm: Any, cache: str, *extra: str) -> dict[str, Any]:
    out = realm.run(["klist", "-C", "-e", "-f", "-a", *extra, cache], env_extra=KLIST_ENV).stdout
    result: dict[str, Any] = {"tickets": [], "config": []}
    ticket_re = re.compile(
        r"^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d)\s+(\d\d/\d\d/\d\d \d\d:\d\d:\d\d)\s+(\S+)$"
    )
    for line in out.splitlines():
        if line.startswith("Default principal: "):
            result["principal"] = line.split(": ", 1)[1]
        elif line.startswith("Ticket cache: "):
            result["name"] = line.split(": ", 1)[1]
        elif line.startswith("config: "):
            result["config"].append(line[len("config: ") :])
        elif m := ticket_re.match(line):
            result["tickets"].append({"start": m[1], "end": m[2], "server": m[3]})
        elif line.startswith("\t") and result["tickets"]:
            t = result["tickets"][-1]
            for part in line.strip().split(", "):
                if part.startswith("renew until "):
                    t["renew"] = part[len("renew until ") :]
                elif part.startswith("Flags: "):
                    t["flags"] = part[len("Flags: ") :]
            if line.strip().startswith("Etype (skey, tkt): "):
                t["etypes"] = line.strip().split(": ", 1)[1]
            if line.strip().startswith("Addresses: "):
                t["addresses"] = line.strip().split(": ", 1)[1]
    return result


def fmt_time(t: int) -> str:
    return time.strftime("%m/%d/%y %H:%M:%S", time.gmtime(t))


def flag_letters(flags: int) -> str:
    return "".join(letter for bit, letter in FLAG_LETTERS.items() if flags & bit)


def assert_matches_klist(contents: CCacheContents, shown: dict[str, Any]) -> None:
    """Every field klist can show agrees with what we parsed from the same bytes."""
    assert shown["principal"] == contents.principal.unparse()
    tickets = [c for c in contents.credentials if not c.is_config and not c.is_removed]
    assert len(tickets) == len(shown["tickets"])
    for cred, t in zip(tickets, shown["tickets"]):
        assert t["server"] == cred.server.unparse()
        assert t["start"] == fmt_time(cred.starttime or cred.authtime)
        assert t["end"] == fmt_time(cred.endtime)
        if cred.ticket_flags & TicketFlag.RENEWABLE:
            assert t["renew"] == fmt_time(cred.renew_till)
        assert sorted(t.get("flags", "")) == sorted(flag_letters(cred.ticket_flags))
        tkt_etype, tkt_realm, sname = ticket_etype_and_sname(cred.ticket)
        assert t["etypes"] == f"{ENCTYPE_NAMES[cred.key.enctype]}, {ENCTYPE_NAMES[tkt_etype]}"
        assert (tkt_realm, tuple(sname)) == (cred.server.realm, cred.server.components)
        assert t.get("addresses") == "(none)" and cred.addresses == ()
        assert cred.client == contents.principal or cred.client.realm != contents.principal.realm
        assert 0 < cred.authtime <= (cred.starttime or cred.authtime) < cred.endtime
        assert len(cred.key.contents) == {17: 16, 18: 32, 19: 16, 20: 32}[cred.key.enctype]
        assert cred.second_ticket == b"" and not cred.is_skey
    configs = []
    for c in contents.config_entries():
        assoc = f"({c.config_principal})" if c.config_principal else ""
        configs.append(f"{c.config_key}{assoc} = {c.ticket.decode()}")
    assert configs == shown["config"]


def read_exactly(path: Path) -> CCacheContents:
    data = path.read_bytes()
    contents = parse(data, source=str(path))
    assert serialize(contents) == data  # byte-identical round trip
    return contents


# --- tests ------------------------------------------------------------------------------------
def test_password_kinit_cache(mit_realm: Any, tmp_path: Path) -> None:
    cc = tmp_path / "cc.pw"
    mit_realm.kinit(mit_realm.user, ccache=cc)
    contents = read_exactly(cc)
    assert contents.version == 4 and contents.kdc_offset is not None
    assert contents.principal == Principal.parse(mit_realm.user)
    tgt = Principal.krbtgt(mit_realm.realm)
    (cred,) = [c for c in contents.credentials if not c.is_config]
    assert cred.server == tgt and cred.client == contents.principal
    assert cred.ticket_flags & TicketFlag.INITIAL and cred.ticket_flags & TicketFlag.PRE_AUTHENT
    assert resolve(f"FILE:{cc}").get_config("fast_avail", tgt) == b"yes"
    assert_matches_klist(contents, klist(mit_realm, str(cc)))


def test_anonymous_pkinit_cache(mit_realm: Any, tmp_path: Path) -> None:
    cc = tmp_path / "cc.anon"
    mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=cc)
    contents = read_exactly(cc)
    assert contents.principal == Principal.anonymous()
    assert contents.principal.name_type == 11
    tgt = Principal.krbtgt(mit_realm.realm)
    cache = resolve(str(cc))
    (cred,) = cache.credentials()
    assert cred.server == tgt and cred.client == Principal.anonymous()
    assert cred.ticket_flags & TicketFlag.ANONYMOUS
    assert cache.get_config("fast_avail", tgt) == b"yes"
    assert cache.get_config("pa_type", tgt) == b"16"  # PKINIT (RFC 4556 PA-PK-AS-REQ)
    assert cache.get_config("start_realm") == mit_realm.realm.encode()
    assert {c.config_key for c in cache.config_entries()} >= {
        "fast_avail",
        "pa_type",
        "start_realm",
    }
    assert_matches_klist(contents, klist(mit_realm, str(cc)))


@pytest.mark.parametrize("anonymous", [False, True], ids=["password", "anonymous"])
@pytest.mark.parametrize("version", [1, 2, 3])
def test_old_ccache_types(mit_realm: Any, tmp_path: Path, version: int, anonymous: bool) -> None:
    conf = tmp_path / "krb5.conf"
    conf.write_text(
        f"include {mit_realm.env['KRB5_CONFIG']}\n\n[libdefaults]\n    ccache_type = {version}\n"
    )
    cc = tmp_path / f"cc.v{version}"
    env = {"KRB5_CONFIG": str(conf)}
    if anonymous:
        mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=cc, env_extra=env)
    else:
        mit_realm.kinit(mit_realm.user, ccache=cc, env_extra=env)
    assert cc.read_bytes()[:2] == bytes([5, version])
    contents = read_exactly(cc)
    assert contents.version == version and contents.kdc_offset is None
    want = Principal.anonymous() if anonymous else Principal.parse(mit_realm.user)
    assert contents.principal.components == want.components
    assert contents.principal.name_type == (0 if version == 1 else want.name_type)
    tgt = Principal.krbtgt(mit_realm.realm)
    cache = resolve(str(cc))
    assert cache.get_config("fast_avail", tgt) == b"yes"
    if anonymous:
        assert cache.get_config("pa_type", tgt) == b"16"
        assert cache.get_config("start_realm") == mit_realm.realm.encode()
    assert_matches_klist(contents, klist(mit_realm, str(cc)))
    # MIT kvno appends to an old-format cache; the appended record still parses exactly.
    mit_realm.run(["kvno", "-c", str(cc), mit_realm.host_service], env_extra=env)
    contents = read_exactly(cc)
    assert cache.find(Principal.parse(mit_realm.host_principal)) is not None
    assert_matches_klist(contents, klist(mit_realm, str(cc)))


@pytest.mark.parametrize("version", [4, 3, 2, 1])
def test_copy_to_is_accepted_by_mit(mit_realm: Any, tmp_path: Path, version: int) -> None:
    src_path = tmp_path / "src"
    mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=src_path)
    before = src_path.read_bytes()
    src = resolve(f"FILE:{src_path}")
    dst = resolve(f"FILE:{tmp_path / 'dst'}")
    src.copy_to(dst, version=version)
    assert src_path.read_bytes() == before
    assert (tmp_path / "dst").stat().st_mode & 0o777 == 0o600
    ours, theirs = klist(mit_realm, dst.full_name), klist(mit_realm, src.full_name)
    assert ours["tickets"] == theirs["tickets"] and ours["config"] == theirs["config"]
    assert ours["principal"] == theirs["principal"]
    # MIT kvno uses our copy's TGT (so the session key and ticket are intact) and appends.
    mit_realm.run(["kvno", "-c", str(tmp_path / "dst"), mit_realm.host_service])
    service = Principal.parse(mit_realm.host_principal)
    got = dst.find(service)
    assert isinstance(got, Credential)
    # v1 stores no name types; compare the way krb5_principal_compare does.
    assert got.client.components == Principal.anonymous().components
    assert got.client.realm == Principal.anonymous().realm and got.ticket[:1] == b"\x61"
    assert dst.read().version == version
    assert src.find(service) is None
    assert_matches_klist(read_exactly(tmp_path / "dst"), klist(mit_realm, dst.full_name))
