"""The untrusted side: what runs student code and what crosses back from it.

A warm zygote forks confined children (``confine``) that load and call the student's
functions (``probes``) under the harness's seeds (``seeding``); observations come back
only as JSON and raw tensor bytes (``wire``), and the parent's ``sandbox`` reads them
(with ``verdicts`` for a child that was stopped). Nothing here judges.
"""
