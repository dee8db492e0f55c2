"""Every entrypoint, by concern: cli/, web/, runtime/ (the composition root), demo/, aws/; lambdas.py."""
