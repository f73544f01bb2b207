"""Retiring dead workers' metric files while scrapes merge them: no error, no double count."""

import threading

from prometheus_client import CollectorRegistry
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

from observability import multiprocess
from observability.metrics import StartupSafeMultiProcessCollector

WORKERS = 40


def write_dead_worker(directory, pid: int) -> None:
    counter = MmapedDict(str(directory / f"counter_{pid}.db"))
    key = mmap_key("jobs", "jobs_total", [], [], "Jobs.")
    counter.write_value(key, 1.0, 0.0)
    counter.close()


def total(registry) -> float:
    (family,) = [m for m in registry.collect() if m.name == "jobs"]
    return sum(s.value for s in family.samples if s.name == "jobs_total")


def test_scrapes_see_exact_totals_while_workers_are_retired(tmp_path):
    for pid in range(1000, 1000 + WORKERS):
        write_dead_worker(tmp_path, pid)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))

    def retire_all():
        for pid in range(1000, 1000 + WORKERS):
            multiprocess.retire_worker(pid, str(tmp_path))

    retirer = threading.Thread(target=retire_all)
    seen, errors = [], []
    retirer.start()
    while retirer.is_alive():
        try:
            with multiprocess.reading(str(tmp_path)):
                seen.append(total(registry))
        except OSError as error:  # a file removed under the scrape
            errors.append(error)
    retirer.join()

    assert errors == []
    assert set(seen) <= {float(WORKERS)}, "a scrape counted a retired worker twice or not at all"
    assert len(seen) > 3  # the scrapes really raced the retiring
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["counter_archive.db"]
    assert total(registry) == WORKERS


def test_a_starting_workers_empty_file_does_not_fail_the_scrape(tmp_path):
    write_dead_worker(tmp_path, 1000)
    (tmp_path / "counter_1001.db").touch()  # created, not yet sized by the new worker
    registry = CollectorRegistry()
    StartupSafeMultiProcessCollector(registry, path=str(tmp_path))
    assert total(registry) == 1
