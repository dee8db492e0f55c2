"""Imported by the worker forkserver only (see server.dispatcher.PRELOAD).

The forkserver inherits the server's environment, keys included, and every run is forked
from it; importing this module is how a forkserver process runs code at start, so here,
deliberately, the import has an effect: the forkserver becomes non-dumpable, out of reach
of the commands that runs start.
"""

from __future__ import annotations

from server.hardening import make_undumpable

HARDENED = make_undumpable()
