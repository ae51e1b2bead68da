#!/usr/bin/env bash
# Runs every fuzz target for a few seconds (FUZZ_SECONDS, default 8) from seeds the writer makes
# (fuzz/examples/make_seeds.rs), as `make test-fuzz` does. A crash, a timeout (10 s for one
# input), one allocation over 256 MiB or more than 1 GiB in all (AddressSanitizer's share
# included) fails the run; libFuzzer leaves the input in fuzz/artifacts/<target>/, to be turned
# into a regression test (tests/fuzz_regressions.rs).
# With the nightly toolchain the targets run under AddressSanitizer; without it, without one.
# Optimised, with debug assertions and overflow checks (-a): an overflow is a crash, not a wrong byte.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-8}"
targets=(footer header locator bat bitmap whole parts fat exfat ntfs ext diff vhdx_header vhdx_region_table vhdx_log_entry vhdx_metadata vhdx_bat inspect registry bitlocker xfs lvm)
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
  build_opts=(-O -a)
else
  fuzz=(cargo fuzz)
  build_opts=(-O -a -s none)
fi
cargo run --quiet --example make_seeds -- corpus
# Seeds of the partition and file-system targets, made by the real tools (scripts/setup.sh native
# installs them); the targets run from an empty corpus without them.
mkdir -p corpus/parts corpus/fat corpus/exfat corpus/ntfs corpus/ext corpus/diff corpus/lvm corpus/inspect
# LVM2: the first MiB of a physical volume lvm2 made (tests/lvm.rs's fixture), when it is there.
for f in ../tests/work/lvm/lvm-*/lvm.raw; do
  if [ -f "$f" ]; then dd if="$f" of=corpus/lvm/pv0 bs=512 skip=18432 count=2048 status=none; fi
done
if command -v sfdisk >/dev/null && command -v sgdisk >/dev/null && command -v mkfs.vfat >/dev/null \
    && command -v mcopy >/dev/null && command -v mkntfs >/dev/null && command -v mkfs.ext2 >/dev/null; then
  s=$(mktemp -d)
  truncate -s 8M "$s/mbr"
  printf 'label: dos\nstart=1, size=60, type=1\nstart=64, size=8000, type=5\nstart=100, size=100, type=83\nstart=300, size=100, type=7\n' | sfdisk -q "$s/mbr" 2>/dev/null || true
  head -c 65536 "$s/mbr" > corpus/parts/mbr
  truncate -s 8M "$s/gpt"; sgdisk -n 1:34:+1M -n 2:0:+1M "$s/gpt" >/dev/null 2>&1 || true
  head -c 65536 "$s/gpt" > corpus/parts/gpt
  printf 'x\n' > "$s/f"
  for spec in "12 1024" "16 4096"; do
    set -- $spec
    rm -f "$s/fat"; mkfs.vfat -C -F "$1" -s 1 "$s/fat" "$2" >/dev/null
    MTOOLS_SKIP_CHECK=1 mmd -i "$s/fat" "::/A long directory name" && MTOOLS_SKIP_CHECK=1 mcopy -i "$s/fat" "$s/f" "::/A long directory name/a file.txt"
    MTOOLS_SKIP_CHECK=1 mcopy -i "$s/fat" "$s/f" ::/gone.txt && MTOOLS_SKIP_CHECK=1 mdel -i "$s/fat" ::/gone.txt
    head -c 65536 "$s/fat" > "corpus/fat/fat$1"
  done
  # exFAT: clusters of 512 bytes aligned to 4 KiB, so that the root directory, the bitmap and
  # the up-case table are inside the first 64 KiB.
  if command -v mkfs.exfat >/dev/null; then
    truncate -s 2M "$s/exfat"; mkfs.exfat -c 512 -b 4096 -L seed "$s/exfat" >/dev/null && head -c 65536 "$s/exfat" > corpus/exfat/volume
  fi
  truncate -s 2M "$s/ntfs"; mkntfs -q -F -c 512 "$s/ntfs" >/dev/null 2>&1 || true
  { printf '\x04'; head -c 65535 "$s/ntfs"; } > corpus/ntfs/volume
  mkdir -p "$s/tree/dir"; printf 'x\n' > "$s/tree/dir/file"; ln -s dir/file "$s/tree/link"
  mkfs.ext2 -q -F -b 1024 -N 32 -d "$s/tree" "$s/ext" 512 >/dev/null 2>&1 || true
  { printf '\x01'; head -c 65535 "$s/ext"; } > corpus/ext/volume
  # diff: a FAT16 volume and a copy changed by mtools (a file deleted, one added, one renamed),
  # joined as fuzz_targets' split_files reads two files: 0x01, the first's length (u32 BE), both.
  rm -f "$s/fat"; mkfs.vfat -C -F 16 -s 1 "$s/fat" 4096 >/dev/null
  MTOOLS_SKIP_CHECK=1 mmd -i "$s/fat" ::/dir && MTOOLS_SKIP_CHECK=1 mcopy -i "$s/fat" "$s/f" ::/dir/a.txt && MTOOLS_SKIP_CHECK=1 mcopy -i "$s/fat" "$s/f" ::/gone.txt
  head -c 34000 "$s/fat" > "$s/before"; cp "$s/fat" "$s/fat2"
  MTOOLS_SKIP_CHECK=1 mdel -i "$s/fat2" ::/gone.txt && MTOOLS_SKIP_CHECK=1 mcopy -i "$s/fat2" "$s/f" ::/new.txt
  MTOOLS_SKIP_CHECK=1 mren -i "$s/fat2" ::/dir/a.txt ::/dir/b.txt
  head -c 34000 "$s/fat2" > "$s/after"
  { printf '\x01\x00\x00\x84\xd0'; cat "$s/before" "$s/after"; } > corpus/diff/fat16
  # The other targets' volumes as both sides (their first byte is the target's own, not the volume's).
  { printf '\x00'; cat corpus/fat/fat12; } > corpus/diff/fat12
  { printf '\x00'; tail -c +2 corpus/ntfs/volume; } > corpus/diff/ntfs
  { printf '\x00'; tail -c +2 corpus/ext/volume; } > corpus/diff/ext
  # bitlocker: a volume of the test writer with its first metadata block moved to 0x1000 and its
  # copies to 0x5000 and 0x9000 (the boot sector's offsets rewritten), cut at 0xd000.
  mkdir -p corpus/bitlocker
  if cargo run --quiet --manifest-path ../Cargo.toml --example bitlocker_volume -- --in "$s/ntfs" --out "$s/bde" \
      --method aes-xts-128 --clear-key --startup-key "$s/key.bek" --manifest "$s/bde.json" >/dev/null; then
    python3 - "$s/bde" "$s/bde.json" corpus/bitlocker/volume <<'PY'
import json, struct, sys
image, manifest, out = open(sys.argv[1], 'rb').read(), json.load(open(sys.argv[2])), sys.argv[3]
block = image[manifest["metadata_offsets"][0]:][:0x4000]
seed = bytearray(0xd000)
seed[:512] = image[:512]
for k, at in enumerate((0x1000, 0x5000, 0x9000)):
    struct.pack_into('<Q', seed, 176 + 8 * k, at)
    seed[at:at + len(block)] = block
open(out, 'wb').write(seed)
PY
    cp "$s/key.bek" corpus/bitlocker/bek
  fi
  rm -rf "$s"
fi
# xfs: a v5 and a v4 volume of mkfs.xfs -p (a directory, a file, a symlink), their first 64 KiB
# (superblocks, AG headers, the root's inode chunk); v4 has no CRCs for mutations to break.
mkdir -p corpus/xfs
if command -v mkfs.xfs >/dev/null; then
  s=$(mktemp -d)
  printf 'x\n' > "$s/f"
  printf '/dev/null\n0 0\nd--755 0 0\nd d--755 0 0\n f ---644 0 0 %s\n$\nl l--777 0 0 d/f\n$\n' "$s/f" > "$s/proto"
  for crc in 0 1; do
    truncate -s 32M "$s/xfs$crc"
    TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f -b size=1024 -d agcount=2 -m crc=$crc -p "$s/proto" "$s/xfs$crc" >/dev/null 2>&1 || true
    { printf '\x01'; head -c 65535 "$s/xfs$crc"; } > "corpus/xfs/v$((crc + 4))"
  done
  rm -rf "$s"
fi
# registry: a hive written by hivex from the empty one the Windows test disks start from
# (make-windows-vhds.sh --empty-hive), with keys in lists of several kinds and values of every type.
mkdir -p corpus/registry
if command -v hivexsh >/dev/null && command -v python3 >/dev/null; then
  s=$(mktemp -d)
  bash ../tests/web/fixtures/make-windows-vhds.sh --empty-hive > "$s/empty"
  cp "$s/empty" corpus/registry/empty
  { printf 'add Microsoft\ncd Microsoft\n'
    for k in $(seq 1 40); do printf 'add Key %s\n' "$k"; done
    printf 'cd Key 7\nsetval 6\nText\nstring:Windows 10 Pro\nN\ndword:0x12345678\nQ\nqword:0x0123456789abcdef\n'
    printf 'Multi\nhex:7:61,00,00,00,62,00,00,00,00,00\nBin\nhex:3:01,02,03,04,05,06,07,08\n@\nhex:1001:\ncommit %s\n' "$s/hive"
  } | hivexsh -w "$s/empty" >/dev/null
  cp "$s/hive" corpus/registry/hive
  rm -rf "$s"
fi
"${fuzz[@]}" build "${build_opts[@]}"
mkdir -p target
passed=0
failed=0
for t in "${targets[@]}"; do
  log="target/fuzz-$t.log"
  if "${fuzz[@]}" run "${build_opts[@]}" "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=256 \
      -max_len=70000 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(awk '/^stat::number_of_executed_units/ { print $2 }' "$log")
    printf 'fuzz %-8s %8s runs in %ss, no crash\n' "$t" "${runs:-?}" "$seconds"
    passed=$((passed + 1))
  else
    printf 'fuzz %-8s FAILED; the end of its log (%s):\n' "$t" "fuzz/$log"
    tail -n 40 "$log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
