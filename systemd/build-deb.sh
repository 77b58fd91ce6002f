#!/usr/bin/env bash
# Builds minewatch_VERSION_ARCH.deb from a binary linked with the Swift runtime inside
# (--static-swift-stdlib), the man pages swift-argument-parser generated, and the repository's
# signatures, unit and sample configuration. The package needs only Debian's own libraries,
# found from the binary's dynamic dependencies (ldd, then dpkg -S). Run by `make deb`.
# Usage: build-deb.sh BINARY MANDIR VERSION ARCH OUTDIR
set -euo pipefail
bin=$1 mandir=$2 version=$3 arch=$4 out=$5
root=$out/root
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/minewatch/signatures" \
  "$root/lib/systemd/system" "$root/etc/minewatch" "$root/usr/share/man/man1" \
  "$root/usr/share/doc/minewatch" "$root/usr/share/bash-completion/completions" \
  "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"

install -m 0755 "$bin" "$root/usr/bin/minewatch"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/minewatch"
install -m 0644 signatures/*.txt signatures/VERSION "$root/usr/share/minewatch/signatures/"
# The Grafana dashboard and its provisioning file (copied into Grafana's provisioning folder).
install -d "$root/usr/share/minewatch/grafana"
install -m 0644 systemd/grafana/minewatch-dashboard.json systemd/grafana/provisioning.yaml \
  "$root/usr/share/minewatch/grafana/"

# The unit and the configuration, with the packaged paths.
sed -e 's|/usr/local/bin/minewatch|/usr/bin/minewatch|' \
  -e 's|file:///usr/local/share/doc/minewatch/README.md|man:minewatch(1)|' \
  -e 's|^# minewatch as a hardened systemd service. Install with `make install`, then:|# minewatch as a hardened systemd service (package minewatch). Enable it with:|' \
  systemd/minewatch.service > "$root/lib/systemd/system/minewatch.service"
chmod 0644 "$root/lib/systemd/system/minewatch.service"
sed -e 's|^signatures = .*|signatures = /usr/share/minewatch/signatures|' \
  systemd/minewatch.conf > "$root/etc/minewatch/minewatch.conf"
chmod 0644 "$root/etc/minewatch/minewatch.conf"

for page in "$mandir"/*.1; do
  gzip -9n < "$page" > "$root/usr/share/man/man1/$(basename "$page").gz"
done
chmod 0644 "$root"/usr/share/man/man1/*.gz

# Completions, as swift-argument-parser writes them.
"$root/usr/bin/minewatch" --generate-completion-script bash > "$root/usr/share/bash-completion/completions/minewatch"
"$root/usr/bin/minewatch" --generate-completion-script zsh > "$root/usr/share/zsh/vendor-completions/_minewatch"
"$root/usr/bin/minewatch" --generate-completion-script fish > "$root/usr/share/fish/vendor_completions.d/minewatch.fish"
chmod 0644 "$root"/usr/share/bash-completion/completions/minewatch "$root"/usr/share/zsh/vendor-completions/_minewatch \
  "$root"/usr/share/fish/vendor_completions.d/minewatch.fish
# bash-completion sources the file: no interpreter line.
sed -i '1{/^#!/d}' "$root/usr/share/bash-completion/completions/minewatch"

gzip -9n < README.md > "$root/usr/share/doc/minewatch/README.md.gz"
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
printf 'minewatch (%s) unstable; urgency=medium\n\n  * Release %s; see README.md.\n\n -- minewatch developers <minewatch@example.org>  %s\n' \
  "$version" "$version" "$date" | gzip -9n > "$root/usr/share/doc/minewatch/changelog.gz"
cat > "$root/usr/share/doc/minewatch/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: minewatch
Source: https://example.org/minewatch

Files: *
Copyright: 2026 the minewatch developers
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this
 software and associated documentation files (the "Software"), to deal in the Software
 without restriction, including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
 to whom the Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
COPYRIGHT
chmod 0644 "$root"/usr/share/doc/minewatch/*

# Debian's libraries the binary links, at the lowest versions whose symbols it uses: what
# dpkg-shlibdeps reads from the libraries' symbols files (the versions installed here would
# demand this machine's security updates of every target).
shl=$(mktemp -d)
mkdir -p "$shl/debian"
printf 'Source: minewatch\n\nPackage: minewatch\nArchitecture: any\n' > "$shl/debian/control"
binary=$(realpath "$root/usr/bin/minewatch")
depends=$(cd "$shl" && dpkg-shlibdeps -O "$binary" | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shl"
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
depends="$depends, procps"  # the unit's ExecReload runs /bin/kill
if ldd "$root/usr/bin/minewatch" | grep -q libswift; then
  echo "build-deb: the binary still loads the Swift runtime dynamically" >&2
  exit 1
fi

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: minewatch
Version: $version
Architecture: $arch
Maintainer: minewatch developers <minewatch@example.org>
Installed-Size: $size
Depends: $depends
Recommends: curl, xz-utils
Section: net
Priority: optional
Homepage: https://example.org/minewatch
Description: passive detector of cryptocurrency mining in network traffic
 minewatch watches a gateway's traffic (a mirror port, a remote SPAN or
 cloud mirror, or the router itself) and reports which internal hosts mine,
 to which pool, for which coin and wallet, since when, with how much traffic
 and hashrate, and what it costs in energy. It reads the mining protocols,
 pool names and addresses, and the rhythm of encrypted mining.
 .
 It runs as a hardened systemd service writing alerts to syslog and JSON,
 with Prometheus metrics, or as a one-off scan of capture files. The
 service is installed but not enabled.
CONTROL
install -D -m 0644 systemd/minewatch.logrotate "$root/etc/logrotate.d/minewatch"
printf '/etc/minewatch/minewatch.conf\n/etc/logrotate.d/minewatch\n' > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
# The state (evidence, verdicts) and log directories; the service itself is left for the
# administrator to enable (systemctl enable --now minewatch) once the config names an interface.
set -e
if [ "$1" = configure ]; then
  install -d -m 0750 /var/lib/minewatch /var/log/minewatch
fi
POSTINST
cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
  rm -rf /var/lib/minewatch /var/log/minewatch
fi
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
deb=$out/minewatch_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb: Depends: $depends"
