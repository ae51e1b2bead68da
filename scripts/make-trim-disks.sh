#!/usr/bin/env bash
# The three kinds of disk of issue 22 ("compact --trim"), made by the real tools, each with files
# of random (incompressible) data written and then deleted, so that the freed data is still on
# the disk (not zeros):
#
#   ext4    ext4 (4 KiB blocks) on the whole disk, no partition table (as WSL's ext4.vhdx):
#           768 MiB, 60 MiB kept, 420 MiB deleted (mkfs.ext4 -d, then debugfs rm).
#   ntfs    NTFS in an MBR partition from 1 MiB: 576 MiB, 50 MiB kept, 400 MiB deleted
#           (mkntfs, then ntfs-3g through FUSE: written, then rm).
#   fat32   FAT32 in a GPT partition from 1 MiB: 448 MiB, 30 MiB kept, 300 MiB deleted
#           (mkfs.vfat, mtools mcopy, then mdel).
#
# Usage: make-trim-disks.sh DIV OUTDIR [VHD_FROM_RAW VHDX_FROM_RAW]
#
# DIV divides every size (1: the issue's sizes, for `make bench`; 8 for the tests). In OUTDIR,
# for each KIND:
#   KIND.raw          the disk, flat (sparse)
#   KIND.vhd          a dynamic VHD of it (qemu-img convert -O vpc, 2 MiB blocks)
#   KIND.vhdx         a dynamic VHDX of it (qemu-img convert -O vhdx, 1 MiB blocks as WSL's)
#   KIND.txt          `fs NAME`, `start BYTES` and `len BYTES` (where the file system lies),
#                     `kept BYTES` (the bytes of the files left), `deleted BYTES` (of the files
#                     deleted)
#   KIND.deleted      the first 64 KiB of every deleted file (to look for on a copy)
#   KIND-child.raw    the disk after a change made without the VHD (a kept file deleted, a file
#                     added, and one added then deleted: KIND-child.deleted holds its first 64 KiB)
# and, with the two example binaries (`cargo build --example vhd_from_raw --example
# vhdx_from_raw`), a differencing chain of each format written by the project's writers:
#   KIND-base.vhd  KIND-child.vhd  KIND-base.vhdx  KIND-child.vhdx
# NTFS needs FUSE (/dev/fuse and ntfs-3g): without it no ntfs.* files are made, and
# OUTDIR/ntfs.skipped says why.
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 TZ=UTC

[ $# = 2 ] || [ $# = 4 ] || { echo "usage: $0 DIV OUTDIR [VHD_FROM_RAW VHDX_FROM_RAW]" >&2; exit 2; }
DIV=$1
OUT=$2
VFR=${3:-}
VXR=${4:-}
case $DIV in '' | *[!0-9]* | 0) echo "DIV must be a positive whole number" >&2; exit 2 ;; esac
mkdir -p "$OUT"
cd "$OUT"
MIB=$((1 << 20))

# Sizes: N MiB divided by DIV, rounded down to 4 KiB.
sz() { echo $(($1 * MIB / DIV / 4096 * 4096)); }

# The files' sizes: PARTS pieces of TOTAL bytes in the proportions 1..PARTS, each with an odd
# tail (so that file ends fall inside clusters), printed one a line.
sizes() {
  local total=$1 parts=$2 sum=$(($2 * ($2 + 1) / 2)) k
  for k in $(seq 1 "$parts"); do echo $((total * k / sum / 4096 * 4096 + 1000 + 37 * k)); done
}

rnd() { head -c "$1" /dev/urandom; }

# The files to keep and to delete, in src/, named so that their order interleaves the two (the
# tools lay files out in that order: freed space between kept files).
make_files() {
  local kept=$1 deleted=$2 k=0 s
  rm -rf src; mkdir -p src
  while read -r s; do k=$((k + 1)); rnd "$s" > "src/f$(printf %02d $((2 * k)))-keep.bin"; done < <(sizes "$kept" 8)
  k=0
  while read -r s; do k=$((k + 1)); rnd "$s" > "src/f$(printf %02d $((2 * k - 1)))-del.bin"; done < <(sizes "$deleted" 12)
  mkdir -p src/dir; printf 'a small file\n' > src/dir/small.txt
}

# KIND.txt and KIND.deleted from src/.
describe() {
  local kind=$1 fs=$2 start=$3 len=$4 kept=0 deleted=0 f
  : > "$kind.deleted"
  for f in src/*-del.bin; do deleted=$((deleted + $(stat -c %s "$f"))); head -c 65536 "$f" >> "$kind.deleted"; done
  for f in src/*-keep.bin src/dir/small.txt; do kept=$((kept + $(stat -c %s "$f"))); done
  printf 'fs %s\nstart %s\nlen %s\nkept %s\ndeleted %s\n' "$fs" "$start" "$len" "$kept" "$deleted" > "$kind.txt"
}

# The change of the child: KIND-child.deleted from the file added then deleted.
child_files() {
  rnd $((MIB / DIV + 3000)) > added.bin
  rnd $((2 * MIB / DIV + 5000)) > gone.bin
  head -c 65536 gone.bin > "$1-child.deleted"
}

wrap() {
  local kind=$1
  qemu-img convert -q -f raw -O vpc -o subformat=dynamic,force_size=on "$kind.raw" "$kind.vhd"
  qemu-img convert -q -f raw -O vhdx -o subformat=dynamic,block_size=1M "$kind.raw" "$kind.vhdx"
  if [ -n "$VFR" ]; then
    "$VFR" dynamic "$kind.raw" "$kind-base.vhd"
    "$VFR" child "$kind.raw" "$kind-base.vhd" "$kind-child.raw" "$kind-child.vhd"
    "$VXR" "$kind.raw" "$kind-base.vhdx" --id 34
    "$VXR" "$kind-child.raw" "$kind-child.vhdx" --child-of "$kind.raw" 34 "$kind-base.vhdx"
  fi
}

# --- ext4 on the whole disk -----------------------------------------------------------------
make_files "$(sz 60)" "$(sz 420)"
rm -f ext4.raw
mkfs.ext4 -q -F -b 4096 -L TRIMEXT4 -E lazy_itable_init=0 -d src ext4.raw $(($(sz 768) / 1024))k
describe ext4 ext4 0 "$(sz 768)"
for f in src/*-del.bin; do echo "rm /${f#src/}"; done > rm.cmd
debugfs -w -f rm.cmd ext4.raw > /dev/null 2>&1
cp --sparse=always ext4.raw ext4-child.raw
child_files ext4
printf 'rm /f02-keep.bin\nwrite added.bin /added.bin\nwrite gone.bin /gone.bin\nrm /gone.bin\n' > child.cmd
debugfs -w -f child.cmd ext4-child.raw > /dev/null 2>&1
wrap ext4

# --- FAT32 in a GPT partition ---------------------------------------------------------------
make_files "$(sz 30)" "$(sz 300)"
rm -f fat32.raw
truncate -s "$(sz 448)" fat32.raw
sgdisk -n 1:2048:0 -t 1:0700 -c 1:"Basic data" fat32.raw > /dev/null
start=$(($(sgdisk -i 1 fat32.raw | awk '/First sector/ {print $3}') * 512))
last=$(sgdisk -i 1 fat32.raw | awk '/Last sector/ {print $3}')
psize=$(((last + 1) * 512 - start))
# 4 KiB clusters from 256 MiB on, 512 bytes below (FAT32 needs 65525 clusters).
spc=1; [ "$psize" -ge $((256 * MIB)) ] && spc=8
rm -f p.img; truncate -s "$psize" p.img
mkfs.vfat -F 32 -s "$spc" -n TRIMFAT32 -h $((start / 512)) p.img > /dev/null
mmd -i p.img ::/dir
for f in src/*.bin; do mcopy -i p.img "$f" "::/${f#src/}"; done
mcopy -i p.img src/dir/small.txt ::/dir/small.txt
describe fat32 fat32 "$start" "$psize"
for f in src/*-del.bin; do mdel -i p.img "::/${f#src/}"; done
dd if=p.img of=fat32.raw bs=1M seek=$((start / MIB)) conv=notrunc,sparse status=none
rm -f p.img
cp --sparse=always fat32.raw fat32-child.raw
child_files fat32
i="fat32-child.raw@@$start"
mdel -i "$i" ::/f02-keep.bin; mcopy -i "$i" added.bin ::/added.bin; mcopy -i "$i" gone.bin ::/gone.bin; mdel -i "$i" ::/gone.bin
wrap fat32

# --- NTFS in an MBR partition ---------------------------------------------------------------
rm -f ntfs.skipped
if [ -e /dev/fuse ] && command -v ntfs-3g > /dev/null; then
  make_files "$(sz 50)" "$(sz 400)"
  rm -f ntfs.raw
  truncate -s "$(sz 576)" ntfs.raw
  printf 'label: dos\nstart=2048, type=7\n' | sfdisk -q ntfs.raw
  start=$((2048 * 512))
  psize=$(($(stat -c %s ntfs.raw) - start))
  rm -f p.img; truncate -s "$psize" p.img
  mkntfs -q -F -s 512 -c 4096 -p 2048 -H 255 -S 63 -L TRIMNTFS p.img > /dev/null 2>&1
  mkdir -p m
  ntfs-3g p.img m
  mkdir m/dir; cp src/dir/small.txt m/dir/
  for f in src/*.bin; do cp "$f" m/; done
  sync
  for f in src/*-del.bin; do rm "m/${f#src/}"; done
  umount m
  describe ntfs ntfs "$start" "$psize"
  dd if=p.img of=ntfs.raw bs=1M seek=1 conv=notrunc,sparse status=none
  rm -f p.img
  cp --sparse=always ntfs.raw ntfs-child.raw
  child_files ntfs
  # The child's change, on the partition in place (a loop-free offset mount of ntfs-3g).
  ntfs-3g -o offset="$start" ntfs-child.raw m 2> /dev/null || {
    dd if=ntfs-child.raw of=p.img bs=1M skip=1 status=none
    ntfs-3g p.img m
  }
  rm m/f02-keep.bin; cp added.bin m/; cp gone.bin m/; sync; rm m/gone.bin
  umount m
  if [ -e p.img ]; then dd if=p.img of=ntfs-child.raw bs=1M seek=1 conv=notrunc,sparse status=none; rm -f p.img; fi
  rmdir m
  wrap ntfs
else
  echo "no FUSE (/dev/fuse) or no ntfs-3g: the NTFS disk needs ntfs-3g to write and delete files" > ntfs.skipped
fi

rm -rf src rm.cmd child.cmd added.bin gone.bin
touch done
