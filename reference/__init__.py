"""The lab's own algorithms, trusted and pure, and the expected-output builder."""
