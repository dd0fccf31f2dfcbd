# syntax=docker/dockerfile:1
# EchoHost: raw TCP echo on 8888, HTTP health on 8080.
#   docker build -t echohost .
#   docker run -p 8888:8888 -p 8080:8080 echohost        then: telnet localhost 8888

# The host publishes as a Native AOT executable (a publish that names a runtime does; see EchoHost.csproj). The
# SDK's -aot image brings the native toolchain. Native code is compiled for the platform the stage runs on, so
# this stage runs on the target's platform (emulated when building for another architecture).
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble-aot AS build
ARG TARGETARCH
WORKDIR /source

# Project files first: the restore layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/EchoHost.Connections.Abstractions/EchoHost.Connections.Abstractions.csproj src/EchoHost.Connections.Abstractions/
COPY src/EchoHost.Connections/EchoHost.Connections.csproj src/EchoHost.Connections/
COPY src/EchoHost.Echo/EchoHost.Echo.csproj src/EchoHost.Echo/
COPY src/EchoHost.Transport.Linux/EchoHost.Transport.Linux.csproj src/EchoHost.Transport.Linux/
COPY src/EchoHost/EchoHost.csproj src/EchoHost/
RUN dotnet restore src/EchoHost/EchoHost.csproj -a $TARGETARCH

COPY appsettings.json ./
COPY src/ src/
RUN dotnet publish src/EchoHost/EchoHost.csproj -c Release -a $TARGETARCH --no-restore -o /app

# The chiseled runtime-deps image: no .NET runtime (the executable carries its own), no shell, no package
# manager, non-root by default. Nothing here needs a shell: the health check is the host's own probe mode, and
# the Kubernetes preStop hook uses the built-in sleep action. (Invariant globalization is on: no ICU needed.)
# Only what runs: the executable and its settings. The publish also leaves the native symbols (EchoHost.dbg) and
# the assemblies' .pdb files, tens of MB that stay in the build stage (docker build --target build to get them).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
WORKDIR /app
COPY --from=build /app/EchoHost /app/appsettings.json ./

# The base image sets ASPNETCORE_HTTP_PORTS=8080; the host binds Health:Port itself, so it is cleared.
# Everything else comes from appsettings.json, next to the executable.
ENV ASPNETCORE_HTTP_PORTS=
EXPOSE 8888 8080
USER $APP_UID

HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["./EchoHost", "probe"]
ENTRYPOINT ["./EchoHost"]
