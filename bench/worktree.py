"""An earlier commit's checkout beside this tree, for the benchmarks' --before: a detached git
worktree in a temporary directory, removed however the run ends."""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKTREE_PREFIX = "intelliflow-bench-"


def _git(*args: str) -> str:
    result = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def _remove_worktree(path: Path) -> None:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
        capture_output=True,
        check=False,
    )
    shutil.rmtree(path, ignore_errors=True)  # when not (or no longer) a registered worktree


def _remove_stale_worktrees() -> None:
    """Worktrees an earlier run left behind when it was killed outright (SIGKILL): ours by
    their directory's name, `<prefix><rev>-<pid>-...`, and their run's process gone."""
    listing = _git("worktree", "list", "--porcelain")
    for line in listing.splitlines():
        if not line.startswith("worktree "):
            continue
        path = Path(line.removeprefix("worktree "))
        match = re.fullmatch(rf"{WORKTREE_PREFIX}\w+-(\d+)-\w+", path.name)
        if not match or Path(f"/proc/{match.group(1)}").exists():
            continue
        print(f"removing stale bench worktree {path}", file=sys.stderr)
        _remove_worktree(path)


def _raise_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A detached git worktree of `revision` in a temporary directory, removed on the way out:
    on return, an exception, Ctrl-C, SIGTERM or SIGHUP (turned into SystemExit while it
    exists, so the servers it serves are stopped first by their own `finally`). One left by a
    run killed with SIGKILL is removed by the next run. The commit must run with this venv."""
    commit = _git("rev-parse", "--verify", f"{revision}^{{commit}}")
    short = commit[:10]
    _remove_stale_worktrees()
    path = Path(tempfile.mkdtemp(prefix=f"{WORKTREE_PREFIX}{short}-{os.getpid()}-"))
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            handlers[signum] = signal.signal(signum, _raise_on_sigterm)
    try:
        _git("worktree", "add", "--detach", str(path), commit)
        yield path
    finally:
        _remove_worktree(path)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
