"""What runs jobs: bootstrap, the backend's store and pacer, the workers' configurations, the dispatcher and its
forkserver, process hardening, the worker command, the event tail and the pull-request poller."""
