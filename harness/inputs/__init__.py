"""Inputs: the lab as data and the submissions.

``spec`` validates a YAML spec (``yamlsource`` keeps lines for messages, ``schema``
says what is allowed), ``config`` reads a config file, ``submission`` finds and reads
students' files (``textfile`` decodes them).
"""
