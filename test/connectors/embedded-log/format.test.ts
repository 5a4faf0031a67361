import { strict as assert } from 'node:assert';
import { crc32 } from 'node:zlib';
import { describe, test } from 'node:test';
import { checkRecord, checksumRange, checksumRecords, CORRUPT, decodeRecord, encodedSize, encodeInto, INCOMPLETE } from '../../../src/connectors/embedded-log/format.js';
import { fillChecksums, OFFLOAD_MIN_BYTES, startChecksumThread } from '../../../src/connectors/embedded-log/checksums.js';

// Golden bytes: the on-disk format is persisted data; a change here breaks existing logs (see docs/embedded-log.md).
const GOLDEN =
  '00000037' + // length 55
  '25b07d47' + // CRC-32 of the rest
  '01' + // magic
  '00' + // attributes
  '0000000000000005' + // offset 5
  '0000018bcfe56800' + // timestamp 1700000000000
  '00000001' + '6b' + // key "k"
  '00000001' + '76' + // value "v"
  '00000002' + // two headers
  '00000001' + '68' + '00000001' + '78' + // h = "x"
  '00000001' + '6e' + 'ffffffff'; // n = null

describe('embedded log record format', () => {
  test('checksumRange (JavaScript below 384 bytes, zlib above) equals zlib CRC-32 for every length and alignment', () => {
    const data = Buffer.alloc(1200);
    let x = 12345;
    for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) & 0x7fffffff) >>> 16;
    for (let s = 0; s < 9; s++) {
      for (let len = 0; len <= 1100; len++) assert.equal(checksumRange(data, s, s + len), crc32(data.subarray(s, s + len)) >>> 0, `offset ${s} length ${len}`);
    }
    assert.equal(checksumRange(Buffer.from('123456789'), 0, 9), 0xcbf43926); // the CRC-32 check value
  });

  test('a record encodes to the documented golden bytes and decodes back', () => {
    const r = { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'x' }, { key: 'n', value: null }] };
    const size = encodedSize(r);
    const buf = Buffer.alloc(size);
    encodeInto(buf, 0, r, 5, size);
    assert.equal(buf.toString('hex'), GOLDEN);
    assert.equal(checkRecord(buf, 0, buf.length), size);
    const d = decodeRecord(buf, 0);
    assert.equal(d.offset, 5);
    assert.equal(d.timestamp, 1_700_000_000_000);
    assert.deepEqual(d.key, Buffer.from('k'));
    assert.deepEqual(d.headers, [
      { key: 'h', value: Buffer.from('x') },
      { key: 'n', value: null },
    ]);
  });

  test('a flipped bit is corrupt and a cut record is incomplete', () => {
    const buf = Buffer.from(GOLDEN, 'hex');
    assert.equal(checkRecord(buf, 0, buf.length - 1), INCOMPLETE);
    assert.equal(checkRecord(buf, 0, 3), INCOMPLETE);
    buf[30] = buf[30]! ^ 1;
    assert.equal(checkRecord(buf, 0, buf.length), CORRUPT);
  });

  test('records framed without checksums get the same bytes from checksumRecords, inline or in the thread', async () => {
    const recs = Array.from({ length: 400 }, (_, i) => ({
      key: i % 3 ? Buffer.from(`k${i}`) : null,
      value: i % 7 ? Buffer.alloc(i * 3, i & 255) : null,
      timestamp: 1_700_000_000_000 + i,
      headers: i % 5 ? [] : [{ key: 'h', value: `v${i}` }],
    }));
    const sizes = recs.map(encodedSize);
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.ok(total >= OFFLOAD_MIN_BYTES, 'large enough for the thread');
    const want = Buffer.alloc(total);
    const inline = Buffer.alloc(total);
    const own = Buffer.allocUnsafeSlow(total);
    let a = 0;
    recs.forEach((r, i) => {
      encodeInto(want, a, r, i, sizes[i]!);
      encodeInto(inline, a, r, i, sizes[i]!, false);
      a = encodeInto(own, a, r, i, sizes[i]!, false);
    });
    assert.notEqual(inline.toString('hex'), want.toString('hex'), 'checksums left out');
    checksumRecords(inline, 0, total);
    assert.equal(inline.toString('hex'), want.toString('hex'));
    const keepAlive = setInterval(() => undefined, 1000); // the thread itself never keeps a process alive
    try {
      assert.equal(await startChecksumThread(), true);
    } finally {
      clearInterval(keepAlive);
    }
    const p = fillChecksums(own, total);
    assert.ok(p, 'a whole buffer this large goes to the thread');
    assert.equal(own.length, 0, 'handed over');
    const back = await p;
    assert.equal(back.toString('hex'), want.toString('hex'));
    const view = Buffer.from(want);
    const two = sizes[0]! + sizes[1]!;
    assert.equal(fillChecksums(view.subarray(0, two), two), undefined, 'small: inline');
    assert.throws(() => checksumRecords(want, 0, total - 1), RangeError);
  });
});

