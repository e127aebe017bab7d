"""Anonymous PKINIT: gssmech's exchange in process vs MIT ``kinit -n`` (whole process), both
against the same MIT KDC started here.  Prints the ratio (target <= 1.0x)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gssmech.krb5.client.as_exchange import ASExchange
from gssmech.krb5.client.runner import run
from gssmech.krb5.pkinit.client import AnonymousPKINIT
from gssmech.krb5.pkinit.cms import load_anchors
from gssmech.krb5.principal import Principal
from tests.interop.mitrealm import MITRealm, find_program

ROUNDS = 30


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        realm = MITRealm(Path(tmp)).create().start()
        try:
            anchors = load_anchors(realm.anchors.read_bytes())
            kdcs = [f"127.0.0.1:{realm.port}"]

            def ours() -> None:
                pk = AnonymousPKINIT(realm.realm, anchors)
                run(ASExchange(Principal.anonymous(realm.realm), pkinit=pk), lambda _r: kdcs)

            kinit = find_program("kinit") or "kinit"
            cc = f"FILE:{tmp}/cc.mit"

            def mit() -> None:
                subprocess.run([kinit, "-n", "-c", cc], env=realm.env, check=True,
                               capture_output=True)

            def timed(fn) -> float:
                fn()  # warm up
                samples = []
                for _ in range(ROUNDS):
                    t = time.perf_counter()
                    fn()
                    samples.append(time.perf_counter() - t)
                return statistics.median(samples)

            t_ours, t_mit = timed(ours), timed(mit)
        finally:
            realm.stop()
    print(f"anonymous PKINIT (MODP 14), median of {ROUNDS}:")
    print(f"  gssmech in process : {t_ours * 1000:8.2f} ms")
    print(f"  MIT kinit -n       : {t_mit * 1000:8.2f} ms")
    print(f"  ratio gssmech/MIT  : {t_ours / t_mit:8.2f}x (target <= 1.0x)")


if __name__ == "__main__":
    main()
