import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { checkRecord, CORRUPT, decodeRecord, encodedSize, encodeInto, INCOMPLETE } from '../../../src/connectors/embedded-log/format.js';

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
});
