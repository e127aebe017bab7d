"""GSS names (RFC 2743 §2.4/§3.2, RFC 1964 §2.1, G1/G2 of draft-ietf-krb-wg-anon-08 §6).

The interop test imports the same inputs into MIT's krb5 mechanism through python-gssapi (in a
subprocess, so its KRB5_CONFIG is the test's) and requires our canonical display, name type and
export token to equal MIT's byte for byte.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gssmech.errors import GSS_S_BAD_MECH, GSS_S_BAD_NAME, GSS_S_NAME_NOT_MN, GSSMechError
from gssmech.gss import oids
from gssmech.gss.names import GSSName, RealmConfig, import_export_token, import_name
from gssmech.gss.oids import Oid
from gssmech.krb5 import config
from gssmech.krb5.principal import Principal

KRB5_CONF = """[libdefaults]
    default_realm = EXAMPLE.TEST
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
[domain_realm]
    localhost = LOCAL.TEST
    .foo.test = FOO.TEST
    bar.test = BAR.TEST
    x.bar.test = XBAR.TEST
"""
CFG = RealmConfig.from_profile(config.parse_text(KRB5_CONF), local_hostname="myhost")
ANON = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"

HB = oids.NT_HOSTBASED_SERVICE
HBX = oids.NT_HOSTBASED_SERVICE_X  # RFC 2078's OID for the same syntax (RFC 2743 §4.1)
KP = oids.NT_KRB5_PRINCIPAL_NAME
USER = oids.NT_USER_NAME
AN = oids.NT_ANONYMOUS

# (input, name type) pairs MIT accepts; compared against MIT in test_matches_mit.
CASES: list[tuple[bytes, Oid]] = [
    (b"host@localhost", HB),
    (b"host@www.foo.test", HB),
    (b"host@other.test", HB),
    (b"Host@LocalHost.", HB),
    (b"host@a.bar.test", HB),
    (b"host@y.x.bar.test", HB),
    (b"a@b@localhost", HB),
    (b"h/x@localhost", HB),
    (b"host", HB),
    (b"host@localhost", HBX),
    (b"host@a.bar.test", HBX),
    (b"host", HBX),
    (b"host@", HB),
    (b"alice", USER),
    (b"alice", KP),
    (b"alice@R2", KP),
    (b"a/b/c@R2", KP),
    (b"a\\@b@R", KP),
    (b"@R2", KP),
    (b"", AN),
    (b"whatever", AN),
    (ANON.encode(), KP),
    (ANON.encode(), USER),
    (b"WELLKNOWN/ANONYMOUS@R2", KP),
    (b"WELLKNOWN/ANONYMOUS", KP),
]


def canon(data: bytes, nt: Oid) -> GSSName:
    return import_name(data, nt, config=CFG).canonicalize(oids.KRB5_MECH)


# --- G1 / G2 ------------------------------------------------------------------------------------
def test_g1_anonymous_name_displays_as_nt_anonymous() -> None:
    for buf in (b"", b"anything"):
        name = canon(buf, AN)
        assert name.display() == (ANON, oids.NT_ANONYMOUS)
        assert name.is_anonymous
    # the same principal reached through a krb5 string is still GSS_C_NT_ANONYMOUS once an MN
    assert canon(ANON.encode(), KP).display() == (ANON, oids.NT_ANONYMOUS)


def test_g2_authenticated_anonymous_keeps_realm_and_krb5_type() -> None:
    name = canon(b"WELLKNOWN/ANONYMOUS@R2", KP)
    assert name.display() == ("WELLKNOWN/ANONYMOUS@R2", oids.NT_KRB5_PRINCIPAL_NAME)
    assert not name.is_anonymous
    token = name.export()
    assert token.endswith(b"WELLKNOWN/ANONYMOUS@R2")
    back = import_export_token(token)
    assert back.principal.realm == "R2" and back.display()[1] == oids.NT_KRB5_PRINCIPAL_NAME


# --- import/display/export --------------------------------------------------------------------
def test_non_canonical_name_displays_as_imported() -> None:
    name = import_name(b"host@localhost", HB, config=CFG)
    assert name.display() == ("host@localhost", HB)
    assert not name.is_mech_name
    with pytest.raises(GSSMechError) as exc:
        name.export()
    assert exc.value.major == GSS_S_NAME_NOT_MN


def test_export_layout_rfc1964() -> None:
    token = canon(b"alice@R2", KP).export()
    oid = oids.KRB5_MECH.tlv
    assert token[:2] == b"\x04\x01"
    assert struct.unpack(">H", token[2:4])[0] == len(oid) == 11
    assert token[4 : 4 + len(oid)] == bytes.fromhex("06092a864886f712010202")
    assert struct.unpack(">I", token[15:19])[0] == len(b"alice@R2")
    assert token[19:] == b"alice@R2"


def test_export_with_native_oid_and_reimport() -> None:
    name = canon(b"alice@R2", KP)
    native = oids.native_mech()
    token = name.export(native)
    assert native.tlv in token
    back = import_name(token, oids.NT_EXPORT_NAME)
    assert back.mech == native and back.compare(name)
    assert back.export(oids.KRB5_MECH) == name.export()


def test_export_name_other_mech_is_bad_mech() -> None:
    spnego = Oid.from_dotted("1.3.6.1.5.5.2")
    body = b"alice@R"
    token = b"\x04\x01" + struct.pack(">H", len(spnego.tlv)) + spnego.tlv
    token += struct.pack(">I", len(body)) + body
    with pytest.raises(GSSMechError) as exc:
        import_export_token(token)
    assert exc.value.major == GSS_S_BAD_MECH


def test_compare_and_duplicate() -> None:
    a = canon(b"alice@R2", KP)
    assert a.compare(import_name(b"alice@R2", USER, config=CFG))
    assert not a.compare(canon(b"alice@R3", KP))
    assert a.duplicate() == a and a.duplicate().compare(a)
    anon = canon(b"", AN)
    assert not anon.compare(anon)  # RFC 2743 §2.4.3: anonymous names never compare equal


def test_hostbased_realm_lookup() -> None:
    assert canon(b"host@localhost", HB).principal == Principal(
        3, ("host", "localhost"), "LOCAL.TEST"
    )
    assert canon(b"host", HB).principal.components == ("host", "myhost")
    assert canon(b"http@deep.www.foo.test", HB).principal.realm == "FOO.TEST"
    assert canon(b"http@unmapped.example", HB).principal.realm == ""  # referral realm


def test_uid_names() -> None:
    def lookup(uid: int) -> str:
        if uid == 1234:
            return "bob"
        raise GSSMechError("no such uid")

    raw = (1234).to_bytes(4, sys.byteorder)
    name = import_name(raw, oids.NT_MACHINE_UID_NAME, config=CFG, uid_lookup=lookup)
    assert str(name.canonicalize()) == "bob@EXAMPLE.TEST"
    name = import_name(b"1234", oids.NT_STRING_UID_NAME, config=CFG, uid_lookup=lookup)
    assert str(name.canonicalize()) == "bob@EXAMPLE.TEST"
    for bad, nt in [(b"12a", oids.NT_STRING_UID_NAME), (b"\0\0\0", oids.NT_MACHINE_UID_NAME)]:
        with pytest.raises(GSSMechError) as exc:
            import_name(bad, nt, config=CFG, uid_lookup=lookup)
        assert exc.value.major == GSS_S_BAD_NAME


@pytest.mark.parametrize("bad", [b"", b"a\\", b"a@R@S", b"\xff\xfe"])
def test_bad_principal_strings(bad: bytes) -> None:
    with pytest.raises(GSSMechError) as exc:
        import_name(bad, KP, config=CFG)
    assert exc.value.major == GSS_S_BAD_NAME


@pytest.mark.parametrize("nt", [HB, HBX, USER, KP, oids.NT_STRING_UID_NAME])
def test_a_nul_octet_is_refused(nt: Oid) -> None:
    """MIT parses a name buffer up to its first NUL (k5memdup0 + krb5_parse_name): the same
    bytes would name two principals.  The escape ``\\0`` still writes a NUL into a component;
    the anonymous type takes any buffer."""
    with pytest.raises(GSSMechError) as exc:
        import_name(b"host@local\0host", nt, config=CFG, uid_lookup=lambda uid: "bob")
    assert exc.value.major == GSS_S_BAD_NAME
    assert import_name(b"a\\0b@R", KP, config=CFG).principal.components == ("a\0b",)
    assert import_name(b"\0", AN, config=CFG).principal.is_anonymous_name


@given(st.binary(max_size=64))
def test_export_token_fuzz_raises_only_typed_errors(data: bytes) -> None:
    try:
        import_export_token(data)
    except GSSMechError:
        pass


_COMPONENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
    min_size=1,
    max_size=8,
)


@given(st.lists(_COMPONENT, min_size=1, max_size=3), _COMPONENT)
def test_export_import_roundtrip(components: list[str], realm: str) -> None:
    name = GSSName.from_principal(Principal(1, tuple(components), realm))
    token = name.export()
    back = import_export_token(token)
    assert back.principal.components == tuple(components) and back.principal.realm == realm
    assert back.export() == token


def test_oid_der_codec() -> None:
    for dotted in ("1.2.840.113554.1.2.2", "2.999.6112.1", "1.3.6.1.5.6.3", "2.100.3"):
        oid = Oid.from_dotted(dotted)
        assert str(oid) == dotted
        assert Oid.from_tlv(oid.tlv + b"xx")[0] == oid
    assert Oid.from_dotted("1.2.840.113554.1.2.2").tlv.hex() == "06092a864886f712010202"
    for bad in (b"", b"\x2a\x80", b"\x2a\x80\x01"):
        with pytest.raises(GSSMechError):
            Oid(bad)
    for text in ("1", "3.1", "1.40", "1..2", "01.2"):
        with pytest.raises(GSSMechError):
            Oid.from_dotted(text)
    assert oids.native_mech({"GSSMECH_OID": "1.3.6.1.4.1.99999.1"}) == Oid.from_dotted(
        "1.3.6.1.4.1.99999.1"
    )


# --- interop: MIT through python-gssapi --------------------------------------------------------
MIT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import gssapi
    from gssapi.raw.oids import OID
    out = []
    for hexdata, dotted in json.load(sys.stdin):
        nt = OID.from_int_seq(dotted)
        try:
            n = gssapi.Name(bytes.fromhex(hexdata), nt)
            c = n.canonicalize(gssapi.MechType.kerberos)
            out.append([str(n), n.name_type.dotted_form, str(c), c.name_type.dotted_form,
                        c.export().hex()])
        except gssapi.exceptions.GSSError as e:
            out.append(None)
    print(json.dumps(out))
    """
)


@pytest.mark.interop
def test_matches_mit(tmp_path: Path) -> None:
    pytest.importorskip("gssapi")
    conf = tmp_path / "krb5.conf"
    conf.write_text(KRB5_CONF)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
    env["KRB5_CONFIG"] = str(conf)
    request = [[d.hex(), str(nt)] for d, nt in CASES]
    cp = subprocess.run(
        [sys.executable, "-c", MIT_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    mit = json.loads(cp.stdout)
    local = RealmConfig.from_profile(
        config.parse_text(KRB5_CONF), local_hostname=socket.gethostname()
    )
    for (data, nt), expected in zip(CASES, mit, strict=True):
        assert expected is not None, (data, nt)
        name = import_name(data, nt, config=local)
        c = name.canonicalize(oids.KRB5_MECH)
        text, ctype = c.display()
        ours = [str(name), str(name.display()[1]), text, str(ctype), c.export().hex()]
        assert ours == expected, (data, nt)
