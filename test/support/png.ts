import { inflateSync } from 'node:zlib';

/** A decoded 8-bit PNG as one grey level per pixel (0 black … 255 white). */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly grey: Uint8Array;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a non-interlaced 8-bit greyscale or truecolour PNG (what pdftoppm writes) to grey
 * levels: chunks per PNG §5, the IDAT stream inflated, each scanline unfiltered (§9: None, Sub,
 * Up, Average, Paeth). Enough to measure a rendered page, not a general decoder.
 */
export function decodePng(bytes: Uint8Array): GreyImage {
  const buffer = Buffer.from(bytes);
  if (buffer.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (pos < buffer.length) {
    const length = buffer.readUInt32BE(pos);
    const type = buffer.subarray(pos + 4, pos + 8).toString('latin1');
    const body = buffer.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      channels = CHANNELS[body[9] ?? -1] ?? 0;
      if (depth !== 8 || channels === 0 || body[12] !== 0)
        throw new Error('only 8-bit, non-interlaced grey or truecolour PNGs are decoded here');
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    pos += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (pixels[y * stride + x - channels] ?? 0) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + x] ?? 0) : 0;
      const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] ?? 0) : 0;
      const value = line[x] ?? 0;
      const predicted =
        filter === 1
          ? a
          : filter === 2
            ? b
            : filter === 3
              ? (a + b) >> 1
              : filter === 4
                ? paeth(a, b, c)
                : 0;
      pixels[y * stride + x] = (value + predicted) & 0xff;
    }
  }
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const at = i * channels;
    grey[i] =
      channels >= 3
        ? Math.round(
            0.299 * (pixels[at] ?? 0) +
              0.587 * (pixels[at + 1] ?? 0) +
              0.114 * (pixels[at + 2] ?? 0),
          )
        : (pixels[at] ?? 0);
  }
  return { width, height, grey };
}

/** The share of pixels darker than mid-grey in a rectangle (fractions of width and height). */
export function inkShare(
  image: GreyImage,
  area: { left: number; top: number; right: number; bottom: number } = {
    left: 0,
    top: 0,
    right: 1,
    bottom: 1,
  },
): number {
  const x0 = Math.floor(area.left * image.width);
  const x1 = Math.ceil(area.right * image.width);
  const y0 = Math.floor(area.top * image.height);
  const y1 = Math.ceil(area.bottom * image.height);
  let dark = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) if ((image.grey[y * image.width + x] ?? 255) < 128) dark++;
  return dark / Math.max(1, (x1 - x0) * (y1 - y0));
}
