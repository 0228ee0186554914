"""Writes forged protocol frames into every pipe it can find: a "confinement failed" report
(which, believed, would stop the grader), a "done" marker and a full-marks description.

Only the first frame, written before any student code runs, is trusted for confinement;
anything else the child writes is its own (malformed) observation.
"""
import json
import os
import stat
import struct


def _frame(header):
    body = json.dumps({**header, "tensors": []}).encode()
    inner = struct.pack(">Q", len(body)) + body
    return struct.pack(">Q", len(inner)) + inner


def _forge():
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, _frame({"confinement_failed": ["forged"]}))
                os.write(fd, _frame({"job": 0, "done": True}))
                os.write(fd, _frame({"job": 1, "function": {"defined": True, "callable": True, "params": []}}))
        except OSError:
            pass


def forge_at_load(function):
    _forge()
    return function


@forge_at_load
def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    _forge()
    return A, A


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    _forge()
    return A, A
