# syntax=docker/dockerfile:1
# Two stages: build a virtualenv from the hash-pinned lock file, then copy it
# into a slim image that runs as an unprivileged user.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements/runtime.lock requirements/runtime.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /app referrals
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# Production mode: run bare, the image refuses to start and lists what to set
# (secret key, SMS webhook…) instead of serving logins to anyone.
ENV REFERRALS_ENV=prod
WORKDIR /app
USER referrals
EXPOSE 8000
# Ready = the API answers and its dependencies do (GET /health/ready); a
# worker container overrides it with `referrals health --worker`.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["referrals", "health"]
CMD ["referrals", "serve", "--host", "0.0.0.0", "--port", "8000"]
