"""Run the fuzz targets: ``python -m tests.fuzz [--runs N] [--target NAME ...] [--seconds S] [--jobs J]``.

Each target runs in its own process (atheris hands the process to libFuzzer, and a hard crash — a segfault, a
stack overflow, an input that hangs — then ends that target only). The worker counts the inputs it ran and how
each parser call ended, and stops after ``--runs`` inputs or ``--seconds`` seconds. The runner prints one line
per target, writes ``tests/fuzz/results.json`` (machine, date, Python, figures) and exits 1 if any target
crashed. Crashing inputs, with their tracebacks, go to ``tests/fuzz/crashes/``: replay one with
``python -m tests.fuzz --replay FILE``.

Without ``--runs`` each target gets :data:`DEFAULT_RUNS` inputs: 1,000,000 or more in all.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.fuzz import harnesses

REPO = harnesses.REPO
HERE = Path(__file__).resolve().parent
CRASHES = HERE / "crashes"
RESULTS = HERE / "results.json"

# Inputs per target for the full run: the slower ones (strict JSON, whose amplified megabyte documents take the
# depth scan ~1 s each under instrumentation; TOML; the wallet file) get fewer, the fast ones more; 1,100,000 in all.
DEFAULT_RUNS = {
    "json": 100_000, "identity": 175_000, "passport": 125_000, "enterprise": 125_000, "tnauthlist": 175_000,
    "sip": 100_000, "did": 150_000, "policy": 70_000, "envelope": 80_000,
}
assert tuple(DEFAULT_RUNS) == harnesses.TARGETS and sum(DEFAULT_RUNS.values()) >= 1_000_000

_STATS_EVERY = 2.0  # seconds between the worker's progress writes (what is left if the process dies)


# ---------------------------------------------------------------------------------------------------- worker


def _signature(exc: BaseException) -> str:
    """A crash's identity: the exception type and the innermost project frame outside the harness."""
    if isinstance(exc, harnesses.InvariantViolation):
        return f"InvariantViolation: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(str(REPO)) and str(HERE) not in f.filename]
    frame = (ours or frames)[-1]
    where = os.path.relpath(frame.filename, REPO) if frame.filename.startswith(str(REPO)) else frame.filename
    return f"{type(exc).__name__} in {where}:{frame.name}"


class _Worker:
    def __init__(self, target: harnesses.Target, runs: int | None, seconds: float | None, stats: Path) -> None:
        self.target, self.runs, self.seconds, self.stats_path = target, runs, seconds, stats
        self.probe = harnesses.Probe(target.typed)
        self.inputs = self.crashes = self.known = 0
        self.signatures: dict[str, dict[str, Any]] = {}
        self.start = self.last_write = 0.0
        self.slowest = (0.0, b"")  # seconds, input: where the time goes

    def stats(self, done: bool) -> dict[str, Any]:
        elapsed = time.monotonic() - self.start if self.start else 0.0
        return {"target": self.target.name, "done": done, "inputs": self.inputs, "ok": self.probe.ok,
                "errors": self.probe.errors, "crashes": self.crashes, "known": self.known,
                "signatures": list(self.signatures.values()), "seconds": round(elapsed, 3),
                "exec_per_s": round(self.inputs / elapsed) if elapsed else 0,
                "slowest_ms": round(self.slowest[0] * 1000, 1), "slowest_len": len(self.slowest[1]),
                "slowest_head": repr(self.slowest[1][:120])}

    def write(self, done: bool = False) -> None:
        tmp = self.stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.stats(done)))
        os.replace(tmp, self.stats_path)

    def crash(self, data: bytes, exc: Exception) -> None:
        sig = _signature(exc)
        known = any(sig.startswith(k) for k in harnesses.KNOWN)
        if known:
            self.known += 1
        else:
            self.crashes += 1
        entry = self.signatures.setdefault(sig, {"signature": sig, "count": 0, "known": known, "inputs": []})
        entry["count"] += 1
        path = CRASHES / f"{self.target.name}-{hashlib.sha1(data).hexdigest()[:16]}"
        if len(entry["inputs"]) < 3 and str(path.relative_to(REPO)) not in entry["inputs"]:  # the first few of a kind
            CRASHES.mkdir(exist_ok=True)
            path.write_bytes(data)
            trace = "".join(traceback.format_exception(exc))
            path.with_suffix(".txt").write_text(f"target: {self.target.name}\nsignature: {sig}\n"
                                                f"replay: python -m tests.fuzz --replay {path.relative_to(REPO)}\n"
                                                f"input: {data[:2000]!r}\n\n{trace}")
            entry["inputs"].append(str(path.relative_to(REPO)))
            if len(entry["inputs"]) == 1:
                print(f"\n=== {self.target.name}: new crash {sig}\n{trace}", file=sys.stderr, flush=True)

    def __call__(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.start:
            self.start = self.last_write = now
        self.inputs += 1
        try:
            self.target.harness(data, self.probe)
        except Exception as exc:  # noqa: BLE001 - the point: anything untyped is a crash, recorded and counted
            self.crash(data, exc)
        took = time.monotonic() - now
        if took > self.slowest[0]:
            self.slowest = (took, data)
        if (self.runs is not None and self.inputs >= self.runs) or (
                self.seconds is not None and now - self.start >= self.seconds):
            self.write(done=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)  # libFuzzer owns the process; this is how a harness ends it early
        if now - self.last_write >= _STATS_EVERY:
            self.last_write = now
            self.write()


def _worker(args: argparse.Namespace) -> None:
    import importlib

    import atheris

    for module in harnesses.PREIMPORT:
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    for spec in harnesses.INSTRUMENTED_FUNCTIONS:
        module, name = spec.split(":")
        atheris.instrument_func(getattr(importlib.import_module(module), name))
    with atheris.instrument_imports(include=list(harnesses.INSTRUMENTED), exclude=list(harnesses.NOT_INSTRUMENTED)):
        target = harnesses.build(args.worker)
    work = Path(args.workdir)
    seeds, corpus = work / "seeds", work / "corpus"  # libFuzzer adds what it finds to the first directory
    seeds.mkdir()
    corpus.mkdir()
    for data in target.seeds:
        (seeds / hashlib.sha1(data).hexdigest()).write_bytes(data)
    dict_file = work / "tokens.dict"
    dict_file.write_text(harnesses.dictionary(target.tokens))
    CRASHES.mkdir(exist_ok=True)
    worker = _Worker(target, args.runs, args.seconds, Path(args.stats))
    worker.write()
    flags = [f"-max_len={target.max_len}", f"-dict={dict_file}", f"-seed={args.seed}", "-timeout=60",
             "-rss_limit_mb=4096", f"-artifact_prefix={CRASHES}/{target.name}-", "-print_final_stats=1"]
    atheris.Setup([sys.argv[0], str(corpus), str(seeds), *flags], worker)
    atheris.Fuzz()


# ---------------------------------------------------------------------------------------------------- runner


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _artifacts(name: str) -> set[Path]:
    return {p for p in CRASHES.glob(f"{name}-*") if re.match(rf"{name}-(crash|timeout|oom|leak)-", p.name)}


def run_target(name: str, runs: int | None, seconds: float | None, seed: int) -> dict[str, Any]:
    """Fuzz one target in a subprocess; its figures, with ``status`` ``ok``, ``crash`` or ``died``."""
    before = _artifacts(name) if CRASHES.is_dir() else set()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"eidln-fuzz-{name}-") as work:
        stats_path = Path(work) / "stats.json"
        cmd = [sys.executable, "-m", "tests.fuzz", "--worker", name, "--stats", str(stats_path), "--workdir", work,
               "--seed", str(seed)]
        cmd += ["--runs", str(runs)] if runs is not None else []
        cmd += ["--seconds", str(seconds)] if seconds is not None else []
        log_path = Path(work) / "log.txt"
        with open(log_path, "wb") as log:
            rc = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                check=False).returncode
        log_text = log_path.read_text(errors="replace")
        stats: dict[str, Any] = json.loads(stats_path.read_text()) if stats_path.exists() else {
            "target": name, "done": False, "inputs": 0, "ok": 0, "errors": 0, "crashes": 0, "known": 0,
            "signatures": [], "seconds": 0.0, "exec_per_s": 0}
    stats["wall_seconds"] = round(time.monotonic() - started, 1)
    seed_match = re.search(r"INFO: Seed: (\d+)", log_text)
    stats["seed"] = int(seed_match.group(1)) if seed_match else seed
    stats["status"] = "crash" if stats["crashes"] else "ok"
    if rc != 0 or not stats["done"]:  # the process died (signal, stack overflow, timeout, out of memory)
        stats["crashes"] += 1
        stats["status"] = "died"
        new = sorted(str(p.relative_to(REPO)) for p in (_artifacts(name) - before)) if CRASHES.is_dir() else []
        stats["signatures"].append({"signature": f"process died (exit {rc})", "count": 1, "known": False,
                                    "inputs": new, "log_tail": log_text[-4000:]})
    return stats


def _machine() -> dict[str, Any]:
    return {"cpu": _cpu(), "cores": os.cpu_count(), "platform": platform.platform()}


def run(targets: list[str], *, runs: int | None = None, seconds: float | None = None, jobs: int = 1, seed: int = 0,
        echo: bool = True) -> dict[str, Any]:
    """Fuzz ``targets`` (``runs`` inputs each, or :data:`DEFAULT_RUNS`; at most ``seconds`` each), ``jobs`` at a
    time. Returns the results document (what ``results.json`` holds)."""
    started = time.monotonic()

    def one(name: str) -> dict[str, Any]:
        n = runs if runs is not None else (None if seconds is not None else DEFAULT_RUNS[name])
        stats = run_target(name, n, seconds, seed)
        if echo:
            print(f"  {name}: {stats['inputs']:,} inputs, {stats['status']}", file=sys.stderr, flush=True)
        return stats

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, targets))
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "python": platform.python_version(),
        "atheris": _dist_version("atheris"),
        "jobs": jobs,
        "total": {"inputs": sum(r["inputs"] for r in results), "crashes": sum(r["crashes"] for r in results),
                  "known": sum(r["known"] for r in results), "seconds": round(time.monotonic() - started, 1)},
        "targets": results,
    }


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def table(results: dict[str, Any]) -> str:
    rows = [("target", "inputs", "ok", "typed errors", "crashes", "known", "exec/s", "seconds")]
    for r in results["targets"]:
        rows.append((r["target"], f"{r['inputs']:,}", f"{r['ok']:,}", f"{r['errors']:,}", str(r["crashes"]),
                     str(r["known"]), f"{r['exec_per_s']:,}", f"{r['seconds']:.1f}"))
    total = results["total"]
    rows.append(("total", f"{total['inputs']:,}", "", "", str(total["crashes"]), str(total["known"]), "",
                 f"{total['seconds']:.1f} wall"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    for r in results["targets"]:
        for s in r["signatures"]:
            tag = "known" if s["known"] else "CRASH"
            lines.append(f"{tag} {r['target']}: {s['signature']} x{s['count']} {' '.join(s['inputs'])}")
            if s.get("log_tail"):
                lines.append(s["log_tail"][-1500:])
    return "\n".join(lines)


def _replay(path: Path) -> int:
    """Run one saved input through its target in this process, with the full traceback on a crash."""
    name = path.name.split("-", 1)[0]
    target = harnesses.build(name)
    probe = harnesses.Probe(target.typed)
    target.harness(path.read_bytes(), probe)
    print(f"{name}: no crash ({probe.ok} parser calls returned, {probe.errors} raised typed errors)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="inputs per target (default: DEFAULT_RUNS, >= 1,000,000 in all)")
    parser.add_argument("--target", nargs="+", choices=harnesses.TARGETS, default=list(harnesses.TARGETS))
    parser.add_argument("--seconds", type=float, help="at most this long per target")
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="libFuzzer seed (default 0: a random one, recorded)")
    parser.add_argument("--strict", action="store_true", help="known (reported, unfixed) crashes fail too")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where to write the figures ({RESULTS.name})")
    parser.add_argument("--no-results", action="store_true", help="do not write the results file")
    parser.add_argument("--replay", type=Path, help="run one saved crash input and show its traceback")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args)
        return 0
    if args.replay:
        return _replay(args.replay)
    results = run(args.target, runs=args.runs, seconds=args.seconds, jobs=args.jobs, seed=args.seed)
    results["command"] = "python -m tests.fuzz " + shlex.join(argv if argv is not None else sys.argv[1:])
    print(table(results))
    print(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores; Python {results['python']}; "
          f"atheris {results['atheris']}")
    if not args.no_results:
        args.results.write_text(json.dumps(results, indent=1) + "\n")
    failed = results["total"]["crashes"] or (args.strict and results["total"]["known"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
