"""Soak: ``eidln node serve`` on anvil under mixed valid and hostile traffic while the chain is stopped and
restarted, with a revocation after every restart.

Run::

    python -m benchmarks.soak [--minutes 10] [--restarts 3] [--outage 8] [--json benchmarks/soak.json]

The world is :class:`benchmarks.ospworld.OspWorld` (everything set up through ``eidln``; ``node serve`` and
``pki serve`` are real processes; policy ``max_staleness`` 5 s). For ``--minutes`` it runs:

* **callers** (2 threads): fresh enterprise PASSporTs for numbers of the enterprise's grants, each a new call;
* **attackers** (1 thread) cycling through hostile requests: 65,536 ``[``, lone surrogates, a declared 10 MB body, a
  1 MB chunked upload, a body that stops arriving, bytes that are not JSON, a wrong content type, a header over the
  limit, a replayed PASSporT, a tampered token, garbage to the STIR routes;
* **slowloris** (1 thread): bursts of 20 sockets that send half a request line and wait to be closed;
* ``--restarts`` outages: anvil is stopped for ``--outage`` seconds, started again (its state file keeps the chain),
  and once the node is ready again one grant is revoked by the TNSP through ``eidln tn revoke``.

It checks, and exits non-zero unless all hold: no 5xx at all; every slowloris socket closed by the server; every
decision the node answered is a row of its audit log (counted in the SQLite file after the node stopped); no **A**
for a revoked grant from the moment the node has synced the revocation (every later call with it is B); the node's
RSS at the end within ±10 % of its RSS after the warm-up (the first two minutes, or a fifth of the run if shorter:
the replay window and the bounded caches fill first). It
prints a summary and writes it as JSON (figures for the README, with the machine).
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.machine import machine
from benchmarks.ospworld import OspWorld, rss_kib

__all__ = ["run_soak", "main"]


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)  # "<kind> <status>"
    decisions: int = 0  # 200 answers of /v1/attest (each is a decision the audit log must hold)
    attests: Counter[str] = field(default_factory=Counter)  # "<A|B|C> <first reason>"
    five_xx: list[str] = field(default_factory=list)
    revoked_a: list[str] = field(default_factory=list)  # an A for a grant after its revocation synced
    slow_sockets: int = 0
    slow_closed: int = 0
    transport_errors: Counter[str] = field(default_factory=Counter)

    def answer(self, kind: str, r: httpx.Response) -> None:
        with self.lock:
            self.statuses[f"{kind} {r.status_code}"] += 1
            if r.status_code >= 500:
                self.five_xx.append(f"{kind}: {r.status_code} {r.text[:200]}")


def _decision(t: Tally, r: httpx.Response) -> dict[str, Any] | None:
    if r.status_code != 200 or r.request.url.path != "/v1/attest":
        return None
    d: dict[str, Any] = r.json()
    with t.lock:
        t.decisions += 1
        first = d["reasons"][0]["code"] if d["reasons"] else "none"
        t.attests[f"{d['attest']} {first}"] += 1
    return d


def _raw(base: str, data: bytes, *, wait: float) -> bytes:
    """Send raw bytes to the node, read its answer (or the close)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(data)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def _hostile(w: OspWorld) -> list[tuple[str, Callable[[httpx.Client], httpx.Response | None]]]:
    json_headers = {"content-type": "application/json"}

    def chunked(c: httpx.Client) -> httpx.Response:
        def stream() -> Any:
            for _ in range(1024):
                yield b"x" * 1024
        return c.post("/v1/attest", content=stream(), headers=json_headers)

    def declared_10mb(c: httpx.Client) -> None:
        host = w.base.removeprefix("http://")
        answer = _raw(w.base, (f"POST /v1/attest HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                               "Content-Length: 10000000\r\n\r\n").encode(), wait=10)
        _status_line(answer, "declared_10mb", 413)

    def stalled_body(c: httpx.Client) -> None:
        host = w.base.removeprefix("http://")
        answer = _raw(w.base, (f"POST /v1/attest HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                               "Content-Length: 65536\r\n\r\n{\"trunk\":").encode(), wait=w.body_timeout + 10)
        _status_line(answer, "stalled_body", 408)

    replayed: list[dict[str, Any]] = []

    def replay(c: httpx.Client) -> httpx.Response:
        if not replayed:
            replayed.append(w.call(w.granted[-1].first + 9))
        return c.post("/v1/attest", json=replayed[0])

    def tampered(c: httpx.Client) -> httpx.Response:
        body = w.call(w.granted[-1].first + 8)
        token, params = body["headers"]["Identity"].split(";", 1)
        h, p, sig = token.split(".")
        body["headers"]["Identity"] = f"{h}.{p}.{sig[:-4]}AAAA;{params}"
        return c.post("/v1/attest", json=body)

    return [
        ("deep_brackets", lambda c: c.post("/v1/attest", content=b"[" * 65536, headers=json_headers)),
        ("deep_brackets_stir", lambda c: c.post("/stir/v1/signing", content=b"[" * 65536, headers=json_headers)),
        ("lone_surrogate", lambda c: c.post("/v1/attest", headers=json_headers, content=(
            b'{"trunk": "\\ud800", "headers": {"To": "<sip:+13105550000@osp.example>"}}'))),
        ("chunked_1mb", chunked),
        ("declared_10mb", declared_10mb),
        ("stalled_body", stalled_body),
        ("not_json", lambda c: c.post("/v1/attest", content=random.randbytes(300), headers=json_headers)),
        ("wrong_type", lambda c: c.post("/v1/attest", content=b"{}", headers={"content-type": "text/plain"})),
        ("huge_header", lambda c: c.post("/v1/attest", json={}, headers={"x-filler": "a" * 20_000})),
        ("replay", replay),
        ("tampered", tampered),
        ("garbage_identity", lambda c: c.post("/v1/attest", json={"trunk": "acme", "headers": {
            "To": "<sip:+13105550000@osp.example>", "From": "<sip:+12025550101@x>", "Identity": "a.b.c;info=<x>"}})),
        ("unknown_trunk", lambda c: c.post("/v1/attest", json=w.call(w.granted[-1].first + 7, trunk="nobody"))),
        ("stir_garbage", lambda c: c.post("/stir/v1/verification", json={"verificationRequest": {
            "from": {"tn": "12025550101"}, "to": {"tn": ["13105550000"]}, "time": int(time.time()),
            "identity": "x.y.z;info=<http://127.0.0.1:9/x>"}})),
        ("bad_query", lambda c: c.get("/v1/audit", params={"limit": "-5"})),
        ("bad_did", lambda c: c.get("/1.0/identifiers/did:eidln:%ff")),
    ]


_statuses_seen: Counter[str] = Counter()


def _status_line(answer: bytes, kind: str, expect: int) -> None:
    line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    _statuses_seen[f"{kind} {line[9:12] or 'closed'}"] += 1
    if line[9:12] != str(expect):
        raise AssertionError(f"{kind}: expected {expect}, got {line!r}")


def run_soak(*, minutes: float, restarts: int, outage: float, root: Path, seed: int = 20261203) -> dict[str, Any]:
    rng = random.Random(seed)
    t = Tally()
    events: list[dict[str, Any]] = []
    rss: list[tuple[float, int]] = []
    stop = threading.Event()
    with OspWorld(root, grants=restarts + 2) as w:
        assert w.node is not None and w.anvil is not None
        pid = w.node.pid
        started = time.monotonic()
        end = started + minutes * 60
        warmup = min(120.0, minutes * 12)  # the replay window (60 s) and the bounded caches fill first
        revoked_synced: dict[str, float] = {}  # grant credential -> when the node was seen refusing it

        def caller(seed_: int) -> None:
            r_ = random.Random(seed_)
            with httpx.Client(base_url=w.base, timeout=30) as c:
                while not stop.is_set():
                    g = r_.choice(w.granted)
                    orig = g.first + r_.randrange(g.count)
                    try:
                        resp = c.post("/v1/attest", json=w.call(orig))
                    except httpx.TransportError as exc:
                        with t.lock:
                            t.transport_errors[f"caller {type(exc).__name__}"] += 1
                        continue
                    t.answer("call", resp)
                    d = _decision(t, resp)
                    if d is None:
                        continue
                    seen = revoked_synced.get(g.credential)
                    if d["attest"] == "A" and seen is not None and d["decidedAt"] > seen:
                        with t.lock:
                            t.revoked_a.append(f"{g.credential} A at {d['decidedAt']:.3f}, refused since {seen:.3f}")

        def attacker() -> None:
            kinds = _hostile(w)
            with httpx.Client(base_url=w.base, timeout=30) as c:
                i = 0
                while not stop.is_set():
                    kind, fn = kinds[i % len(kinds)]
                    i += 1
                    try:
                        resp = fn(c)
                    except (httpx.TransportError, OSError) as exc:
                        with t.lock:
                            t.transport_errors[f"{kind} {type(exc).__name__}"] += 1
                        continue
                    except AssertionError as exc:
                        with t.lock:
                            t.five_xx.append(str(exc))
                        continue
                    if resp is not None:
                        t.answer(kind, resp)
                        _decision(t, resp)
                    stop.wait(0.05)

        def slowloris() -> None:
            host, port = w.base.removeprefix("http://").split(":")
            while not stop.is_set():
                socks = []
                try:
                    for _ in range(20):
                        s = socket.create_connection((host, int(port)), timeout=w.header_timeout + 10)
                        s.sendall(b"POST /v1/attest HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                        socks.append(s)
                except OSError as exc:
                    with t.lock:
                        t.transport_errors[f"slowloris {type(exc).__name__}"] += 1
                with t.lock:
                    t.slow_sockets += len(socks)
                for s in socks:  # the state: the server closes each one (recv returns b"")
                    try:
                        closed = s.recv(100) == b""
                    except (TimeoutError, ConnectionResetError):
                        closed = False
                    with t.lock:
                        t.slow_closed += closed
                    s.close()
                stop.wait(5.0)

        def sampler() -> None:
            while not stop.is_set():
                try:
                    rss.append((time.monotonic() - started, rss_kib(pid)))
                except OSError:  # the node is gone: the final check reports it
                    return
                stop.wait(5.0)

        threads = [threading.Thread(target=caller, args=(rng.randrange(1 << 30),), daemon=True) for _ in range(2)]
        threads += [threading.Thread(target=f, daemon=True) for f in (attacker, slowloris, sampler)]
        with httpx.Client(base_url=w.base, timeout=30) as control:
            w.wait_ready(control)
            for th in threads:
                th.start()
            for k in range(restarts):
                at = started + (k + 1) * (end - started) / (restarts + 1) - outage / 2
                stop.wait(max(0.0, at - time.monotonic()))
                down = time.monotonic()
                w.chain_down()
                stop.wait(outage)
                w.chain_up()
                back = w.wait_ready(control)
                grant = w.granted[k]
                w.revoke(grant)
                refused = None
                deadline = time.monotonic() + 120
                while refused is None:  # the state: the node refuses the revoked grant
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the node still attests A for {grant.credential} 120 s after revocation")
                    resp = control.post("/v1/attest", json=w.call(grant.first))
                    t.answer("probe", resp)
                    d = _decision(t, resp)
                    if d is not None and d["attest"] == "B":
                        refused = d["decidedAt"]
                revoked_synced[grant.credential] = refused
                events.append({"outage": k + 1, "down_at_s": round(down - started, 1), "down_s": outage,
                               "ready_again_s": round(back, 2), "revoked": grant.credential,
                               "refused_after_mined_s": round(refused - (grant.revoked_at or refused), 3)})
            stop.wait(max(0.0, end - time.monotonic()))
            stop.set()
            for th in threads:
                th.join(timeout=60)
            final = control.get("/metrics").text
        node_rc = w.node.poll()
        w.close()  # SIGTERM: the node flushes its audit log and exits
        with sqlite3.connect(f"file:{w.root / 'home' / 'audit.sqlite'}?mode=ro", uri=True) as db:
            rows = int(db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
    after_warmup = [kib for at, kib in rss if at >= warmup] or [kib for _, kib in rss]
    rss_start, rss_end = after_warmup[0], after_warmup[-1]
    result = {
        "machine": machine(), "minutes": minutes, "restarts": restarts, "outage_s": outage,
        "requests": sum(t.statuses.values()) + sum(_statuses_seen.values()),
        "statuses": dict(sorted((t.statuses + _statuses_seen).items())),
        "decisions": t.decisions, "audit_rows": rows, "attests": dict(sorted(t.attests.items())),
        "five_xx": t.five_xx[:20], "revoked_a": t.revoked_a[:20], "outages": events,
        "slowloris": {"sockets": t.slow_sockets, "closed_by_server": t.slow_closed},
        "transport_errors": dict(t.transport_errors),
        "rss_kib": {"after_warmup": rss_start, "end": rss_end, "change": round(rss_end / rss_start - 1, 4),
                    "max": max(k for _, k in rss), "samples": [[round(at), kib] for at, kib in rss]},
        "node_alive_at_end": node_rc is None,
        "metrics_sync_failures": next((ln for ln in final.splitlines()
                                       if ln.startswith("eidln_sync_failures_total")), None),
    }
    result["ok"] = (not t.five_xx and not t.revoked_a and rows == t.decisions and node_rc is None
                    and t.slow_closed == t.slow_sockets and abs(rss_end / rss_start - 1) <= 0.10)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--restarts", type=int, default=3)
    p.add_argument("--outage", type=float, default=8.0, help="seconds the chain stays down each time")
    p.add_argument("--json", type=Path, default=Path(__file__).with_name("soak.json"))
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="eidln-soak-") as tmp:
        result = run_soak(minutes=a.minutes, restarts=a.restarts, outage=a.outage, root=Path(tmp))
    a.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("statuses", "machine")}, indent=2))
    print("OK" if result["ok"] else "FAILED", file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
