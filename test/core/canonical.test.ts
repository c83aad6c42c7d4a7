import { describe, expect, test } from 'vitest';
import { canonicalJson, pythonFloatRepr, pythonJsonDumpsSorted } from '../../src/main/core/json/canonical';
import type { JsonObject, JsonValue } from '../../src/main/core/json/json-value';
import { isJsonObject } from '../../src/main/core/json/json-value';
import { parseJson } from '../../src/main/core/json/parse';
import { canonicalRequest, legacyReceipt, requestHash, sha256Hex } from '../../src/main/core/json/request-hash';
import { conformanceText } from '../support/conformance.ts';

/** Vectors are read with our own parser so that integers in them stay exact. */
function loadVectors(name: string): JsonValue {
  return parseJson(conformanceText(name));
}
function obj(v: JsonValue | undefined): JsonObject {
  if (!isJsonObject(v)) throw new Error(`expected an object, got ${String(v)}`);
  return v;
}
function str(v: JsonValue | undefined): string {
  if (typeof v !== 'string') throw new Error(`expected a string, got ${String(v)}`);
  return v;
}
function list(v: JsonValue | undefined): JsonValue[] {
  if (!Array.isArray(v)) throw new Error(`expected an array, got ${String(v)}`);
  return v;
}
function payloadOf(wire: JsonValue | undefined): JsonObject | null {
  return wire === null ? null : obj(parseJson(str(wire)));
}

const canonicalVectors = list(loadVectors('canonical-vectors.json')).map(obj);
const approvalCases = list(obj(loadVectors('approval-vectors.json'))['cases']).map(obj);
const receiptVectors = list(loadVectors('legacy-receipt-vectors.json')).map(obj);

describe('conformance: canonical-vectors.json', () => {
  test('has the vectors', () => expect(canonicalVectors.length).toBe(21));
  test.each(canonicalVectors.map((v) => [str(v['name']), v] as const))('%s', (_name, v) => {
    const payload = payloadOf(v['payload_wire']);
    const action = str(v['action']);
    expect(canonicalRequest(action, payload)).toBe(str(v['canonical']));
    expect(requestHash(action, payload)).toBe(str(v['action_hash']));
    expect(sha256Hex(str(v['canonical']))).toBe(str(v['action_hash']));
  });
});

describe('conformance: approval-vectors.json payloads', () => {
  test.each(approvalCases.map((c) => [str(c['name']), c] as const))('%s', (name, c) => {
    const request = obj(c['request']);
    const hash = requestHash(str(request['action']), payloadOf(request['payload_wire']));
    const expected = str(obj(c['artifact'])['action_hash']);
    if (name === 'tampered-payload') expect(hash).not.toBe(expected);
    else expect(hash).toBe(expected);
  });
});

describe('conformance: legacy-receipt-vectors.json', () => {
  test.each(receiptVectors.map((v) => [str(v['name']), v] as const))('%s', (_name, v) => {
    const resultJson = str(v['result_json']);
    expect(pythonJsonDumpsSorted(v['result'] ?? null)).toBe(resultJson);
    expect(pythonJsonDumpsSorted(parseJson(resultJson))).toBe(resultJson);
    expect(legacyReceipt(str(v['exec_id']), v['result'] ?? null)).toBe(str(v['receipt']));
  });
});

describe('pythonFloatRepr', () => {
  // Every expected string is what CPython 3.11 prints for repr(x).
  const table: Array<[number, string]> = [
    [0.1, '0.1'],
    [1e22, '1e+22'],
    [1e21, '1e+21'],
    [1e16, '1e+16'],
    [9999999999999998.0, '9999999999999998.0'],
    [1e15, '1000000000000000.0'],
    [2 ** 53, '9007199254740992.0'],
    [0.0001, '0.0001'],
    [0.00009999, '9.999e-05'],
    [0.0001 * 0.9999999999999999, '9.999999999999999e-05'],
    [1e-5, '1e-05'],
    [1.5e-5, '1.5e-05'],
    [1e-7, '1e-07'],
    [123456.789, '123456.789'],
    [12.345, '12.345'],
    [4.35, '4.35'],
    [-1.5e-10, '-1.5e-10'],
    [2.5e-308, '2.5e-308'],
    [2.2250738585072014e-308, '2.2250738585072014e-308'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [Number.MIN_VALUE, '5e-324'],
    [-1e100, '-1e+100'],
    [123456789012345680000.0, '1.2345678901234568e+20'],
    [1 / 3, '0.3333333333333333'],
    [0.1 + 0.2, '0.30000000000000004'],
    [100.0, '100.0'],
    [1.0, '1.0'],
    [-2.0, '-2.0'],
    [0.0, '0.0'],
    [-0.0, '-0.0'],
  ];
  test.each(table)('repr(%d) is %s', (x, expected) => {
    expect(pythonFloatRepr(x)).toBe(expected);
  });
  test('refuses NaN and infinities', () => {
    expect(() => pythonFloatRepr(NaN)).toThrow();
    expect(() => pythonFloatRepr(Infinity)).toThrow();
    expect(() => pythonFloatRepr(-Infinity)).toThrow();
  });
});

describe('canonicalJson and pythonJsonDumpsSorted', () => {
  const o = (entries: Record<string, JsonValue>): JsonObject => Object.assign(Object.create(null) as JsonObject, entries);

  test('separators', () => {
    const v = o({ b: [1n, 2.5, null], a: o({ y: true, x: 'z' }) });
    expect(canonicalJson(v)).toBe('{"a":{"x":"z","y":true},"b":[1,2.5,null]}');
    expect(pythonJsonDumpsSorted(v)).toBe('{"a": {"x": "z", "y": true}, "b": [1, 2.5, null]}');
    expect(pythonJsonDumpsSorted([])).toBe('[]');
    expect(pythonJsonDumpsSorted(o({}))).toBe('{}');
  });

  test('string escaping', () => {
    expect(canonicalJson('a"b\\c/d')).toBe('"a\\"b\\\\c/d"');
    expect(canonicalJson('\b\f\n\r\t\u0000\u001f\u007f')).toBe('"\\b\\f\\n\\r\\t\\u0000\\u001f\\u007f"');
    expect(canonicalJson('é\u00ff\u0100\uabcd')).toBe('"\\u00e9\\u00ff\\u0100\\uabcd"');
    expect(canonicalJson('😀')).toBe('"\\ud83d\\ude00"');
    expect(canonicalJson('\udc00\ud800')).toBe('"\\udc00\\ud800"');
    expect(canonicalJson(' ~')).toBe('" ~"');
  });

  test('keys sort by code point, not UTF-16 unit', () => {
    const v = o({ '😀': 1n, '\uffff': 2n, '\ue000': 3n, é: 4n, z: 5n, '': 6n, '\ud800': 7n, '\ud800x': 8n });
    expect(canonicalJson(v)).toBe('{"":6,"z":5,"\\u00e9":4,"\\ud800":7,"\\ud800x":8,"\\ue000":3,"\\uffff":2,"\\ud83d\\ude00":1}');
    // A pair whose high half is shared with a lone surrogate sorts after it.
    const w = o({ '\ud83d\ude00': 1n, '\ud83dx': 2n, '\ud83d\uffff': 3n });
    expect(canonicalJson(w)).toBe('{"\\ud83dx":2,"\\ud83d\\uffff":3,"\\ud83d\\ude00":1}');
  });

  test('plain objects with a __proto__ own key are written as data', () => {
    const v = JSON.parse('{"__proto__":1,"a":2}') as Record<string, number>;
    expect(canonicalJson(parseJson(JSON.stringify(v)))).toBe('{"__proto__":1,"a":2}');
  });

  test('numbers: bigint as integers, number always as a Python float', () => {
    expect(canonicalJson([5n, -0n, 5, -0, 1e16, 12345678901234567890123n])).toBe('[5,0,5.0,-0.0,1e+16,12345678901234567890123]');
    expect(() => canonicalJson([NaN])).toThrow();
  });

  test('a circular value is refused, not a stack overflow', () => {
    const a: JsonValue[] = [];
    a.push(a);
    expect(() => canonicalJson(a)).toThrow(RangeError);
  });

  test('sha256Hex hashes strings as UTF-8', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('é')).toBe(sha256Hex(new Uint8Array([0xc3, 0xa9])));
  });
});

describe('round trip over random values', () => {
  // mulberry32: tiny, seeded, good enough to explore shapes reproducibly.
  function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const rnd = prng(20260217);
  const int = (n: number) => Math.floor(rnd() * n);
  const bits = new DataView(new ArrayBuffer(8));

  function randomString(): string {
    let s = '';
    for (let n = int(8); n > 0; n--) {
      const r = rnd();
      if (r < 0.5) s += String.fromCharCode(0x20 + int(95));
      else if (r < 0.6) s += String.fromCharCode(int(0x20));
      else if (r < 0.75) s += String.fromCharCode(0x80 + int(0xd800 - 0x80));
      else if (r < 0.85) s += String.fromCharCode(0xd800 + int(0x800));
      else if (r < 0.93) s += String.fromCharCode(0xe000 + int(0x2000));
      else s += String.fromCodePoint(0x10000 + int(0x100000));
    }
    return s;
  }
  function randomDouble(): number {
    for (;;) {
      bits.setUint32(0, int(2 ** 32));
      bits.setUint32(4, int(2 ** 32));
      const d = rnd() < 0.5 ? bits.getFloat64(0) : (rnd() - 0.5) * 10 ** (int(40) - 20);
      if (Number.isFinite(d)) return d;
    }
  }
  function randomValue(depth: number): JsonValue {
    const r = rnd();
    if (depth > 4 || r < 0.4) {
      const k = int(7);
      if (k === 0) return null;
      if (k === 1) return rnd() < 0.5;
      if (k === 2) return BigInt(Math.floor((rnd() - 0.5) * 2 ** 53)) * 10n ** BigInt(int(30));
      if (k === 3 || k === 4) return randomDouble();
      return randomString();
    }
    if (r < 0.7) return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    const out = Object.create(null) as JsonObject;
    for (let n = int(6); n > 0; n--) out[randomString()] = randomValue(depth + 1);
    return out;
  }

  test('canonicalJson → parseJson → canonicalJson is stable, types preserved', () => {
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(0);
      const text = canonicalJson(v);
      expect(text).toMatch(/^[\x20-\x7e]*$/);
      const back = parseJson(text);
      expect(back).toEqual(v);
      expect(canonicalJson(back)).toBe(text);
      expect(canonicalJson(parseJson(pythonJsonDumpsSorted(v)))).toBe(text);
    }
  });
});
