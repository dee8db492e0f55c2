"""What runs jobs: bootstrap, the dispatcher and its forkserver, process hardening, the worker command, event tail."""
