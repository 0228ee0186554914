"""Outputs: results and what is made from them.

``results`` (results.json, gradebook), ``report`` (one-page PDF from ``context``
and ``plots``), ``summary`` (the class overview), ``gradescope`` (the autograder bundle).
"""
