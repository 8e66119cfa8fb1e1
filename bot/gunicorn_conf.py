"""gunicorn settings for the Procfile's web process (`--config python:bot.gunicorn_conf`).

One process with threads: a command is acknowledged in milliseconds and its WhatConverts work runs
in the bot's own pool, so threads, not processes, are what keep acks quick; one process also keeps
UPSTREAM_CONCURRENCY a cap for the whole dyno. More processes or dynos stay correct (delete prompts
are claimed in the database) but each brings its own cap.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '3000')}"
worker_class = "gthread"
workers = 1  # WEB_CONCURRENCY is not read: see above
# Fixed at eight: a request holds its thread only until the command is acked, in milliseconds, as
# the WhatConverts work runs in the bot's own pool (WORKERS). Acks wait on Bolt's five listener
# threads anyway; the other three keep /healthz and /readyz answering during a burst.
threads = 8
# Let work already admitted finish when Heroku restarts the dyno (it waits 30 s after SIGTERM).
graceful_timeout = 25
timeout = 30
accesslog = None


def worker_exit(server, worker):
    """Let work the bot already admitted (a confirmed delete, say) finish before exiting."""
    from bot.app import stop_all

    stop_all()
