"""Queue benchmark: enqueue N scored posts, then R concurrent reviewers claiming and deciding.

Runs SQLite and PostgreSQL side by side in one process tree and prints, per backend:
enqueue throughput (target ≥ 5,000 items/s) and claim+decide latency percentiles (target p95 ≤ 50 ms).
Reviewers are separate processes (like separate app workers), each with its own connection pool.

    python benchmarks/review_queue.py                       # 100,000 items, 8 reviewers, both backends
    python benchmarks/review_queue.py --backend sqlite --items 20000 --json var/bench_queue.json

PostgreSQL: ``--pg-url`` (default $PANTAU_TEST_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test);
the benchmark works in a scratch schema it drops afterwards. Unreachable → reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

TARGET_ENQUEUE_PER_S = 5000.0
TARGET_P95_MS = 50.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _reviewer(url: str, user_id: int, ops: int, think_ms: float, barrier: Any, out: Any) -> None:
    """One reviewer process: ``ops`` rounds of claim one item → decide it (each round timed), with
    ``think_ms`` pause between rounds (0: a stress test; people take seconds per post)."""
    from pantau import queue
    from pantau.labels import LABEL_KEYS
    from pantau.queue.db import make_engine

    engine = make_engine(url)
    decision = queue.DecisionIn(
        labels={**dict.fromkeys(LABEL_KEYS, False), "divisive_label": True},
        action="warn",
        pasal_280=("280_1_c",),
    )
    claim_ms, decide_ms, total_ms = [], [], []
    barrier.wait()  # all reviewers start together, after every interpreter has imported everything
    started = time.time()
    cpu_start = time.process_time()
    for _ in range(ops):
        if think_ms:
            time.sleep(think_ms / 1000)
        t0 = time.perf_counter()
        ids = queue.claim(engine, user_id, 1, lease_minutes=15)
        t1 = time.perf_counter()
        if not ids:
            break
        queue.decide(engine, user_id, ids[0], decision)
        t2 = time.perf_counter()
        claim_ms.append((t1 - t0) * 1000)
        decide_ms.append((t2 - t1) * 1000)
        total_ms.append((t2 - t0) * 1000)
    finished = time.time()
    cpu = time.process_time() - cpu_start
    engine.dispose()
    out.put(
        {
            "user": user_id,
            "claim": claim_ms,
            "decide": decide_ms,
            "total": total_ms,
            "span": (started, finished),
            "cpu": cpu,
        }
    )


def run_backend(
    name: str, url: str, items: int, reviewers: int, ops: int, batch: int, think_ms: float = 0.0
) -> dict[str, Any]:
    from pantau import queue
    from pantau.queue.db import make_engine, upgrade
    from pantau.queue.synthetic import synthetic_rows
    from pantau.queue.users import add_user, hash_password

    engine = make_engine(url)
    upgrade(engine)
    rows = list(synthetic_rows(items, model_version="bench-v1", min_risk=0.5))  # generated outside the timing
    t0 = time.perf_counter()
    result = queue.enqueue(engine, rows, model_version="bench-v1", risk_threshold=0.5, batch_size=batch)
    enqueue_s = time.perf_counter() - t0
    if result.inserted != items:
        raise RuntimeError(f"{name}: expected {items} inserted, got {result}")
    t0 = time.perf_counter()
    again = queue.enqueue(engine, rows, model_version="bench-v1", risk_threshold=0.5, batch_size=batch)
    replay_s = time.perf_counter() - t0
    assert again.skipped == items, again
    password = hash_password("benchmark-password")
    users = [add_user(engine, f"bench{i}", None, password_hash=password).id for i in range(reviewers)]
    engine.dispose()

    ctx = mp.get_context("spawn")  # clean interpreters: no engine or lock state copied from the parent
    out = ctx.Queue()
    barrier = ctx.Barrier(reviewers)
    procs = [ctx.Process(target=_reviewer, args=(url, u, ops, think_ms, barrier, out)) for u in users]
    for p in procs:
        p.start()
    results = [out.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    wall = max(r["span"][1] for r in results) - min(r["span"][0] for r in results)
    total = [v for r in results for v in r["total"]]
    claim = [v for r in results for v in r["claim"]]
    decide = [v for r in results for v in r["decide"]]
    check = make_engine(url)
    counts = queue.status_counts(check)
    check.dispose()
    return {
        "backend": name,
        "items": items,
        "enqueue_s": round(enqueue_s, 3),
        "enqueue_per_s": round(items / enqueue_s, 1),
        "replay_per_s": round(items / replay_s, 1),
        "reviewers": reviewers,
        "think_ms": think_ms,
        "decisions": len(total),
        "review_wall_s": round(wall, 2),
        "decisions_per_s": round(len(total) / wall, 1) if wall else None,
        "claim_decide_ms": {
            "p50": round(statistics.median(total), 2),
            "p95": round(_percentile(total, 0.95), 2),
            "p99": round(_percentile(total, 0.99), 2),
        },
        # Client CPU per round (excludes waiting): what a round costs when the machine is not saturated.
        "client_cpu_ms_per_round": round(1000 * sum(r["cpu"] for r in results) / max(1, len(total)), 2),
        "claim_ms_p95": round(_percentile(claim, 0.95), 2),
        "decide_ms_p95": round(_percentile(decide, 0.95), 2),
        "status_after": counts,
    }


def _pg_reachable(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return str(exc).strip().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--reviewers", type=int, default=8)
    parser.add_argument("--ops", type=int, default=200, help="claim+decide rounds per reviewer")
    parser.add_argument("--batch", type=int, default=2000, help="enqueue batch size")
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="pause between a reviewer's rounds (0 = stress)"
    )
    parser.add_argument(
        "--pg-commit",
        default="durable,async",
        help="PostgreSQL commit modes to run: durable (server default, fsync per commit) and/or async "
        "(synchronous_commit=off: the durability SQLite's WAL + synchronous=NORMAL gives)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "PANTAU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from pantau.queue.db import scratch_schema

    def run(name: str, url: str) -> dict[str, Any]:
        return run_backend(name, url, args.items, args.reviewers, args.ops, args.batch, args.think_ms)

    reports = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="pantau-bench-") as folder:
            reports.append(run("sqlite", f"sqlite:///{folder}/queue.db"))
    if args.backend in ("postgresql", "both"):
        problem = _pg_reachable(args.pg_url)
        if problem:
            print(f"postgresql: skipped, not reachable at {args.pg_url}: {problem}", file=sys.stderr)
        else:
            for mode in [m.strip() for m in args.pg_commit.split(",") if m.strip()]:
                if mode not in ("durable", "async"):
                    parser.error(f"--pg-commit: unknown mode {mode!r}")
                with scratch_schema(args.pg_url, prefix="pantau_bench") as url:
                    if mode == "async":  # scratch URLs already carry options=-csearch_path=…
                        url += quote(" -csynchronous_commit=off")
                    reports.append(run(f"pg-{mode}", url))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"queue benchmark: {args.items:,} items, {args.reviewers} reviewers × {args.ops} claim+decide rounds, "
        f"think {args.think_ms:g} ms, {os.cpu_count()} CPUs, load average {load:.1f} at the end"
    )
    print(
        f"{'backend':<11} {'enqueue/s':>10} {'vs 5000':>8} {'replay/s':>9} {'decisions/s':>12} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'vs 50':>6} {'p99 ms':>7} {'cpu ms/round':>13}"
    )
    for r in reports:
        lat = r["claim_decide_ms"]
        print(
            f"{r['backend']:<11} {r['enqueue_per_s']:>10,.0f} {r['enqueue_per_s'] / TARGET_ENQUEUE_PER_S:>7.2f}x "
            f"{r['replay_per_s']:>9,.0f} {r['decisions_per_s'] or 0:>12,.1f} {lat['p50']:>7.1f} "
            f"{lat['p95']:>7.1f} {lat['p95'] / TARGET_P95_MS:>5.2f}x {lat['p99']:>7.1f} "
            f"{r['client_cpu_ms_per_round']:>13.2f}"
        )
    base = next((r for r in reports if r["backend"] == "sqlite"), None)
    for r in reports:
        if base is not None and r is not base:
            print(
                f"{r['backend']}/sqlite: enqueue {r['enqueue_per_s'] / base['enqueue_per_s']:.2f}x, "
                f"p95 claim+decide {r['claim_decide_ms']['p95'] / base['claim_decide_ms']['p95']:.2f}x"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, indent=2), encoding="utf-8")
    for r in reports:
        ok = r["enqueue_per_s"] >= TARGET_ENQUEUE_PER_S and r["claim_decide_ms"]["p95"] <= TARGET_P95_MS
        print(f"{r['backend']}: {'targets met' if ok else 'targets NOT met on this machine'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
