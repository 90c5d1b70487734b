// Draws the app icon (a chat bubble on blue, full-bleed so it also works as a maskable icon)
// into public/icons/ as PNG (192, 512) and SVG. Run once: node scripts/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BLUE = [0x24, 0x56, 0xd6];
const WHITE = [0xff, 0xff, 0xff];

/** Signed distance to a rounded box centred at (cx, cy), in units of the icon size. */
function roundedBox(x, y, cx, cy, hw, hh, r) {
  const dx = Math.abs(x - cx) - hw + r;
  const dy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0) - r;
}

/** Coverage (0..1) of the white shape at a point: bubble + tail, minus three dots. */
function shape(x, y, px) {
  const cover = (d) => Math.min(1, Math.max(0, 0.5 - d / px));
  const bubble = roundedBox(x, y, 0.5, 0.46, 0.3, 0.21, 0.08);
  const tail = Math.max(-(x - 0.3), x - 0.42, -(y - 0.6), (y - 0.6) - (0.42 - x) * 1.2);
  const body = Math.min(bubble, tail);
  const dots = Math.min(...[0.38, 0.5, 0.62].map((cx) => Math.hypot(x - cx, y - 0.46) - 0.04));
  return cover(body) * (1 - cover(dots));
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function png(size) {
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let j = 0; j < size; j++) {
    const row = j * (1 + size * 3);
    for (let i = 0; i < size; i++) {
      const a = shape((i + 0.5) / size, (j + 0.5) / size, 1 / size);
      for (let c = 0; c < 3; c++) raw[row + 1 + i * 3 + c] = Math.round(BLUE[c] * (1 - a) + WHITE[c] * a);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const dir = new URL('../public/icons/', import.meta.url);
for (const size of [192, 512]) writeFileSync(new URL(`icon-${size}.png`, dir), png(size));
writeFileSync(new URL('icon.svg', dir), `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" fill="#2456d6"/>
<rect x="20" y="25" width="60" height="42" rx="8" fill="#fff"/>
<path d="M30 60 L42 60 L30 74 Z" fill="#fff"/>
<g fill="#2456d6"><circle cx="38" cy="46" r="4"/><circle cx="50" cy="46" r="4"/><circle cx="62" cy="46" r="4"/></g>
</svg>
`);
