"""The two ways a mixture fails: a malformed spec, and a spec that cannot be built from the input."""
from __future__ import annotations


class MixtureSpecError(ValueError):
    """A mixture spec is malformed; `str(err)` is one line: `FILE: FIELD: PROBLEM`."""

    def __init__(self, file: str, field: str, problem: str):
        self.file, self.field, self.problem = file, field, problem
        super().__init__(f"{file}: {field}: {problem}")


class MixtureBuildError(RuntimeError):
    """A mixture cannot be built as specified; the message is one line naming the spec and the source or field."""
