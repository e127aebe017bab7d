"""The sans-I/O KDC: one request's bytes in, the reply's bytes out (RFC 4120 §3.1, §3.3).

``KDC.handle(request, now=...)`` decodes an AS-REQ or TGS-REQ, runs the exchange and returns
the DER of the reply or of a KRB-ERROR; ``None`` means "drop" (bytes that are not a Kerberos
request at all, so a spoofed source cannot use the KDC to reflect traffic).  Nothing here does
I/O or reads the clock: the server passes ``now``; randomness comes from the context.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from asn1crypto import core

from gssmech.errors import DecodeError, GSSMechError
from gssmech.kdc import der
from gssmech.kdc.as_req import process_as
from gssmech.kdc.context import KDCContext, PkinitIdentity, PrincipalStore
from gssmech.kdc.errors import KDCError
from gssmech.kdc.policy import KDCSettings
from gssmech.kdc.tgs_req import process_tgs
from gssmech.kdc.tickets import krb_error, name_of
from gssmech.krb5.asn1 import ASReq, ErrorCode, decode, peek_tag
from gssmech.krb5.asn1.kdcfields import TgsReqFields, read_tgs_req

_AS_REQ_TAG = (1, 1, 10)
_TGS_REQ_TAG = (1, 1, 12)
#: Largest request the handler will parse (the TCP framing limit of server.py is the same).
MAX_REQUEST = 1 << 20


class KDC:
    """An embedded KDC for one realm."""

    def __init__(
        self, db: PrincipalStore, settings: KDCSettings, *, pkinit: PkinitIdentity | None = None,
        rand: Callable[[int], bytes] = os.urandom, dh_keygen: Callable[[Any], Any] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.ctx = KDCContext(db, settings, pkinit, rand, dh_keygen,
                              log or logging.getLogger("gssmech.kdc"))

    @property
    def realm(self) -> str:
        return self.ctx.realm

    def handle(self, request: bytes, *, now: float, client_addr: Any = None) -> bytes | None:
        """Reply DER (KDC-REP or KRB-ERROR) for ``request``, or None to drop it.

        Never raises for bad input: a malformed request gets KRB_ERR_GENERIC, an unexpected
        internal failure is logged and answered with KRB_ERR_GENERIC too.
        """
        ctx = self.ctx
        tag = peek_tag(request) if isinstance(request, bytes) else None
        if tag not in (_AS_REQ_TAG, _TGS_REQ_TAG) or len(request) > MAX_REQUEST:
            ctx.log.debug("dropped %d bytes that are not a KDC request", len(request or b""))
            return None
        is_as = tag == _AS_REQ_TAG
        kind = "AS-REQ" if is_as else "TGS-REQ"
        req: ASReq | TgsReqFields | None = None
        try:
            if is_as:
                req = decode(ASReq, request, what=kind)
                return process_as(ctx, req, request, now)
            req = read_tgs_req(request, what=kind)
            return process_tgs(ctx, req, request, now)
        except KDCError as exc:
            self._log_refusal(kind, req, exc, client_addr)
            return self._error(exc.code, req, now, exc.e_text, exc.e_data)
        except DecodeError as exc:
            ctx.log.info("%s malformed: %s", kind, exc)
            return self._error(ErrorCode.KRB_ERR_GENERIC, None, now, "malformed request")
        except GSSMechError as exc:
            ctx.log.warning("%s failed: %s", kind, exc)
            return self._error(ErrorCode.KRB_ERR_GENERIC, req, now, "request failed")
        except Exception:  # one bad request must never stop the KDC (logged with traceback)
            ctx.log.exception("%s: internal error", kind)
            return self._error(ErrorCode.KRB_ERR_GENERIC, req, now, "internal error")

    def _log_refusal(self, kind: str, req: ASReq | TgsReqFields | None, exc: KDCError,
                     client_addr: Any) -> None:
        seen = _summary(req)
        if seen is None or self.ctx.settings.anon.anonymous_bit in seen[0]:
            # seed §7: never write who asked for an anonymous ticket
            self.ctx.log.info("%s anonymous: %s", kind, exc)
            return
        who = "?" if seen[1] is None else "/".join(seen[1][1])
        self.ctx.log.info("%s %s from %s: %s", kind, who, client_addr, exc)

    def _error(self, code: int, req: ASReq | TgsReqFields | None, now: float, e_text: str,
               e_data: bytes | None = None) -> bytes:
        seen = _summary(req)
        sname = None if seen is None else seen[2]
        return krb_error(code, now=now, realm=self.realm, sname=sname, e_text=e_text,
                         e_data=e_data)


def _summary(req: ASReq | TgsReqFields | None
             ) -> tuple[frozenset[int], der.Name | None, der.Name | None] | None:
    """(KDCOptions bit numbers, cname, sname) of a decoded request, for logs and errors; None
    if there is none or it cannot be read (a refusal then names nobody)."""
    if req is None:
        return None
    if isinstance(req, TgsReqFields):
        body = req.req_body
        return body.kdc_options, body.cname, body.sname
    try:
        fields = req["req_body"]
        cname, sname = fields["cname"], fields["sname"]
        return (fields["kdc_options"].bit_numbers(),
                None if isinstance(cname, core.Void) else name_of(cname),
                None if isinstance(sname, core.Void) else name_of(sname))
    except Exception:
        return None


__all__ = ["KDC", "MAX_REQUEST"]
