#!/usr/bin/env bash
# Installs the real FTP peers the interop tests run against. Idempotent; run as root.
# Only Debian's package registry is used.
#
# vsftpd, the clients and the capture tools are ordinary packages. proftpd, pure-ftpd, ftpd-ssl and
# inetutils-ftpd conflict with vsftpd and with each other as packages (each "provides" ftp-server), so
# they are fetched with `apt-get download` and unpacked, one folder each, under $PEER_ROOT; their
# shared libraries are then installed by package name. The tests find them at $PEER_ROOT/<name>.
set -euo pipefail

PEER_ROOT=${SECUREFTP_PEER_ROOT:-/opt/secureftp-peers}
TEST_USER=ftptest
# Known to the tests (tests/SecureFtp.Tests/Infrastructure/PeerUser.cs); distinctive so the wire
# check can search for it in a capture.
TEST_PASSWORD='Wire-Secret-5f3a9c'

if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Servers, clients and tools that install side by side. systemd provides systemd-socket-activate,
# which plays inetd for ftpd-ssl and inetutils-ftpd (both are inetd-style servers).
# gcc builds the small certificate shim ftpd-ssl needs (see ftpd-ssl-cert-shim.c).
apt_packages=(vsftpd curl lftp tnftp inetutils-ftp ftp-ssl tcpdump openssl systemd ca-certificates gcc libc6-dev nftables iproute2)
# Shared libraries the unpacked servers need (found with ldd; see the check at the end).
library_packages=(libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libsodium23
                  libssl3 libcap2 libacl1 libidn2-0 libpcre2-8-0 libwrap0 libcrypt1 libpam0g libpam-modules)

missing=()
for p in "${apt_packages[@]}" "${library_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  # policy-rc.d keeps a package's service from starting: the tests start each server themselves.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
fi

# Unpacked servers: folder name => package names unpacked into it.
declare -A unpacked=(
  [proftpd]="proftpd-core proftpd-mod-crypto"
  [pure-ftpd]="pure-ftpd pure-ftpd-common"
  [ftpd-ssl]="ftpd-ssl"
  [inetutils-ftpd]="inetutils-ftpd"
)
mkdir -p "$PEER_ROOT"
download_dir=$(mktemp -d)
trap 'rm -rf "$download_dir"' EXIT
for name in "${!unpacked[@]}"; do
  target="$PEER_ROOT/$name"
  if [[ -f "$target/.installed" ]]; then continue; fi
  rm -rf "$target" && mkdir -p "$target"
  (cd "$download_dir" && apt-get download -qq ${unpacked[$name]} 2>&1 | grep -v "couldn't be accessed by user '_apt'" || true)
  for package in ${unpacked[$name]}; do
    deb=$(ls "$download_dir"/"${package}"_*.deb)
    dpkg-deb -x "$deb" "$target"
    dpkg-deb -f "$deb" Version > "$target/.version-$package"
  done
  touch "$target/.installed"
done

# Debian's ftpd-ssl never loads its certificate; the shim gives it the one the tests make.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
shim="$PEER_ROOT/ftpd-ssl/secureftp-cert-shim.so"
if [[ ! -f "$shim" || "$here/ftpd-ssl-cert-shim.c" -nt "$shim" ]]; then
  gcc -shared -fPIC -O2 -Wall -o "$shim" "$here/ftpd-ssl-cert-shim.c" -ldl
fi

# ftpd-ssl and inetutils-ftpd authenticate through PAM service "ftp"; both packages ship the same
# stack (pam_ftp, common-auth, pam_shells), which the unpacked copies cannot install themselves.
if [[ ! -f /etc/pam.d/ftp ]]; then
  install -m 644 "$PEER_ROOT/inetutils-ftpd/etc/pam.d/ftp" /etc/pam.d/ftp
fi

# Every unpacked binary and module must find its libraries.
unresolved=$(find "$PEER_ROOT" -type f \( -path '*/sbin/*' -o -name '*.so' \) -exec ldd {} \; 2>/dev/null | grep 'not found' | sort -u || true)
if [[ -n "$unresolved" ]]; then
  echo "install.sh: unpacked peers miss libraries:" >&2
  echo "$unresolved" >&2
  exit 1
fi

# The local login the servers authenticate through PAM/shadow. Its shell must be listed in
# /etc/shells (pam_shells) and it must not be in /etc/ftpusers.
if ! id "$TEST_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$TEST_USER"
fi
echo "$TEST_USER:$TEST_PASSWORD" | chpasswd
grep -qx /bin/bash /etc/shells || echo /bin/bash >> /etc/shells

# vsftpd's default secure_chroot_dir, in case a config does not set its own.
mkdir -p /var/run/vsftpd/empty

echo "install.sh: peers ready under $PEER_ROOT"
for name in "${!unpacked[@]}"; do
  echo "  $name $(cat "$PEER_ROOT/$name"/.version-* | paste -sd' ')"
done
