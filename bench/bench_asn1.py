#!/usr/bin/env python3
"""Cost of strict decoding (:func:`gssmech.krb5.asn1.decode`) per message, same run baseline.

For TGS-REQ, AP-REQ (the one inside that TGS-REQ's PA-TGS-REQ), AS-REP and KRB-ERROR captured
from MIT (tests/data/mit) and an EncTicketPart and Authenticator built with the asn1 classes
(their MIT counterparts only travel encrypted), this prints µs per call of:

- ``decode``: ``decode(cls, data)``, the strict parse every untrusted message goes through;
- ``lazy``: asn1crypto's own non-strict ``cls.load(data).native``, which also parses every
  field (and builds a dict tree) but checks nothing of ours; ``ratio`` = decode / lazy;
- ``before`` (only with ``--before FILE``): the same call through another version of
  decode.py, e.g. ``git show HEAD:gssmech/krb5/asn1/decode.py > /tmp/old.py``; ``speedup`` =
  before / decode.

A second table times the hot-path readers (``read_tgs_req``, ``read_ap_req``,
``read_authenticator``: the direct DER reader, fields as frozen dataclasses) against
``decode`` of the same bytes.

Standalone (no pytest); best of several interleaved batches; a few seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asn1crypto import core  # noqa: E402

from gssmech.krb5 import asn1 as k  # noqa: E402
from gssmech.krb5.asn1.apfields import read_ap_req, read_authenticator  # noqa: E402
from gssmech.krb5.asn1.kdcfields import read_tgs_req  # noqa: E402

MIT = ROOT / "tests" / "data" / "mit"
ROUNDS = 5
ROUND_SECONDS = 0.1
NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def _principal(*names: str) -> k.PrincipalName:
    return k.PrincipalName({"name_type": 1, "name_string": list(names)})


def enc_ticket_part() -> bytes:
    """A TGT's EncTicketPart shaped like MIT's (flags, key, times, an AD-IF-RELEVANT)."""
    inner = k.AuthorizationData([{"ad_type": 128, "ad_data": bytes(400)}])
    return k.EncTicketPart({
        "flags": k.TicketFlags({"forwardable", "renewable", "initial", "pre-authent"}),
        "key": {"keytype": 18, "keyvalue": bytes(range(32))},
        "crealm": "EXAMPLE.ORG", "cname": _principal("alice"),
        "transited": {"tr_type": 1, "contents": b""},
        "authtime": NOW, "starttime": NOW, "endtime": NOW + dt.timedelta(hours=10),
        "renew_till": NOW + dt.timedelta(days=7),
        "authorization_data": [{"ad_type": 1, "ad_data": inner.dump()}],
    }).dump()


def authenticator() -> bytes:
    """A TGS-REQ Authenticator as MIT sends it (cksum over the body, subkey, seq-number)."""
    return k.Authenticator({
        "authenticator_vno": 5, "crealm": "EXAMPLE.ORG", "cname": _principal("alice"),
        "cksum": {"cksumtype": 16, "checksum": bytes(12)}, "cusec": 123456, "ctime": NOW,
        "subkey": {"keytype": 18, "keyvalue": bytes(32)}, "seq_number": 0x12345678,
    }).dump()


def samples() -> list[tuple[str, type[core.Asn1Value], bytes]]:
    tgs_req = (MIT / "pw_tgs_req_1.der").read_bytes()
    padata = k.TGSReq.load(tgs_req)["padata"]
    ap_req = next(p["padata_value"].native for p in padata if int(p["padata_type"]) == 1)
    return [
        ("TGS-REQ", k.TGSReq, tgs_req),
        ("AP-REQ", k.APReq, ap_req),
        ("EncTicketPart", k.EncTicketPart, enc_ticket_part()),
        ("Authenticator", k.Authenticator, authenticator()),
        ("AS-REP", k.ASRep, (MIT / "pw_as_rep_1.der").read_bytes()),
        ("AS-REP anon", k.ASRep, (MIT / "anon_as_rep_1.der").read_bytes()),
        ("KRB-ERROR", k.KRBError, (MIT / "anon_krb_error_1.der").read_bytes()),
    ]


def best_seconds(fns: list[Callable[[], object]]) -> list[float]:
    """Seconds per call of each fn: best batch of ROUNDS, the fns interleaved per round."""
    per_batch = []
    for fn in fns:
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        per_batch.append(max(1, int(ROUND_SECONDS / once)))
    best = [float("inf")] * len(fns)
    for _ in range(ROUNDS):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            for _ in range(per_batch[i]):
                fn()
            best[i] = min(best[i], (time.perf_counter() - start) / per_batch[i])
    return best


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("decode_before", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="another decode.py to compare against")
    args = parser.parse_args()
    before = load_module(args.before).decode if args.before else None
    head = f"{'message':<14} {'bytes':>5} {'decode':>8} {'lazy':>8} {'ratio':>6}"
    print("µs per strict decode; lazy = asn1crypto load().native (no checks)")
    print(head + (f" {'before':>8} {'speedup':>7}" if before else ""))
    for name, cls, data in samples():
        fns: list[Callable[[], object]] = [
            lambda c=cls, d=data: k.decode(c, d),
            lambda c=cls, d=data: c.load(d).native,
        ]
        if before is not None:
            fns.append(lambda c=cls, d=data: before(c, d))
        times = [t * 1e6 for t in best_seconds(fns)]
        line = f"{name:<14} {len(data):>5} {times[0]:>8.1f} {times[1]:>8.1f} "
        line += f"{times[0] / times[1]:>6.2f}"
        if before is not None:
            line += f" {times[2]:>8.1f} {times[2] / times[0]:>7.2f}"
        print(line)
    print("µs per read on the hot paths (apfields/kdcfields, fields as dataclasses) vs decode()")
    print(f"{'message':<14} {'bytes':>5} {'read':>8} {'decode':>8} {'ratio':>6}")
    readers = {"TGS-REQ": read_tgs_req, "AP-REQ": read_ap_req,
               "Authenticator": read_authenticator}
    for name, cls, data in samples():
        if name in readers:
            read = readers[name]
            t_read, t_decode = (t * 1e6 for t in best_seconds(
                [lambda r=read, d=data: r(d), lambda c=cls, d=data: k.decode(c, d)]))
            print(f"{name:<14} {len(data):>5} {t_read:>8.1f} {t_decode:>8.1f} "
                  f"{t_read / t_decode:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
