# selfheal: one image, two processes. `selfheal worker` runs the incident workflows and
# every activity; `selfheal webhook` takes alerts in. Both read their settings from the
# environment (see .env.example and docs/operations.md).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The product only: the lab (lab/: stand-ins, local stack, demo) never enters the image.
COPY pyproject.toml README.md ./
COPY selfheal ./selfheal
# A virtualenv keeps the installed package self-contained, so the runtime stage copies one tree.
RUN python -m venv /opt/selfheal \
    && /opt/selfheal/bin/pip install .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="selfheal" \
      org.opencontainers.image.description="Durable, AI-assisted incident remediation for Kubernetes, built on Temporal"
RUN groupadd --system --gid 10001 selfheal \
    && useradd --system --uid 10001 --gid selfheal --home-dir /home/selfheal \
       --create-home --shell /usr/sbin/nologin selfheal
COPY --from=build /opt/selfheal /opt/selfheal
ENV PATH=/opt/selfheal/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SELFHEAL_LOG_FORMAT=json \
    SELFHEAL_WEBHOOK_HOST=0.0.0.0 \
    SELFHEAL_HOME=/tmp/selfheal
USER 10001:10001
WORKDIR /home/selfheal
# 8000: the webhook; 9464: the worker's Prometheus endpoint.
EXPOSE 8000 9464
ENTRYPOINT ["selfheal"]
CMD ["worker"]
