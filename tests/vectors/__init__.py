"""Loader for the published Kerberos crypto test vectors kept verbatim in this folder.

Files (text exactly as published, page-break header/footer lines included):

- ``rfc3961-appendix-a.txt``: RFC 3961 Appendix A intro and A.1 (n-fold), from Heimdal's
  ``doc/standardisation/rfc3961.txt`` (as vendored by Samba).
- ``rfc3962-appendix-b.txt``: RFC 3962 Appendix B (PBKDF2 string-to-key and AES-CTS), from
  Samba's ``doc/standardisation/rfc3962.txt``.
- ``rfc8009-appendix-a.txt``: RFC 8009 Appendix A.  No verbatim copy of RFC 8009 was
  reachable when this was written, so this one is a faithful transcription (every value was
  cross-checked against three independent published test suites); its page breaks are
  omitted.

Every parser walks the whole text and fails loudly on hex data it cannot place, and the tests
assert :data:`EXPECTED_COUNTS`, so a vector silently dropped by the parser fails the suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: How many records each loader must return (counted by hand from the RFC texts).
EXPECTED_COUNTS = {
    "rfc3961_nfold": 11,
    "rfc3962_string_to_key": 14,  # 7 pass phrases x (128, 256)
    "rfc3962_cts": 6,
    "rfc8009_string_to_key": 2,
    "rfc8009_key_derivation": 6,  # 2 enctypes x (Kc, Ke, Ki)
    "rfc8009_encryption": 8,
    "rfc8009_checksum": 2,
    "rfc8009_prf": 2,
}

#: Names used in the RFC 8009 text, mapped to IANA numbers (RFC 8009 §8).
RFC8009_ENCTYPES = {"aes128-cts-hmac-sha256-128": 19, "aes256-cts-hmac-sha384-192": 20}
RFC8009_CKSUMTYPES = {"hmac-sha256-128-aes128": 19, "hmac-sha384-192-aes256": 20}

# An RFC page break: footer "... [Page N]", a form feed or blank lines, header "RFC NNNN ...".
_PAGE_BREAK = re.compile(r"\n[ \t\f]*\n*[^\n]*\[Page \d+\][ \t]*\n[\f \t\n]*RFC \d+ [^\n]*\n")
_HEX_LINE = re.compile(r"^\s+(?:[0-9A-Fa-f]{4}:\s+)?((?:[0-9A-Fa-f]{2}\s+)*[0-9A-Fa-f]{2})\s*$")


def read_text(name: str) -> str:
    """The file with page breaks cut out, so a vector split across pages reads as one."""
    text = (HERE / name).read_text(encoding="ascii")
    return _PAGE_BREAK.sub("\n", text)


@dataclass(slots=True)
class Item:
    """One line of an appendix: ``label: value`` / ``label = value`` / prose, plus hex lines."""

    kind: str  # "label" or "text"
    label: str
    value: str
    data: bytearray


def tokenize(text: str) -> list[Item]:
    items: list[Item] = []
    current: Item | None = None
    for line in text.splitlines():
        hex_match = _HEX_LINE.match(line)
        if hex_match:
            if current is None:
                raise ValueError(f"hex data outside any label: {line!r}")
            current.data += bytes.fromhex(hex_match.group(1))
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.endswith(":"):
            current = Item("label", stripped[:-1].strip(), "", bytearray())
        elif ":" in stripped:
            label, _, value = stripped.partition(":")
            current = Item("label", label.strip(), value.strip(), bytearray())
        elif "=" in stripped:
            label, _, value = stripped.partition("=")
            current = Item("label", label.strip(), value.strip(), bytearray())
        else:
            items.append(Item("text", "", stripped, bytearray()))
            current = None
            continue
        items.append(current)
    return items


def _unplaced(item: Item) -> ValueError:
    return ValueError(f"cannot place hex data under label {item.label!r}")


def _quoted(value: str) -> bytes:
    match = re.fullmatch(r'"(.*)"', value.strip())
    if not match:
        raise ValueError(f"expected a quoted string, got {value!r}")
    return match.group(1).encode("ascii")


# --- RFC 3961 Appendix A.1: n-fold ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NFoldVector:
    bits: int
    data: bytes
    expected: bytes


_FOLD = re.compile(r'(\d+)-fold\(("[^"]*"|[0-9a-f\s]+)\)[ \t]*(=?)')


def load_rfc3961_nfold() -> list[NFoldVector]:
    text = read_text("rfc3961-appendix-a.txt")
    start = text.index("A.1.  n-fold")
    end = text.index("Note that the initial octets", start)
    body = text[start:end]
    matches = list(_FOLD.finditer(body))
    vectors: list[NFoldVector] = []
    pending: tuple[int, bytes] | None = None
    for i, m in enumerate(matches):
        bits = int(m.group(1))
        arg = m.group(2)
        data = _quoted(arg) if arg.startswith('"') else bytes.fromhex(re.sub(r"\s", "", arg))
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        tail = body[m.end() : stop].split("\n\n")[0]
        if pending is not None:
            if pending != (bits, data):
                raise ValueError(f"n-fold forms disagree near {m.group(0)!r}")
            pending = None
        if not tail.strip():
            pending = (bits, data)
            continue
        if not re.fullmatch(r"[0-9a-f\s]+", tail):
            raise ValueError(f"unexpected text after {m.group(0)!r}: {tail!r}")
        expected = bytes.fromhex(re.sub(r"\s", "", tail))
        vectors.append(NFoldVector(bits, data, expected))
    if pending is not None:
        raise ValueError("n-fold entry without a result")
    return vectors


# --- RFC 3962 Appendix B -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rfc3962S2KVector:
    iterations: int
    passphrase: bytes
    salt: bytes
    keybits: int  # 128 -> enctype 17, 256 -> enctype 18
    pbkdf2: bytes
    key: bytes


@dataclass(frozen=True, slots=True)
class CTSVector:
    key: bytes
    iv: bytes
    plaintext: bytes
    ciphertext: bytes
    next_iv: bytes


def _s2k_group(iterations: int, group: dict[str, bytes]) -> list[Rfc3962S2KVector]:
    return [
        Rfc3962S2KVector(
            iterations,
            group["passphrase"],
            group["salt"],
            bits,
            group[f"{bits}-bit PBKDF2 output"],
            group[f"{bits}-bit AES key"],
        )
        for bits in (128, 256)
    ]


def _rfc3962_items() -> list[Item]:
    text = read_text("rfc3962-appendix-b.txt")
    return tokenize(text[text.index("B.  Sample Test Vectors") :])


def load_rfc3962_string_to_key() -> list[Rfc3962S2KVector]:
    vectors: list[Rfc3962S2KVector] = []
    iterations = 0
    group: dict[str, bytes] = {}
    want_phrase = False
    for item in _rfc3962_items():
        if item.kind == "text":
            if want_phrase:
                group["passphrase"] = _quoted(item.value)
                want_phrase = False
            continue
        if item.label.startswith("AES 128-bit key"):
            break  # the CTS vectors follow
        if item.label == "Iteration count":
            if group:
                vectors += _s2k_group(iterations, group)
            iterations, group = int(item.value), {}
        elif item.label == "Pass phrase":
            if item.value.startswith('"'):
                group["passphrase"] = _quoted(item.value)
            elif re.fullmatch(r"\(\d+ characters\)", item.value):
                want_phrase = True  # the phrase is on the next line
            else:
                hex_arg = re.fullmatch(r"[\w-]+ \(0x([0-9a-f]+)\)", item.value)
                if not hex_arg:
                    raise ValueError(f"cannot read pass phrase {item.value!r}")
                group["passphrase"] = bytes.fromhex(hex_arg.group(1))
        elif item.label == "Salt":
            if item.value.startswith("0x"):
                group["salt"] = bytes.fromhex(item.value[2:])
            else:
                group["salt"] = _quoted(item.value)
        elif re.fullmatch(r"(128|256)-bit (PBKDF2 output|AES key)", item.label):
            group[item.label] = bytes(item.data)
        elif item.data:
            raise _unplaced(item)
    if group:
        vectors += _s2k_group(iterations, group)
    return vectors


def load_rfc3962_cts() -> list[CTSVector]:
    vectors: list[CTSVector] = []
    key: bytes | None = None
    cur: dict[str, bytes] = {}
    in_cts = False

    def flush() -> None:
        if cur:
            assert key is not None
            vectors.append(CTSVector(key, cur["IV"], cur["Input"], cur["Output"], cur["Next IV"]))
            cur.clear()

    for item in _rfc3962_items():
        if item.kind == "text":
            continue
        if item.label == "AES 128-bit key":
            in_cts = True
            key = bytes(item.data)
        elif not in_cts:
            continue
        elif item.label == "IV":
            flush()
            cur["IV"] = bytes(item.data)
        elif item.label in ("Input", "Output", "Next IV"):
            cur[item.label] = bytes(item.data)
        elif item.data:
            raise _unplaced(item)
    flush()
    return vectors


# --- RFC 8009 Appendix A -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rfc8009S2KVector:
    enctype: int
    iterations: int
    passphrase: bytes
    saltp: bytes  # enctype name | 0x00 | salt, printed in full by the RFC
    key: bytes

    @property
    def salt(self) -> bytes:
        return self.saltp[self.saltp.index(0) + 1 :]


@dataclass(frozen=True, slots=True)
class KeyDerivationVector:
    enctype: int
    base_key: bytes
    usage: int
    name: str  # "Kc", "Ke" or "Ki"
    label: bytes  # usage | 0x99 / 0xAA / 0x55
    expected: bytes


@dataclass(frozen=True, slots=True)
class Rfc8009EncryptionVector:
    enctype: int
    base_key: bytes
    usage: int
    plaintext: bytes
    confounder: bytes
    ke: bytes
    ki: bytes
    aes_output: bytes
    hmac_output: bytes
    ciphertext: bytes


@dataclass(frozen=True, slots=True)
class Rfc8009ChecksumVector:
    cksumtype: int
    base_key: bytes
    usage: int
    kc: bytes
    plaintext: bytes
    checksum: bytes


@dataclass(frozen=True, slots=True)
class Rfc8009PrfVector:
    enctype: int
    key: bytes
    data: bytes
    expected: bytes


_USAGE = 2  # "These sample encryptions use [...] the same base-key and key usage values."


def _rfc8009_sections() -> dict[str, list[Item]]:
    sections: dict[str, list[Item]] = {}
    current: list[Item] | None = None
    for item in tokenize(read_text("rfc8009-appendix-a.txt")):
        if item.kind == "label" and item.label.startswith("Sample "):
            current = sections.setdefault(item.label.split(" (")[0], [])
        elif current is not None:
            current.append(item)
        elif item.data:
            raise _unplaced(item)
    return sections


def _enctype_of(item: Item) -> int | None:
    name = item.label.removeprefix("enctype ").strip()
    return RFC8009_ENCTYPES.get(name) if item.kind == "label" and not item.value else None


def load_rfc8009_string_to_key() -> list[Rfc8009S2KVector]:
    out: list[Rfc8009S2KVector] = []
    fields: dict[str, str] = {}
    saltp = b""
    for item in _rfc8009_sections()["Sample results for string-to-key conversion"]:
        if item.kind == "text":
            continue
        if item.label in ("Iteration count", "Pass phrase"):
            fields[item.label] = item.value
        elif item.label.startswith("Saltp for creating"):
            saltp = bytes(item.data)
        elif re.fullmatch(r"(128|256)-bit base-key", item.label):
            enctype = RFC8009_ENCTYPES[saltp[: saltp.index(0)].decode("ascii")]
            iterations = int(fields["Iteration count"])
            phrase = _quoted(fields["Pass phrase"])
            out.append(Rfc8009S2KVector(enctype, iterations, phrase, saltp, bytes(item.data)))
        elif item.data:
            raise _unplaced(item)
    return out


def _base_keys() -> dict[int, bytes]:
    return {v.enctype: v.base_key for v in load_rfc8009_key_derivation()}


def load_rfc8009_key_derivation() -> list[KeyDerivationVector]:
    out: list[KeyDerivationVector] = []
    enctype, base = 0, b""
    pattern = re.compile(r"(K[cei]) value for key usage (\d+) \(label = 0x([0-9A-Fa-f]{10})\)")
    for item in _rfc8009_sections()["Sample results for key derivation"]:
        found = _enctype_of(item)
        if found is not None:
            enctype = found
        elif re.fullmatch(r"(128|256)-bit base-key", item.label):
            base = bytes(item.data)
        elif m := pattern.fullmatch(item.label):
            label = bytes.fromhex(m.group(3))
            usage = int(m.group(2))
            if int.from_bytes(label[:4], "big") != usage:
                raise ValueError(f"label {m.group(3)} does not match usage {usage}")
            out.append(
                KeyDerivationVector(enctype, base, usage, m.group(1), label, bytes(item.data))
            )
        elif item.data:
            raise _unplaced(item)
    return out


_ENC_FIELDS = {
    "Confounder": "confounder",
    "AES Output": "aes_output",
    "Truncated HMAC Output": "hmac_output",
}


def load_rfc8009_encryption() -> list[Rfc8009EncryptionVector]:
    bases = _base_keys()
    out: list[Rfc8009EncryptionVector] = []
    enctype = 0
    cur: dict[str, bytes] = {}

    def flush() -> None:
        if cur:
            out.append(Rfc8009EncryptionVector(enctype, bases[enctype], _USAGE, **cur))
            cur.clear()

    for item in _rfc8009_sections()["Sample encryptions"]:
        found = _enctype_of(item)
        if found is not None:
            flush()
            enctype = found
        elif item.kind == "text":
            continue
        elif item.label == "Plaintext":
            flush()
            if not item.data and item.value != "(empty)":
                raise ValueError(f"plaintext without data: {item.value!r}")
            cur["plaintext"] = bytes(item.data)
        elif item.label in _ENC_FIELDS:
            cur[_ENC_FIELDS[item.label]] = bytes(item.data)
        elif item.label.startswith("Ciphertext"):
            cur["ciphertext"] = bytes(item.data)
        elif m := re.fullmatch(r"\d+-bit (?:AES|HMAC) key \((K[ei])\)", item.label):
            cur[m.group(1).lower()] = bytes(item.data)
        elif item.data:
            raise _unplaced(item)
    flush()
    return out


def load_rfc8009_checksums() -> list[Rfc8009ChecksumVector]:
    bases = _base_keys()
    out: list[Rfc8009ChecksumVector] = []
    cksumtype, kc, plaintext = 0, b"", b""
    for item in _rfc8009_sections()["Sample checksums"]:
        if item.kind == "text":
            continue
        if item.label == "Checksum type":
            cksumtype = RFC8009_CKSUMTYPES[item.value]
        elif re.fullmatch(r"\d+-bit HMAC key \(Kc\)", item.label):
            kc = bytes(item.data)
        elif item.label == "Plaintext":
            plaintext = bytes(item.data)
        elif item.label == "Checksum":
            # RFC 8009 §8: checksum types 19/20 go with enctypes 19/20.
            out.append(
                Rfc8009ChecksumVector(
                    cksumtype, bases[cksumtype], _USAGE, kc, plaintext, bytes(item.data)
                )
            )
        elif item.data:
            raise _unplaced(item)
    return out


def load_rfc8009_prf() -> list[Rfc8009PrfVector]:
    out: list[Rfc8009PrfVector] = []
    enctype, key, data = 0, b"", b""
    for item in _rfc8009_sections()["Sample pseudorandom function"]:
        found = _enctype_of(item)
        if found is not None:
            enctype = found
        elif item.kind == "text":
            continue
        elif item.label == "PRF input octet-string":
            m = re.fullmatch(r'("[^"]*") \(0x([0-9a-fA-F]+)\)', item.value)
            if not m or _quoted(m.group(1)) != bytes.fromhex(m.group(2)):
                raise ValueError(f"cannot read PRF input {item.value!r}")
            data = _quoted(m.group(1))
        elif item.label == "input-key value / key-derivation key":
            key = bytes(item.data)
        elif item.label == "PRF output":
            out.append(Rfc8009PrfVector(enctype, key, data, bytes(item.data)))
        elif item.data:
            raise _unplaced(item)
    return out
