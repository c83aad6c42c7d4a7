import { describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { buildManifest } from '../../../src/main/core/actions/declared/manifest.ts';
import { closeObjects } from '../../../src/main/core/actions/declared/payload-schema.ts';
import { loadActionsManifest } from '../../../src/main/app/actions-manifest.ts';
import { REPO_ROOT, tempDir } from '../../support/harness.ts';
import { payload, GREET, stringSchema } from '../../support/declared.ts';

const greet = GREET;
const build = (actions: Record<string, unknown>) => buildManifest({ actions }, { dataDir: tempDir(), env: {} }, ['echo', 'add']);

describe('the manifest: validated at start-up, one line per problem', () => {
  test.each([
    [{ greet: { ...greet, kind: 'shell' } }, /^action 'greet': kind: /],
    [{ greet: { ...greet, program: 'printf' } }, /^action 'greet': program: must be an absolute path$/],
    [
      { greet: { ...greet, program: '/no/such/program' } },
      /^action 'greet': program: \/no\/such\/program does not exist or is not an executable file$/,
    ],
    [{ greet: { ...greet, argv: ['{nme}'] } }, /^action 'greet': argv\[0\]: \{nme\} must be a required property of payload_schema$/],
    [{ greet: { ...greet, argv: ['{name'] } }, /^action 'greet': argv\[0\]: '\{' at 0 does not open a \{field\}/],
    [{ greet: { ...greet, risk: 'none' } }, /^action 'greet': risk: /],
    [{ greet: { ...greet, shell: true } }, /^action 'greet': .*shell/],
    [
      { greet: { ...greet, payload_schema: { type: 'object', properties: { n: { type: 'strin' } } } } },
      /^action 'greet': payload_schema: /,
    ],
    [{ greet: { ...greet, payload_schema: { type: 'string' } } }, /^action 'greet': payload_schema: must be a schema of type 'object'/],
    [{ echo: greet }, /^action 'echo': name: is a built-in action$/],
    [{ 'bad name!': greet }, /^action 'bad name!': name: /],
    [
      {
        note: {
          kind: 'write_file',
          description: 'd',
          risk: 'low',
          root: '/no/such/root',
          path: '{f}',
          content: '',
          payload_schema: stringSchema('f'),
        },
      },
      /^action 'note': root: \/no\/such\/root is not a directory$/,
    ],
    [
      {
        job: {
          kind: 'http',
          description: 'd',
          risk: 'low',
          method: 'GET',
          url: 'http://{host}/x',
          allowed_hosts: ['127.0.0.1'],
          payload_schema: stringSchema('host'),
        },
      },
      /^action 'job': url: must start with http:\/\/ or https:\/\/ and a fixed host$/,
    ],
    [
      {
        job: {
          kind: 'http',
          description: 'd',
          risk: 'low',
          method: 'GET',
          url: 'http://a/x',
          allowed_hosts: ['a/b'],
          payload_schema: { type: 'object' },
        },
      },
      /^action 'job': allowed_hosts\[0\]: must be host or host:port$/,
    ],
    [
      {
        job: {
          kind: 'http',
          description: 'd',
          risk: 'low',
          method: 'GET',
          url: 'http://a/x',
          allowed_hosts: ['a'],
          body: { a: 1 },
          payload_schema: { type: 'object' },
        },
      },
      /^action 'job': body: a GET request has no body$/,
    ],
  ])('%j', (actions, message) => {
    expect(() => build(actions)).toThrow(message);
  });

  test('a file with a problem is named first: <file>: action <name>: <field>: <problem>', () => {
    const dir = tempDir();
    const file = join(dir, 'actions.yaml');
    writeFileSync(file, toYaml({ actions: { greet: { ...greet, argv: ['{who}'] } } }));
    expect(() => loadActionsManifest(file, dir, {})).toThrow(
      `${file}: action 'greet': argv[0]: {who} must be a required property of payload_schema`,
    );
    writeFileSync(file, 'actions:\n  greet: [unclosed\n');
    expect(() => loadActionsManifest(file, dir, {})).toThrow(new RegExp(`^${file}: line \\d+: `));
    const txt = join(dir, 'actions.txt');
    writeFileSync(txt, '{}');
    expect(() => loadActionsManifest(txt, dir, {})).toThrow(`${txt}: unknown extension '.txt' (use .yaml, .yml or .json)`);
  });

  test('YAML and JSON of the same tree give the same hashes; any change to a definition changes its hash', () => {
    const dir = tempDir();
    const tree = { actions: { greet } };
    writeFileSync(join(dir, 'a.yaml'), `# a comment\n${toYaml(tree)}`);
    writeFileSync(join(dir, 'a.json'), JSON.stringify(tree));
    const fromYaml = loadActionsManifest(join(dir, 'a.yaml'), dir, {});
    const fromJson = loadActionsManifest(join(dir, 'a.json'), dir, {});
    expect(fromYaml.hash).toBe(fromJson.hash);
    expect(fromYaml.definitions).toEqual(fromJson.definitions);
    expect(fromYaml.definitions['greet']).toMatch(/^[0-9a-f]{64}$/);
    const edited = build({ greet: { ...greet, argv: ['hi %s\\n', '{name}'] } });
    expect(edited.definitions['greet']).not.toBe(fromYaml.definitions['greet']);
    expect(edited.hash).not.toBe(fromYaml.hash);
  });

  test('payload schemas: objects are closed by default, and a refusal carries the schema message', () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', maxLength: 5 }, opts: { type: 'object', properties: { loud: { type: 'boolean' } } } },
      required: ['name'],
    };
    const { actions } = build({ greet: { ...greet, payload_schema: schema } });
    const check = actions['greet']!.checkPayload!;
    expect(check(payload({ name: 'ana' }))).toBeNull();
    expect(check(payload({ name: 'ana', opts: { loud: true } }))).toBeNull();
    expect(check(payload({ name: 'ana', extra: 1 }))).toBe("payload must NOT have additional properties ('extra')");
    expect(check(payload({ name: 'ana', opts: { loud: true, color: 'red' } }))).toBe(
      "payload/opts must NOT have additional properties ('color')",
    );
    expect(check(payload({ name: 'anastasia' }))).toBe('payload/name must NOT have more than 5 characters');
    expect(check(payload({}))).toBe("payload must have required property 'name'");
    // An explicit choice is kept.
    expect(closeObjects({ type: 'object', additionalProperties: true })).toEqual({ type: 'object', additionalProperties: true });
  });

  test('the Actions view reads what an action does before any payload', () => {
    const { actions } = build({ greet });
    expect(actions['greet']!.info).toMatchObject({
      kind: 'run',
      risk: 'low',
      description: 'Print a greeting',
      does: [
        'program /usr/bin/printf',
        'argv "hello %s\\\\n" "{name}"',
        expect.stringMatching(/^cwd \/; env /),
        expect.stringMatching(/^timeout 30,000 ms/),
      ],
    });
  });
});

describe('examples/actions.yaml', () => {
  test('loads, and each example renders what it will do', () => {
    const file = join(REPO_ROOT, 'examples/actions.yaml');
    const m = loadActionsManifest(file, tempDir(), { PATH: '/usr/bin:/bin' });
    expect(Object.keys(m.actions).sort()).toEqual(['git-status', 'greet', 'job-status', 'write-note']);
    expect(m.actions['git-status']!.preview!(payload({ repo: '/src/app' }))).toEqual([
      '/usr/bin/git -C /src/app --no-pager status --short --branch',
    ]);
    expect(m.actions['git-status']!.checkPayload!(payload({ repo: '--upload-pack=evil' }))).toBe('payload/repo must match pattern "^/"');
    expect(m.actions['write-note']!.preview!(payload({ name: 'todo', text: 'milk' }))[0]).toBe('write /tmp/openexec-notes/todo.md');
    expect(m.actions['job-status']!.preview!(payload({ id: '42' }))).toEqual(['GET http://127.0.0.1:8080/jobs/42']);
  });
});
