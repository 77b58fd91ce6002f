#!/usr/bin/env bash
# Checks the package the way an administrator meets it: lintian on the .deb, then a fresh
# Debian 12 root made with debootstrap (no Swift anywhere in it), the package installed there
# with its dependencies from apt, and minewatch run inside: --version, a scan of the bundled
# sample, `signatures check`, man pages and completions in place, `systemd-analyze verify` of
# the unit. Needs root (debootstrap, chroot) and Debian's mirror. Run by `make test-package`.
# Usage: test-package.sh DEB SAMPLE.pcap ROOTFS
set -euo pipefail
deb=$(realpath "$1") sample=$(realpath "$2") root=$3
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fail() { echo "test-package: $*" >&2; exit 1; }

echo "== lintian"
lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" || fail "lintian reports errors"

if [ ! -x "$root/usr/bin/apt-get" ]; then
  echo "== debootstrap bookworm into $root"
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.log" 2>&1 || { tail -20 "$root.log"; fail "debootstrap failed"; }
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
for d in proc sys dev; do mountpoint -q "$root/$d" || mount --bind "/$d" "$root/$d"; done
trap 'for d in proc sys dev; do umount -l "$root/$d" 2>/dev/null || true; done' EXIT
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

echo "== no Swift in the root"
if in_root sh -c 'ls -d /usr/lib/swift /opt/swift /usr/libexec/swift 2>/dev/null | grep -q .'; then fail "the root has a Swift toolchain"; fi

echo "== dpkg -i with dependencies from apt"
cp "$deb" "$root/tmp/minewatch.deb"
cp "$sample" "$root/tmp/sample.pcap"
in_root apt-get -qq update
in_root dpkg --purge minewatch >/dev/null 2>&1 || true  # a root kept from an earlier run
# With systemd and man-db, as a server has them, for systemd-analyze and the unit's man: link.
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/minewatch.deb systemd man-db >/dev/null ||
  fail "install failed"
in_root dpkg -s minewatch | grep -q '^Status: install ok installed' || fail "not installed"

echo "== minewatch in the root"
in_root minewatch --version
in_root minewatch scan /tmp/sample.pcap > "$root/tmp/scan.txt" || fail "scan failed"
cat "$root/tmp/scan.txt"
grep -q "totals: 3 mining host(s)" "$root/tmp/scan.txt" || fail "the sample's miners were not found"
in_root minewatch signatures check /usr/share/minewatch/signatures || fail "signatures check failed"
in_root minewatch signatures update /usr/share/minewatch/signatures --into /var/lib/minewatch/signatures --no-reload ||
  fail "signatures update failed"
in_root minewatch signatures check /var/lib/minewatch/signatures || fail "the updated set does not check"
for f in /usr/share/man/man1/minewatch.1.gz /usr/share/man/man1/minewatch.scan.1.gz /usr/share/man/man1/minewatch.run.1.gz \
  /usr/share/man/man1/minewatch.verify.1.gz /usr/share/bash-completion/completions/minewatch \
  /usr/share/zsh/vendor-completions/_minewatch /usr/share/fish/vendor_completions.d/minewatch.fish \
  /usr/share/minewatch/grafana/minewatch-dashboard.json /usr/share/man/man1/minewatch.signatures.update.1.gz \
  /etc/minewatch/minewatch.conf /etc/logrotate.d/minewatch /lib/systemd/system/minewatch.service; do
  [ -s "$root$f" ] || fail "missing $f"
done
[ -d "$root/var/lib/minewatch" ] && [ -d "$root/var/log/minewatch" ] || fail "postinst made no state or log directory"
in_root sh -c 'systemctl is-enabled minewatch 2>/dev/null | grep -qx enabled' && fail "the service was enabled"
in_root systemd-analyze verify /lib/systemd/system/minewatch.service || fail "systemd-analyze verify rejects the unit"
if in_root ldd /usr/bin/minewatch | grep -E 'libswift|not found'; then fail "a library is missing or Swift's"; fi
echo "== package checked: $(basename "$deb")"
