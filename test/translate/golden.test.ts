// Golden translator cases (see golden.ts for the file format). For every case: the Gateway API fixtures match the
// CRD schemas (or are marked as meant not to), the translator runs on frozen input, its IR passes the data plane's
// validator, its output equals the `# Output` part of the file, and a session fed the objects change by change
// ends with the same output. `UPDATE_GOLDEN=1` rewrites the outputs instead;
// review the diff, it is the evidence of the change. `GOLDEN_CASE=<area/name part>` runs matching cases only.

import { expect } from 'chai';
import { indexSnapshot } from '../../shared/ir/delta.ts';
import { IR_VERSION } from '../../shared/ir/snapshot.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import { loadCrdValidator } from './crd-schema.ts';
import { SCHEMA_INVALID_ANNOTATION, loadCases, renderOutput, replayCase, runCase, writeOutput } from './golden.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const cases = loadCases();
const schema = loadCrdValidator();

describe('translator golden cases', () => {
  it('has cases', () => {
    expect(cases.length).to.be.greaterThan(0);
  });

  for (const testCase of cases) {
    describe(`${testCase.area}/${testCase.name}`, () => {
      it('has fixtures the CRD schemas accept (unless marked as malformed)', () => {
        for (const object of testCase.objects) {
          const problems = schema.validate(object);
          if (problems === undefined) continue;
          const meantInvalid = object?.metadata?.annotations?.[SCHEMA_INVALID_ANNOTATION] !== undefined;
          const where = `${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
          if (meantInvalid)
            expect(problems, `${where} is marked schema-invalid but passes the schema`).to.not.deep.equal([]);
          else expect(problems, `${where} does not match its CRD schema`).to.deep.equal([]);
        }
      });

      it('translates to the expected statuses and IR', () => {
        const result = runCase(testCase);
        expect(
          validateIndex(indexSnapshot(result.ir), IR_VERSION),
          'the IR must pass the data plane validator',
        ).to.deep.equal([]);
        expect(result.dropped, 'no IR record may need dropping').to.deep.equal([]);
        const output = renderOutput(result, testCase.area);
        if (update) {
          if (output !== testCase.expectedText) writeOutput(testCase, output);
          return;
        }
        expect(testCase.expectedText, `${testCase.file} has no "# Output" part; run with UPDATE_GOLDEN=1`).to.not.equal(
          undefined,
        );
        expect(output).to.equal(testCase.expectedText);
      });

      it('gives the same output replayed incrementally (objects one by one, then each removed and added back)', () => {
        expect(renderOutput(replayCase(testCase), testCase.area)).to.equal(
          renderOutput(runCase(testCase), testCase.area),
        );
      });
    });
  }
});
