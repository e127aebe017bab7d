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
from gssmech.kdc.as_req import process_as
from gssmech.kdc.context import KDCContext, PkinitIdentity, PrincipalStore
from gssmech.kdc.errors import KDCError
from gssmech.kdc.policy import KDCSettings
from gssmech.kdc.tgs_req import process_tgs
from gssmech.kdc.tickets import krb_error
from gssmech.krb5.asn1 import ASReq, ErrorCode, TGSReq, decode, peek_tag

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
        req: core.Asn1Value | None = None
        try:
            req = decode(ASReq if is_as else TGSReq, request, what=kind)
            if is_as:
                return process_as(ctx, req, request, now)
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

    def _anonymous_request(self, req: core.Asn1Value | None) -> bool:
        if req is None:
            return True
        try:
            return bool(req["req_body"]["kdc_options"].is_set(self.ctx.settings.anon.anonymous_bit))
        except Exception:
            return True

    def _log_refusal(self, kind: str, req: core.Asn1Value | None, exc: KDCError,
                     client_addr: Any) -> None:
        if self._anonymous_request(req):
            # seed §7: never write who asked for an anonymous ticket
            self.ctx.log.info("%s anonymous: %s", kind, exc)
            return
        who = "?"
        try:
            body = req["req_body"] if req is not None else None
            if body is not None and not isinstance(body["cname"], core.Void):
                who = "/".join(body["cname"]["name_string"].native)
        except Exception:
            pass
        self.ctx.log.info("%s %s from %s: %s", kind, who, client_addr, exc)

    def _error(self, code: int, req: core.Asn1Value | None, now: float, e_text: str,
               e_data: bytes | None = None) -> bytes:
        sname = None
        if req is not None:
            body = req["req_body"]
            if not isinstance(body["sname"], core.Void):
                sname = body["sname"]
        return krb_error(code, now=now, realm=self.realm, sname=sname, e_text=e_text,
                         e_data=e_data)


__all__ = ["KDC", "MAX_REQUEST"]
