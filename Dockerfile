# EchoHost: raw TCP echo on 8888, HTTP health on 8080.
#   docker build -t echohost .
#   docker run -p 8888:8888 -p 8080:8080 echohost      then: telnet localhost 8888

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
# Project files first, so the restore layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/EchoHost.Protocol/EchoHost.Protocol.csproj src/EchoHost.Protocol/
COPY src/EchoHost/EchoHost.csproj src/EchoHost/
RUN dotnet restore src/EchoHost/EchoHost.csproj
COPY appsettings.json ./
COPY src/ src/
RUN dotnet publish src/EchoHost/EchoHost.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
# The image sets ASPNETCORE_HTTP_PORTS=8080; the host binds Health:Port itself, so the variable is cleared.
ENV ASPNETCORE_HTTP_PORTS=
EXPOSE 8888 8080
COPY --from=build /app ./
USER $APP_UID
ENTRYPOINT ["dotnet", "EchoHost.dll"]
