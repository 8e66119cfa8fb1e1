"""gunicorn settings for the Procfile's web process (`--config python:bot.gunicorn_conf`).

One process with threads: a command is acknowledged in milliseconds and its WhatConverts work runs
in the bot's own pool, so threads, not processes, are what keep acks quick; one process also keeps
the upstream connection cap and delete confirmations in one place.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '3000')}"
worker_class = "gthread"
workers = 1  # delete confirmations are claimed in this process's memory
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Let work already admitted finish when Heroku restarts the dyno (it waits 30 s after SIGTERM).
graceful_timeout = 25
timeout = 30
accesslog = None


def worker_exit(server, worker):
    """Let work the bot already admitted (a confirmed delete, say) finish before exiting."""
    from bot.app import stop_all

    stop_all()
