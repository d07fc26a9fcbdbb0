"""TN index benchmark: build time, memory and lookup latency for a million live root grants.

Run: ``python -m benchmarks.tnindex [--grants N]`` (default 1,000,000 grants and N/10 delegations). Prints a
table and writes ``benchmarks/tnindex.json``.

Workload, deterministic from ``--seed``:
* a NANP-like number space: +1 NPA NXX XXXX with NPA and NXX in 200..999, no N11 codes, no toll-free NPAs;
* thousand-blocks (NPA-NXX-X) assigned to 400 TNSPs, each block at its own holding epoch;
* root grants of 1-100 consecutive numbers carved out of those blocks (a random gap between grants), held
  by the block's TNSP since before the grant, live now (valid_from in the past, valid_until in the future);
* delegations (N/10): four in five of a root, one in five of an earlier delegation (chains of 2-4 links),
  each for a sub-range of its parent;
* one number in 200 grants ported away afterwards (those numbers have no live chain);
* 100,000 lookups: half a number some grant lists, half a random number of the space (almost all misses).

Figures: ``build_from_store`` time from a SQLite sync store on disk (what a node does at start-up), the bulk
load alone (records already in memory), incremental inserts and status changes into the built index,
tracemalloc peak during ``build_from_store`` and the index's retained size after it, and ``chains()`` latency.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.machine import machine
from contracts.vocab import Kind, Status, TNRange
from node.sync.store import Store
from node.tnindex import BLOCK, ROOT_PARENT, TNIndex, build_from_store

OUT = Path(__file__).with_name("tnindex.json")
NOW = 1_780_000_000
DAY, YEAR = 86_400, 365 * 86_400
TOLL_FREE = {800, 833, 844, 855, 866, 877, 888}
T = TypeVar("T")


@dataclass
class Workload:
    """Rows as the sync store holds them."""

    credentials: list[tuple[Any, ...]] = field(default_factory=list)
    blocks: list[tuple[int, str, int]] = field(default_factory=list)
    numbers: list[tuple[int, str, int]] = field(default_factory=list)
    grants: list[tuple[int, int]] = field(default_factory=list)  # (start, count) of every root grant


def _codes(rng: random.Random) -> int:
    while True:
        c = rng.randrange(200, 1000)
        if c % 100 != 11:
            return c


def _random_block(rng: random.Random) -> int:
    while True:
        npa = _codes(rng)
        if npa not in TOLL_FREE:
            return (10**10 + npa * 10**7 + _codes(rng) * 10**4) // 1000 + rng.randrange(10)


def random_number(rng: random.Random) -> int:
    return _random_block(rng) * 1000 + rng.randrange(1000)


def make_workload(grants: int, delegations: int, seed: int) -> Workload:
    rng = random.Random(seed)
    w = Workload()
    holders = ["0x" + rng.randbytes(20).hex() for _ in range(400)]
    tnsp_dids = [rng.randbytes(16) for _ in holders]
    enterprises = [rng.randbytes(16) for _ in range(max(grants // 5, 1))]
    epoch = 0
    block_of: dict[int, tuple[int, int]] = {}  # block -> (holder index, next free offset)
    blocks: list[int] = []
    parents: list[tuple[bytes, bytes, int, int, int, int, int, int, int]] = []  # id, subject, holder, since, ...
    for i in range(grants):
        count = rng.randint(1, 100)
        gap = rng.randrange(50)
        while True:
            if not blocks or rng.random() < 0.08:
                b = _random_block(rng)
                if b in block_of:
                    continue
                epoch += 1
                h = rng.randrange(len(holders))
                block_of[b] = (h, 0)
                blocks.append(b)
                w.blocks.append((b, holders[h], epoch))
            else:
                b = blocks[-1 - rng.randrange(min(len(blocks), 64))]  # fill recent blocks first
            h, free = block_of[b]
            if free + gap + count <= 1000:
                break
            block_of[b] = (h, 1000)
        start = b * 1000 + free + gap
        block_of[b] = (h, free + gap + count)
        epoch += 1
        cid = rng.randbytes(32)
        subject = rng.choice(enterprises)
        vf, vu = NOW - rng.randrange(DAY, 2 * YEAR), NOW + rng.randrange(DAY, 2 * YEAR)
        w.credentials.append((cid, int(Kind.TN_RIGHT_TO_USE), tnsp_dids[h], subject, ROOT_PARENT, 3, 0, vf, vu,
                              holders[h], epoch, int(Status.ACTIVE), json.dumps([[start, count]]), b"\x00", i, 0))
        w.grants.append((start, count))
        parents.append((cid, subject, h, epoch, vf, vu, start, count, 0))
    for j in range(delegations):
        pid, psub, h, since, vf, vu, pstart, pcount, depth = (
            rng.choice(parents[grants:]) if j > 100 and rng.random() < 0.2 else parents[rng.randrange(grants)])
        count = rng.randint(1, pcount)
        start = pstart + rng.randrange(pcount - count + 1)
        cid = rng.randbytes(32)
        subject = rng.choice(enterprises)
        w.credentials.append((cid, int(Kind.TN_DELEGATION), psub, subject, pid, rng.choice((1, 3)), depth + 1, vf, vu,
                              holders[h], since, int(Status.ACTIVE), json.dumps([[start, count]]), b"\x00",
                              grants + j, 0))
        parents.append((cid, subject, h, since, vf, vu, start, count, depth + 1))
    for start, count in rng.sample(w.grants, grants // 200):
        epoch += 1
        w.numbers.append((start + rng.randrange(count), holders[rng.randrange(len(holders))], epoch))
    return w


def write_store(w: Workload, path: Path) -> Store:
    store = Store(path)
    with store.transaction() as db:
        db.executemany("INSERT INTO credentials (id, kind, issuer, subject, parent, flags, depth, valid_from, "
                       "valid_until, root_holder, root_since, status, tns, credential, anchored_block, anchored_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", w.credentials)
        db.executemany("INSERT INTO number_blocks (block, holder, since) VALUES (?, ?, ?)", w.blocks)
        db.executemany("INSERT OR REPLACE INTO numbers (tn, holder, since) VALUES (?, ?, ?)", w.numbers)
    return store


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def pct(sorted_ns: list[int], p: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(p / 100 * len(sorted_ns)))] / 1000


def measure_build(w: Workload) -> tuple[TNIndex, dict[str, Any]]:
    """build_from_store (timed, then again under tracemalloc) and the bulk load alone; returns the index."""
    mib = 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        store, t_store = timed(partial(write_store, w, Path(tmp) / "index.sqlite"))
        print(f"sync store written ({t_store:.1f} s)", flush=True)
        gc.collect()
        index, t_build = timed(partial(build_from_store, store))
        print(f"build_from_store: {t_build:.1f} s", flush=True)
        load = partial(TNIndex.from_records, list(index.credentials()), blocks=w.blocks, numbers=w.numbers)
        segments = index.segment_count
        del index
        gc.collect()
        _, t_bulk = timed(load)
        del load, _
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        index = build_from_store(store)
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        store.close()
    retained -= base
    print(f"memory: peak {peak / mib:,.0f} MiB, retained {retained / mib:,.0f} MiB", flush=True)
    return index, {
        "segments": segments,
        "build": {"build_from_store_s": round(t_build, 2), "bulk_from_records_s": round(t_bulk, 2),
                  "store_write_s": round(t_store, 2)},
        "memory": {"tracemalloc_peak_mib": round(peak / mib, 1), "retained_mib": round(retained / mib, 1),
                   "retained_bytes_per_credential": round(retained / len(w.credentials))},
    }


def measure_incremental(index: TNIndex, rng: random.Random, n: int) -> dict[str, float]:
    """New grants in fresh blocks (a 13-digit space no workload block uses), then status changes."""
    holder = "0x" + "ee" * 20
    fresh = []
    for i in range(n):
        b = 10**12 // BLOCK + i
        index.set_holder_block(b, holder, 10**9)
        fresh.append((rng.randbytes(32), b * BLOCK + rng.randrange(900), rng.randint(1, 100)))

    def add() -> None:
        for cid, start, count in fresh:
            index.add_credential(cid, kind=Kind.TN_RIGHT_TO_USE, issuer=b"\x01" * 16, subject=b"\x02" * 16, flags=3,
                                 depth=0, valid_from=NOW - DAY, valid_until=NOW + YEAR, root_holder=holder,
                                 root_since=10**9 + 1, ranges=[TNRange(start, count)])

    def change() -> None:
        for k, (cid, _, _) in enumerate(fresh):
            index.set_status(cid, Status.SUSPENDED if k % 2 else Status.REVOKED)

    _, t_add = timed(add)
    _, t_status = timed(change)
    return {"incremental_add_us": round(t_add / n * 1e6, 1), "set_status_us": round(t_status / n * 1e6, 1)}


def measure_lookups(index: TNIndex, queries: list[int]) -> dict[str, Any]:
    chains = index.chains
    for tn in queries[:1000]:  # warm up
        chains(tn, now=NOW)
    lat: list[int] = []
    hit_lat: list[int] = []
    miss_lat: list[int] = []
    found_chains = links = 0
    clock = time.perf_counter_ns
    for tn in queries:
        t0 = clock()
        found = chains(tn, now=NOW)
        dt = clock() - t0
        lat.append(dt)
        (hit_lat if found else miss_lat).append(dt)
        found_chains += len(found)
        links += sum(len(c.links) for c in found)
    hits = len(hit_lat)
    lat.sort()
    hit_lat.sort()
    miss_lat.sort()
    overhead = statistics.median(-(clock() - clock()) for _ in range(10_000))
    return {"p50_us": round(pct(lat, 50), 2), "p99_us": round(pct(lat, 99), 2),
            "mean_us": round(sum(lat) / len(lat) / 1000, 2), "max_us": round(lat[-1] / 1000, 1),
            "hit_p50_us": round(pct(hit_lat, 50), 2) if hit_lat else None,
            "miss_p50_us": round(pct(miss_lat, 50), 2) if miss_lat else None,
            "hit_rate": round(hits / len(queries), 3), "chains_per_hit": round(found_chains / max(hits, 1), 2),
            "links_per_chain": round(links / max(found_chains, 1), 2), "timer_overhead_ns": overhead}


def run(grants: int, delegations: int, lookups: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed + 1)
    w, t_gen = timed(partial(make_workload, grants, delegations, seed))
    print(f"workload: {grants:,} grants, {delegations:,} delegations, {len(w.blocks):,} blocks, "
          f"{len(w.numbers):,} ported numbers ({t_gen:.1f} s)", flush=True)
    queries = []
    for _ in range(lookups // 2):
        start, count = w.grants[rng.randrange(len(w.grants))]
        queries.append(start + rng.randrange(count))  # a number some grant lists
        queries.append(random_number(rng))  # any number of the space
    rng.shuffle(queries)
    index, built = measure_build(w)
    workload = {"grants": grants, "delegations": delegations, "blocks": len(w.blocks),
                "ported_numbers": len(w.numbers), "segments": built.pop("segments"), "lookups": len(queries),
                "seed": seed}
    del w
    gc.collect()
    built["build"].update(measure_incremental(index, rng, min(10_000, grants)))
    built["memory"]["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"machine": machine(), "workload": workload, **built, "lookup": measure_lookups(index, queries)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grants", type=int, default=1_000_000)
    ap.add_argument("--delegations", type=int, default=None, help="default: grants / 10")
    ap.add_argument("--lookups", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    res = run(args.grants, args.grants // 10 if args.delegations is None else args.delegations, args.lookups,
              args.seed)
    rows = [
        ("credentials (grants + delegations)", f"{args.grants:,} + {res['workload']['delegations']:,}"),
        ("segments", f"{res['workload']['segments']:,}"),
        ("build_from_store (SQLite -> index)", f"{res['build']['build_from_store_s']} s"),
        ("bulk load from records", f"{res['build']['bulk_from_records_s']} s"),
        ("incremental add_credential", f"{res['build']['incremental_add_us']} µs"),
        ("set_status", f"{res['build']['set_status_us']} µs"),
        ("tracemalloc peak (build)", f"{res['memory']['tracemalloc_peak_mib']} MiB"),
        ("retained (index)", f"{res['memory']['retained_mib']} MiB"
                             f" ({res['memory']['retained_bytes_per_credential']} B/credential)"),
        ("chains() p50 / p99", f"{res['lookup']['p50_us']} / {res['lookup']['p99_us']} µs"),
        ("chains() mean / max", f"{res['lookup']['mean_us']} / {res['lookup']['max_us']} µs"),
        ("chains() p50 of hits / of misses", f"{res['lookup']['hit_p50_us']} / {res['lookup']['miss_p50_us']} µs"),
        ("hit rate; chains per hit; links per chain",
         f"{res['lookup']['hit_rate']}; {res['lookup']['chains_per_hit']}; {res['lookup']['links_per_chain']}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\nTN index on {res['machine']['cpu']} ({res['machine']['cores']} cores), "
          f"Python {res['machine']['python']}")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
