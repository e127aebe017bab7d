#!/usr/bin/env python3
"""Context establishment (issue 4): init + accept + AP-REP with a cached service ticket,
gssmech's python-gssapi-shaped API (:mod:`gssmech.gss.api`, in process) vs MIT's built-in krb5
mechanism through python-gssapi, in the same process and run.

A throw-away MIT realm (tests.interop.mitrealm) issues the user's TGT (``kinit``) and caches the
service ticket for host/localhost (MIT ``kvno``); both implementations then read that ccache and
the realm's host keytab.  Credentials are acquired once per side, outside the timed loop, for
both.  Each timed pair is: initiator ``step()`` (RFC 4121 AP-REQ), acceptor ``step`` (AP-REP),
initiator ``step`` (mutual authentication done).

Like with like: ``KRB5RCACHETYPE=none`` is set for both (MIT reads it in libkrb5, gssmech in
:func:`gssmech.gss.replaycache.default_replay_cache`), so neither pays for a replay-cache file
write; the ccache and keytab files are read on every pair by both.  Pairs of each
implementation are taken in alternating rounds and the median per pair is reported.

Target: ours <= 1.0x MIT's time.  Prints the figures and "MISS" for a missed target; exits 0
either way (figures are noisy on a shared machine), 1 only if the bench itself cannot run.

Standalone: ``python bench/bench_gss_context.py``; needs the MIT KDC programs and python-gssapi.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _realm import cached_ticket_realm, skip_reason
from _timing import per_call_seconds

TARGET = 1.0
ROUNDS = 15
PER_ROUND = 40

Pair = Callable[[], None]


def mit_pair_maker() -> Pair:
    """MIT's krb5 mech via python-gssapi; the KRB5_* environment must already be set."""
    import gssapi  # after the environment: libkrb5 reads it at first use

    target = gssapi.Name("host@localhost", gssapi.NameType.hostbased_service)
    flags = [
        gssapi.RequirementFlag.mutual_authentication,
        gssapi.RequirementFlag.out_of_sequence_detection,
    ]
    mech = gssapi.MechType.kerberos
    icred = gssapi.Credentials(usage="initiate", mechs=[mech])
    acred = gssapi.Credentials(usage="accept", mechs=[mech])

    def pair() -> None:
        ini = gssapi.SecurityContext(
            name=target, creds=icred, usage="initiate", mech=mech, flags=flags
        )
        acc = gssapi.SecurityContext(creds=acred, usage="accept")
        ini.step(acc.step(ini.step()))
        if not (ini.complete and acc.complete):
            raise RuntimeError("MIT context did not complete")

    return pair


def our_pair_maker() -> Pair:
    """gssmech.gss.api, krb5 framing (the same wire as MIT's), same ccache and keytab."""
    from gssmech.gss import api
    from gssmech.gss.oids import KRB5_MECH

    target = api.Name("host@localhost", api.NameType.hostbased_service)
    rf = api.RequirementFlag
    flags = rf.mutual_authentication | rf.out_of_sequence_detection
    icred = api.Credentials(usage="initiate")
    acred = api.Credentials(usage="accept")

    def pair() -> None:
        ini = api.SecurityContext(
            name=target, creds=icred, usage="initiate", mech=KRB5_MECH, flags=flags
        )
        acc = api.SecurityContext(creds=acred, usage="accept")
        ini.step(acc.step(ini.step()))
        if not (ini.complete and acc.complete):
            raise RuntimeError("gssmech context did not complete")

    return pair


def measure(ours: Pair, mit: Pair) -> tuple[list[float], list[float]]:
    for fn in (ours, mit):  # warm-up: imports, first file reads, enctype tables
        per_call_seconds(fn, 10)
    t_ours: list[float] = []
    t_mit: list[float] = []
    for _ in range(ROUNDS):
        t_ours += per_call_seconds(ours, PER_ROUND)
        t_mit += per_call_seconds(mit, PER_ROUND)
    return t_ours, t_mit


def report(t_ours: list[float], t_mit: list[float]) -> bool:
    ours, mit = statistics.median(t_ours), statistics.median(t_mit)
    ratio = ours / mit
    ok = ratio <= TARGET
    print("context pair: init + accept + AP-REP, cached service ticket, aes256-cts-hmac-sha1-96")
    print("  (KRB5RCACHETYPE=none for both: no replay-cache file on either side)")
    print(f"  {'':8} {'median us':>10} {'p10 us':>8} {'p90 us':>8}")
    for label, ts in (("gssmech", t_ours), ("MIT", t_mit)):
        q = statistics.quantiles(ts, n=10)
        print(f"  {label:8} {statistics.median(ts) * 1e6:>10.0f} {q[0] * 1e6:>8.0f} "
              f"{q[-1] * 1e6:>8.0f}")
    print(f"  time ratio gssmech/MIT {ratio:.2f}x (target <= {TARGET:.1f}x)"
          + ("" if ok else "  MISS"))
    return ok


def main() -> int:
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    with cached_ticket_realm() as realm:
        realm.stop()  # nothing below talks to the KDC: the ticket is cached
        for k in [k for k in os.environ if k.startswith(("KRB5", "GSSMECH_"))]:
            del os.environ[k]
        os.environ.update({k: v for k, v in realm.env.items() if k.startswith("KRB5")})
        os.environ["KRB5RCACHETYPE"] = "none"
        t_ours, t_mit = measure(our_pair_maker(), mit_pair_maker())
    ok = report(t_ours, t_mit)
    print("targets met" if ok else "TARGETS MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
