"""The `cody-batch` command line: commands, rendering, job input and the GraphQL client it uses.

This module is the console script's entry point and stays tiny on purpose: every process the
worker forkserver starts runs the parent's main script again (multiprocessing's start-up does,
to find pickled functions), and for `cody-batch serve` that script imports this module. Anything
imported here would be imported again by every run.
"""

from __future__ import annotations


def main() -> None:
    """Entry point of the `cody-batch` script: load the commands, then run the one asked for."""
    from server.cli.main import main as run

    run()
