"""Typed readings of profile values, exactly as MIT krb5 1.20 reads them.

- booleans: ``profile_get_boolean`` (``src/util/profile/prof_get.c``): the words
  ``y yes true t 1 on`` / ``n no false nil 0 off``, ASCII case-insensitive (``strcasecmp``);
  anything else is ``PROF_BAD_BOOLEAN``.
- integers: ``profile_get_integer``: ``strtol(value, &end, 10)`` in the C locale, the whole
  string consumed, the result within a C ``int``; otherwise ``PROF_BAD_INTEGER``.
- durations: ``krb5_string_to_deltat`` (``src/lib/krb5/krb/x-deltat.y``), a small yacc
  grammar re-implemented here as recursive descent over the same tokens.
"""

from __future__ import annotations

from ...errors import ConfigError

_YES = (b"y", b"yes", b"true", b"t", b"1", b"on")
_NO = (b"n", b"no", b"false", b"nil", b"0", b"off")
_C_SPACE = b" \t\n\v\f\r"
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def parse_boolean(value: str) -> bool:
    """MIT ``parse_bool``: one of the fixed words, compared with ``strcasecmp``."""
    # NB(mit): strcasecmp in the C locale folds ASCII only; bytes.lower() does the same.
    folded = _b(value).lower()
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise ConfigError(f"invalid boolean value {value!r}")


def _strtol10(data: bytes) -> tuple[int, int]:
    """C ``strtol(s, &end, 10)``: ``(value, end)``; ``end == 0`` when no digits were read."""
    i = 0
    while i < len(data) and data[i] in _C_SPACE:
        i += 1
    negative = False
    if i < len(data) and data[i] in b"+-":
        negative = data[i] == ord("-")
        i += 1
    start = i
    while i < len(data) and 0x30 <= data[i] <= 0x39:
        i += 1
    if i == start:
        return 0, 0
    number = int(data[start:i])
    return (-number if negative else number), i


def parse_integer(value: str) -> int:
    """MIT ``parse_int``: ``strtol`` base 10, no trailing garbage, within a C ``int``."""
    data = _b(value)
    number, end = _strtol10(data)
    # NB(mit): an empty string, leftover characters, long overflow and int overflow are all
    # PROF_BAD_INTEGER; strtol saturates at LONG_MIN/LONG_MAX before the int check.
    if not data or end != len(data) or not _LONG_MIN <= number <= _LONG_MAX:
        raise ConfigError(f"invalid integer value {value!r}")
    if not _INT_MIN <= number <= _INT_MAX:
        raise ConfigError(f"invalid integer value {value!r}")
    return number


# --- krb5_string_to_deltat ---------------------------------------------------------------
_MAX_TIME, _MIN_TIME = _INT_MAX, _INT_MIN
_DAY, _HOUR = 24 * 3600, 3600


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


_MAX_DAY, _MIN_DAY = _cdiv(_MAX_TIME, _DAY), _cdiv(_MIN_TIME, _DAY)
_MAX_HOUR, _MIN_HOUR = _cdiv(_MAX_TIME, _HOUR), _cdiv(_MIN_TIME, _HOUR)
_MAX_MIN, _MIN_MIN = _cdiv(_MAX_TIME, 60), _cdiv(_MIN_TIME, 60)

# Token kinds: single characters stand for themselves; these are the others.
_NUM, _LONGNUM, _OVERFLOW, _WS, _EOF = "NUM", "LONGNUM", "OVERFLOW", "WS", "EOF"


class _BadDeltat(Exception):
    """Internal: the grammar rejected the string (becomes ConfigError)."""


def _lex(data: bytes) -> list[tuple[str, int]]:
    """x-deltat.y ``mylex``: tokens up to the first character it does not know (= end)."""
    tokens: list[tuple[str, int]] = []
    i = 0
    while True:
        c = data[i] if i < len(data) else 0
        i += 1
        if c in b"-:dhms" and c:
            tokens.append((chr(c), 0))
        elif 0x30 <= c <= 0x39:
            start, num = i - 1, c - 0x30
            while i < len(data) and 0x30 <= data[i] <= 0x39:
                num = num * 10 + data[i] - 0x30
                if num > _MAX_TIME:
                    return [*tokens, (_OVERFLOW, 0)]
                i += 1
            tokens.append((_LONGNUM if i - start > 2 else _NUM, num))
        elif c in b" \t\n" and c:
            while i < len(data) and data[i] in _C_SPACE:
                i += 1
            tokens.append((_WS, 0))
        else:
            # NB(mit): any other character, NUL or non-ASCII ends the input (YYEOF), so
            # "10hjunk" is 10 hours.
            tokens.append((_EOF, 0))
            return tokens


def _sum(a: int, b: int) -> int:
    """``DO_SUM``: refuse a sum outside the 32-bit range (tested as MIT tests it)."""
    ok = (b <= _MAX_TIME - a) if a > 0 else (_MIN_TIME - a <= b)
    if not ok:
        raise _BadDeltat
    return a + b


def _do(d: int, h: int, m: int, s: int) -> int:
    if not _MIN_DAY <= d <= _MAX_DAY or not _MIN_HOUR <= h <= _MAX_HOUR:
        raise _BadDeltat
    if not _MIN_MIN <= m <= _MAX_MIN:
        raise _BadDeltat
    return _sum(_sum(_sum(d * _DAY, h * _HOUR), m * 60), s)


class _DeltatParser:
    def __init__(self, tokens: list[tuple[str, int]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str:
        return self.tokens[self.pos][0]

    def take(self, kind: str) -> int:
        tok, val = self.tokens[self.pos]
        if tok != kind:
            raise _BadDeltat
        self.pos += 1
        return val

    def ws(self) -> None:
        if self.peek() == _WS:
            self.pos += 1

    def num(self) -> int:
        """``num: posnum | '-' posnum``; ``posnum: NUM | LONGNUM``."""
        negative = self.peek() == "-"
        if negative:
            self.pos += 1
        if self.peek() not in (_NUM, _LONGNUM):
            raise _BadDeltat  # includes OVERFLOW, which MIT rejects with YYERROR
        value = self.tokens[self.pos][1]
        self.pos += 1
        return -value if negative else value

    def wsnum_or_none(self) -> int | None:
        """``ws`` then, if a number follows, ``num``; None when only ``ws`` was there."""
        self.ws()
        if self.peek() in ("-", _NUM, _LONGNUM, _OVERFLOW):
            return self.num()
        return None

    def opt_s(self) -> int:
        n = self.wsnum_or_none()
        if n is None:
            return 0
        self.take("s")
        return n

    def opt_ms(self) -> int:
        n = self.wsnum_or_none()
        if n is None:
            return 0
        unit = self.peek()
        self.pos += 1
        if unit == "s":
            return n
        if unit != "m":
            raise _BadDeltat
        if not _MIN_MIN <= n <= _MAX_MIN:
            raise _BadDeltat
        return _sum(n * 60, self.opt_s())

    def opt_hms(self) -> int:
        n = self.wsnum_or_none()
        if n is None:
            return 0
        unit = self.peek()
        self.pos += 1
        if unit == "s":
            return n
        if unit == "m":
            if not _MIN_MIN <= n <= _MAX_MIN:
                raise _BadDeltat
            return _sum(n * 60, self.opt_s())
        if unit != "h":
            raise _BadDeltat
        if not _MIN_HOUR <= n <= _MAX_HOUR:
            raise _BadDeltat
        return _sum(n * _HOUR, self.opt_ms())

    def deltat(self) -> int:
        first = self.wsnum_or_none()
        if first is None:
            raise _BadDeltat
        unit = self.peek()
        if unit == _EOF:
            result = _do(0, 0, 0, first)
        else:
            self.pos += 1
            if unit == "d":
                result = _do(first, 0, 0, self.opt_hms())
            elif unit == "h":
                result = _do(0, first, 0, self.opt_ms())
            elif unit == "m":
                result = _do(0, 0, first, self.opt_s())
            elif unit == "s":
                result = _do(0, 0, 0, first)
            elif unit == "-":
                h = self.take(_NUM)
                self.take(":")
                m = self.take(_NUM)
                self.take(":")
                result = _do(first, h, m, self.take(_NUM))
            elif unit == ":":
                h_m = self.take(_NUM)
                s = 0
                if self.peek() == ":":
                    self.pos += 1
                    s = self.take(_NUM)
                    result = _do(0, first, h_m, s)
                else:
                    result = _do(0, first, h_m, 0)
            else:
                raise _BadDeltat
        self.take(_EOF)
        return result


def string_to_deltat(value: str) -> int:
    """``krb5_string_to_deltat``: "10h", "1d 2h 3m 4s", "3600", "1:00:00", "2-03:00:00"."""
    try:
        return _DeltatParser(_lex(_b(value))).deltat()
    except _BadDeltat:
        raise ConfigError(f"invalid duration {value!r}") from None
