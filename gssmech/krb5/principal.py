"""Kerberos principal names and MIT's string syntax (krb5_parse_name / krb5_unparse_name).

A principal is ``components`` joined by ``/`` and ``@realm``; ``\\`` escapes ``/``, ``@`` and
``\\`` itself, and ``\\n \\t \\b \\0`` stand for those control characters (MIT's
``krb5_unparse_name`` does the same).  Name types are signed 32-bit (MS uses negatives).
"""

from __future__ import annotations

from dataclasses import dataclass

from gssmech.errors import PrincipalError
from gssmech.krb5.constants import ANONYMOUS_COMPONENTS, ANONYMOUS_REALM, NameType

_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "0": "\0"}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}


@dataclass(frozen=True, slots=True)
class Principal:
    """PrincipalName + Realm (RFC 4120 §5.2.2).  Components and realm are UTF-8 text."""

    name_type: int
    components: tuple[str, ...]
    realm: str

    def __post_init__(self) -> None:
        if not -(2**31) <= self.name_type < 2**31:
            raise PrincipalError(f"name type {self.name_type} does not fit in 32 bits")

    @classmethod
    def parse(
        cls, text: str, *, default_realm: str | None = None, name_type: int | None = None
    ) -> Principal:
        """Parse MIT syntax.  A missing realm takes ``default_realm`` (error if none)."""
        comps: list[str] = []
        cur: list[str] = []
        realm: str | None = None
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                if i + 1 >= len(text):
                    raise PrincipalError(f"trailing backslash in principal {text!r}")
                nxt = text[i + 1]
                cur.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if ch == "/" and realm is None:
                comps.append("".join(cur))
                cur = []
            elif ch == "@" and realm is None:
                comps.append("".join(cur))
                cur = []
                realm = ""
            elif ch in "/@":
                raise PrincipalError(f"unescaped {ch!r} in realm of principal {text!r}")
            else:
                cur.append(ch)
            i += 1
        if realm is None:
            comps.append("".join(cur))
            if default_realm is None:
                raise PrincipalError(f"principal {text!r} has no realm and none is configured")
            realm = default_realm
        else:
            realm = "".join(cur)
        if comps == [""] and not text.startswith("@"):
            raise PrincipalError("empty principal name")
        if name_type is None:
            name_type = guess_name_type(tuple(comps), realm)
        return cls(name_type, tuple(comps), realm)

    def unparse(self, *, with_realm: bool = True) -> str:
        body = "/".join(_escape(c) for c in self.components)
        return f"{body}@{_escape(self.realm)}" if with_realm else body

    def __str__(self) -> str:
        return self.unparse()

    # --- anonymity (draft-ietf-krb-wg-anon-08 §2, §3) -------------------------------------
    @property
    def is_anonymous_name(self) -> bool:
        """``WELLKNOWN/ANONYMOUS`` in any realm (authenticated anonymity keeps the realm, §5)."""
        return self.components == ANONYMOUS_COMPONENTS

    @property
    def is_fully_anonymous(self) -> bool:
        """The anonymous principal in the anonymous realm (GSS_C_NT_ANONYMOUS, §6)."""
        return self.is_anonymous_name and self.realm == ANONYMOUS_REALM

    @classmethod
    def anonymous(cls, realm: str = ANONYMOUS_REALM) -> Principal:
        return cls(NameType.WELLKNOWN, ANONYMOUS_COMPONENTS, realm)

    @classmethod
    def krbtgt(cls, realm: str, issuer_realm: str | None = None) -> Principal:
        return cls(NameType.SRV_INST, ("krbtgt", realm), issuer_realm or realm)


def guess_name_type(components: tuple[str, ...], realm: str) -> int:
    if components == ANONYMOUS_COMPONENTS:
        return NameType.WELLKNOWN
    if len(components) == 2 and components[0] == "krbtgt":
        return NameType.SRV_INST
    return NameType.PRINCIPAL


def _escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "/@\\":
            out.append("\\" + ch)
        elif ch in _UNESCAPES:
            out.append("\\" + _UNESCAPES[ch])
        else:
            out.append(ch)
    return "".join(out)
