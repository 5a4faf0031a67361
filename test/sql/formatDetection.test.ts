import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeAs,
  describeFormats,
  detectFormat,
  formatNext,
  initialFormatState,
  type FormatState,
} from '../../src/sql/formatDetection.js';

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
const float64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
};

describe('formatDetection', () => {
  test('JSON text is detected as JSON and printed as is', () => {
    assert.deepEqual(detectFormat(Buffer.from('{"city_id":1,"name":"Oslo"}')), {
      format: 'JSON',
      text: '{"city_id":1,"name":"Oslo"}',
    });
  });

  test('plain UTF-8 text is KAFKA_STRING', () => {
    assert.deepEqual(detectFormat(Buffer.from('Zürich')), { format: 'KAFKA_STRING', text: 'Zürich' });
  });

  test('4-byte and 8-byte binary numbers are KAFKA_INT and KAFKA_BIGINT', () => {
    assert.deepEqual(detectFormat(int32(-42)), { format: 'KAFKA_INT', text: '-42' });
    assert.deepEqual(detectFormat(int64(1234567890123n)), { format: 'KAFKA_BIGINT', text: '1234567890123' });
  });

  test('doubles print as Java does', () => {
    assert.equal(decodeAs(float64(1), 'KAFKA_DOUBLE'), '1.0');
    assert.equal(decodeAs(float64(0.5), 'KAFKA_DOUBLE'), '0.5');
    assert.equal(decodeAs(float64(1e7), 'KAFKA_DOUBLE'), '1.0E7');
    assert.equal(decodeAs(float64(1.5e-4), 'KAFKA_DOUBLE'), '1.5E-4');
    assert.equal(decodeAs(float64(NaN), 'KAFKA_DOUBLE'), 'NaN');
  });

  test('bytes in no known format print as Kafka Bytes.toString does', () => {
    const bytes = Buffer.from([0xff, 0x41, 0x5c, 0x00, 0x0a]);
    assert.deepEqual(detectFormat(bytes), { format: 'UNRECOGNISED_BYTES', text: '\\xFFA\\x5C\\x00\\x0A' });
  });

  test('null prints <null> and has no format', () => {
    assert.deepEqual(detectFormat(null), { format: null, text: '<null>' });
  });

  test('candidates narrow across records and the header lists those left', () => {
    let state: FormatState = initialFormatState;
    assert.equal(describeFormats(state), '¯\\_(ツ)_/¯ - no data processed');
    let text: string;
    ({ state, text } = formatNext(state, Buffer.from('1234')));
    assert.equal(text, '1234');
    assert.equal(describeFormats(state), 'JSON or KAFKA_INT or KAFKA_STRING');
    // As in ksqlDB, a record prints with the first format still possible: 4 bytes of text read as KAFKA_INT.
    ({ state, text } = formatNext(state, Buffer.from('abcd')));
    assert.equal(text, '1633837924');
    assert.equal(describeFormats(state), 'KAFKA_INT or KAFKA_STRING');
    ({ state } = formatNext(state, null));
    assert.equal(describeFormats(state), 'KAFKA_INT or KAFKA_STRING');
    ({ state, text } = formatNext(state, Buffer.from('hello')));
    assert.equal(text, 'hello');
    assert.equal(describeFormats(state), 'KAFKA_STRING');
    ({ state, text } = formatNext(state, Buffer.from([0xff])));
    assert.equal(text, '\\xFF');
    assert.match(describeFormats(state), /^does not match any supported format/);
  });
});
