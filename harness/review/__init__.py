"""The human's part of a grade: rubric suggestions, the event store, the review page, marks applied to results."""
