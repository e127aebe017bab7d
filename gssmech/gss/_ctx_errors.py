"""Errors of context establishment and per-message calls, each with its GSS major code
(RFC 2743 §2.2.1/§2.2.2 lists which majors GSS_Init/Accept_sec_context return)."""

from __future__ import annotations

from gssmech.errors import (
    GSS_S_BAD_BINDINGS,
    GSS_S_CONTEXT_EXPIRED,
    GSS_S_CREDENTIALS_EXPIRED,
    GSS_S_DUPLICATE_TOKEN,
    GSS_S_FAILURE,
    GSS_S_UNAUTHORIZED,
    GSSMechError,
    Minor,
)


class BadBindings(GSSMechError):
    """The initiator's channel-bindings hash differs from the acceptor's (RFC 4121 §4.1.1.2)."""

    MAJOR = GSS_S_BAD_BINDINGS
    MINOR = Minor.BAD_BINDINGS


class NoAcceptorKey(GSSMechError):
    """No keytab key for the ticket's server, kvno and enctype.

    GSS_S_FAILURE, not GSS_S_NO_CRED: the acceptor's credential is fine (RFC 2743 §2.2.2 keeps
    NO_CRED for an invalid, initiate-only or unresolvable credential); the token names a key it
    does not hold.  NB(mit): the same major, with "not found in keytab" in the minor."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.KEYTAB_NO_KEY


class ContextExpired(GSSMechError):
    """The context (ticket end time) is over, or the presented ticket has expired."""

    MAJOR = GSS_S_CONTEXT_EXPIRED
    MINOR = Minor.TICKET_EXPIRED


class CredentialExpired(GSSMechError):
    """The initiator's service ticket has expired before the first token."""

    MAJOR = GSS_S_CREDENTIALS_EXPIRED
    MINOR = Minor.TICKET_EXPIRED


class AnonymityUnavailable(GSSMechError):
    """G3 (draft-ietf-krb-wg-anon-08 §5): anonymity was requested but the credential is not
    anonymous, so no token is produced."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.ANONYMITY_UNAVAILABLE


class AnonymousRefused(GSSMechError):
    """G4 (seed §8 / RFC 8062 §8): the acceptor's policy refuses anonymous initiators."""

    MAJOR = GSS_S_UNAUTHORIZED
    MINOR = Minor.ANONYMOUS_REFUSED


class ReplayedAuthenticator(GSSMechError):
    """An AP-REQ authenticator seen before (RFC 2743 §2.2.2: fatal during establishment).
    DUPLICATE_TOKEN alone is a supplementary bit that GSS_ERROR() does not see, so a caller
    (and the mechglue) would take it for success: it rides on GSS_S_FAILURE."""

    MAJOR = GSS_S_FAILURE | GSS_S_DUPLICATE_TOKEN
    MINOR = Minor.REPLAYED


class APRejected(GSSMechError):
    """A well-formed AP exchange that fails a Kerberos check (clock skew, name mismatch, wrong
    server, mutual-authentication mismatch, a KRB-ERROR from the peer).  ``krb_error`` is the
    RFC 4120 §7.5.9 code an acceptor puts in its KRB-ERROR token (KRB_ERR_GENERIC if none
    fits)."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.GENERIC

    def __init__(self, message: str = "", *, krb_error: int = 60, minor: int | None = None):
        super().__init__(message, minor=minor)
        self.krb_error = krb_error


class MechanismBug(GSSMechError):
    """An unexpected exception inside the mechanism, wrapped so none escapes untyped."""

    MAJOR = GSS_S_FAILURE
    MINOR = Minor.PYTHON_EXCEPTION
