"""Imported first by the fork server of ``python -m mdln``: puts the server in a process group of its own.

Every figure worker it forks then starts outside the terminal's foreground group, so a Ctrl-C reaches only
the parent, which stops the workers itself (``mdln.__main__._stop``) — no worker sees the signal half-started.
"""
import os

try:
    os.setpgrp()
except OSError:   # pragma: no cover - already a group leader
    pass
