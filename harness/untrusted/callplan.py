"""Which keyword arguments a planned call passes, under the student's own parameter names.

Shared by the parent (to know which calls the plan makes) and the child (to make
them), so both sides agree without a round trip.  Pure: data in, data out.
"""

from __future__ import annotations

from typing import Any

#: A lab parameter as plain data: (name, has_default, default).
LabParam = tuple[str, bool, Any]


def keywords_for(
    lab: list[LabParam], student: list[dict[str, Any]], overrides: dict[str, Any]
) -> dict[str, Any] | None:
    """Keyword arguments for one call, or ``None`` when the function has no parameter to take them.

    ``num_epochs``/``lr`` overrides go to the student's parameter of that name, or to
    the one in the same place if they renamed it.  Where the student's parameter has
    no default but the lab's has, the lab's default is supplied, so a missing default
    costs the signature mark only.  Positional arguments (A, M, rank) are not here:
    they always go by position.
    """
    lab_names = [name for name, _, _ in lab]
    names = [p.get("name") for p in student]
    values = dict(overrides)
    for index, (name, has_default, default) in enumerate(lab):
        if has_default and name not in values and index < len(student) and student[index].get("default") is None:
            values[name] = default
    keywords: dict[str, Any] = {}
    for name, value in values.items():
        if name in names:
            keywords[name] = value
            continue
        index = lab_names.index(name)
        if index < len(student) and names[index] not in lab_names:
            keywords[str(names[index])] = value
        else:
            return None
    return keywords
