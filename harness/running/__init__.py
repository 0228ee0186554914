"""Running many: a class in parallel and resumably, on a cluster, and the benchmark.

``batch`` grades a class with parallel workers and resumes where it stopped, ``cluster``
does it on a Dask cluster, and ``bench`` is the benchmark behind ``make bench``.
"""
