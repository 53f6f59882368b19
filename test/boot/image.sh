#!/usr/bin/env bash
# image.sh: the Debian 13 guest image the boot test runs our rendered user-data in. Builds it
# once with mmdebstrap (no loop mount, no root filesystem on the host) and caches it outside the
# repository, keyed on the package list and this script; later runs reuse it.
#
# Usage: test/boot/image.sh  -> prints the cache directory holding base.img (raw ext4, the
# guest's /dev/vda), vmlinuz, initrd.img, packages.txt (what is installed) and build.log.
# Environment: WSO2IS_BOOT_CACHE (default ~/.cache/wso2is-boot), WSO2IS_BOOT_MIRROR (default:
# mmdebstrap's own default Debian mirror).
#
# The guest differs from the Ubuntu 24.04 cloud image the product targets (docs/testing.md,
# "Boot test"): Debian 13 (trixie, cloud-init 25.1, systemd 257, kernel 6.12); the packages the
# user-data names are already installed (the guest has no mirror: it reaches only the stand-ins),
# with Ubuntu-only names mapped here, never in the product: `mysql-client` is a local package
# that depends on Debian's default-mysql-client (MariaDB's client).
set -Eeuo pipefail

readonly PROG=image.sh
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

SUITE=trixie
# What the product's user-data installs (components/render/cloudInit.ts and the bootstrap unit),
# the Ubuntu cloud image's base that our boot relies on (cloud-init and its schema check,
# systemd, udev, ssh, sudo, locales, networking, e2fsprogs for cc_resizefs), and the kernel.
PACKAGES=(
    # the product's packages (Ubuntu names mapped: mysql-client below)
    openjdk-21-jre-headless unzip curl jq default-mysql-client nfs-common cifs-utils nftables
    # an Ubuntu cloud image's base
    systemd-sysv udev dbus locales cloud-init python3-jsonschema openssh-server sudo
    ca-certificates openssl iproute2 iptables ifupdown isc-dhcp-client netbase procps
    less util-linux e2fsprogs
    # boot
    linux-image-amd64 initramfs-tools
)

CACHE_ROOT=${WSO2IS_BOOT_CACHE:-$HOME/.cache/wso2is-boot}
key=$( (
    printf '%s\n' "$SUITE" "${PACKAGES[@]}"
    cat -- "${BASH_SOURCE[0]}"
) | sha256sum)
key=${key:0:16}
OUT=$CACHE_ROOT/$SUITE-$key
if [[ -f $OUT/base.img && -f $OUT/vmlinuz && -f $OUT/initrd.img ]]; then
    log "reusing $OUT"
    printf '%s\n' "$OUT"
    exit 0
fi

for cmd in mmdebstrap mkfs.ext4 dpkg-deb; do
    command -v "$cmd" >/dev/null || die "$cmd is missing (apt-get install mmdebstrap e2fsprogs dpkg)"
done
[[ $(id -u) == 0 ]] || die "building the image needs root (mmdebstrap --mode=root)"

mkdir -p -- "$CACHE_ROOT"
work=$(mktemp -d "$CACHE_ROOT/.build-$SUITE-$key.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
start=$SECONDS

# Ubuntu's `mysql-client` as a local package: the product's name resolves, Debian's client runs.
mkdir -p "$work/mysql-client/DEBIAN"
cat >"$work/mysql-client/DEBIAN/control" <<CONTROL
Package: mysql-client
Version: 8.0+wso2isboot1
Architecture: all
Maintainer: wso2is-cluster boot test <root@localhost>
Depends: default-mysql-client
Description: boot test: Ubuntu's mysql-client name for Debian's default-mysql-client
CONTROL
dpkg-deb --root-owner-group --build "$work/mysql-client" "$work/mysql-client.deb" >/dev/null

mirror=()
[[ -z ${WSO2IS_BOOT_MIRROR:-} ]] || mirror=("$WSO2IS_BOOT_MIRROR")
log "building a Debian $SUITE image into $OUT (mmdebstrap, a few minutes)"
# Image-level cloud-init settings (what a cloud image's /etc/cloud carries, not user-data): only
# the NoCloud seed is looked for, and apt keeps the empty source list (no mirror offline, so
# `apt-get update` succeeds doing nothing and `apt-get install` finds every package installed).
# shellcheck disable=SC2016 # the hooks expand $1 (the root directory) inside mmdebstrap
# Acquire::Retries: a mirror hiccup on a fresh CI machine retries instead of failing the run.
mmdebstrap --mode=root --variant=minbase --aptopt='APT::Install-Recommends "false"' \
    --aptopt='Acquire::Retries "5"' \
    --include="$(
        IFS=,
        echo "${PACKAGES[*]}"
    )" \
    --customize-hook="cp \"$work/mysql-client.deb\" \"\$1/tmp/\" && chroot \"\$1\" dpkg -i /tmp/mysql-client.deb >/dev/null && rm \"\$1/tmp/mysql-client.deb\"" \
    --customize-hook='echo "en_US.UTF-8 UTF-8" >"$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null' \
    --customize-hook='echo "LANG=en_US.UTF-8" >"$1/etc/default/locale"' \
    --customize-hook='echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$1/etc/fstab"' \
    --customize-hook='printf "datasource_list: [NoCloud, None]\napt:\n  preserve_sources_list: true\n" >"$1/etc/cloud/cloud.cfg.d/90-wso2is-boot-image.cfg"' \
    --customize-hook='rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*' \
    --customize-hook='chroot "$1" dpkg-query -W -f "\${Package} \${Version}\n" >"$1/root/packages.txt"' \
    --customize-hook="cp -L \"\$1/vmlinuz\" \"$work/vmlinuz\" 2>/dev/null || cp \"\$1\"/boot/vmlinuz-* \"$work/vmlinuz\"" \
    --customize-hook="cp -L \"\$1/initrd.img\" \"$work/initrd.img\" 2>/dev/null || cp \"\$1\"/boot/initrd.img-* \"$work/initrd.img\"" \
    --customize-hook="cp \"\$1/root/packages.txt\" \"$work/packages.txt\"" \
    "$SUITE" "$work/rootfs" "${mirror[@]}" >"$work/build.log" 2>&1 ||
    die "mmdebstrap failed; last lines of its log:
$(tail -n 30 "$work/build.log")"
log "root filesystem in $((SECONDS - start)) s"
# The disk without a loop mount: mkfs copies the tree in.
mkfs.ext4 -q -F -L root -d "$work/rootfs" "$work/base.img" 4G >/dev/null
rm -rf -- "$work/rootfs"
printf 'built in %s s on %s\n' "$((SECONDS - start))" "$(date -u +%FT%TZ)" >>"$work/build.log"
mv -T -- "$work" "$OUT"
trap - EXIT
log "image ready in $((SECONDS - start)) s: $OUT"
printf '%s\n' "$OUT"
