"""HTTP load on the node's STIR endpoints, from client processes separate from the server.

Run::

    python -m benchmarks.http_load --endpoint signing --duration 10 --clients 4 [--json out.json]
    python -m benchmarks.http_load --endpoint verification --duration 10
    python -m benchmarks.http_load --endpoint attest --duration 10 --clients 2

Without ``--url`` it starts a real uvicorn server in a subprocess (``python -m uvicorn --factory
benchmarks._serve_stir:app``, ``--server-workers`` processes, access log off) and stops it at the end. Then
``--clients`` worker processes (multiprocessing, spawn) each hold one keep-alive ``httpx.Client`` and send one
request at a time for ``--duration`` seconds, after a common start instant and a one-second warm-up that is not
counted. Reported: requests/s over the measured window, p50/p90/p99/max latency as the client saw it
(request sent to body read), errors (transport errors and any status other than 200), and the machine.

Decisions:

* Closed-loop clients (one request in flight each): the figure is throughput at ``--clients`` concurrency, and
  the latency includes the client's own Python overhead; on a small machine the clients compete with the server
  for cores, which the machine line makes visible.
* Endpoints are pluggable: :data:`ENDPOINTS` maps a name to its path and a request-body factory. ``verification``
  first gets an Identity header from ``/stir/v1/signing`` on the same server (not counted) and refreshes it every
  20 s so ``iat`` stays fresh. ``attest`` starts ``benchmarks._serve_stir:attest_app`` (the demo network and
  the OSP node in the server process); each client signs a fresh enterprise PASSporT per request as the demo's
  call center (client-side CPU, counted in the client's latency but not in the server's work).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.machine import machine

__all__ = ["ENDPOINTS", "Endpoint", "main", "run_load"]

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 1.0
Body = Callable[[httpx.Client, dict[str, Any]], dict[str, Any]]


def _signing_body(_client: httpx.Client, _state: dict[str, Any]) -> dict[str, Any]:
    return {"signingRequest": {"attest": "A", "dest": {"tn": ["12355551212"]}, "iat": int(time.time()),
                               "orig": {"tn": "12155551212"}, "origid": str(uuid.uuid4())}}


def _verification_body(client: httpx.Client, state: dict[str, Any]) -> dict[str, Any]:
    if state.get("signed_at", 0.0) < time.time() - 20:
        r = client.post("/stir/v1/signing", json=_signing_body(client, state))
        r.raise_for_status()
        state["identity"], state["signed_at"] = r.json()["signingResponse"]["identity"], time.time()
    return {"verificationRequest": {"from": {"tn": "12155551212"}, "to": {"tn": ["12355551212"]},
                                    "time": int(time.time()), "identity": state["identity"]}}


def _attest_body(_client: httpx.Client, state: dict[str, Any]) -> dict[str, Any]:
    """A fresh enterprise PASSporT per request, signed here (in the client) as the demo's call center, for a
    called number of its own (so no request is a replay); the server attests it A."""
    from wallet.keys import Ed25519Key
    from wallet.passport import sign_call

    t = state["template"]
    if "key" not in state:
        state["key"], state["n"] = Ed25519Key.from_seed(bytes.fromhex(t["seed"])), 0
    state["n"] += 1
    dest = f"1{os.getpid() % 900 + 100:03d}{state['n'] % 10_000_000:07d}"
    identity = sign_call(state["key"], kid=t["kid"], orig=t["orig"], dest=[dest],
                         iat=int(time.time()), credential_id=t["credential"])
    return {"trunk": t["trunk"], "headers": {"From": f"<sip:+{t['orig']}@pbx.example>",
                                             "To": f"<sip:+{dest}@osp.example>", "Identity": identity}}


@dataclass(frozen=True)
class Endpoint:
    path: str
    body: Body


ENDPOINTS: dict[str, Endpoint] = {
    "signing": Endpoint("/stir/v1/signing", _signing_body),
    "verification": Endpoint("/stir/v1/verification", _verification_body),
    "attest": Endpoint("/v1/attest", _attest_body),
}


def _worker(base_url: str, endpoint: str, template: dict[str, Any], start_at: float, duration: float,
            ) -> dict[str, Any]:
    """One client process: wait for ``start_at``, warm up, then measure for ``duration`` seconds."""
    ep = ENDPOINTS[endpoint]
    state: dict[str, Any] = {"template": template}
    latencies: list[float] = []
    errors: dict[str, int] = {}
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        time.sleep(max(0.0, start_at - time.time()))
        measure_from = time.perf_counter() + WARMUP
        stop = measure_from + duration
        while True:
            body = ep.body(client, state)
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            try:
                r = client.post(ep.path, json=body)
                ok, status = r.status_code == 200, str(r.status_code)
                if ok and endpoint == "attest" and r.json()["attest"] != "A":  # the load must be real A decisions
                    ok, status = False, "attest-" + str(r.json()["reasons"][0]["code"])
            except httpx.HTTPError as exc:
                ok, status = False, type(exc).__name__
            t1 = time.perf_counter()
            if t0 < measure_from:
                continue
            latencies.append(t1 - t0)
            if not ok:
                errors[status] = errors.get(status, 0) + 1
    return {"latencies": latencies, "errors": errors}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int, factory: str = "app", state: Path | None = None,
                 ) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", f"benchmarks._serve_stir:{factory}", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if state is not None:
        env["EIDLN_BENCH_STATE"] = str(state)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with status {proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1.0)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=10)
    raise RuntimeError("uvicorn did not start within 30 s")


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] if sorted_values else 0.0


def run_load(base_url: str, endpoint: str, *, clients: int, duration: float,
             template: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the clients against a running server and summarise what they measured."""
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # time for the spawned interpreters to import httpx
    with ctx.Pool(clients) as pool:
        results = pool.starmap(_worker, [(base_url, endpoint, template or {}, start_at, duration)] * clients)
    lat = sorted(x for r in results for x in r["latencies"])
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return {"endpoint": endpoint, "path": ENDPOINTS[endpoint].path, "clients": clients, "duration_s": duration,
            "requests": len(lat), "rps": len(lat) / duration, "errors": sum(errors.values()), "error_kinds": errors,
            "mean_ms": statistics.fmean(lat) * 1e3 if lat else 0.0, "p50_ms": _quantile(lat, 0.50) * 1e3,
            "p90_ms": _quantile(lat, 0.90) * 1e3, "p99_ms": _quantile(lat, 0.99) * 1e3,
            "max_ms": (lat[-1] if lat else 0.0) * 1e3}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.http_load", description=__doc__.split("\n", 1)[0])
    p.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="signing")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds (after a 1 s warm-up)")
    p.add_argument("--clients", type=int, default=max(2, (os.cpu_count() or 2)), help="client processes")
    p.add_argument("--server-workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--url", help="an already running server (default: start benchmarks._serve_stir)")
    p.add_argument("--body", type=Path, help="JSON request body template (attest)")
    p.add_argument("--json", type=Path, help="also write the report here")
    a = p.parse_args(argv)
    template = json.loads(a.body.read_text()) if a.body else {}
    proc = None
    base_url = a.url
    if base_url is None:
        port = _free_port()
        if a.endpoint == "attest":
            if a.server_workers != 1:
                p.error("--endpoint attest runs one server process (one embedded chain)")
            import tempfile

            state = Path(tempfile.mkdtemp(prefix="eidln-bench-")) / "state.json"
            proc = start_server(port, 1, "attest_app", state)
            template = json.loads(state.read_text())
        else:
            proc = start_server(port, a.server_workers)
        base_url = f"http://127.0.0.1:{port}"
    try:
        result = run_load(base_url, a.endpoint, clients=a.clients, duration=a.duration, template=template)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    report = {"machine": machine(), "server_workers": a.server_workers if proc else None, "url": base_url,
              "command": "python -m benchmarks.http_load " + " ".join(argv if argv is not None else sys.argv[1:]),
              "result": result}
    m = report["machine"]
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; server: "
          f"{'uvicorn x' + str(a.server_workers) if proc else base_url}; clients: {a.clients} processes")
    cols = ("requests", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors")
    print("| endpoint | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    print(f"| {result['path']} | " + " | ".join(f"{result[c]:,.0f}" if c in ("requests", "rps", "errors")
                                                  else f"{result[c]:.2f}" for c in cols) + " |")
    if result["error_kinds"]:
        print(f"errors by kind: {result['error_kinds']}")
    if a.json:
        a.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
