@echo off
rem panmap: the command line of the panmap shared-memory library (Windows).
rem Needs Java 22 or newer: %JAVA_HOME%\bin\java.exe if JAVA_HOME is set, else java on PATH.
rem PANMAP_JAVA_OPTS adds JVM options.
setlocal
set "PANMAP_JAR=%~dp0..\lib\panmap-cli.jar"
if defined JAVA_HOME (set "PANMAP_JAVA=%JAVA_HOME%\bin\java.exe") else (set "PANMAP_JAVA=java")
"%PANMAP_JAVA%" -Xlog:disable -Xlog:all=warning:stderr -Xshare:auto %PANMAP_JAVA_OPTS% --enable-native-access=ALL-UNNAMED -jar "%PANMAP_JAR%" %*
exit /b %ERRORLEVEL%
