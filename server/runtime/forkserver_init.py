"""Imported by the worker forkserver only (see server.runtime.dispatcher.PRELOAD).

The forkserver inherits the server's environment, keys included, and every run is forked
from it; importing this module is how a forkserver process runs code at start, so here,
deliberately, the import has effects: the forkserver becomes non-dumpable, out of reach
of the commands that runs start, and it imports what a run's first model call needs.
"""

from __future__ import annotations

from server.runtime.hardening import make_undumpable
from worker.agent.client import warm_up

HARDENED = make_undumpable()
warm_up()
