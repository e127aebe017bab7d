"""One error hierarchy for all of gssmech, carrying GSS major codes (RFC 2744 §3.9.1).

Every class declares its GSS major status (``MAJOR``) and a default minor code from our own
minor-code space (``Minor``).  The plugin boundary maps any exception to ``(major, minor)``
through :func:`status_of` and nothing else; an exception that is not a :class:`GSSMechError`
becomes ``GSS_S_FAILURE`` there, never success.  ``gss_display_status`` reads
:data:`MINOR_MESSAGES`.

Parsers raise :class:`DecodeError` (or a subclass) naming what was being read and the byte
offset, so a bad ccache, keytab or token is reported precisely and never as an IndexError.
"""

from __future__ import annotations

import enum

# --- GSS major status codes, RFC 2744 §3.9.1 -------------------------------------------------
GSS_S_COMPLETE = 0
_CALLING = 24
_ROUTINE = 16
GSS_S_CALL_INACCESSIBLE_READ = 1 << _CALLING
GSS_S_CALL_INACCESSIBLE_WRITE = 2 << _CALLING
GSS_S_CALL_BAD_STRUCTURE = 3 << _CALLING
GSS_S_BAD_MECH = 1 << _ROUTINE
GSS_S_BAD_NAME = 2 << _ROUTINE
GSS_S_BAD_NAMETYPE = 3 << _ROUTINE
GSS_S_BAD_BINDINGS = 4 << _ROUTINE
GSS_S_BAD_STATUS = 5 << _ROUTINE
GSS_S_BAD_SIG = 6 << _ROUTINE
GSS_S_BAD_MIC = GSS_S_BAD_SIG
GSS_S_NO_CRED = 7 << _ROUTINE
GSS_S_NO_CONTEXT = 8 << _ROUTINE
GSS_S_DEFECTIVE_TOKEN = 9 << _ROUTINE
GSS_S_DEFECTIVE_CREDENTIAL = 10 << _ROUTINE
GSS_S_CREDENTIALS_EXPIRED = 11 << _ROUTINE
GSS_S_CONTEXT_EXPIRED = 12 << _ROUTINE
GSS_S_FAILURE = 13 << _ROUTINE
GSS_S_BAD_QOP = 14 << _ROUTINE
GSS_S_UNAUTHORIZED = 15 << _ROUTINE
GSS_S_UNAVAILABLE = 16 << _ROUTINE
GSS_S_DUPLICATE_ELEMENT = 17 << _ROUTINE
GSS_S_NAME_NOT_MN = 18 << _ROUTINE
GSS_S_CONTINUE_NEEDED = 1 << 0
GSS_S_DUPLICATE_TOKEN = 1 << 1
GSS_S_OLD_TOKEN = 1 << 2
GSS_S_UNSEQ_TOKEN = 1 << 3
GSS_S_GAP_TOKEN = 1 << 4

#: Private minor-code base: ASCII "GSM" in the top three bytes (like gss-ntlmssp's 'NT00').
MINOR_BASE = 0x47534D00


class Minor(enum.IntEnum):
    """Our own minor status codes; messages in :data:`MINOR_MESSAGES`."""

    GENERIC = MINOR_BASE
    PYTHON_EXCEPTION = MINOR_BASE + 1
    PYTHON_UNAVAILABLE = MINOR_BASE + 2
    DECODE = MINOR_BASE + 3
    INTEGRITY = MINOR_BASE + 4
    BAD_KEY = MINOR_BASE + 5
    UNSUPPORTED_ENCTYPE = MINOR_BASE + 6
    CCACHE_FORMAT = MINOR_BASE + 7
    CCACHE_NOT_FOUND = MINOR_BASE + 8
    CCACHE_UNSUPPORTED_TYPE = MINOR_BASE + 9
    KEYTAB_FORMAT = MINOR_BASE + 10
    KEYTAB_NOT_FOUND = MINOR_BASE + 11
    KEYTAB_NO_KEY = MINOR_BASE + 12
    CONFIG_SYNTAX = MINOR_BASE + 13
    BAD_PRINCIPAL = MINOR_BASE + 14
    CCACHE_NO_MATCH = MINOR_BASE + 15
    ANONYMITY_UNAVAILABLE = MINOR_BASE + 16
    KDC_ERROR = MINOR_BASE + 17
    TICKET_EXPIRED = MINOR_BASE + 18
    TICKET_UNKNOWN_KEY = MINOR_BASE + 19
    TICKET_INVALID = MINOR_BASE + 20
    TICKET_KEYS = MINOR_BASE + 21
    ANONYMOUS_REFUSED = MINOR_BASE + 22
    REPLAY_CACHE = MINOR_BASE + 23
    BAD_NAME_TYPE = MINOR_BASE + 24
    BAD_BINDINGS = MINOR_BASE + 25
    REPLAYED = MINOR_BASE + 26
    CCACHE_EXISTS = MINOR_BASE + 27
    BAD_QOP = MINOR_BASE + 28


MINOR_MESSAGES: dict[int, str] = {
    Minor.GENERIC: "gssmech: unspecified failure",
    Minor.PYTHON_EXCEPTION: "gssmech: internal error (unexpected exception in the mechanism)",
    Minor.PYTHON_UNAVAILABLE: "gssmech: the Python runtime or the gssmech package could not start",
    Minor.DECODE: "gssmech: malformed input",
    Minor.INTEGRITY: "gssmech: integrity check failed (wrong key, truncated or tampered data)",
    Minor.BAD_KEY: "gssmech: key has the wrong length for its encryption type",
    Minor.UNSUPPORTED_ENCTYPE: "gssmech: encryption type not supported",
    Minor.CCACHE_FORMAT: "gssmech: malformed credential cache",
    Minor.CCACHE_NOT_FOUND: "gssmech: credential cache not found",
    Minor.CCACHE_UNSUPPORTED_TYPE: "gssmech: credential cache type not supported",
    Minor.KEYTAB_FORMAT: "gssmech: malformed keytab",
    Minor.KEYTAB_NOT_FOUND: "gssmech: keytab not found",
    Minor.KEYTAB_NO_KEY: "gssmech: no matching key in keytab",
    Minor.CONFIG_SYNTAX: "gssmech: syntax error in Kerberos configuration",
    Minor.BAD_PRINCIPAL: "gssmech: malformed principal name",
    Minor.CCACHE_NO_MATCH: "gssmech: matching credential not found in cache",
    Minor.ANONYMITY_UNAVAILABLE: "gssmech: anonymity was requested and cannot be provided",
    Minor.KDC_ERROR: "gssmech: the KDC returned an error",
    Minor.TICKET_EXPIRED: "gssmech: ticket expired",
    Minor.TICKET_UNKNOWN_KEY: "gssmech: ticket sealed with an unknown key",
    Minor.TICKET_INVALID: "gssmech: ticket failed authentication",
    Minor.TICKET_KEYS: "gssmech: ticket key directory or key file unusable",
    Minor.ANONYMOUS_REFUSED: "gssmech: acceptor policy refuses anonymous initiators",
    Minor.REPLAY_CACHE: "gssmech: replay cache unusable",
    Minor.BAD_NAME_TYPE: "gssmech: name type not supported",
    Minor.BAD_BINDINGS: "gssmech: channel bindings do not match",
    Minor.REPLAYED: "gssmech: replayed authenticator (this token was already accepted)",
    Minor.CCACHE_EXISTS: "gssmech: the credential cache exists and overwriting was not asked for",
    Minor.BAD_QOP: "gssmech: unsupported quality of protection (RFC 4121 has only the default, 0)",
}


class GSSMechError(Exception):
    """Root of every error gssmech raises on purpose.

    Subclasses declare ``MAJOR`` (a GSS major status) and ``MINOR`` (a :class:`Minor`).
    An instance may override the minor code for a more specific message.
    """

    MAJOR: int = GSS_S_FAILURE
    MINOR: int = Minor.GENERIC
    #: An output token that goes with the failure, for the caller to send to the peer
    #: (RFC 2743 §2.2.2; the acceptor's KRB-ERROR token, RFC 4121 §4.1).  Set per instance.
    token: bytes | None = None

    def __init__(self, message: str = "", *, minor: int | None = None) -> None:
        code = minor or self.MINOR
        super().__init__(message or MINOR_MESSAGES.get(code, self.__class__.__name__))
        self.minor = int(minor if minor is not None else self.MINOR)

    @property
    def major(self) -> int:
        return self.MAJOR


class DecodeError(GSSMechError):
    """Malformed bytes.  ``source`` names what was read (a file, a message), ``offset`` where."""

    MAJOR = GSS_S_DEFECTIVE_TOKEN
    MINOR = Minor.DECODE

    def __init__(
        self, message: str, *, source: str = "", offset: int | None = None, minor: int | None = None
    ) -> None:
        where = source
        if offset is not None:
            where = f"{where} at offset {offset}" if where else f"at offset {offset}"
        super().__init__(f"{where}: {message}" if where else message, minor=minor)
        self.source = source
        self.offset = offset


class IntegrityError(GSSMechError):
    """One opaque failure for every authentication failure: wrong key, truncation, tampering.

    Deliberately carries no detail, so the reason cannot serve as an oracle.
    """

    MAJOR = GSS_S_BAD_SIG
    MINOR = Minor.INTEGRITY

    def __init__(self) -> None:
        super().__init__()


class CryptoError(GSSMechError):
    """Misuse of a crypto primitive (wrong key length, unknown enctype): a local error."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.BAD_KEY


class UnsupportedEnctype(CryptoError):
    MINOR = Minor.UNSUPPORTED_ENCTYPE


class PrincipalError(GSSMechError):
    MAJOR = GSS_S_BAD_NAME
    MINOR = Minor.BAD_PRINCIPAL


class CCacheError(GSSMechError):
    """A credential cache could not be used."""

    MAJOR = GSS_S_NO_CRED
    MINOR = Minor.CCACHE_NOT_FOUND


class CCacheFormatError(DecodeError, CCacheError):
    MAJOR = GSS_S_DEFECTIVE_CREDENTIAL
    MINOR = Minor.CCACHE_FORMAT


class UnsupportedCCacheType(CCacheError):
    MAJOR = GSS_S_UNAVAILABLE
    MINOR = Minor.CCACHE_UNSUPPORTED_TYPE


class KeytabError(GSSMechError):
    MAJOR = GSS_S_NO_CRED
    MINOR = Minor.KEYTAB_NOT_FOUND


class KeytabFormatError(DecodeError, KeytabError):
    MAJOR = GSS_S_DEFECTIVE_CREDENTIAL
    MINOR = Minor.KEYTAB_FORMAT


class ConfigError(DecodeError):
    """krb5.conf syntax error (file and line in the message)."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.CONFIG_SYNTAX


def status_of(exc: BaseException) -> tuple[int, int]:
    """The one mapping from an exception to ``(major, minor)``: unknown means failure."""
    if isinstance(exc, GSSMechError):
        return exc.major, exc.minor
    return GSS_S_FAILURE, int(Minor.PYTHON_EXCEPTION)
