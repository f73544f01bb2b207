"""Probe latency under load: ping, alive, ready and check under gunicorn against PostgreSQL.

    .venv/bin/python -m bench.health_probes [--rounds 3] [--seconds 8] [--connections 4]

Targets (issue 4): ping p99 <= 5 ms and ready/check p99 <= 25 ms on the 2-core test machine
(the inherited KPIs are < 10 ms and < 50 ms). Each probe is driven alone, with wrk, after a
warm-up; rounds restart gunicorn and rotate the order; medians over rounds are reported.
"""

import argparse
import json

from bench import harness, wrk

PROBES = ["/health/ping", "/health/alive", "/health/ready", "/health/check"]
TARGETS_P99_MS = {"/health/ping": 5, "/health/ready": 25, "/health/check": 25}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()

    harness.prepare_database()
    samples = {probe: [] for probe in PROBES}
    for round_number in range(args.rounds):
        shift = round_number % len(PROBES)
        order = PROBES[shift:] + PROBES[:shift]
        with harness.serve({}, ready_path="/health/ping") as server:
            for probe in order:
                wrk.load(server, probe, seconds=2, connections=args.connections)  # warm-up
                sample = wrk.load(server, probe, seconds=args.seconds, connections=args.connections)
                samples[probe].append(sample)
                print(f"round {round_number + 1} {probe:15} {sample}", flush=True)

    print(f"\nmedians over {args.rounds} rounds, {args.connections} connections, 2 sync workers")
    print(
        f"{'probe':15} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'cpu ms/req':>10} {'p99 target':>10}"
    )
    report = {}
    for probe in PROBES:
        runs = samples[probe]
        row = {
            field: harness.median(runs, field)
            for field in ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_request")
        }
        report[probe] = row
        target = TARGETS_P99_MS.get(probe)
        verdict = (
            "" if target is None else f"{target} ms {'ok' if row['p99_ms'] <= target else 'MISSED'}"
        )
        print(
            f"{probe:15} {row['rps']:8.0f} {row['p50_ms']:7.2f} {row['p95_ms']:7.2f} "
            f"{row['p99_ms']:7.2f} {row['cpu_ms_per_request']:10.3f} {verdict:>10}"
        )
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
