"""Imported by the worker forkserver only (see server.runtime.dispatcher.PRELOAD).

The forkserver inherits the server's environment, keys included, and every run is forked
from it; importing this module is how a forkserver process runs code at start, so here,
deliberately, the import has effects: the forkserver becomes non-dumpable, out of reach
of the commands that runs start, and it loads what a run needs up to its first model call,
so a run process starts with nothing left to import or read.
"""

from __future__ import annotations

import contextlib
import encodings.idna  # noqa: F401  -- a run's first connection encodes the model's host name with it

from server.runtime.hardening import make_undumpable
from server.runtime.run_process import note_forkserver
from worker.agent.prompts import load_templates
from worker.agent.warm_up import warm_up

# The SDK imports its trace-header propagator on its first request; optional, as it is the SDK's
# own dependency, not ours.
with contextlib.suppress(ImportError):
    import opentelemetry.propagate  # noqa: F401

HARDENED = make_undumpable()
note_forkserver()
warm_up()
load_templates()
