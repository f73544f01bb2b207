"""The project's own packages, found in the tree rather than kept by hand: every top-level
folder with an `__init__.py`, except the test suite and the benchmarks. A new app is in as
soon as it exists (tests/test_docs.py reads its environment variables and metrics,
tests/test_layering.py asks for its layer)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_THE_APPLICATION = ("tests", "bench")


def project_packages(root: Path = ROOT) -> tuple[str, ...]:
    return tuple(
        sorted(
            init.parent.name
            for init in root.glob("*/__init__.py")
            if not init.parent.name.startswith(".") and init.parent.name not in NOT_THE_APPLICATION
        )
    )
