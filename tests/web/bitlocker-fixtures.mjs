// Shared by the BitLocker tests: the VHDs of tests/web/fixtures/make-bitlocker-vhds.sh (volumes
// written by examples/bitlocker_volume.rs from the format's public notes, each checked with
// libbde or dislocker), made once in tests/work/bitlocker-vhds/<key>, the key hashing the script
// and the writer's source: the same folder the Rust tests use (tests/common/bitlocker.rs).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';

const SCRIPT = join(ROOT, 'tests/web/fixtures/make-bitlocker-vhds.sh');
const WRITER = join(ROOT, 'examples/bitlocker_volume.rs');

/**
 * The fixture folder and its cases: { dir, cases }, each case { name, table, plain, args, vhd,
 * manifest } (manifest: the writer's JSON: method, state, volume_guid, description, protectors
 * with kind, id, offset and password / recovery_password / bek_path relative to dir).
 */
export function bitlockerVhds() {
  const key = createHash('sha256').update(readFileSync(SCRIPT)).update(readFileSync(WRITER)).digest('hex').slice(0, 16);
  const dir = join(ROOT, 'tests/work/bitlocker-vhds', key);
  if (!existsSync(join(dir, 'cases.json'))) {
    execFileSync('cargo', ['build', '--quiet', '--example', 'bitlocker_volume', '--example', 'vhd_from_raw'], { cwd: ROOT, stdio: 'inherit' });
    const tmp = `${dir}.building${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const ex = join(ROOT, 'target/debug/examples');
    execFileSync('bash', [SCRIPT, join(ex, 'vhd_from_raw'), join(ex, 'bitlocker_volume')], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
    // The folder appears whole, by a rename; a test running beside this one may have made it first.
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'cases.json'))) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')).map((c) => ({
    ...c,
    vhd: join(dir, `${c.name}.vhd`),
    manifest: JSON.parse(readFileSync(join(dir, `${c.name}.json`), 'utf8')),
  }));
  return { dir, cases };
}
