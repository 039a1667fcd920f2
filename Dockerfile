# syntax=docker/dockerfile:1
# Build stage: the pinned dependencies (requirements.lock) and the operator, installed into a
# virtual environment. The runtime stage copies only that environment: no wheels, no pip, no
# build tools, and no layer holding files that a later step deletes.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv --without-pip /opt/ecs-scheduler
WORKDIR /src
COPY requirements.lock ./
RUN pip --python /opt/ecs-scheduler/bin/python install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
# --no-deps: everything the operator needs is in the lock, so nothing unpinned can slip in.
# `pip check` fails the build when the lock does not satisfy what the packages require.
RUN pip --python /opt/ecs-scheduler/bin/python install --no-deps . \
 && pip --python /opt/ecs-scheduler/bin/python check

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/ecs-scheduler/bin:$PATH \
    ECS_SCHEDULER_LIVENESS=http://0.0.0.0:8080/healthz
COPY --from=build /opt/ecs-scheduler /opt/ecs-scheduler
# A numeric non-root user with no passwd entry, as the restricted Pod Security Standard and
# OpenShift's random uids run it; nothing is written to the image's filesystem at run time, so
# readOnlyRootFilesystem works.
USER 65532:65532
EXPOSE 8080
# The command is separate from the entry point, so `docker run IMAGE --version` (or `crd`, `next`)
# works; the default runs the operator.
ENTRYPOINT ["ecs-scheduler"]
CMD ["run"]
