"""Build the provisioned Grafana dashboards (JSON in ./dashboards) from the tables below.

    .venv/bin/python monitoring/grafana/build_dashboards.py

Panels are data, so the three dashboards stay consistent (datasource uids, SLI filters, units)
and tests/monitoring checks that the committed JSON is what this script writes.
"""

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
LOKI = {"type": "loki", "uid": "loki"}
# SLI traffic: probes and scrapes left out, as in the alert rules.
SLI = 'view!~"health/.+|metrics/?"'
RESPONSES = "django_http_responses_total_by_status_view_method_total"
LATENCY = "django_http_requests_latency_seconds_by_view_method_bucket"
SPAN_LATENCY = "traces_span_metrics_duration_milliseconds_bucket"
RATE = "$__rate_interval"


def target(expr: str, legend: str = "", *, ref: str = "A", exemplar: bool = False, **extra):
    return {
        "refId": ref,
        "datasource": PROMETHEUS,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "exemplar": exemplar,
        **extra,
    }


def quantiles(selector: str, by: str = "") -> list[dict]:
    group = f"le{', ' + by if by else ''}"
    return [
        target(
            f"histogram_quantile({q}, sum by ({group}) (rate({LATENCY}{{{selector}}}[{RATE}])))",
            f"p{int(q * 100)}",
            ref=ref,
        )
        for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
    ]


def timeseries(title, targets, *, unit="short", description="", width=12):
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": PROMETHEUS,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "_width": width,
    }


def table(title, targets, *, unit="short", description="", width=12):
    return {
        "type": "table",
        "title": title,
        "description": description,
        "datasource": PROMETHEUS,
        "targets": [{**t, "instant": True, "format": "table"} for t in targets],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"showHeader": True},
        "_width": width,
    }


def logs(title, expr, *, description="", width=24):
    return {
        "type": "logs",
        "title": title,
        "description": description,
        "datasource": LOKI,
        "targets": [{"refId": "A", "datasource": LOKI, "expr": expr, "queryType": "range"}],
        "options": {"showTime": True, "wrapLogMessage": True, "enableLogDetails": True},
        "_width": width,
    }


def dashboard(uid: str, title: str, description: str, panels: list[dict]) -> dict:
    x = y = 0
    laid_out = []
    for number, panel in enumerate(panels, start=1):
        width = panel.pop("_width")
        if x + width > 24:
            x, y = 0, y + 8
        laid_out.append({"id": number, "gridPos": {"h": 8, "w": width, "x": x, "y": y}, **panel})
        x += width
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["intelliflow"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [],
        "panels": laid_out,
    }


OVERVIEW = dashboard(
    "intelliflow-overview",
    "IntelliFlow Overview",
    "Traffic, latency, errors, database, pool, process and business at a glance.",
    [
        timeseries(
            "Request rate",
            [target(f"sum(rate({RESPONSES}{{{SLI}}}[{RATE}]))", "requests/s")],
            unit="reqps",
            description="API requests per second; probes and /metrics left out.",
        ),
        timeseries("Latency p50 / p95 / p99", quantiles(SLI), unit="s"),
        timeseries(
            "Error rate (5xx)",
            [
                target(
                    f'sum(rate({RESPONSES}{{status=~"5..", {SLI}}}[{RATE}])) '
                    f"/ sum(rate({RESPONSES}{{{SLI}}}[{RATE}]))",
                    "5xx ratio",
                )
            ],
            unit="percentunit",
        ),
        timeseries(
            "Database queries",
            [target(f"sum by (vendor) (rate(django_db_execute_total[{RATE}]))", "{{vendor}}")],
            unit="ops",
        ),
        timeseries(
            "Database query latency p95",
            [
                target(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(django_db_query_duration_seconds_bucket[{RATE}])))",
                    "p95",
                )
            ],
            unit="s",
        ),
        timeseries(
            "Connection pool",
            [
                target("sum by (state) (intelliflow_db_pool_connections)", "{{state}}"),
                target("sum(intelliflow_db_pool_max_connections)", "max", ref="B"),
                target("sum(intelliflow_db_pool_requests_waiting)", "waiting", ref="C"),
            ],
        ),
        timeseries(
            "Process CPU per worker",
            [
                target(
                    f"sum by (pid) (rate(intelliflow_process_cpu_seconds_total[{RATE}]))",
                    "{{pid}}",
                )
            ],
            unit="percentunit",
        ),
        timeseries(
            "Process memory per worker",
            [target("sum by (pid) (intelliflow_process_resident_memory_bytes)", "{{pid}}")],
            unit="bytes",
        ),
        timeseries(
            "Readiness",
            [
                target("min(intelliflow_database_up)", "database up"),
                target('min(up{job="intelliflow"})', "scrape up", ref="B"),
            ],
            description="1 = ready. The database probe runs in every worker every few seconds.",
        ),
        timeseries(
            "Leads created by source",
            [
                target(
                    f"sum by (source) (rate(intelliflow_leads_created_total[{RATE}])) * 60",
                    "{{source}}",
                )
            ],
            unit="short",
            description="Leads per minute, committed.",
        ),
    ],
)

API_PERFORMANCE = dashboard(
    "intelliflow-api-performance",
    "API Performance",
    "Where the time goes, route by route; exemplars open the trace of a slow request.",
    [
        timeseries("p95 latency per route", quantiles(SLI, "view")[1:2], unit="s", width=24),
        timeseries(
            "p95 latency per route, from spans (click an exemplar for its trace)",
            [
                target(
                    f"histogram_quantile(0.95, sum by (le, http_route) (rate({SPAN_LATENCY}"
                    f'{{span_kind="SPAN_KIND_SERVER"}}[{RATE}])))',
                    "{{http_route}}",
                    exemplar=True,
                )
            ],
            unit="ms",
            width=24,
        ),
        table(
            "Slowest routes (p95 over the range)",
            [
                target(
                    "topk(10, histogram_quantile(0.95, sum by (le, view) "
                    f"(rate({LATENCY}{{{SLI}}}[$__range]))))",
                    "{{view}}",
                )
            ],
            unit="s",
        ),
        timeseries(
            "Request rate per route",
            [target(f"sum by (view) (rate({RESPONSES}{{{SLI}}}[{RATE}]))", "{{view}}")],
            unit="reqps",
        ),
        timeseries(
            "Database time per route (from spans)",
            [
                target(
                    "sum by (http_route) (rate(traces_span_metrics_duration_milliseconds_sum"
                    f'{{span_kind="SPAN_KIND_CLIENT", db_system_name="postgresql"}}[{RATE}]))'
                    " / sum by (http_route) (rate(traces_span_metrics_calls_total"
                    f'{{span_kind="SPAN_KIND_SERVER"}}[{RATE}]))',
                    "{{http_route}}",
                )
            ],
            unit="ms",
            description="Milliseconds of PostgreSQL per request, per route (DB spans carry "
            "their request's route).",
        ),
        timeseries(
            "Queries per request",
            [
                target(
                    "sum by (http_route) (rate(traces_span_metrics_calls_total"
                    f'{{span_kind="SPAN_KIND_CLIENT", db_system_name="postgresql"}}[{RATE}]))'
                    " / sum by (http_route) (rate(traces_span_metrics_calls_total"
                    f'{{span_kind="SPAN_KIND_SERVER"}}[{RATE}]))',
                    "{{http_route}}",
                )
            ],
        ),
    ],
)

ERROR_ANALYSIS = dashboard(
    "intelliflow-error-analysis",
    "Error Analysis",
    "What fails, where, and the log lines (each links to its trace).",
    [
        timeseries(
            "5xx per route",
            [
                target(
                    f'sum by (view, status) (rate({RESPONSES}{{status=~"5..", {SLI}}}[{RATE}]))',
                    "{{status}} {{view}}",
                )
            ],
            unit="reqps",
        ),
        timeseries(
            "Exceptions by type",
            [
                target(
                    f"sum by (type) (rate(django_http_exceptions_total_by_type_total[{RATE}]))",
                    "{{type}}",
                )
            ],
            unit="ops",
        ),
        timeseries(
            "Exceptions by route",
            [
                target(
                    f"sum by (view) (rate(django_http_exceptions_total_by_view_total[{RATE}]))",
                    "{{view}}",
                )
            ],
            unit="ops",
        ),
        timeseries(
            "4xx per route",
            [
                target(
                    f'sum by (view, status) (rate({RESPONSES}{{status=~"4..", {SLI}}}[{RATE}]))',
                    "{{status}} {{view}}",
                )
            ],
            unit="reqps",
        ),
        logs(
            "Error log lines (open the trace from a line's trace_id)",
            '{service_name="intelliflow-crm", level=~"ERROR|CRITICAL"}',
        ),
    ],
)

DASHBOARDS = {
    "intelliflow-overview.json": OVERVIEW,
    "api-performance.json": API_PERFORMANCE,
    "error-analysis.json": ERROR_ANALYSIS,
}


def render(board: dict) -> str:
    return json.dumps(board, indent=2, sort_keys=False) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, board in DASHBOARDS.items():
        (OUT / name).write_text(render(board))
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
