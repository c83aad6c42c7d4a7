/**
 * A child process for test/core/engine-durability.test.ts: a core with a `pay` handler that
 * records its effect and then dies by SIGKILL mid-execution, before the ending can commit.
 * Input (environment): OPENEXEC_DATA_DIR, CLAWSHIELD_PUBLIC_KEY, EFFECTS_FILE, REQUEST (JSON text).
 */
import { appendFileSync } from 'node:fs';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import type { ApprovalArtifact } from '../../src/main/core/approval/approval-artifact.ts';

const core = await OpenExecCore.open({
  ...loadConfig({ ...process.env, OPENEXEC_MODE: 'clawshield' }),
  extraActions: {
    pay: (payload) => {
      appendFileSync(process.env['EFFECTS_FILE']!, `paid ${String(payload['amount'])}\n`);
      process.kill(process.pid, 'SIGKILL');
      return null;
    },
  },
});
const request = parseJson(process.env['REQUEST']!) as JsonObject;
void core.engine.execute({
  action: 'pay',
  payload: request['payload'] as JsonObject,
  nonce: request['nonce'] as string,
  artifact: JSON.parse(process.env['ARTIFACT']!) as ApprovalArtifact,
});
