"""Bounds of a job's budget that the API enforces and the command line checks before sending."""

from __future__ import annotations

MAX_TURNS_LIMIT = 500
MAX_COST_LIMIT_USD = 1000.0
