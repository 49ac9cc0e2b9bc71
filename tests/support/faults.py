"""One failure injected into a program run across the fake servers (Vault, Kubernetes API).

Every request that reaches a fake server is logged in order, as ``(server, method, path)``.
The request at position ``at`` (counted from 0 since the last ``arm``) fails in one of two
ways:

- ``refused``: the server answers 500 and changes nothing (Vault's own answer to an
  internal error); the program sees the failure and may still clean up.
- ``killed``: the server applies the request, then the connection drops before the answer,
  and every later request of the run is dropped as well: the program's pod was killed
  while the request was in flight, so nothing it would still do (cleanup included) reaches
  a server. This is the crash that idempotence must survive.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

REFUSED = "refused"
KILLED = "killed"


@dataclass
class Faults:
    SERVE = "serve"
    REFUSE = "refuse"
    APPLY_THEN_CUT_OFF = "apply-then-cut-off"
    CUT_OFF = "cut-off"

    log: list[tuple[str, str, str]] = field(default_factory=list)
    at: int | None = None
    mode: str = REFUSED
    dead: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, at: int | None, mode: str = REFUSED) -> None:
        """Starts a new run: an empty log, and the request ``at`` failing (None: no fault)."""
        if mode not in (REFUSED, KILLED):
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self.log, self.at, self.mode, self.dead = [], at, mode, False

    def arrive(self, server: str, method: str, path: str) -> str:
        """What the server does with this request."""
        with self._lock:
            if self.dead:
                return self.CUT_OFF
            position = len(self.log)
            self.log.append((server, method, path))
            if position != self.at:
                return self.SERVE
            if self.mode == REFUSED:
                return self.REFUSE
            self.dead = True
            return self.APPLY_THEN_CUT_OFF
