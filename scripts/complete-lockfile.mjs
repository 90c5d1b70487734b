// The npm registry reachable here serves only the linux-x64 builds of packages that ship one
// package per platform (rollup, esbuild, node-llama-cpp, …). npm then leaves the other platforms'
// optional packages out of package-lock.json, and `npm ci` refuses the lock as "out of sync".
// This records each missing optional package with the os/cpu its name states, so npm ci on
// linux-x64 skips it (never fetching it) while other platforms resolve it by version as usual.
// Run after `npm install` changes dependencies: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const OS = { android: 'android', darwin: 'darwin', mac: 'darwin', freebsd: 'freebsd', openbsd: 'openbsd',
  netbsd: 'netbsd', sunos: 'sunos', aix: 'aix', win32: 'win32', win: 'win32', windows: 'win32', linux: 'linux', openharmony: 'openharmony' };
const CPU = { arm64: 'arm64', aarch64: 'arm64', x64: 'x64', ia32: 'ia32', arm: 'arm', armv7l: 'arm', riscv64: 'riscv64',
  ppc64: 'ppc64', s390x: 's390x', loong64: 'loong64', mips64el: 'mips64el', wasm32: 'wasm32' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.map((p) => OS[p]).find(Boolean);
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  const libc = parts.includes('musl') || parts.includes('musleabihf') ? ['musl'] : undefined;
  return { os, cpu, libc };
}

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path ? `${path}/node_modules/${dep}` : `node_modules/${dep}`;
    if (pkgs[base] || pkgs[`node_modules/${dep}`]) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os && !cpu) throw new Error(`cannot tell the platform of missing optional package ${dep}`);
    if (os === 'linux' && cpu === 'x64' && !libc) throw new Error(`${dep} is for this platform but missing: run npm install`);
    pkgs[`node_modules/${dep}`] = {
      version, dev: entry.dev || undefined, optional: true,
      ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}), ...(libc ? { libc } : {}),
    };
    added++;
  }
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: recorded ${added} other-platform optional packages`);
