"""Pool or persistent connections? Django's psycopg pool vs CONN_MAX_AGE under gunicorn.

    .venv/bin/python -m bench.db_connections [--rounds 3] [--seconds 8]

Needs PostgreSQL (BENCH_DATABASE_URL, default the local server's intelliflow_bench database,
created and filled with demo leads on first use) and wrk (apt-get install wrk). Each round
starts gunicorn (2 sync workers) once per configuration, in rotating order, warms it up and
drives the lead list (50 per page) and a lead retrieve with 4 connections.
"""

import argparse
import json

from bench import harness, wrk

CONFIGURATIONS = {
    "pool": {"DB_POOL_ENABLED": "true"},
    "persistent": {"DB_POOL_ENABLED": "false", "DB_CONN_MAX_AGE": "60"},
    "per-request": {"DB_POOL_ENABLED": "false", "DB_CONN_MAX_AGE": "0"},
}
BASELINE = "pool"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()

    token = harness.prepare_database()
    headers = {"Authorization": f"Token {token}"}
    lead_id = harness.some_lead_id()
    endpoints = {
        "list (50/page)": "/api/v1/leads/?page_size=50",
        "retrieve": f"/api/v1/leads/{lead_id}/",
    }
    samples = {(name, endpoint): [] for name in CONFIGURATIONS for endpoint in endpoints}
    names = list(CONFIGURATIONS)
    for round_number in range(args.rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            with harness.serve(CONFIGURATIONS[name], ready_path="/api/schema/") as server:
                for endpoint, path in endpoints.items():
                    wrk.load(server, path, seconds=2, headers=headers)  # warm-up
                    sample = wrk.load(server, path, seconds=args.seconds, headers=headers)
                    samples[(name, endpoint)].append(sample)
                    print(f"round {round_number + 1} {name:12} {endpoint:15} {sample}", flush=True)

    report = {}
    print(f"\nmedians over {args.rounds} rounds; ratios are per-round pairs against '{BASELINE}'")
    print(
        f"{'endpoint':15} {'config':12} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'cpu ms/req':>10} {'rps ratio':>9} {'cpu ratio':>9}"
    )
    for endpoint in endpoints:
        for name in names:
            runs, base = samples[(name, endpoint)], samples[(BASELINE, endpoint)]
            row = {
                "rps": harness.median(runs, "rps"),
                "p50_ms": harness.median(runs, "p50_ms"),
                "p95_ms": harness.median(runs, "p95_ms"),
                "p99_ms": harness.median(runs, "p99_ms"),
                "cpu_ms_per_request": harness.median(runs, "cpu_ms_per_request"),
                "rps_ratio": harness.pairwise_ratio(base, runs, "rps"),
                "cpu_ratio": harness.pairwise_ratio(base, runs, "cpu_ms_per_request"),
            }
            report[f"{endpoint} / {name}"] = row
            print(
                f"{endpoint:15} {name:12} {row['rps']:8.0f} {row['p50_ms']:7.2f} "
                f"{row['p95_ms']:7.2f} {row['p99_ms']:7.2f} {row['cpu_ms_per_request']:10.3f} "
                f"{row['rps_ratio']:9.3f} {row['cpu_ratio']:9.3f}"
            )
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
