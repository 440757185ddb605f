# syntax=docker/dockerfile:1
# The Inference server: OpenAI-compatible HTTP API on 8000, gRPC on 50051, Prometheus metrics at /metrics.
#
#   docker build -t inference .
#   docker run --rm -p 8000:8000 -p 50051:50051 -v /path/to/model:/model:ro inference --model /model
#
# GPU image: any CUDA runtime base works; the .NET runtime is installed into it when it has none, e.g.
#   docker build --build-arg RUNTIME_BASE=nvidia/cuda:12.6.3-runtime-ubuntu24.04 -t inference:cuda .
#   docker run --rm --gpus all -p 8000:8000 -p 50051:50051 -v /path/to/model:/model:ro inference:cuda --model /model --device cuda
ARG RUNTIME_BASE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY protos/ protos/
COPY kernels/ kernels/
COPY src/ src/
RUN --mount=type=cache,target=/root/.nuget/packages \
    dotnet publish src/Inference.Cli/Inference.Cli.csproj -c Release -r linux-x64 --self-contained false -o /app

FROM ${RUNTIME_BASE} AS runtime
# curl for HEALTHCHECK; the .NET runtime only when the base lacks it (a plain nvidia/cuda image); the
# unprivileged user "app" (uid 1654) that the aspnet images ship, created the same way on other bases.
# No ICU is needed (InvariantGlobalization), and curl already pulls in libssl.
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl ca-certificates; \
    if ! command -v dotnet >/dev/null 2>&1; then \
        curl -fsSL https://dot.net/v1/dotnet-install.sh -o /tmp/dotnet-install.sh; \
        bash /tmp/dotnet-install.sh --channel 10.0 --runtime aspnetcore --install-dir /usr/share/dotnet; \
        ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet; \
        rm /tmp/dotnet-install.sh; \
    fi; \
    rm -rf /var/lib/apt/lists/*; \
    id -u app >/dev/null 2>&1 || useradd --uid 1654 --user-group --no-create-home --shell /usr/sbin/nologin app
ENV DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_gcServer=0
WORKDIR /app
COPY --from=build /app /app
RUN ln -s /app/inference /usr/local/bin/inference
USER app
EXPOSE 8000 50051
# /health answers 503 while the model loads, so give large models time before failures count.
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/health || exit 1
ENTRYPOINT ["inference", "serve", "--host", "0.0.0.0"]
