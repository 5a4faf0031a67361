/**
 * The database side of the Debezium comparison: tables covering PostgreSQL's type mapping, the rows present
 * before the connectors start (read by both snapshots), and the changes made afterwards (read by both streams).
 *
 * Every type table's stream starts with `INSERT … SELECT id + 100, … FROM <table>`: the same values once more,
 * so each value goes through both paths of each connector (snapshot: a query; stream: pgoutput text).
 */

export const SCHEMA = 'compat';

/** `table → rows inserted before the connectors start` (snapshot records expected per topic). */
export interface ScenarioTable {
  name: string;
  ddl: string;
  rows: number;
}

const s = SCHEMA;

/** TOASTed text: incompressible and stored out of line (STORAGE EXTERNAL). */
const BIG = `(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 300) g)`;

export const TABLES: ScenarioTable[] = [
  {
    name: 'num',
    rows: 10,
    ddl: `CREATE TABLE ${s}.num (id int PRIMARY KEY, n10_2 numeric(10,2), n numeric, n38 numeric(38,0), n5_5 numeric(5,5), m money,
        i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, b boolean, o oid);
      INSERT INTO ${s}.num VALUES
        (1, 1234.50, 1.23456789012345678901234567890, 12345678901234567890123456789012345678, 0.12345, 12.34, 32767, 2147483647, 9223372036854775807, 1.5, 0.1, true, 4294967295),
        (2, -0.01, -0.000000000000000000001, -1, -0.5, -1.00, -32768, -2147483648, -9223372036854775808, 3.4e38, 1e300, false, 0),
        (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true, 1),
        (4, 'NaN', 'NaN', null, null, '-92233720368547758.08', 1, 1, 9007199254740993, 'NaN', 'NaN', null, null),
        (5, null, 'Infinity', null, null, '92233720368547758.07', null, null, null, 'Infinity', '-Infinity', null, null),
        (6, 99999999.99, 1e-30, null, null, null, null, null, null, '1e-45', '5e-324', null, null),
        (7, null, '-Infinity', null, null, null, null, null, null, null, null, null, null),
        (8, 5.10, 2.500, null, null, null, null, null, null, '-0', '-0', null, null),
        (9, null, 100, null, null, null, null, null, null, null, null, null, null),
        (10, null, 1000.0, null, null, null, null, null, null, null, null, null, null);`,
  },
  {
    name: 'txt',
    rows: 5,
    ddl: `CREATE TABLE ${s}.txt (id int PRIMARY KEY, t text, vc varchar(20), c char(5), ch "char", nm name);
      INSERT INTO ${s}.txt VALUES
        (1, 'héllo ✓ 𝄞', 'ab', 'ab', 'x', 'n1'),
        (2, '', '', '', null, ''),
        (3, E'tab\\tnl\\ncr\\rquote"back\\\\ ctrl\\x01\\x1f del\\x7f', 'a/b</c>', 'é', 'Z', 'x'),
        (4, E'line sep \\u2028 para \\u2029 nbsp \\u00a0 bom \\ufeff', repeat('w', 20), 'abcde', '0', repeat('n', 63)),
        (5, null, null, null, null, null);`,
  },
  {
    name: 'tm',
    rows: 7,
    ddl: `CREATE TABLE ${s}.tm (id int PRIMARY KEY, ts timestamp, ts3 timestamp(3), ts0 timestamp(0), tstz timestamptz, tstz3 timestamptz(3),
        d date, t time, t3 time(3), ttz timetz, iv interval, tstz0 timestamptz(0));
      INSERT INTO ${s}.tm VALUES
        (1, '2024-03-10 02:30:00.123456', '2024-03-10 02:30:00.123', '2024-03-10 02:30:00', '2024-03-10 06:59:59.999999+00', '2024-03-10 06:59:59.5+00',
            '2024-03-10', '17:30:00.123456', '17:30:00.123', '17:30:00.5+02', '1 year 2 months 3 days 04:05:06.789', '2024-03-10 06:59:59+00'),
        (2, '1970-01-01 00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '1970-01-01 00:00:00+00',
            '1969-12-31', '00:00:00', '00:00:00', '00:00:00+00', '-1 days -00:00:01', '1970-01-01 00:00:00+00'),
        (3, 'infinity', '-infinity', 'infinity', 'infinity', '-infinity', 'infinity', '24:00:00', '23:59:59.999', '23:59:59.999999-05:30', '0', 'infinity'),
        (4, '1500-06-15 12:00:00.5', '1900-01-01 00:00:00.001', '2262-04-11 23:47:16', '1900-01-01 00:00:00+00', '2038-01-19 03:14:08+00',
            '0001-01-01', '12:00:00.000001', '00:00:00.001', '10:00:00+14', '1 mon -2 days +03:00:00.000001', '2038-01-19 03:14:08+00'),
        (5, '0044-03-15 12:00:00 BC', null, null, '0044-03-15 12:00:00+00 BC', null, '0044-03-15 BC', null, null, null, null, null),
        (6, null, null, null, null, null, null, null, null, null, null, null),
        (7, '-infinity', 'infinity', '-infinity', '-infinity', 'infinity', '-infinity', null, null, '00:00:00.000001+00', '-100 years -1 mon', '-infinity');`,
  },
  {
    name: 'misc',
    rows: 3,
    ddl: `CREATE TABLE ${s}.misc (id int PRIMARY KEY, u uuid, j json, jb jsonb, x xml, by bytea, b1 bit(1), b8 bit(8), b12 bit(12), vb varbit(20),
        e ${s}.mood, dn ${s}.dnum, dt ${s}.dtxt, ip inet, cid cidr, mac macaddr, mac8 macaddr8, pt point, ln line, ls lseg, bx box, ph path,
        pg polygon, ci circle, r4 int4range, tsr tstzrange, tv tsvector, lsn pg_lsn);
      INSERT INTO ${s}.misc VALUES
        (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50, "x"], "b": null}', '{"a": [1, 2.50, "x"], "b": null}', '<a>1<b x="y"/></a>', '\\x00ff10',
            B'1', B'10100000', B'101000001111', B'101', 'happy', 12345.678, 'dom text', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
            '08:00:2b:01:02:03:04:05', '(1.5,-2)', '{1,-1,0}', '[(0,0),(1,1)]', '((0,0),(1,1))', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(2,0))',
            '<(1,1),2>', '[1,10)', '[2024-01-01 00:00:00+00,2024-02-01 00:00:00+00)', 'a fat cat', '16/B374D848'),
        (2, '00000000-0000-0000-0000-000000000000', '[]', '{}', '<r/>', '\\x', B'0', B'00000000', B'000000000001', B'', 'sad', -0.001, '',
            '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00', '(0,0)', '{0,1,0}', '[(0,0),(0,0)]', '((0,0),(0,0))',
            '((0,0),(1,0))', '((0,0),(1,0),(0,1))', '<(0,0),0>', 'empty', '(,)', '', '0/0'),
        (3, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);`,
  },
  {
    name: 'arr',
    rows: 4,
    ddl: `CREATE TABLE ${s}.arr (id int PRIMARY KEY, ai int[], at text[], an numeric(10,2)[], ad date[], au uuid[], ab bool[], ats timestamptz[],
        af float8[], ae ${s}.mood[], ai8 bigint[], avc varchar(10)[], anu numeric[]);
      INSERT INTO ${s}.arr VALUES
        (1, '{1,2,3}', '{"a","b c","\\"q\\""}', '{1.50,-2.25}', '{2024-01-01,1970-01-01}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{t,f}',
            '{"2024-01-01 00:00:00+00"}', '{1.5,NaN}', '{sad,happy}', '{9223372036854775807}', '{x,y}', '{1.50,100,-0.001}'),
        (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
        (3, '{1,NULL,3}', '{NULL,""}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}'),
        (4, null, null, null, null, null, null, null, null, null, null, null, null);`,
  },
  {
    name: 'ckey',
    rows: 3,
    ddl: `CREATE TABLE ${s}.ckey (tenant int, code varchar(10), day date, val text, PRIMARY KEY (tenant, code, day));
      INSERT INTO ${s}.ckey VALUES (1, 'a', '2024-01-01', 'x'), (1, 'b', '2024-01-02', 'y'), (2, 'a', '2024-01-01', null);`,
  },
  {
    name: 'full_ri',
    rows: 2,
    ddl: `CREATE TABLE ${s}.full_ri (id int PRIMARY KEY, a text, n numeric(6,2), ts timestamptz, arr int[]);
      ALTER TABLE ${s}.full_ri REPLICA IDENTITY FULL;
      INSERT INTO ${s}.full_ri VALUES (1, 'one', 1.10, '2024-01-01 00:00:00+00', '{1}'), (2, 'two', null, null, null);`,
  },
  {
    name: 'toast',
    rows: 2,
    ddl: `CREATE TABLE ${s}.toast (id int PRIMARY KEY, big text, bigb bytea, other int);
      ALTER TABLE ${s}.toast ALTER COLUMN big SET STORAGE EXTERNAL, ALTER COLUMN bigb SET STORAGE EXTERNAL;
      INSERT INTO ${s}.toast VALUES (1, ${BIG}, convert_to(${BIG}, 'UTF8'), 1), (2, ${BIG}, convert_to(${BIG}, 'UTF8'), 2);`,
  },
  {
    name: 'notnull',
    rows: 2,
    ddl: `CREATE TABLE ${s}.notnull (id int PRIMARY KEY, t text NOT NULL, i int NOT NULL, i8 bigint NOT NULL, n numeric(5,2) NOT NULL,
        nu numeric NOT NULL, ts timestamp NOT NULL, tstz timestamptz NOT NULL, d date NOT NULL, tm time NOT NULL, ttz timetz NOT NULL,
        iv interval NOT NULL, b bool NOT NULL, u uuid NOT NULL, jb jsonb NOT NULL, by bytea NOT NULL, ai int[] NOT NULL, e ${s}.mood NOT NULL,
        f4 real NOT NULL, f8 float8 NOT NULL, bt bit(4) NOT NULL, b1 bit(1) NOT NULL, pt point NOT NULL, m money NOT NULL, x xml NOT NULL);
      INSERT INTO ${s}.notnull VALUES
        (1, 't', 1, 2, 3.45, 6.7, '2024-01-01 00:00:00', '2024-01-01 00:00:00+00', '2024-01-01', '12:00', '12:00+01', '1 day', true,
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": 1}', '\\x01', '{1}', 'ok', 1.5, 2.5, B'1010', B'1', '(1,2)', 5.5, '<a/>'),
        (2, 'u', 2, 3, 4.56, 7.8, '2024-01-02 00:00:00', '2024-01-02 00:00:00+00', '2024-01-02', '13:00', '13:00+01', '2 days', false,
            'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '[]', '\\x02', '{2}', 'sad', 2.5, 3.5, B'0101', B'0', '(3,4)', 6.5, '<b/>');`,
  },
  {
    name: 'nokey',
    rows: 2,
    ddl: `CREATE TABLE ${s}.nokey (a int, b text);
      INSERT INTO ${s}.nokey VALUES (1, 'one'), (2, 'two');`,
  },
  {
    name: 'zz_end',
    rows: 0,
    ddl: `CREATE TABLE ${s}.zz_end (id int PRIMARY KEY);`,
  },
];

/** Types, then every table with its snapshot rows. */
export function setupSql(): string {
  return `DROP SCHEMA IF EXISTS ${s} CASCADE;
    CREATE SCHEMA ${s};
    CREATE TYPE ${s}.mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN ${s}.dnum AS numeric(8,3);
    CREATE DOMAIN ${s}.dtxt AS text;
    ${TABLES.map((t) => t.ddl).join('\n')}`;
}

/**
 * The changes after both snapshots, one entry per transaction (each string runs as one simple query, so an
 * entry with several statements and no BEGIN is one implicit transaction). The last one writes `zz_end`.
 */
export function streamSql(): string[] {
  const typeTables = ['num', 'txt', 'tm', 'misc', 'arr'];
  const out: string[] = [];
  // the snapshot values again, now through logical decoding (one multi-row transaction per table)
  for (const t of typeTables) out.push(`INSERT INTO ${s}.${t} SELECT id + 100, ${colsExceptId(t)} FROM ${s}.${t}`);
  out.push(`UPDATE ${s}.num SET i4 = 42, n10_2 = 7.77 WHERE id = 1`);
  out.push(`UPDATE ${s}.txt SET vc = 'changed' WHERE id = 1`);
  out.push(`UPDATE ${s}.tm SET d = '2000-02-29' WHERE id = 1`);
  out.push(`UPDATE ${s}.misc SET e = 'ok' WHERE id = 1`);
  out.push(`UPDATE ${s}.arr SET ai = '{9}' WHERE id = 1`);
  // primary key changes: Debezium emits a delete (+ tombstone) of the old key and a create of the new one
  for (const t of typeTables) out.push(`UPDATE ${s}.${t} SET id = 200 WHERE id = 2`);
  for (const t of typeTables) out.push(`DELETE FROM ${s}.${t} WHERE id = 3`);
  out.push(`INSERT INTO ${s}.ckey VALUES (3, 'c', '2024-03-03', 'z')`);
  out.push(`UPDATE ${s}.ckey SET val = 'x2' WHERE tenant = 1 AND code = 'a'`);
  out.push(`UPDATE ${s}.ckey SET code = 'bb' WHERE tenant = 1 AND code = 'b'`);
  out.push(`DELETE FROM ${s}.ckey WHERE tenant = 2`);
  out.push(`INSERT INTO ${s}.full_ri VALUES (3, 'three', 3.30, '2024-03-03 03:03:03+00', '{3,3}')`);
  out.push(`UPDATE ${s}.full_ri SET a = 'uno' WHERE id = 1`);
  out.push(`UPDATE ${s}.full_ri SET id = 20 WHERE id = 2`);
  out.push(`DELETE FROM ${s}.full_ri WHERE id = 1`);
  out.push(`UPDATE ${s}.toast SET other = 10 WHERE id = 1`); // big and bigb unchanged: not sent (TOAST)
  out.push(`UPDATE ${s}.toast SET big = 'small', bigb = '\\x00' WHERE id = 2`);
  out.push(`DELETE FROM ${s}.toast WHERE id = 1`);
  out.push(`UPDATE ${s}.notnull SET t = 'changed' WHERE id = 1`);
  out.push(`DELETE FROM ${s}.notnull WHERE id = 1`);
  out.push(`INSERT INTO ${s}.nokey VALUES (3, 'three')`);
  out.push(`TRUNCATE ${s}.nokey`);
  out.push(`INSERT INTO ${s}.nokey VALUES (4, 'four'), (5, NULL)`);
  // one transaction over three tables, and one rolled back
  out.push(`BEGIN; INSERT INTO ${s}.num (id, i4) VALUES (300, 1); UPDATE ${s}.txt SET t = 'in tx' WHERE id = 101; DELETE FROM ${s}.misc WHERE id = 102; COMMIT;`);
  out.push(`BEGIN; INSERT INTO ${s}.num (id) VALUES (400); ROLLBACK;`);
  out.push(`TRUNCATE ${s}.ckey`);
  out.push(`TRUNCATE ${s}.full_ri, ${s}.notnull`);
  out.push(`INSERT INTO ${s}.zz_end VALUES (1)`);
  return out;
}

const COLS: Record<string, string[]> = {
  num: ['n10_2', 'n', 'n38', 'n5_5', 'm', 'i2', 'i4', 'i8', 'f4', 'f8', 'b', 'o'],
  txt: ['t', 'vc', 'c', 'ch', 'nm'],
  tm: ['ts', 'ts3', 'ts0', 'tstz', 'tstz3', 'd', 't', 't3', 'ttz', 'iv', 'tstz0'],
  misc: ['u', 'j', 'jb', 'x', 'by', 'b1', 'b8', 'b12', 'vb', 'e', 'dn', 'dt', 'ip', 'cid', 'mac', 'mac8', 'pt', 'ln', 'ls', 'bx', 'ph', 'pg', 'ci', 'r4', 'tsr', 'tv', 'lsn'],
  arr: ['ai', 'at', 'an', 'ad', 'au', 'ab', 'ats', 'af', 'ae', 'ai8', 'avc', 'anu'],
};

function colsExceptId(t: string): string {
  return COLS[t]!.map((c) => `"${c}"`).join(', ');
}
