"""Byte-exact codecs for the seed's TLS structures (DESIGN.md T8), TLS presentation language.

* StatePlaintext and ClientIdentity, draft-salowey-tls-ticket-07 §4.
* SessionTicket extension, §3.2 (type 35: "the value 35 is suggested", §7; RFC 4507/5077
  assigned it) in both encodings: the draft/RFC 4507 one, where extension_data is
  ``struct { opaque ticket<0..2^16-1>; }`` (a second length), and RFC 5077's, where
  extension_data *is* the ticket (RFC 5077 Appendix A: the 4507 encoding matched no deployed
  implementation).  Servers should answer in the encoding the client used.
* NewSessionTicket, §3.3: ``struct { uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>; }``
  inside a Handshake message (msg_type session_ticket = 4, uint24 length).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Literal

from gssmech.errors import DecodeError
from gssmech.tlsticket._codec import Reader, uint, vector
from gssmech.tlsticket.errors import TicketEncodeError

__all__ = [
    "EXTENSION_SESSION_TICKET",
    "HANDSHAKE_NEW_SESSION_TICKET",
    "AnonymousIdentity",
    "CertificateIdentity",
    "ClientAuthenticationType",
    "ClientIdentity",
    "KerberosIdentity",
    "NewSessionTicket",
    "PskIdentity",
    "SessionTicketExtension",
    "StatePlaintext",
]

EXTENSION_SESSION_TICKET = 35
HANDSHAKE_NEW_SESSION_TICKET = 4
Encoding = Literal["rfc4507", "rfc5077"]


def _check_bytes(name: str, value: object) -> None:
    if not isinstance(value, bytes):
        raise TicketEncodeError(f"{name} must be bytes")


class ClientAuthenticationType(enum.IntEnum):
    """§4 ``enum { anonymous(0), certificate_based(1), psk(2) } ClientAuthenticationType``.

    NB(kerberos): §4 says "Other authentication mechanisms, such as Kerberos [RFC2712], would
    require different client identity data" and that the format is private to the server.  We
    use 224, the first value of the 224-255 "Private Use" block that TLS registries reserve
    (RFC 5246 §12, e.g. ClientCertificateType), so no future standard value can collide; the
    enum still fits one byte.
    """

    anonymous = 0
    certificate_based = 1
    psk = 2
    kerberos = 224


@dataclass(frozen=True, slots=True)
class AnonymousIdentity:
    """``case anonymous: struct {};``"""

    client_authentication_type: ClassVar[int] = ClientAuthenticationType.anonymous

    def encode_body(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class CertificateIdentity:
    """``case certificate_based: ASN.1Cert certificate_list<0..2^24-1>;`` with
    ``opaque ASN.1Cert<1..2^24-1>`` (RFC 5246 §7.4.2; RFC 2246 wrote ``<2^24-1>``)."""

    client_authentication_type: ClassVar[int] = ClientAuthenticationType.certificate_based
    certificate_list: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if not all(isinstance(c, bytes) for c in self.certificate_list):
            raise TicketEncodeError("certificate_list must hold DER bytes")
        object.__setattr__(self, "certificate_list", tuple(self.certificate_list))

    def encode_body(self) -> bytes:
        return vector(b"".join(vector(c, 3, floor=1) for c in self.certificate_list), 3)


@dataclass(frozen=True, slots=True)
class PskIdentity:
    """``case psk: opaque psk_identity<0..2^16-1>;`` (RFC 4279)."""

    client_authentication_type: ClassVar[int] = ClientAuthenticationType.psk
    psk_identity: bytes = b""

    def __post_init__(self) -> None:
        _check_bytes("psk_identity", self.psk_identity)

    def encode_body(self) -> bytes:
        return vector(self.psk_identity, 2)


@dataclass(frozen=True, slots=True)
class KerberosIdentity:
    """Our ``case kerberos:`` (224)::

        struct {
            opaque principal<0..2^16-1>;   /* UTF-8 display form, e.g. user@REALM */
            uint8  anonymous;              /* boolean: 0 false, 1 true (anon_req_flag) */
        };
    """

    client_authentication_type: ClassVar[int] = ClientAuthenticationType.kerberos
    principal: str = ""
    anonymous: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.principal, str) or not isinstance(self.anonymous, bool):
            raise TicketEncodeError("principal must be str and anonymous a bool")

    def encode_body(self) -> bytes:
        try:
            principal = self.principal.encode()
        except UnicodeEncodeError:
            raise TicketEncodeError("principal is not valid UTF-8") from None
        return vector(principal, 2) + bytes((int(self.anonymous),))


ClientIdentity = AnonymousIdentity | CertificateIdentity | PskIdentity | KerberosIdentity


def encode_client_identity(identity: ClientIdentity) -> bytes:
    return bytes((identity.client_authentication_type,)) + identity.encode_body()


def read_client_identity(r: Reader) -> ClientIdentity:
    start = r.pos
    kind = r.uint(1, "client_authentication_type")
    if kind == ClientAuthenticationType.anonymous:
        return AnonymousIdentity()
    if kind == ClientAuthenticationType.certificate_based:
        body = r.vector(3, "certificate_list")
        base, sub, out = r.pos - len(body), Reader(body, r.source), []
        while sub.remaining():
            at = sub.pos
            try:
                out.append(sub.vector(3, "ASN.1Cert", floor=1))
            except DecodeError:
                raise r.fail("truncated or empty ASN.1Cert", base + at) from None
        return CertificateIdentity(tuple(out))
    if kind == ClientAuthenticationType.psk:
        return PskIdentity(r.vector(2, "psk_identity"))
    if kind == ClientAuthenticationType.kerberos:
        raw = r.vector(2, "principal")
        flag = r.uint(1, "anonymous")
        if flag > 1:
            raise r.fail(f"anonymous must be 0 or 1, not {flag}", r.pos - 1)
        try:
            return KerberosIdentity(raw.decode(), bool(flag))
        except UnicodeDecodeError:
            raise r.fail("principal is not valid UTF-8", start + 1) from None
    raise r.fail(f"unknown client_authentication_type {kind}", start)


@dataclass(frozen=True, slots=True)
class StatePlaintext:
    """§4::

        struct {
            ProtocolVersion protocol_version;      /* uint8 major, uint8 minor */
            CipherSuite cipher_suite;              /* uint8[2] */
            CompressionMethod compression_method;  /* uint8 */
            opaque master_secret[48];
            ClientIdentity client_identity;
            uint32 timestamp;
        } StatePlaintext;

    ``protocol_version`` is held as one integer (0x0301 = TLS 1.0), which is exactly how the
    two bytes read big-endian.
    """

    protocol_version: int
    cipher_suite: int
    compression_method: int
    master_secret: bytes
    client_identity: ClientIdentity
    timestamp: int

    def __post_init__(self) -> None:
        if not isinstance(self.master_secret, bytes) or len(self.master_secret) != 48:
            raise TicketEncodeError("master_secret must be 48 bytes")
        for name, value, size in (("protocol_version", self.protocol_version, 2),
                                  ("cipher_suite", self.cipher_suite, 2),
                                  ("compression_method", self.compression_method, 1),
                                  ("timestamp", self.timestamp, 4)):
            if not isinstance(value, int) or not 0 <= value < 1 << (8 * size):
                raise TicketEncodeError(f"{name} must fit in {size} bytes")

    def encode(self) -> bytes:
        return (uint(self.protocol_version, 2) + uint(self.cipher_suite, 2)
                + uint(self.compression_method, 1) + self.master_secret
                + encode_client_identity(self.client_identity) + uint(self.timestamp, 4))

    @classmethod
    def decode(cls, data: bytes) -> StatePlaintext:
        r = Reader(data, "StatePlaintext")
        version, suite = r.uint(2, "protocol_version"), r.uint(2, "cipher_suite")
        compression, secret = r.uint(1, "compression_method"), r.take(48, "master_secret")
        identity = read_client_identity(r)
        timestamp = r.uint(4, "timestamp")
        r.end("StatePlaintext")
        return cls(version, suite, compression, secret, identity, timestamp)


@dataclass(frozen=True, slots=True)
class SessionTicketExtension:
    """The SessionTicket extension (§3.2); an empty ticket asks for a NewSessionTicket."""

    ticket: bytes = b""

    def __post_init__(self) -> None:
        _check_bytes("ticket", self.ticket)

    def extension_data(self, encoding: Encoding = "rfc5077") -> bytes:
        if encoding == "rfc4507":
            return vector(self.ticket, 2)  # struct { opaque ticket<0..2^16-1>; }
        if encoding == "rfc5077":
            return self.ticket
        raise TicketEncodeError(f"unknown SessionTicket encoding {encoding!r}")

    def encode(self, encoding: Encoding = "rfc5077") -> bytes:
        """The whole Extension: ``uint16 extension_type; opaque extension_data<0..2^16-1>``."""
        return uint(EXTENSION_SESSION_TICKET, 2) + vector(self.extension_data(encoding), 2)

    @classmethod
    def decode(cls, data: bytes, encoding: Encoding = "rfc5077") -> SessionTicketExtension:
        r = Reader(data, f"SessionTicket extension ({encoding})")
        kind = r.uint(2, "extension_type")
        if kind != EXTENSION_SESSION_TICKET:
            raise r.fail(f"extension_type {kind} is not SessionTicket (35)", 0)
        body = r.vector(2, "extension_data")
        r.end("Extension")
        return cls.decode_extension_data(body, encoding)

    @classmethod
    def decode_extension_data(
        cls, body: bytes, encoding: Encoding = "rfc5077"
    ) -> SessionTicketExtension:
        if encoding == "rfc5077":
            return cls(bytes(body))
        if encoding != "rfc4507":
            raise TicketEncodeError(f"unknown SessionTicket encoding {encoding!r}")
        r = Reader(body, "SessionTicket extension_data (rfc4507)")
        ticket = r.vector(2, "ticket")
        r.end("SessionTicket")
        return cls(ticket)


@dataclass(frozen=True, slots=True)
class NewSessionTicket:
    """§3.3 NewSessionTicket; ``encode()`` includes the Handshake header."""

    ticket_lifetime_hint: int
    ticket: bytes

    def __post_init__(self) -> None:
        _check_bytes("ticket", self.ticket)
        hint = self.ticket_lifetime_hint
        if not isinstance(hint, int) or not 0 <= hint < 1 << 32:
            raise TicketEncodeError("ticket_lifetime_hint must be a uint32")

    def encode_body(self) -> bytes:
        return uint(self.ticket_lifetime_hint, 4) + vector(self.ticket, 2)

    def encode(self) -> bytes:
        body = self.encode_body()
        return bytes((HANDSHAKE_NEW_SESSION_TICKET,)) + uint(len(body), 3) + body

    @classmethod
    def decode_body(cls, body: bytes) -> NewSessionTicket:
        r = Reader(body, "NewSessionTicket")
        hint, ticket = r.uint(4, "ticket_lifetime_hint"), r.vector(2, "ticket")
        r.end("NewSessionTicket")
        return cls(hint, ticket)

    @classmethod
    def decode(cls, message: bytes) -> NewSessionTicket:
        r = Reader(message, "Handshake")
        msg_type = r.uint(1, "msg_type")
        if msg_type != HANDSHAKE_NEW_SESSION_TICKET:
            raise r.fail(f"msg_type {msg_type} is not session_ticket (4)", 0)
        body = r.vector(3, "Handshake body")
        r.end("Handshake")
        return cls.decode_body(body)
