"""The trusted judging, in the parent: observations in, marks out.

``observe`` plans the calls (with ``untrusted.callplan``, which the child shares) and
reads what the child sent, ``forms`` recovers (U, V) from a slip in form, ``renames``
finds a function under another name, ``checks``, ``essentials`` and ``flags`` judge,
``marks`` turns their outcomes into a mark with its arithmetic, and ``grading`` runs
the whole for one submission.
"""
