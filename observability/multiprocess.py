"""prometheus_client's multiprocess mode under gunicorn, run by the master.

Each worker writes its metrics to mmap files `<type>_<pid>.db` in PROMETHEUS_MULTIPROC_DIR and
any worker answers a scrape by merging them. Two things prometheus_client leaves to us:

- the directory must be set before workers import prometheus_client, and start empty;
- a recycled worker (`max_requests`) leaves its files behind, so scrapes would read ever more
  files. `retire_worker` removes a dead worker's gauges (its live ones via
  `mark_process_dead`) and folds its counters and histograms into one archive file per type,
  so the totals stay right and the number of files stays bounded.

Retiring and scraping take a lock file in the directory (`flock`: exclusive to retire, shared
to read), so a scrape never reads a file that is being removed (a 500) nor a worker's values
both in its own file and already in the archive (a counter that jumps and falls back, which
Prometheus reads as a reset).

This module imports no Django and creates no metric: the master must not own metric files.
It imports prometheus_client only inside the functions that need it: prometheus_client picks
in-memory or file-backed values once, at its import, from PROMETHEUS_MULTIPROC_DIR, so the
variable must be set before the first import anywhere in the master. Besides that library's
own read, `configured_directory()` is the one place the project reads the variable.
"""

import contextlib
import fcntl
import glob
import os
import tempfile
import time

ENV = "PROMETHEUS_MULTIPROC_DIR"
SUMMED_TYPES = ("counter", "histogram", "summary")  # merged across processes by summing
ARCHIVE = "archive"  # takes the place of a pid in the archive files' names
LOCK_FILE = "retire.lock"  # not *.db: scrapes do not read it


def configured_directory() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR: where the workers' metric files are; None in a single process."""
    return os.environ.get(ENV) or None


@contextlib.contextmanager
def _locked(directory: str, *, exclusive: bool):
    fd = os.open(os.path.join(directory, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # and with it the lock


@contextlib.contextmanager
def reading(directory: str | None = None):
    """Hold while merging the files for a scrape: no worker is retired meanwhile."""
    directory = directory or configured_directory()
    if not directory:
        yield
        return
    with _locked(directory, exclusive=False):
        yield


# Private directories are made in it with mkdtemp (mode 0700), hence no S108 worry.
MEMORY_DIRECTORY = "/dev/shm"  # noqa: S108


def memory_directory() -> str | None:
    """The shared-memory tmpfs when this machine has a writable one, else None.

    Metric files are written on every request through mmap. On a disk-backed filesystem the
    kernel writes those dirty pages back all the time, and that slowed lead create by a
    quarter, competing with PostgreSQL's own commits on the same disk (bench/RESULTS.md).
    """
    if os.path.isdir(MEMORY_DIRECTORY) and os.access(MEMORY_DIRECTORY, os.W_OK):
        return MEMORY_DIRECTORY
    return None


def prepare_directory() -> str:
    """Use PROMETHEUS_MULTIPROC_DIR (or a new private directory in memory if possible),
    emptied, and export it."""
    directory = configured_directory() or tempfile.mkdtemp(
        prefix="intelliflow-prometheus-", dir=memory_directory()
    )
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)
    os.environ[ENV] = directory
    return directory


def _fold_into_archive(directory: str, kind: str, dead_file: str) -> None:
    from prometheus_client.mmap_dict import MmapedDict

    archive = os.path.join(directory, f"{kind}_{ARCHIVE}.db")
    totals: dict[str, float] = {}
    for source in (archive, dead_file):
        if os.path.exists(source):
            for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(source):
                totals[key] = totals.get(key, 0.0) + value
    # Write aside, then swap in atomically: a scrape sees the old archive or the new one.
    pending = archive + ".pending"  # not *.db, so scrapes ignore it
    merged = MmapedDict(pending)
    try:
        now = time.time()
        for key, value in totals.items():
            merged.write_value(key, value, now)
    finally:
        merged.close()
    os.replace(pending, archive)
    os.remove(dead_file)


def retire_worker(pid: int, directory: str | None = None) -> None:
    """Called from gunicorn's child_exit for every worker that exits."""
    from prometheus_client import multiprocess

    directory = directory or configured_directory()
    if not directory:
        return
    with _locked(directory, exclusive=True):
        multiprocess.mark_process_dead(pid, directory)
        for dead_gauge in glob.glob(os.path.join(directory, f"gauge_*_{pid}.db")):
            os.remove(dead_gauge)  # gauges of other modes: a dead process's value means nothing
        for kind in SUMMED_TYPES:
            dead_file = os.path.join(directory, f"{kind}_{pid}.db")
            if os.path.exists(dead_file):
                _fold_into_archive(directory, kind, dead_file)


def remove_directory(directory: str | None = None) -> None:
    """At master exit, remove a directory we created (files only; the directory if empty)."""
    directory = directory or configured_directory()
    if not directory or not os.path.basename(directory).startswith("intelliflow-prometheus-"):
        return
    for path in glob.glob(os.path.join(directory, "*")):
        os.remove(path)
    os.rmdir(directory)
