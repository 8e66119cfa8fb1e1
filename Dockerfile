# The bot in a container: HTTP on $PORT (default 3000), or Socket Mode when SLACK_APP_TOKEN is set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=3000
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && useradd --create-home --uid 10001 bot && mkdir /data && chown bot /data

USER bot
# The default SQLite file lives on a volume; set DATABASE_URL for PostgreSQL instead.
ENV DATABASE_URL=sqlite:////data/profiles.db
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-m", "bot.healthcheck"]

CMD ["python", "-m", "bot"]
