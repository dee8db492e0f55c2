# The worker image: one repository run per container (`cody-batch worker run JOB_ID --repo N`).
# Built by the CDK at deploy time (infra/worker.py).
FROM python:3.12-slim-bookworm

# git for clones and pushes; ca-certificates for HTTPS to GitHub, Anthropic and AWS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/cody-batch
# The context holds pyproject.toml and the packages only: the CDK stages exactly those
# (infra/sources.py), and .dockerignore narrows a plain `docker build .` the same way.
COPY . ./
RUN pip install . && rm -rf build *.egg-info

# Runs never execute as root: repository code and the agent's commands are hostile.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin cody
USER cody
WORKDIR /home/cody
ENV CODY_BATCH_BACKEND=aws \
    CODY_BATCH_DATA_DIR=/home/cody/.cody-batch

# The worker is the image's command. AWS Batch replaces it with the whole command line of a
# run (`cody-batch worker run JOB_ID ...`, server/aws/batch_definitions.py), so it is a CMD.
CMD ["cody-batch", "worker", "run"]
