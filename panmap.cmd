@echo off
rem The panmap command line on Windows: runs target\panmap.jar with a JDK >= 22 (%JAVA_HOME%, else java on PATH).
rem The Windows twin of ./panmap; build the jar first with: mvn -B package -DskipTests
setlocal
set "jar=%~dp0target\panmap.jar"
if not exist "%jar%" (
  echo panmap: "%jar%" is missing: build it first with mvn -B package -DskipTests 1>&2
  exit /b 2
)
set "java=java"
if defined JAVA_HOME set "java=%JAVA_HOME%\bin\java.exe"
"%java%" --enable-native-access=ALL-UNNAMED -jar "%jar%" %*
exit /b %ERRORLEVEL%
