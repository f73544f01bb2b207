"""gunicorn sync workers vs threaded (gthread) workers, production configuration.

    .venv/bin/python -m bench.threads [--rounds 3] [--seconds 6] [--connections 4]

The question gunicorn.conf.py's `threads` answers: with 2 workers on 2 cores, do threads
per worker buy throughput or latency on the lead endpoints, or only cost? Same rotation,
warm-up and pairwise ratios as `make bench` (baseline: 1 thread, i.e. the sync worker).
"""

import argparse

from bench import harness
from bench.observability import CREATE_SCRIPT, configurations, start_sink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()

    token = harness.prepare_database()
    api = {"Authorization": f"Token {token}"}
    endpoints = {
        "lead list": harness.Endpoint("/api/v1/leads/?page_size=50", api),
        "lead create": harness.Endpoint("/api/v1/leads/", api, CREATE_SCRIPT),
        "lead retrieve": harness.Endpoint(f"/api/v1/leads/{harness.some_lead_id()}/", api),
    }
    production = configurations(start_sink())["production"]
    configs = {
        f"threads={n}": harness.Configuration({**production, "GUNICORN_THREADS": str(n)})
        for n in args.threads
    }
    harness.compare(
        configs,
        endpoints,
        rounds=args.rounds,
        seconds=args.seconds,
        connections=args.connections,
        baseline=f"threads={args.threads[0]}",
        name=f"threads-c{args.connections}",
    )


if __name__ == "__main__":
    main()
