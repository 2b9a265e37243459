#!/usr/bin/env bash
# Installs the Debian packages that HomeStation's tests run for real (no mocks of
# these tools): restic and borg for the backup exporter, promtool (package
# prometheus) for checking exposition files, podman with runc and busybox-static
# for the remediator's container tests, and Prometheus, Alertmanager and
# blackbox_exporter for the detection-to-recovery test, Mosquitto for the MQTT
# exporter (and mqtt2prometheus, Debian's prometheus-mqtt-exporter, for its bench), Chromium for
# the status page's headless browser test, FUSE (fuse3, python3-fusepy) for the NAS
# exporter's hung-mount test, and dbus-daemon with python3-dbusmock (BlueZ's mock) for the
# bluetooth exporter's BlueZ path. As root with apt-get it installs
# what is missing; otherwise it prints the exact command, and fails in CI.
set -euo pipefail

# tool:package pairs
NEEDED=(restic:restic borg:borgbackup borgmatic:borgmatic promtool:prometheus podman:podman runc:runc busybox:busybox-static
  amtool:prometheus-alertmanager prometheus-alertmanager:prometheus-alertmanager prometheus-blackbox-exporter:prometheus-blackbox-exporter
  mosquitto:mosquitto mosquitto_pub:mosquitto-clients openssl:openssl prometheus-mqtt-exporter:prometheus-mqtt-exporter chromium:chromium fusermount3:fuse3 dbus-daemon:dbus)

missing=()
for pair in "${NEEDED[@]}"; do
  tool=${pair%%:*} pkg=${pair#*:}
  command -v "$tool" >/dev/null 2>&1 || missing+=("$pkg")
done
# A Python module, not a command: the FAKE hung mount (test/fakes/hangfs.py) runs on Debian's python3.
/usr/bin/python3 -c 'import fusepy' >/dev/null 2>&1 || missing+=(python3-fusepy)
# BlueZ's mock on a private D-Bus (the bluetooth exporter's tests): python-dbusmock's bluez5 template.
/usr/bin/python3 -c 'import dbusmock' >/dev/null 2>&1 || missing+=(python3-dbusmock)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "install-system-deps: the tests need ${missing[*]}. Install them with:" >&2
echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
if [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; then exit 1; fi
echo "install-system-deps: continuing; tests that need them will be skipped with this message." >&2
