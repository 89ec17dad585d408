"""The limits every reader of carried bytes works within."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class Evaded(Exception):
    """Input that a reader refused to finish: over a limit or malformed on purpose.

    `reason` is shown to the user in an "analysis evaded" finding."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Budget:
    """Bytes, nesting depth, steps and wall time one reader may spend on one input.

    `step()` is called once per unit of work (an opcode, an object, a symbol); the clock is
    read every 1024 steps, so the check costs next to nothing."""

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 64
    max_steps: int = 2_000_000
    seconds: float = 2.0
    steps: int = 0
    started: float = field(default_factory=time.monotonic)

    def step(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.max_steps:
            raise Evaded(f"more than {self.max_steps} steps")
        if self.steps & 1023 < n and time.monotonic() - self.started > self.seconds:
            raise Evaded(f"more than {self.seconds:g} s")

    def depth(self, level: int) -> None:
        if level > self.max_depth:
            raise Evaded(f"nested deeper than {self.max_depth}")

    def size(self, n: int, what: str = "input") -> None:
        if n > self.max_bytes:
            raise Evaded(f"{what} of {n} bytes is over the {self.max_bytes}-byte limit")
