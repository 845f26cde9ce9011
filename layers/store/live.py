"""Colleagues' changes as they happen (Qt-free; the app runs it in a worker thread).

``ChangeFeed(url).wait(timeout)`` returns the operations other clients committed since the last
call, with their items (the new states), or ``[]`` after ``timeout`` seconds:

* PostGIS: ``LISTEN planatlas`` on its own connection — each commit's ``NOTIFY`` wakes it; the
  operation log (``seq``) is read as well, so nothing is missed across a reconnect;
* GeoPackage: polls the operation log (one ``SELECT max(seq)``) — other processes on the same
  machine (or a shared folder) show up within a second.
"""
from __future__ import annotations

import time

from .config import parse_target
from .records import OpRecord

__all__ = ["ChangeFeed"]


class ChangeFeed:
    def __init__(self, url: str | None = None, *, ignore_client: str | None = None,
                 since_seq: int | None = None):
        from . import open_store

        self.url = url
        self.ignore_client = ignore_client
        self.store = open_store(url, configured_default=url is None, offline_ok=False)
        self.kind = self.store.kind
        self._listen = None
        self.last_seq = self.store.last_seq() if since_seq is None else since_seq
        self._seen: set[str] = set()
        if self.kind == "postgis" and since_seq is None:      # already there: not news
            self._seen = {o.op_id for o in self.store.operations(since_seq=max(0, self.last_seq - 500))}
        if self.kind == "postgis":
            from .postgis import CHANNEL, connect

            self._listen = connect(self.store.conninfo)
            self._listen.execute(f"LISTEN {CHANNEL}")

    def close(self) -> None:
        if self._listen is not None:
            try:
                self._listen.close()
            except Exception:  # noqa: BLE001
                pass
            self._listen = None
        self.store.close()

    def _fetch(self) -> list[OpRecord]:
        window = 500 if self.kind == "postgis" else 0      # commits may land out of seq order
        ops = self.store.operations(items=True, since_seq=max(0, self.last_seq - window))
        out = []
        for op in ops:
            if op.op_id in self._seen:
                continue
            self._seen.add(op.op_id)
            self.last_seq = max(self.last_seq, op.seq or 0)
            if op.client != self.ignore_client:
                out.append(op)
        if len(self._seen) > 20000:
            self._seen = {o.op_id for o in ops}
        return out

    def wait(self, timeout: float = 1.0) -> list[OpRecord]:
        """Operations by other clients since the last call (``[]`` after ``timeout`` s)."""
        if self._listen is not None:
            got = False
            for _n in self._listen.notifies(timeout=timeout, stop_after=1):
                got = True
            if not got:
                return self._fetch() if self.store.last_seq() > self.last_seq else []
            time.sleep(0.02)                 # let a burst of commits arrive together
            return self._fetch()
        deadline = time.monotonic() + timeout
        while True:
            if self.store.last_seq() > self.last_seq:
                return self._fetch()
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            time.sleep(min(0.25, left))
