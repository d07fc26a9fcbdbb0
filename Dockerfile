# EIDLN node image (used by docker-compose.yml as service `eidln-node`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Copy only the package sources: never .venv/, .git/ or besu/ (node keys) from the build context.
WORKDIR /src
COPY pyproject.toml ./
COPY node ./node
COPY wallet ./wallet
COPY did_method ./did_method
COPY contracts ./contracts
RUN pip install . \
 && cd / && rm -rf /src

# Unprivileged user; /data is created here so a fresh named volume inherits its ownership.
RUN groupadd --system --gid 10001 eidln \
 && useradd --system --uid 10001 --gid eidln --home-dir /data --no-create-home --shell /usr/sbin/nologin eidln \
 && mkdir /data && chown eidln:eidln /data && chmod 0700 /data

USER eidln
WORKDIR /data
ENV EIDLN_HOME=/data
VOLUME ["/data"]

CMD ["eidln", "node", "run"]
