"""The bundled stack's findings: each service of OBSERVABILITY_STACK_URLS answers its ready
endpoint (probed in parallel)."""

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from observability.checks.base import FAIL, PASS, Finding, http_ok


def stack_urls() -> dict[str, str]:
    return dict(settings.OBSERVABILITY_STACK_URLS)


def check_stack() -> list[Finding]:
    urls = stack_urls()
    with ThreadPoolExecutor(len(urls)) as pool:
        problems = dict(zip(urls, pool.map(http_ok, urls.values()), strict=True))
    return [
        Finding(
            "stack",
            name,
            FAIL if problem else PASS,
            f"{urls[name]}: {problem}" if problem else f"{urls[name]} ready",
            f"Start it: docker compose up -d {name}; its log: docker compose logs {name}"
            if problem
            else "",
        )
        for name, problem in problems.items()
    ]
