"""Looks for the spec, the reference cache, other submissions and outputs, by walking up and by gc.

Anything it could read would be raised as "ESCAPED ..." (the feedback shows exception
messages, so that is how a leak would reach the student).  Contained, it says so.
"""
import gc
import glob
import os

NAMES = ("specs/lab1.yaml", ".labgrade-cache", "reference/data/reference-lab1.json", "submissions/correct.py", "out/gradebook.csv", "pyproject.toml")


def _walk_up(start):
    found = []
    here = os.path.abspath(start)
    for _ in range(12):
        for name in NAMES:
            path = os.path.join(here, name)
            try:
                if os.path.isdir(path):
                    found.append(f"{path}: {os.listdir(path)[:3]}")
                else:
                    with open(path) as f:
                        found.append(f"{path}: {f.read(80)!r}")
            except OSError:
                pass
        here = os.path.dirname(here)
    return found


def _guesses():
    found = []
    for pattern in ("/work/*/specs/*.yaml", "/home/*/*/specs/*.yaml", "/root/*/specs/*.yaml", "/tmp/*/*/results.json", "/tmp/pytest-of-*/*/*/out/*/results.json",
                    "/tmp/*/gradebook.csv", "/proc/1/environ", f"/proc/{os.getppid()}/cmdline", "/etc/shadow"):
        for path in glob.glob(pattern)[:3]:
            try:
                with open(path, "rb") as f:
                    found.append(f"{path}: {f.read(80)!r}")
            except OSError:
                pass
    return found


def _in_memory():
    found = []
    for obj in gc.get_objects():
        module = getattr(type(obj), "__module__", "") or ""
        if module.startswith(("reference.", "labgrade.reference.", "labgrade.harness.inputs.spec", "labgrade.harness.outputs.results", "labgrade.harness.judging.checks")):
            found.append(f"object {type(obj).__name__} from {module}")
        elif isinstance(obj, dict) and ("expectations" in obj or "loss_band" in obj):
            found.append(f"dict with keys {list(obj)[:5]}")
        if len(found) > 3:
            break
    return found


def _look():
    found = _walk_up(os.getcwd()) + _walk_up(os.path.expanduser("~")) + _guesses() + _in_memory()
    if found:
        raise RuntimeError("ESCAPED " + "; ".join(found)[:400])
    raise RuntimeError("contained: nothing of the grader's was readable from here")


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    _look()


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    _look()
