@echo off
rem The panmap command line on Windows: runs cli\target\panmap-cli-<version>-all.jar with a JDK >= 22 (%JAVA_HOME%, else java on PATH).
rem The Windows twin of ./panmap; build the jar first with: mvnw.cmd -f parent\pom.xml package -DskipTests
setlocal
set "jar="
rem dir /b, not a quoted wildcard in for: Wine's cmd expands no wildcard inside quotes
for /f "delims=" %%f in ('dir /b "%~dp0cli\target\panmap-cli-*-all.jar" 2^>nul') do set "jar=%~dp0cli\target\%%f"
if not defined jar (
  echo panmap: no cli\target\panmap-cli-*-all.jar: build it first with mvnw.cmd -f parent\pom.xml package -DskipTests 1>&2
  exit /b 2
)
set "java=java"
if defined JAVA_HOME set "java=%JAVA_HOME%\bin\java.exe"
"%java%" --enable-native-access=ALL-UNNAMED -jar "%jar%" %*
exit /b %ERRORLEVEL%
