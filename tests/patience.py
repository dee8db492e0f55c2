"""How long a test waits for an event before it fails: a guard against hanging, never a speed assertion.

Generous on purpose: on a 2-core machine shared with other work, a fresh Python process (a `serve`, a
Batch child) may take most of a minute to import and reach its first model request.
"""

PATIENCE = 180  # seconds
