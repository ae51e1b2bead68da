#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine with the Rust toolchain, and does
# nothing when everything is there. Usage: scripts/setup.sh [native|web|all]
#   native: the tools the Rust tests compare against (qemu-utils, 7zip, libvhdi-utils, xz-utils),
#           and those that make and read the file-system test images (sleuthkit, mtools,
#           dosfstools, ntfs-3g, e2fsprogs, fdisk, gdisk), libbde and dislocker (BitLocker), and
#           hivex's hivexsh/hivexget (libhivex-bin), which write and read the Windows test disks' hives
#   web:    the wasm32 target, wasm-bindgen-cli at the version in Cargo.lock, npm packages
#   all:    both, plus the three browser engines the page is tested in (the default): chromium
#           (and chromium-driver), firefox-esr, and WebKitGTK's WebKitWebDriver and MiniBrowser
#           (webkit2gtk-driver) with xvfb-run and xauth, since MiniBrowser has no headless mode
#   fuzz:   cargo-fuzz, for the fuzz targets in fuzz/ (`make test-fuzz`)
#   bench:  what `make bench` compares with and measures by: qemu-utils, 7zip, libvhdi-utils,
#           GNU time, node/npm and the three browsers (the wasm build installs the rest through `web`)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"

say() { printf 'setup: %s\n' "$*" >&2; }

apt_packages=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || apt_packages+=("$2"); }

case "$what" in
  native|all) need_cmd qemu-img qemu-utils; need_cmd 7zz 7zip; need_cmd vhdiinfo libvhdi-utils; need_cmd xz xz-utils
    # libvhdi's Python binding reads data (vhdiinfo only prints headers): the known-defect tests.
    /usr/bin/python3 -c 'import pyvhdi' 2>/dev/null || apt_packages+=(python3-libvhdi)
    need_cmd fls sleuthkit; need_cmd mcopy mtools; need_cmd mkfs.vfat dosfstools; need_cmd mkntfs ntfs-3g
    # exFAT test volumes (tests/exfat.rs): mkfs.exfat and fsck.exfat, files written through exfat-fuse.
    need_cmd mkfs.exfat exfatprogs; need_cmd mount.exfat-fuse exfat-fuse
    need_cmd mkfs.ext4 e2fsprogs; need_cmd sfdisk fdisk; need_cmd sgdisk gdisk; need_cmd hivexsh libhivex-bin
    # libbde (bdeinfo, pybde) and dislocker read the BitLocker test volumes (tests/bitlocker_writer.rs).
    need_cmd bdeinfo libbde-utils; need_cmd dislocker-file dislocker
    # lvm2 makes the LVM2 test disk on loop devices (tests/lvm.rs).
    need_cmd pvcreate lvm2
    # mkfs.xfs -p and xfs_db make and read the XFS test disks (tests/xfs.rs).
    need_cmd xfs_db xfsprogs
    /usr/bin/python3 -c 'import pybde' 2>/dev/null || apt_packages+=(python3-libbde) ;;
esac
case "$what" in
  web|all) need_cmd node nodejs; need_cmd npm npm ;;
esac
case "$what" in
  all|bench) need_cmd chromium chromium; need_cmd firefox-esr firefox-esr; need_cmd WebKitWebDriver webkit2gtk-driver
             need_cmd xvfb-run xvfb; need_cmd xauth xauth ;;
esac
case "$what" in
  all) need_cmd chromedriver chromium-driver ;;
esac
case "$what" in
  bench) need_cmd qemu-img qemu-utils; need_cmd 7zz 7zip; need_cmd vhdiinfo libvhdi-utils; [ -x /usr/bin/time ] || apt_packages+=(time)
         need_cmd node nodejs; need_cmd npm npm
         # The listing benchmark's volumes (mkntfs + ntfs-3g, mkfs.ext4, sfdisk) and fls; the disks of
         # compact --trim (scripts/make-trim-disks.sh: also sgdisk, mkfs.vfat and mtools).
         need_cmd fls sleuthkit; need_cmd mkntfs ntfs-3g; need_cmd mkfs.ext4 e2fsprogs; need_cmd sfdisk fdisk
         need_cmd sgdisk gdisk; need_cmd mkfs.vfat dosfstools; need_cmd mcopy mtools ;;
esac

if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  else
    say "please install these Debian packages (as root): apt-get install ${apt_packages[*]}"
    exit 1
  fi
fi

case "$what" in
  web|all)
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
      say "adding the Rust target wasm32-unknown-unknown"
      rustup target add wasm32-unknown-unknown
    fi
    # wasm-bindgen-cli must match the wasm-bindgen crate exactly.
    want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
    have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
    if [ -n "$want" ] && [ "$want" != "$have" ]; then
      say "installing wasm-bindgen-cli $want (a few minutes, once)"
      cargo install wasm-bindgen-cli --version "$want"
    fi
    if [ -f package.json ]; then
      if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        say "installing npm packages"
        npm ci --no-audit --no-fund --loglevel=error
      fi
    fi
    ;;
esac

case "$what" in
  fuzz)
    if ! command -v cargo-fuzz >/dev/null 2>&1; then
      say "installing cargo-fuzz (a few minutes, once)"
      cargo install cargo-fuzz --locked
    fi
    ;;
esac
