# syntax=docker/dockerfile:1
# Build a wheel in a full image, install it into a slim runtime with no compilers.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ECS_SCHEDULER_LIVENESS=http://0.0.0.0:8080/healthz
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# A numeric non-root user, so Kubernetes can verify runAsNonRoot; nothing is written to the
# image's filesystem at run time, so readOnlyRootFilesystem works.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["ecs-scheduler", "run"]
