"""T8: byte-exact codecs for the seed's TLS structures, against hex written out by hand from the
structure definitions (seed §3.2, §3.3, §4; TLS presentation language, RFC 2246 §4)."""

from __future__ import annotations

import pytest

from gssmech.errors import DecodeError
from gssmech.tlsticket import KeyRing, TicketBinding, TicketEncodeError, new_ticket_key
from gssmech.tlsticket.tls import (
    AnonymousIdentity,
    CertificateIdentity,
    ClientAuthenticationType,
    KerberosIdentity,
    NewSessionTicket,
    PskIdentity,
    SessionTicketExtension,
    StatePlaintext,
)

SECRET = b"\x11" * 48
# ProtocolVersion {3,1} | CipherSuite {0x00,0x2f} | CompressionMethod null | master_secret[48]
PREFIX = "0301" "002f" "00" + "11" * 48
TIMESTAMP = "4bb2c3d4"


def _state(identity) -> StatePlaintext:
    return StatePlaintext(0x0301, 0x002F, 0, SECRET, identity, 0x4BB2C3D4)


@pytest.mark.parametrize(
    ("identity", "identity_hex"),
    [
        # anonymous(0): struct {}
        (AnonymousIdentity(), "00"),
        # certificate_based(1): ASN.1Cert certificate_list<0..2^24-1>, each ASN.1Cert<1..2^24-1>
        (CertificateIdentity((bytes.fromhex("3003020105"), bytes.fromhex("3000"))),
         "01" "00000d" "000005" "3003020105" "000002" "3000"),
        (CertificateIdentity(()), "01" "000000"),
        # psk(2): opaque psk_identity<0..2^16-1>
        (PskIdentity(b"client"), "02" "0006" "636c69656e74"),
        # kerberos(224): opaque principal<0..2^16-1>; uint8 anonymous
        (KerberosIdentity("user@EXAMPLE.COM", False),
         "e0" "0010" + b"user@EXAMPLE.COM".hex() + "00"),
        (KerberosIdentity("WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS", True),
         "e0" "0027" + b"WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS".hex() + "01"),
    ],
    ids=["anonymous", "certificate", "no-certificate", "psk", "kerberos", "kerberos-anon"],
)
def test_state_plaintext_bytes(identity, identity_hex):
    expected = bytes.fromhex(PREFIX + identity_hex + TIMESTAMP)
    state = _state(identity)
    assert state.encode() == expected
    assert StatePlaintext.decode(expected) == state


def test_client_authentication_type_values():
    assert [int(t) for t in ClientAuthenticationType] == [0, 1, 2, 224]


@pytest.mark.parametrize(
    "bad_hex",
    [
        PREFIX[:-2],  # truncated master_secret
        PREFIX + "00" + TIMESTAMP[:-2],  # truncated timestamp
        PREFIX + "00" + TIMESTAMP + "00",  # trailing byte
        PREFIX + "05" + TIMESTAMP,  # unknown ClientAuthenticationType
        PREFIX + "01" "000003" "000000" + TIMESTAMP,  # empty ASN.1Cert (floor 1)
        PREFIX + "01" "000004" "000005" "30" + TIMESTAMP,  # cert longer than the list
        PREFIX + "01" "ffffff" + TIMESTAMP,  # list longer than the data
        PREFIX + "02" "0010" "6162" + TIMESTAMP,  # psk_identity overruns
        PREFIX + "e0" "0001" "61" "02" + TIMESTAMP,  # anonymous flag must be 0 or 1
        PREFIX + "e0" "0001" "ff" "00" + TIMESTAMP,  # principal not UTF-8
        "",
    ],
)
def test_state_plaintext_malformed(bad_hex):
    with pytest.raises(DecodeError) as info:
        StatePlaintext.decode(bytes.fromhex(bad_hex))
    assert "StatePlaintext" in str(info.value)


def test_state_plaintext_validation():
    with pytest.raises(TicketEncodeError):
        StatePlaintext(0x0301, 0x002F, 0, b"short", AnonymousIdentity(), 0)
    with pytest.raises(TicketEncodeError):
        StatePlaintext(0x10000, 0x002F, 0, SECRET, AnonymousIdentity(), 0)
    with pytest.raises(TicketEncodeError):
        StatePlaintext(0x0301, 0x002F, 0, SECRET, AnonymousIdentity(), 2**32)
    with pytest.raises(TicketEncodeError):
        CertificateIdentity((b"",)).encode_body()
    with pytest.raises(TicketEncodeError):
        PskIdentity(b"x" * 65536).encode_body()
    with pytest.raises(TicketEncodeError):
        KerberosIdentity("\ud800").encode_body()


@pytest.mark.parametrize(
    ("ticket", "rfc5077_hex", "rfc4507_hex"),
    [
        # extension_type 35 | extension_data<0..2^16-1>; RFC 4507 adds ticket<0..2^16-1> inside
        (bytes.fromhex("deadbeef"), "0023" "0004" "deadbeef", "0023" "0006" "0004" "deadbeef"),
        # empty: "I support tickets, send me one" (§3.2) — the Appendix A ambiguity
        (b"", "0023" "0000", "0023" "0002" "0000"),
    ],
)
def test_session_ticket_extension_both_encodings(ticket, rfc5077_hex, rfc4507_hex):
    ext = SessionTicketExtension(ticket)
    assert ext.encode() == ext.encode("rfc5077") == bytes.fromhex(rfc5077_hex)
    assert ext.encode("rfc4507") == bytes.fromhex(rfc4507_hex)
    assert SessionTicketExtension.decode(bytes.fromhex(rfc5077_hex)) == ext
    assert SessionTicketExtension.decode(bytes.fromhex(rfc4507_hex), "rfc4507") == ext


@pytest.mark.parametrize(
    ("data_hex", "encoding"),
    [
        ("0024" "0000", "rfc5077"),  # not extension 35
        ("0023" "0005" "deadbeef", "rfc5077"),  # extension_data overruns
        ("0023" "0004" "deadbeef" "00", "rfc5077"),  # trailing
        ("0023" "0004" "0004" "dead", "rfc4507"),  # inner ticket overruns
        ("0023" "0003" "0000" "00", "rfc4507"),  # trailing inside extension_data
        ("0023" "0001" "00", "rfc4507"),  # inner length truncated
        ("00", "rfc5077"),
    ],
)
def test_session_ticket_extension_malformed(data_hex, encoding):
    with pytest.raises(DecodeError):
        SessionTicketExtension.decode(bytes.fromhex(data_hex), encoding)


def test_session_ticket_extension_limits():
    assert len(SessionTicketExtension(b"x" * 65535).encode()) == 4 + 65535
    with pytest.raises(TicketEncodeError):
        SessionTicketExtension(b"x" * 65534).encode("rfc4507")  # 2 + 65534 > 2^16-1
    with pytest.raises(TicketEncodeError):
        SessionTicketExtension(b"").encode("tls13")  # type: ignore[arg-type]


def test_new_session_ticket_bytes():
    # Handshake: msg_type session_ticket(4) | uint24 length | uint32 hint | ticket<0..2^16-1>
    expected = bytes.fromhex("04" "00000a" "00001c20" "0004" "deadbeef")
    nst = NewSessionTicket(7200, bytes.fromhex("deadbeef"))
    assert nst.encode() == expected
    assert nst.encode_body() == expected[4:]
    assert NewSessionTicket.decode(expected) == nst
    assert NewSessionTicket.decode_body(expected[4:]) == nst
    # §3.3: a zero-length ticket means "changed my mind"; hint 0 = unspecified
    assert NewSessionTicket(0, b"").encode() == bytes.fromhex("04" "000006" "00000000" "0000")


@pytest.mark.parametrize(
    "bad_hex",
    ["02" "00000a" "00001c20" "0004" "deadbeef",  # not session_ticket
     "04" "00000b" "00001c20" "0004" "deadbeef",  # body length overruns
     "04" "00000a" "00001c20" "0005" "deadbeef",  # ticket overruns body
     "04" "00000b" "00001c20" "0004" "deadbeef" "00",  # trailing inside body
     "04" "0000", ""],
)
def test_new_session_ticket_malformed(bad_hex):
    with pytest.raises(DecodeError):
        NewSessionTicket.decode(bytes.fromhex(bad_hex))


def test_new_session_ticket_validation():
    with pytest.raises(TicketEncodeError):
        NewSessionTicket(2**32, b"")
    with pytest.raises(TicketEncodeError):
        NewSessionTicket(0, "text")  # type: ignore[arg-type]


def test_state_plaintext_travels_in_a_ticket():
    """End to end: §4 StatePlaintext sealed, carried in NewSessionTicket, presented in the
    RFC 4507 extension, opened and decoded."""
    ring = KeyRing([new_ticket_key(not_before=0, encrypt_until=2**33, decrypt_until=2**33)])
    binding = TicketBinding("tls-resumption", "www.example.com")
    state = _state(KerberosIdentity("WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS", True))
    sealed = ring.seal_at_time(1_700_000_000, state.encode(), binding)
    nst = NewSessionTicket.decode(NewSessionTicket(sealed.lifetime_hint, sealed.ticket).encode())
    ext = SessionTicketExtension.decode(SessionTicketExtension(nst.ticket).encode("rfc4507"),
                                        "rfc4507")
    opened = ring.open_at_time(1_700_000_100, ext.ticket, binding)
    assert StatePlaintext.decode(opened.state) == state
